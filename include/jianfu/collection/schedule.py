"""The collection schedule of collection.yaml (SPEC.md section 10): periods and due dates per kind.

Defaults: form_counts and work_groups are monthly, due on day 5 of the month after the period;
inspections are yearly, the plan due on 31 January of the year it describes (its monthly execution
updates are resubmissions of the same year, so the board has one inspections cell per county per
year). Due dates are calendar days in the office's time zone (Asia/Shanghai, or JIANFU_TIMEZONE):
a file received at 23:30 Beijing time on the due day is on time, even though it is 15:30 UTC.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime

from ..config import COLLECTION_DEFAULTS, ConfigError, Settings, load_collection, load_rules
from ..schema import KINDS

MONTHLY = "monthly"
YEARLY = "yearly"
_PERIOD = re.compile(r"^(\d{4})(?:-(\d{2}))?")


def today(settings: Settings) -> date:
    """The office's calendar day now (honours JIANFU_NOW): the natural `as_of` of a board."""
    return settings.office_today()


@dataclass(frozen=True)
class KindSchedule:
    """When one kind is due: monthly (day `due_day` of the next month) or yearly (`plan_due`)."""

    kind: str
    cadence: str
    due_day: int = 5
    plan_due: tuple[int, int] = (1, 31)  # month, day

    def due_date(self, period: str) -> date:
        if self.cadence == MONTHLY:
            year, month = int(period[:4]), int(period[5:7])
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            return date(year, month, min(self.due_day, calendar.monthrange(year, month)[1]))
        year = int(period[:4])
        month, day = self.plan_due
        return date(year, month, min(day, calendar.monthrange(year, month)[1]))

    def periods(self, start: str, as_of: date) -> list[str]:
        """Every period from `start` ('YYYY-MM' or 'YYYY') to the one `as_of` falls in."""
        if self.cadence == YEARLY:
            return [str(y) for y in range(int(start[:4]), as_of.year + 1)]
        year, month = int(start[:4]), int(start[5:7]) if len(start) >= 7 else 1
        out = []
        while (year, month) <= (as_of.year, as_of.month):
            out.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out

    def describe(self) -> str:
        if self.cadence == MONTHLY:
            return f"monthly, due on day {self.due_day} of the next month"
        return f"yearly, plan due on {self.plan_due[0]:02d}-{self.plan_due[1]:02d} of the year"


@dataclass(frozen=True)
class Schedule:
    kinds: tuple[KindSchedule, ...]
    start: str | None  # 'YYYY-MM' (or 'YYYY'); None: the earliest period received, per kind
    reminder_interval_days: int


def _parse_start(value: object, where: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, (date, datetime)):
        return f"{value.year:04d}-{value.month:02d}"
    text = str(value).strip()
    match = _PERIOD.match(text)
    if not match or (match.group(2) and not 1 <= int(match.group(2)) <= 12):
        raise ConfigError(f"{where}: start {value!r} must be a period YYYY-MM")
    return f"{match.group(1)}-{match.group(2) or '01'}"


def load_schedule(settings: Settings) -> Schedule:
    """collection.yaml over its defaults, checked: a wrong entry is a one-line ConfigError."""
    where = str(settings.reference / "collection.yaml")
    data = load_collection(settings.reference)
    kinds = []
    for name, spec in sorted(data["kinds"].items()):
        if name not in KINDS:
            raise ConfigError(f"{where}: unknown kind {name!r}; kinds are {', '.join(KINDS)}")
        spec = spec or {}
        cadence = spec.get("cadence", MONTHLY)
        if cadence == MONTHLY:
            due_day = spec.get("due_day", 5)
            if not isinstance(due_day, int) or isinstance(due_day, bool) or not 1 <= due_day <= 31:
                raise ConfigError(f"{where}: {name}.due_day must be a day of the month 1..31, got {due_day!r}")
            if KINDS[name].period_column != "period":
                raise ConfigError(f"{where}: {name} describes a year; its cadence must be yearly")
            kinds.append(KindSchedule(name, MONTHLY, due_day=due_day))
        elif cadence == YEARLY:
            raw = str(spec.get("plan_due", "01-31"))
            try:
                month, day = (int(p) for p in raw.split("-"))
                date(2024, month, day)  # a leap year: 02-29 is allowed (clamped in other years)
            except ValueError:
                raise ConfigError(f"{where}: {name}.plan_due must be MM-DD, got {raw!r}") from None
            if KINDS[name].period_column != "year":
                raise ConfigError(f"{where}: {name} is monthly data; its cadence must be monthly")
            kinds.append(KindSchedule(name, YEARLY, plan_due=(month, day)))
        else:
            raise ConfigError(f"{where}: {name}.cadence must be monthly or yearly, got {cadence!r}")
    # The interval may be set in collection.yaml or (as a threshold) in rules.yaml; collection.yaml
    # wins when it departs from the default.
    interval = data.get("reminder_interval_days", 7)
    if interval == COLLECTION_DEFAULTS["reminder_interval_days"]:
        interval = load_rules(settings.reference)["reminder_interval_days"]
    if isinstance(interval, float) and interval.is_integer():
        interval = int(interval)
    if not isinstance(interval, int) or isinstance(interval, bool) or interval < 0:
        raise ConfigError(f"{where}: reminder_interval_days must be a whole number of days, got {interval!r}")
    return Schedule(tuple(kinds), _parse_start(data.get("start"), where), interval)
