"""Flags (SPEC.md sections 8 and 16), filtered by rule, county, period and department, with detail.

Filters are exact values of the flags table; an empty filter takes everything. The page reads the
first SHOWN_ROWS flags of the filter and its counts by rule and county (as many rows as rules times
counties), never every flag: an office whose thresholds fire often may hold hundreds of thousands.
The XLSX export has every row of the filter that a sheet holds.
"""

from __future__ import annotations

from typing import Any

from ... import charts
from .. import queries
from ..store import Store
from ..tables import Column, Table
from . import Page, Request, Result

FILTERS = ("rule", "county_code", "period", "dept_code")
#: The flags of the filter in the list's order, the first {limit} of them chosen before names are
#: joined: the units and departments tables are looked up for the rows shown, not for every flag.
FLAGS_SQL = f"""
WITH chosen AS (
    SELECT * FROM flags AS f
    WHERE {{where}}
    ORDER BY f.period DESC, f.rule, f.county_code, f.subject, f.flag_id
    {{limit}}
)
SELECT f.rule, f.severity, f.county_code, c.unit_name AS county_name,
       CASE WHEN f.county_code IS NULL OR f.county_code = '' THEN NULL
            ELSE {queries.unit_label('c', 'f.county_code')} END AS county,
       f.period, f.unit_code, CASE WHEN f.unit_code IS NULL THEN NULL ELSE {queries.unit_label('u', 'f.unit_code')} END AS unit,
       f.dept_code, CASE WHEN f.dept_code IS NULL THEN NULL ELSE {queries.dept_label('d', 'f.dept_code')} END AS dept,
       f.subject, f.metric, f.threshold, f.detail, f.flag_id
FROM chosen AS f
LEFT JOIN units AS c ON c.unit_code = f.county_code || '000000'
LEFT JOIN units AS u ON u.unit_code = f.unit_code
LEFT JOIN departments AS d ON d.dept_code = f.dept_code
ORDER BY f.period DESC, f.rule, f.county_code, f.subject, f.flag_id
"""
COUNTS_SQL = """
SELECT f.rule, f.county_code, c.unit_name AS county_name, f.count
FROM (SELECT rule, county_code, count(*) AS count FROM flags AS f WHERE {where} GROUP BY ALL) AS f
LEFT JOIN units AS c ON c.unit_code = f.county_code || '000000'
"""
COLUMNS = [
    Column("rule_label", "规则", "rule"), Column("severity", "级别", "severity"), Column("county", "县(市、区)", "county"),
    Column("period", "期间", "period"), Column("unit", "单位", "unit"), Column("dept", "部门", "department"),
    Column("subject", "对象", "subject"), Column("metric", "指标值", "metric"), Column("threshold", "阈值", "threshold"),
    Column("detail", "说明", "detail"),
]


def _where(filters: dict[str, str]) -> tuple[str, list[str]]:
    used = [(k, v) for k, v in filters.items() if k in FILTERS and v]
    return " AND ".join(f"f.{k} = ?" for k, _ in used) or "TRUE", [v for _, v in used]


def flags(store: Store, filters: dict[str, str], limit: int | None = None) -> list[dict[str, Any]]:
    """Flags matching every non-empty filter (rule, county_code, period, dept_code): the first
    `limit` of them, or all."""
    where, params = _where(filters)
    return store.rows(FLAGS_SQL.format(where=where, limit="" if limit is None else f"LIMIT {int(limit)}"), params)


def counts(store: Store, filters: dict[str, str]) -> list[dict[str, Any]]:
    """How many flags match the filters, per rule and county (county_code NULL for the quota rules)."""
    where, params = _where(filters)
    return store.rows(COUNTS_SQL.format(where=where), params)


def options(store: Store) -> dict[str, list[tuple[str, str]]]:
    """The values each filter offers: those present in the flags table, with names."""
    rows = store.rows(f"""
        SELECT DISTINCT 'rule' AS k, rule AS v, rule AS label FROM flags
        UNION ALL SELECT 'county_code', f.county_code, {queries.unit_label('c', 'f.county_code')}
            FROM (SELECT DISTINCT county_code FROM flags WHERE county_code IS NOT NULL AND county_code <> '') AS f
            LEFT JOIN units AS c ON c.unit_code = f.county_code || '000000'
        UNION ALL SELECT DISTINCT 'period', period, period FROM flags
        UNION ALL SELECT 'dept_code', f.dept_code, {queries.dept_label('d', 'f.dept_code')}
            FROM (SELECT DISTINCT dept_code FROM flags WHERE dept_code IS NOT NULL) AS f
            LEFT JOIN departments AS d USING (dept_code)
        ORDER BY 1, 2""")
    out: dict[str, list[tuple[str, str]]] = {k: [] for k in FILTERS}
    for r in rows:
        out[r["k"]].append((r["v"], r["label"]))
    out["period"].reverse()  # newest first
    return out


def render(req: Request) -> Result:
    chosen = {k: req.param(k) for k in FILTERS}
    counted = counts(req.store, chosen)
    rows = flags(req.store, chosen, req.limit)
    by_rule: dict[str, int] = {}
    for r in counted:
        by_rule[r["rule"]] = by_rule.get(r["rule"], 0) + r["count"]
    by_county = [{**r, "county_name": r["county_name"] or ""} for r in counted if r["county_code"]]
    table = Table("flags", {"zh": "预警清单", "en": "Flags"}, COLUMNS,
                  [{**r, "rule_label": charts.rule_label(r["rule"], req.lang),
                    "severity": queries.severity(r["severity"], req.lang)} for r in rows],
                  total=sum(by_rule.values()))
    drawn = {}
    if by_rule:
        drawn["rules"] = charts.flags_by_rule([{"rule": k, "count": v} for k, v in by_rule.items()], lang=req.lang)
    if by_county:
        drawn["counties"] = charts.flags_by_county(by_county, lang=req.lang)
    offered = options(req.store)
    offered["rule"] = [(v, charts.rule_label(v, req.lang)) for v, _ in offered["rule"]]
    return Result(context={"chosen": chosen, "options": offered}, tables=[table], charts=drawn)


PAGE = Page(slug="flags", title={"zh": "预警", "en": "Flags"}, render=render, order=30)
