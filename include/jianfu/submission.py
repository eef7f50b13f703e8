"""What reading a submission hands to validation: one normalised table per received file.

A neutral module: ingest builds these and validate consumes them, and neither imports the other.

The *validation frame* is a pandas DataFrame (GX validates pandas) with one row per data row of the
county's file (fully blank rows and note rows already dropped) and these columns:

- `__row`: int, the 1-based row number of that row in the county's own file (title and header rows
  counted), so a report points where the clerk looks.
- for every canonical column of the kind (jianfu.schema), present in the file or not:
  - `<col>`: the parsed value, typed by the column's type —
    county_code / unit_code / dept_code / text: pandas string (NFKC, trimmed; dept codes upper-cased);
    enum: canonical English word when the English or Chinese word is recognised, otherwise the
    trimmed text as sent (so an unknown value stays visible to the in-set check);
    period: string 'YYYY-MM', null when unparseable; year: Int64; int: Int64 (null unless a whole
    number); number: Float64; date: datetime64 (NaT when unparseable or impossible); bool: boolean.
  - `<col>__raw`: pandas string, the trimmed cell text as sent (null when blank), for every column:
    it tells "missing" from "malformed" and is the value quoted in reports.
  Optional columns absent from the file are all-null.

The reader builds an Arrow table (ReadResult.table: the same rows and columns, parsed types before
conversion to pandas) and the frame only when something asks for it. Validation stacks those tables
and staging (read.to_arrow) writes them, so neither converts pandas back to Arrow. A frame built
another way (tests) has no table and is converted instead.

A file whose structure is broken (unreadable, no header row, required column missing, two headers
mapping to one column, county or period not uniform, too large) never becomes a frame: the reader
raises jianfu.problems.RejectFile.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa

from .problems import Problem
from .schema import Kind

ROW = "__row"


def raw(column: str) -> str:
    """Name of the raw-text companion of a canonical column."""
    return f"{column}__raw"


class ReadResult:
    """A file read and normalised: its rows, what it is about, and warnings found on the way.

    The reader builds `table` (Arrow); `frame`, the pandas validation frame, is made from it on
    first use, since validation stacks the tables and staging writes them. A frame built another
    way (tests) is passed as `frame` and has no table.
    """

    def __init__(self, frame: pd.DataFrame | None = None, county_code: str = "", period: str = "",
                 problems: list[Problem] | None = None, header_row: int = 1, *,
                 table: pa.Table | None = None, headers: dict[str, str] | None = None):
        if frame is None and table is None:
            raise ValueError("a ReadResult needs its frame or its table")
        self._frame = frame
        #: The rows as the reader built them in Arrow (parsed types of
        #: jianfu.ingest.values.PARSED_TYPES, `__raw` as string, `__row` as int64); None for a
        #: frame built another way.
        self.table = table
        self.county_code = county_code
        self.period = period  # 'YYYY-MM' for monthly kinds, 'YYYY' for inspections
        self.problems: list[Problem] = problems if problems is not None else []
        self.header_row = header_row  # 1-based row of the header in the file
        #: canonical column -> the header cell the county wrote for it (reports show both)
        self.headers: dict[str, str] = headers or {}

    @property
    def frame(self) -> pd.DataFrame:
        """The validation frame (see the module docstring), built from `table` when first asked for."""
        if self._frame is None:
            self._frame = to_pandas(self.table)
        return self._frame

    @property
    def row_count(self) -> int:
        return self.table.num_rows if self.table is not None else len(self._frame)


#: Nullable pandas dtypes of the validation frame, by the Arrow type of the reader's column.
_PANDAS_TYPES = {
    pa.string(): pd.StringDtype("pyarrow"),
    pa.int64(): pd.Int64Dtype(),
    pa.float64(): pd.Float64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """Arrow columns -> DataFrame with nullable pandas dtypes (`__row` as int64).

    Built column by column rather than with Table.to_pandas, whose block consolidation costs more than
    the whole parse of a typical file.
    """
    types = _PANDAS_TYPES
    data: dict[str, object] = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        array = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
        dtype = types.get(array.type)
        if name == ROW:
            data[name] = array.to_numpy().astype(np.int64)
        elif dtype is not None:
            data[name] = dtype.__from_arrow__(array)
        else:  # timestamps: datetime64[ns], NaT for nulls
            data[name] = array.to_pandas()
    return pd.DataFrame(data, copy=False)


@dataclass
class BatchItem:
    """One file handed to validation, with what the validator needs to know about its receipt."""

    key: str  # submission_id
    kind: Kind
    read: ReadResult
    received_at: datetime


def shown(text: str) -> str:
    """A file name (or path) from landing as text safe to store and show: bytes that are not UTF-8
    (a GBK name from a Windows zip) become `\\xNN`, and control and line-breaking characters
    become `\\uNNNN`, so a name can never forge a line of a summary or a report."""
    if text.isprintable():  # nothing to escape (no control, format, separator or undecodable character)
        return text
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(f"\\u{ord(ch):04x}" if unicodedata.category(ch) in _HIDDEN else ch for ch in text)


_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp"})


def bounded(text: str, max_bytes: int) -> str:
    """`text` cut to at most `max_bytes` of UTF-8 on a character boundary (file names are limited
    in bytes, and a long Chinese name is three bytes a character)."""
    return text.encode("utf-8")[:max_bytes].decode("utf-8", "ignore")
