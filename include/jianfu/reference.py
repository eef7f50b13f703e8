"""Reference data kept by the coordination office (SPEC.md section 3).

Loaded once per run and shared by ingestion (membership checks), the warehouse (units and
departments tables), flags (quotas, names in details) and alerts (contact e-mails).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pacsv

from .config import ConfigError
from .schema import DEPT_CODE_RE, UNIT_CODE_RE

LEVELS = ("county", "township", "village")

#: Names of the areas above county level, from the National Bureau of Statistics' division codes
#: (2023): provinces by two digits, prefecture-level cities by four. units.csv names counties and
#: what lies below them, and an office above county level sees its counties summed by city or
#: province.
DIVISIONS = Path(__file__).parent / "divisions"


@cache
def area_names() -> dict[str, str]:
    """Province (2-digit) and city (4-digit) code -> name. A municipality's districts (市辖区) and
    the counties a province governs directly (省直辖县级行政区划) are named by their province."""
    names: dict[str, str] = {}
    with (DIVISIONS / "provinces.csv").open(encoding="utf-8", newline="") as fh:
        names.update((r["province_code"], r["province_name"]) for r in csv.DictReader(fh))
    with (DIVISIONS / "cities.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            name = r["city_name"]
            names[r["city_code"]] = names[r["province_code"]] if name in ("市辖区", "县") or "直辖" in name else name
    return names


def area_name(code: str) -> str:
    """`山西省 14`, `长治市 1404`: a province's or a city's code with its name."""
    return f"{area_names().get(code, '')} {code}".strip()


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


def _read_table(path: Path, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> pa.Table:
    """The `required` and `optional` columns of a reference CSV as text without surrounding spaces
    (an optional column the file lacks is blank). Read by pyarrow: a national units.csv has 660,000
    rows, and every process that checks submissions reads it."""
    if not path.exists():
        raise ConfigError(f"reference file {path} is missing: put the office's {path.name} there "
                          f"(its columns: {', '.join(required)})")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        header = [h.strip() for h in next(csv.reader(fh), [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise ConfigError(f"{path}: missing column(s) {', '.join(missing)}")
    wanted = [c for c in (*required, *optional) if c in header]
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1),
            convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in wanted},
                                                 include_columns=wanted, strings_can_be_null=False),
        )
    except pa.ArrowInvalid as exc:
        raise ConfigError(f"{path}: {str(exc).splitlines()[0]}") from None
    columns = {c: pc.utf8_trim_whitespace(table.column(c)) for c in wanted}
    for c in optional:
        columns.setdefault(c, pa.chunked_array([pa.nulls(table.num_rows, pa.string())]))
    return pa.table(columns)


def _check(table: pa.Table, path: Path, column: str, valid: pa.ChunkedArray, what: str) -> None:
    """ConfigError naming the first line of `path` whose `column` is not `valid`."""
    bad = pc.indices_nonzero(pc.invert(valid)) if len(table) else pa.array([], pa.uint64())
    if len(bad):
        n = bad[0].as_py()
        raise ConfigError(f"{path} line {n + 2}: {column} {table.column(column)[n].as_py()!r} {what}")


def _units_table(path: Path) -> pa.Table:
    table = _read_table(path / "units.csv", ("unit_code", "unit_name", "level"), ("parent_code", "contact_email"))
    codes = table.column("unit_code")
    _check(table, path / "units.csv", "unit_code", pc.match_substring_regex(codes, UNIT_CODE_RE), "is not 12 digits")
    _check(table, path / "units.csv", "level", pc.is_in(table.column("level"), pa.array(LEVELS)),
           f"is not one of {LEVELS}")
    return table


def _departments_table(path: Path) -> pa.Table:
    table = _read_table(path / "departments.csv", ("dept_code", "dept_name"), ("contact_email",))
    _check(table, path / "departments.csv", "dept_code",
           pc.match_substring_regex(table.column("dept_code"), DEPT_CODE_RE), "is malformed")
    return table


def _texts(column: pa.ChunkedArray) -> list[str | None]:
    """A column's values, blank ones as None."""
    return [v or None for v in column.to_pylist()]


@dataclass
class Reference:
    """units.csv, departments.csv and quotas.csv of one reference directory."""

    units: dict[str, Unit]
    departments: dict[str, Department]
    quotas: dict[tuple[str, int], int]
    path: Path

    @classmethod
    def load(cls, path: Path) -> Reference:
        table = _units_table(path)
        columns = [table.column(c).to_pylist() for c in ("unit_code", "unit_name", "level")]
        extra = [_texts(table.column(c)) for c in ("parent_code", "contact_email")]
        units = {code: Unit(code, name, level, parent, email)
                 for code, name, level, parent, email in zip(*columns, *extra, strict=True)}
        table = _departments_table(path)
        departments = {code: Department(code, name, email) for code, name, email in zip(
            table.column("dept_code").to_pylist(), table.column("dept_name").to_pylist(),
            _texts(table.column("contact_email")), strict=True)}
        return cls(units=units, departments=departments, quotas=load_quotas(path), path=path)

    @cached_property
    def county_codes(self) -> frozenset[str]:
        return frozenset(u.county_code for u in self.units.values() if u.level == "county")

    def county_name(self, county_code: str) -> str:
        unit = self.units.get(county_code + "000000")
        return unit.unit_name if unit else county_code


def county_names(path: Path) -> dict[str, str]:
    """County code (6 digits) -> name, from the county rows of units.csv: what the collection
    board needs of the reference, without the country's 660,000 Unit objects (about 400 MB)."""
    units = _units_table(path)
    counties = units.filter(pc.equal(units.column("level"), "county"))
    codes = pc.utf8_slice_codeunits(counties.column("unit_code"), 0, 6).to_pylist()
    return dict(zip(codes, counties.column("unit_name").to_pylist(), strict=True))


def load_quotas(path: Path) -> dict[tuple[str, int], int]:
    """quotas.csv of a reference directory: (dept_code, year) -> max_inspection_items (empty when
    there is no file). Apart from Reference.load because the build's quota step needs only this,
    not the country's units."""
    quotas: dict[tuple[str, int], int] = {}
    quota_path = path / "quotas.csv"
    if quota_path.exists():
        table = _read_table(quota_path, ("dept_code", "year", "max_inspection_items"))
        rows = zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True)
        for n, (dept_code, year, most) in enumerate(rows, start=2):
            try:
                quotas[(dept_code, int(year))] = int(most)
            except ValueError:
                raise ConfigError(f"{quota_path} line {n}: year and max_inspection_items must be whole numbers") from None
    return quotas


@dataclass(frozen=True)
class Codes:
    """The reference as checking a submission needs it: the unit codes with their levels, the
    department codes, the counties. Columns rather than Unit objects: a country's 660,000 units
    take tens of MB and a fraction of a second, so each of ingest's worker processes loads its own."""

    unit_codes: pa.Array
    unit_levels: pa.Array
    dept_codes: pa.Array
    county_codes: frozenset[str]

    @classmethod
    def load(cls, path: Path) -> Codes:
        units = _units_table(path)
        return cls._of(units.column("unit_code").combine_chunks(), units.column("level").combine_chunks(),
                       _departments_table(path).column("dept_code").combine_chunks())

    @classmethod
    def of(cls, reference: Reference) -> Codes:
        """The codes of a Reference already loaded."""
        units = list(reference.units.values())
        return cls._of(pa.array([u.unit_code for u in units], pa.string()),
                       pa.array([u.level for u in units], pa.string()),
                       pa.array(list(reference.departments), pa.string()))

    @classmethod
    def _of(cls, unit_codes: pa.Array, unit_levels: pa.Array, dept_codes: pa.Array) -> Codes:
        counties = pc.utf8_slice_codeunits(pc.filter(unit_codes, pc.equal(unit_levels, "county")), 0, 6)
        return cls(unit_codes, unit_levels, dept_codes, frozenset(counties.to_pylist()))
