"""The vendored division codes (data/SOURCE.md), shaped as the counties the generator works on.

Pilot counties come from data/pilot_units.csv; province and national scales stream the country's
files one county at a time so that the national scale never holds every village at once.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import groupby
from pathlib import Path

from ..reference import area_names

DATA = Path(__file__).parent / "divisions_data"
PILOT_UNITS = DATA / "pilot_units.csv"


@dataclass(frozen=True)
class Unit:
    """A unit of a county as the sample needs it."""

    code: str  # 12 digits
    name: str
    level: str  # county | township | village
    parent: str  # '' for a county


@dataclass
class County:
    """One county with its townships and villages, and the governments above it."""

    code: str  # 6 digits
    name: str
    city_code: str  # 6 digits, e.g. 421100
    city_name: str
    province_code: str  # 6 digits, e.g. 420000
    province_name: str
    townships: list[Unit] = field(default_factory=list)
    villages: list[Unit] = field(default_factory=list)

    @property
    def unit(self) -> Unit:
        return Unit(self.code + "000000", self.name, "county", "")

    @property
    def units(self) -> list[Unit]:
        return [self.unit, *self.townships, *self.villages]


@lru_cache(maxsize=1)
def county_rows() -> list[dict[str, str]]:
    with (DATA / "counties.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _shell(code: str, name: str) -> County:
    areas = area_names()  # the product's own table: provinces by 2 digits, cities by 4
    return County(
        code=code,
        name=name,
        city_code=code[:4] + "00",
        city_name=areas.get(code[:4], areas.get(code[:2], "")),
        province_code=code[:2] + "0000",
        province_name=areas.get(code[:2], ""),
    )


def pilot_counties() -> list[County]:
    """The seven pilot counties with every township and village of data/pilot_units.csv."""
    with PILOT_UNITS.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    counties: dict[str, County] = {}
    for r in rows:
        if r["level"] == "county":
            counties[r["unit_code"][:6]] = _shell(r["unit_code"][:6], r["unit_name"])
    for r in rows:
        unit = Unit(r["unit_code"], r["unit_name"], r["level"], r["parent_code"] or "")
        if unit.level == "township":
            counties[unit.code[:6]].townships.append(unit)
        elif unit.level == "village":
            counties[unit.code[:6]].villages.append(unit)
    return [counties[c] for c in sorted(counties)]


def _usable(code: str, digits: int) -> bool:
    """Division codes whose unit code would be mistaken for another level (金门县) are left out."""
    return not code.endswith("000") if digits in (9, 12) else True


def iter_counties(province: str | None = None) -> Iterator[County]:
    """Counties of one province (2-digit code) or of the whole country, in code order, streamed."""
    names = {r["county_code"]: r["county_name"] for r in county_rows()
             if province is None or r["province_code"] == province}
    townships: dict[str, list[Unit]] = {}
    with gzip.open(DATA / "townships.csv.gz", "rt", encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            code = r["township_code"]
            if r["county_code"] in names and _usable(code, 9):
                townships.setdefault(r["county_code"], []).append(
                    Unit(code + "000", r["township_name"], "township", r["county_code"] + "000000"))
    with gzip.open(DATA / "villages.csv.gz", "rt", encoding="utf-8", newline="") as fh:
        rows = (r for r in csv.DictReader(fh) if r["county_code"] in names)
        seen = set()
        for county_code, group in groupby(rows, key=lambda r: r["county_code"]):
            county = _shell(county_code, names[county_code])
            county.townships = townships.get(county_code, [])
            county.villages = [Unit(r["village_code"], r["village_name"], "village", r["township_code"] + "000")
                               for r in group if _usable(r["village_code"], 12) and _usable(r["township_code"], 9)]
            seen.add(county_code)
            yield county
    for county_code in sorted(set(names) - seen):  # counties without villages
        county = _shell(county_code, names[county_code])
        county.townships = townships.get(county_code, [])
        yield county


def province_for_scale(env_value: str | None) -> str:
    """The province of the province scale: JIANFU_SAMPLE_PROVINCE, else 42 湖北省 (105 counties)."""
    code = (env_value or "42").strip()[:2]
    if code not in area_names():  # two digits: a province's key
        raise ValueError(f"JIANFU_SAMPLE_PROVINCE={env_value!r} is not a province code (e.g. 42 for 湖北省)")
    return code
