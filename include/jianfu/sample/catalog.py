"""Vocabulary of the sample: departments, the forms they issue, work-group topics, inspection themes.

Kept apart from the generators so that realism (names a county clerk would recognise) can be
edited without touching logic. Data items of background forms are deliberately disjoint between
departments, so that background data never looks like repeated reporting (FORM_DUPLICATE_ACROSS_DEPTS);
only the planted cases do.
"""

from __future__ import annotations

from dataclasses import dataclass

#: County departments: abbreviation -> name suffix (prefixed by the county name, e.g. 黄梅县农业农村局).
COUNTY_DEPTS: dict[str, str] = {
    "AGRI": "农业农村局",
    "EDU": "教育局",
    "HEALTH": "卫生健康局",
    "CIVIL": "民政局",
    "HRSS": "人力资源和社会保障局",
    "NATRES": "自然资源和规划局",
    "ECOENV": "生态环境分局",
    "WATER": "水利和湖泊局",
    "EMERG": "应急管理局",
    "STATS": "统计局",
    "HOUSING": "住房和城乡建设局",
    "MARKET": "市场监督管理局",
    "CULTOUR": "文化和旅游局",
    "DUCHA": "委督查室",
}
#: Departments only some counties list (chosen per county by the generator).
COUNTY_EXTRA_DEPTS: dict[str, str] = {
    "RETIRED": "退役军人事务局",
    "POLLAW": "委政法委员会",
    "FINANCE": "财政局",
    "TRANSPORT": "交通运输局",
}
#: City (prefecture) departments, prefixed by the city name.
CITY_DEPTS: dict[str, str] = {
    "EDU": "教育局",
    "HEALTH": "卫生健康委员会",
    "EMERG": "应急管理局",
    "ECOENV": "生态环境局",
    "AGRI": "农业农村局",
}
#: Province departments, prefixed by the province name.
PROVINCE_DEPTS: dict[str, str] = {
    "HEALTH": "卫生健康委员会",
    "EDU": "教育厅",
    "AGRI": "农业农村厅",
    "STATS": "统计局",
    "CIVIL": "民政厅",
}


@dataclass(frozen=True)
class FormSpec:
    """A form a department issues: who fills it, how often, and what it asks."""

    code: str  # form number within the department, appended to the abbreviation
    name: str
    frequency: str
    items: tuple[str, ...]  # empty: the department lists no items (similarity then by name)
    levels: str  # 'T' townships, 'V' villages, 'TV' both
    share: float  # share of units of those levels that fill it


def _f(code: str, name: str, freq: str, items: str, levels: str, share: float) -> FormSpec:
    return FormSpec(code, name, freq, tuple(i for i in items.split(";") if i), levels, share)


#: Forms of county departments, by abbreviation.
COUNTY_FORMS: dict[str, tuple[FormSpec, ...]] = {
    "AGRI": (
        _f("01", "农作物播种面积进度表", "weekly", "早稻面积;中稻面积;玉米面积;大豆面积;蔬菜面积;播种进度", "T", 1.0),
        _f("02", "高标准农田建设进展月报", "monthly", "项目个数;建设面积;完成投资;竣工面积", "T", 0.8),
        _f("03", "农村集体经济收入统计表", "quarterly", "经营收入;发包收入;投资收益;补助收入;其他收入", "V", 0.9),
        _f("04", "防返贫监测对象信息表", "monthly", "监测户数;监测人口;风险消除户数;帮扶措施;收入变化", "V", 0.7),
    ),
    "EDU": (
        _f("01", "控辍保学情况月报", "monthly", "适龄儿童数;在校生数;辍学人数;劝返人数", "T", 1.0),
        _f("02", "学生资助信息核查表", "semiannual", "资助学生数;资助金额;家庭经济困难学生数;核查结果", "V", 0.5),
    ),
    "HEALTH": (
        _f("01", "家庭医生签约服务统计表", "monthly", "签约人数;重点人群签约数;履约次数;随访人次", "TV", 0.6),
        _f("02", "村卫生室运行情况表", "quarterly", "乡村医生数;诊疗人次;基本药物配备;设备状况", "V", 0.6),
        _f("03", "传染病疫情日报", "daily", "新增病例;疑似病例;密切接触者;隔离人数", "T", 0.3),
    ),
    "CIVIL": (
        _f("01", "低保特困人员动态管理表", "monthly", "低保户数;低保人数;特困人数;新增人数;退出人数", "TV", 0.8),
        _f("02", "困境儿童关爱服务台账", "quarterly", "困境儿童人数;留守儿童人数;走访次数;帮扶情况", "V", 0.5),
        _f("03", "养老服务设施统计表", "annual", "", "T", 0.9),
    ),
    "HRSS": (
        _f("01", "农村劳动力转移就业月报", "monthly", "外出务工人数;县内就业人数;返乡人数;培训人数", "V", 0.6),
        _f("02", "城乡居民养老保险参保进度表", "monthly", "应参保人数;已参保人数;缴费人数;待遇领取人数", "T", 1.0),
    ),
    "NATRES": (
        _f("01", "耕地保护网格巡查周报", "weekly", "巡查次数;发现问题数;违法占地面积;整改宗数", "V", 0.35),
        _f("02", "宅基地审批情况统计表", "monthly", "申请宗数;批准宗数;批准面积", "T", 0.9),
    ),
    "ECOENV": (
        _f("01", "农村环境整治进展表", "monthly", "垃圾清运量;污水处理设施数;黑臭水体数;整治进度", "TV", 0.5),
        _f("02", "秸秆禁烧巡查周报", "weekly", "巡查人次;火点数;处置数;宣传次数", "V", 0.25),
    ),
    "WATER": (
        _f("01", "防汛抗旱值班记录", "adhoc", "值班人数;巡堤人次;险情数;转移人数", "TV", 0.4),
        _f("02", "农村饮水安全排查表", "quarterly", "供水人口;水质检测次数;停水次数;问题整改数", "V", 0.5),
    ),
    "EMERG": (
        _f("01", "安全生产隐患排查周报", "weekly", "检查企业数;隐患数;隐患整改数;停产整顿数", "T", 1.0),
        _f("02", "自然灾害灾情统计表", "adhoc", "受灾人口;倒塌房屋;农作物受灾面积;直接经济损失", "TV", 0.3),
    ),
    "STATS": (
        _f("01", "农村住户收支月度调查表", "monthly", "调查户数;人均可支配收入;人均消费支出;记账户数", "V", 0.3),
        _f("02", "规上企业名录核查表", "annual", "", "T", 0.8),
    ),
    "HOUSING": (
        _f("01", "农村危房改造进度表", "monthly", "改造户数;开工数;竣工数;补助资金", "TV", 0.5),
        _f("02", "自建房安全隐患排查表", "monthly", "排查栋数;隐患栋数;整治栋数;经营性自建房数", "V", 0.4),
    ),
    "MARKET": (
        _f("01", "食品安全检查月报", "monthly", "检查主体数;抽检批次;不合格批次;立案数", "T", 1.0),
        _f("02", "特种设备排查台账", "quarterly", "", "T", 0.7),
    ),
    "CULTOUR": (
        _f("01", "农家书屋运行情况表", "quarterly", "藏书册数;借阅人次;开放天数;读书活动场次", "V", 0.5),
        _f("02", "文化活动开展情况月报", "monthly", "文化活动场次;参与人次;演出场次;文艺团队数", "T", 0.8),
    ),
    "DUCHA": (
        _f("01", "重点工作落实情况周报", "weekly", "任务数;完成数;推进中数;滞后数", "T", 1.0),
    ),
    "RETIRED": (
        _f("01", "退役军人信息采集表", "monthly", "退役军人人数;优抚对象人数;走访慰问次数;困难帮扶人数", "V", 0.4),
    ),
    "POLLAW": (
        _f("01", "矛盾纠纷排查化解月报", "monthly", "排查纠纷数;化解纠纷数;上报事件数;信访件数", "TV", 0.6),
    ),
    "FINANCE": (
        _f("01", "惠农补贴发放台账", "monthly", "补贴项目;发放户数;发放金额;未发放原因", "V", 0.4),
    ),
    "TRANSPORT": (
        _f("01", "农村公路养护月报", "monthly", "养护里程;路面病害数;桥梁检查数;养护资金", "T", 0.8),
    ),
}

#: Forms of city departments (form ids get an S, for 市).
CITY_FORMS: dict[str, tuple[FormSpec, ...]] = {
    "EDU": (_f("S01", "学校安全隐患排查表", "monthly", "学校数;排查次数;安全隐患数;已整改隐患数", "T", 0.8),),
    "HEALTH": (_f("S01", "基本公共卫生服务进度表", "monthly", "建档人数;慢病管理人数;老年人体检人数;儿童保健人数", "V", 0.3),),
    "EMERG": (_f("S01", "森林防火巡查日志", "weekly", "护林员人数;巡山次数;野外用火数;火险等级", "V", 0.15),),
    "ECOENV": (_f("S01", "河湖长巡河记录表", "monthly", "巡河次数;河段长度;漂浮物清理量;排污口数", "V", 0.3),),
    "AGRI": (_f("S01", "农资价格监测表", "monthly", "化肥价格;农药价格;种子价格;农膜价格", "T", 0.5),),
}

#: Forms of province departments (form ids get a P).
PROVINCE_FORMS: dict[str, tuple[FormSpec, ...]] = {
    "STATS": (_f("P01", "农业生产情况统计报表", "monthly", "粮食产量;生猪存栏;禽蛋产量;水产品产量", "T", 0.9),),
    "HEALTH": (_f("P01", "重点人群健康管理统计表", "quarterly", "孕产妇人数;零至六岁儿童人数;严重精神障碍患者数;结核病患者数", "V", 0.4),),
    "CIVIL": (_f("P01", "城乡社区服务设施统计表", "annual", "", "TV", 0.9),),
    "EDU": (_f("P01", "义务教育学校基本情况表", "annual", "", "T", 0.9),),
    "AGRI": (_f("P01", "耕地撂荒情况调查表", "semiannual", "撂荒地块数;撂荒面积;复耕面积;撂荒原因", "V", 0.3),),
}

#: Work-group topics by owner department; group name = unit name + topic.
GROUP_TOPICS: dict[str, tuple[str, ...]] = {
    "AGRI": ("农业技术推广群", "高标准农田建设群", "防返贫监测工作群"),
    "EDU": ("控辍保学工作群",),
    "HEALTH": ("家庭医生签约服务群", "乡村医生工作群"),
    "CIVIL": ("社会救助工作群", "养老服务工作群"),
    "HRSS": ("就业服务工作群", "社保经办群"),
    "NATRES": ("耕地保护网格群",),
    "ECOENV": ("环保网格员群", "秸秆禁烧工作群"),
    "WATER": ("防汛抗旱工作群", "河湖长制工作群"),
    "EMERG": ("安全生产工作群", "应急值守群"),
    "STATS": ("统计调查工作群",),
    "HOUSING": ("危房改造工作群", "自建房排查群"),
    "MARKET": ("食品安全协管员群",),
    "CULTOUR": ("文化志愿者群",),
    "DUCHA": ("督查督办工作群",),
    "RETIRED": ("退役军人服务站群",),
    "POLLAW": ("综治网格工作群", "平安建设群"),
    "FINANCE": ("惠农资金发放群",),
    "TRANSPORT": ("护路员工作群",),
}
#: Temporary work-group topics (purpose temporary, with or without a task end date).
TEMPORARY_TOPICS: dict[str, tuple[str, ...]] = {
    "STATS": ("经济普查工作专班群",),
    "AGRI": ("第三次土壤普查群",),
    "HEALTH": ("秋冬季疫苗接种专项群",),
    "DUCHA": ("迎检工作临时群",),
    "WATER": ("主汛期应急临时群",),
}
#: Groups of the county unit itself (owner department, topic).
COUNTY_UNIT_GROUPS: tuple[tuple[str, str], ...] = (
    ("DUCHA", "减负工作专班群"),
    ("EMERG", "应急信息报送群"),
    ("AGRI", "乡村振兴指挥部群"),
    ("HEALTH", "卫生健康工作群"),
    ("STATS", "统计工作联络群"),
    ("CIVIL", "民政业务群"),
    ("EDU", "教育系统工作群"),
    ("WATER", "防汛指挥部群"),
    ("MARKET", "市场监管联络群"),
)

#: Inspection themes by department; topic = "<year>年" + theme, unique within a department.
INSPECTION_THEMES: dict[str, tuple[str, ...]] = {
    "AGRI": ("高标准农田建设质量检查", "农产品质量安全督查", "粮食生产目标责任考核", "动物防疫工作检查"),
    "EDU": ("校园安全专项检查", "义务教育均衡发展督导", "学校食堂食品安全检查"),
    "HEALTH": ("基本公共卫生服务项目考核", "村卫生室规范化建设检查", "爱国卫生运动督查"),
    "CIVIL": ("社会救助政策落实督查", "养老机构安全检查"),
    "HRSS": ("农民工工资支付专项检查", "就业帮扶政策落实督查"),
    "NATRES": ("耕地保护目标责任考核", "违法用地专项检查"),
    "ECOENV": ("农村生活污水治理检查", "大气污染防治督查"),
    "WATER": ("河湖长制工作考核", "防汛备汛检查", "农村饮水安全督查"),
    "EMERG": ("安全生产大检查", "消防安全专项检查", "防灾减灾工作考核"),
    "STATS": ("统计数据质量核查",),
    "HOUSING": ("自建房安全专项整治督查", "农村危房改造质量检查"),
    "MARKET": ("食品安全监督检查", "特种设备安全检查", "价格监督检查"),
    "CULTOUR": ("文化市场综合执法检查", "旅游安全检查"),
    "DUCHA": ("重点工作落实情况督查", "民生实事推进督查"),
    "RETIRED": ("退役军人服务保障体系建设检查",),
    "POLLAW": ("平安建设考核", "综治中心规范化建设检查"),
    "FINANCE": ("惠农补贴资金专项检查",),
    "TRANSPORT": ("农村公路建设质量检查",),
}
CITY_INSPECTION_THEMES: dict[str, tuple[str, ...]] = {
    "EDU": ("全市校园安全联合督导", "中小学减负专项督查"),
    "HEALTH": ("全市医疗机构依法执业检查", "基层卫生综合考核"),
    "EMERG": ("全市森林防火专项检查", "危化品安全督查"),
    "ECOENV": ("全市生态环境保护督察回头看", "饮用水水源地检查"),
    "AGRI": ("全市乡村振兴实绩考核", "农村人居环境整治检查"),
}
PROVINCE_INSPECTION_THEMES: dict[str, tuple[str, ...]] = {
    "HEALTH": ("全省基层医疗卫生服务能力考核",),
    "EDU": ("全省义务教育质量督导",),
    "AGRI": ("全省粮食安全党政同责考核", "全省耕地撂荒整治督查"),
    "STATS": ("全省统计执法检查",),
    "CIVIL": ("全省社会救助绩效评价",),
}


def category_of(theme: str) -> str:
    """The inspection category a theme's wording implies (考核 assessment, 督查/督导 supervision)."""
    if "考核" in theme or "评价" in theme:
        return "assessment"
    if "督" in theme:
        return "supervision"
    return "inspection"


#: People who sign a form (填表人/审核人 note rows) and nothing else.
CLERKS = ("王丽", "陈建国", "李娟", "张伟", "刘芳", "杨帆", "赵敏", "黄志强", "周婷", "吴海燕")
