"""Flags, burden, reduction, quota usage and the form catalog: recomputed only where their inputs
changed (SPEC.md sections 7, 8, 14 and 15).

Storage (unpartitioned tables, so `flags/*.parquet` is the whole table to any engine):
- `flags/<county_code>.parquet`: the county's flags of every rule but DEPT_QUOTA_*;
  `flags/quota.parquet`: DEPT_QUOTA_WARNING / DEPT_QUOTA_EXCEEDED (across counties);
- `burden/<county_code>.parquet`, `reduction/<county_code>.parquet`: the county's rows;
- `quota_usage/part-0.parquet`: the whole table (small);
- `form_catalog/<gov_code>.parquet`: the catalog rows of the forms of one government's
  departments (the first six digits of dept_code).

How a build knows what is stale, with no side state to drift from the tree: every per-county and
quota file carries, in its Parquet key-value metadata (`jianfu.inputs`), a fingerprint of what it
was computed from — the rules, the reference files, the SQL and code of jianfu.flags, and the
submission ids in force that it read (a county's own, or every county's inspections for the quota
files). A file whose fingerprint differs from the one the current inputs give, or a county with
data but no file, is recomputed; a county with no data any more loses its file. So a build that
died after publishing the submission tables but before these is finished by the next one, and a
change of rules.yaml or of the reference recomputes everything. A recomputed file is rewritten
only if its rows or its fingerprint changed.

The form catalog reads every county (overlap groups cross counties), so its fingerprint covers
every form_counts submission in force; stamping it into each file would rewrite them all whenever
any county resubmits. It is kept instead as a note beside the tables (Warehouse.write_note),
written after the catalog is published: each file is rewritten only when its rows changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from .. import flags
from ..schema import BURDEN_SCHEMA, FLAGS_SCHEMA, FORM_CATALOG_SCHEMA, REDUCTION_SCHEMA
from .publish import PublishResult, Warehouse
from .whole import INPUTS_KEY, stamp

#: Bump when the way derived tables are stored changes: every file is recomputed once.
FORMAT = "2"
QUOTA_FILE = "quota.parquet"
WHOLE_FILE = "part-0.parquet"
CATALOG = "form_catalog"

#: Per-county tables: name -> (how to compute the rows of some counties, schema).
PER_COUNTY: dict[str, tuple[Callable[..., pa.Table], pa.Schema]] = {
    "flags": (flags.county_flags, FLAGS_SCHEMA),
    "burden": (flags.burden, BURDEN_SCHEMA),
    "reduction": (flags.reduction, REDUCTION_SCHEMA),
}
TABLES = (*PER_COUNTY, "quota_usage", CATALOG)


@dataclass
class DerivedResult:
    results: list[PublishResult] = field(default_factory=list)
    recomputed_counties: set[str] = field(default_factory=set)
    #: FORM_DUPLICATE_ACROSS_DEPTS pairs over form_duplicate_max_pairs, per (county, period)
    pairs_cut: dict[tuple[str, str], int] = field(default_factory=dict)


def global_fingerprint(rules: Mapping, reference_dir: Path) -> str:
    """What every derived file depends on besides submissions: rules, reference, flag code."""
    h = hashlib.sha256(f"format={FORMAT}\n".encode())
    h.update(json.dumps(dict(rules), sort_keys=True, default=str).encode())
    for name in ("units.csv", "departments.csv", "quotas.csv"):
        path = reference_dir / name
        h.update(f"\n{name}\n".encode())
        if path.exists():
            h.update(path.read_bytes())
    code_dir = Path(flags.__file__).parent
    for path in sorted([*code_dir.glob("*.py"), *code_dir.glob("sql/*.sql")]):
        h.update(f"\n{path.relative_to(code_dir)}\n".encode())
        h.update(path.read_bytes())
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


#: What build_derived asks of its caller: `(counties, whole_kinds)` -> a DuckDB connection holding
#: the relations the SQL reads, with at least the rows of `counties` and every row of the
#: submission tables named in `whole_kinds` (and the quotas when inspections is among them).
ConnectionFactory = Callable[[set[str], set[str]], duckdb.DuckDBPyConnection]


def build_derived(warehouse: Warehouse, connect: ConnectionFactory, rules: Mapping, base: str,
                  county_sources: Mapping[str, set[str]], kind_sources: Mapping[str, set[str]], *,
                  full: bool, progress: Callable[[str], None]) -> DerivedResult:
    """Bring the derived tables up to date with the submission tables just published.

    `county_sources` maps every county with data in force to the submission ids it has in force;
    `kind_sources` maps each kind to all its submission ids in force; `base` is the
    global_fingerprint.
    """
    out = DerivedResult()
    rules = dict(rules)
    wanted = {c: fingerprint(base, ids) for c, ids in county_sources.items()}
    stored = {table: _stored_fingerprints(warehouse, table) for table in PER_COUNTY}
    stale = {table: {c for c, fp in wanted.items() if full or stored[table].get(f"{c}.parquet") != fp}
             for table in PER_COUNTY}
    gone = {table: {n for n in stored[table] if n != QUOTA_FILE and n.removesuffix(".parquet") not in wanted}
            for table in PER_COUNTY}
    quota_inputs = fingerprint(base, ["inspections", *kind_sources.get("inspections", ())])
    quota_stale = full or stored["flags"].get(QUOTA_FILE) != quota_inputs
    stored_usage = _stored_fingerprints(warehouse, "quota_usage").get(WHOLE_FILE)
    usage_stale = full or stored_usage != quota_inputs
    catalog_inputs = fingerprint(base, [CATALOG, *kind_sources.get("form_counts", ())])
    catalog_stale = full or warehouse.read_note(CATALOG) != catalog_inputs or not warehouse.exists(CATALOG)
    counties = set().union(*stale.values())
    out.recomputed_counties = counties
    if not (counties or quota_stale or usage_stale or catalog_stale or any(gone.values())) \
            and all(warehouse.exists(t) for t in TABLES):
        return out

    whole_kinds = ({"inspections"} if quota_stale or usage_stale else set()) | \
        ({"form_counts"} if catalog_stale else set())
    con = connect(counties, whole_kinds)
    files: dict[str, dict[str, pa.Table | None]] = {t: {n: None for n in gone[t]} for t in PER_COUNTY}
    usage = catalog = None
    try:
        for table, (compute, _schema) in PER_COUNTY.items():
            if stale[table]:
                progress(f"{table}: {len(stale[table])} count{'y' if len(stale[table]) == 1 else 'ies'}")
                extra = {"cut": out.pairs_cut} if table == "flags" else {}
                rows = compute(con, rules, sorted(stale[table]), **extra)
                files[table].update(_per_county(warehouse, table, rows, stale[table], wanted, stored[table], full))
        if out.pairs_cut:
            progress(f"flags: {sum(out.pairs_cut.values())} FORM_DUPLICATE_ACROSS_DEPTS pair(s) over "
                     f"form_duplicate_max_pairs not flagged")
        if quota_stale:
            progress("flags: department quotas")
            quota = stamp(flags.quota_flags(con, rules), quota_inputs)
            if full or not _same(warehouse, "flags", QUOTA_FILE, quota):
                files["flags"][QUOTA_FILE] = quota
        if usage_stale:
            progress("quota usage")
            usage = stamp(flags.quota_usage(con, rules), quota_inputs)
        if catalog_stale:
            progress("form catalog")
            catalog = flags.form_catalog(con, rules)
    finally:
        con.close()

    for table in PER_COUNTY:
        out.results.append(_publish_files(warehouse, table, files[table]))
    if usage is not None and (full or stored_usage != quota_inputs or not _same(warehouse, "quota_usage", WHOLE_FILE, usage)):
        out.results.append(warehouse.publish_table("quota_usage", usage, WHOLE_FILE))
    elif not warehouse.exists("quota_usage"):
        out.results.append(warehouse.publish("quota_usage", {}))
    if catalog is not None:
        out.results.append(_publish_files(warehouse, CATALOG, _catalog_files(warehouse, catalog, full)))
        warehouse.write_note(CATALOG, catalog_inputs)
    return out


def _per_county(warehouse: Warehouse, table_name: str, table: pa.Table, counties: set[str],
                wanted: Mapping[str, str], stored: Mapping[str, str | None], full: bool) -> dict[str, pa.Table]:
    """Split a result by county; keep only files whose rows or fingerprint differ from the tree's."""
    files: dict[str, pa.Table] = {}
    codes = table.column("county_code")
    for county in sorted(counties):
        part = stamp(table.filter(pc.equal(codes, county)), wanted[county])
        name = f"{county}.parquet"
        if not full and stored.get(name) == wanted[county] and _same(warehouse, table_name, name, part):
            continue
        files[name] = part
    return files


def _catalog_files(warehouse: Warehouse, catalog: pa.Table, full: bool) -> dict[str, pa.Table | None]:
    """The catalog split by government (dept_code's first six digits): only the files whose rows
    changed, and None for a government none of whose forms is in the catalog any more."""
    governments = pc.utf8_slice_codeunits(catalog.column("dept_code"), 0, 6)
    present = set(warehouse.files(CATALOG).get("", []))
    files: dict[str, pa.Table | None] = {name: None for name in present}
    for gov in sorted(set(governments.to_pylist())):
        name = f"{gov}.parquet"
        part = catalog.filter(pc.equal(governments, gov)).cast(FORM_CATALOG_SCHEMA)
        if not full and name in present and _same(warehouse, CATALOG, name, part):
            del files[name]
            continue
        files[name] = part
    return files


def _publish_files(warehouse: Warehouse, table: str, files: dict[str, pa.Table | None]) -> PublishResult:
    """One atomic publish of per-file changes; creates the (empty) table on a first build."""
    if not files:
        if warehouse.exists(table):
            return PublishResult(table)
        return warehouse.publish(table, {})
    # The quota file last: on an object store (file-by-file publish) it is the last one written.
    ordered = dict(sorted(files.items(), key=lambda item: (item[0] == QUOTA_FILE, item[0])))
    return warehouse.publish(table, {"": ordered}, merge=True)
