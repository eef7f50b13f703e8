"""Background work_groups: the government work groups each unit sits in, month after month.

A unit's groups are drawn once per county and reported in every month with fresh activity dates.
Background groups stay inside the thresholds of SPEC.md section 8: active within 40 days of the
period end (never zombie), temporary ones either end after the last period or started less than
170 days before it, at most 10 per unit, and names unique per unit and owner department even with
digits removed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from .catalog import COUNTY_UNIT_GROUPS, GROUP_TOPICS, TEMPORARY_TOPICS
from .departments import Dept
from .divisions import County, Unit
from .periods import period_end

PLATFORM_PREFIX = {"wechat": "WX", "dingtalk": "DD", "wecom": "QW", "govchat": "ZW", "other": "QT"}
_PLATFORMS = ("wechat",) * 9 + ("dingtalk",) * 5 + ("wecom",) * 2 + ("govchat",) * 3 + ("other",)


@dataclass(frozen=True)
class Group:
    """A work group as it exists across months."""

    unit: Unit
    group_id: str
    name: str
    platform: str
    owner: str  # dept_code
    purpose: str
    created: date
    task_end: date | None
    members: int


def _period_start(period: str) -> date:
    return date(int(period[:4]), int(period[5:7]), 1)


def county_groups(county: County, depts: list[Dept], periods: list[str], seed: int) -> list[Group]:
    """Every background group of the county's units, valid for all of `periods`."""
    rng = random.Random(f"{seed}/groups/{county.code}")
    own = {d.abbr: d for d in depts if d.level == "county"}
    first_start, first_end = _period_start(periods[0]), period_end(periods[0])
    last_end = period_end(periods[-1])
    out: list[Group] = []
    per_unit: dict[str, int] = {}

    def add(unit: Unit, owner: Dept, name: str, temporary: bool, members: tuple[int, int]) -> None:
        platform = rng.choice(_PLATFORMS)
        per_unit[unit.code] = per_unit.get(unit.code, 0) + 1
        gid = f"{PLATFORM_PREFIX[platform]}-{unit.code[6:]}-{per_unit[unit.code]:02d}"
        task_end = None
        if temporary:
            # Started recently enough that the 180-day limit is never reached in these periods.
            created = last_end - timedelta(days=rng.randint(60, 170))
            created = min(created, first_end - timedelta(days=1))
            if rng.random() < 0.6:
                task_end = max(created, last_end + timedelta(days=rng.randint(-5, 120)))
        else:
            created = first_start - timedelta(days=rng.randint(20, 2000))
        out.append(Group(unit, gid, name, platform, owner.code, "temporary" if temporary else "permanent",
                         created, task_end, rng.randint(*members)))

    for abbr, topic in rng.sample(COUNTY_UNIT_GROUPS, rng.randint(6, 9)):
        add(county.unit, own[abbr], county.name + topic, False, (30, 800))
    topics = [(a, t) for a, ts in GROUP_TOPICS.items() if a in own for t in ts]
    temporary = [(a, t) for a, ts in TEMPORARY_TOPICS.items() if a in own for t in ts]
    for unit in county.townships:
        for abbr, topic in rng.sample(topics, rng.randint(4, 8)):
            add(unit, own[abbr], unit.name + topic, False, (20, 400))
        if rng.random() < 0.5:
            abbr, topic = rng.choice(temporary)
            add(unit, own[abbr], unit.name + topic, True, (10, 200))
    for unit in county.villages:
        if rng.random() < 0.15:
            continue
        for abbr, topic in rng.sample(topics, rng.randint(1, 4)):
            add(unit, own[abbr], unit.name + topic, False, (8, 120))
    return out


def group_rows(county: County, groups: list[Group], period: str, seed: int) -> list[dict]:
    """Canonical work_groups rows of one county and month (groups created after it are left out)."""
    rng = random.Random(f"{seed}/group_rows/{county.code}/{period}")
    end = period_end(period)
    rows = []
    for g in groups:
        if g.created > end:
            continue
        last_active = max(g.created, end - timedelta(days=rng.randint(0, 40)))
        recent = (end - last_active).days < 30
        rows.append({
            "county_code": county.code,
            "period": period,
            "unit_code": g.unit.code,
            "group_id": g.group_id,
            "group_name": g.name,
            "platform": g.platform,
            "owner_dept_code": g.owner,
            "purpose": g.purpose,
            "created_date": g.created,
            "last_active_date": last_active,
            "member_count": g.members,
            "messages_30d": rng.randint(1, 600) if recent else 0,
            "task_end_date": g.task_end,
        })
    return rows
