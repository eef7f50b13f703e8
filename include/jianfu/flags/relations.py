"""The warehouse relations the flag SQL reads, built from plain rows.

The warehouse builder gives the SQL views over Parquet. Tests, the property test's oracle
comparison and anyone checking flags against sample truth need the same relations from Python
rows (dicts with canonical column names and Python values); this module builds them with the exact
names and types of the contract, so the SQL sees what it sees in production.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import duckdb
import pyarrow as pa

from ..schema import DEPARTMENTS_SCHEMA, KINDS, QUOTAS_SCHEMA, UNITS_SCHEMA, warehouse_schema

SCHEMAS: dict[str, pa.Schema] = {
    **{name: warehouse_schema(name) for name in KINDS},
    "units": UNITS_SCHEMA,
    "departments": DEPARTMENTS_SCHEMA,
    "quotas": QUOTAS_SCHEMA,
}


def _fill(name: str, row: Mapping) -> dict:
    """Defaults for the derived columns, so hand-built rows stay short."""
    out = dict(row)
    if name == "inspections" and "eff_date" not in out:
        out["eff_date"] = out.get("actual_date") if out.get("status") == "done" else out.get("planned_date")
    if name == "units":
        code = out["unit_code"]
        out.setdefault("county_code", code[:6])
        out.setdefault("township_code", None if code.endswith("000000") else code[:9] + "000")
    if name == "departments":
        out.setdefault("gov_code", out["dept_code"][:6])
    return out


def arrow_table(name: str, rows: Iterable[Mapping]) -> pa.Table:
    """Rows of relation `name` as an Arrow table of the contract's schema (missing columns NULL)."""
    schema = SCHEMAS[name]
    filled = [_fill(name, r) for r in rows]
    return pa.Table.from_pylist([{f.name: r.get(f.name) for f in schema} for r in filled], schema=schema)


def load(con: duckdb.DuckDBPyConnection, **relations: Iterable[Mapping]) -> None:
    """Create (or replace) each named relation as a table on `con`; absent ones are created empty."""
    for name in SCHEMAS:
        table = arrow_table(name, relations.get(name, ()))
        con.register("_jf_rows", table)
        try:
            con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _jf_rows")
        finally:
            con.unregister("_jf_rows")
