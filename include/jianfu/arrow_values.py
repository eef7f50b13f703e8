"""Arrow arrays, scalars and tables from Python values, without pyarrow's object converter.

Why this exists: the first time pyarrow converts Python objects — `pa.array` of a list,
`pa.scalar`, `Table.from_pydict` / `from_pylist`, `Schema.empty_table`, a Python literal given to a
pyarrow.compute function — it imports pandas (0.2-0.3 s) to ask whether they are pandas objects.
The warehouse build never uses pandas, and that import alone was a quarter of a one-county
rebuild. So the build makes its few Python-born columns here, by laying out the Arrow buffers
(validity bitmap, offsets, values) itself; pyarrow takes buffers as they are.
tests/test_warehouse.py runs a real `jianfu build` and checks that pandas is never imported.

Only the types the build writes from Python are supported: strings, integers, float64, bool,
date32 and timestamps. Anything else raises TypeError, so a new column type is noticed rather
than converted some other way.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate

import pyarrow as pa

__all__ = ["array_of", "empty_table", "repeat_string", "scalar", "table"]

_INT_CODES = {8: "b", 16: "h", 32: "i", 64: "q"}
_UINT_CODES = {8: "B", 16: "H", 32: "I", 64: "Q"}
_EPOCH = datetime(1970, 1, 1)
_EPOCH_UTC = _EPOCH.replace(tzinfo=UTC)
_EPOCH_DAY = date(1970, 1, 1)
_UNITS = {"s": timedelta(seconds=1), "ms": timedelta(milliseconds=1),
          "us": timedelta(microseconds=1)}


def _validity(values: Sequence) -> tuple[pa.Buffer | None, int]:
    """Validity bitmap (least significant bit first) and null count; no bitmap without nulls."""
    nulls = sum(1 for v in values if v is None)
    if not nulls:
        return None, 0
    bits = bytearray((len(values) + 7) // 8)
    for i, v in enumerate(values):
        if v is not None:
            bits[i >> 3] |= 1 << (i & 7)
    return pa.py_buffer(bytes(bits)), nulls


def _typed(code: str, values: Sequence) -> pa.Buffer:
    """Values packed as a C array (b/h/i/q: 1/2/4/8-byte integers, d: float64)."""
    return pa.py_buffer(array(code, values).tobytes())


def _check(values: Sequence, kind: type | tuple[type, ...], type_: pa.DataType) -> None:
    for v in values:
        if v is not None and (not isinstance(v, kind) or (kind is int and isinstance(v, bool))):
            raise TypeError(f"cannot store {v!r} ({type(v).__name__}) in an Arrow {type_} column")


def _strings(values: Sequence, type_: pa.DataType) -> pa.Array:
    _check(values, str, type_)
    encoded = [b"" if v is None else v.encode("utf-8") for v in values]
    offsets = array("q" if pa.types.is_large_string(type_) else "i", [0])
    offsets.extend(accumulate(map(len, encoded)))  # OverflowError past 2 GiB of plain strings
    validity, nulls = _validity(values)
    return pa.Array.from_buffers(type_, len(values),
                                 [validity, pa.py_buffer(offsets.tobytes()), pa.py_buffer(b"".join(encoded))],
                                 null_count=nulls)


def _ticks(value: datetime, unit: str) -> int:
    """A datetime as whole `unit`s since the epoch, exactly as pyarrow converts it: aware values
    by their UTC instant, naive ones as they read."""
    start = _EPOCH_UTC if value.tzinfo is not None else _EPOCH
    delta = value - start
    if unit == "ns":
        return (delta // timedelta(microseconds=1)) * 1000
    return delta // _UNITS[unit]


def array_of(values: Sequence, type_: pa.DataType) -> pa.Array:
    """An Arrow array of `type_` holding `values` (None is null), as `pa.array(values, type_)` would."""
    values = list(values)
    n = len(values)
    if pa.types.is_string(type_) or pa.types.is_large_string(type_):
        return _strings(values, type_)
    validity, nulls = _validity(values)
    if pa.types.is_boolean(type_):
        _check(values, bool, type_)
        bits = bytearray((n + 7) // 8)
        for i, v in enumerate(values):
            if v:
                bits[i >> 3] |= 1 << (i & 7)
        data = pa.py_buffer(bytes(bits))
    elif pa.types.is_signed_integer(type_) or pa.types.is_unsigned_integer(type_):
        _check(values, int, type_)
        codes = _INT_CODES if pa.types.is_signed_integer(type_) else _UINT_CODES
        data = _typed(codes[type_.bit_width], [0 if v is None else v for v in values])
    elif pa.types.is_float64(type_):
        _check(values, (int, float), type_)
        data = _typed("d", [0.0 if v is None else float(v) for v in values])
    elif pa.types.is_date32(type_):
        _check(values, date, type_)
        if any(isinstance(v, datetime) for v in values):
            raise TypeError(f"cannot store datetimes in an Arrow {type_} column")
        data = _typed("i", [0 if v is None else (v - _EPOCH_DAY).days for v in values])
    elif pa.types.is_timestamp(type_):
        _check(values, datetime, type_)
        data = _typed("q", [0 if v is None else _ticks(v, type_.unit) for v in values])
    else:
        raise TypeError(f"arrow_values does not build {type_} columns")
    return pa.Array.from_buffers(type_, n, [validity, data], null_count=nulls)


def scalar(value: object, type_: pa.DataType) -> pa.Scalar:
    """An Arrow scalar, as `pa.scalar(value, type_)` would make it (e.g. for a pyarrow.compute
    comparison: a plain Python literal there goes through the converter)."""
    return array_of([value], type_)[0]


def repeat_string(value: str, count: int) -> pa.Array:
    """`count` copies of one string (a constant column), as `pa.repeat(pa.scalar(value), count)`.

    Laid out directly (offsets 0, n, 2n, ...): a partition of thousands of rows gets its
    submission_id column without encoding the id thousands of times.
    """
    _check([value], str, pa.string())
    data = value.encode("utf-8")
    step = len(data)
    offsets = array("i", range(0, step * count + 1, step)) if step else array("i", bytes(4 * (count + 1)))
    return pa.Array.from_buffers(pa.string(), count, [None, pa.py_buffer(offsets.tobytes()), pa.py_buffer(data * count)])


def table(columns: Mapping[str, Sequence], schema: pa.Schema) -> pa.Table:
    """`pa.Table.from_pydict(columns, schema=schema)`: one Python list per field of `schema`."""
    return pa.Table.from_arrays([array_of(columns[f.name], f.type) for f in schema], schema=schema)


def empty_table(schema: pa.Schema) -> pa.Table:
    """`schema.empty_table()`: no rows, every field of `schema` (and its metadata)."""
    return pa.Table.from_arrays([pa.nulls(0, f.type) for f in schema], schema=schema)
