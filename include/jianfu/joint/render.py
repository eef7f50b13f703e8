"""`jianfu joint` output: a table the office reads, CSV with exactly the SPEC 13 columns, JSON.

Codes in the rows come from county files, so CSV cells are made inert for spreadsheets (a leading
= + - @ gets a quote mark) the way every other jianfu CSV is.
"""

from __future__ import annotations

import csv
import io
import json

from ..escape import neutralise_formula
from .load import JointResult
from .plan import PROPOSAL_COLUMNS, Proposal


def render_csv(proposals: list[Proposal]) -> str:
    """The proposal rows alone, header first (the summary goes elsewhere: stderr)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(PROPOSAL_COLUMNS)
    for p in proposals:
        writer.writerow([neutralise_formula(v) for v in p.row().values()])
    return out.getvalue().rstrip("\n")


def render_json(result: JointResult) -> str:
    return json.dumps({"proposals": [p.row() for p in result.proposals], "summary": result.summary.as_dict()},
                      ensure_ascii=False, indent=1)


def render_text(result: JointResult) -> str:
    """Proposals by county and target with names, each with its visits (the lead's marked *),
    then the summary line. One block per proposal: a visit list does not fit a table cell."""
    n, s = result.names, result.summary
    as_of = s.as_of.isoformat() if s.as_of else ""
    lines = [f"联合检查建议 joint visits {s.year}, as of {as_of} (joint_shift_days = {result.shift_days})", ""]
    county = None
    for p in result.proposals:
        if p.county_code != county:
            county = p.county_code
            lines.append(f"{n.county(county)} {county}")
        lines.append(f"  {n.of(p.target_unit_code)} {p.target_unit_code}: 建议 {p.proposed_date.isoformat()} "
                     f"(可选 window {p.window[0].isoformat()}..{p.window[1].isoformat()}), "
                     f"牵头 lead {n.of(p.lead_dept_code)}, {p.visits_merged} 次 → 1 次 visits")
        for m in p.members:
            mark = "*" if m is p.lead else " "
            lines.append(f"    {mark} {n.of(m.row.dept_code)} {m.row.dept_code} {m.row.item_id} "
                         f"计划 planned {m.row.planned_date.isoformat()}")
    if not result.proposals:
        lines.append("没有可合并的检查 no visits to merge")
    lines += ["", s.describe()]
    return "\n".join(lines)
