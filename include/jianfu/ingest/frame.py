"""What the reader hands to validation: one normalised table per received file.

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

The reader also keeps the Arrow table it built the frame from (ReadResult.table: same rows and
columns, parsed types before conversion to pandas). Validation stacks those tables and staging
(read.to_arrow) reuses them, so neither converts pandas back to Arrow; both rely on the frame being
left as read. A frame built another way (tests) has no table and is converted instead.

A file whose structure is broken (unreadable, no header row, required column missing, two headers
mapping to one column, county or period not uniform, too large) never becomes a frame: the reader
raises jianfu.problems.RejectFile.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
import pyarrow as pa

from ..problems import Problem
from ..schema import Kind

ROW = "__row"


def raw(column: str) -> str:
    """Name of the raw-text companion of a canonical column."""
    return f"{column}__raw"


@dataclass
class ReadResult:
    """A file read and normalised: its frame, what it is about, and warnings found on the way."""

    frame: pd.DataFrame
    county_code: str
    period: str  # 'YYYY-MM' for monthly kinds, 'YYYY' for inspections
    problems: list[Problem] = field(default_factory=list)
    header_row: int = 1  # 1-based row of the header in the file
    #: The same rows and columns as `frame`, as the reader built them in Arrow (parsed types of
    #: jianfu.ingest.values.PARSED_TYPES, `__raw` as string, `__row` as int64), so validation can
    #: stack files without converting pandas back to Arrow. None for a frame built another way;
    #: whoever changes `frame` must drop it (set it to None).
    table: pa.Table | None = None


@dataclass
class BatchItem:
    """One file handed to validation, with what the validator needs to know about its receipt."""

    key: str  # submission_id
    kind: Kind
    read: ReadResult
    received_at: datetime
