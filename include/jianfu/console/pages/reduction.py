"""Reduction (减负成效, SPEC.md sections 14 and 16): what the counties' burden work achieved.

The figures are the `reduction` table's: a month's row per county, and the months before as
trends (forms, fills, work groups). Which forms were cancelled or made less frequent, and which
groups were dissolved, is not in that table: it is derived here from form_usage (form_counts
summed per county, month and form) and work_groups of the chosen month and the month before, by
the same definitions (a form is filled when one of its rows has fill_count >= 1; its frequency in
a month is the highest of its rows; adhoc has no rank), so each list is as long as the table's
count.
"""

from __future__ import annotations

from typing import Any

from ... import charts
from ...schema import FREQUENCY, FREQUENCY_RANK
from .. import queries
from ..store import Store
from ..tables import Column, Table
from . import Page, Request, Result

#: A form's frequency rank as SQL (adhoc and unknown values: NULL, never counted as a change).
RANK_SQL = "CASE frequency " + " ".join(f"WHEN '{f}' THEN {r}" for f, r in FREQUENCY_RANK.items()) + " END"

MEASURES = [("forms", "报表数", "forms"), ("fills", "填报次数", "fills"), ("groups", "工作群", "work groups")]
ROW_COLUMNS = [
    ("forms", "报表数", "forms"), ("forms_prev", "上月报表数", "forms last month"),
    ("forms_cancelled", "取消填报", "cancelled"), ("forms_added", "新增报表", "added"),
    ("forms_less_frequent", "降低频次", "less frequent"), ("fills", "填报次数", "fills"),
    ("fills_prev", "上月填报次数", "fills last month"), ("fills_yoy", "去年同月填报次数", "fills a year before"),
    ("field_entries", "填报字段数", "field entries"), ("hours", "耗时(小时)", "hours"),
    ("groups", "工作群", "groups"), ("groups_prev", "上月工作群", "groups last month"),
    ("groups_dissolved", "解散工作群", "groups dissolved"), ("groups_created", "新建工作群", "groups created"),
    ("zombie_groups", "僵尸群", "zombie groups"), ("visits", "检查次数", "visits"),
]
COUNTY = Column("county", "县(市、区)", "county")

REDUCTION_SQL = f"""
SELECT r.*, {queries.unit_label('c', 'r.county_code')} AS county
FROM reduction AS r LEFT JOIN units AS c ON c.unit_code = r.county_code || '000000'
WHERE (? = '' OR r.county_code = ?)
ORDER BY r.period, r.county_code
"""

#: Forms of the month and the month before, one row per county x form x side (this / prev), from
#: form_usage: a row per county, month, form and name summing its form_counts rows (units_filled
#: counts those with fill_count >= 1; frequency is the highest), a national month's 124,000 rows
#: where form_counts holds 8 million.
_FORMS = f"""
WITH forms AS (
    SELECT county_code, period, dept_code, form_id, max({RANK_SQL}) AS rank,
           arg_max(frequency, coalesce({RANK_SQL}, 0)) AS frequency, min(form_name) AS form_name
    FROM form_usage
    WHERE period IN ($period, $prev) AND ($county = '' OR county_code = $county)
    GROUP BY ALL HAVING sum(units_filled) >= 1
), present AS (  -- counties with form_counts in force in both months: the others compare nothing
    SELECT county_code FROM form_usage
    WHERE period IN ($period, $prev) AND ($county = '' OR county_code = $county)
    GROUP BY county_code HAVING count(DISTINCT period) = 2
), now AS (SELECT * FROM forms WHERE period = $period), prev AS (SELECT * FROM forms WHERE period = $prev)
"""
CANCELLED_SQL = _FORMS + f"""
SELECT p.county_code, {queries.unit_label('c', 'p.county_code')} AS county, p.dept_code,
       {queries.dept_label('d', 'p.dept_code')} AS dept, p.form_id, p.form_name, p.frequency AS frequency_prev
FROM prev AS p JOIN present USING (county_code)
LEFT JOIN now AS n USING (county_code, dept_code, form_id)
LEFT JOIN units AS c ON c.unit_code = p.county_code || '000000'
LEFT JOIN departments AS d ON d.dept_code = p.dept_code
WHERE n.form_id IS NULL
ORDER BY p.county_code, p.dept_code, p.form_id
"""
LESS_FREQUENT_SQL = _FORMS + f"""
SELECT n.county_code, {queries.unit_label('c', 'n.county_code')} AS county, n.dept_code,
       {queries.dept_label('d', 'n.dept_code')} AS dept, n.form_id, n.form_name,
       p.frequency AS frequency_prev, n.frequency
FROM now AS n JOIN prev AS p USING (county_code, dept_code, form_id)
LEFT JOIN units AS c ON c.unit_code = n.county_code || '000000'
LEFT JOIN departments AS d ON d.dept_code = n.dept_code
WHERE n.rank < p.rank
ORDER BY n.county_code, n.dept_code, n.form_id
"""
DISSOLVED_SQL = f"""
WITH g AS (
    SELECT county_code, period, unit_code, group_id, min(group_name) AS group_name,
           min(owner_dept_code) AS owner_dept_code, max(last_active_date) AS last_active_date
    FROM work_groups
    WHERE period IN ($period, $prev) AND ($county = '' OR county_code = $county)
    GROUP BY ALL
), present AS (
    SELECT county_code FROM g GROUP BY county_code HAVING count(DISTINCT period) = 2
), now AS (SELECT * FROM g WHERE period = $period), prev AS (SELECT * FROM g WHERE period = $prev)
SELECT p.county_code, {queries.unit_label('c', 'p.county_code')} AS county,
       {queries.unit_label('u', 'p.unit_code')} AS unit, p.group_id, p.group_name,
       {queries.dept_label('d', 'p.owner_dept_code')} AS owner, p.last_active_date
FROM prev AS p JOIN present USING (county_code)
LEFT JOIN now AS n USING (county_code, unit_code, group_id)
LEFT JOIN units AS c ON c.unit_code = p.county_code || '000000'
LEFT JOIN units AS u ON u.unit_code = p.unit_code
LEFT JOIN departments AS d ON d.dept_code = p.owner_dept_code
WHERE n.group_id IS NULL
ORDER BY p.county_code, p.unit_code, p.group_id
"""


def month_before(period: str) -> str:
    year, month = int(period[:4]), int(period[5:])
    return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"


def reduction_rows(store: Store, county: str = "") -> list[dict[str, Any]]:
    """Every month's reduction row (of one county, or all), oldest first."""
    return store.rows(REDUCTION_SQL, [county, county])


def changes(store: Store, period: str, county: str = "", limit: int | None = None) -> dict[str, list[dict[str, Any]]]:
    """The month's cancelled and less frequent forms and dissolved groups, per county: the first
    `limit` of each list, or all (the reduction table counts them)."""
    params = {"period": period, "prev": month_before(period), "county": county}
    cut = "" if limit is None else f"\nLIMIT {int(limit)}"
    with store.connection() as con:  # named parameters: the store's cache keys positional ones only
        out = {}
        for name, sql in (("cancelled", CANCELLED_SQL), ("less_frequent", LESS_FREQUENT_SQL),
                          ("dissolved", DISSOLVED_SQL)):
            cursor = con.execute(sql + cut, params)
            names = [d[0] for d in cursor.description]
            out[name] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return out


def _frequency(value: str | None, lang: str) -> str | None:
    return value if lang == "en" or value is None else f"{FREQUENCY.get(value, value)} {value}"


def render(req: Request) -> Result:
    store = req.store
    county = req.param("county")
    rows = reduction_rows(store, county)
    periods = sorted({r["period"] for r in rows}, reverse=True)
    period = req.param("period") if req.param("period") in periods else (periods[0] if periods else None)
    if period is None:
        return Result(context={"period": None, "county": county, "counties": queries.counties(store)})
    month = [r for r in rows if r["period"] == period]
    totals = {k: sum(r[k] or 0 for r in month) for k in ("forms_cancelled", "forms_less_frequent", "forms_added",
                                                         "groups_dissolved", "groups_created")}
    found = changes(store, period, county, req.limit)
    for name in ("cancelled", "less_frequent"):
        for r in found[name]:
            r["frequency_prev"] = _frequency(r["frequency_prev"], req.lang)
            if "frequency" in r:
                r["frequency"] = _frequency(r["frequency"], req.lang)
    row_columns = [COUNTY, *(Column(k, zh, en) for k, zh, en in ROW_COLUMNS)]
    form_columns = [COUNTY, Column("dept", "部门", "department"), Column("form_id", "报表编号", "form"),
                    Column("form_name", "报表名称", "name"), Column("frequency_prev", "上月频次", "frequency last month")]
    tables = [
        Table("month", {"zh": f"{period} 各县减负成效", "en": f"Reduction {period} by county"}, row_columns, month),
        Table("cancelled", {"zh": "取消填报的报表(上月填报、本月未填)", "en": "Forms cancelled (filled last month, not this)"},
              form_columns, found["cancelled"], total=totals["forms_cancelled"]),
        Table("less_frequent", {"zh": "降低频次的报表", "en": "Forms made less frequent"},
              [*form_columns, Column("frequency", "本月频次", "frequency")], found["less_frequent"],
              total=totals["forms_less_frequent"]),
        Table("dissolved", {"zh": "解散的工作群(上月有、本月无)", "en": "Work groups dissolved (last month, not this)"},
              [COUNTY, Column("unit", "单位", "unit"), Column("group_id", "群编号", "group"),
               Column("group_name", "群名称", "name"), Column("owner", "建群部门", "owner"),
               Column("last_active_date", "最近活跃", "last active")], found["dissolved"],
              total=totals["groups_dissolved"]),
        Table("trend", {"zh": "逐月", "en": "Month by month"}, [Column("period", "统计期", "period"), *row_columns], rows),
    ]
    trend = [{"period": r["period"], "county_code": r["county_code"], "county": r["county"],
              "measure": zh if req.lang == "zh" else en, "value": r[k]}
             for r in rows for k, zh, en in MEASURES if r[k] is not None]
    drawn = {"trend": charts.reduction_trend(trend, lang=req.lang)} if trend else {}
    return Result(context={"period": period, "periods": periods, "county": county,
                           "counties": queries.counties(store), "totals": totals},
                  tables=tables, charts=drawn)


PAGE = Page(slug="reduction", title={"zh": "减负成效", "en": "Reduction"}, render=render, order=55)
