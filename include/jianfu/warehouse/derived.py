"""Flags, burden, reduction, form usage, quota usage and the form catalog: recomputed only where
their inputs changed (SPEC.md sections 7, 8, 14 and 15).

Storage (unpartitioned tables, so `flags/*.parquet` is the whole table to any engine):
- `flags/<province>.parquet`, `burden/<province>.parquet`, `reduction/<province>.parquet`,
  `form_usage/<province>.parquet`: the rows of the counties of one province (the first two digits
  of county_code), sorted by county; `flags/quota.parquet`: DEPT_QUOTA_WARNING /
  DEPT_QUOTA_EXCEEDED (across counties);
- `quota_usage/part-0.parquet`: the whole table (small);
- `form_catalog/<province>.parquet`: the catalog rows of the forms of one province's departments
  (the first two digits of dept_code).
A file per province, not per county: a national month is a few dozen files per table rather than
thousands, and a file costs the same to write and to read the footer of whatever its rows.

How a build knows what is stale, with no side state to drift from the tree: every province file
carries, in its Parquet key-value metadata (`jianfu.inputs`), the fingerprints each of its counties
was computed from: one per submission table the file's table reads (flags.READS), of the rules, the
reference files, the SQL and code of jianfu.flags, and the county's submission ids in force in that
table. A county whose fingerprints differ from those the current inputs give, or with data but no
rows stamped, is recomputed; a county with no data any more loses its rows. Of the flags, only the
rules reading a changed table are run again (a county that resent its form counts keeps its group
and inspection flags as stored). The quota files carry one fingerprint of every county's
inspections. So a build that died after publishing the submission tables but before these is
finished by the next one, and a change of rules.yaml or of the reference recomputes everything.
A province file is rewritten only if its rows or its fingerprints changed: the recomputed counties'
rows replace theirs, the others' are carried over from the file.

Counties are computed a province at a time, each on its own connection holding only that
province's partitions, and each file is set aside on disk until its table is published: memory
holds one province, whatever the size of the month.

The form catalog reads every county (overlap groups cross counties), so it is not stamped per
county: a note beside the tables (Warehouse.write_note), written after the catalog is published,
records the form_usage it was computed from (a hash of form_usage's county stamps) and the latest
month. When the note matches form_usage as it stood before this build, only the forms in the
form_usage rows this build replaced are computed again (a form's row depends on its own rows
alone), the others keep their stored rows, and the overlap groups are found again over all forms
(from the `items` each row stores); a new month, other rules, or any doubt recompute every form.
Each province file is rewritten only when its rows changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from itertools import groupby
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from .. import flags
from ..schema import FLAG_RULES, FLAGS_SCHEMA, FORM_CATALOG_SCHEMA, FORM_USAGE_SCHEMA, KINDS
from . import views
from .publish import ExistingFile, FileContents, PublishResult, Warehouse, write_parquet
from .whole import INPUTS_KEY, stamp, table_fingerprint

#: Bump when the way derived tables are stored changes: every file is recomputed once.
FORMAT = "4"
QUOTA_FILE = "quota.parquet"
WHOLE_FILE = "part-0.parquet"
CATALOG = "form_catalog"

#: Tables computed per county and stored a province per file, with their schemas.
PER_COUNTY: dict[str, pa.Schema] = {"flags": FLAGS_SCHEMA, **flags.COUNTY_TABLES}
TABLES = (*PER_COUNTY, "quota_usage", CATALOG)


def province_file(code: str) -> str:
    """The file of a county's (or a department's) rows: its province, the code's first two digits."""
    return f"{code[:2]}.parquet"


@dataclass
class DerivedResult:
    results: list[PublishResult] = field(default_factory=list)
    recomputed_counties: set[str] = field(default_factory=set)
    #: FORM_DUPLICATE_ACROSS_DEPTS pairs over form_duplicate_max_pairs, per (county, period)
    pairs_cut: dict[tuple[str, str], int] = field(default_factory=dict)


def global_fingerprint(rules: Mapping, reference_digests: Mapping[str, str]) -> str:
    """What every derived file depends on besides submissions: rules, reference, flag code."""
    h = hashlib.sha256(f"format={FORMAT}\n".encode())
    h.update(json.dumps(dict(rules), sort_keys=True, default=str).encode())
    h.update(json.dumps(dict(sorted(reference_digests.items()))).encode())
    code_dir = Path(flags.__file__).parent
    for path in sorted([*code_dir.glob("*.py"), *code_dir.glob("sql/*.sql")]):
        h.update(f"\n{path.relative_to(code_dir)}\n".encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def fingerprint(base: str, submission_ids: Iterable[str]) -> str:
    return hashlib.sha256("\n".join([base, *sorted(submission_ids)]).encode()).hexdigest()


def county_fingerprints(base: str, sources: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """A county's inputs, one fingerprint per submission table: `base` and the county's submission
    ids in force in that table (`sources`: kind -> ids)."""
    return {kind: fingerprint(f"{base}\n{kind}", sources.get(kind, ())) for kind in KINDS}


def _stale_kinds(stamped: object, wanted: Mapping[str, str]) -> set[str]:
    """The submission tables whose fingerprint in a county's stamp is not the wanted one (all of
    them when the county has no stamp, or one of another format)."""
    if stamped == wanted:  # most counties, at once
        return set()
    if not isinstance(stamped, dict):
        return set(wanted)
    return {kind for kind, value in wanted.items() if stamped.get(kind) != value}


def _stored_inputs(warehouse: Warehouse, table: str) -> dict[str, str | None]:
    """File name -> the `jianfu.inputs` it was stamped with (None when unreadable), for one table."""
    out: dict[str, str | None] = {}
    for name, meta in warehouse.read_all_metadata(table).items():
        value = (meta or {}).get(INPUTS_KEY)
        out[name] = value.decode() if value else None
    return out


def _county_inputs(stored: Mapping[str, str | None]) -> dict[str, dict[str, str]]:
    """County -> its fingerprints, from the stamps of a per-county table's province files."""
    out: dict[str, dict[str, str]] = {}
    for name, value in stored.items():
        if name != QUOTA_FILE and value:
            try:
                out.update(json.loads(value))
            except (ValueError, TypeError):
                pass  # a file stamped otherwise (an older format): its counties are recomputed
    return out


def _read(warehouse: Warehouse, table: str, name: str) -> pa.Table | None:
    try:
        return warehouse.read_file(table, "", name)
    except (OSError, pa.ArrowInvalid):
        return None


def _same(warehouse: Warehouse, table: str, name: str, data: pa.Table) -> bool:
    found = _read(warehouse, table, name)
    return found is not None and found.equals(data) and found.schema.metadata == data.schema.metadata


#: What build_derived asks of its caller: `(counties, whole_kinds)` -> a DuckDB connection holding
#: the relations the SQL reads, with at least the rows of `counties` and every row of the
#: submission tables named in `whole_kinds` (and the quotas when inspections is among them);
#: `counties` None -> one holding no relation (the form catalog registers form_usage itself).
ConnectionFactory = Callable[[set[str] | None, set[str]], duckdb.DuckDBPyConnection]


def build_derived(warehouse: Warehouse, connect: ConnectionFactory, rules: Mapping, base: str,
                  county_sources: Mapping[str, Mapping[str, set[str]]], kind_sources: Mapping[str, set[str]], *,
                  full: bool, progress: Callable[[str], None], scratch: Path) -> DerivedResult:
    """Bring the derived tables up to date with the submission tables just published.

    `county_sources` maps every county with data in force to the submission ids it has in force,
    by kind; `kind_sources` maps each kind to all its submission ids in force; `base` is the
    global_fingerprint; `scratch` is an empty directory the build owns, for files made before
    their table is published.
    """
    out = DerivedResult()
    rules = dict(rules)
    everything = {c: county_fingerprints(base, sources) for c, sources in county_sources.items()}
    wanted = {table: everything if set(flags.READS[table]) == set(KINDS)
              else {c: {k: fps[k] for k in flags.READS[table]} for c, fps in everything.items()}
              for table in PER_COUNTY}
    stored = {table: _stored_inputs(warehouse, table) for table in PER_COUNTY}
    stamped = {table: _county_inputs(stored[table]) for table in PER_COUNTY}
    stale_kinds = {table: {c: kinds for c, fps in wanted[table].items()
                           if (kinds := set(fps) if full else _stale_kinds(stamped[table].get(c), fps))}
                   for table in PER_COUNTY}
    stale = {table: set(stale_kinds[table]) for table in PER_COUNTY}
    gone = {table: {c for c in stamped[table] if c not in everything} for table in PER_COUNTY}
    usage_before = _usage_state(stamped["form_usage"])
    catalog_note = _catalog_note(warehouse)
    quota_inputs = fingerprint(base, ["inspections", *kind_sources.get("inspections", ())])
    quota_stale = full or stored["flags"].get(QUOTA_FILE) != quota_inputs
    stored_usage = _stored_inputs(warehouse, "quota_usage").get(WHOLE_FILE)
    usage_stale = full or stored_usage != quota_inputs
    catalog_stale = full or not warehouse.exists(CATALOG) or \
        (catalog_note.get("base"), catalog_note.get("usage")) != (base, usage_before)
    counties = sorted(set().union(*stale.values()))
    out.recomputed_counties = set(counties)
    touched = sorted({province_file(c) for c in set().union(*stale.values(), *gone.values())})
    if not (touched or quota_stale or usage_stale or catalog_stale) and all(warehouse.exists(t) for t in TABLES):
        return out

    files: dict[str, dict[str, FileContents | None]] = {t: {} for t in PER_COUNTY}
    usage_changes: list[pa.Table] = []  # (dept_code, form_id) of the form_usage rows replaced
    by_province = {name: list(group) for name, group in groupby(counties, key=province_file)}
    for number, name in enumerate(touched, 1):
        step = by_province.get(name, [])
        if step:
            progress(f"flags, burden, reduction, form usage: {len(step)} count{'y' if len(step) == 1 else 'ies'} "
                     f"of province {name.removesuffix('.parquet')} ({number} of {len(touched)})")
        # Of the flags, the rules reading a table changed in one of the step's counties.
        kinds = set().union(*(stale_kinds["flags"].get(c, set()) for c in step))
        computed = _compute(connect, rules, step, stale, kinds, out.pairs_cut) if step else {}
        for table in PER_COUNTY:
            rows = computed.get(table, PER_COUNTY[table].empty_table())
            old = None if full else _read(warehouse, table, name)
            if table == "form_usage" and not full:
                along = set(step) if table in computed else set()
                usage_changes.append(_forms_replaced(old, rows, stale[table] | gone[table] | along))
            carried = [r for r in flags.COUNTY_RULES if FLAG_RULES[r].reads not in kinds] if table == "flags" else []
            merged = _merge_province(warehouse, table, name, old, rows, stale[table] | gone[table],
                                     wanted[table], carried)
            if merged is not False:
                files[table][name] = None if merged is None else _set_aside(scratch, table, name, merged)
    if out.pairs_cut:
        progress(f"flags: {sum(out.pairs_cut.values())} FORM_DUPLICATE_ACROSS_DEPTS pair(s) over "
                 f"form_duplicate_max_pairs not flagged")

    usage = None
    if quota_stale or usage_stale:
        con = connect(set(), {"inspections"})
        try:
            if quota_stale:
                progress("flags: department quotas")
                quota = stamp(flags.quota_flags(con, rules), quota_inputs)
                if full or not _same(warehouse, "flags", QUOTA_FILE, quota):
                    files["flags"][QUOTA_FILE] = quota
            if usage_stale:
                progress("quota usage")
                usage = stamp(flags.quota_usage(con, rules), quota_inputs)
        finally:
            con.close()

    for table in PER_COUNTY:
        out.results.append(_publish_files(warehouse, table, files[table]))
    if usage is not None and (full or not _same(warehouse, "quota_usage", WHOLE_FILE, usage)):
        out.results.append(warehouse.publish_table("quota_usage", usage, WHOLE_FILE))
    elif not warehouse.exists("quota_usage"):
        out.results.append(warehouse.publish("quota_usage", {}))

    usage_after = _usage_state(_county_inputs(_stored_inputs(warehouse, "form_usage"))) if touched else usage_before
    if catalog_stale or catalog_note.get("usage") != usage_after:
        con = connect(None, set())
        try:
            views.register(con, warehouse, ["form_usage"], {"form_usage": FORM_USAGE_SCHEMA})
            latest = con.sql("SELECT max(period) FROM form_usage").fetchall()[0][0]
            note = {"base": base, "usage": usage_after, "latest": latest}
            if not full and warehouse.exists(CATALOG) and catalog_note == {**note, "usage": usage_before}:
                forms = pa.concat_tables([flags.FORM_KEYS.empty_table(), *usage_changes]).group_by(flags.FORM_KEYS.names).aggregate([])
                progress(f"form catalog: {forms.num_rows} form(s) whose use changed")
                files = _catalog_update(warehouse, con, rules, forms)
            else:
                progress("form catalog")
                files = _catalog_files(warehouse, flags.form_catalog(con, rules, flags.form_facts(con, rules)), full)
        finally:
            con.close()
        out.results.append(_publish_files(warehouse, CATALOG, files))
        warehouse.write_note(CATALOG, json.dumps(note, sort_keys=True))
    return out


def _usage_state(stamps: Mapping[str, Mapping[str, str]]) -> str:
    """One hash of form_usage's county stamps: which inputs a catalog was computed from."""
    return hashlib.sha256(json.dumps(sorted(stamps.items()), sort_keys=True).encode()).hexdigest()


def _catalog_note(warehouse: Warehouse) -> dict:
    """The catalog's note ({} when there is none or it is not this build's kind of note)."""
    try:
        note = json.loads(warehouse.read_note(CATALOG) or "{}")
    except ValueError:
        return {}
    return note if isinstance(note, dict) else {}


def _forms_replaced(old: pa.Table | None, rows: pa.Table, counties: set[str]) -> pa.Table:
    """(dept_code, form_id) of the form_usage rows of `counties` in one province file, as stored
    (`old`) and as computed now (`rows`): the forms whose catalog rows this build may change."""
    parts = [rows.select(flags.FORM_KEYS.names)]
    if old is not None and counties:
        mask = pc.is_in(old.column("county_code"), pa.array(sorted(counties), pa.string()))
        parts.append(old.filter(mask).select(flags.FORM_KEYS.names))
    return pa.concat_tables(parts).cast(flags.FORM_KEYS)


def _catalog_update(warehouse: Warehouse, con: duckdb.DuckDBPyConnection, rules: Mapping,
                    forms: pa.Table) -> dict[str, pa.Table | None]:
    """The catalog files a build changes when only `forms` were used otherwise: those forms'
    rows computed again, every other row as stored.

    The overlap groups depend only on which forms there are and on each one's department, name
    and items: when none of those changed for `forms`, every stored group holds and only the
    provinces of `forms` are read and written; otherwise the groups are found again across the
    whole catalog."""
    facts = flags.form_facts(con, rules, forms)
    changed = {province_file(d) for d in pc.unique(forms.column("dept_code")).to_pylist()}
    stored = _read_catalog(warehouse, changed)
    in_scope = _keys_in(stored, forms)
    before = stored.filter(in_scope)
    if _descriptions(before) == _descriptions(facts):
        groups = dict(zip(_tokens(before), before.column("overlap_group").to_pylist(), strict=True))
        facts = facts.append_column("overlap_group", pa.array([groups[t] for t in _tokens(facts)], pa.string()))
        catalog = pa.concat_tables([stored.filter(pc.invert(in_scope)), facts.select(FORM_CATALOG_SCHEMA.names)
                                    .cast(FORM_CATALOG_SCHEMA)])
        catalog = catalog.sort_by([("dept_code", "ascending"), ("form_id", "ascending")])  # as a whole one is
        return _catalog_files(warehouse, catalog, False, only=changed)
    stored = _read_catalog(warehouse, None)
    kept = stored.filter(pc.invert(_keys_in(stored, forms))).drop_columns(["overlap_group"])
    return _catalog_files(warehouse, flags.form_catalog(con, rules, pa.concat_tables([kept, facts])), False)


def _read_catalog(warehouse: Warehouse, names: set[str] | None) -> pa.Table:
    """The stored catalog rows of the province files `names` (None: of every file)."""
    present = warehouse.files(CATALOG).get("", [])
    chosen = [n for n in present if names is None or n in names]
    return pa.concat_tables([FORM_CATALOG_SCHEMA.empty_table(), *(
        warehouse.read_file(CATALOG, "", n).select(FORM_CATALOG_SCHEMA.names).cast(FORM_CATALOG_SCHEMA)
        for n in chosen)])


def _tokens(table: pa.Table) -> list[str]:
    """`dept_code:form_id` of each row: a form's key as one string."""
    return [f"{d}:{f}" for d, f in zip(table.column("dept_code").to_pylist(), table.column("form_id").to_pylist(),
                                       strict=True)]


def _keys_in(table: pa.Table, forms: pa.Table) -> pa.ChunkedArray:
    """Which rows of `table` are of the forms (dept_code, form_id) of `forms`."""
    return pc.is_in(pa.array(_tokens(table), pa.string()), pa.array(_tokens(forms), pa.string()))


def _descriptions(rows: pa.Table) -> set[tuple]:
    """What overlap groups are found from: each form, its normalised name and its items."""
    return {(token, flags.norm_name(name or ""), tuple(items or ()))
            for token, name, items in zip(_tokens(rows), rows.column("form_name").to_pylist(),
                                          rows.column("items").to_pylist(), strict=True)}


def _compute(connect: ConnectionFactory, rules: dict, step: list[str], stale: Mapping[str, set[str]],
             kinds: set[str], cut: dict[tuple[str, str], int]) -> dict[str, pa.Table]:
    """The per-county tables with a stale county in `step`, on one connection holding only the
    step's partitions; of the flags, the rules reading one of `kinds`. Each is computed for every
    county of the step (a county stale in one table is normally stale in all); the merge puts a
    fresh county's new rows, equal to its stored ones, in their place."""
    tables = [t for t in PER_COUNTY if stale[t] & set(step)]
    con = connect(set(step), set())
    try:
        return flags.county_tables(con, rules, step, tables, cut=cut, kinds=kinds)
    finally:
        con.close()


def _merge_province(warehouse: Warehouse, table: str, name: str, old: pa.Table | None, rows: pa.Table,
                    replaced: set[str], wanted: Mapping[str, dict[str, str]],
                    carried: list[str]) -> pa.Table | None | bool:
    """A province file's new contents: `rows` (counties recomputed: those of `replaced` and any
    other the step computed along), plus the rows of every other county still in force from `old`,
    the file as stored (None on a full build, or when there is none), and, of the recomputed
    counties, their stored flags of the `carried` rules (not run: their table did not change);
    sorted by county (flags then by rule, in SPEC order), stamped with each county's fingerprints.

    Returns False when the file would not change, None when no county is left in it.
    """
    computed = set(pc.unique(rows.column("county_code")).to_pylist()) if rows.num_rows else set()
    redone = {c for c in replaced if province_file(c) == name and c in wanted} | computed
    parts = [rows]
    kept_inputs: dict[str, dict[str, str]] = {}
    if old is not None:
        old_inputs = _county_inputs({name: (old.schema.metadata or {}).get(INPUTS_KEY, b"").decode() or None})
        keep = sorted(c for c in old_inputs if c not in redone and c not in replaced and c in wanted)
        kept_inputs = {c: old_inputs[c] for c in keep}
        if keep:
            parts.append(old.filter(pc.is_in(old.column("county_code"), pa.array(keep, pa.string()))))
        if carried and redone:
            parts.append(old.filter(pc.and_(pc.is_in(old.column("county_code"), pa.array(sorted(redone), pa.string())),
                                            pc.is_in(old.column("rule"), pa.array(carried, pa.string())))))
    inputs = {**kept_inputs, **{c: wanted[c] for c in redone}}
    if not inputs:  # no county left: the file goes (if there is one)
        return None if name in warehouse.files(table).get("", []) else False
    merged = pa.concat_tables([p.select(PER_COUNTY[table].names).cast(PER_COUNTY[table]) for p in parts])
    order = [("county_code", "ascending")]
    if table == "flags":  # within a county, rule by rule as a run of every rule gives them
        merged = merged.append_column("_rank", pc.index_in(merged.column("rule"), pa.array(flags.COUNTY_RULES)))
        order.append(("_rank", "ascending"))
    merged = merged.take(pc.sort_indices(merged, order)).select(PER_COUNTY[table].names)  # stable
    merged = stamp(merged.replace_schema_metadata(None), json.dumps(dict(sorted(inputs.items())), sort_keys=True))
    if old is not None and old.equals(merged) and old.schema.metadata == merged.schema.metadata:
        return False
    return merged


def _set_aside(scratch: Path, table: str, name: str, data: pa.Table) -> FileContents:
    """Write a file made for a later publish to `scratch`, and return what the publish takes it
    as: the file itself, linked into the new snapshot (copied to another file system, read and
    written to an object store) rather than read back and encoded again. A build of every county
    holds one province's rows in memory, not the whole month's."""
    path = scratch / table / name
    path.parent.mkdir(parents=True, exist_ok=True)
    write_parquet(data, str(path))
    return partial(ExistingFile, str(path))


def _catalog_files(warehouse: Warehouse, catalog: pa.Table, full: bool,
                   only: set[str] | None = None) -> dict[str, pa.Table | None]:
    """The catalog split by province (dept_code's first two digits): only the files whose rows
    changed, and None for a province none of whose forms is in the catalog any more. With `only`,
    `catalog` holds the rows of those province files alone, and no other file is touched.

    Each file is stamped with a hash of its own rows, so telling an unchanged province costs a
    footer, not a read of the file."""
    provinces = pc.utf8_slice_codeunits(catalog.column("dept_code"), 0, 2)
    stored = _stored_inputs(warehouse, CATALOG)
    files: dict[str, pa.Table | None] = {name: None for name in stored if only is None or name in only}
    for code in sorted(set(provinces.to_pylist())):
        name = province_file(code)
        part = catalog.filter(pc.equal(provinces, code)).cast(FORM_CATALOG_SCHEMA)
        rows = table_fingerprint(part)
        if not full and stored.get(name) == rows:
            files.pop(name, None)
            continue
        files[name] = stamp(part, rows)
    return files


def _publish_files(warehouse: Warehouse, table: str, files: dict[str, FileContents | None]) -> PublishResult:
    """One atomic publish of per-file changes; creates the (empty) table on a first build."""
    if not files:
        if warehouse.exists(table):
            return PublishResult(table)
        return warehouse.publish(table, {})
    # The quota file last: on an object store (file-by-file publish) it is the last one written.
    ordered = dict(sorted(files.items(), key=lambda item: (item[0] == QUOTA_FILE, item[0])))
    return warehouse.publish(table, {"": ordered}, merge=True)
