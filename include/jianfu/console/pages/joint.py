"""Joint visits (综合查一次, SPEC.md sections 13 and 16): the proposals of a year as of a day.

The figures are `jianfu joint`'s: the same rule (jianfu.joint.propose) over the same rows (the
year's planned inspections in force), read through the console's store so that they are kept
until the next publish and, with a county chosen, only that county's partition is read (the rule
never looks across counties). Shown: the proposals with county, unit and department names, the
summary overall and per county, and a calendar of the proposed visits per county. The year and
as_of are filters; as_of defaults to today at the office (Asia/Shanghai), the year to as_of's.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ... import charts
from ...joint import JointResult, Names, PlanRow, Summary, propose
from ...joint.load import resolve, shift_days
from ...joint.plan import PLANNED
from .. import queries
from ..store import Store
from ..tables import Column, Table
from . import Page, Request, Result

#: The year's rows of status planned in force (of one county, or all): the rule's whole input.
PLANNED_SQL = """
SELECT county_code, year, dept_code, item_id, target_unit_code, planned_date, status
FROM inspections
WHERE year = ? AND status = ? AND (? = '' OR county_code = ?)
ORDER BY county_code, target_unit_code, dept_code, item_id
"""
NAMES_SQL = """
SELECT unit_code AS code, unit_name AS name FROM units WHERE list_contains(?, unit_code)
UNION ALL SELECT dept_code, dept_name FROM departments WHERE list_contains(?, dept_code)
"""

PROPOSAL_COLUMNS = [
    Column("county", "县(市、区)", "county"), Column("target", "检查对象", "target"),
    Column("proposed_date", "建议日期", "proposed date"), Column("window", "可选日期", "possible days"),
    Column("lead", "牵头部门", "lead department"), Column("departments", "部门数", "departments"),
    Column("dept_names", "参与部门", "departments joining"), Column("visits", "合并的检查", "visits merged"),
    Column("visits_merged", "合并次数", "merged"), Column("visits_saved", "减少次数", "saved"),
]
SUMMARY_COLUMNS = [
    Column("county", "县(市、区)", "county"), Column("candidates", "待查次数", "planned visits ahead"),
    Column("proposals", "联合检查建议", "joint visits proposed"),
    Column("visits_after_merging", "合并后次数", "visits after merging"),
    Column("reduction_pct", "减少(%)", "reduction (%)"),
]


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def joint(store: Store, year: int | None, as_of: date, county: str = "") -> JointResult:
    """SPEC 13 as `jianfu joint` computes it, for every county or one."""
    year, as_of = resolve(store.settings, year, as_of)
    shift = shift_days(store.settings)
    rows = [PlanRow(**r) for r in store.rows(PLANNED_SQL, [year, PLANNED, county, county])]
    proposals, summary = propose(rows, year=year, as_of=as_of, shift_days=shift)
    codes = sorted({c for p in proposals for c in (f"{p.county_code}000000", p.target_unit_code, *p.dept_codes)}
                   | {f"{c}000000" for c in summary.by_county})
    names = Names({r["code"]: r["name"] for r in store.rows(NAMES_SQL, [codes, codes]) if r["name"]}) if codes else Names()
    return JointResult(proposals, summary, names, shift)


def proposal_rows(result: JointResult, county: str = "") -> list[dict[str, Any]]:
    """One row per proposal with the names the office reads (codes kept beside them)."""
    n = result.names
    rows = []
    for p in result.proposals:
        if county and p.county_code != county:
            continue
        rows.append({
            **p.row(),
            "county": f"{n.county(p.county_code)} ({p.county_code})",
            "target": f"{n.of(p.target_unit_code)} ({p.target_unit_code})",
            "proposed_date": p.proposed_date,
            "window": f"{p.window[0].isoformat()} ~ {p.window[1].isoformat()}",
            "lead": f"{n.of(p.lead_dept_code)} ({p.lead_dept_code})",
            "dept_names": "、".join(n.of(d) for d in p.dept_codes),
        })
    return rows


def summary_rows(result: JointResult, county: str = "") -> list[dict[str, Any]]:
    """The summary per county (the rule groups each county on its own)."""
    n = result.names
    return [{"county": f"{n.county(code)} ({code})", **s.as_dict()}
            for code, s in result.summary.by_county.items() if not county or code == county]


def render(req: Request) -> Result:
    settings = req.store.settings
    asked_as_of = req.param("as_of")
    as_of = _day(asked_as_of) if asked_as_of else settings.office_today()
    year = int(req.param("year")) if req.param("year").isdigit() else None
    if as_of is None:
        return Result(context={"bad_as_of": asked_as_of, "year": year, "as_of": None, "county": ""})
    county = req.param("county")
    result = joint(req.store, year, as_of, county)
    summary = result.summary
    if county and not result.summary.by_county:  # nothing planned ahead in that county
        summary = Summary(0, 0, 0, year=summary.year, as_of=as_of)
    proposals = proposal_rows(result, county)
    tables = [Table("proposals", {"zh": "联合检查建议", "en": "Joint visits proposed"}, PROPOSAL_COLUMNS, proposals),
              Table("summary", {"zh": "各县合并效果", "en": "By county"}, SUMMARY_COLUMNS,
                    summary_rows(result, county))]
    drawn = {}
    if proposals:
        drawn["calendar"] = charts.joint_calendar(
            [{"county": r["county"], "target": r["target"], "proposed_date": r["proposed_date"],
              "departments": r["departments"], "dept_names": r["dept_names"], "lead": r["lead"],
              "visits_merged": r["visits_merged"]} for r in proposals], lang=req.lang)
    return Result(context={"year": summary.year, "as_of": as_of.isoformat(), "county": county,
                           "counties": queries.counties(req.store), "summary": summary.as_dict(), "shift_days": result.shift_days,
                           "bad_as_of": None},
                  tables=tables, charts=drawn)


PAGE = Page(slug="joint", title={"zh": "联合检查", "en": "Joint visits"}, render=render, order=60)
