"""The canonical shape of the three submission kinds (SPEC.md section 4).

Everything that needs to know a column — the reader mapping Chinese headers, the GX suites, the
warehouse writer, the sample generator — takes it from here, so a column is defined once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import pyarrow as pa

# Value types a column can have. The reader parses raw cells into these.
COUNTY_CODE = "county_code"
UNIT_CODE = "unit_code"
DEPT_CODE = "dept_code"
PERIOD = "period"
YEAR = "year"
TEXT = "text"
ENUM = "enum"
INT = "int"
NUMBER = "number"
DATE = "date"
BOOL = "bool"

COUNTY_CODE_RE = r"^[0-9]{6}$"
#: A county code standing alone in a file name (`421127_2026-10.csv`): not part of a longer number.
COUNTY_IN_NAME = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def county_in_name(name: str, county_codes: frozenset[str] | set[str]) -> str | None:
    """The county a file name announces (a 6-digit token that is a reference county), if any."""
    return next((c for c in COUNTY_IN_NAME.findall(name) if c in county_codes), None)
UNIT_CODE_RE = r"^[0-9]{12}$"
DEPT_CODE_RE = r"^[0-9]{6}-[A-Z][A-Z0-9_]{1,15}$"

FREQUENCY = {
    "daily": "每日",
    "weekly": "每周",
    "monthly": "每月",
    "quarterly": "每季度",
    "semiannual": "每半年",
    "annual": "每年",
    "once": "一次性",
    "adhoc": "不定期",
}
CHANNEL = {
    "system": "业务系统",
    "spreadsheet": "电子表格",
    "paper": "纸质",
    "app": "APP",
    "chat": "工作群",
}
PLATFORM = {
    "wechat": "微信",
    "dingtalk": "钉钉",
    "wecom": "企业微信",
    "govchat": "政务微信",
    "other": "其他",
}
PURPOSE = {"permanent": "长期", "temporary": "临时"}
CATEGORY = {"supervision": "督查", "inspection": "检查", "assessment": "考核"}
STATUS = {"planned": "计划", "done": "已完成", "cancelled": "已取消"}

#: Accepted spellings of booleans, after NFKC and case folding.
TRUE_WORDS = frozenset({"yes", "是", "true", "1", "y"})
FALSE_WORDS = frozenset({"no", "否", "false", "0", "n"})

#: Separators of item lists (data_items, joint_depts).
LIST_SEPARATORS = ";；、,，|"


@dataclass(frozen=True)
class Column:
    """One column of a submission kind, as SPEC.md section 4 describes it."""

    name: str
    zh: str
    type: str
    required: bool
    enum: Mapping[str, str] | None = None  # canonical English -> Chinese
    max_len: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    aliases: tuple[str, ...] = ()  # further accepted header spellings

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[self.type]


ARROW_TYPES: dict[str, pa.DataType] = {
    COUNTY_CODE: pa.string(),
    UNIT_CODE: pa.string(),
    DEPT_CODE: pa.string(),
    PERIOD: pa.string(),  # 'YYYY-MM'
    YEAR: pa.int32(),
    TEXT: pa.string(),
    ENUM: pa.string(),  # canonical English value
    INT: pa.int32(),
    NUMBER: pa.float64(),
    DATE: pa.date32(),
    BOOL: pa.bool_(),
}


@dataclass(frozen=True)
class Kind:
    """A submission kind: its columns, key, and the column that names its period."""

    name: str
    zh: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    period_column: str  # 'period' (monthly kinds) or 'year' (inspections)
    unit_levels: tuple[str, ...]  # levels a unit column may reference
    unit_column: str

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def optional(self) -> list[str]:
        return [c.name for c in self.columns if not c.required]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def arrow_schema(self) -> pa.Schema:
        """Schema of a normalised (staged) file of this kind."""
        return pa.schema([pa.field(c.name, c.arrow_type, nullable=not c.required) for c in self.columns])


_county = Column("county_code", "县级代码", COUNTY_CODE, True)
_period = Column("period", "统计期", PERIOD, True)

FORM_COUNTS = Kind(
    name="form_counts",
    zh="报表填报统计",
    columns=(
        _county,
        _period,
        Column("unit_code", "填报单位代码", UNIT_CODE, True),
        Column("form_id", "报表编号", TEXT, True, max_len=64),
        Column("form_name", "报表名称", TEXT, True, max_len=200),
        Column("dept_code", "下发部门代码", DEPT_CODE, True),
        Column("frequency", "填报频次", ENUM, True, enum=FREQUENCY),
        Column("fill_count", "填报次数", INT, True, min_value=0, max_value=1000),
        Column("field_count", "指标项数", INT, True, min_value=1, max_value=5000),
        Column("hours_spent", "耗时(小时)", NUMBER, False, min_value=0, max_value=10000, aliases=("耗时",)),
        Column("channel", "报送渠道", ENUM, False, enum=CHANNEL),
        Column("data_items", "指标清单", TEXT, False),
    ),
    key=("unit_code", "dept_code", "form_id"),
    period_column="period",
    unit_levels=("township", "village"),
    unit_column="unit_code",
)

WORK_GROUPS = Kind(
    name="work_groups",
    zh="政务工作群",
    columns=(
        _county,
        _period,
        Column("unit_code", "所在单位代码", UNIT_CODE, True),
        Column("group_id", "群编号", TEXT, True, max_len=64),
        Column("group_name", "群名称", TEXT, True, max_len=200),
        Column("platform", "平台", ENUM, True, enum=PLATFORM),
        Column("owner_dept_code", "建群部门代码", DEPT_CODE, True),
        Column("purpose", "群性质", ENUM, True, enum=PURPOSE),
        Column("created_date", "建群日期", DATE, True),
        Column("last_active_date", "最近活跃日期", DATE, True),
        Column("member_count", "成员数", INT, True, min_value=1, max_value=5000),
        Column("messages_30d", "近30天消息数", INT, False, min_value=0),
        Column("task_end_date", "任务结束日期", DATE, False),
    ),
    key=("unit_code", "group_id"),
    period_column="period",
    unit_levels=("county", "township", "village"),
    unit_column="unit_code",
)

INSPECTIONS = Kind(
    name="inspections",
    zh="督查检查考核计划及执行",
    columns=(
        _county,
        Column("year", "年度", YEAR, True),
        Column("item_id", "事项编号", TEXT, True, max_len=64),
        Column("dept_code", "牵头部门代码", DEPT_CODE, True),
        Column("category", "类别", ENUM, True, enum=CATEGORY),
        Column("topic", "事项名称", TEXT, True, max_len=200),
        Column("target_unit_code", "对象单位代码", UNIT_CODE, True),
        Column("planned_date", "计划日期", DATE, True),
        Column("actual_date", "实际日期", DATE, False),
        Column("status", "状态", ENUM, True, enum=STATUS),
        Column("in_plan", "是否列入年度计划", BOOL, True),
        Column("joint_depts", "联合部门", TEXT, False),
        Column("approval_ref", "报批文号", TEXT, False),
    ),
    key=("dept_code", "item_id", "target_unit_code"),
    period_column="year",
    unit_levels=("county", "township", "village"),
    unit_column="target_unit_code",
)

KINDS: dict[str, Kind] = {k.name: k for k in (FORM_COUNTS, WORK_GROUPS, INSPECTIONS)}


def kind(name: str) -> Kind:
    """The kind called `name`; a clear error for anything else."""
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown kind {name!r}: expected one of {', '.join(KINDS)}") from None


def split_list(text: str | None) -> list[str]:
    """Split a data_items / joint_depts cell on any of the accepted separators, dropping blanks."""
    if not text:
        return []
    out = [text]
    for sep in LIST_SEPARATORS:
        out = [piece for part in out for piece in part.split(sep)]
    return [p.strip() for p in out if p.strip()]


# --------------------------------------------------------------------------- the warehouse (SPEC 7)
# Every table's columns are written here once; the builder, the views, the query command, the
# flag SQL's test relations and the docs take them from here.

#: Rank of a form's frequency for "made less frequent" (SPEC 14): higher is more often. adhoc has
#: no rank, so a change to or from adhoc is never counted.
FREQUENCY_RANK: dict[str, int] = {
    "daily": 7, "weekly": 6, "monthly": 5, "quarterly": 4, "semiannual": 3, "annual": 2, "once": 1,
}


def warehouse_schema(kind_name: str) -> pa.Schema:
    """Columns of a submission table in the warehouse: the kind's own, plus what SPEC 7 adds."""
    schema = KINDS[kind_name].arrow_schema.append(pa.field("submission_id", pa.string()))
    if kind_name == "inspections":
        schema = schema.append(pa.field("eff_date", pa.date32()))
    return schema


UNITS_SCHEMA = pa.schema([
    ("unit_code", pa.string()), ("unit_name", pa.string()), ("level", pa.string()),
    ("parent_code", pa.string()), ("county_code", pa.string()), ("township_code", pa.string()),
])
DEPARTMENTS_SCHEMA = pa.schema([("dept_code", pa.string()), ("dept_name", pa.string()), ("gov_code", pa.string())])
#: quotas.csv as the flag SQL reads it (not a warehouse table).
QUOTAS_SCHEMA = pa.schema([("dept_code", pa.string()), ("year", pa.int32()), ("max_inspection_items", pa.int32())])
SUBMISSIONS_SCHEMA = pa.schema([
    ("submission_id", pa.string()), ("kind", pa.string()), ("county_code", pa.string()),
    ("period", pa.string()), ("file_name", pa.string()), ("sha256", pa.string()),
    ("received_at", pa.timestamp("us", tz="UTC")), ("status", pa.string()), ("version", pa.int32()),
    ("row_count", pa.int32()), ("error_count", pa.int32()), ("warning_count", pa.int32()),
])
FLAGS_SCHEMA = pa.schema([
    pa.field("flag_id", pa.string(), nullable=False),
    pa.field("rule", pa.string(), nullable=False),
    pa.field("severity", pa.string(), nullable=False),
    pa.field("county_code", pa.string()),  # NULL for department quota flags
    pa.field("period", pa.string(), nullable=False),  # YYYY-MM, YYYY-Qn or YYYY
    pa.field("unit_code", pa.string()),
    pa.field("dept_code", pa.string()),
    pa.field("subject", pa.string(), nullable=False),
    pa.field("metric", pa.float64()),
    pa.field("threshold", pa.float64()),
    pa.field("detail", pa.string()),
])
BURDEN_SCHEMA = pa.schema([
    pa.field("unit_code", pa.string(), nullable=False),
    pa.field("county_code", pa.string(), nullable=False),
    pa.field("period", pa.string(), nullable=False),
    pa.field("forms_filled", pa.int64(), nullable=False),
    pa.field("fills", pa.int64(), nullable=False),
    pa.field("field_entries", pa.int64(), nullable=False),
    pa.field("hours", pa.float64(), nullable=False),
    pa.field("groups", pa.int64(), nullable=False),
    pa.field("zombie_groups", pa.int64(), nullable=False),
    pa.field("inspections", pa.int64(), nullable=False),
])
QUOTA_USAGE_SCHEMA = pa.schema([
    pa.field("dept_code", pa.string(), nullable=False),
    pa.field("year", pa.int32(), nullable=False),
    pa.field("quota", pa.int64(), nullable=False),
    pa.field("used", pa.int64(), nullable=False),
    pa.field("ratio", pa.float64()),  # NULL when the quota is 0
    pa.field("status", pa.string(), nullable=False),  # ok | warning | exceeded
])
#: SPEC 14. A column is NULL when a kind it needs is not in force for a month it compares.
REDUCTION_SCHEMA = pa.schema([
    pa.field("county_code", pa.string(), nullable=False),
    pa.field("period", pa.string(), nullable=False),
    *(pa.field(name, pa.int64()) for name in (
        "forms", "forms_prev", "forms_cancelled", "forms_added", "forms_less_frequent",
        "fills", "fills_prev", "fills_yoy", "field_entries")),
    pa.field("hours", pa.float64()),
    *(pa.field(name, pa.int64()) for name in (
        "groups", "groups_prev", "groups_dissolved", "groups_created", "zombie_groups", "visits")),
])
#: SPEC 15, and each form's normalised items of its latest period (what its overlap group was
#: found from): a later build links the forms it recomputes to these without recomputing the rest.
FORM_CATALOG_SCHEMA = pa.schema([
    pa.field("dept_code", pa.string(), nullable=False),
    pa.field("form_id", pa.string(), nullable=False),
    pa.field("form_name", pa.string()),
    pa.field("frequency", pa.string()),
    pa.field("field_count", pa.int64()),
    pa.field("counties", pa.int64(), nullable=False),
    pa.field("units_latest", pa.int64(), nullable=False),
    pa.field("responses_12m", pa.int64(), nullable=False),
    pa.field("hours_12m", pa.float64()),
    pa.field("hours_per_response", pa.float64()),
    pa.field("first_period", pa.string(), nullable=False),
    pa.field("last_period", pa.string(), nullable=False),
    pa.field("active", pa.bool_(), nullable=False),
    pa.field("overlap_group", pa.string()),
    pa.field("items", pa.list_(pa.string())),
])

#: What the form catalog is computed from (flags/sql/form_usage.sql): one row per county, month,
#: form and form name, so a county's resubmission recomputes its own rows and the catalog reads
#: these instead of every form_counts row.
FORM_USAGE_SCHEMA = pa.schema([
    pa.field("county_code", pa.string(), nullable=False),
    pa.field("period", pa.string(), nullable=False),
    pa.field("dept_code", pa.string(), nullable=False),
    pa.field("form_id", pa.string(), nullable=False),
    pa.field("form_name", pa.string(), nullable=False),
    pa.field("rows", pa.int64(), nullable=False),
    pa.field("units_filled", pa.int64(), nullable=False),
    pa.field("fills", pa.int64(), nullable=False),
    pa.field("hours", pa.decimal128(38, 6)),  # exact, so sums of sums do not depend on order
    pa.field("frequency", pa.string()),
    pa.field("field_count", pa.int64()),
    pa.field("items", pa.list_(pa.string())),
])

#: SPEC 7: the quota alerts sent (written by jianfu.alerts, not by the build).
ALERTS_SCHEMA = pa.schema([
    pa.field("alert_key", pa.string()),
    pa.field("rule", pa.string()),
    pa.field("dept_code", pa.string()),
    pa.field("year", pa.int32()),
    pa.field("used", pa.int32()),
    pa.field("quota", pa.int32()),
    pa.field("notified_at", pa.timestamp("us", tz="UTC")),
    pa.field("channels", pa.string()),
    pa.field("delivered", pa.bool_()),
])
#: SPEC 7 and 10: the collection status board (written by jianfu.collection, not by the build).
COLLECTION_STATUS_SCHEMA = pa.schema([
    pa.field("county_code", pa.string()),
    pa.field("kind", pa.string()),
    pa.field("period", pa.string()),
    pa.field("due_date", pa.date32()),
    pa.field("status", pa.string()),
    pa.field("submission_id", pa.string()),
    pa.field("received_at", pa.timestamp("us", tz="UTC")),
])

#: The unpartitioned tables jianfu builds, by name (views of an empty warehouse take these).
BUILT_TABLE_SCHEMAS: dict[str, pa.Schema] = {
    "units": UNITS_SCHEMA, "departments": DEPARTMENTS_SCHEMA, "submissions": SUBMISSIONS_SCHEMA,
    "flags": FLAGS_SCHEMA, "burden": BURDEN_SCHEMA, "quota_usage": QUOTA_USAGE_SCHEMA,
    "reduction": REDUCTION_SCHEMA, "form_catalog": FORM_CATALOG_SCHEMA, "form_usage": FORM_USAGE_SCHEMA,
}


# --------------------------------------------------------------------------- flag rules (SPEC 8)
@dataclass(frozen=True)
class FlagRule:
    """One rule of SPEC 8: its name, severity, the SQL file that finds it, the submission table it
    reads (a build recomputes a county's rule only when that table changed), and its reach."""

    name: str
    severity: str  # critical | warning | info
    sql: str  # stem of include/jianfu/flags/sql/<sql>.sql
    reads: str  # form_counts | work_groups | inspections
    per_county: bool = True  # False: across every county (the department quota rules)
    notifies: bool = False  # raises an alert through the channels (SPEC 9)


FLAG_RULES: dict[str, FlagRule] = {r.name: r for r in (
    FlagRule("FORM_OVER_FREQUENCY", "warning", "form_over_frequency", "form_counts"),
    FlagRule("FORM_DUPLICATE_ACROSS_DEPTS", "warning", "form_duplicate_across_depts", "form_counts"),
    FlagRule("UNIT_REPORTING_OVERLOAD", "warning", "unit_reporting_overload", "form_counts"),
    FlagRule("GROUP_ZOMBIE", "warning", "group_zombie", "work_groups"),
    FlagRule("GROUP_TEMPORARY_OVERDUE", "warning", "group_temporary_overdue", "work_groups"),
    FlagRule("GROUP_DUPLICATE", "warning", "group_duplicate", "work_groups"),
    FlagRule("UNIT_GROUP_OVERLOAD", "info", "unit_group_overload", "work_groups"),
    FlagRule("INSPECTION_TARGET_OVERFREQUENT", "warning", "inspection_target_overfrequent", "inspections"),
    FlagRule("INSPECTION_UNCOORDINATED", "info", "inspection_uncoordinated", "inspections"),
    FlagRule("INSPECTION_UNPLANNED", "warning", "inspection_unplanned", "inspections"),
    FlagRule("INSPECTION_REPEATED_TOPIC", "warning", "inspection_repeated_topic", "inspections"),
    FlagRule("DEPT_QUOTA_WARNING", "warning", "dept_quota_warning", "inspections", per_county=False, notifies=True),
    FlagRule("DEPT_QUOTA_EXCEEDED", "critical", "dept_quota_exceeded", "inspections", per_county=False, notifies=True),
)}
