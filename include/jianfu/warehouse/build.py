"""`jianfu build`: bring the Parquet warehouse up to date with the ledger (SPEC.md section 7).

Steps, under the warehouse's writer lock:
1. clear what a killed build left behind (unfinished snapshots: invisible, only space);
2. the submission tables form_counts, work_groups, inspections: one partition per version in
   force, rewritten only when the version in force changed (kinds.plan), each table published in
   one atomic step; a table whose live snapshot records that it was published holding exactly the
   versions in force (publish.RECORD) is current without a walk of its directories;
3. units, departments, submissions: made and published only when the hash of what they are made
   from (a reference CSV; the submissions table's own rows) differs from the one stamped in their file;
4. flags, burden, reduction, form_usage: recomputed for the counties whose inputs changed, a step
   of counties at a time; quota_usage and form_catalog when any of their inputs changed
   (derived.py). DuckDB works under `Settings.build_memory_limit` and spills to a scratch
   directory in the home that the build removes (a killed build's is removed by the next).

Every decision is read from the tree (its files, the stamps in their footers, the record in each
snapshot of what it was published holding) and the ledger, never from a record of the last build,
so a build killed at any moment is finished by the next one, and a build with nothing to do writes
no file. A file put into or taken out of a submission table by hand shows to readers at once and is
set right by the next build that changes that table (or `--full`). The Airflow task and the CLI
call `build` alike.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import duckdb

from .. import ledger
from ..collector import frozen
from ..config import Settings, load_rules
from ..reference import Reference
from ..schema import KINDS, QUOTAS_SCHEMA, SUBMISSIONS_SCHEMA
from . import derived, kinds, views, whole
from .kinds import BuildError
from .publish import PublishResult, Warehouse

__all__ = ["BuildError", "BuildResult", "TableStats", "build"]

#: Name of the build's scratch directory in the home (DuckDB's spill, files awaiting a publish).
SCRATCH_PREFIX = ".build-"


@dataclass
class TableStats:
    written: int = 0  # files written
    removed: int = 0  # partitions (or province files) removed
    linked: int = 0  # unchanged files carried into the new snapshot by hard link

    def add(self, result: PublishResult) -> None:
        self.written += len(result.written)
        self.removed += len(result.removed)
        self.linked += result.linked


@dataclass
class BuildResult:
    warehouse: str
    tables: dict[str, TableStats] = field(default_factory=dict)
    changed_counties: list[str] = field(default_factory=list)  # counties whose submission partitions changed
    recomputed_counties: list[str] = field(default_factory=list)  # counties whose flags/burden were recomputed
    elapsed: float = 0.0
    recovered: int = 0  # leftovers of a killed build cleared
    #: FORM_DUPLICATE_ACROSS_DEPTS pairs over form_duplicate_max_pairs, per (county, period)
    pairs_cut: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def written(self) -> int:
        return sum(t.written for t in self.tables.values())

    @property
    def removed(self) -> int:
        return sum(t.removed for t in self.tables.values())

    def describe(self) -> str:
        """What the CLI prints: one headline, then a line per table that changed."""
        if not self.written and not self.removed:
            head = f"warehouse {self.warehouse} is up to date: nothing written ({self.elapsed:.2f} s)"
        else:
            head = (f"warehouse {self.warehouse}: {self.written} file(s) written, {self.removed} removed "
                    f"in {self.elapsed:.2f} s")
        lines = [head]
        for name, stats in self.tables.items():
            if stats.written or stats.removed:
                lines.append(f"  {name:<12} {stats.written:>6} written {stats.removed:>5} removed "
                             f"{stats.linked:>6} unchanged")
        if self.changed_counties:
            shown = ", ".join(self.changed_counties[:20])
            more = f" and {len(self.changed_counties) - 20} more" if len(self.changed_counties) > 20 else ""
            lines.append(f"  counties changed: {shown}{more}")
        if self.recomputed_counties and self.recomputed_counties != self.changed_counties:
            lines.append(f"  flags, burden and reduction recomputed for {len(self.recomputed_counties)} county(ies)")
        if self.pairs_cut:
            months = ", ".join(f"{c} {p}: {n}" for (c, p), n in sorted(self.pairs_cut.items())[:10])
            more = " ..." if len(self.pairs_cut) > 10 else ""
            lines.append(f"  FORM_DUPLICATE_ACROSS_DEPTS: {sum(self.pairs_cut.values())} similar pair(s) over "
                         f"form_duplicate_max_pairs not flagged (county month: pairs cut) {months}{more}")
        if self.recovered:
            lines.append(f"  cleared {self.recovered} leftover(s) of an interrupted build")
        return "\n".join(lines)


def _counting(progress: Callable[[str], None], table: str, total: int):
    """Wrap partition loaders so that long writes report every ~10% (thread-safe)."""
    lock = threading.Lock()
    done = [0]
    step = max(25, total // 10)

    def wrap(loader):
        def run():
            data = loader()
            with lock:
                done[0] += 1
                if done[0] % step == 0 and done[0] < total:
                    progress(f"{table}: {done[0]}/{total} partitions written")
            return data
        return run

    return wrap


def build(settings: Settings, *, full: bool = False, progress: Callable[[str], None] | None = None) -> BuildResult:
    """Build or update the warehouse at settings.warehouse; `full` rewrites every partition."""
    started = time.perf_counter()
    result = BuildResult(settings.warehouse)
    # A build sets off the collector's full passes the more often the more receipts and counties it
    # holds: frozen, what was loaded before is not walked by each of them.
    with frozen():
        _update(settings, result, full=full, say=progress or (lambda _message: None))
    result.elapsed = time.perf_counter() - started
    return result


def _update(settings: Settings, result: BuildResult, *, full: bool, say: Callable[[str], None]) -> None:
    """The steps of the module's docstring, recorded in `result`."""
    warehouse = Warehouse(settings.warehouse, pause_after_write=settings.publish_pause)
    reference = cache(lambda: Reference.load(settings.reference))  # parsed only if needed
    rules = load_rules(settings.reference)
    with warehouse.lock(), ThreadPoolExecutor(1) as hasher:
        # The reference files (tens of MB for a country) are hashed while the ledger is read and
        # the tables planned: hashlib lets go of the GIL, so the two share the machine's cores.
        hashed = hasher.submit(whole.reference_digests, settings.reference)
        result.recovered = len(warehouse.recover())
        in_force, receipts = ledger.read_submissions(settings.db_url, [*SUBMISSIONS_SCHEMA.names, "staged_path"])

        changed: set[str] = set()
        county_sources: dict[str, dict[str, set[str]]] = {}
        kind_sources: dict[str, set[str]] = {}
        kind_rows: dict[str, list[dict]] = {kind_name: [] for kind_name in KINDS}
        for row in in_force:
            county_sources.setdefault(row["county_code"], {}).setdefault(row["kind"], set()).add(row["submission_id"])
            kind_sources.setdefault(row["kind"], set()).add(row["submission_id"])
            kind_rows.setdefault(row["kind"], []).append(row)
        for kind_name in KINDS:
            rows = kind_rows[kind_name]
            # A table whose live snapshot records that it was published holding exactly the
            # versions in force is current: its thousands of directories are not walked.
            expected = None if full else kinds.expected_files(kind_name, rows)
            if expected is not None and warehouse.published_as(kind_name, expected):
                listing, plan = expected, kinds.KindPlan(kind_name, unchanged=len(rows))
            else:
                listing = warehouse.files(kind_name)
                plan = kinds.plan(kind_name, rows, listing, full=full, home=settings.home)
            writes = sum(1 for c in plan.replace.values() if c is not None)
            say(f"{kind_name}: {writes} partition(s) to write, {len(plan.replace) - writes} to remove, "
                f"{plan.unchanged} unchanged")
            stats = result.tables[kind_name] = TableStats()
            changed |= plan.changed_counties
            if plan.replace or not warehouse.exists(kind_name):
                wrap = _counting(say, kind_name, writes)
                replace = {p: (None if c is None else {n: wrap(f) for n, f in c.items()})
                           for p, c in plan.replace.items()}
                stats.add(warehouse.publish(kind_name, replace, only=plan.keep if full else None, listing=listing))
            stats.linked = plan.unchanged  # one file per partition

        # Whole tables: each file is stamped with a hash of what it is made from (a reference
        # CSV; the submissions table, its own rows), so an unchanged table is told by its stamp.
        digests = hashed.result()
        ledger_table = cache(lambda: whole.submissions_table(receipts))
        wholes = (
            ("units", lambda: whole.source_fingerprint(digests, "units"),
             lambda: whole.units_table(reference())),
            ("departments", lambda: whole.source_fingerprint(digests, "departments"),
             lambda: whole.departments_table(reference())),
            ("submissions", lambda: whole.table_fingerprint(ledger_table()), ledger_table),
        )
        for name, fingerprint, make in wholes:
            inputs = fingerprint()
            stats = result.tables[name] = TableStats()
            if not full and whole.stored_fingerprint(warehouse, name) == inputs:
                stats.linked = 1
                continue
            stats.add(warehouse.publish_table(name, whole.stamp(make(), inputs)))
        # A country's 660,000 units as parsed objects are not needed past this point: dropped
        # before the flag steps, which hold a province's data at a time beside them.
        reference.cache_clear()

        for leftover in settings.home.glob(f"{SCRATCH_PREFIX}*"):  # of a killed build: only space
            shutil.rmtree(leftover, ignore_errors=True)
            result.recovered += 1
        settings.home.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=settings.home))

        def connection(counties: set[str] | None, whole_kinds: set[str]) -> duckdb.DuckDBPyConnection:
            con = duckdb.connect(":memory:", config={"memory_limit": settings.build_memory_limit,
                                                     "temp_directory": str(scratch / "duckdb")})
            con.execute("SET enable_progress_bar = false")  # the build reports its own progress
            if counties is None:
                return con
            views.register(con, warehouse, ["units", "departments"])
            quotas = (whole.quotas_table(settings.reference) if "inspections" in whole_kinds
                      else QUOTAS_SCHEMA.empty_table())
            con.register("__jf_quotas", quotas)
            con.execute("CREATE TABLE quotas AS SELECT * FROM __jf_quotas")
            con.unregister("__jf_quotas")
            everyone = counties >= set(county_sources)
            for kind_name in KINDS:
                scope = None if everyone or kind_name in whole_kinds else counties
                views.register_counties(con, warehouse, kind_name, scope)
            return con

        try:
            outcome = derived.build_derived(
                warehouse, connection, rules, derived.global_fingerprint(rules, digests),
                county_sources, kind_sources, full=full, progress=say, scratch=scratch)
        except BuildError:
            raise
        except Exception as exc:  # the submission tables are published; the next build retries these
            raise BuildError(f"flags, burden, reduction, quota usage or the form catalog failed: "
                             f"{type(exc).__name__}: {exc}") from exc
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        for publish_result in outcome.results:
            result.tables.setdefault(publish_result.table, TableStats()).add(publish_result)
        for name in derived.TABLES:
            result.tables.setdefault(name, TableStats())
        result.recomputed_counties = sorted(outcome.recomputed_counties)
        result.pairs_cut = outcome.pairs_cut

    result.changed_counties = sorted(changed)
