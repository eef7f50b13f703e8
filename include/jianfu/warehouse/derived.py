"""Flags, burden and quota usage: recomputed only where their inputs changed (SPEC.md 7 and 8).

Storage (unpartitioned tables, so `flags/*.parquet` is the whole table to any engine):
- `flags/<county_code>.parquet`: the county's flags of every rule but DEPT_QUOTA_*;
  `flags/quota.parquet`: DEPT_QUOTA_WARNING / DEPT_QUOTA_EXCEEDED (across counties);
- `burden/<county_code>.parquet`: the county's burden index;
- `quota_usage/part-0.parquet`: the whole table (small).

How a build knows what is stale, with no side state: every file carries, in its Parquet key-value
metadata (`jianfu.inputs`), a fingerprint of what it was computed from — the rules, the reference
files, the flag SQL and code, and the submission ids in force that it read (a county's own, or every
county's inspections for the quota files). A file whose fingerprint differs from the one the
current inputs give, or a county with data but no file, is recomputed; a county with no data any
more loses its file. So a build that died after publishing the submission tables but before the
flags is finished by the next one, and a change of rules.yaml or of the reference recomputes
everything. A recomputed file is rewritten only if its rows or its fingerprint changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from .. import arrow_values
from .publish import PublishResult, Warehouse
from .whole import INPUTS_KEY, stamp

#: Bump when the way derived tables are stored changes: every file is recomputed once.
FORMAT = "1"
QUOTA_FILE = "quota.parquet"
WHOLE_FILE = "part-0.parquet"


@dataclass
class DerivedResult:
    results: list[PublishResult] = field(default_factory=list)
    recomputed_counties: set[str] = field(default_factory=set)
    skipped: str | None = None  # why flags were not built, when they were not


def global_fingerprint(rules: Mapping, reference_dir: Path) -> str:
    """What every derived file depends on besides submissions: rules, reference, flag code."""
    h = hashlib.sha256(f"format={FORMAT}\n".encode())
    h.update(json.dumps(dict(rules), sort_keys=True, default=str).encode())
    for name in ("units.csv", "departments.csv", "quotas.csv"):
        path = reference_dir / name
        h.update(f"\n{name}\n".encode())
        if path.exists():
            h.update(path.read_bytes())
    try:
        from .. import flags

        code_dir = Path(flags.__file__).parent
        for path in sorted([*code_dir.glob("*.py"), *code_dir.glob("sql/*.sql")]):
            h.update(f"\n{path.relative_to(code_dir)}\n".encode())
            h.update(path.read_bytes())
    except ImportError:
        pass
    return h.hexdigest()


def fingerprint(base: str, submission_ids: Iterable[str]) -> str:
    return hashlib.sha256("\n".join([base, *sorted(submission_ids)]).encode()).hexdigest()


def _stored_fingerprints(warehouse: Warehouse, table: str) -> dict[str, str | None]:
    """File name -> fingerprint it was computed from (None when unreadable), for one table."""
    out: dict[str, str | None] = {}
    for name, meta in warehouse.read_all_metadata(table).items():
        value = (meta or {}).get(INPUTS_KEY)
        out[name] = value.decode() if value else None
    return out


def _same(warehouse: Warehouse, table: str, name: str, data: pa.Table) -> bool:
    try:
        return warehouse.read_file(table, "", name).equals(data)
    except (OSError, pa.ArrowInvalid):
        return False


#: What build_derived asks of its caller: `(counties, need_quotas, ready)` -> a connection.
ConnectionFactory = Callable[[set[str], bool, Callable[[duckdb.DuckDBPyConnection], None]],
                             duckdb.DuckDBPyConnection]


def build_derived(warehouse: Warehouse, con_factory: ConnectionFactory,
                  rules: Mapping,
                  base: str, county_sources: Mapping[str, set[str]], inspection_sources: set[str], *,
                  full: bool, progress: Callable[[str], None]) -> DerivedResult:
    """Bring flags, burden and quota_usage up to date with the submission tables just published.

    `county_sources` maps every county with data in force to the submission ids it has in force;
    `inspection_sources` are all inspections submission ids in force; `base` is the
    global_fingerprint. `con_factory(counties, need_quotas, ready)` gives a DuckDB connection with
    the relations the flag SQL reads, holding at least the rows of `counties` (and every county's
    inspections and the quotas when `need_quotas`); it calls `ready(con)` as soon as units and
    departments are there, so that the flag SQL's set-up (which reads only those) can go on while
    it waits for the submission tables.
    """
    out = DerivedResult()
    try:
        from .. import flags
    except ImportError as exc:
        out.skipped = f"jianfu.flags is not available ({exc})"
        progress(f"flags skipped: {out.skipped}")
        return out

    rules = dict(rules)
    wanted = {c: fingerprint(base, ids) for c, ids in county_sources.items()}
    quota_inputs = fingerprint(base, ["inspections", *inspection_sources])
    stored_flags = _stored_fingerprints(warehouse, "flags")
    stored_burden = _stored_fingerprints(warehouse, "burden")

    def stale(stored: dict[str, str | None]) -> set[str]:
        return {c for c, fp in wanted.items() if full or stored.get(f"{c}.parquet") != fp}

    flag_counties, burden_counties = stale(stored_flags), stale(stored_burden)
    quota_stale = full or stored_flags.get(QUOTA_FILE) != quota_inputs
    stored_usage = _stored_fingerprints(warehouse, "quota_usage").get(WHOLE_FILE)
    usage_stale = full or stored_usage != quota_inputs
    gone_flags = {n for n in stored_flags if n != QUOTA_FILE and n.removesuffix(".parquet") not in wanted}
    gone_burden = {n for n in stored_burden if n.removesuffix(".parquet") not in wanted}
    out.recomputed_counties = flag_counties | burden_counties
    if not (flag_counties or burden_counties or quota_stale or usage_stale or gone_flags or gone_burden) \
            and all(warehouse.exists(t) for t in ("flags", "burden", "quota_usage")):
        return out

    def ready(con: duckdb.DuckDBPyConnection) -> None:
        if flag_counties:  # county_flags finds it prepared
            flags.prepare(con, rules, sorted(flag_counties))

    con = con_factory(flag_counties | burden_counties, quota_stale or usage_stale, ready)
    try:
        flag_files: dict[str, pa.Table | None] = {n: None for n in gone_flags}
        if flag_counties:
            progress(f"flags: {len(flag_counties)} count{'y' if len(flag_counties) == 1 else 'ies'}")
            table = flags.county_flags(con, rules, sorted(flag_counties))
            flag_files.update(_per_county(warehouse, "flags", table, flag_counties, wanted, stored_flags, full))
        if quota_stale:
            progress("flags: department quotas")
            table = stamp(flags.quota_flags(con, rules), quota_inputs)
            if full or stored_flags.get(QUOTA_FILE) != quota_inputs or not _same(warehouse, "flags", QUOTA_FILE, table):
                flag_files[QUOTA_FILE] = table
        burden_files: dict[str, pa.Table | None] = {n: None for n in gone_burden}
        if burden_counties:
            progress(f"burden: {len(burden_counties)} count{'y' if len(burden_counties) == 1 else 'ies'}")
            table = flags.burden(con, rules, sorted(burden_counties))
            burden_files.update(_per_county(warehouse, "burden", table, burden_counties, wanted, stored_burden, full))
        usage = None
        if usage_stale:
            progress("quota usage")
            usage = stamp(flags.quota_usage(con, rules), quota_inputs)
    finally:
        con.close()

    out.results.append(_publish_files(warehouse, "flags", flag_files, flags.FLAG_SCHEMA))
    out.results.append(_publish_files(warehouse, "burden", burden_files, flags.BURDEN_SCHEMA))
    if usage is not None and (full or stored_usage != quota_inputs or not _same(warehouse, "quota_usage", WHOLE_FILE, usage)):
        out.results.append(warehouse.publish_table("quota_usage", usage, WHOLE_FILE))
    elif not warehouse.exists("quota_usage"):
        out.results.append(warehouse.publish("quota_usage", {}))
    return out


def _per_county(warehouse: Warehouse, table_name: str, table: pa.Table, counties: set[str],
                wanted: Mapping[str, str], stored: Mapping[str, str | None], full: bool) -> dict[str, pa.Table]:
    """Split a result by county; keep only files whose rows or fingerprint differ from the tree's."""
    files: dict[str, pa.Table] = {}
    for county, rows in _by_county(table, counties).items():
        part = stamp(rows, wanted[county])
        name = f"{county}.parquet"
        if not full and stored.get(name) == wanted[county] and _same(warehouse, table_name, name, part):
            continue
        files[name] = part
    return files


def _by_county(table: pa.Table, counties: set[str]) -> dict[str, pa.Table]:
    """The rows of each of `counties`, in order (rows of other counties are dropped).

    The everyday rebuild recomputes one county, whose rows are then the whole result: checked
    in Python, so that it does without pyarrow.compute (its import costs that rebuild more than
    its flags do).
    """
    codes = table.column("county_code")
    if len(counties) == 1:
        (county,) = counties
        if set(codes.to_pylist()) <= {county}:
            return {county: table}
    import pyarrow.compute as pc

    # arrow_values.scalar, not a str: see arrow_values
    return {county: table.filter(pc.equal(codes, arrow_values.scalar(county, pa.string())))
            for county in sorted(counties)}


def _publish_files(warehouse: Warehouse, table: str, files: dict[str, pa.Table | None],
                   schema: pa.Schema) -> PublishResult:
    """One atomic publish of per-file changes; creates the (empty) table on a first build."""
    if not files:
        if warehouse.exists(table):
            return PublishResult(table)
        return warehouse.publish(table, {})
    # The quota file last: on an object store (file-by-file publish) it is the last one written.
    ordered = dict(sorted(files.items(), key=lambda item: (item[0] == QUOTA_FILE, item[0])))
    return warehouse.publish(table, {"": ordered}, merge=True)
