"""`jianfu status`: build the board, send due reminders, publish `collection_status`, print it.

The published table is the board of the latest run (whatever its as_of), one row per cell, in the
columns of SPEC.md section 7.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa

from ..config import Settings
from ..ledger import all_submissions, connect, create_schema
from ..notify.mail import smtp_endpoint
from ..reference import Reference, area_name, county_names
from ..schema import COLLECTION_STATUS_SCHEMA
from ..warehouse.publish import Warehouse
from . import reminders as reminding
from .board import STATUSES, Cell, compute_cells
from .reminders import ReminderNotice
from .schedule import Schedule, load_schedule

#: How a status is written in the printed matrix (upper case: needs action).
SHORT = {
    "accepted": "ok",
    "accepted_with_warnings": "ok*",
    "late": "late",
    "rejected": "REJECTED",
    "missing": "MISSING",
    "pending": "pending",
}
#: Periods shown per kind in the printed matrix (the table export has them all).
MAX_COLUMNS = 12


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(width - _width(text), 0)


@dataclass
class StatusBoard:
    as_of: date
    rows: list[Cell]
    schedule: Schedule
    reminders: list[ReminderNotice] = field(default_factory=list)
    reminders_enabled: bool = True

    def cells_of(self, area: str = "") -> list[Cell]:
        """The cells of the counties whose code starts with `area` (a province's two digits, a
        city's four; '' for all)."""
        return [c for c in self.rows if c.county_code.startswith(area)]

    def counts(self, area: str = "") -> dict[str, int]:
        counted = Counter(c.status for c in self.cells_of(area))
        return {s: counted[s] for s in STATUSES if counted[s]}

    def as_table(self, area: str = "") -> str:
        """One matrix per kind: counties down, periods across (the latest MAX_COLUMNS); only the
        counties of `area` (cells_of)."""
        blocks = []
        shown = self.cells_of(area)
        for kind in self.schedule.kinds:
            cells = [c for c in shown if c.kind == kind.kind]
            if not cells:
                continue
            periods = sorted({c.period for c in cells})[-MAX_COLUMNS:]
            grid = {(c.county_code, c.period): c for c in cells}
            counties = sorted({(c.county_code, c.county_name) for c in cells})
            labels = [f"{code} {name}" for code, name in counties]
            first = max(_width(label) for label in labels + ["county"])
            width = max(max(len(p) for p in periods), 8)
            omitted = len({c.period for c in cells}) - len(periods)
            lines = [f"{kind.kind} ({kind.describe()})" + (f"; {omitted} earlier period(s) not shown" if omitted else ""),
                     _pad("county", first) + "  " + "  ".join(_pad(p, width) for p in periods)]
            for (code, _), label in zip(counties, labels, strict=False):
                row = [SHORT[grid[(code, p)].status] if (code, p) in grid else "" for p in periods]
                lines.append(_pad(label, first) + "  " + "  ".join(_pad(v, width) for v in row).rstrip())
            blocks.append("\n".join(lines))
        legend = "ok = accepted, ok* = accepted with warnings, late = accepted after the due date"
        return "\n\n".join(blocks + [legend]) if blocks else "(no cells: nothing received yet and no start in collection.yaml)"

    def describe(self, area: str = "") -> str:
        """The board as the CLI prints it; `area` narrows the counts and the matrices (an office
        above county level has thousands of counties), never the reminders sent."""
        shown = self.cells_of(area)
        counts = ", ".join(f"{n} {s}" for s, n in self.counts(area).items()) or "no cells"
        counties = len({c.county_code for c in shown})
        where = f" in {area_name(area)}" if area else ""
        lines = [f"collection status as of {self.as_of.isoformat()}{where}: {counties} county(ies), "
                 f"{len(shown)} cell(s): {counts}", "", self.as_table(area), ""]
        if not self.reminders_enabled:
            lines.append("reminders: none sent (a look at the board; `jianfu status --send-reminders` sends those due)")
        elif not self.reminders:
            lines.append("reminders: none due")
        else:
            sent = sum(r.delivered for r in self.reminders)
            lines.append(f"reminders: {sent} of {len(self.reminders)} delivered")
            for r in self.reminders:
                what = ", ".join(f"{k} {p}" for k, p in r.cells)
                state = "delivered" if r.delivered else "NOT delivered, will retry"
                lines.append(f"  {r.county_code} {r.county_name} [{r.action}] {state} via "
                             f"{','.join(r.channels) or '-'}: {what}")
                for channel, error in sorted(r.errors.items()):
                    lines.append(f"    {channel} failed: {error}")
        return "\n".join(lines)

    def to_arrow(self) -> pa.Table:
        return pa.table({
            "county_code": [c.county_code for c in self.rows],
            "kind": [c.kind for c in self.rows],
            "period": [c.period for c in self.rows],
            "due_date": [c.due_date for c in self.rows],
            "status": [c.status for c in self.rows],
            "submission_id": [c.submission_id for c in self.rows],
            "received_at": [c.received_at for c in self.rows],
        }, schema=COLLECTION_STATUS_SCHEMA)


def status_board(settings: Settings, *, as_of: date, send_reminders: bool = False) -> StatusBoard:
    """The board as of the end of `as_of` (office time zone); reminders due are sent only when asked."""
    if settings.smtp_url and send_reminders:
        smtp_endpoint(settings.smtp_url)
    schedule = load_schedule(settings)
    engine = connect(settings.db_url)
    try:
        create_schema(engine)
        with engine.connect() as conn:
            receipts = all_submissions(conn)
        cells = compute_cells(county_names(settings.reference), schedule, receipts, as_of, settings.office_date)
        board = StatusBoard(as_of, cells, schedule, reminders_enabled=send_reminders)
        if send_reminders:
            # the reference's contact addresses only when reminders go out: a look at the board
            # reads the counties' names alone, not a country's 660,000 units as objects
            board.reminders = reminding.send_reminders(engine, settings, Reference.load(settings.reference),
                                                       board.rows, as_of, schedule.reminder_interval_days)
    finally:
        engine.dispose()
    warehouse = Warehouse(settings.warehouse)
    with warehouse.lock():
        warehouse.publish_table("collection_status", board.to_arrow())
    return board
