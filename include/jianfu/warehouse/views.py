"""DuckDB views over the warehouse: one view per table, named as the table (SPEC.md section 7).

Analysts, the flag SQL and the CLI's `query` all read through these views, so the partition
columns come back with the same types everywhere (county codes and periods as text, years as
integers) rather than whatever an engine would guess from the directory names.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from ..schema import KINDS
from .publish import Warehouse

#: Hive partition columns of the partitioned tables, with the types they must be read as.
PARTITIONS: dict[str, dict[str, str]] = {
    "form_counts": {"county_code": "VARCHAR", "period": "VARCHAR"},
    "work_groups": {"county_code": "VARCHAR", "period": "VARCHAR"},
    "inspections": {"county_code": "VARCHAR", "year": "INTEGER"},
}


def kind_table_schema(kind_name: str) -> pa.Schema:
    """Columns of a submission table in the warehouse: the kind's own, plus what SPEC 7 adds."""
    schema = KINDS[kind_name].arrow_schema.append(pa.field("submission_id", pa.string()))
    if kind_name == "inspections":
        schema = schema.append(pa.field("eff_date", pa.date32()))
    return schema


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def register(con: duckdb.DuckDBPyConnection, warehouse: Warehouse, tables: list[str] | None = None,
             empty_schemas: dict[str, pa.Schema] | None = None) -> list[str]:
    """Create a view per warehouse table on `con`; returns the names created.

    A submission table with no files yet gets an empty view with its full schema, so SQL over a
    new warehouse runs (and finds nothing) instead of failing on a missing table. Other tables
    with no files get an empty view too when `empty_schemas` names their schema.
    """
    if not warehouse.local:
        # Let DuckDB reach the object store through the same filesystem pyarrow uses.
        import fsspec  # noqa: F401  (registered lazily by duckdb when needed)
    names = tables or sorted(set(PARTITIONS) | _existing_tables(warehouse) | set(empty_schemas or {}))
    created = []
    for name in names:
        files = warehouse.files(name)
        if files:
            partitioned = name in PARTITIONS
            depth = "/".join(["*"] * (len(PARTITIONS[name]) if partitioned else 0) + ["*.parquet"])
            source = _sql_literal(f"{warehouse.table_path(name)}/{depth}")
            if partitioned:
                types = ", ".join(f"{k}: {v}" for k, v in PARTITIONS[name].items())
                reader = f"read_parquet({source}, hive_partitioning = true, hive_types = {{{types}}}, union_by_name = true)"
            else:
                reader = f"read_parquet({source}, union_by_name = true)"
            con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM {reader}")
        else:
            schema = kind_table_schema(name) if name in PARTITIONS else (empty_schemas or {}).get(name)
            if schema is None:
                continue
            empty = schema.empty_table()
            con.register(f"__empty_{name}", empty)
            con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM __empty_{name}")
        created.append(name)
    return created


def _existing_tables(warehouse: Warehouse) -> set[str]:
    import os

    if warehouse.local:
        if not os.path.isdir(warehouse.root):
            return set()
        return {n for n in os.listdir(warehouse.root) if not n.startswith(("_", ".")) and
                os.path.isdir(os.path.join(warehouse.root, n))}
    from pyarrow import fs as pafs

    infos = warehouse.fs.get_file_info(pafs.FileSelector(warehouse.root, allow_not_found=True))
    return {i.base_name for i in infos if i.type == pafs.FileType.Directory and not i.base_name.startswith(("_", "."))}


def connect(warehouse_root: str, tables: list[str] | None = None,
            empty_schemas: dict[str, pa.Schema] | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with a view per warehouse table."""
    con = duckdb.connect(":memory:")
    register(con, Warehouse(warehouse_root), tables, empty_schemas)
    return con
