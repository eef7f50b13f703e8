"""Background inspections: a year's plan of visits per county, and its monthly snapshots.

A visit's fate (done on some day, or cancelled) is drawn for the whole year once; a snapshot as of a
date shows the past as done/cancelled and the rest as planned, so successive updates of a county's
plan agree with each other. Background visits never crowd a target: any two visits of a target are
at least 38 days apart (actual dates move at most 3 days, within the quarter), so no target gets
more than two visits a quarter and no two departments visit within the merge window; every
department's topics are distinct, and an unplanned visit always carries its approval reference.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from .catalog import CITY_INSPECTION_THEMES, INSPECTION_THEMES, PROVINCE_INSPECTION_THEMES, category_of
from .departments import Dept
from .divisions import County, Unit

MIN_GAP_DAYS = 38


@dataclass(frozen=True)
class Visit:
    """One visit of an inspection item to a target, with its fate for the whole year."""

    county: str
    year: int
    item_id: str
    dept: str
    category: str
    topic: str
    target: str
    planned: date
    actual: date | None  # the day it happened, when fate is done
    fate: str  # done | cancelled | planned (still ahead at the end of the year's data)
    in_plan: bool = True
    joint: str | None = None
    approval: str | None = None
    pinned: bool = False  # planted: shown with its fate whatever the update's date

    def row(self, asof: date) -> dict:
        """The inspections row of this visit in an update made on `asof` (past visits settled).

        Planted visits are pinned, so that every planted case holds for any `now` given to the
        generator (with the default pilot dates they are in the past anyway).
        """
        status, actual = "planned", None
        if self.pinned:
            status, actual = self.fate, self.actual if self.fate == "done" else None
        elif self.fate == "done" and self.actual is not None and self.actual < asof:
            status, actual = "done", self.actual
        elif self.fate == "cancelled" and self.planned < asof:
            status = "cancelled"
        return {
            "county_code": self.county,
            "year": self.year,
            "item_id": self.item_id,
            "dept_code": self.dept,
            "category": self.category,
            "topic": self.topic,
            "target_unit_code": self.target,
            "planned_date": self.planned,
            "actual_date": actual,
            "status": status,
            "in_plan": self.in_plan,
            "joint_depts": self.joint,
            "approval_ref": self.approval,
        }


@dataclass(frozen=True)
class Item:
    dept: Dept
    item_id: str
    topic: str
    category: str


def _items(dept: Dept, themes: tuple[str, ...], count: int, year: int, tag: str) -> list[Item]:
    return [Item(dept, f"{dept.abbr}{tag}-{year}-{k + 1:02d}", f"{year}年{theme}", category_of(theme))
            for k, theme in enumerate(themes[:count])]


def county_items(county: County, depts: list[Dept], year: int, seed: int, reserved: set[str]) -> list[Item]:
    """Items that visit this county: its own departments', and those of its city and province that come."""
    out: list[Item] = []
    for dept in depts:
        if dept.code in reserved:
            continue
        if dept.level == "county":
            rng = random.Random(f"{seed}/items/{dept.code}/{year}")
            themes = INSPECTION_THEMES.get(dept.abbr, ())
            if themes and rng.random() < 0.6:
                out += _items(dept, themes, rng.randint(1, min(3, len(themes))), year, "")
            continue
        # City and province items are decided once for the whole city/province, then each item
        # decides independently whether it reaches this county: same item_id in every county.
        themes = (CITY_INSPECTION_THEMES if dept.level == "city" else PROVINCE_INSPECTION_THEMES).get(dept.abbr, ())
        rng = random.Random(f"{seed}/items/{dept.code}/{year}")
        tag = "S" if dept.level == "city" else "P"
        for item in _items(dept, themes, rng.randint(1, len(themes)) if themes else 0, year, tag):
            reach = random.Random(f"{seed}/reach/{dept.code}/{item.item_id}/{county.code}").random()
            if reach < (0.6 if dept.level == "city" else 0.35):
                out.append(item)
    return out


def _quarter(day: date) -> int:
    return (day.month - 1) // 3


class TargetCalendar:
    """Planned dates already given to each target, to keep every background visit well apart."""

    def __init__(self) -> None:
        self.days: dict[str, list[date]] = {}

    def fits(self, target: str, day: date) -> bool:
        taken = self.days.get(target, [])
        if any(abs((day - d).days) < MIN_GAP_DAYS for d in taken):
            return False
        return sum(1 for d in taken if _quarter(d) == _quarter(day)) < 2

    def take(self, target: str, day: date) -> None:
        self.days.setdefault(target, []).append(day)


def county_visits(
    county: County, depts: list[Dept], year: int, seed: int, *, reserved_targets: set[str],
    reserved_depts: set[str],
) -> list[Visit]:
    """The year's background visits of a county, with fates drawn for the whole year."""
    rng = random.Random(f"{seed}/visits/{county.code}/{year}")
    own = [d for d in depts if d.level == "county"]
    townships = [u for u in county.townships if u.code not in reserved_targets]
    villages = [u for u in county.villages if u.code not in reserved_targets]
    calendar_ = TargetCalendar()
    visits: list[Visit] = []
    start, last = date(year, 1, 8), date(year, 12, 18)
    n_ref = 0
    for item in county_items(county, depts, year, seed, reserved_depts):
        wanted = rng.randint(2, 7) if item.dept.level == "county" else rng.randint(1, 3)
        base = start + timedelta(days=rng.randint(0, (last - start).days - 50))
        targets: set[str] = set()
        for _ in range(wanted * 4):
            if len(targets) >= wanted:
                break
            pool: list[Unit] = townships if (rng.random() < 0.5 or not villages) else villages
            if not pool:
                break
            target = rng.choice(pool).code
            planned = min(last, base + timedelta(days=rng.randint(0, 45)))
            if target in targets or not calendar_.fits(target, planned):
                continue
            calendar_.take(target, planned)
            targets.add(target)
            fate = "cancelled" if rng.random() < 0.05 else "done"
            actual = planned + timedelta(days=rng.randint(-3, 3))
            if _quarter(actual) != _quarter(planned) or actual.year != year:
                actual = planned
            in_plan = rng.random() < 0.92
            approval = None
            if not in_plan:
                n_ref += 1
                approval = f"{county.name}督检考报批〔{year}〕{n_ref}号"
            joint = None
            if item.dept.level == "county" and rng.random() < 0.08:
                joint = rng.choice([d.code for d in own if d.code != item.dept.code])
            visits.append(Visit(county.code, year, item.item_id, item.dept.code, item.category, item.topic,
                                target, planned, actual if fate == "done" else None, fate, in_plan, joint, approval))
    return visits


def snapshot(visits: list[Visit], asof: date) -> list[dict]:
    """The rows of an inspections update made on `asof`."""
    return [v.row(asof) for v in visits]


