"""The reference directory of a sample (SPEC.md section 3): units, departments, quotas, rules, schedule.

rules.yaml and collection.yaml are written by hand rather than dumped, so that each key carries the
comment a coordination office needs to change it safely; a test loads them back through
jianfu.config to prove they are what the code reads.
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from ..config import RULE_DEFAULTS
from .departments import Dept
from .divisions import County

UNIT_COLUMNS = ["unit_code", "unit_name", "level", "parent_code", "contact_email"]

#: Quotas a coordination office would set, smallest first.
QUOTA_STEPS = (4, 5, 6, 8, 10, 12, 15, 20, 30, 40, 60)

_RULE_COMMENTS = {
    "form_similarity_min": "FORM_DUPLICATE_ACROSS_DEPTS: two forms are the same data when similarity >= this (0..1)",
    "form_duplicate_max_pairs": "FORM_DUPLICATE_ACROSS_DEPTS: at most this many flags per county x month (most similar first)",
    "unit_monthly_fills_max": "UNIT_REPORTING_OVERLOAD: a unit's fills in a month above this are flagged",
    "zombie_days": "GROUP_ZOMBIE: a group idle this many days at period end (or more) is a zombie",
    "temporary_grace_days": "GROUP_TEMPORARY_OVERDUE: days a temporary group may outlive its task_end_date",
    "temporary_max_days": "GROUP_TEMPORARY_OVERDUE: longest life of a temporary group without task_end_date",
    "unit_groups_max": "UNIT_GROUP_OVERLOAD: live (non-zombie) groups per unit above this are flagged",
    "target_quarter_visits_max": "INSPECTION_TARGET_OVERFREQUENT: visits to one unit in a quarter above this",
    "merge_window_days": "INSPECTION_UNCOORDINATED: visits of two departments this close should be one (综合查一次)",
    "quota_warning_ratio": "DEPT_QUOTA_WARNING: warn once used >= ceil(ratio x quota)",
    "default_dept_quota": "yearly inspection items of a department without a row in quotas.csv",
    "admission_review_min": "admission check (准入): similarity from which an existing form is listed for review",
    "reminder_interval_days": "collection reminders: at most one per county x kind x period in this many days",
    "joint_shift_days": "joint visits (综合查一次): days a planned visit may move either way to meet another",
}


def _csv_writer(fh: TextIO) -> csv._writer:
    return csv.writer(fh, lineterminator="\n")


def write_units(path: Path, counties: Iterable[County]) -> int:
    """units.csv of every county given (streamed); contact_email on county rows only."""
    n = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = _csv_writer(fh)
        w.writerow(UNIT_COLUMNS)
        for county in counties:
            w.writerow([county.unit.code, county.name, "county", "", f"jfb@{county.code}.gov.example.cn"])
            w.writerows([u.code, u.name, u.level, u.parent, ""] for u in county.townships)
            w.writerows([u.code, u.name, u.level, u.parent, ""] for u in county.villages)
            n += 1 + len(county.townships) + len(county.villages)
    return n


def write_departments(path: Path, depts: Iterable[Dept]) -> int:
    unique = {d.code: d for d in depts}
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = _csv_writer(fh)
        w.writerow(["dept_code", "dept_name", "contact_email"])
        w.writerows([d.code, d.name, d.email] for d in sorted(unique.values(), key=lambda d: d.code))
    return len(unique)


def background_quotas(used: dict[tuple[str, int], int], seed: int,
                      fixed: dict[str, int | None]) -> dict[tuple[str, int], int]:
    """Quotas that keep background departments clear of both quota rules.

    `fixed` departments (the planted quota cases) get exactly their planted quota, or no row. Others
    get the smallest usual quota with used < ceil(ratio x quota); a department with at most one item
    is sometimes left without a row, since the default of 2 already clears it.
    """
    ratio = RULE_DEFAULTS["quota_warning_ratio"]
    out: dict[tuple[str, int], int] = {}
    for (dept, year), n in sorted(used.items()):
        if dept in fixed:
            continue
        if n <= 1 and random.Random(f"{seed}/quota/{dept}/{year}").random() < 0.5:
            continue
        out[(dept, year)] = next(q for q in QUOTA_STEPS if n < math.ceil(ratio * q)) if n < 48 else 2 * n
    for dept, quota in fixed.items():
        years = {y for (d, y) in used if d == dept} or {y for (_d, y) in used}
        for year in years:
            if quota is not None:
                out[(dept, year)] = quota
    return out


def write_quotas(path: Path, quotas: dict[tuple[str, int], int]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = _csv_writer(fh)
        w.writerow(["dept_code", "year", "max_inspection_items"])
        w.writerows([d, y, q] for (d, y), q in sorted(quotas.items()))


def write_rules(path: Path) -> None:
    lines = [
        "# Thresholds of the flags (SPEC.md section 8). A key left out takes the default shown here;",
        "# an unknown key is an error. Changing a value changes flags from the next `jianfu build`.",
        "",
    ]
    for key, value in RULE_DEFAULTS.items():
        lines.append(f"# {_RULE_COMMENTS.get(key, key)}")
        lines.append(f"{key}: {value}")
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def write_collection(path: Path, start: str | None = None) -> None:
    """collection.yaml; `start` is the first period the board covers (older files are history)."""
    path.write_text(
        """# Collection schedule (SPEC.md section 10): what the status board and reminders expect.
# start: the first period the board covers (YYYY-MM); empty means the earliest period received.
start: """ + (f'"{start}"' if start else "null") + """

kinds:
  # Monthly form counts, due on day 5 of the month after the period.
  form_counts:
    cadence: monthly
    due_day: 5
  # Monthly work-group counts, due on day 5 of the month after the period.
  work_groups:
    cadence: monthly
    due_day: 5
  # The year's inspection plan is due on 31 January, then updated every month with what was done.
  inspections:
    cadence: yearly
    plan_due: "01-31"
    updates: monthly

# Reminders to a county missing or rejected past due: at most one per county x kind x period per this many days.
reminder_interval_days: 7
""",
        encoding="utf-8",
    )
