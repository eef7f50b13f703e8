"""Small whole tables: units, departments, submissions (and quotas, which only the flag SQL reads).

Each is one file, stamped (Parquet key-value metadata `jianfu.inputs`) with a hash of what it is
made from: the reference CSV, or (submissions) its own rows. A build makes and publishes a table
only when that hash differs from the stamp of the file in the warehouse, so a build with no change
writes nothing and reads no more than a footer per table.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa

from ..reference import Reference, load_quotas
from ..schema import DEPARTMENTS_SCHEMA, QUOTAS_SCHEMA, SUBMISSIONS_SCHEMA, UNITS_SCHEMA
from .publish import Warehouse


def units_table(ref: Reference) -> pa.Table:
    rows = sorted(ref.units.values(), key=lambda u: u.unit_code)
    return pa.Table.from_pydict({
        "unit_code": [u.unit_code for u in rows],
        "unit_name": [u.unit_name for u in rows],
        "level": [u.level for u in rows],
        "parent_code": [u.parent_code for u in rows],
        "county_code": [u.county_code for u in rows],
        "township_code": [u.township_code for u in rows],
    }, schema=UNITS_SCHEMA)


def departments_table(ref: Reference) -> pa.Table:
    rows = sorted(ref.departments.values(), key=lambda d: d.dept_code)
    return pa.Table.from_pydict({
        "dept_code": [d.dept_code for d in rows],
        "dept_name": [d.dept_name for d in rows],
        "gov_code": [d.gov_code for d in rows],
    }, schema=DEPARTMENTS_SCHEMA)


def quotas_table(reference_dir: Path) -> pa.Table:
    items = sorted(load_quotas(reference_dir).items())
    return pa.Table.from_pydict({
        "dept_code": [k[0] for k, _ in items],
        "year": [k[1] for k, _ in items],
        "max_inspection_items": [v for _, v in items],
    }, schema=QUOTAS_SCHEMA)


def submissions_table(rows: list[Mapping]) -> pa.Table:
    """The ledger as SPEC.md section 7 shows it, in receipt order (the rows' other columns are
    left out). pyarrow takes a naive received_at, as SQLite returns it, as UTC: the ledger's zone.
    Built column by column: a national ledger has tens of thousands of rows, and pyarrow converts
    a list per column faster than a dict per row."""
    return pa.Table.from_pydict({name: [row[name] for row in rows] for name in SUBMISSIONS_SCHEMA.names},
                                schema=SUBMISSIONS_SCHEMA)


INPUTS_KEY = b"jianfu.inputs"
FILE = "part-0.parquet"
#: The reference file each reference table is made from.
SOURCES = {"units": "units.csv", "departments": "departments.csv"}
#: The reference files the build reads: hashed once per build (reference_digests).
REFERENCE_FILES = (*SOURCES.values(), "quotas.csv")


def reference_digests(reference_dir: Path) -> dict[str, str]:
    """SHA-256 of each reference file the build reads ('' when it is missing), by file name: the
    national units.csv is tens of MB, so it is hashed once and the digest shared by the tables
    made from it and by the derived tables' fingerprint."""
    out = {}
    for name in REFERENCE_FILES:
        path = reference_dir / name
        if not path.exists():
            out[name] = ""
            continue
        with path.open("rb") as handle:
            out[name] = hashlib.file_digest(handle, "sha256").hexdigest()
    return out


def source_fingerprint(digests: Mapping[str, str], table: str) -> str:
    """What a reference table is made from: its CSV's digest (format-versioned)."""
    return hashlib.sha256(f"whole-2\n{digests[SOURCES[table]]}".encode()).hexdigest()


def table_fingerprint(table: pa.Table) -> str:
    """Hash of a table's schema and rows, as Arrow's IPC stream writes them (format-versioned):
    a national year's ledger of 100,000 receipts hashes in milliseconds, not row by row."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(b"table-1\n" + sink.getvalue().to_pybytes()).hexdigest()


def stored_fingerprint(warehouse: Warehouse, table: str) -> str | None:
    """The fingerprint the table's file was made from, if it has exactly its one file."""
    if warehouse.files(table) != {"": [FILE]}:
        return None
    try:
        value = warehouse.read_metadata(table, "", FILE).get(INPUTS_KEY)
    except (OSError, pa.ArrowInvalid):
        return None
    return value.decode() if value else None


def stamp(table: pa.Table, inputs: str) -> pa.Table:
    """`table` carrying the fingerprint of its inputs (every derived and whole table file does)."""
    return table.replace_schema_metadata({**(table.schema.metadata or {}), INPUTS_KEY: inputs.encode()})
