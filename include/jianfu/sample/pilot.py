"""The pilot sample: seven real counties, three months, a planted case of every rule.

Order matters and is the point of this module: background rows first (with the planted cases' units
set aside), then the planted cases, then the files (versions, bad files, warnings), then rendering
and receipt order. What a correct pipeline must conclude from it is the tests' business
(tests/sample_helpers/truth.py): the product writes data, not the answers.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..schema import kind as kind_of
from .catalog import CLERKS
from .departments import depts_for
from .divisions import pilot_counties
from .forms import form_rows, issued_forms
from .groups import county_groups, group_rows
from .inspections import county_visits
from .planted import QUOTA_CASES, Case, Planter
from .proposals import write_proposals
from .reference_files import (
    background_quotas,
    write_collection,
    write_departments,
    write_quotas,
    write_rules,
    write_units,
)
from .render import render_csv, render_xlsx, table
from .submissions import Submission, expected_statuses, in_force, receipt_times
from .versions import PilotData, Plan


@dataclass
class Built:
    """What a generation produced, for the summary and the tests."""

    submissions: list[Submission]  # in receipt order, each with the ledger status its case intends
    cases: list[Case]
    quotas: dict[tuple[str, int], int]
    units: int
    departments: int


def months_before(now: datetime, count: int) -> list[str]:
    """The `count` complete months before now's month, oldest first."""
    y, m = now.year, now.month
    out = []
    for _ in range(count):
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
        out.append(f"{y}-{m:02d}")
    return out[::-1]


def render(sub: Submission, county_name: str, seed: int) -> bytes:
    """The bytes of one submission file."""
    if sub.copy_of is not None:
        return sub.copy_of.data
    if sub.raw is not None:
        return sub.raw
    k = kind_of(sub.kind)
    rng = random.Random(f"{seed}/signer/{sub.relpath}")
    signer = tuple(rng.sample(CLERKS, 2))
    day = f"{sub.sent.year}年{sub.sent.month}月{sub.sent.day}日"
    header, body = table(k, sub.rows, sub.style, seed=f"{seed}/{sub.relpath}", signer=signer, note_day=day)
    if sub.style.fmt == "xlsx":
        titles = {1: [sub.title], 2: [sub.title, ""],
                  3: [sub.title, f"填报单位（盖章）：{county_name}减负办　　填报日期：{day}", ""]}[sub.style.title_rows]
        return render_xlsx(header, body, sub.style, titles=titles, sheet=k.zh, stamp=sub.sent.replace(tzinfo=None))
    return render_csv(header, body, sub.style)


def write_landing(landing: Path, subs: list[Submission]) -> None:
    """Write every file and give it its simulated send time as mtime (the ingest's receipt order)."""
    for sub in subs:
        path = landing / sub.relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(sub.data)
        stamp = sub.sent.timestamp()
        os.utime(path, (stamp, stamp))


def pin_mtimes(directory: Path, when: datetime) -> None:
    """Give generated reference files the generation's `now`, so reruns match to the mtime."""
    stamp = when.timestamp()
    for path in directory.rglob("*"):
        if path.is_file():
            os.utime(path, (stamp, stamp))


def in_force_rows(subs: list[Submission], kind: str) -> list[dict]:
    """Rows of the versions in force of one kind, as the ingest will read them (absent columns empty)."""
    rows = []
    for sub in in_force(subs):
        if sub.kind != kind:
            continue
        for row in sub.rows:
            rows.append({k: (None if k in sub.style.drop_columns else v) for k, v in row.items()})
    return rows


def build(out: Path, seed: int, now: datetime) -> Built:
    counties = pilot_counties()
    depts = {c.code: depts_for(c, seed) for c in counties}
    periods = months_before(now, 3)
    year = now.year
    planter = Planter(counties, depts, periods, year)

    forms, groups, visits = {}, {}, {}
    for c in counties:
        issued = issued_forms(c, depts[c.code], seed)
        county_group_list = county_groups(c, depts[c.code], periods, seed)
        for p in periods:
            forms[(c.code, p)] = form_rows(c, issued, p, seed)
            groups[(c.code, p)] = group_rows(c, county_group_list, p, seed)
        visits[c.code] = county_visits(c, depts[c.code], year, seed, reserved_targets=planter.reserved_targets,
                                       reserved_depts=planter.reserved_depts)
    cases = planter.plant(forms, groups, visits)
    data = PilotData({c.code: c for c in counties}, periods, year, now, seed, forms, groups, visits, planter)
    subs, version_cases = Plan(data).build()
    cases += version_cases

    receipt_times(subs, now)
    names = {c.code: c.name for c in counties}
    for sub in sorted(subs, key=lambda s: s.copy_of is not None):
        sub.data = render(sub, names.get(sub.county, ""), seed)
    ordered = expected_statuses(subs)
    for case in cases:  # name each in-force file's planted cases in its ledger row
        for sub in in_force(ordered):
            kind, where_counties, period = case.where
            if kind == sub.kind and sub.county in where_counties.split(",") and period in (sub.period, "*"):
                if case.name not in sub.why:
                    sub.why.append(case.name)

    inspections = in_force_rows(ordered, "inspections")
    used: dict[tuple[str, int], set[str]] = {}
    for row in inspections:
        if row["status"] != "cancelled":
            used.setdefault((row["dept_code"], row["year"]), set()).add(row["item_id"])
    quotas = background_quotas({k: len(v) for k, v in used.items()}, seed,
                               {d: q for d, (q, _n, _w) in QUOTA_CASES.items()})

    reference, landing = out / "reference", out / "landing"
    for d in (reference, landing):
        d.mkdir(parents=True, exist_ok=True)
    n_units = write_units(reference / "units.csv", counties)
    n_depts = write_departments(reference / "departments.csv", (d for ds in depts.values() for d in ds))
    write_quotas(reference / "quotas.csv", quotas)
    write_rules(reference / "rules.yaml")
    write_collection(reference / "collection.yaml", start=periods[0])  # the year-ago file is history
    write_landing(landing, ordered)
    write_proposals(out, "421127")  # 黄梅县's departments propose three new forms (准入)
    pin_mtimes(reference, now)
    pin_mtimes(out / "proposals", now)
    return Built(ordered, cases, quotas, n_units, n_depts)
