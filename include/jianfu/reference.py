"""Reference data kept by the coordination office (SPEC.md section 3).

Loaded once per run and shared by ingestion (membership checks), the warehouse (units and
departments tables), flags (quotas, names in details) and alerts (contact e-mails).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from .config import ConfigError
from .schema import DEPT_CODE_RE, UNIT_CODE_RE

_UNIT_RE = re.compile(UNIT_CODE_RE)
_DEPT_RE = re.compile(DEPT_CODE_RE)
LEVELS = ("county", "township", "village")


@dataclass(frozen=True, slots=True)  # a national reference holds 660,000 of them
class Unit:
    unit_code: str
    unit_name: str
    level: str
    parent_code: str | None
    contact_email: str | None = None

    @property
    def county_code(self) -> str:
        return self.unit_code[:6]

    @property
    def township_code(self) -> str | None:
        """The 12-digit code of the township this unit is or belongs to (None for a county)."""
        if self.level == "county":
            return None
        return self.unit_code[:9] + "000"


@dataclass(frozen=True, slots=True)
class Department:
    dept_code: str
    dept_name: str
    contact_email: str | None = None

    @property
    def gov_code(self) -> str:
        return self.dept_code[:6]


def _read_csv(path: Path, required: tuple[str, ...]) -> Iterator[dict[str, str]]:
    """The rows of a reference CSV, one at a time (a national units.csv has 660,000: holding them
    all as dicts while the units are made would double what the reference costs in memory)."""
    if not path.exists():
        raise ConfigError(f"reference file {path} is missing: put the office's {path.name} there "
                          f"(its columns: {', '.join(required)})")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = [h.strip() for h in next(reader, [])]
        missing = [c for c in required if c not in header]
        if missing:
            raise ConfigError(f"{path}: missing column(s) {', '.join(missing)}")
        for values in reader:
            if not values:  # a blank line, as csv.DictReader skips it
                continue
            values += [""] * (len(header) - len(values))  # a short row: its missing cells are blank
            yield {name: value.strip() for name, value in zip(header, values, strict=False)}


@dataclass
class Reference:
    """units.csv, departments.csv and quotas.csv of one reference directory."""

    units: dict[str, Unit]
    departments: dict[str, Department]
    quotas: dict[tuple[str, int], int]
    path: Path

    @classmethod
    def load(cls, path: Path) -> Reference:
        units: dict[str, Unit] = {}
        for n, row in enumerate(_read_csv(path / "units.csv", ("unit_code", "unit_name", "level")), start=2):
            code, level = row["unit_code"], row["level"]
            if not _UNIT_RE.match(code):
                raise ConfigError(f"{path / 'units.csv'} line {n}: unit_code {code!r} is not 12 digits")
            if level not in LEVELS:
                raise ConfigError(f"{path / 'units.csv'} line {n}: level {level!r} is not one of {LEVELS}")
            units[code] = Unit(code, row["unit_name"], level, row.get("parent_code") or None,
                               row.get("contact_email") or None)
        departments: dict[str, Department] = {}
        for n, row in enumerate(_read_csv(path / "departments.csv", ("dept_code", "dept_name")), start=2):
            code = row["dept_code"]
            if not _DEPT_RE.match(code):
                raise ConfigError(f"{path / 'departments.csv'} line {n}: dept_code {code!r} is malformed")
            departments[code] = Department(code, row["dept_name"], row.get("contact_email") or None)
        return cls(units=units, departments=departments, quotas=load_quotas(path), path=path)

    @cached_property
    def county_codes(self) -> frozenset[str]:
        return frozenset(u.county_code for u in self.units.values() if u.level == "county")

    def county_name(self, county_code: str) -> str:
        unit = self.units.get(county_code + "000000")
        return unit.unit_name if unit else county_code


def load_quotas(path: Path) -> dict[tuple[str, int], int]:
    """quotas.csv of a reference directory: (dept_code, year) -> max_inspection_items (empty when
    there is no file). Apart from Reference.load because the build's quota step needs only this,
    not the country's units."""
    quotas: dict[tuple[str, int], int] = {}
    quota_path = path / "quotas.csv"
    if quota_path.exists():
        rows = _read_csv(quota_path, ("dept_code", "year", "max_inspection_items"))
        for n, row in enumerate(rows, start=2):
            try:
                quotas[(row["dept_code"], int(row["year"]))] = int(row["max_inspection_items"])
            except ValueError:
                raise ConfigError(f"{quota_path} line {n}: year and max_inspection_items must be whole numbers") from None
    return quotas
