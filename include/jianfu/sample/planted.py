"""Planted cases of the pilot sample: for every rule of SPEC.md section 8, cases that must fire and
near misses on the boundary that must not.

Each case is added to the rows of the version in force of one county x kind x period and declares
the flags it must produce (`fires`) and the flags that must not exist (`misses`). Cases live on
units set aside for them (targets of planted visits get no background visits; departments of the
quota cases inspect only through their cases), so they neither disturb nor are disturbed by the
background, and the sum of all `fires` is exactly the truth (tests/test_sample.py checks that).
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass, field
from datetime import date, timedelta

from ..config import RULE_DEFAULTS
from .departments import Dept
from .divisions import County, Unit
from .inspections import Visit
from .periods import FlagRow, period_end
from .render import Verbatim

FORMS, GROUPS, INSPECTIONS = "form_counts", "work_groups", "inspections"


@dataclass
class Case:
    """One planted case: where it lives, what it is, and the flags it must and must not cause."""

    name: str
    rule: str
    what: str
    where: tuple[str, str, str]  # (kind, county or counties joined by ',', period or '*') of the files carrying it
    fires: list[FlagRow] = field(default_factory=list)
    misses: list[FlagRow] = field(default_factory=list)


# Pilot counties by name, for readability of the cases below.
SHANGDANG, HUGUAN, WUXIANG, NANJING, HUANGMEI, NINGYUAN, SHANDAN = (
    "140404", "140427", "140429", "350627", "421127", "431126", "620725")

#: Quota cases: department -> (quota row or None for the default, items with a visit, why).
QUOTA_CASES: dict[str, tuple[int | None, int, str]] = {
    f"{NINGYUAN}-MARKET": (5, 4, "used 4 = ceil(0.8 x 5): WARNING"),
    f"{NANJING}-CULTOUR": (4, 4, "used 4 = quota 4: WARNING, not EXCEEDED"),
    f"{SHANDAN}-HOUSING": (3, 4, "used 4 = quota 3 + 1: EXCEEDED, not WARNING"),
    f"{HUANGMEI}-CULTOUR": (None, 2, "no quota row, default 2, used 2: WARNING"),
    f"{HUGUAN}-WATER": (None, 3, "no quota row, default 2, used 3: EXCEEDED"),
    f"{WUXIANG}-STATS": (None, 1, "no quota row, used 1 < ceil(1.6): nothing"),
    f"{HUANGMEI}-NATRES": (5, 3, "used 3 < ceil(0.8 x 5) = 4: nothing"),
    f"{NINGYUAN}-ECOENV": (5, 3, "3 items visited + 1 item whose only visit is cancelled: used 3, nothing"),
    f"{WUXIANG}-HOUSING": (5, 3, "3 items in force; a 4th only in the superseded first update: nothing"),
    "140400-EMERG": (3, 2, "city department; one item visits two counties, counted once: used 2, nothing"),
}

QUOTA_THEMES = {"MARKET": "特种设备安全", "CULTOUR": "文化市场", "HOUSING": "建筑施工安全", "WATER": "水利工程安全",
                "STATS": "统计执法", "NATRES": "矿产资源", "ECOENV": "污染源", "EMERG": "危化品"}


class Planter:
    """Sets units aside for the cases, then adds the cases' rows to the in-force data."""

    def __init__(self, counties: list[County], depts: dict[str, list[Dept]], periods: list[str], year: int):
        self.counties = {c.code: c for c in counties}
        self.depts = depts
        self.periods = periods
        self.year = year
        # Separate pools per kind, spread over each county's villages, handed out in order.
        self._pools = {
            (kind, c.code): list(c.villages[offset::7])
            for c in counties for kind, offset in ((FORMS, 3), (GROUPS, 4), (INSPECTIONS, 5))
        }
        self._townships = {c.code: list(c.townships[1:]) for c in counties}
        self.cases: list[Case] = []
        # Targets are set aside now, before background visits are drawn.
        self.targets = {code: [self._take(INSPECTIONS, code) for _ in range(16)] for code in self.counties}

    # --- bookkeeping ---------------------------------------------------------------------------

    @property
    def reserved_targets(self) -> set[str]:
        return {u.code for units in self.targets.values() for u in units}

    @property
    def reserved_depts(self) -> set[str]:
        return set(QUOTA_CASES)

    def quota_rows(self) -> dict[tuple[str, int], int]:
        return {(d, self.year): q for d, (q, _used, _why) in QUOTA_CASES.items() if q is not None}

    def _take(self, kind: str, county: str) -> Unit:
        return self._pools[(kind, county)].pop(0)

    def _township(self, county: str) -> Unit:
        return self._townships[county].pop(0)

    def _target(self, county: str) -> str:
        return self.targets[county].pop(0).code

    def _dept(self, county_or_gov: str, abbr: str) -> str:
        return f"{county_or_gov}-{abbr}"

    def _case(self, name: str, rule: str, what: str, where: tuple[str, str, str],
              fires: list[FlagRow] = (), misses: list[FlagRow] = ()) -> None:
        self.cases.append(Case(name, rule, what, where, list(fires), list(misses)))

    # --- rows ----------------------------------------------------------------------------------

    @staticmethod
    def _form(county: str, period: str, unit: Unit, dept: str, form_id: str, name: str, freq: str, fills: int,
              items: str | None) -> dict:
        return {
            "county_code": county, "period": period, "unit_code": unit.code, "form_id": form_id,
            "form_name": name, "dept_code": dept, "frequency": freq, "fill_count": fills,
            "field_count": 12, "hours_spent": float(fills), "channel": "spreadsheet",
            "data_items": Verbatim(items) if items else None,
        }

    @staticmethod
    def _group(county: str, period: str, unit: Unit, gid: str, name: str, owner: str, *, last_active: date,
               created: date, purpose: str = "permanent", task_end: date | None = None) -> dict:
        return {
            "county_code": county, "period": period, "unit_code": unit.code, "group_id": gid,
            "group_name": name, "platform": "wechat", "owner_dept_code": owner, "purpose": purpose,
            "created_date": created, "last_active_date": last_active, "member_count": 36,
            "messages_30d": 12 if (period_end(period) - last_active).days < 30 else 0, "task_end_date": task_end,
        }

    def _visit(self, county: str, dept: str, item: str, topic: str, target: str, planned: date, *,
               actual: date | None = None, fate: str = "done", in_plan: bool = True, joint: str | None = None,
               approval: str | None = None, category: str = "inspection") -> Visit:
        if fate == "done" and actual is None:
            actual = planned
        return Visit(county, self.year, item, dept, category, topic, target, planned, actual, fate, in_plan,
                     joint, approval, pinned=True)

    # --- the cases -----------------------------------------------------------------------------

    def plant(self, forms: dict[tuple[str, str], list[dict]], groups: dict[tuple[str, str], list[dict]],
              visits: dict[str, list[Visit]]) -> list[Case]:
        """Add every case to the in-force rows (mutated in place) and return the cases."""
        self._year_ago(forms)
        self._forms(forms)
        self._less_frequent(forms)
        self._groups(groups)
        self._inspections(visits)
        self._quotas(visits)
        self._joint_visits(visits)
        return self.cases

    def _forms(self, forms: dict[tuple[str, str], list[dict]]) -> None:
        p1, p2, p3 = self.periods

        def add(county: str, period: str, *rows: dict) -> None:
            forms[(county, period)].extend(rows)

        def fof(unit: Unit, dept: str, form: str) -> str:
            return f"{unit.code}|{dept}|{form}"

        # FORM_OVER_FREQUENCY: weekly 6 fires, 5 does not.
        c, p, dept = HUANGMEI, p2, f"{HUANGMEI}-HEALTH"
        u1, u2 = self._take(FORMS, c), self._take(FORMS, c)
        items = "随访对象数;随访次数;血压测量数;血糖测量数"
        add(c, p, self._form(c, p, u1, dept, "HEALTH-T01", "重点人群健康随访周报", "weekly", 6, items),
            self._form(c, p, u2, dept, "HEALTH-T01", "重点人群健康随访周报", "weekly", 5, items))
        self._case("FOF-weekly", "FORM_OVER_FREQUENCY", "weekly form filled 6 times (allowed 5) fires; 5 does not",
                   (FORMS, c, p), [("FORM_OVER_FREQUENCY", p, fof(u1, dept, "HEALTH-T01"), c)],
                   [("FORM_OVER_FREQUENCY", p, fof(u2, dept, "HEALTH-T01"), c)])

        # Daily: allowed = days of the month; a 31-day and a 30-day (or shorter) month.
        for case, c, p in (("FOF-daily-long", SHANGDANG, p1), ("FOF-daily-short", HUGUAN, p2)):
            days = calendar.monthrange(int(p[:4]), int(p[5:7]))[1]
            dept = f"{c}-EMERG"
            u1, u2 = self._take(FORMS, c), self._take(FORMS, c)
            items = "值守人员;巡护里程;火情报告;设备检查"
            add(c, p, self._form(c, p, u1, dept, "EMERG-T02", "森林防火值守日报", "daily", days + 1, items),
                self._form(c, p, u2, dept, "EMERG-T02", "森林防火值守日报", "daily", days, items))
            self._case(case, "FORM_OVER_FREQUENCY",
                       f"daily form in a {days}-day month: {days + 1} fills fire, {days} do not",
                       (FORMS, c, p), [("FORM_OVER_FREQUENCY", p, fof(u1, dept, "EMERG-T02"), c)],
                       [("FORM_OVER_FREQUENCY", p, fof(u2, dept, "EMERG-T02"), c)])

        # Monthly: 2 fills fire, 1 does not.
        c, p, dept = NINGYUAN, p1, f"{NINGYUAN}-CIVIL"
        u1, u2 = self._take(FORMS, c), self._take(FORMS, c)
        items = "救助对象;救助事由;救助金额;审批日期"
        add(c, p, self._form(c, p, u1, dept, "CIVIL-T03", "临时救助对象台账", "monthly", 2, items),
            self._form(c, p, u2, dept, "CIVIL-T03", "临时救助对象台账", "monthly", 1, items))
        self._case("FOF-monthly", "FORM_OVER_FREQUENCY", "monthly form filled twice fires; once does not",
                   (FORMS, c, p), [("FORM_OVER_FREQUENCY", p, fof(u1, dept, "CIVIL-T03"), c)],
                   [("FORM_OVER_FREQUENCY", p, fof(u2, dept, "CIVIL-T03"), c)])

        # UNIT_REPORTING_OVERLOAD: 61 fills fire, exactly 60 do not; the adhoc form itself never fires.
        c, p, dept = NANJING, p3, f"{NANJING}-WATER"
        u1, u2 = self._take(FORMS, c), self._take(FORMS, c)
        for unit, total in ((u1, 61), (u2, 60)):
            have = sum(r["fill_count"] for r in forms[(c, p)] if r["unit_code"] == unit.code)
            add(c, p, self._form(c, p, unit, dept, "WATER-T04", "汛期巡查登记表", "adhoc", total - have,
                                 "巡查时间;巡查堤段;发现险情;处置措施"))
        self._case("OVERLOAD-61", "UNIT_REPORTING_OVERLOAD",
                   "a unit's fills sum to 61 (fires) and another's to exactly 60 (does not); the adhoc form "
                   "that tops them up is never over frequency",
                   (FORMS, c, p), [("UNIT_REPORTING_OVERLOAD", p, u1.code, c)],
                   [("UNIT_REPORTING_OVERLOAD", p, u2.code, c),
                    ("FORM_OVER_FREQUENCY", p, fof(u1, dept, "WATER-T04"), c)])

        # A fill_count above 100 (a warning, accepted): an adhoc form, so only the overload fires.
        c, p, dept = HUGUAN, p3, f"{HUGUAN}-EMERG"
        u1 = self._take(FORMS, c)
        add(c, p, self._form(c, p, u1, dept, "EMERG-T05", "灾情速报登记表", "adhoc", 120, "灾情类型;报告时间;受灾人数"))
        self._case("FILL-120", "UNIT_REPORTING_OVERLOAD",
                   "adhoc form filled 120 times: accepted with a warning (fill_count > 100); the unit is "
                   "overloaded, the adhoc form is not over frequency",
                   (FORMS, c, p), [("UNIT_REPORTING_OVERLOAD", p, u1.code, c)],
                   [("FORM_OVER_FREQUENCY", p, fof(u1, dept, "EMERG-T05"), c)])

        self._form_duplicates(forms, add)

    def _year_ago(self, forms: dict[tuple[str, str], list[dict]]) -> None:
        """A case of the reduction table (SPEC 14) for fills_yoy, and for visits NULL: 山丹县 files
        form_counts for the third month's year-ago month, a year with no inspections plan in force.
        Its rows are that county's background of the third month, taken before any case is added
        to it: a background month flags nothing, and the same calendar month a year before has the
        same number of days. Like `_less_frequent`, rows, not a Case: it flags nothing, and
        tests/test_reduction_pilot.py finds it in the built warehouse."""
        p3 = self.periods[-1]
        year_ago = f"{int(p3[:4]) - 1}{p3[4:]}"
        forms[(SHANDAN, year_ago)] = [{**row, "period": year_ago} for row in forms[(SHANDAN, p3)]]

    def _less_frequent(self, forms: dict[tuple[str, str], list[dict]]) -> None:
        """A case of the reduction table's forms_less_frequent: a weekly form of 黄梅县 made monthly
        from the second month to the third (filled once each month, never over its frequency)."""
        _p1, p2, p3 = self.periods
        c = HUANGMEI
        dept, unit = f"{c}-AGRI", self._take(FORMS, c)
        for period, frequency in ((p2, "weekly"), (p3, "monthly")):
            forms[(c, period)].append(self._form(c, period, unit, dept, "AGRI-R01", "秸秆离田利用进度表", frequency, 1,
                                                 "离田面积;利用方式;收储点"))

    def _form_duplicates(self, forms: dict[tuple[str, str], list[dict]], add) -> None:
        p1, p2, p3 = self.periods
        c, p = HUANGMEI, p2
        prov = "420000"

        def pair(a: tuple[str, str], b: tuple[str, str]) -> str:
            return "|".join(sorted(f"{d}:{f}" for d, f in (a, b)))

        def both(units: list[Unit], a: tuple, b: tuple, period: str = p, fills: tuple[int, int] = (1, 1)) -> None:
            for unit in units:
                add(c, period, self._form(c, period, unit, *a[:2], a[2], a[3], fills[0], a[4]),
                    self._form(c, period, unit, *b[:2], b[2], b[3], fills[1], b[4]))

        # Jaccard exactly 0.6 (3 of 5 items after normalising full-width brackets and spaces): fires,
        # once for the county-month although three villages fill both.
        a = (f"{c}-AGRI", "AGRI-T11", "种植结构调查表", "monthly", "耕地面积（亩）；水田面积；旱地面积；撂荒面积")
        b = (f"{prov}-AGRI", "AGRI-P12", "耕地利用情况统计表", "monthly", "耕地面积(亩)|水田面积| 旱地面积 |设施农业面积")
        both([self._take(FORMS, c) for _ in range(3)], a, b)
        self._case("DUP-jaccard-0.6", "FORM_DUPLICATE_ACROSS_DEPTS",
                   "county and province forms sharing 3 of 5 items (similarity exactly 0.6), filled by the same "
                   "three villages: one flag", (FORMS, c, p),
                   [("FORM_DUPLICATE_ACROSS_DEPTS", p, pair(a[:2], b[:2]), c)])

        # Jaccard 4/7 < 0.6: no flag.
        a = (f"{c}-HOUSING", "HOUSING-T13", "农房安全排查表", "monthly", "房屋栋数;鉴定等级;住户人数;结构类型;建成年代")
        b = (f"{c}-EMERG", "EMERG-T14", "房屋安全隐患台账", "monthly", "房屋栋数;鉴定等级;住户人数;结构类型;隐患类型;整改措施")
        both([self._take(FORMS, c) for _ in range(2)], a, b)
        self._case("DUP-jaccard-4/7", "FORM_DUPLICATE_ACROSS_DEPTS", "forms sharing 4 of 7 items (0.571): no flag",
                   (FORMS, c, p), misses=[("FORM_DUPLICATE_ACROSS_DEPTS", p, pair(a[:2], b[:2]), c)])

        # No items on either side, names equal after normalising: fires.
        a = (f"{c}-CIVIL", "CIVIL-T15", "村级组织出具证明事项统计表", "monthly", None)
        b = (f"{c}-DUCHA", "DUCHA-T16", "村级组织 出具证明事项 统计表。", "monthly", None)
        both([self._take(FORMS, c)], a, b)
        self._case("DUP-same-name", "FORM_DUPLICATE_ACROSS_DEPTS",
                   "no data_items, names equal once spaces and punctuation go: similarity 1, fires", (FORMS, c, p),
                   [("FORM_DUPLICATE_ACROSS_DEPTS", p, pair(a[:2], b[:2]), c)])

        # Items on one side only, equal names: similarity by name, fires.
        a = (f"{c}-HEALTH", "HEALTH-T23", "重点人群健康管理台账", "monthly", "姓名;慢病类型;随访日期")
        b = (f"{prov}-HEALTH", "HEALTH-P24", "重点人群 健康管理台账", "monthly", None)
        both([self._take(FORMS, c)], a, b)
        self._case("DUP-one-side-items", "FORM_DUPLICATE_ACROSS_DEPTS",
                   "one form lists items, the other none, names equal: similarity 1, fires", (FORMS, c, p),
                   [("FORM_DUPLICATE_ACROSS_DEPTS", p, pair(a[:2], b[:2]), c)])

        # Same items, same department: not across departments, no flag.
        items = "样本户编码;户主姓名;家庭人口;联系电话"
        a = (f"{c}-STATS", "STATS-T17", "住户调查样本名单", "monthly", items)
        b = (f"{c}-STATS", "STATS-T18", "住户调查样本名单（复核）", "monthly", items)
        both([self._take(FORMS, c)], a, b)
        self._case("DUP-same-dept", "FORM_DUPLICATE_ACROSS_DEPTS", "identical forms of one department: no flag",
                   (FORMS, c, p), misses=[("FORM_DUPLICATE_ACROSS_DEPTS", p, pair(a[:2], b[:2]), c)])

        # Identical items, different departments, but no unit fills both: no flag.
        items = "儿童姓名;监护人;就读学校;帮扶责任人"
        a = (f"{c}-EDU", "EDU-T19", "留守儿童信息表", "monthly", items)
        b = (f"{c}-CIVIL", "CIVIL-T20", "农村留守儿童台账", "monthly", items)
        ua, ub = self._take(FORMS, c), self._take(FORMS, c)
        add(c, p, self._form(c, p, ua, *a[:2], a[2], a[3], 1, a[4]), self._form(c, p, ub, *b[:2], b[2], b[3], 1, b[4]))
        self._case("DUP-different-units", "FORM_DUPLICATE_ACROSS_DEPTS",
                   "identical forms of two departments filled by different villages: no flag", (FORMS, c, p),
                   misses=[("FORM_DUPLICATE_ACROSS_DEPTS", p, pair(a[:2], b[:2]), c)])

        # Identical items, one of them not filled this month (fill_count 0): no flag.
        items = "务工人数;务工地点;月均收入;稳岗补贴"
        a = (f"{c}-HRSS", "HRSS-T21", "脱贫人口务工监测表", "monthly", items)
        b = (f"{c}-AGRI", "AGRI-T22", "脱贫劳动力务工台账", "semiannual", items)
        both([self._take(FORMS, c)], a, b, fills=(1, 0))
        self._case("DUP-unfilled", "FORM_DUPLICATE_ACROSS_DEPTS",
                   "identical forms of two departments, one with fill_count 0 this month: no flag", (FORMS, c, p),
                   misses=[("FORM_DUPLICATE_ACROSS_DEPTS", p, pair(a[:2], b[:2]), c)])

        # A city department and a county one, 4 of 5 items, list separators 、 and ;: fires.
        a = ("421100-ECOENV", "ECOENV-S25", "河湖巡查记录", "monthly", "巡查河段、巡查次数、发现问题、整改情况")
        b = (f"{c}-WATER", "WATER-T26", "河湖长巡河台账", "monthly", "巡查河段;巡查次数;发现问题;整改情况;巡河照片")
        both([self._take(FORMS, c) for _ in range(2)], a, b, period=p3)
        self._case("DUP-city-county", "FORM_DUPLICATE_ACROSS_DEPTS",
                   "city and county forms sharing 4 of 5 items (0.8): fires", (FORMS, c, p3),
                   [("FORM_DUPLICATE_ACROSS_DEPTS", p3, pair(a[:2], b[:2]), c)])

    def _groups(self, groups: dict[tuple[str, str], list[dict]]) -> None:
        p1, p2, p3 = self.periods

        def add(county: str, period: str, *rows: dict) -> None:
            groups[(county, period)].extend(rows)

        def subject(unit: Unit, gid: str) -> str:
            return f"{unit.code}|{gid}"

        long_ago = lambda period: period_end(period) - timedelta(days=700)  # noqa: E731

        # GROUP_ZOMBIE: exactly 90 days idle fires, 89 does not.
        c, p = WUXIANG, p2
        end = period_end(p)
        t1, t2 = self._township(c), self._township(c)
        add(c, p, self._group(c, p, t1, "WX-Z90", f"{t1.name}疫情防控工作群", f"{c}-HEALTH",
                              last_active=end - timedelta(days=90), created=long_ago(p)),
            self._group(c, p, t2, "WX-Z89", f"{t2.name}疫情防控工作群", f"{c}-HEALTH",
                        last_active=end - timedelta(days=89), created=long_ago(p)))
        self._case("ZOMBIE-90", "GROUP_ZOMBIE", "last active exactly 90 days before period end fires; 89 does not",
                   (GROUPS, c, p), [("GROUP_ZOMBIE", p, subject(t1, "WX-Z90"), c)],
                   [("GROUP_ZOMBIE", p, subject(t2, "WX-Z89"), c)])

        # A zombie that stays in every month's report fires every month.
        c = NANJING
        u = self._take(GROUPS, c)
        idle_since = period_end(p1) - timedelta(days=100)
        for p in self.periods:
            add(c, p, self._group(c, p, u, "DD-ZOLD", f"{u.name}脱贫攻坚指挥部群", f"{c}-AGRI",
                                  last_active=idle_since, created=long_ago(p1)))
        self._case("ZOMBIE-every-month", "GROUP_ZOMBIE",
                   "a group idle since 100 days before the first month, reported each month: fires each month",
                   (GROUPS, c, "*"), [("GROUP_ZOMBIE", p, subject(u, "DD-ZOLD"), c) for p in self.periods])

        # GROUP_TEMPORARY_OVERDUE with a task end: +8 days fires, +7 does not.
        c, p = NINGYUAN, p2
        end = period_end(p)
        u1, u2 = self._take(GROUPS, c), self._take(GROUPS, c)
        for unit, gid, late in ((u1, "WX-T8", 8), (u2, "WX-T7", 7)):
            add(c, p, self._group(c, p, unit, gid, f"{unit.name}人口普查工作群", f"{c}-STATS", purpose="temporary",
                                  created=end - timedelta(days=150), task_end=end - timedelta(days=late),
                                  last_active=end - timedelta(days=3)))
        self._case("TEMP-task-end", "GROUP_TEMPORARY_OVERDUE",
                   "temporary group whose task ended 8 days before period end fires; 7 days does not",
                   (GROUPS, c, p), [("GROUP_TEMPORARY_OVERDUE", p, subject(u1, "WX-T8"), c)],
                   [("GROUP_TEMPORARY_OVERDUE", p, subject(u2, "WX-T7"), c)])

        # Without a task end: created 181 days before period end fires, 180 does not; a permanent
        # group created 700 days before does not.
        c, p = SHANDAN, p2
        end = period_end(p)
        u1, u2, u3 = self._take(GROUPS, c), self._take(GROUPS, c), self._take(GROUPS, c)
        for unit, gid, age in ((u1, "DD-C181", 181), (u2, "DD-C180", 180)):
            add(c, p, self._group(c, p, unit, gid, f"{unit.name}迎检资料准备群", f"{c}-DUCHA", purpose="temporary",
                                  created=end - timedelta(days=age), last_active=end - timedelta(days=2)))
        add(c, p, self._group(c, p, u3, "DD-P700", f"{u3.name}迎检资料准备群", f"{c}-DUCHA",
                              created=long_ago(p), last_active=end - timedelta(days=2)))
        self._case("TEMP-no-task-end", "GROUP_TEMPORARY_OVERDUE",
                   "temporary group without task end created 181 days before period end fires; 180 does not; "
                   "a permanent one 700 days old does not", (GROUPS, c, p),
                   [("GROUP_TEMPORARY_OVERDUE", p, subject(u1, "DD-C181"), c)],
                   [("GROUP_TEMPORARY_OVERDUE", p, subject(u2, "DD-C180"), c),
                    ("GROUP_TEMPORARY_OVERDUE", p, subject(u3, "DD-P700"), c)])

        # GROUP_DUPLICATE: three groups whose names differ only by digits and spaces.
        c, p = HUGUAN, p2
        end = period_end(p)
        u = self._take(GROUPS, c)
        owner = f"{c}-CIVIL"
        names = ("第1网格工作群", "第2网格工作群", "第 3 网格工作群")
        gids = [f"WX-G{k}" for k in (1, 2, 3)]
        add(c, p, *(self._group(c, p, u, gid, u.name + n, owner, created=long_ago(p), last_active=end)
                    for gid, n in zip(gids, names, strict=True)))
        # Same name, different owner departments; and Chinese ordinals, which are not digits.
        add(c, p, self._group(c, p, u, "WX-G4", u.name + "防溺水宣传群", f"{c}-EDU", created=long_ago(p), last_active=end),
            self._group(c, p, u, "WX-G5", u.name + "防溺水宣传群", f"{c}-EMERG", created=long_ago(p), last_active=end),
            self._group(c, p, u, "WX-G6", u.name + "疫苗接种一组", f"{c}-HEALTH", created=long_ago(p), last_active=end),
            self._group(c, p, u, "WX-G7", u.name + "疫苗接种二组", f"{c}-HEALTH", created=long_ago(p), last_active=end))
        self._case("GDUP-digits", "GROUP_DUPLICATE",
                   "three groups of one owner named 第1/第2/第 3 网格工作群 (digits dropped) fire once; the same "
                   "name under two owners, and 一组/二组, do not", (GROUPS, c, p),
                   [("GROUP_DUPLICATE", p, f"{u.code}|{owner}|{';'.join(sorted(gids))}", c)],
                   [("GROUP_DUPLICATE", p, f"{u.code}|{c}-EDU|WX-G4", c),
                    ("GROUP_DUPLICATE", p, f"{u.code}|{c}-EMERG|WX-G5", c),
                    ("GROUP_DUPLICATE", p, f"{u.code}|{c}-HEALTH|WX-G6;WX-G7", c),
                    ("GROUP_DUPLICATE", p, f"{u.code}|{c}-EDU;{c}-EMERG|WX-G4;WX-G5", c)])

        c, p = HUGUAN, p3
        end = period_end(p)
        u = self._take(GROUPS, c)
        owner = f"{c}-WATER"
        add(c, p, self._group(c, p, u, "QW-H1", f"【防汛】{u.name}应急值守群", owner, created=long_ago(p), last_active=end),
            self._group(c, p, u, "QW-H2", f"{u.name}防汛应急值守群！", owner, created=long_ago(p), last_active=end))
        self._case("GDUP-punctuation", "GROUP_DUPLICATE",
                   "【防汛】X应急值守群 and X防汛应急值守群！: the bracketed word moves, names differ after "
                   "normalising: no flag", (GROUPS, c, p),
                   misses=[("GROUP_DUPLICATE", p, f"{u.code}|{owner}|QW-H1;QW-H2", c)])
        u = self._take(GROUPS, c)
        add(c, p, self._group(c, p, u, "QW-H5", f"{u.name}【防汛】应急值守群", owner, created=long_ago(p), last_active=end),
            self._group(c, p, u, "QW-H6", f"{u.name} 防汛·应急值守群 2", owner, created=long_ago(p), last_active=end))
        self._case("GDUP-fullwidth", "GROUP_DUPLICATE",
                   "X【防汛】应急值守群 and X 防汛·应急值守群 2: equal without punctuation, spaces and digits: fires",
                   (GROUPS, c, p), [("GROUP_DUPLICATE", p, f"{u.code}|{owner}|QW-H5;QW-H6", c)])

        # UNIT_GROUP_OVERLOAD: 16 live groups fire (info); 15 live + 1 zombie do not; exactly 15 do not.
        words = ("人居环境", "移风易俗", "森林防火", "禁毒宣传", "征兵宣传", "医保缴费", "电信反诈", "消防宣传",
                 "燃气安全", "垃圾分类", "厕所革命", "义务植树", "国防教育", "普法宣传", "志愿服务", "文明创建")

        def fill_to(c: str, p: str, unit: Unit, live: int, zombie: bool, tag: str) -> None:
            end = period_end(p)
            have = sum(1 for r in groups[(c, p)] if r["unit_code"] == unit.code)
            for k in range(live - have):
                add(c, p, self._group(c, p, unit, f"ZW-{tag}{k + 1:02d}", unit.name + words[k] + "工作群",
                                      f"{c}-DUCHA", created=long_ago(p), last_active=end - timedelta(days=k)))
            if zombie:
                add(c, p, self._group(c, p, unit, f"ZW-{tag}ZZ", unit.name + "脱贫攻坚工作群", f"{c}-AGRI",
                                      created=long_ago(p), last_active=end - timedelta(days=120)))

        c, p = HUANGMEI, p2
        t1, t2 = self._township(c), self._township(c)
        fill_to(c, p, t1, 16, False, "A")
        fill_to(c, p, t2, 15, True, "B")
        self._case("OVERLOAD-16", "UNIT_GROUP_OVERLOAD",
                   "a township in 16 live groups fires; one in 15 live groups plus a zombie does not (the zombie "
                   "itself fires GROUP_ZOMBIE)", (GROUPS, c, p),
                   [("UNIT_GROUP_OVERLOAD", p, t1.code, c), ("GROUP_ZOMBIE", p, f"{t2.code}|ZW-BZZ", c)],
                   [("UNIT_GROUP_OVERLOAD", p, t2.code, c)])
        c, p = HUANGMEI, p3
        t3 = self._township(c)
        fill_to(c, p, t3, 15, False, "C")
        self._case("OVERLOAD-15", "UNIT_GROUP_OVERLOAD", "a township in exactly 15 live groups: no flag",
                   (GROUPS, c, p), misses=[("UNIT_GROUP_OVERLOAD", p, t3.code, c)])

    def _inspections(self, visits: dict[str, list[Visit]]) -> None:
        y = self.year
        Y = str(y)

        def d(month: int, day: int) -> date:
            return date(y, month, day)

        # INSPECTION_TARGET_OVERFREQUENT: quarters by eff_date (actual if done, else planned).
        c = HUANGMEI
        t = self._target(c)
        visits[c] += [
            self._visit(c, f"{c}-AGRI", "AGRI-T01", f"{y}年秋粮收购政策落实检查", t, d(6, 26), actual=d(7, 3)),
            self._visit(c, f"{c}-EMERG", "EMERG-T01", f"{y}年汛期安全巡查", t, d(8, 10)),
            self._visit(c, f"{c}-HEALTH", "HEALTH-T01", f"{y}年家庭医生履约检查", t, d(9, 15)),
        ]
        self._case("TARGET-Q3-by-actual", "INSPECTION_TARGET_OVERFREQUENT",
                   "three visits in Q3 by eff_date (one planned 06-26, done 07-03), each 36+ days apart: fires",
                   (INSPECTIONS, c, Y), [("INSPECTION_TARGET_OVERFREQUENT", f"{y}-Q3", t, c)],
                   [("INSPECTION_TARGET_OVERFREQUENT", f"{y}-Q2", t, c)])
        t = self._target(c)
        visits[c] += [
            self._visit(c, f"{c}-AGRI", "AGRI-T02", f"{y}年农机安全检查", t, d(7, 10)),
            self._visit(c, f"{c}-EMERG", "EMERG-T02", f"{y}年地质灾害隐患点检查", t, d(8, 15)),
            self._visit(c, f"{c}-HEALTH", "HEALTH-T02", f"{y}年村卫生室药品检查", t, d(9, 28), actual=d(10, 5)),
        ]
        self._case("TARGET-Q3-2", "INSPECTION_TARGET_OVERFREQUENT",
                   "two visits in Q3; the third planned 09-28 was done 10-05 (Q4): no flag", (INSPECTIONS, c, Y),
                   misses=[("INSPECTION_TARGET_OVERFREQUENT", f"{y}-Q3", t, c),
                           ("INSPECTION_TARGET_OVERFREQUENT", f"{y}-Q4", t, c)])
        c = HUGUAN
        t = self._target(c)
        visits[c] += [
            self._visit(c, f"{c}-AGRI", "AGRI-T03", f"{y}年春耕备耕检查", t, d(4, 8)),
            self._visit(c, f"{c}-EDU", "EDU-T03", f"{y}年校车安全检查", t, d(5, 12)),
            self._visit(c, f"{c}-HEALTH", "HEALTH-T03", f"{y}年饮用水卫生检查", t, d(6, 20), fate="cancelled"),
        ]
        self._case("TARGET-cancelled", "INSPECTION_TARGET_OVERFREQUENT",
                   "two visits in Q2 plus a cancelled third: no flag", (INSPECTIONS, c, Y),
                   misses=[("INSPECTION_TARGET_OVERFREQUENT", f"{y}-Q2", t, c)])
        c = WUXIANG
        t = self._target(c)
        visits[c] += [
            self._visit(c, f"{c}-AGRI", "AGRI-T04", f"{y}年冬季动物防疫检查", t, d(10, 8)),
            self._visit(c, f"{c}-EMERG", "EMERG-T04", f"{y}年冬季森林防火检查", t, d(11, 12), fate="planned"),
            self._visit(c, f"{c}-EDU", "EDU-T04", f"{y}年冬季校园安全检查", t, d(12, 16), fate="planned"),
        ]
        self._case("TARGET-Q4-planned", "INSPECTION_TARGET_OVERFREQUENT",
                   "one done and two planned visits in Q4, 34+ days apart: fires", (INSPECTIONS, c, Y),
                   [("INSPECTION_TARGET_OVERFREQUENT", f"{y}-Q4", t, c)])

        def pair(t: str, a: tuple[str, str], b: tuple[str, str]) -> str:
            x, z = sorted(f"{dd}:{i}" for dd, i in (a, b))
            return f"{t}|{x}|{z}"

        # INSPECTION_UNCOORDINATED: 30 days apart fires, 31 does not.
        c = NANJING
        t5, t6 = self._target(c), self._target(c)
        visits[c] += [
            self._visit(c, f"{c}-AGRI", "AGRI-T05", f"{y}年茶园农药使用检查", t5, d(5, 6)),
            self._visit(c, f"{c}-MARKET", "MARKET-T05", f"{y}年茶叶质量抽检", t5, d(6, 5)),
            self._visit(c, f"{c}-AGRI", "AGRI-T06", f"{y}年土楼周边农田检查", t6, d(5, 6)),
            self._visit(c, f"{c}-MARKET", "MARKET-T06", f"{y}年景区价格检查", t6, d(6, 6)),
        ]
        self._case("UNCOORD-30", "INSPECTION_UNCOORDINATED",
                   "two departments visit one target 30 days apart: fires; 31 days apart: no flag",
                   (INSPECTIONS, c, Y),
                   [("INSPECTION_UNCOORDINATED", Y, pair(t5, (f"{c}-AGRI", "AGRI-T05"), (f"{c}-MARKET", "MARKET-T05")), c)],
                   [("INSPECTION_UNCOORDINATED", Y, pair(t6, (f"{c}-AGRI", "AGRI-T06"), (f"{c}-MARKET", "MARKET-T06")), c)])
        c = NINGYUAN
        t7, t8 = self._target(c), self._target(c)
        visits[c] += [
            self._visit(c, f"{c}-EDU", "EDU-T07", f"{y}年学校食堂联合检查", t7, d(3, 10), joint=f"{c}-HEALTH"),
            self._visit(c, f"{c}-HEALTH", "HEALTH-T07", f"{y}年学校卫生检查", t7, d(3, 18)),
            self._visit(c, f"{c}-EDU", "EDU-T08", f"{y}年幼儿园安全检查", t8, d(4, 1)),
            self._visit(c, f"{c}-HEALTH", "HEALTH-T08", f"{y}年托育机构检查", t8, d(4, 9), fate="cancelled"),
        ]
        self._case("UNCOORD-joint", "INSPECTION_UNCOORDINATED",
                   "8 days apart but the first lists the other department in joint_depts: no flag; 8 days apart "
                   "with the second cancelled: no flag", (INSPECTIONS, c, Y),
                   misses=[("INSPECTION_UNCOORDINATED", Y, pair(t7, (f"{c}-EDU", "EDU-T07"), (f"{c}-HEALTH", "HEALTH-T07")), c),
                           ("INSPECTION_UNCOORDINATED", Y, pair(t8, (f"{c}-EDU", "EDU-T08"), (f"{c}-HEALTH", "HEALTH-T08")), c)])
        c = SHANDAN
        t9 = self._target(c)
        visits[c] += [
            self._visit(c, f"{c}-AGRI", "AGRI-T09", f"{y}年马铃薯种植补贴核查", t9, d(3, 2), actual=d(3, 20)),
            self._visit(c, f"{c}-WATER", "WATER-T09", f"{y}年灌区用水检查", t9, d(4, 15)),
        ]
        self._case("UNCOORD-by-actual", "INSPECTION_UNCOORDINATED",
                   "planned 44 days apart, but the first was done 03-20: 26 days by eff_date, fires",
                   (INSPECTIONS, c, Y),
                   [("INSPECTION_UNCOORDINATED", Y, pair(t9, (f"{c}-AGRI", "AGRI-T09"), (f"{c}-WATER", "WATER-T09")), c)])

        # INSPECTION_UNPLANNED: done, not in plan, no approval reference.
        c = SHANGDANG
        t10, t11, t12 = self._target(c), self._target(c), self._target(c)
        dept = f"{c}-EMERG"
        visits[c] += [
            self._visit(c, dept, "EMERG-T10", f"{y}年煤矿安全突击检查", t10, d(5, 20), in_plan=False),
            self._visit(c, dept, "EMERG-T11", f"{y}年尾矿库安全检查", t11, d(5, 21), in_plan=False,
                        approval=f"上党区督检考报批〔{y}〕3号"),
            self._visit(c, dept, "EMERG-T12", f"{y}年冬季煤改气安全检查", t12, d(12, 3), in_plan=False, fate="planned"),
        ]
        self._case("UNPLANNED", "INSPECTION_UNPLANNED",
                   "done, not in the plan, no approval reference: fires; with an approval reference, or not yet "
                   "done: no flag", (INSPECTIONS, c, Y),
                   [("INSPECTION_UNPLANNED", Y, f"{dept}:EMERG-T10|{t10}", c)],
                   [("INSPECTION_UNPLANNED", Y, f"{dept}:EMERG-T11|{t11}", c),
                    ("INSPECTION_UNPLANNED", Y, f"{dept}:EMERG-T12|{t12}", c)])

        # INSPECTION_REPEATED_TOPIC.
        c = HUANGMEI
        t = self._target(c)
        dept = f"{c}-EMERG"
        visits[c] += [
            self._visit(c, dept, "EMERG-T21", "安全生产“回头看”检查", t, d(4, 10)),
            self._visit(c, dept, "EMERG-T22", "安全生产回头看检查", t, d(8, 20)),
        ]
        self._case("TOPIC-repeat", "INSPECTION_REPEATED_TOPIC",
                   "one department visits a target twice with topics equal but for quotation marks: fires",
                   (INSPECTIONS, c, Y), [("INSPECTION_REPEATED_TOPIC", Y, f"{dept}|{t}|EMERG-T21;EMERG-T22", c)])
        c = HUGUAN
        t = self._target(c)
        dept = f"{c}-MARKET"
        visits[c] += [
            self._visit(c, dept, "MARKET-T23", "第1批食品安全抽检", t, d(3, 5)),
            self._visit(c, dept, "MARKET-T24", "第2批食品安全抽检", t, d(7, 7)),
        ]
        self._case("TOPIC-digits", "INSPECTION_REPEATED_TOPIC",
                   "topics 第1批/第2批 differ by a digit (topics keep digits): no flag", (INSPECTIONS, c, Y),
                   misses=[("INSPECTION_REPEATED_TOPIC", Y, f"{dept}|{t}|MARKET-T23;MARKET-T24", c)])
        c = NANJING
        t = self._target(c)
        dept = f"{c}-HEALTH"
        visits[c] += [
            self._visit(c, dept, "HEALTH-T25", f"{y}年预防接种门诊检查", t, d(2, 24)),
            self._visit(c, dept, "HEALTH-T26", f"{y}年 预防接种门诊检查", t, d(9, 9), fate="cancelled"),
        ]
        self._case("TOPIC-cancelled", "INSPECTION_REPEATED_TOPIC",
                   "same topic twice, the second visit cancelled: no flag", (INSPECTIONS, c, Y),
                   misses=[("INSPECTION_REPEATED_TOPIC", Y, f"{dept}|{t}|HEALTH-T25;HEALTH-T26", c)])

    def _quotas(self, visits: dict[str, list[Visit]]) -> None:
        """Department quota cases: each item visits its own set-aside target once."""
        y = self.year
        Y = str(y)
        for dept, (quota, used, why) in QUOTA_CASES.items():
            abbr = dept.split("-")[1]
            if dept == "140400-EMERG":
                # One item reaches two counties of 长治市 (counted once), another a third county.
                spread = [("01", SHANGDANG), ("01", HUGUAN), ("02", WUXIANG)]
                where = (INSPECTIONS, ",".join(sorted({county for _k, county in spread})), Y)
            else:
                spread = [(f"{k + 1:02d}", dept[:6]) for k in range(used)]
                where = (INSPECTIONS, dept[:6], Y)
            theme = QUOTA_THEMES[abbr]
            for n, (k, county) in enumerate(spread):
                visits[county].append(self._visit(county, dept, f"{abbr}-Q{y}-{k}", f"{y}年{theme}专项检查（第{int(k)}批）",
                                                  self._target(county), date(y, 3 + n, 10 + n)))
            if dept == f"{NINGYUAN}-ECOENV":
                visits[dept[:6]].append(self._visit(dept[:6], dept, f"ECOENV-Q{y}-09", f"{y}年{theme}专项检查（第9批）",
                                                    self._target(dept[:6]), date(y, 8, 12), fate="cancelled"))
            effective = quota if quota is not None else RULE_DEFAULTS["default_dept_quota"]
            if used > effective:
                fires, misses = [("DEPT_QUOTA_EXCEEDED", Y, dept, "")], [("DEPT_QUOTA_WARNING", Y, dept, "")]
            elif used >= math.ceil(RULE_DEFAULTS["quota_warning_ratio"] * effective):
                fires, misses = [("DEPT_QUOTA_WARNING", Y, dept, "")], [("DEPT_QUOTA_EXCEEDED", Y, dept, "")]
            else:
                fires, misses = [], [("DEPT_QUOTA_WARNING", Y, dept, ""), ("DEPT_QUOTA_EXCEEDED", Y, dept, "")]
            rule = "DEPT_QUOTA_EXCEEDED" if any(f[0] == "DEPT_QUOTA_EXCEEDED" for f in fires) else "DEPT_QUOTA_WARNING"
            self._case(f"QUOTA-{dept}", rule, f"{dept}, quota {quota if quota is not None else 'default 2'}: {why}",
                       where, fires, misses)

    def _joint_visits(self, visits: dict[str, list[Visit]]) -> None:
        """Planned visits late in the year that `jianfu joint` (SPEC 13) merges, in 黄梅县.

        With joint_shift_days 15: two departments 20 days apart meet inside both windows, the lead
        (more planned rows) moving its date in; a county and a city department exactly 30 days apart
        meet on one day, 16 December; 31 days apart stay two visits. Planted last, so that the targets
        of every other case stay where they were.
        """
        y = self.year
        Y = str(y)
        c = HUANGMEI
        j1, j2, j3 = self._target(c), self._target(c), self._target(c)
        agri, emerg, edu, city_health = (f"{c}-AGRI", f"{c}-EMERG", f"{c}-EDU", f"{c[:4]}00-HEALTH")
        visits[c] += [
            self._visit(c, agri, "AGRI-J01", f"{y}年冬季农产品质量安全检查", j1, date(y, 11, 25), fate="planned"),
            self._visit(c, emerg, "EMERG-J01", f"{y}年冬季安全生产检查", j1, date(y, 12, 15), fate="planned"),
            self._visit(c, edu, "EDU-J02", f"{y}年学校冬季消防检查", j2, date(y, 12, 1), fate="planned"),
            self._visit(c, city_health, "HEALTH-J02", f"{y}年基层医疗机构年度考核", j2, date(y, 12, 31),
                        fate="planned", category="assessment"),
            self._visit(c, emerg, "EMERG-J03", f"{y}年冬季燃气安全检查", j3, date(y, 11, 24), fate="planned"),
            self._visit(c, edu, "EDU-J03", f"{y}年寒假前校园安全检查", j3, date(y, 12, 25), fate="planned"),
        ]

        def pair(t: str, a: tuple[str, str], b: tuple[str, str]) -> str:
            x, z = sorted(f"{dd}:{i}" for dd, i in (a, b))
            return f"{t}|{x}|{z}"

        self._case("JOINT-planned", "INSPECTION_UNCOORDINATED",
                   "planned visits of two departments 20 and 30 days apart: fires (and `jianfu joint` merges "
                   "them); 31 days apart: no flag, no merge", (INSPECTIONS, c, Y),
                   [("INSPECTION_UNCOORDINATED", Y, pair(j1, (agri, "AGRI-J01"), (emerg, "EMERG-J01")), c),
                    ("INSPECTION_UNCOORDINATED", Y, pair(j2, (edu, "EDU-J02"), (city_health, "HEALTH-J02")), c)],
                   [("INSPECTION_UNCOORDINATED", Y, pair(j3, (emerg, "EMERG-J03"), (edu, "EDU-J03")), c)])
