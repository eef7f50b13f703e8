"""Province and national samples, for benchmarks: valid files only, streamed one county at a time.

One pass over the divisions: each county's units go to units.csv and its three files (one month of
form_counts and work_groups, the year's inspections as of early next month) to landing/ before the
next county is read, so memory stays at one county plus the department list and per-department item
sets (for quotas). No planted cases and no truth flags at these scales: the background generators
keep every threshold, so a correct pipeline should find (almost) nothing — which makes these
samples measure throughput, not flag logic.
"""

from __future__ import annotations

import csv
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from . import SampleSummary
from .departments import Dept, depts_for
from .divisions import County, iter_counties
from .forms import form_rows, issued_forms
from .groups import county_groups, group_rows
from .inspections import county_visits, snapshot
from .periods import period_end
from .pilot import months_before, pin_mtimes, render, write_landing
from .reference_files import (
    UNIT_COLUMNS,
    background_quotas,
    write_collection,
    write_departments,
    write_quotas,
    write_rules,
)
from .render import Style
from .submissions import Submission

#: CSV habits rotated over counties: encodings, header languages, spellings.
STYLES = (
    Style(encoding="utf-8", header="en", enums="en", dates="iso", period="iso"),
    Style(encoding="gb18030", header="zh", enums="zh", dates="cn", period="cn", bools=("是", "否"), sep="、"),
    Style(encoding="utf-8-sig", header="zh", enums="mixed", dates="slash", period="compact", bools=("Y", "N"), sep="；"),
    Style(encoding="gb18030", header="en", enums="zh", dates="iso", period="iso", bools=("1", "0"), sep="|"),
)
KIND_ZH = {"form_counts": "报表填报统计", "work_groups": "政务工作群统计", "inspections": "督检考计划及执行"}


def _sent(seed: int, county: str, kind: str, period: str) -> datetime:
    rng = random.Random(f"{seed}/bulk-sent/{county}/{kind}")
    first = period_end(period) + timedelta(days=1)
    return datetime(first.year, first.month, first.day, 8, 0, tzinfo=UTC) + timedelta(
        days=rng.randint(0, 4), minutes=rng.randint(0, 600))


def county_files(county: County, depts: list[Dept], period: str, year: int, seed: int, now: datetime,
                 index: int) -> list[Submission]:
    """The three files of one county, rendered."""
    style = replace(STYLES[index % len(STYLES)], newline="\r\n" if index % 2 else "\n")
    forms = form_rows(county, issued_forms(county, depts, seed), period, seed, village_share=1.0)
    groups = group_rows(county, county_groups(county, depts, [period], seed), period, seed)
    insp_sent = _sent(seed, county.code, "inspections", period)
    visits = county_visits(county, depts, year, seed, reserved_targets=set(), reserved_depts=set())
    subs = []
    for kind, label, rows in (("form_counts", period, forms), ("work_groups", period, groups),
                              ("inspections", str(year), snapshot(visits, insp_sent.date()))):
        if not rows:
            continue
        sent = insp_sent if kind == "inspections" else _sent(seed, county.code, kind, period)
        sub = Submission(kind=kind, county=county.code, period=label,
                         name=f"{county.code}_{label}_{county.name}{KIND_ZH[kind]}.csv", rows=rows, style=style,
                         sent=min(sent, now - timedelta(hours=1)), title="")
        sub.data = render(sub, county.name, seed)
        subs.append(sub)
    return subs


def build_bulk(out: Path, *, seed: int, now: datetime, province: str | None, scale: str) -> SampleSummary:
    period = months_before(now, 1)[0]
    year = now.year
    reference, landing = out / "reference", out / "landing"
    reference.mkdir(parents=True, exist_ok=True)
    landing.mkdir(parents=True, exist_ok=True)
    all_depts: dict[str, Dept] = {}
    used: dict[tuple[str, int], set[str]] = {}
    by_kind = {k: {"files": 0, "rows": 0} for k in KIND_ZH}
    n_units = 0
    with (reference / "units.csv").open("w", encoding="utf-8", newline="") as units_fh:
        units = csv.writer(units_fh, lineterminator="\n")
        units.writerow(UNIT_COLUMNS)
        for index, county in enumerate(iter_counties(province)):
            units.writerow([county.unit.code, county.name, "county", "", f"jfb@{county.code}.gov.example.cn"])
            units.writerows([u.code, u.name, u.level, u.parent, ""] for u in county.townships)
            units.writerows([u.code, u.name, u.level, u.parent, ""] for u in county.villages)
            n_units += 1 + len(county.townships) + len(county.villages)
            depts = depts_for(county, seed)
            all_depts.update((d.code, d) for d in depts)
            subs = county_files(county, depts, period, year, seed, now, index)
            write_landing(landing, subs)
            for sub in subs:
                by_kind[sub.kind]["files"] += 1
                by_kind[sub.kind]["rows"] += len(sub.rows)
                if sub.kind == "inspections":
                    for r in sub.rows:
                        if r["status"] != "cancelled":
                            used.setdefault((r["dept_code"], r["year"]), set()).add(r["item_id"])
    n_depts = write_departments(reference / "departments.csv", all_depts.values())
    write_quotas(reference / "quotas.csv", background_quotas({k: len(v) for k, v in used.items()}, seed, {}))
    write_rules(reference / "rules.yaml")
    write_collection(reference / "collection.yaml")
    pin_mtimes(reference, now)
    return SampleSummary(out=out, scale=scale, seed=seed, files=sum(k["files"] for k in by_kind.values()),
                         rows=sum(k["rows"] for k in by_kind.values()), by_kind=by_kind, units=n_units,
                         departments=n_depts)
