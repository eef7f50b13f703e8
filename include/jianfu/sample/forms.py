"""Background form_counts: the forms a county's townships and villages fill every month.

Background rows stay clearly inside every threshold of SPEC.md section 8, so that the only flags in
the sample are the planted ones: no form is filled more often than its frequency allows, a unit's
non-daily fills stay at or below BACKGROUND_FILLS_MAX (a daily form adds at most 31, so a unit
never passes 60 and a planted case can add a known amount), and no two departments' forms share
enough data items to look alike.
"""

from __future__ import annotations

import calendar
import random
from dataclasses import dataclass

from .catalog import CITY_FORMS, COUNTY_FORMS, PROVINCE_FORMS, FormSpec
from .departments import Dept
from .divisions import County, Unit

#: Ceiling of a unit's non-daily fills in a background month.
BACKGROUND_FILLS_MAX = 24

#: Villages receive a form at this fraction of its share in the pilot (~6 forms a month against ~20 for a
#: township), keeping a county month to a few thousand rows; benchmarks use the full share.
VILLAGE_SHARE = 0.5

_CHANNELS = ("system", "spreadsheet", "spreadsheet", "app", "paper", "chat")


@dataclass(frozen=True)
class IssuedForm:
    """A form as issued by one department: the same form_id and items in every unit that fills it."""

    dept: Dept
    spec: FormSpec
    form_id: str
    field_count: int
    channel: str
    hours_per_fill: float


def issued_forms(county: County, depts: list[Dept], seed: int) -> list[IssuedForm]:
    """Every form that reaches this county, from its own, its city's and its province's departments."""
    out = []
    for dept in depts:
        catalog = {"county": COUNTY_FORMS, "city": CITY_FORMS, "province": PROVINCE_FORMS}[dept.level]
        for spec in catalog.get(dept.abbr, ()):
            # Field counts and channels belong to the form, not to the county that receives it.
            rng = random.Random(f"{seed}/form/{dept.code}/{spec.code}")
            out.append(IssuedForm(
                dept=dept,
                spec=spec,
                form_id=f"{dept.abbr}-{spec.code}",
                field_count=rng.choice((6, 8, 12, 15, 18, 24, 30, 36, 45, 60, 88, 120)),
                channel=rng.choice(_CHANNELS),
                hours_per_fill=rng.choice((0.5, 0.5, 1.0, 1.0, 1.5, 2.0, 3.0)),
            ))
    return out


def _fills_this_month(freq: str, year: int, month: int, rng: random.Random) -> int:
    if freq == "daily":
        return calendar.monthrange(year, month)[1]
    if freq == "weekly":
        return rng.choice((4, 4, 5))
    if freq == "monthly":
        return 1 if rng.random() < 0.96 else 0
    if freq == "quarterly":
        return 1 if month % 3 == 0 else 0
    if freq == "semiannual":
        return 1 if month in (6, 12) else 0
    if freq == "annual":
        return 1 if month == 12 else 0
    if freq == "once":
        return 1
    return rng.choice((0, 0, 1, 1, 2, 3))  # adhoc


def _fillers(county: County, form: IssuedForm, seed: int, village_share: float) -> list[Unit]:
    """The units that fill a form: the same every month (a share of the levels it is sent to)."""
    rng = random.Random(f"{seed}/fillers/{county.code}/{form.dept.code}/{form.form_id}")
    townships = county.townships if "T" in form.spec.levels else []
    villages = county.villages if "V" in form.spec.levels else []
    # Villages get fewer forms than townships: half the share.
    return ([u for u in townships if rng.random() < form.spec.share]
            + [u for u in villages if rng.random() < form.spec.share * village_share])


def form_rows(county: County, forms: list[IssuedForm], period: str, seed: int,
              village_share: float = VILLAGE_SHARE) -> list[dict]:
    """Canonical form_counts rows of one county and month."""
    year, month = int(period[:4]), int(period[5:7])
    rng = random.Random(f"{seed}/form_rows/{county.code}/{period}")
    by_unit: dict[str, list[dict]] = {}
    for form in forms:
        for unit in _fillers(county, form, seed, village_share):
            fills = _fills_this_month(form.spec.frequency, year, month, rng)
            by_unit.setdefault(unit.code, []).append({
                "county_code": county.code,
                "period": period,
                "unit_code": unit.code,
                "form_id": form.form_id,
                "form_name": form.spec.name,
                "dept_code": form.dept.code,
                "frequency": form.spec.frequency,
                "fill_count": fills,
                "field_count": form.field_count,
                "hours_spent": round(fills * form.hours_per_fill * rng.choice((0.8, 1.0, 1.2)), 1),
                "channel": form.channel,
                "data_items": ";".join(form.spec.items) or None,
            })
    rows = []
    for unit_code in sorted(by_unit):
        unit_rows = by_unit[unit_code]
        _cap_fills(unit_rows, rng)
        rows.extend(unit_rows)
    return rows


def _cap_fills(rows: list[dict], rng: random.Random) -> None:
    """Lower fills (a busy unit skipped some) until non-daily fills fit the background ceiling."""
    while sum(r["fill_count"] for r in rows if r["frequency"] != "daily") > BACKGROUND_FILLS_MAX:
        candidates = [r for r in rows if r["frequency"] != "daily" and r["fill_count"] > 0]
        row = rng.choice(candidates)
        row["fill_count"] -= 1
        row["hours_spent"] = round(row["fill_count"] * 1.0, 1)
