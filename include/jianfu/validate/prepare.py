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
rules speak once per file.

Speed: the files are stacked as Arrow (the reader's ReadResult.table, else the frame converted) and
the frame handed to GX is numpy-backed: strings as pandas Categoricals (codes over the distinct
values), numbers as float64 (see _DTYPES), dates as datetime64[us], booleans as numpy bool or the
masked boolean dtype. GX copies the batch with a boolean mask for nearly every metric (row
conditions, its null filter, unexpected rows); on Arrow-backed strings each copy is a pyarrow `take`
of every string, on categoricals a numpy take of small integer codes. Derived code columns and the
reference joins work on the distinct values only. `__county` and `__unit_county` share their
categories, as pandas compares two categoricals only then.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..reference import Codes
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
from ..submission import ROW, BatchItem, raw

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
    blank in one and filled in another would otherwise leave an object column GX compares badly.
    Only for frames that come without their Arrow table (built by hand, not by the reader)."""
    out = {ROW: frame[ROW].astype("int64")}
    for col in kind.columns:
        s = frame[col.name]
        if col.type == DATE:
            s = s if pd.api.types.is_datetime64_any_dtype(s) else pd.to_datetime(s, errors="coerce")
        elif _DTYPES.get(col.type) == "float64":
            s = pd.to_numeric(s, errors="coerce").astype("Float64")
        else:
            s = s.astype(_DTYPES.get(col.type, "string"))
        out[col.name] = s
        out[raw(col.name)] = frame[raw(col.name)].astype("string")
    return pd.DataFrame(out, index=frame.index)


def _arrow_type(col) -> pa.DataType:
    """Arrow type of a canonical column while it is being prepared (see _DTYPES)."""
    if col.type == DATE:
        return pa.timestamp("us")
    if _DTYPES.get(col.type) == "float64":
        return pa.float64()
    if col.type == BOOL:
        return pa.bool_()
    return pa.string()


def _schema(kind: Kind) -> pa.Schema:
    fields = [pa.field(ROW, pa.int64())]
    for col in kind.columns:
        fields += [pa.field(col.name, _arrow_type(col)), pa.field(raw(col.name), pa.string())]
    return pa.schema(fields)


def _item_table(item: BatchItem, kind: Kind, schema: pa.Schema) -> pa.Table:
    """The file's rows as Arrow, typed by `schema`: the reader's own table when it kept one (no
    conversion at all), else the pandas frame converted column by column."""
    table = getattr(item.read, "table", None)
    if table is None:
        frame = _typed(item.read.frame.reindex(columns=schema.names), kind)
        table = pa.Table.from_arrays([pa.Array.from_pandas(frame[name]) for name in schema.names],
                                     names=schema.names)
    else:
        table = table.select(schema.names)
    if table.schema != schema:
        table = pa.Table.from_arrays([pc.cast(table.column(f.name), f.type, safe=False)
                                      if table.column(f.name).type != f.type else table.column(f.name)
                                      for f in schema], schema=schema)
    return table


def _categorical(values: pa.ChunkedArray | pa.Array) -> pd.Categorical:
    """Strings as a pandas Categorical over numpy: GX filters and copies the batch for almost every
    metric, and a copy of a categorical is a numpy take of its codes, where an Arrow-backed string
    column copies every string (pyarrow `take`)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    encoded = values.dictionary_encode()
    codes = pc.fill_null(encoded.indices, -1).to_numpy()
    categories = pd.Index(encoded.dictionary.to_numpy(zero_copy_only=False), dtype=object)
    return pd.Categorical.from_codes(codes, categories=categories, validate=False)


def _recode(cat: pd.Categorical, mapped: list, categories: list | None = None) -> pd.Categorical:
    """`cat` with each category replaced by mapped[i] (None: null), over `categories` (default: the
    distinct mapped values). Works on the categories only: one Python call per distinct value."""
    cats = list(dict.fromkeys(categories if categories is not None else [m for m in mapped if m is not None]))
    where = {c: n for n, c in enumerate(cats)}
    lookup = np.array([where[m] if m is not None else -1 for m in mapped] + [-1], dtype=np.int64)
    codes = lookup[np.asarray(cat.codes, dtype=np.int64)]  # code -1 picks the trailing -1
    return pd.Categorical.from_codes(codes, categories=pd.Index(cats, dtype=object), validate=False)


def _prefix(cat: pd.Categorical, pattern: str) -> list:
    """For each category: its first 6 characters when it is a well-formed code, else None."""
    match = _fullmatch(pattern)
    return [c[:6] if match(c) else None for c in cat.categories]


def _fullmatch(pattern: str):
    """A whole-string matcher of a schema pattern (`^...$`; `$` alone would accept a trailing newline)."""
    return re.compile(pattern.strip("^$")).fullmatch


def stack(indexed: list[tuple[int, BatchItem]], kind: Kind, codes: Codes) -> pd.DataFrame:
    """One frame holding the files of one kind, with `__file`, `__pos` and the derived columns.

    Columns GX reads are numpy-backed: strings as categoricals, numbers as float64, dates as
    datetime64[us], booleans as numpy bool (or the masked boolean dtype where they may be null).
    """
    schema = _schema(kind)
    tables = [_item_table(item, kind, schema) for _, item in indexed]
    lengths = np.array([t.num_rows for t in tables], dtype=np.int64)
    stacked = pa.concat_tables(tables) if tables else schema.empty_table()
    n = stacked.num_rows
    first = np.zeros(n, dtype=bool)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if len(lengths) else np.array([], dtype=np.int64)
    first[starts[lengths > 0]] = True
    files = np.repeat(np.arange(len(indexed), dtype=np.int64), lengths)  # position in `indexed`
    index = pd.RangeIndex(n)

    data: dict[str, object] = {
        FILE: np.array([i for i, _ in indexed], dtype=np.int64)[files] if n else np.zeros(0, np.int64),
        POS: np.arange(n, dtype=np.int64),
        ROW: stacked.column(ROW).to_numpy().astype(np.int64, copy=False),
    }
    for col in kind.columns:
        values = stacked.column(col.name)
        if col.type == DATE:
            data[col.name] = values.to_pandas().to_numpy(dtype="datetime64[us]")
        elif _DTYPES.get(col.type) == "float64":
            data[col.name] = values.to_numpy().astype(np.float64, copy=False) if n else np.zeros(0)
        elif col.type == BOOL:
            data[col.name] = pd.BooleanDtype().__from_arrow__(values)
        else:
            data[col.name] = _categorical(values)
        text = stacked.column(raw(col.name))
        # A code or name typed as the contract writes it is its own parsed value: encoded once.
        same = values.type == pa.string() and values.equals(text)
        data[raw(col.name)] = data[col.name] if same else _categorical(text)
    data[FIRST_ROW] = first
    out = pd.DataFrame(data, index=index, copy=False)

    def first_only(values: list) -> np.ndarray:
        """A file-level number on the first row of its file, NaN on the others: one problem per file."""
        per_file = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
        return np.where(first, per_file[files] if n else np.zeros(0), np.nan)

    counties = [item.read.county_code for _, item in indexed]
    unit = out[kind.unit_column].array
    unit_county = _prefix(unit, UNIT_CODE_RE)
    shared = [c for c in dict.fromkeys([*counties, *unit_county]) if c is not None]
    county_cat = pd.Categorical.from_codes(
        np.array([shared.index(c) if c is not None else -1 for c in counties] + [-1], dtype=np.int64)[files]
        if n else np.zeros(0, np.int64), categories=pd.Index(shared, dtype=object), validate=False)
    out["__county"] = county_cat
    out["__unit_county"] = _recode(unit, unit_county, shared)
    dept = out[dept_column(kind)].array
    out["__dept_gov"] = _recode(dept, _prefix(dept, DEPT_CODE_RE))

    received = [received_month(item.received_at) for _, item in indexed]
    received_idx = [y * 12 + m - 1 for y, m in received]
    if kind.period_column == "period":
        periods = [_month_index(item.read.period) for _, item in indexed]
        ends = np.array([np.datetime64(pd.Timestamp(p // 12, p % 12 + 1, 1) + pd.offsets.MonthEnd(0), "us")
                         if p is not None else np.datetime64("NaT", "us") for p in periods], dtype="datetime64[us]")
        out["__period_end"] = ends[files] if n else np.zeros(0, dtype="datetime64[us]")
        out["__age_months"] = first_only([r - p if p is not None else None for r, p in zip(received_idx, periods, strict=True)])
    else:
        years = [_year(item.read.period) for _, item in indexed]
        out["__age_years"] = first_only([r[0] - y if y is not None else None for r, y in zip(received, years, strict=True)])
        out["__age_months"] = first_only(
            [r - (y * 12 + 11) if y is not None else None for r, y in zip(received_idx, years, strict=True)])
        for col in ("planned_date", "actual_date"):
            out[f"__{col}_year"] = pd.DatetimeIndex(out[col]).year.to_numpy(dtype=np.float64, na_value=np.nan)
    join_reference(out, kind, codes)
    return out


@dataclass
class _ReferenceIndex:
    """Reference codes as pandas indexes, for joining codes of the batch to the reference."""

    units: pd.Index
    unit_levels: np.ndarray
    depts: pd.Index


_INDEX: dict[int, tuple[weakref.ref, _ReferenceIndex]] = {}


def reference_index(codes: Codes) -> _ReferenceIndex:
    """Built once per Codes object, with the hash tables of its lookups: the national units list
    has 660,000 rows. Ingest builds it before forking its workers, which then share it."""
    hit = _INDEX.get(id(codes))
    if hit and hit[0]() is codes:
        return hit[1]
    idx = _ReferenceIndex(
        units=pd.Index(codes.unit_codes.to_pandas(types_mapper=pd.ArrowDtype), dtype="string"),
        unit_levels=np.append(codes.unit_levels.to_numpy(zero_copy_only=False), ABSENT),
        depts=pd.Index(codes.dept_codes.to_pandas(types_mapper=pd.ArrowDtype), dtype="string"),
    )
    for index in (idx.units, idx.depts):
        index.get_indexer(index[:1])  # builds the index's hash table now, not in each worker
    key = id(codes)
    _INDEX[key] = (weakref.ref(codes, lambda _: _INDEX.pop(key, None)), idx)
    return idx


def _join(cat: pd.Categorical, usable: list[bool], index: pd.Index, labels: np.ndarray) -> pd.Categorical:
    """For each usable code, the label of its reference entry (the last label, ABSENT, when it has
    none); null for codes that are blank or malformed, whose own rules report them. Joined on the
    distinct codes (the categories) only."""
    found = index.get_indexer(pd.Index(cat.categories, dtype=object).astype("string")) if len(cat.categories) \
        else np.zeros(0, dtype=np.int64)
    picked = [labels[f] if ok else None for f, ok in zip(found, usable, strict=True)]
    return _recode(cat, picked)


def join_reference(out: pd.DataFrame, kind: Kind, codes: Codes) -> None:
    """Add `__county_ref`, `__unit_ref` and `__dept_ref`: the reference level of the county (first
    row of each file), of the unit, and "department" for a known department; ABSENT when a
    well-formed code is not in the reference.

    A join rather than GX suite parameters: GX 1.24 re-serialises an expectation's substituted
    value_set on every access of Expectation.configuration (about 130 times per expectation per
    run), so a value set of a province's 300,000 unit codes would take minutes per run.
    """
    idx = reference_index(codes)
    unit = out[kind.unit_column].array
    unit_ok = _fullmatch(UNIT_CODE_RE)
    out["__unit_ref"] = _join(unit, [bool(unit_ok(c)) for c in unit.categories], idx.units, idx.unit_levels)
    county = out["county_code"].array
    county_ok = _fullmatch(COUNTY_CODE_RE)
    first = out[FIRST_ROW].to_numpy(bool)
    on_first = pd.Categorical.from_codes(np.where(first, np.asarray(county.codes, dtype=np.int64), -1),
                                         categories=county.categories, validate=False)
    county_units = _recode(on_first, [f"{c}000000" for c in county.categories], [f"{c}000000" for c in county.categories])
    out["__county_ref"] = _join(county_units, [bool(county_ok(c)) for c in county.categories],
                                idx.units, idx.unit_levels)
    dept = out[dept_column(kind)].array
    dept_ok = _fullmatch(DEPT_CODE_RE)
    dept_labels = np.array([DEPARTMENT] * len(idx.depts) + [ABSENT], dtype=object)
    out["__dept_ref"] = _join(dept, [bool(dept_ok(c)) for c in dept.categories], idx.depts, dept_labels)
