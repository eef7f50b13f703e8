"""`jianfu query SQL`: read-only SQL over the warehouse views (SPEC.md sections 7 and 11).

Read-only is enforced twice, so that neither alone has to be perfect:
1. only one statement, and only a query (SELECT, WITH, FROM, SHOW, DESCRIBE, SUMMARIZE, EXPLAIN):
   DuckDB's own parser classifies it, so COPY, ATTACH, EXPORT, INSTALL, SET, CREATE ... are refused
   with a one-line message before anything runs;
2. the DuckDB connection itself has `enable_external_access = false` and `lock_configuration =
   true`: it can open no file, attach no database and load no extension, and the query cannot switch
   that back on. The warehouse is still readable because its tables are registered as pyarrow
   datasets (views.register(arrow=True)): pyarrow reads the files, DuckDB only sees Arrow data.

A query shares the machine with the office's pipeline, so it is bounded: DuckDB's own
`memory_limit` (default 2 GiB) and a timer that interrupts the statement after `timeout` seconds
(default 60); either ends with one line saying which limit and how to raise it. CSV output
neutralises formula prefixes in text cells, since analysts open it in a spreadsheet.
"""

from __future__ import annotations

import csv
import io
import json
import math
import threading
import unicodedata
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ..config import JianfuError, Settings
from ..escape import neutralise_formula
from ..schema import BUILT_TABLE_SCHEMAS
from . import views
from .publish import Warehouse

FORMATS = ("table", "csv", "json")
#: Statement types a read-only query may have.
ALLOWED = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
#: Rows shown by --format table (csv and json give everything).
TABLE_ROWS = 1000
MAX_CELL = 60
#: Defaults of `jianfu query --timeout` (seconds) and of its memory limit (DuckDB syntax).
TIMEOUT_SECONDS = 60.0
MEMORY_LIMIT = "2GiB"


class QueryError(JianfuError):
    """The query was refused or failed; the message is one line the analyst can act on."""


def empty_schemas() -> dict[str, pa.Schema]:
    """Schemas of the tables the build writes, so their views exist even before the first file."""
    return dict(BUILT_TABLE_SCHEMAS)


def read_only_connection(warehouse_root: str, memory_limit: str = MEMORY_LIMIT) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with a view per warehouse table and no file access of its own."""
    try:
        con = duckdb.connect(":memory:", config={"enable_external_access": False,
                                                 "autoinstall_known_extensions": False,
                                                 "autoload_known_extensions": False,
                                                 "memory_limit": memory_limit})
    except duckdb.Error as exc:
        raise QueryError(f"memory limit {memory_limit!r} is not valid (e.g. 2GiB, 512MiB): {_one_line(exc)}") from None
    views.register(con, Warehouse(warehouse_root), empty_schemas=empty_schemas(), arrow=True, in_memory=True)
    con.execute("SET lock_configuration = true")
    return con


def _one_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def check_read_only(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Refuse anything but one query, before it runs."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(_one_line(exc)) from None
    if len(statements) != 1:
        raise QueryError(f"jianfu query runs exactly one SQL statement; got {len(statements)}")
    kind = statements[0].type
    if kind not in ALLOWED:
        word = str(kind).rsplit(".", 1)[-1].replace("_STATEMENT", "")
        raise QueryError(f"jianfu query is read-only: {word} statements are not allowed, only queries (SELECT)")


def run_query(settings: Settings, sql: str, fmt: str = "table", *, timeout: float = TIMEOUT_SECONDS,
              memory_limit: str = MEMORY_LIMIT) -> str:
    """Run one read-only query over the warehouse and render the result as table, csv or json."""
    if fmt not in FORMATS:
        raise QueryError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if not timeout > 0:
        raise QueryError(f"--timeout must be a positive number of seconds, got {timeout:g}")
    if "://" not in settings.warehouse and not Path(settings.warehouse).is_dir():
        # An empty answer from a warehouse that is not there would read as "no flags".
        raise QueryError(f"the warehouse {settings.warehouse} does not exist or is not a directory: "
                         "point JIANFU_WAREHOUSE at it, or create it with `jianfu init`")
    con = read_only_connection(settings.warehouse, memory_limit)
    timer = threading.Timer(timeout, con.interrupt)
    try:
        check_read_only(con, sql)
        timer.start()
        try:
            relation = con.sql(sql)
            if relation is None:  # pragma: no cover - only non-queries return no relation
                raise QueryError("the statement returned no result")
            columns = list(relation.columns)
            rows = relation.fetchall()
        except duckdb.InterruptException:
            raise QueryError(f"the query was stopped after {timeout:g} s (--timeout {timeout:g}); "
                             "narrow it, or give it more time with --timeout") from None
        except duckdb.OutOfMemoryException:
            raise QueryError(f"the query needs more than the {memory_limit} memory limit; narrow it "
                             "(fewer columns, a WHERE on period or county_code), or raise --memory-limit") from None
        except duckdb.Error as exc:
            raise QueryError(_one_line(exc)) from None
    finally:
        timer.cancel()
        con.close()
    if fmt == "csv":
        return render_csv(columns, rows)
    if fmt == "json":
        return render_json(columns, rows)
    return render_table(columns, rows)


# ---------------------------------------------------------------------- rendering
def _plain(value: Any) -> Any:
    """A JSON-able value: dates as ISO text, decimals as numbers, NaN as null."""
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    value = _plain(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render_csv(columns: list[str], rows: list[tuple]) -> str:
    """RFC 4180 CSV with a header; empty cell for NULL; text that a spreadsheet would run as a
    formula (= + - @, tab, CR at the start) gets a leading quote mark. Numbers are left as they are."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([neutralise_formula(c) for c in columns])
    writer.writerows([neutralise_formula(_text(v)) if isinstance(v, str) else _text(v) for v in row] for row in rows)
    return out.getvalue().rstrip("\n")


def render_json(columns: list[str], rows: list[tuple]) -> str:
    """A JSON array of objects, one per row, keys in column order, UTF-8 text as is."""
    return json.dumps([{c: _plain(v) for c, v in zip(columns, row, strict=True)} for row in rows], ensure_ascii=False, indent=1)


def _width(text: str) -> int:
    """Columns a string takes on a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _clip(text: str) -> str:
    text = text.replace("\n", " ")
    if _width(text) <= MAX_CELL:
        return text
    out, used = [], 0
    for ch in text:
        w = _width(ch)
        if used + w > MAX_CELL - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * (width - _width(text))
    return gap + text if right else text + gap


def render_table(columns: list[str], rows: list[tuple]) -> str:
    """An aligned text table for a terminal (numbers right-aligned), at most TABLE_ROWS rows."""
    shown = rows[:TABLE_ROWS]
    cells = [[_clip(_text(v)) for v in row] for row in shown]
    numeric = [bool(shown) and all(isinstance(r[i], (int, float, Decimal)) and not isinstance(r[i], bool)
                                   for r in shown if r[i] is not None) for i in range(len(columns))]
    widths = [max([_width(c)] + [_width(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = [" | ".join(_pad(c, widths[i], numeric[i]) for i, c in enumerate(columns)),
             "-+-".join("-" * w for w in widths)]
    lines += [" | ".join(_pad(v, widths[i], numeric[i]) for i, v in enumerate(r)) for r in cells]
    count = f"({len(rows)} row{'s' if len(rows) != 1 else ''})"
    if len(rows) > TABLE_ROWS:
        count = f"(showing {TABLE_ROWS} of {len(rows)} rows; --format csv or json gives them all)"
    lines.append(count)
    return "\n".join(lines)
