"""An independent oracle for the flags of SPEC.md section 8.

Written as a literal, row-by-row reading of the rules table in plain Python, on purpose sharing no
code with jianfu.flags (DuckDB SQL): when the two disagree on the sample data or on a property test,
one of them misreads the SPEC, and having two readings is what lets us notice.

Input rows are plain dicts with the canonical column names of jianfu.schema and Python values:
`datetime.date` for dates, `int` for counts and years, `bool` for in_plan, canonical English enum
values, `None` (or '') for an empty optional cell. Only rows of versions in force may be passed.
"""

from __future__ import annotations

import math
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from functools import lru_cache
from itertools import combinations
from typing import Any

from jianfu.config import RULE_DEFAULTS
from jianfu.sample.periods import FlagRow, period_end
from jianfu.schema import LIST_SEPARATORS

Row = Mapping[str, Any]

RULES = (
    "FORM_OVER_FREQUENCY",
    "FORM_DUPLICATE_ACROSS_DEPTS",
    "UNIT_REPORTING_OVERLOAD",
    "GROUP_ZOMBIE",
    "GROUP_TEMPORARY_OVERDUE",
    "GROUP_DUPLICATE",
    "UNIT_GROUP_OVERLOAD",
    "INSPECTION_TARGET_OVERFREQUENT",
    "INSPECTION_UNCOORDINATED",
    "INSPECTION_UNPLANNED",
    "INSPECTION_REPEATED_TOPIC",
    "DEPT_QUOTA_WARNING",
    "DEPT_QUOTA_EXCEEDED",
)

#: Fills allowed per month by frequency; daily is the number of days of the month, adhoc is unbounded.
_ALLOWED_FILLS = {"weekly": 5, "monthly": 1, "quarterly": 1, "semiannual": 1, "annual": 1, "once": 1}


# --- normalisation (section 8, first paragraph) ---------------------------------------------------

@lru_cache(maxsize=65536)
def normalise_name(text: str | None, *, drop_digits: bool = False) -> str:
    """NFKC, lower case, and without whitespace, punctuation (P*) and symbols (S*); digits too for group names."""
    if not text:
        return ""
    out = []
    for ch in unicodedata.normalize("NFKC", str(text)).lower():
        cat = unicodedata.category(ch)
        if ch.isspace() or cat[0] in ("P", "S", "Z"):
            continue
        if drop_digits and cat == "Nd":
            continue
        out.append(ch)
    return "".join(out)


def split_items(text: str | None) -> list[str]:
    """Split a list cell on every separator of SPEC.md 4.1, keeping non-blank pieces."""
    if not text:
        return []
    pieces = [str(text)]
    for sep in LIST_SEPARATORS:
        pieces = [p for part in pieces for p in part.split(sep)]
    return [p.strip() for p in pieces if p.strip()]


@lru_cache(maxsize=65536)
def item_set(text: str | None) -> frozenset[str]:
    """data_items as a set of normalised names (empty names dropped)."""
    return frozenset(n for n in (normalise_name(p) for p in split_items(text)) if n)


def form_similarity(a: Row, b: Row) -> float:
    """Jaccard of data_items when both have items, else 1 if normalised names are equal, else 0."""
    items_a, items_b = item_set(a.get("data_items")), item_set(b.get("data_items"))
    if items_a and items_b:
        return len(items_a & items_b) / len(items_a | items_b)
    name_a, name_b = normalise_name(a["form_name"]), normalise_name(b["form_name"])
    return 1.0 if name_a and name_a == name_b else 0.0


def _quarter(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _eff_date(row: Row) -> date:
    """actual_date if done, else planned_date (SPEC.md section 7, inspections)."""
    return row["actual_date"] if row["status"] == "done" else row["planned_date"]


def _is_visit(row: Row) -> bool:
    return row["status"] != "cancelled"


def _joint_codes(row: Row) -> set[str]:
    return {unicodedata.normalize("NFKC", p).strip().upper() for p in split_items(row.get("joint_depts"))}


# --- the rules -----------------------------------------------------------------------------------

def _form_flags(rows: list[Row], rules: Mapping[str, float]) -> set[FlagRow]:
    flags: set[FlagRow] = set()
    fills: dict[tuple[str, str, str], int] = defaultdict(int)
    by_unit: dict[tuple[str, str, str], list[Row]] = defaultdict(list)
    for r in rows:
        county, period, unit = r["county_code"], r["period"], r["unit_code"]
        allowed: float | None
        if r["frequency"] == "daily":
            allowed = period_end(period).day
        else:
            allowed = _ALLOWED_FILLS.get(r["frequency"])  # None for adhoc: never flagged
        if allowed is not None and r["fill_count"] > allowed:
            flags.add(("FORM_OVER_FREQUENCY", period, f"{unit}|{r['dept_code']}|{r['form_id']}", county))
        fills[(county, period, unit)] += r["fill_count"]
        if r["fill_count"] >= 1:
            by_unit[(county, period, unit)].append(r)

    for (county, period, unit), total in fills.items():
        if total > rules["unit_monthly_fills_max"]:
            flags.add(("UNIT_REPORTING_OVERLOAD", period, unit, county))

    threshold = rules["form_similarity_min"]
    for (county, period, _unit), filled in by_unit.items():
        for a, b in combinations(filled, 2):
            if a["dept_code"] == b["dept_code"]:
                continue
            if form_similarity(a, b) >= threshold:
                pair = sorted([f"{a['dept_code']}:{a['form_id']}", f"{b['dept_code']}:{b['form_id']}"])
                flags.add(("FORM_DUPLICATE_ACROSS_DEPTS", period, "|".join(pair), county))
    return flags


def _group_flags(rows: list[Row], rules: Mapping[str, float]) -> set[FlagRow]:
    flags: set[FlagRow] = set()
    live: dict[tuple[str, str, str], int] = defaultdict(int)
    same_name: dict[tuple[str, str, str, str, str], list[str]] = defaultdict(list)
    for r in rows:
        county, period, unit = r["county_code"], r["period"], r["unit_code"]
        end = period_end(period)
        subject = f"{unit}|{r['group_id']}"
        zombie = (end - r["last_active_date"]).days >= rules["zombie_days"]
        if zombie:
            flags.add(("GROUP_ZOMBIE", period, subject, county))
        else:
            live[(county, period, unit)] += 1
        if r["purpose"] == "temporary":
            task_end = r.get("task_end_date")
            if task_end:
                overdue = (end - task_end).days > rules["temporary_grace_days"]
            else:
                overdue = (end - r["created_date"]).days > rules["temporary_max_days"]
            if overdue:
                flags.add(("GROUP_TEMPORARY_OVERDUE", period, subject, county))
        key = (county, period, unit, r["owner_dept_code"], normalise_name(r["group_name"], drop_digits=True))
        same_name[key].append(r["group_id"])

    for (county, period, unit), count in live.items():
        if count > rules["unit_groups_max"]:
            flags.add(("UNIT_GROUP_OVERLOAD", period, unit, county))
    for (county, period, unit, owner, _name), gids in same_name.items():
        if len(gids) >= 2:
            flags.add(("GROUP_DUPLICATE", period, f"{unit}|{owner}|{';'.join(sorted(gids))}", county))
    return flags


def _inspection_flags(
    rows: list[Row], quotas: Mapping[tuple[str, int], int], rules: Mapping[str, float]
) -> set[FlagRow]:
    flags: set[FlagRow] = set()
    visits = [r for r in rows if _is_visit(r)]

    per_quarter: dict[tuple[str, str, str], int] = defaultdict(int)
    for v in visits:
        per_quarter[(v["county_code"], v["target_unit_code"], _quarter(_eff_date(v)))] += 1
    for (county, target, quarter), count in per_quarter.items():
        if count > rules["target_quarter_visits_max"]:
            flags.add(("INSPECTION_TARGET_OVERFREQUENT", quarter, target, county))

    by_target: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for v in visits:
        by_target[(v["county_code"], v["target_unit_code"])].append(v)
    for (county, target), group in by_target.items():
        for a, b in combinations(group, 2):
            if a["dept_code"] == b["dept_code"]:
                continue
            da, db = _eff_date(a), _eff_date(b)
            if abs((da - db).days) > rules["merge_window_days"]:
                continue
            if b["dept_code"].upper() in _joint_codes(a) or a["dept_code"].upper() in _joint_codes(b):
                continue
            pair = sorted([f"{a['dept_code']}:{a['item_id']}", f"{b['dept_code']}:{b['item_id']}"])
            flags.add(("INSPECTION_UNCOORDINATED", str(min(da, db).year), f"{target}|{pair[0]}|{pair[1]}", county))

    for v in visits:
        if v["status"] == "done" and not v["in_plan"] and not (v.get("approval_ref") or "").strip():
            subject = f"{v['dept_code']}:{v['item_id']}|{v['target_unit_code']}"
            flags.add(("INSPECTION_UNPLANNED", str(v["year"]), subject, v["county_code"]))

    topics: dict[tuple[str, int, str, str, str], set[str]] = defaultdict(set)
    for v in visits:
        topics[(v["county_code"], v["year"], v["dept_code"], v["target_unit_code"], normalise_name(v["topic"]))].add(
            v["item_id"]
        )
    for (county, year, dept, target, _topic), items in topics.items():
        if len(items) >= 2:
            flags.add(("INSPECTION_REPEATED_TOPIC", str(year), f"{dept}|{target}|{';'.join(sorted(items))}", county))

    used: dict[tuple[str, int], set[str]] = defaultdict(set)
    for v in visits:
        used[(v["dept_code"], v["year"])].add(v["item_id"])
    for (dept, year), items in used.items():
        quota = quotas.get((dept, year), rules["default_dept_quota"])
        if len(items) > quota:
            flags.add(("DEPT_QUOTA_EXCEEDED", str(year), dept, ""))
        elif len(items) >= math.ceil(rules["quota_warning_ratio"] * quota):
            flags.add(("DEPT_QUOTA_WARNING", str(year), dept, ""))
    return flags


def expected_flag_rows(
    form_rows: Iterable[Row],
    group_rows: Iterable[Row],
    inspection_rows: Iterable[Row],
    quotas: Mapping[tuple[str, int], int] | None = None,
    rules: Mapping[str, float] | None = None,
) -> set[FlagRow]:
    """Every flag SPEC.md section 8 expects, as (rule, period, subject, county_code) tuples."""
    thresholds = {**RULE_DEFAULTS, **(rules or {})}
    return (
        _form_flags(list(form_rows), thresholds)
        | _group_flags(list(group_rows), thresholds)
        | _inspection_flags(list(inspection_rows), quotas or {}, thresholds)
    )


def expected_flags(
    form_rows: Iterable[Row],
    group_rows: Iterable[Row],
    inspection_rows: Iterable[Row],
    quotas: Mapping[tuple[str, int], int] | None = None,
    rules: Mapping[str, float] | None = None,
) -> set[tuple[str, str, str]]:
    """The flags as (rule, period, subject): how SPEC.md says flags are compared across runs."""
    return {f[:3] for f in expected_flag_rows(form_rows, group_rows, inspection_rows, quotas, rules)}
