"""The collection status board (SPEC.md section 10): one cell per county x kind x period.

Decisions the SPEC leaves open, made here:
- The board is as it stood at the end of `as_of` (office time zone): receipts received later are
  ignored, so `--as-of` in the past reproduces that day's board. The ledger statuses are today's,
  so "in force at as_of" is rebuilt from receipts: the newest one ever accepted (accepted,
  accepted_with_warnings or superseded) received by then.
- "First accepted" is the earliest receipt of the cell ever accepted, superseded ones included: a
  county that sent on time and later corrected its file is `accepted`, not `late`.
- A cell on time shows the status of the version in force at as_of (a superseded version's own
  status is gone; its warning_count tells accepted from accepted_with_warnings).
- submission_id and received_at are those of the version in force (rejected cells: the newest
  rejected file), so the row points at the file that counts now.
- Receipts still `received` (undecided, a run was interrupted) and `duplicate` receipts count for
  nothing. Receipts of counties not in units.csv are not on the board.
- Periods: every period from `start` (collection.yaml, else the earliest period of that kind
  received, by any date: a board as of an earlier day still has those periods; a kind nobody has
  sent starts at the earliest period of any kind) up to the period as_of falls in, so the month
  in progress shows as pending.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.engine import RowMapping

from ..ledger import ACCEPTED, ACCEPTED_STATUSES, ACCEPTED_WITH_WARNINGS, REJECTED, SUPERSEDED
from .schedule import KindSchedule, Schedule

LATE = "late"
MISSING = "missing"
PENDING = "pending"
STATUSES = (ACCEPTED, ACCEPTED_WITH_WARNINGS, LATE, REJECTED, MISSING, PENDING)
#: Statuses a county is reminded of once the due date has passed.
REMIND = (MISSING, REJECTED)
EVER_ACCEPTED = (*ACCEPTED_STATUSES, SUPERSEDED)


@dataclass(frozen=True)
class Cell:
    county_code: str
    county_name: str
    kind: str
    period: str
    due_date: date
    status: str
    submission_id: str | None = None
    received_at: datetime | None = None  # UTC
    reason: str | None = None  # why the file was rejected (rejected cells), in English
    report_path: str | None = None  # its rejection report (the CSV; the JSON beside it), rejected cells

    @property
    def overdue(self) -> bool:
        """Missing or rejected, and the due date has passed: a reminder is due."""
        return self.status in REMIND

    def past_due(self, as_of: date) -> bool:
        return as_of > self.due_date


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _order(row: RowMapping) -> tuple:
    return (_utc(row["received_at"]), row["submission_id"])


def start_periods(schedule: Schedule, receipts: list[RowMapping]) -> dict[str, str]:
    """The first period of each kind on the board ('YYYY-MM' or 'YYYY'); empty when unknown."""
    if schedule.start:
        return {k.kind: schedule.start for k in schedule.kinds}
    earliest: dict[str, str] = {}
    for row in receipts:
        if row["period"]:
            kind = row["kind"]
            earliest[kind] = min(earliest.get(kind, row["period"]), row["period"])
    if not earliest:
        return {}
    # Compare as months: a year 'YYYY' stands for its January.
    overall = min((p if len(p) >= 7 else f"{p}-01") for p in earliest.values())
    return {k.kind: earliest.get(k.kind, overall) for k in schedule.kinds}


def cell_status(kind: KindSchedule, period: str, receipts: list[RowMapping], as_of: date,
                office_date: Callable[[datetime], date]) -> tuple[str, RowMapping | None]:
    """The status of one cell from its receipts (already limited to those received by as_of)."""
    due = kind.due_date(period)
    accepted = sorted((r for r in receipts if r["status"] in EVER_ACCEPTED), key=_order)
    if accepted:
        in_force = accepted[-1]
        if office_date(accepted[0]["received_at"]) > due:
            return LATE, in_force
        if in_force["status"] in ACCEPTED_STATUSES:
            return in_force["status"], in_force
        return (ACCEPTED_WITH_WARNINGS if (in_force["warning_count"] or 0) > 0 else ACCEPTED), in_force
    rejected = sorted((r for r in receipts if r["status"] == REJECTED), key=_order)
    if rejected:
        return REJECTED, rejected[-1]
    return (MISSING if as_of > due else PENDING), None


def compute_cells(counties: Mapping[str, str], schedule: Schedule, receipts: Iterable[RowMapping],
                  as_of: date, office_date: Callable[[datetime], date]) -> list[Cell]:
    """Every cell of the board, ordered by kind, county, period. `counties`: code -> name of every
    county the office collects from (reference.county_names)."""
    kinds = {k.kind: k for k in schedule.kinds}
    known = [r for r in receipts if r["kind"] in kinds and r["county_code"] in counties and r["period"]]
    starts = start_periods(schedule, known)
    seen = [r for r in known if office_date(r["received_at"]) <= as_of]
    by_cell: dict[tuple[str, str, str], list[RowMapping]] = {}
    for row in seen:
        by_cell.setdefault((row["kind"], row["county_code"], row["period"]), []).append(row)
    cells = []
    for name in sorted(kinds):
        kind = kinds[name]
        if name not in starts:
            continue
        for county in sorted(counties):
            for period in kind.periods(starts[name], as_of):
                status, row = cell_status(kind, period, by_cell.get((name, county, period), []), as_of, office_date)
                cells.append(Cell(
                    county_code=county,
                    county_name=counties[county],
                    kind=name,
                    period=period,
                    due_date=kind.due_date(period),
                    status=status,
                    submission_id=row["submission_id"] if row else None,
                    received_at=_utc(row["received_at"]) if row else None,
                    reason=row["reason"] if row is not None and status == REJECTED else None,
                    report_path=row["report_path"] if row is not None and status == REJECTED else None,
                ))
    return cells
