"""DuckDB views over the warehouse: one view per table, named as the table (SPEC.md section 7).

Analysts, the flag SQL and the CLI's `query` all read through these views, so the partition
columns come back with the same types everywhere (county codes and periods as text, years as
integers) rather than whatever an engine would guess from the directory names, and the columns of
the submission tables come in the order of SPEC.md section 4 (partition columns included).

Two ways to read, same result:
- native (the build's connections on a local warehouse): DuckDB's own `read_parquet` over the
  explicit list of the live snapshot's files, listed once when the view is made. A published snapshot never
  changes, so the list stays right for as long as the snapshot lives (the console re-registers
  when a link moves), and a concurrent publish cannot mix two versions of a table. A glob would
  make DuckDB list the ~3,000 partition directories of a national month on every query; with
  the list it only matches a query's county and period against the paths' Hive values. The
  derived tables hold a few dozen files (a province each, sorted by county), which DuckDB skips by
  their county_code statistics;
- arrow (object stores, and analysts' connections: views.connect, the console, `jianfu query`): a
  pyarrow dataset over the same file list, registered on the connection. pyarrow prunes the
  partitions a county's query filters on before DuckDB sees a row: on a national month the
  slowest county-year query takes about 30 ms this way against 50 natively
  (docs/BENCHMARKS-national.md). DuckDB then needs no file access of its own, so the query
  connection can switch file access off entirely (jianfu.warehouse.query).
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds

from ..schema import warehouse_schema
from .publish import Warehouse

#: Hive partition columns of the partitioned tables, with the types they must be read as.
PARTITIONS: dict[str, dict[str, str]] = {
    "form_counts": {"county_code": "VARCHAR", "period": "VARCHAR"},
    "work_groups": {"county_code": "VARCHAR", "period": "VARCHAR"},
    "inspections": {"county_code": "VARCHAR", "year": "INTEGER"},
}
_ARROW_TYPES = {"VARCHAR": pa.string(), "INTEGER": pa.int32()}


def file_schema(kind_name: str) -> pa.Schema:
    """Columns stored inside a partition file: the table's, minus the Hive partition columns.

    Partition columns live only in the directory names (the Hive convention): pyarrow and pandas
    refuse a dataset whose files repeat a partition column with another type than the one they
    infer from the path, so storing them twice would break readers that use no jianfu code.
    """
    schema = warehouse_schema(kind_name)
    for name in PARTITIONS[kind_name]:
        schema = schema.remove(schema.get_field_index(name))
    return schema


def partitioning(kind_name: str) -> ds.Partitioning:
    """The Hive partitioning of a submission table, with the partition columns' real types."""
    return ds.partitioning(pa.schema([(k, _ARROW_TYPES[v]) for k, v in PARTITIONS[kind_name].items()]),
                           flavor="hive")


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


#: The reference tables an analyst joins to everything. On an analyst's connection (`in_memory`:
#: views.connect, the console, `jianfu query`) they are read into memory once: DuckDB then knows
#: their sizes and key statistics and builds a join's hash table on the few rows a county's query
#: selects rather than on the country's 660,000 units, which a view over Parquet cannot tell it
#: (a township query over a national month: 7 ms against 130 ms).
IN_MEMORY = ("units", "departments")


def register(con: duckdb.DuckDBPyConnection, warehouse: Warehouse, tables: list[str] | None = None,
             empty_schemas: dict[str, pa.Schema] | None = None, *, arrow: bool | None = None,
             in_memory: bool = False) -> list[str]:
    """Create a view per warehouse table on `con`; returns the names created.

    A submission table with no files yet gets an empty view with its full schema, so SQL over a
    new warehouse runs (and finds nothing) instead of failing on a missing table. Other tables
    with no files get an empty view too when `empty_schemas` names their schema. `arrow` chooses
    the pyarrow-dataset reader (default: for object stores and analysts' connections); `in_memory`
    (an analyst's connection) makes the tables of IN_MEMORY in-memory tables instead of views.
    """
    use_arrow = (in_memory or not warehouse.local) if arrow is None else arrow
    names = tables or sorted(set(PARTITIONS) | set(warehouse.tables()) | set(empty_schemas or {}))
    created = []
    for name in names:
        files = warehouse.files(name)
        if files:
            if use_arrow:
                select = _arrow_select(con, warehouse, name, files)
            else:
                select = _native_select(warehouse, name, files)
        else:
            schema = warehouse_schema(name) if name in PARTITIONS else (empty_schemas or {}).get(name)
            if schema is None:
                continue
            con.register(f"__empty_{name}", schema.empty_table())
            select = f"SELECT * FROM {_ident('__empty_' + name)}"
        _create(con, name, select, table=in_memory and name in IN_MEMORY)
        created.append(name)
    return created


def _create(con: duckdb.DuckDBPyConnection, name: str, select: str, *, table: bool) -> None:
    """CREATE OR REPLACE a view (or a table) `name`, whichever of the two it was before."""
    kind, other = ("TABLE", "VIEW") if table else ("VIEW", "TABLE")
    try:
        con.execute(f"DROP {other} IF EXISTS {_ident(name)}")
    except duckdb.CatalogException:
        pass  # it is a {kind} already: replaced below
    con.execute(f"CREATE OR REPLACE {kind} {_ident(name)} AS {select}")


def _paths(warehouse: Warehouse, name: str, files: dict[str, list[str]]) -> tuple[str, list[str]]:
    """The table's root and the full path of each of its files (`files`: partition -> names)."""
    base = warehouse.resolved_path(name)
    return base, [f"{base}/{p}/{f}" if p else f"{base}/{f}" for p, names in files.items() for f in names]


def _native_select(warehouse: Warehouse, name: str, files: dict[str, list[str]]) -> str:
    _, paths = _paths(warehouse, name, files)
    if name in PARTITIONS:
        columns = ", ".join(_ident(c) for c in warehouse_schema(name).names)
        return f"SELECT {columns} FROM {_native_reader(name, _sql_list(paths))}"
    return f"SELECT * FROM read_parquet({_sql_list(paths)}, union_by_name = true)"


def _sql_list(paths: list[str]) -> str:
    return "[" + ", ".join(_sql_literal(p) for p in paths) + "]"


def _native_reader(name: str, files: str) -> str:
    """DuckDB's reader of a submission table's partition files (`files`: a SQL list of paths)."""
    types = ", ".join(f"{k}: {v}" for k, v in PARTITIONS[name].items())
    # No union_by_name: every partition file is written from one schema (views.file_schema),
    # and reading each file's footer to unify schemas would cost as much as the table is big.
    return f"read_parquet({files}, hive_partitioning = true, hive_types = {{{types}}})"


def _arrow_select(con: duckdb.DuckDBPyConnection, warehouse: Warehouse, name: str,
                  files: dict[str, list[str]]) -> str:
    base, paths = _paths(warehouse, name, files)
    if name in PARTITIONS:
        dataset = ds.dataset(paths, filesystem=warehouse.fs, format="parquet", partition_base_dir=base,
                             partitioning=partitioning(name), schema=_with_partitions(name))
        select = ", ".join(_ident(c) for c in warehouse_schema(name).names)
    else:
        # Every file of an unpartitioned table is written from one schema: the first one's serves.
        dataset = ds.dataset(paths, filesystem=warehouse.fs, format="parquet")
        select = "*"
    con.register(f"__arrow_{name}", dataset)
    return f"SELECT {select} FROM {_ident('__arrow_' + name)}"


def _with_partitions(name: str) -> pa.Schema:
    schema = file_schema(name)
    for key, sql_type in PARTITIONS[name].items():
        schema = schema.append(pa.field(key, _ARROW_TYPES[sql_type]))
    return schema


def register_counties(con: duckdb.DuckDBPyConnection, warehouse: Warehouse, table: str,
                      counties: set[str] | None) -> None:
    """Make `table` (a submission table) hold only the partitions of `counties` on `con`.

    For the builder's flag step, which recomputes a few counties: a small in-memory table read
    once from exactly those partitions, rather than a view that lists the whole table's
    directories for every rule. None means every county (a view). A local warehouse is read by
    DuckDB itself, with the native views' reader and types.
    """
    if counties is None:
        register(con, warehouse, [table])
        return
    base = warehouse.resolved_path(table)
    paths = [f"{base}/{partition}/{name}" for county in sorted(counties)
             for partition, names in warehouse.files(table, under=f"county_code={county}").items()
             for name in names]
    columns = ", ".join(_ident(c) for c in warehouse_schema(table).names)
    if paths and warehouse.local:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_ident(table)} AS SELECT {columns} "
                    f"FROM {_native_reader(table, _sql_list(paths))}")
        return
    if paths:
        data = ds.dataset(paths, filesystem=warehouse.fs, format="parquet", partition_base_dir=base,
                          partitioning=partitioning(table), schema=_with_partitions(table)).to_table()
        data = data.select(warehouse_schema(table).names)
    else:
        data = warehouse_schema(table).empty_table()
    con.register("__jf_subset", data)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_ident(table)} AS SELECT * FROM __jf_subset")
    finally:
        con.unregister("__jf_subset")


def connect(warehouse_root: str, tables: list[str] | None = None,
            empty_schemas: dict[str, pa.Schema] | None = None) -> duckdb.DuckDBPyConnection:
    """An analyst's in-memory DuckDB connection with a view per warehouse table (see register's
    `in_memory`)."""
    con = duckdb.connect(":memory:")
    register(con, Warehouse(warehouse_root), tables, empty_schemas, in_memory=True)
    return con
