"""Overview of the latest month (SPEC.md section 16): submissions by status, flags by rule,
departments over or near quota, the most burdened townships.

"The month" is the latest month the warehouse holds (or `?period=`). Flags of the month are those
of its period, its quarter and its year (inspection rules are counted by quarter and year), and
quota figures those of its year. A township's burden is its own row plus its villages'.
"""

from __future__ import annotations

from ... import charts
from .. import queries
from ..store import Store
from ..tables import Column, Table
from . import Page, Request, Result

SUBMISSIONS_SQL = """
SELECT status, count(*) AS files FROM submissions WHERE period = ? GROUP BY status ORDER BY status
"""
FLAGS_SQL = """
SELECT rule, count(*) AS count FROM flags WHERE period IN (?, ?, ?) GROUP BY rule ORDER BY count DESC, rule
"""
QUOTA_SQL = f"""
SELECT q.dept_code, d.dept_name, {queries.dept_label('d', 'q.dept_code')} AS dept, q.quota, q.used, q.ratio, q.status
FROM quota_usage AS q LEFT JOIN departments AS d USING (dept_code)
WHERE q.year = ? AND q.status IN ('warning', 'exceeded')
ORDER BY q.status = 'exceeded' DESC, q.ratio DESC NULLS FIRST, q.dept_code
"""
#: Township burden of a month: each township's own row plus its villages'. A unit's township is
#: the first 9 digits of its code + 000 (SPEC.md section 2; units.township_code says the same), so
#: the month's rows are summed first and only the townships are joined for their names.
TOWNSHIPS_SQL = f"""
WITH t AS (
    SELECT substr(unit_code, 1, 9) || '000' AS unit_code,
           sum(forms_filled) AS forms_filled, sum(fills) AS fills, sum(field_entries) AS field_entries,
           sum(hours) AS hours, sum(groups) AS groups, sum(zombie_groups) AS zombie_groups,
           sum(inspections) AS inspections
    FROM burden
    WHERE period = ? AND NOT unit_code LIKE '%000000'
    GROUP BY 1
)
SELECT t.*, u.unit_name, {queries.unit_label('u', 't.unit_code')} AS unit, c.unit_name AS county_name
FROM t
JOIN units AS u ON u.unit_code = t.unit_code
LEFT JOIN units AS c ON c.unit_code = substr(t.unit_code, 1, 6) || '000000'
ORDER BY {{measure}} DESC, t.unit_code
"""
MEASURES = ("fills", "forms_filled", "field_entries", "hours", "groups", "zombie_groups", "inspections")


def quarter(period: str) -> str:
    return f"{period[:4]}-Q{(int(period[5:7]) - 1) // 3 + 1}"


def townships(store: Store, period: str, measure: str = "fills") -> list[dict]:
    measure = measure if measure in MEASURES else "fills"
    return store.rows(TOWNSHIPS_SQL.format(measure=measure), [period])


def figures(store: Store, period: str) -> dict[str, list[dict]]:
    """The overview's four lists for one month."""
    return {
        "submissions": store.rows(SUBMISSIONS_SQL, [period]),
        "flags": store.rows(FLAGS_SQL, [period, quarter(period), period[:4]]),
        "quota": store.rows(QUOTA_SQL, [int(period[:4])]),
        "townships": townships(store, period)[:10],
    }


def render(req: Request) -> Result:
    known = queries.periods(req.store)
    period = queries.chosen_period(req.store, req.param("period"), known)
    if period is None:
        return Result(context={"period": None, "periods": [], "counts": {}})
    data = figures(req.store, period)
    counts = {r["status"]: r["files"] for r in data["submissions"]}
    tables = [
        Table("submissions", {"zh": "本月收到的文件", "en": "Files received for the month"},
              [Column("status", "状态", "status"), Column("files", "文件数", "files")], data["submissions"]),
        Table("flags", {"zh": "本月、本季度、本年预警", "en": "Flags of the month, quarter and year"},
              [Column("rule_label", "规则", "rule"), Column("count", "预警数", "flags")],
              [{**r, "rule_label": charts.rule_label(r["rule"], req.lang)} for r in data["flags"]]),
        Table("quota", {"zh": "超出或接近督检考上限的部门", "en": "Departments over or near their quota"},
              [Column("dept", "部门", "department"), Column("used", "已用", "used"), Column("quota", "上限", "quota"),
               Column("status_label", "状态", "status")],
              [{**r, "status_label": charts.QUOTA_LABELS.get(req.lang, charts.QUOTA_LABELS["zh"])[r["status"]],
                "_class_status_label": f"status-{r['status']}"} for r in data["quota"]]),
        Table("townships", {"zh": "负担最重的乡镇(填报次数)", "en": "Most burdened townships (fills)"},
              [Column("unit", "乡镇", "township"), Column("county_name", "县", "county"),
               Column("fills", "填报次数", "fills"), Column("forms_filled", "报表数", "forms"),
               Column("hours", "耗时(小时)", "hours"), Column("groups", "工作群", "groups"),
               Column("inspections", "督检考", "inspections")],
              [{**r, "link": f"burden?period={period}&unit={r['unit_code']}"} for r in data["townships"]],
              links={"unit": "link"}),
    ]
    chart_rows = [{"rule": r["rule"], "count": r["count"]} for r in data["flags"]]
    result_charts = {"flags": charts.flags_by_rule(chart_rows, lang=req.lang)} if chart_rows else {}
    if data["townships"]:
        result_charts["townships"] = charts.township_ranking(data["townships"], lang=req.lang, top=10)
    if data["quota"]:
        result_charts["quota"] = charts.quota_usage(data["quota"], lang=req.lang)
    return Result(
        context={"period": period, "periods": known, "counts": counts,
                 "flag_total": sum(r["count"] for r in data["flags"])},
        tables=tables, charts=result_charts)


PAGE = Page(slug="overview", title={"zh": "概览", "en": "Overview"}, render=render, order=10)
