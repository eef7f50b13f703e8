"""Burden (SPEC.md sections 7, 14 and 16): township ranking, month-by-month trends, and one unit's
forms, groups and visits.

A township's burden in a month is its own burden row plus its villages' (units.township_code).
The trend is the month's total of the chosen measure per county (or of one county's townships).
`?unit=` opens a unit: the forms it filled, the work groups it is in and the visits it received.
"""

from __future__ import annotations

from typing import Any

from ... import charts
from .. import queries
from ..store import Store
from ..tables import Column, Table
from . import Page, Request, Result
from .overview import MEASURES, townships

MEASURE_LABELS = {
    "fills": ("填报次数", "fills"), "forms_filled": ("报表数", "forms filled"),
    "field_entries": ("填报字段数", "field entries"), "hours": ("耗时(小时)", "hours"),
    "groups": ("工作群", "work groups"), "zombie_groups": ("僵尸群", "zombie groups"),
    "inspections": ("督检考次数", "inspections"),
}
TREND_SQL = """
SELECT b.period, b.county_code, c.unit_name AS county_name, sum(b.{measure}) AS value
FROM burden AS b LEFT JOIN units AS c ON c.unit_code = b.county_code || '000000'
WHERE b.period LIKE '____-__' AND (? = '' OR b.county_code = ?)
  AND ({monthly_only} = FALSE OR list_contains(?, b.period))
GROUP BY ALL ORDER BY b.period, b.county_code
"""
FORMS_SQL = f"""
SELECT f.period, f.form_id, f.form_name, {queries.dept_label('d', 'f.dept_code')} AS dept, f.frequency,
       f.fill_count, f.field_count, f.hours_spent, f.channel
FROM form_counts AS f LEFT JOIN departments AS d USING (dept_code)
WHERE f.unit_code = ? ORDER BY f.period DESC, f.form_id
"""
GROUPS_SQL = f"""
SELECT g.period, g.group_id, g.group_name, g.platform, {queries.dept_label('d', 'g.owner_dept_code')} AS owner,
       g.purpose, g.created_date, g.last_active_date, g.member_count
FROM work_groups AS g LEFT JOIN departments AS d ON d.dept_code = g.owner_dept_code
WHERE g.unit_code = ? ORDER BY g.period DESC, g.group_id
"""
VISITS_SQL = f"""
SELECT i.year, i.item_id, {queries.dept_label('d', 'i.dept_code')} AS dept, i.category, i.topic, i.status,
       i.eff_date, i.in_plan, i.joint_depts
FROM inspections AS i LEFT JOIN departments AS d USING (dept_code)
WHERE i.target_unit_code = ? ORDER BY i.eff_date DESC, i.item_id
"""


def trend(store: Store, measure: str, county: str = "", months: list[str] | None = None) -> list[dict[str, Any]]:
    measure = measure if measure in MEASURES else "fills"
    # Months with no monthly submission would draw as zeros: only inspections have figures there.
    monthly_only = "FALSE" if measure == "inspections" else "TRUE"
    return store.rows(TREND_SQL.format(measure=measure, monthly_only=monthly_only),
                      [county, county, queries.periods(store) if months is None else months])


def unit_detail(store: Store, unit_code: str) -> dict[str, list[dict[str, Any]]]:
    return {"forms": store.rows(FORMS_SQL, [unit_code]), "groups": store.rows(GROUPS_SQL, [unit_code]),
            "visits": store.rows(VISITS_SQL, [unit_code])}


def render(req: Request) -> Result:
    store = req.store
    known = queries.periods(store)
    period = queries.chosen_period(store, req.param("period"), known)
    measure = req.param("measure") if req.param("measure") in MEASURES else "fills"
    county = req.param("county")
    if period is None:
        return Result(context={"period": None})
    label = MEASURE_LABELS[measure][1 if req.lang == "en" else 0]
    ranked = [r for r in townships(store, period, measure) if not county or r["unit_code"].startswith(county)]
    ranked = [{**r, "rank": n, "link": f"burden?period={period}&measure={measure}&unit={r['unit_code']}"}
              for n, r in enumerate(ranked, start=1)]
    months = trend(store, measure, county, known)
    tables = [
        Table("ranking", {"zh": f"{period} 乡镇负担排名(按{label})", "en": f"Townships {period} by {label}"},
              [Column("rank", "名次", "rank"), Column("unit", "乡镇", "township"), Column("county_name", "县", "county"),
               *[Column(m, *MEASURE_LABELS[m]) for m in MEASURES]], ranked, links={"unit": "link"}),
        Table("trend", {"zh": "逐月趋势", "en": "Month by month"},
              [Column("period", "统计期", "period"), Column("county_name", "县", "county"),
               Column("county_code", "县代码", "county code"), Column("value", label, label)], months),
    ]
    unit = req.param("unit")
    unit_name = None
    if unit:
        found = store.rows("SELECT unit_name FROM units WHERE unit_code = ?", [unit])
        unit_name = f"{found[0]['unit_name']} ({unit})" if found else unit
        detail = unit_detail(store, unit)
        tables += [
            Table("forms", {"zh": "填报的报表", "en": "Forms filled"},
                  [Column("period", "统计期", "period"), Column("form_id", "报表编号", "form"),
                   Column("form_name", "报表名称", "name"), Column("dept", "下发部门", "department"),
                   Column("frequency", "频次", "frequency"), Column("fill_count", "填报次数", "fills"),
                   Column("field_count", "字段数", "fields"), Column("hours_spent", "耗时", "hours")], detail["forms"]),
            Table("groups", {"zh": "所在工作群", "en": "Work groups"},
                  [Column("period", "统计期", "period"), Column("group_id", "群编号", "group"),
                   Column("group_name", "群名称", "name"), Column("platform", "平台", "platform"),
                   Column("owner", "建群部门", "owner"), Column("purpose", "用途", "purpose"),
                   Column("last_active_date", "最近活跃", "last active"), Column("member_count", "人数", "members")],
                  detail["groups"]),
            Table("visits", {"zh": "接受的督检考", "en": "Visits received"},
                  [Column("year", "年度", "year"), Column("item_id", "事项", "item"), Column("dept", "部门", "department"),
                   Column("category", "类别", "category"), Column("topic", "主题", "topic"),
                   Column("status", "状态", "status"), Column("eff_date", "日期", "date"),
                   Column("in_plan", "计划内", "in plan")], detail["visits"]),
        ]
    drawn = {}
    if ranked:
        drawn["ranking"] = charts.township_ranking(ranked, measure=measure, lang=req.lang, top=20, measure_title=label)
    if months:
        drawn["trend"] = charts.monthly_trend(
            [{"period": m["period"], "series": f"{m['county_name'] or ''} {m['county_code']}".strip(), "value": m["value"]}
             for m in months], lang=req.lang, series_title=req.t("县(市、区)", "county"), value_title=label)
    return Result(context={"period": period, "periods": known, "measure": measure,
                           "measures": [(m, MEASURE_LABELS[m][1 if req.lang == "en" else 0]) for m in MEASURES],
                           "county": county, "counties": queries.counties(store), "unit": unit, "unit_name": unit_name},
                  tables=tables, charts=drawn)


PAGE = Page(slug="burden", title={"zh": "基层负担", "en": "Burden"}, render=render, order=50)
