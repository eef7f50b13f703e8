"""Submission files of the sample, their receipt order, and the ledger status each must end in.

The ingest stage processes files by (mtime, path); each file gets the mtime of its simulated send
time, so originals come before resubmissions. Expected statuses are then a replay of SPEC.md
section 5 over that order: byte-identical to anything received before -> duplicate; failing a
critical check -> rejected; otherwise accepted (with warnings when 6.2 says so), and the previous
version in force of the same county x kind x period becomes superseded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .render import Style


@dataclass
class Submission:
    """One file in landing/<kind>/."""

    kind: str
    county: str  # '' when the file cannot be read at all
    period: str  # 'YYYY-MM', or 'YYYY' for inspections; '' when unreadable
    name: str
    rows: list[dict]
    style: Style
    sent: datetime
    why: list[str] = field(default_factory=list)
    valid: bool = True  # passes every critical check of SPEC.md 6.1
    raw: bytes | None = None  # given bytes (junk, empty); rows are then ignored
    copy_of: Submission | None = None  # a byte-identical copy of that file
    title: str = ""
    data: bytes = b""  # filled by rendering
    status: str = ""  # filled by expected_statuses

    @property
    def relpath(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.county, self.period)

    @property
    def warnings(self) -> bool:
        """Whether an accepted file carries a warning of SPEC.md 6.2."""
        style = self.style
        optional_absent = any(c in style.drop_columns for c in _OPTIONAL.get(self.kind, ()))
        return bool(
            style.note_row
            or style.extra_columns
            or optional_absent
            or any(_over(r.get("fill_count"), 100) for r in self.rows)
            or any(_over(r.get("member_count"), 2000) for r in self.rows)
        )


def _over(value: object, limit: int) -> bool:
    return isinstance(value, int) and value > limit


_OPTIONAL = {
    "form_counts": ("hours_spent", "channel", "data_items"),
    "work_groups": ("messages_30d", "task_end_date"),
    "inspections": ("actual_date", "joint_depts", "approval_ref"),
}


def receipt_times(subs: list[Submission], now: datetime) -> None:
    """Make send times strictly increasing in receipt order and all before `now` (whole seconds).

    Desired times keep their order; when `now` is so early in a month that some would fall after it,
    they are squeezed just before `now` without changing the order.
    """
    ordered = sorted(subs, key=lambda s: (s.sent, s.relpath))
    n = len(ordered)
    previous: datetime | None = None
    for i, sub in enumerate(ordered):
        cap = now.replace(microsecond=0) - timedelta(hours=1) - timedelta(seconds=n - i)
        when = min(sub.sent.replace(microsecond=0), cap)
        if previous is not None and when <= previous:
            when = previous + timedelta(seconds=1)
        sub.sent = when
        previous = when


def expected_statuses(subs: list[Submission]) -> list[Submission]:
    """Replay receipt in (mtime, path) order and set each file's final ledger status; returns that order."""
    ordered = sorted(subs, key=lambda s: (s.sent, s.relpath))
    seen: set[str] = set()
    in_force: dict[tuple[str, str, str], Submission] = {}
    for sub in ordered:
        digest = hashlib.sha256(sub.data).hexdigest()
        if digest in seen:
            sub.status = "duplicate"
            continue
        seen.add(digest)
        if not sub.valid:
            sub.status = "rejected"
            continue
        previous = in_force.get(sub.key)
        if previous is not None:
            previous.status = "superseded"
        sub.status = "accepted_with_warnings" if sub.warnings else "accepted"
        in_force[sub.key] = sub
    return ordered


def in_force(subs: list[Submission]) -> list[Submission]:
    return [s for s in subs if s.status in ("accepted", "accepted_with_warnings")]
