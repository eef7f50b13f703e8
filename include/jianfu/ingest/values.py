"""Parsing cell text into typed values, one whole column at a time (SPEC.md section 4).

Every function takes an Arrow string array of *normalised* cell text (trimmed, NFKC, null when the
cell is blank) and returns an Arrow array of the column's parsed type, null where the text does not
parse. Nothing here raises on bad data: a malformed value becomes null, and validation tells the
county about it by comparing the value with its `__raw` text.

Why Arrow and "unique values only": a province month is ~600k rows. Kernels from pyarrow.compute do
the row-wise work; the few types that need Python logic (dates, periods, enums, booleans) are parsed
once per distinct value and spread back with `take`, so a 3,000-row file costs a handful of kernel
calls per column, not 3,000 Python calls.

Accepted spellings, beyond what SPEC.md lists (they are unambiguous, and Chinese Excel produces them):
dates also as `YYYY.M.D` and `YYYYMMDD`, with an optional time after the date (`2026-05-03 00:00`,
what Excel date-time cells export to CSV); periods also as `YYYY/MM` and with a single-digit month.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..schema import (
    BOOL,
    COUNTY_CODE,
    DATE,
    DEPT_CODE,
    ENUM,
    FALSE_WORDS,
    INT,
    NUMBER,
    PERIOD,
    TEXT,
    TRUE_WORDS,
    UNIT_CODE,
    YEAR,
    Column,
)

INT32_MAX = 2**31 - 1

#: Arrow type of the parsed value of each column type, before conversion to pandas.
PARSED_TYPES: dict[str, pa.DataType] = {
    COUNTY_CODE: pa.string(),
    UNIT_CODE: pa.string(),
    DEPT_CODE: pa.string(),
    TEXT: pa.string(),
    ENUM: pa.string(),
    PERIOD: pa.string(),
    YEAR: pa.int64(),
    INT: pa.int64(),
    NUMBER: pa.float64(),
    DATE: pa.timestamp("ns"),
    BOOL: pa.bool_(),
}

_PERIOD = re.compile(r"^(\d{4})\s*(?:[-/]\s*(\d{1,2})|年\s*(\d{1,2})\s*月?|(\d{2}))$")
_YEAR = re.compile(r"^(\d{4})(?:\.0*)?\s*年?(?:度)?$")
_DATE = re.compile(
    r"^(\d{4})\s*(?:([-/.])\s*(\d{1,2})\s*\2\s*(\d{1,2})|年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?|(\d{2})(\d{2}))"
    r"(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_INT = r"^\+?(-?\d{1,10})(?:\.0*)?$"
_NUMBER = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?$"
_CODE_FLOAT = r"^(\d+)\.0+$"  # 421127.0 from a spreadsheet that stored the code as a number

EMPTY_TEXT = pa.scalar("", pa.string())
NULL_TEXT = pa.scalar(None, pa.string())
TRUE = pa.scalar(True, pa.bool_())
_INT32_MAX = pa.scalar(INT32_MAX, pa.int64())


def normalise(raw: pa.Array) -> pa.Array:
    """Normalised text of trimmed cells (`raw`): NFKC (full-width to half-width), trimmed again.

    ASCII text is already NFKC, so an all-ASCII column (codes, numbers, English words) is returned as
    is; otherwise NFKC runs on the distinct values only (form names, enum words repeat a lot).
    """
    if _ascii(raw):
        return raw
    encoded = pc.dictionary_encode(raw)
    words = pc.utf8_trim_whitespace(pc.utf8_normalize(encoded.dictionary, "NFKC"))
    words = pc.if_else(pc.equal(words, EMPTY_TEXT), NULL_TEXT, words)
    return pc.take(words, encoded.indices)


def _ascii(text: pa.Array) -> bool:
    """Whether every value of a string array is ASCII, read off its character data in one numpy
    pass (a kernel per value and a reduction cost more, for every column of every file). The data
    buffer of a sliced array may hold bytes outside the slice: they can only make the answer
    False, which costs the Unicode path and changes nothing."""
    if not isinstance(text, pa.Array) or text.type != pa.string():
        return pc.all(pc.string_is_ascii(text)).as_py() is not False
    data = text.buffers()[2]
    return data is None or data.size == 0 or int(np.frombuffer(data, np.uint8).max()) < 0x80


def trim(cells: pa.Array) -> pa.Array:
    """The cell text as sent, trimmed; blank -> null. This is what `<col>__raw` holds."""
    text = pc.utf8_trim_whitespace(cells if cells.type == pa.string() else cells.cast(pa.string()))
    return pc.if_else(pc.equal(text, EMPTY_TEXT), NULL_TEXT, text)


def map_unique(text: pa.Array, parse: Callable[[str], object], type_: pa.DataType) -> pa.Array:
    """Apply a Python parser to each distinct value only, and spread the results back to the rows."""
    encoded = pc.dictionary_encode(text)
    parsed = pa.array([parse(v) for v in encoded.dictionary.to_pylist()], type_)
    return pc.take(parsed, encoded.indices)


def parse_period(text: str) -> str | None:
    """'YYYY-MM', 'YYYYMM', 'YYYY年M月' (also 'YYYY/MM', single-digit month) -> 'YYYY-MM'."""
    m = _PERIOD.match(text)
    if not m:
        return None
    month = int(m.group(2) or m.group(3) or m.group(4))
    return f"{m.group(1)}-{month:02d}" if 1 <= month <= 12 else None


def parse_year(text: str) -> int | None:
    """'2026', '2026年', '2026.0' -> 2026."""
    m = _YEAR.match(text)
    return int(m.group(1)) if m else None


@lru_cache(maxsize=1 << 16)
def parse_date(text: str) -> date | None:
    """A date in any accepted spelling, or None when unparseable or impossible (2026-02-30).

    Remembered: the dates of a month's files are a few thousand values, met again file after file."""
    m = _DATE.match(text)
    if not m:
        return None
    g = m.groups()
    month, day = (g[2], g[3]) if g[1] else (g[4], g[5]) if g[4] else (g[6], g[7])
    try:
        return date(int(g[0]), int(month), int(day))
    except ValueError:
        return None


def parse_bool(text: str) -> bool | None:
    """yes/no, 是/否, true/false, 1/0, Y/N in any case -> bool."""
    word = text.casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def enum_words(column: Column) -> dict[str, str]:
    """Accepted word (case-folded, NFKC) -> canonical English value, for English and Chinese words."""
    words: dict[str, str] = {}
    for english, chinese in (column.enum or {}).items():
        for word in (english, chinese):
            words[unicodedata.normalize("NFKC", word).casefold()] = english
    return words


def _null_unless(mask: pa.Array, values: pa.Array) -> pa.Array:
    return pc.if_else(mask, values, pa.scalar(None, values.type))


def parse_column(column: Column, text: pa.Array, raw: pa.Array) -> pa.Array:
    """Parsed values of one column from its normalised text (and raw text, kept for unknown enums)."""
    kind = column.type
    if kind in (COUNTY_CODE, UNIT_CODE, DEPT_CODE):
        codes = text
        if pc.any(pc.match_substring(text, ".")).as_py():  # rare: skip the (slow) regex when absent
            codes = pc.replace_substring_regex(text, _CODE_FLOAT, r"\1")
        return pc.utf8_upper(codes) if kind == DEPT_CODE else codes
    if kind == TEXT:
        return text
    if kind == ENUM:
        words = enum_words(column)
        canonical = map_unique(text, lambda v: words.get(v.casefold()), pa.string())
        return pc.coalesce(canonical, raw)
    if kind == PERIOD:
        return map_unique(text, parse_period, pa.string())
    if kind == YEAR:
        return map_unique(text, parse_year, pa.int64())
    if kind == INT:
        try:  # fast path: every cell is a plain integer
            numbers = pc.cast(text, pa.int64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            whole = pc.match_substring_regex(text, _INT)
            numbers = pc.cast(_null_unless(whole, pc.replace_substring_regex(text, _INT, r"\1")), pa.int64())
        return _null_unless(pc.less_equal(pc.abs(numbers), _INT32_MAX), numbers)
    if kind == NUMBER:
        try:  # fast path: every cell parses; 'nan' / 'inf' are then refused below
            numbers = pc.cast(text, pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            numeric = pc.match_substring_regex(text, _NUMBER)
            numbers = pc.cast(_null_unless(numeric, text), pa.float64())
        return _null_unless(pc.is_finite(numbers), numbers)
    if kind == DATE:
        return pc.cast(map_unique(text, parse_date, pa.date32()), pa.timestamp("ns"))
    if kind == BOOL:
        return map_unique(text, parse_bool, pa.bool_())
    raise ValueError(f"column {column.name}: unknown type {kind!r}")


def empty_column(column: Column, length: int) -> pa.Array:
    """All-null parsed values for an optional column absent from the file."""
    return pa.nulls(length, PARSED_TYPES[column.type])
