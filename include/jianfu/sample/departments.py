"""Departments of the sample: every county's own, plus those of its city and province.

Which optional departments a county lists is drawn from a generator seeded by (seed, county), so a
county's departments are the same whether it is generated alone, in a province or nationally.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .catalog import CITY_DEPTS, COUNTY_DEPTS, COUNTY_EXTRA_DEPTS, PROVINCE_DEPTS
from .divisions import County


@dataclass(frozen=True)
class Dept:
    code: str  # e.g. 421127-AGRI
    name: str
    abbr: str  # e.g. AGRI
    level: str  # county | city | province

    @property
    def gov(self) -> str:
        return self.code[:6]

    @property
    def email(self) -> str:
        return f"{self.abbr.lower()}@{self.gov}.gov.example.cn"


def county_depts(county: County, seed: int) -> list[Dept]:
    """The 14 departments every county has, plus 0-2 of the optional ones."""
    rng = random.Random(f"{seed}/depts/{county.code}")
    extras = sorted(rng.sample(sorted(COUNTY_EXTRA_DEPTS), rng.randint(0, 2)))
    names = {**COUNTY_DEPTS, **{a: COUNTY_EXTRA_DEPTS[a] for a in extras}}
    return [Dept(f"{county.code}-{abbr}", county.name + suffix, abbr, "county") for abbr, suffix in names.items()]


def city_depts(county: County) -> list[Dept]:
    return [Dept(f"{county.city_code}-{abbr}", county.city_name + suffix, abbr, "city")
            for abbr, suffix in CITY_DEPTS.items()]


def province_depts(county: County) -> list[Dept]:
    return [Dept(f"{county.province_code}-{abbr}", county.province_name + suffix, abbr, "province")
            for abbr, suffix in PROVINCE_DEPTS.items()]


def depts_for(county: County, seed: int) -> list[Dept]:
    """Every department whose forms, groups or inspections may reach this county."""
    return county_depts(county, seed) + city_depts(county) + province_depts(county)
