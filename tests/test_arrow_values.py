"""jianfu.arrow_values makes exactly what pyarrow's converter makes, without importing pandas."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta, timezone

import pyarrow as pa
import pytest

from jianfu import arrow_values

CASES = [
    (pa.string(), ["a", None, "临县", "", "x" * 300]),
    (pa.int32(), [1, None, -3, 2**31 - 1]),
    (pa.int64(), [2**62, None, 0]),
    (pa.float64(), [1.5, None, 2, -0.0]),
    (pa.bool_(), [True, None, False, True, True, True, True, True, True, False]),
    (pa.date32(), [date(2026, 1, 31), None, date(1960, 5, 5)]),
    (pa.timestamp("us", tz="UTC"), [datetime(2026, 11, 21, 13, 0, 5, 123456, tzinfo=UTC), None,
                                    datetime(2026, 11, 21, 21, 0, tzinfo=timezone(timedelta(hours=8))),
                                    datetime(1969, 12, 31, 23, 59, 59, 1)]),
    (pa.timestamp("ms"), [datetime(2026, 1, 2, 3, 4, 5, 678000), None]),
]


@pytest.mark.parametrize(("type_", "values"), CASES, ids=[str(c[0]) for c in CASES])
def test_arrays_equal_pyarrows_conversion(type_, values):
    made = arrow_values.array_of(values, type_)
    made.validate(full=True)
    assert made.equals(pa.array(values, type_))
    assert arrow_values.array_of([], type_).equals(pa.array([], type_))
    assert arrow_values.array_of([None, None], type_).equals(pa.array([None, None], type_))
    assert arrow_values.scalar(values[0], type_).equals(pa.scalar(values[0], type_))


def test_tables_repeats_and_empty_tables():
    schema = pa.schema([pa.field("id", pa.string(), nullable=False), ("n", pa.int32())], metadata={b"k": b"v"})
    columns = {"id": ["a", "b"], "n": [1, None]}
    assert arrow_values.table(columns, schema).equals(pa.Table.from_pydict(columns, schema=schema), check_metadata=True)
    assert arrow_values.empty_table(schema).equals(schema.empty_table(), check_metadata=True)
    for value, count in (("4211270001", 5), ("", 3), ("临县", 0)):
        assert arrow_values.repeat_string(value, count).equals(pa.repeat(pa.scalar(value), count))


@pytest.mark.parametrize(("value", "type_"), [(1, pa.string()), ("1", pa.int32()), (True, pa.int32()),
                                              (2**31, pa.int32()), (date(2026, 1, 1), pa.timestamp("us")),
                                              (datetime(2026, 1, 1), pa.date32()), ([1], pa.list_(pa.int32()))])
def test_values_of_another_type_are_refused(value, type_):
    with pytest.raises((TypeError, OverflowError)):
        arrow_values.array_of([value], type_)


def test_no_pandas_import():
    code = ("import sys, pyarrow as pa, pyarrow.compute as pc; from jianfu import arrow_values as av\n"
            "s = pa.schema([('a', pa.string()), ('t', pa.timestamp('us', tz='UTC'))])\n"
            "av.table({'a': ['x', None], 't': [None, None]}, s); av.empty_table(s)\n"
            "pc.equal(av.array_of(['x'], pa.string()), av.scalar('x', pa.string()))\n"
            "print('pandas' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"
