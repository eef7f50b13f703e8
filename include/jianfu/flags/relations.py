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

from ..schema import FORM_COUNTS, INSPECTIONS, WORK_GROUPS
from .runner import forget

SUBMISSION_ID = pa.field("submission_id", pa.string())

SCHEMAS: dict[str, pa.Schema] = {
    "form_counts": FORM_COUNTS.arrow_schema.append(SUBMISSION_ID),
    "work_groups": WORK_GROUPS.arrow_schema.append(SUBMISSION_ID),
    "inspections": INSPECTIONS.arrow_schema.append(SUBMISSION_ID).append(pa.field("eff_date", pa.date32())),
    "units": pa.schema(
        [
            ("unit_code", pa.string()),
            ("unit_name", pa.string()),
            ("level", pa.string()),
            ("parent_code", pa.string()),
            ("county_code", pa.string()),
            ("township_code", pa.string()),
        ]
    ),
    "departments": pa.schema([("dept_code", pa.string()), ("dept_name", pa.string()), ("gov_code", pa.string())]),
    "quotas": pa.schema([("dept_code", pa.string()), ("year", pa.int32()), ("max_inspection_items", pa.int32())]),
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
    """Create (or replace) each named relation as a table on `con`; absent ones are created empty.

    The connection must be prepared again afterwards (its labels come from units and departments).
    """
    for name in SCHEMAS:
        table = arrow_table(name, relations.get(name, ()))
        con.register("_jf_rows", table)
        try:
            con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _jf_rows")
        finally:
            con.unregister("_jf_rows")
    forget(con)
