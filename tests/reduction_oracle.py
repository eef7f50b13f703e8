"""An independent reading of SPEC.md sections 14 (reduction) and 15 (form_catalog) in plain Python.

It shares no code with the SQL of jianfu.flags (not even the name normaliser): rows in, the
tables out, computed the slow and obvious way — sets per month, a loop over every pair of forms,
a union-find. tests/test_reduction*.py and tests/test_catalog*.py compare the SQL with it on
hand-made months, on random data (hypothesis) and on the pilot sample.

Rows are dicts with the warehouse's column names and Python values (dates as datetime.date).
"""

from __future__ import annotations

import calendar
import unicodedata
from collections import Counter, defaultdict
from datetime import date

RANK = {"daily": 7, "weekly": 6, "monthly": 5, "quarterly": 4, "semiannual": 3, "annual": 2, "once": 1}
SEPARATORS = ";；、,，|"


def shift(period: str, months: int) -> str:
    index = int(period[:4]) * 12 + int(period[5:7]) - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def period_end(period: str) -> date:
    year, month = int(period[:4]), int(period[5:7])
    return date(year, month, calendar.monthrange(year, month)[1])


def norm(text: str) -> str:
    """SPEC 8: NFKC, lower case, whitespace, punctuation and symbols (and invisible characters) removed."""
    out = []
    for ch in unicodedata.normalize("NFKC", text).lower():
        if unicodedata.category(ch)[0] in "PSZC" or ch.isspace():
            continue
        out.append(ch)
    return "".join(out)


def items_of(text: str | None) -> set[str]:
    pieces = [text or ""]
    for sep in SEPARATORS:
        pieces = [p for piece in pieces for p in piece.split(sep)]
    return {norm(p) for p in pieces} - {""}


# ------------------------------------------------------------------------------------ reduction
def reduction(forms: list[dict], groups: list[dict], visits: list[dict], zombie_days: int) -> list[dict]:
    """The reduction table, sorted by county and period."""
    form_rows: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for f in forms:
        form_rows[(f["county_code"], f["period"])].append(f)
    group_rows: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for g in groups:
        group_rows[(g["county_code"], g["period"])].append(g)
    plans = {(v["county_code"], v["year"]) for v in visits}

    def filled(county: str, period: str) -> dict[tuple[str, str], int | None] | None:
        """Forms filled (any row with fill_count >= 1) -> their highest frequency rank; None when
        the month's form_counts are not in force."""
        rows = form_rows.get((county, period))
        if rows is None:
            return None
        out: dict[tuple[str, str], int | None] = {}
        for key in {(r["dept_code"], r["form_id"]) for r in rows if r["fill_count"] >= 1}:
            ranks = [RANK[r["frequency"]] for r in rows
                     if (r["dept_code"], r["form_id"]) == key and r["frequency"] in RANK]
            out[key] = max(ranks) if ranks else None
        return out

    def fills(county: str, period: str) -> int | None:
        rows = form_rows.get((county, period))
        return None if rows is None else sum(r["fill_count"] for r in rows)

    def group_set(county: str, period: str) -> set[tuple[str, str]] | None:
        rows = group_rows.get((county, period))
        return None if rows is None else {(g["unit_code"], g["group_id"]) for g in rows}

    result = []
    for county, period in sorted(set(form_rows) | set(group_rows)):
        prev, yoy = shift(period, -1), shift(period, -12)
        now_forms, before_forms = filled(county, period), filled(county, prev)
        both = now_forms is not None and before_forms is not None
        rows = form_rows.get((county, period))
        now_groups, before_groups = group_set(county, period), group_set(county, prev)
        groups_both = now_groups is not None and before_groups is not None
        year = int(period[:4])
        if (county, year) in plans:
            month_visits = 0
            for v in visits:
                if v["county_code"] != county or v["year"] != year or v["status"] == "cancelled":
                    continue
                eff = v["actual_date"] if v["status"] == "done" else v["planned_date"]
                month_visits += f"{eff:%Y-%m}" == period
        else:
            month_visits = None
        zombies = None
        if now_groups is not None:
            zombies = len({(g["unit_code"], g["group_id"]) for g in group_rows[(county, period)]
                           if (period_end(period) - g["last_active_date"]).days >= zombie_days})
        result.append(dict(
            county_code=county, period=period,
            forms=None if now_forms is None else len(now_forms),
            forms_prev=None if before_forms is None else len(before_forms),
            forms_cancelled=len(set(before_forms) - set(now_forms)) if both else None,
            forms_added=len(set(now_forms) - set(before_forms)) if both else None,
            forms_less_frequent=sum(
                1 for k in set(now_forms) & set(before_forms)
                if now_forms[k] is not None and before_forms[k] is not None and now_forms[k] < before_forms[k]
            ) if both else None,
            fills=fills(county, period), fills_prev=fills(county, prev), fills_yoy=fills(county, yoy),
            field_entries=None if rows is None else sum(r["fill_count"] * r["field_count"] for r in rows),
            hours=None if rows is None else sum(r["hours_spent"] or 0.0 for r in rows),
            groups=None if now_groups is None else len(now_groups),
            groups_prev=None if before_groups is None else len(before_groups),
            groups_dissolved=len(before_groups - now_groups) if groups_both else None,
            groups_created=len(now_groups - before_groups) if groups_both else None,
            zombie_groups=zombies,
            visits=month_visits,
        ))
    return result


# ------------------------------------------------------------------------------------ form catalog
def similarity(a: dict, b: dict) -> float:
    if a["items"] and b["items"]:
        return len(a["items"] & b["items"]) / len(a["items"] | b["items"])
    return 1.0 if a["name_norm"] and a["name_norm"] == b["name_norm"] else 0.0


def assert_same_catalog_row(got: dict, want: dict) -> None:
    """Equal catalog rows: hours to rounding, the list of items exactly."""
    import pytest

    assert got["items"] == want["items"], want
    assert {k: v for k, v in got.items() if k != "items"} == pytest.approx(
        {k: v for k, v in want.items() if k != "items"}), want


def catalog(forms: list[dict], similarity_min: float) -> list[dict]:
    """The form_catalog table, sorted by dept_code and form_id."""
    if not forms:
        return []
    latest = max(f["period"] for f in forms)
    window = {shift(latest, -k) for k in range(12)}
    first_ever: dict[tuple[str, str], str] = {}
    for f in forms:
        key = (f["dept_code"], f["form_id"])
        first_ever[key] = min(first_ever.get(key, f["period"]), f["period"])
    seen: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for f in forms:
        if f["period"] in window:
            seen[(f["dept_code"], f["form_id"])].append(f)

    rows = []
    for (dept, form_id), form_rows in sorted(seen.items()):
        last = max(r["period"] for r in form_rows)
        latest_rows = [r for r in form_rows if r["period"] == last]
        names = Counter(r["form_name"] for r in latest_rows)
        top = max(names.values())
        name = min(n for n, c in names.items() if c == top)
        frequency = max((r["frequency"] for r in latest_rows), key=lambda f: RANK.get(f, 0))
        responses = sum(r["fill_count"] for r in form_rows)
        hours_values = [r["hours_spent"] for r in form_rows if r["hours_spent"] is not None]
        hours = sum(hours_values) if hours_values else None
        items: set[str] = set()
        for r in latest_rows:
            items |= items_of(r["data_items"])
        rows.append(dict(
            dept_code=dept, form_id=form_id, form_name=name, frequency=frequency,
            field_count=max(r["field_count"] for r in latest_rows),
            counties=len({r["county_code"] for r in form_rows}),
            units_latest=len({r["unit_code"] for r in latest_rows if r["fill_count"] >= 1}),
            responses_12m=responses, hours_12m=hours,
            hours_per_response=hours / responses if responses > 0 and hours is not None else None,
            first_period=first_ever[(dept, form_id)], last_period=last, active=last == latest,
            overlap_group=None, items=items, name_norm=norm(name), token=f"{dept}:{form_id}",
        ))

    parent = list(range(len(rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i, a in enumerate(rows):
        for j in range(i + 1, len(rows)):
            b = rows[j]
            if a["dept_code"] != b["dept_code"] and similarity(a, b) >= similarity_min:
                parent[find(i)] = find(j)
    members: dict[int, list[int]] = defaultdict(list)
    for i in range(len(rows)):
        members[find(i)].append(i)
    for group in members.values():
        if len(group) >= 2:
            name = min(rows[i]["token"] for i in group)
            for i in group:
                rows[i]["overlap_group"] = name
    for r in rows:
        r["items"] = sorted(r["items"])
        del r["name_norm"], r["token"]
    return rows
