"""Joint visits from the warehouse: the year's planned rows in force, and the names to show.

Only rows of status planned are read: they are both the candidates (those after as_of) and what
decides the lead department (planned rows of any date), so a county's done and cancelled history
never has to leave the warehouse. Counties are read one at a time (the rule never looks across
counties), so memory follows the largest county, not the country; and only the names of units and
departments that appear in a proposal are looked up.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date

import duckdb

from ..config import ConfigError, JianfuError, Settings, load_rules
from ..schema import DEPARTMENTS_SCHEMA, UNITS_SCHEMA
from ..warehouse.publish import Warehouse
from ..warehouse.views import register, register_counties
from .plan import PLANNED, PlanRow, Proposal, Summary, propose, total

#: rules.yaml key of the days a visit may move either way (SPEC.md section 13).
SHIFT_KEY = "joint_shift_days"

PLANNED_ROWS_SQL = """
SELECT county_code, year, dept_code, item_id, target_unit_code, planned_date, status
FROM inspections
WHERE year = $year AND status = $planned
"""

NAMES_SQL = """
SELECT unit_code AS code, unit_name AS name FROM units WHERE unit_code IN (SELECT unnest($codes))
UNION ALL
SELECT dept_code, dept_name FROM departments WHERE dept_code IN (SELECT unnest($codes))
"""


@dataclass(frozen=True)
class Names:
    """Names of the units (counties and targets) and departments, by code; unknown codes show as is."""

    by_code: dict[str, str] = field(default_factory=dict)

    def county(self, county_code: str) -> str:
        return self.by_code.get(f"{county_code}000000", county_code)

    def of(self, code: str) -> str:
        return self.by_code.get(code, code)


def shift_days(settings: Settings) -> int:
    """joint_shift_days of rules.yaml, which must be a whole number of days, 0 or more."""
    value = load_rules(settings.reference)[SHIFT_KEY]
    if value < 0 or value != int(value):
        raise ConfigError(f"{settings.reference / 'rules.yaml'}: {SHIFT_KEY} must be a whole number of days, "
                          f"0 or more, got {value!r}")
    return int(value)


def _require_warehouse(settings: Settings) -> Warehouse:
    warehouse = Warehouse(settings.warehouse)
    missing = not os.path.isdir(warehouse.root) if warehouse.local else not warehouse.tables()
    if missing:
        raise JianfuError(f"no warehouse at {settings.warehouse}: run `jianfu ingest` and `jianfu build` first "
                          f"(or set JIANFU_WAREHOUSE / JIANFU_HOME)")
    return warehouse


def county_partitions(warehouse: Warehouse, year: int) -> list[str]:
    """Counties with an inspections partition for `year`, from the directory names alone."""
    counties = set()
    for partition in warehouse.files("inspections"):
        keys = dict(part.split("=", 1) for part in partition.split("/") if "=" in part)
        if keys.get("county_code") and keys.get("year") == str(year):
            counties.add(keys["county_code"])
    return sorted(counties)


def planned_rows(con: duckdb.DuckDBPyConnection, year: int) -> list[PlanRow]:
    """The year's rows of status planned in force, on a connection with an `inspections` relation."""
    result = con.execute(PLANNED_ROWS_SQL, {"year": year, "planned": PLANNED}).fetchall()
    return [PlanRow(*r) for r in result]


def names(con: duckdb.DuckDBPyConnection, codes: set[str]) -> Names:
    """Names of these unit and department codes, on a connection with `units` and `departments`."""
    if not codes:
        return Names()
    return Names({code: name for code, name in con.execute(NAMES_SQL, {"codes": sorted(codes)}).fetchall()
                  if name})


def _codes(proposals: list[Proposal]) -> set[str]:
    codes = set()
    for p in proposals:
        codes |= {f"{p.county_code}000000", p.target_unit_code, *p.dept_codes}
    return codes


@dataclass(frozen=True)
class JointResult:
    """Proposals and summary of a year, with the names the office reads them by."""

    proposals: list[Proposal]
    summary: Summary
    names: Names
    shift_days: int


def resolve(settings: Settings, year: int | None, as_of: date | None) -> tuple[int, date]:
    """Default as_of: today at the office (Asia/Shanghai); default year: as_of's year."""
    as_of = as_of or settings.office_today()
    return (year if year is not None else as_of.year), as_of


def joint_result(settings: Settings, year: int | None = None, as_of: date | None = None) -> JointResult:
    """SPEC 13 over the warehouse, with names (what `jianfu joint` and the console show)."""
    year, as_of = resolve(settings, year, as_of)
    shift = shift_days(settings)
    warehouse = _require_warehouse(settings)
    con = duckdb.connect(":memory:")
    try:
        register(con, warehouse, ["units", "departments"],
                 {"units": UNITS_SCHEMA, "departments": DEPARTMENTS_SCHEMA})
        proposals: list[Proposal] = []
        by_county: dict[str, Summary] = {}
        for county in county_partitions(warehouse, year):
            register_counties(con, warehouse, "inspections", {county})
            found, summary = propose(planned_rows(con, year), year=year, as_of=as_of, shift_days=shift)
            proposals += found
            by_county.update(summary.by_county)
        known = names(con, _codes(proposals))
    finally:
        con.close()
    return JointResult(proposals, total(by_county, year=year, as_of=as_of), known, shift)


def joint_proposals(settings: Settings, year: int | None = None,
                    as_of: date | None = None) -> tuple[list[Proposal], Summary]:
    """SPEC 13 over the warehouse: the proposals of `year` as of `as_of`, and their summary."""
    result = joint_result(settings, year, as_of)
    return result.proposals, result.summary
