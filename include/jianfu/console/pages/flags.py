"""Flags (SPEC.md sections 8 and 16), filtered by rule, county, period and department, with detail.

Filters are exact values of the flags table; an empty filter takes everything. The page lists at
most 200 rows; the XLSX export has every row of the filter.
"""

from __future__ import annotations

from typing import Any

from ... import charts
from .. import queries
from ..store import Store
from ..tables import Column, Table
from . import Page, Request, Result

FILTERS = ("rule", "county_code", "period", "dept_code")
FLAGS_SQL = f"""
SELECT f.rule, f.severity, f.county_code, c.unit_name AS county_name,
       CASE WHEN f.county_code IS NULL OR f.county_code = '' THEN NULL
            ELSE {queries.unit_label('c', 'f.county_code')} END AS county,
       f.period, f.unit_code, CASE WHEN f.unit_code IS NULL THEN NULL ELSE {queries.unit_label('u', 'f.unit_code')} END AS unit,
       f.dept_code, CASE WHEN f.dept_code IS NULL THEN NULL ELSE {queries.dept_label('d', 'f.dept_code')} END AS dept,
       f.subject, f.metric, f.threshold, f.detail, f.flag_id
FROM flags AS f
LEFT JOIN units AS c ON c.unit_code = f.county_code || '000000'
LEFT JOIN units AS u ON u.unit_code = f.unit_code
LEFT JOIN departments AS d ON d.dept_code = f.dept_code
WHERE {{where}}
ORDER BY f.period DESC, f.rule, f.county_code, f.subject
"""
COLUMNS = [
    Column("rule_label", "规则", "rule"), Column("severity", "级别", "severity"), Column("county", "县(市、区)", "county"),
    Column("period", "期间", "period"), Column("unit", "单位", "unit"), Column("dept", "部门", "department"),
    Column("subject", "对象", "subject"), Column("metric", "指标值", "metric"), Column("threshold", "阈值", "threshold"),
    Column("detail", "说明", "detail"),
]


def flags(store: Store, filters: dict[str, str]) -> list[dict[str, Any]]:
    """Flags matching every non-empty filter (rule, county_code, period, dept_code)."""
    used = [(k, v) for k, v in filters.items() if k in FILTERS and v]
    where = " AND ".join(f"f.{k} = ?" for k, _ in used) or "TRUE"
    return store.rows(FLAGS_SQL.format(where=where), [v for _, v in used])


def options(store: Store) -> dict[str, list[tuple[str, str]]]:
    """The values each filter offers: those present in the flags table, with names."""
    rows = store.rows(f"""
        SELECT DISTINCT 'rule' AS k, rule AS v, rule AS label FROM flags
        UNION ALL SELECT DISTINCT 'county_code', f.county_code, {queries.unit_label('c', 'f.county_code')}
            FROM flags AS f LEFT JOIN units AS c ON c.unit_code = f.county_code || '000000'
            WHERE f.county_code IS NOT NULL AND f.county_code <> ''
        UNION ALL SELECT DISTINCT 'period', period, period FROM flags
        UNION ALL SELECT DISTINCT 'dept_code', f.dept_code, {queries.dept_label('d', 'f.dept_code')}
            FROM flags AS f LEFT JOIN departments AS d USING (dept_code) WHERE f.dept_code IS NOT NULL
        ORDER BY 1, 2""")
    out: dict[str, list[tuple[str, str]]] = {k: [] for k in FILTERS}
    for r in rows:
        out[r["k"]].append((r["v"], r["label"]))
    out["period"].reverse()  # newest first
    return out


def render(req: Request) -> Result:
    chosen = {k: req.param(k) for k in FILTERS}
    rows = flags(req.store, chosen)
    by_rule: dict[str, int] = {}
    by_county: dict[tuple[str, str, str], int] = {}
    for r in rows:
        by_rule[r["rule"]] = by_rule.get(r["rule"], 0) + 1
        if r["county_code"]:
            key = (r["county_code"], r["county_name"] or "", r["rule"])
            by_county[key] = by_county.get(key, 0) + 1
    table = Table("flags", {"zh": "预警清单", "en": "Flags"}, COLUMNS,
                  [{**r, "rule_label": charts.rule_label(r["rule"], req.lang),
                    "severity": queries.severity(r["severity"], req.lang)} for r in rows])
    drawn = {}
    if by_rule:
        drawn["rules"] = charts.flags_by_rule([{"rule": k, "count": v} for k, v in by_rule.items()], lang=req.lang)
    if by_county:
        drawn["counties"] = charts.flags_by_county(
            [{"county_code": c, "county_name": n, "rule": rule, "count": v} for (c, n, rule), v in by_county.items()],
            lang=req.lang)
    offered = options(req.store)
    offered["rule"] = [(v, charts.rule_label(v, req.lang)) for v, _ in offered["rule"]]
    return Result(context={"chosen": chosen, "options": offered, "total": len(rows)},
                  tables=[table], charts=drawn)


PAGE = Page(slug="flags", title={"zh": "预警", "en": "Flags"}, render=render, order=30)
