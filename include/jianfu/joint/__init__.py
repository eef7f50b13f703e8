"""Joint visits (综合查一次, SPEC.md section 13): the fewest visits that cover every planned one.

- `propose(rows, year=, as_of=, shift_days=) -> (proposals, summary)`: the rule itself, pure
  (jianfu.joint.plan), over plain `PlanRow`s.
- `joint_proposals(settings, year=None, as_of=None) -> (proposals, summary)`: the same over the
  warehouse's inspections in force, joint_shift_days from rules.yaml, as_of by default today at
  the office; for the console and the bulletin.
- `joint_result(...)`: the same with unit and department names, for `jianfu joint`.
"""

from __future__ import annotations

from .load import JointResult, Names, joint_proposals, joint_result
from .plan import PROPOSAL_COLUMNS, Candidate, PlanRow, Proposal, Summary, propose, window

__all__ = [
    "PROPOSAL_COLUMNS",
    "Candidate",
    "JointResult",
    "Names",
    "PlanRow",
    "Proposal",
    "Summary",
    "joint_proposals",
    "joint_result",
    "propose",
    "window",
]
