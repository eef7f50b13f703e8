"""Scheduling data collection (SPEC.md section 10): the status board, reminders, the admission check.

- `status_board(settings, as_of=..., send_reminders=False) -> StatusBoard`: `jianfu status` and the
  jianfu_collection DAG; publishes `collection_status`.
- `check_form(settings, path) -> AdmissionResult`: `jianfu check-form FILE`; `render(fmt)` gives
  table, csv or json.
- `today(settings)`: the office's calendar day (Asia/Shanghai), the natural default `as_of`.
"""

from __future__ import annotations

from .admission import AdmissionResult, Match, Proposal, check_form
from .board import Cell
from .reminders import ReminderNotice
from .schedule import KindSchedule, Schedule, load_schedule, today
from .status import StatusBoard, status_board

__all__ = [
    "AdmissionResult",
    "Cell",
    "KindSchedule",
    "Match",
    "Proposal",
    "ReminderNotice",
    "Schedule",
    "StatusBoard",
    "check_form",
    "load_schedule",
    "status_board",
    "today",
]
