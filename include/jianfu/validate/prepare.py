"""Data preparation for GX: many files of one kind stacked into one frame, plus derived columns.

GX costs about a quarter of a second per validation run whatever the batch size, so validating a
province month file by file (hundreds of files) would be dominated by that overhead. Instead every
file of a kind is stacked into one DataFrame with `__file` (its index in the call) and `__pos` (its
position in the stacked frame), the suite runs once, and failures are attributed back by those
columns.

Derived columns only *prepare* values a rule compares (a unit's county, a period's last day, how old
a period is when received); every verdict comes from a GX expectation of the suite:

- `__first_row`: True on the first row of each file. File-level values (county, period, year) are
  uniform in a file (the reader guarantees it), so their rules are checked on that row only: one
  problem per file instead of one per row.
- `__county`: the submitting county of the file.
- `__unit_county`: first 6 digits of the kind's unit column when it is a well-formed unit code.
- `__dept_gov`: first 6 digits of the kind's department column when it is a well-formed dept code.
- monthly kinds: `__period_end` (last day of the period), `__age_months` (months from the period to
  the month received, China time).
- inspections: `__age_years` (years from the plan's year to the year received), `__age_months`
  (months from December of that year to the month received), `__planned_date_year`,
  `__actual_date_year`.
- `__county_ref`, `__unit_ref`, `__dept_ref`: the codes joined to the reference (see
  join_reference); the suites decide which levels a kind accepts.

File-level values (`__age_*`, `__county_ref`) sit on the first row of each file only, so those
rules speak once per file. Numbers go to GX as float64 (see _DTYPES).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pandas as pd

from ..ingest.frame import ROW, BatchItem, raw
from ..reference import Reference
from ..schema import (
    BOOL,
    COUNTY_CODE_RE,
    DATE,
    DEPT_CODE,
    DEPT_CODE_RE,
    INT,
    NUMBER,
    UNIT_CODE_RE,
    YEAR,
    Kind,
)

FILE = "__file"
POS = "__pos"
FIRST_ROW = "__first_row"
#: Reference label of a well-formed code that the reference does not hold.
ABSENT = "absent"
DEPARTMENT = "department"

#: China Standard Time has no daylight saving: a fixed offset is exact and needs no tz database.
CHINA = timezone(timedelta(hours=8))

#: Numbers are given to GX as plain float64 (NaN for null): GX 1.24 compares only numpy int/float
#: columns vectorised in expect_column_values_to_be_between and falls back to a Python call per
#: row for pandas' nullable Int64/Float64 (1.2 million calls for a 300,000-row batch). Whole
#: numbers up to 2**53 are exact in float64; reports quote the raw text anyway.
_DTYPES = {INT: "float64", YEAR: "float64", NUMBER: "float64", BOOL: "boolean"}


def received_month(received_at: datetime) -> tuple[int, int]:
    """(year, month) of a receipt in China time, the calendar the county reports by: a file that
    lands at 02:00 Beijing time on 1 April (still 31 March in UTC) may describe April. Naive times
    are UTC, as the ledger stores them (jianfu.ledger.as_naive_utc)."""
    aware = received_at if received_at.tzinfo else received_at.replace(tzinfo=UTC)
    local = aware.astimezone(CHINA)
    return local.year, local.month


def _month_index(period: str | None) -> int | None:
    """'YYYY-MM' as a count of months, None when it is not such a string."""
    try:
        year, month = str(period).split("-")
        y, m = int(year), int(month)
    except (TypeError, ValueError):
        return None
    return y * 12 + m - 1 if 1 <= m <= 12 else None


def _year(period: str | None) -> int | None:
    try:
        return int(str(period)[:4]) if period is not None and len(str(period)) == 4 else None
    except ValueError:
        return None


def dept_column(kind: Kind) -> str:
    """The kind's own department column (dept_code or owner_dept_code)."""
    return next(c.name for c in kind.columns if c.type == DEPT_CODE)


def _typed(frame: pd.DataFrame, kind: Kind) -> pd.DataFrame:
    """Give every column the dtype of the contract: stacking files where an optional column is all
    blank in one and filled in another would otherwise leave an object column GX compares badly."""
    out = {}
    for col in kind.columns:
        s = frame[col.name]
        if col.type == DATE:
            s = s if pd.api.types.is_datetime64_any_dtype(s) else pd.to_datetime(s, errors="coerce")
        elif _DTYPES.get(col.type) == "float64":
            s = pd.Series(pd.to_numeric(s, errors="coerce").astype("Float64").to_numpy(dtype="float64", na_value=np.nan),
                          index=s.index)
        else:
            s = s.astype(_DTYPES.get(col.type, "string"))
        out[col.name] = s
        out[raw(col.name)] = frame[raw(col.name)].astype("string")
    return pd.DataFrame(out, index=frame.index)


def _code_prefix(values: pd.Series, pattern: str) -> pd.Series:
    """First 6 digits of each value that is a well-formed code, else null."""
    ok = values.str.fullmatch(pattern.strip("^$")).fillna(False).astype(bool)
    return values.str.slice(0, 6).where(ok, pd.NA).astype("string")


def stack(indexed: list[tuple[int, BatchItem]], kind: Kind, reference: Reference) -> pd.DataFrame:
    """One frame holding the files of one kind, with `__file`, `__pos` and the derived columns."""
    wanted = [ROW, *[c for name in kind.column_names for c in (name, raw(name))]]
    frames = [item.read.frame.reindex(columns=wanted) for _, item in indexed]
    lengths = np.array([len(f) for f in frames], dtype=np.int64)
    stacked = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=wanted)
    out = _typed(stacked, kind)
    n = len(out)
    out.insert(0, ROW, stacked[ROW].astype("int64"))
    out.insert(0, POS, np.arange(n, dtype=np.int64))
    out.insert(0, FILE, np.repeat(np.array([i for i, _ in indexed], dtype=np.int64), lengths))
    first = np.zeros(n, dtype=bool)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if len(lengths) else np.array([], dtype=np.int64)
    first[starts[lengths > 0]] = True
    out[FIRST_ROW] = first

    def per_file(values: list, dtype: str) -> pd.Series:
        return pd.Series(np.repeat(np.array(values, dtype=object), lengths), dtype=dtype, index=out.index)

    def first_only(values: list, dtype: str) -> pd.Series:
        """A file-level value on the first row of its file, null on the others: one problem per file."""
        values = [np.nan if v is None and dtype == "float64" else v for v in values]
        column = per_file(values, dtype)
        return column.where(first, np.nan if dtype == "float64" else pd.NA)

    out["__county"] = per_file([item.read.county_code for _, item in indexed], "string")
    out["__unit_county"] = _code_prefix(out[kind.unit_column], UNIT_CODE_RE)
    out["__dept_gov"] = _code_prefix(out[dept_column(kind)], DEPT_CODE_RE)

    received = [received_month(item.received_at) for _, item in indexed]
    received_idx = [y * 12 + m - 1 for y, m in received]
    if kind.period_column == "period":
        periods = [_month_index(item.read.period) for _, item in indexed]
        ends = [pd.Timestamp(p // 12, p % 12 + 1, 1) + pd.offsets.MonthEnd(0) if p is not None else pd.NaT
                for p in periods]
        date_unit = next((out[c.name].dtype for c in kind.columns if c.type == DATE), "datetime64[us]")
        out["__period_end"] = pd.Series(pd.DatetimeIndex(ends).repeat(lengths), index=out.index).astype(date_unit)
        out["__age_months"] = first_only([r - p if p is not None else None for r, p in zip(received_idx, periods, strict=True)],
                                         "float64")
    else:
        years = [_year(item.read.period) for _, item in indexed]
        out["__age_years"] = first_only([r[0] - y if y is not None else None for r, y in zip(received, years, strict=True)],
                                        "float64")
        out["__age_months"] = first_only(
            [r - (y * 12 + 11) if y is not None else None for r, y in zip(received_idx, years, strict=True)], "float64")
        for col in ("planned_date", "actual_date"):
            out[f"__{col}_year"] = out[col].dt.year.astype("float64")
    join_reference(out, kind, reference)
    return out


@dataclass
class _ReferenceIndex:
    """Reference codes as pandas indexes, for joining codes of the batch to the reference."""

    units: pd.Index
    unit_levels: np.ndarray
    depts: pd.Index


_INDEX: dict[int, tuple[weakref.ref, _ReferenceIndex]] = {}


def _index(reference: Reference) -> _ReferenceIndex:
    """Built once per Reference object: the national units list has 660,000 rows."""
    hit = _INDEX.get(id(reference))
    if hit and hit[0]() is reference:
        return hit[1]
    idx = _ReferenceIndex(
        units=pd.Index(list(reference.units), dtype="string"),
        unit_levels=np.array([u.level for u in reference.units.values()] + [ABSENT], dtype=object),
        depts=pd.Index(list(reference.departments), dtype="string"),
    )
    key = id(reference)
    _INDEX[key] = (weakref.ref(reference, lambda _: _INDEX.pop(key, None)), idx)
    return idx


def _join(codes: pd.Series, usable: np.ndarray, index: pd.Index, labels: np.ndarray) -> pd.Series:
    """For each usable code, the label of its reference entry (the last label, ABSENT, when it has
    none); null for codes that are blank or malformed, whose own rules report them."""
    found = index.get_indexer(codes.where(usable, pd.NA))
    picked = labels[found]  # -1 picks the trailing ABSENT
    return pd.Series(picked, index=codes.index, dtype="string").where(usable, pd.NA)


def join_reference(out: pd.DataFrame, kind: Kind, reference: Reference) -> None:
    """Add `__county_ref`, `__unit_ref` and `__dept_ref`: the reference level of the county (first
    row of each file), of the unit, and "department" for a known department; ABSENT when a
    well-formed code is not in the reference.

    A join rather than GX suite parameters: GX 1.24 re-serialises an expectation's substituted
    value_set on every access of Expectation.configuration (about 130 times per expectation per
    run), so a value set of a province's 300,000 unit codes would take minutes per run.
    """
    idx = _index(reference)
    unit_ok = out["__unit_county"].notna().to_numpy()
    out["__unit_ref"] = _join(out[kind.unit_column], unit_ok, idx.units, idx.unit_levels)
    county_units = out["county_code"].astype("string") + "000000"
    county_ok = (out[FIRST_ROW] & out["county_code"].str.fullmatch(COUNTY_CODE_RE.strip("^$")).fillna(False)).to_numpy(bool)
    out["__county_ref"] = _join(county_units, county_ok, idx.units, idx.unit_levels)
    dept_ok = out["__dept_gov"].notna().to_numpy()
    dept_labels = np.array([DEPARTMENT] * len(idx.depts) + [ABSENT], dtype=object)
    out["__dept_ref"] = _join(out[dept_column(kind)], dept_ok, idx.depts, dept_labels)
