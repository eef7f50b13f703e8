"""Joint visits (综合查一次, SPEC.md sections 13 and 16): the proposals of a year as of a day.

The figures are `jianfu joint`'s (jianfu.joint.joint_result, the same function): the proposals
with county, unit and department names, the summary overall and per county, and a calendar of
the proposed visits per county. The year and as_of are filters; as_of defaults to today at the
office (Asia/Shanghai), the year to as_of's. The rule reads one county's planned rows at a time.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ... import charts
from ...joint import JointResult, Summary, joint_result
from ..tables import Column, Table
from . import Page, Request, Result

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
    result = joint_result(settings, year, as_of)
    summary = result.summary
    if county:  # the county's own summary: its proposals, its candidates
        summary = summary.by_county.get(county) or Summary(0, 0, 0, year=summary.year, as_of=as_of)
    proposals = proposal_rows(result, county)
    counties = sorted({(p.county_code, f"{result.names.county(p.county_code)} ({p.county_code})")
                       for p in result.proposals} | {(c, f"{result.names.county(c)} ({c})")
                                                      for c in result.summary.by_county})
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
                           "counties": counties, "summary": summary.as_dict(), "shift_days": result.shift_days,
                           "bad_as_of": None},
                  tables=tables, charts=drawn)


PAGE = Page(slug="joint", title={"zh": "联合检查", "en": "Joint visits"}, render=render, order=60)
