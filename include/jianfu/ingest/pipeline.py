"""`jianfu ingest`: receive county files without ever losing one (SPEC.md sections 4-6).

The order of work is what makes it safe to stop at any moment and run again:

1. hash each file; a file already decided at the same place is skipped (re-runs change nothing);
2. copy it into the raw archive (by SHA-256) and record the receipt in the ledger as `received`;
   bytes already received under another name become a `duplicate` and stop there;
3. read and normalise the new receipts, a bounded batch of files at a time (structural problems
   reject the file at once);
4. validate each batch in one Great Expectations run per kind (per-file overhead is the cost that
   matters when a province sends hundreds of small files), stage each file that passed as Parquet,
   and let the batch's tables go before the next is read; with JIANFU_INGEST_WORKERS above 1 the
   command line checks batches in a standard process pool, one batch per process at a time;
5. decide every file in receipt order in one ledger transaction: rejected, or accepted and put in
   force (superseding the version before it).

A run that dies leaves receipts in `received`; the next run finishes them from the archive. In
Airflow the scale-out is the mapping over batches of files (jianfu.orchestration), each task in one
process; the GX Data Docs are rendered by a step of their own after ingest (jianfu.validate.build_data_docs).
"""

from __future__ import annotations

import gc
import hashlib
import logging
import multiprocessing
import os
import re
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from .. import ledger
from ..collector import frozen
from ..config import JianfuError, Settings
from ..problems import CRITICAL, WARNING, Problem, RejectFile, critical
from ..reference import Codes
from ..schema import KINDS, county_in_name
from ..submission import BatchItem, ReadResult, shown
from ..validate import reference_index, validate_batch
from ..validate.docs import context_root
from ..validate.report import MAX_MESSAGE_CHARS, cut, write_report
from ..warehouse.kinds import stage_partition_file
from .archive import archive_file, sync_directories
from .discover import Discovered, DiscoveryError, scan
from .failures import ATTEMPTS, FailureCounts
from .read import MAX_BYTES, read_submission, to_arrow

log = logging.getLogger(__name__)
Progress = Callable[[str], None]

_PERIOD_IN_NAME = re.compile(r"(?<!\d)(20\d{2})[-_年]?(0[1-9]|1[0-2])(?!\d)")
_YEAR_IN_NAME = re.compile(r"(?<!\d)(20\d{2})(?!\d)")
#: Bytes of files read, validated and staged together (see _plan_batches), about 100,000 rows of a
#: CSV: bounds each process's memory whatever the number of files received, while keeping GX's
#: fixed cost per run small beside the rows.
BATCH_BYTES = 16 * 2**20
#: Batches a worker process checks before a fresh one takes over (see _check_all).
BATCHES_PER_PROCESS = 16


@dataclass
class Outcome:
    """What happened to one file, for the per-file summary."""

    submission_id: str
    file_name: str
    source_path: str
    status: str
    kind: str | None = None
    county_code: str | None = None
    period: str | None = None
    version: int | None = None
    rows: int | None = None
    errors: int = 0
    warnings: int = 0
    reason: str | None = None
    report_path: str | None = None


@dataclass
class IngestSummary:
    outcomes: list[Outcome] = field(default_factory=list)
    already_seen: int = 0
    elapsed: float = 0.0
    #: (path as shown, reason): entries not received this run (links, FIFOs, failures to retry).
    skipped: list[tuple[str, str]] = field(default_factory=list)
    #: Files changed within the settle time, left for the next run.
    unsettled: int = 0

    def count(self, *statuses: str) -> int:
        return sum(1 for o in self.outcomes if o.status in statuses)

    @property
    def accepted(self) -> int:
        return sum(1 for o in self.outcomes if o.status in ledger.ACCEPTED_STATUSES or
                   (o.status == ledger.SUPERSEDED and o.version is not None))

    def describe(self) -> str:
        lines = []
        for o in self.outcomes:
            where = " ".join(x for x in (o.kind or "?", o.county_code or "?", o.period or "?"))
            counts = f"rows={o.rows if o.rows is not None else '-'} errors={o.errors} warnings={o.warnings}"
            lines.append(f"{o.status:<23} {o.file_name}  [{where}]  {counts}")
            if o.reason and o.status in (ledger.REJECTED, ledger.DUPLICATE):
                lines.append(f"{'':<23}   reason: {shown(o.reason)}")  # quotes county values
            if o.report_path:
                lines.append(f"{'':<23}   report: {o.report_path}")
        for path, reason in self.skipped:
            lines.append(f"{'skipped':<23} {path}")
            lines.append(f"{'':<23}   reason: {reason}")
        statuses = [ledger.ACCEPTED, ledger.ACCEPTED_WITH_WARNINGS, ledger.SUPERSEDED, ledger.REJECTED,
                    ledger.DUPLICATE]
        totals = ", ".join(f"{self.count(s)} {s}" for s in statuses if self.count(s))
        lines.append(
            f"decided {len(self.outcomes)} file(s) in {self.elapsed:.1f}s"
            + (f": {totals}" if totals else "")
            + (f"; {self.already_seen} already received before, skipped" if self.already_seen else "")
            + (f"; {len(self.skipped)} skipped" if self.skipped else "")
            + (f"; {self.unsettled} still being copied, left for the next run" if self.unsettled else "")
        )
        return "\n".join(lines)


def _guess_from_name(name: str, kind: str | None, codes: Codes) -> tuple[str | None, str | None]:
    """County and period from a file name, for files too broken to read (so the board says rejected)."""
    county = county_in_name(name, codes.county_codes)
    if kind == "inspections":
        match = _YEAR_IN_NAME.search(name)
        return county, match.group(1) if match else None
    match = _PERIOD_IN_NAME.search(name)
    return county, f"{match.group(1)}-{match.group(2)}" if match else None


def _one_line(problems: list[Problem]) -> str:
    first = next(p for p in problems if p.severity == CRITICAL)
    more = sum(1 for p in problems if p.severity == CRITICAL) - 1
    where = f" (column {first.column}" + (f", row {first.row}" if first.row else "") + ")" if first.column else ""
    return cut(f"{first.message_en}{where}", MAX_MESSAGE_CHARS) + (
        f"; and {more} more problem(s), see the report" if more else "")


@dataclass
class _Receipt:
    row: dict
    read: ReadResult | None = None
    problems: list[Problem] = field(default_factory=list)
    row_count: int | None = None
    staged_path: str | None = None
    #: Why checking this file failed this run (a library error): it is tried again next run.
    failed: str | None = None
    #: canonical column -> the county's own header cell, for the report
    headers: dict[str, str] = field(default_factory=dict)


def sort_by_receipt(conn, found: list[Discovered]) -> tuple[list[Discovered], list[Discovered], list[Discovered]]:
    """Split landed files into (new, received but not yet decided, already decided).

    A file counts as known when the ledger has a receipt at the same place with the same size and
    modification time; that is decided without reading the file, so a re-run costs one listing.
    A file changed in place is new (ingest then tells a touched copy from new bytes by its hash).
    """
    at_place = ledger.receipts_at(conn, [shown(str(d.path)) for d in found])
    fresh, unfinished, decided = [], [], []
    for item in found:
        known = [r for r in at_place.get(shown(str(item.path)), [])
                 if r["size_bytes"] == item.size and r["source_mtime_ns"] == item.mtime_ns]
        if not known:
            fresh.append(item)
        elif known[-1]["status"] == ledger.RECEIVED:
            unfinished.append(item)
        else:
            decided.append(item)
    return fresh, unfinished, decided


def _archive(item: Discovered, settings: Settings):
    """The archived copy of a landed file, or the error that stopped copying it."""
    try:
        return archive_file(item.path, settings.raw_archive)
    except OSError as exc:
        return exc


def _file_name(item: Discovered) -> str:
    """The name as the ledger keeps it: escaped (see shown), within the ledger's 500 characters
    (a name of 255 undecodable bytes is four times as long escaped)."""
    return shown(item.path.name)[:500]


def _place_key(item: Discovered) -> str:
    return f"{shown(str(item.path))}|{item.size}|{item.mtime_ns}"


def _receive(settings: Settings, engine, found: list[Discovered], summary: IngestSummary,
             progress: Progress, run_id: str, failures: FailureCounts, codes: Codes) -> None:
    """Steps 1-2: archive and record every new file, claimed by this run for deciding.

    A file already received at the same place with the same size and modification time is skipped
    without being read: landing directories only grow, and a re-run must cost little. Everything
    else is copied into the archive (hashing on the way) by a small thread pool — the work is I/O
    and fsync, which run outside the GIL — and then recorded in one ledger transaction. A file
    that cannot be copied is skipped with its reason, and recorded as rejected after ATTEMPTS runs.
    """
    now = settings.now()
    with engine.connect() as conn:
        fresh, unfinished, decided = sort_by_receipt(conn, found)
    summary.already_seen += len(decided)  # unfinished ones are finished by claim_unfinished
    if not fresh:
        return

    progress(f"archiving {len(fresh)} new file(s)")
    with ThreadPoolExecutor(max_workers=4) as pool:
        copies = list(pool.map(lambda d: _archive(d, settings), fresh))
    rows: list[dict] = []
    for item, copy in zip(fresh, copies, strict=True):
        if isinstance(copy, OSError):
            reason = f"cannot be read or archived ({copy.strerror or type(copy).__name__}) / 文件无法读取或归档"
            runs = failures.failed(_place_key(item))
            if runs < ATTEMPTS:
                summary.skipped.append((shown(str(item.path)), f"{reason}; tried again next run ({runs} of {ATTEMPTS})"))
            else:
                rows.append(_rejected_unreadable(item, reason, runs, settings, codes))
        else:
            failures.forget(_place_key(item))
    kept = [(d, c) for d, c in zip(fresh, copies, strict=True) if not isinstance(c, OSError)]
    fresh, archived = [d for d, _ in kept], [c for _, c in kept]
    sync_directories(archived)
    with engine.connect() as conn:
        by_sha = ledger.receipts_of(conn, sorted({a.sha256 for a in archived}))

    first_in_run: dict[str, dict] = {}
    touched: dict[str, int] = {}
    for item, copy in zip(fresh, archived, strict=True):
        source, sha = shown(str(item.path)), copy.sha256
        earlier = by_sha.get(sha, [])
        same_place = [r for r in earlier if r["source_path"] == source]
        if same_place:
            # The same bytes at the same place, only touched: remember the new mtime so the next
            # run skips the file without reading it.
            summary.already_seen += 1
            touched[same_place[-1]["submission_id"]] = item.mtime_ns
            continue
        first = next((r for r in earlier if r["status"] != ledger.DUPLICATE), None) or first_in_run.get(sha)
        submission_id = sha[:16] if first is None else f"{sha[:16]}-{hashlib.sha1(source.encode()).hexdigest()[:6]}"
        # A file is received when it landed (its modification time), not when ingest happened to
        # run: a county that sent on time is on time even if the office ingests days later. Never
        # later than now, so a sender's clock skew cannot make a file arrive in the future.
        row = dict(
            submission_id=submission_id, kind=item.kind, file_name=_file_name(item), source_path=source,
            sha256=sha, size_bytes=copy.size, source_mtime_ns=item.mtime_ns, archive_path=str(copy.path),
            received_at=min(datetime.fromtimestamp(item.mtime_ns / 1e9, UTC), now),
            status=ledger.RECEIVED, error_count=0, warning_count=0,
            claimed_by=run_id, claimed_at=datetime.now(UTC),
            # Every row carries the same keys: one executemany insert binds them all alike.
            county_code=None, period=None, duplicate_of=None, reason=None,
        )
        if first is not None:
            received = ledger.as_naive_utc(first["received_at"]).strftime("%Y-%m-%d %H:%M")
            row.update(status=ledger.DUPLICATE, duplicate_of=first["submission_id"],
                       kind=first["kind"], county_code=first.get("county_code"), period=first.get("period"),
                       reason=f"byte-identical to {first['file_name']} received {received} UTC "
                              f"({first['submission_id']}); nothing else done")
        else:
            first_in_run[sha] = row
        rows.append(row)

    if touched:
        with engine.begin() as conn:
            for submission_id, mtime_ns in touched.items():
                ledger.set_fields(conn, submission_id, source_mtime_ns=mtime_ns)
    for row in _record(engine, rows, summary):
        if row["status"] in (ledger.DUPLICATE, ledger.REJECTED):
            summary.outcomes.append(Outcome(row["submission_id"], row["file_name"], row["source_path"],
                                            row["status"], row["kind"], row["county_code"], row["period"],
                                            errors=row["error_count"], reason=row["reason"]))


def _rejected_unreadable(item: Discovered, reason: str, runs: int, settings: Settings,
                         codes: Codes) -> dict:
    """The ledger row of a landed file that could not be archived in ATTEMPTS runs: rejected, with
    no bytes archived (there are none to keep), so the office sees it on the board."""
    source = shown(str(item.path))
    county, period = _guess_from_name(_file_name(item), item.kind, codes)
    return dict(
        submission_id=f"unread-{hashlib.sha1(_place_key(item).encode()).hexdigest()[:16]}", kind=item.kind,
        file_name=_file_name(item), source_path=source, sha256="", size_bytes=item.size,
        source_mtime_ns=item.mtime_ns, archive_path="",
        received_at=min(datetime.fromtimestamp(item.mtime_ns / 1e9, UTC), settings.now()),
        status=ledger.REJECTED, error_count=1, warning_count=0, claimed_by=None, claimed_at=None,
        county_code=county, period=period, duplicate_of=None,
        reason=f"{reason}, in {runs} runs: check the file's permissions and send it again",
    )


def _record(engine, rows: list[dict], summary: IngestSummary) -> list[dict]:
    """Insert receipts in one transaction; if another ingest took some at the same moment, insert
    the rest one by one and count those as already seen."""
    if not rows:
        return []
    try:
        with engine.begin() as conn:
            conn.execute(ledger.submissions.insert(), rows)
        return rows
    except IntegrityError:
        recorded = []
        for row in rows:
            try:
                with engine.begin() as conn:
                    ledger.insert(conn, **row)
                recorded.append(row)
            except IntegrityError:
                summary.already_seen += 1
        return recorded


def _read_one(receipt: _Receipt, codes: Codes) -> None:
    """Step 3 for one file: read and normalise; structural problems become its only (critical) problem."""
    row = receipt.row
    kind_name = row["kind"]
    if kind_name is None:
        receipt.problems.append(critical(
            "unknown_kind",
            f"cannot tell which kind of submission this is: put it under landing/<kind>/ "
            f"({', '.join(KINDS)}) or pass --kind",
            "无法判断报送类型：请放入 landing/<类型>/ 目录，或用 --kind 指定"))
    elif row["size_bytes"] > MAX_BYTES:
        receipt.problems.append(critical(
            "too_large", f"the file is {row['size_bytes'] / 2**20:.0f} MB; at most 100 MB is accepted",
            f"文件大小为{row['size_bytes'] / 2**20:.0f}MB，超过100MB上限，请拆分后重新报送"))
    else:
        try:
            receipt.read = read_submission(Path(row["archive_path"]), KINDS[kind_name])
            receipt.headers = receipt.read.headers
            receipt.problems.extend(receipt.read.problems)
            row.update(county_code=receipt.read.county_code, period=receipt.read.period)
        except RejectFile as reject:
            receipt.problems.append(reject.problem)
            row.update(county_code=reject.county_code, period=reject.period)
        except Exception as exc:  # a reader bug must not stop the other files
            log.exception("reading %s failed", row["file_name"])
            receipt.problems.append(critical(
                "unreadable_file", f"the file could not be read ({type(exc).__name__}: {exc})",
                "文件无法读取，请检查文件是否完整、格式是否为CSV或XLSX"))
    if not row.get("county_code") or not row.get("period"):
        county, period = _guess_from_name(row["file_name"], kind_name, codes)
        row["county_code"] = row.get("county_code") or county
        row["period"] = row.get("period") or period


def _plan_batches(receipts: list[_Receipt], batch_bytes: int) -> list[list[_Receipt]]:
    """Files of one kind grouped into batches of about `batch_bytes` bytes on disk.

    Read tables are what ingest's memory is made of (a national month is ten million rows), so a
    batch is read, validated, staged and let go before its process takes the next. Batches are of
    one kind because GX runs once per kind per batch, and large enough that its fixed cost per run
    stays small beside the rows. Sizes on disk stand in for rows, which are known only once read.
    """
    batches: list[list[_Receipt]] = []
    size = 0
    for receipt in sorted(receipts, key=lambda r: r.row["kind"] or ""):  # stable: receipt order kept
        if not batches or size >= batch_bytes or receipt.row["kind"] != batches[-1][-1].row["kind"]:
            batches.append([])
            size = 0
        batches[-1].append(receipt)
        size += receipt.row["size_bytes"] or 0
    return batches


def _check(batch: list[_Receipt], codes: Codes, settings: Settings) -> list[_Receipt]:
    """Steps 3-4 for one batch: read, validate and stage its files; their tables are let go.

    A GX run leaves reference cycles behind, which only the cycle collector frees, and that seldom
    runs its oldest generation: without a collection after each batch, a process's memory grows
    with the files it checks instead of holding one batch. The collection is cheap because
    _check_all froze what was loaded before (gc.freeze).
    """
    for receipt in batch:
        _read_one(receipt, codes)
    _validate_and_stage(batch, codes, settings)
    gc.collect()
    return batch


#: A worker process's reference codes and settings, inherited from ingest when the pool forks.
_worker_context: tuple[Codes, Settings] | None = None


def _start_worker(codes: Codes, settings: Settings) -> None:
    global _worker_context
    _worker_context = (codes, settings)


def _check_in_worker(batch: list[_Receipt]) -> list[_Receipt]:
    assert _worker_context is not None, "a worker of _check_all without its context"
    return _check(batch, *_worker_context)


def _check_all(receipts: list[_Receipt], codes: Codes, settings: Settings, progress: Progress,
               batch_bytes: int, workers: int) -> list[_Receipt]:
    """Steps 3-4 for every claimed receipt, batch by batch; returns the receipts as checked.

    With more than one worker the batches go to a standard process pool: reading and GX are
    CPU-bound Python, so threads would share one core. The pool forks, so the workers share the
    reference codes already loaded instead of each loading its own; each holds one batch at a time.
    """
    batches = _plan_batches(receipts, batch_bytes)
    workers = min(workers, len(batches))
    checked: list[_Receipt] = []
    # What is loaded by now (GX, the reference codes and their index) lives as long as the process:
    # frozen, the garbage collector leaves it alone, so the collection after each batch (_check)
    # stays cheap, and forked workers do not copy every page of it that a collection would touch.
    # A worker still copies, page by page, the parent's memory it writes into, and the more batches
    # it checks the more it has copied: after BATCHES_PER_PROCESS batches a fresh fork takes over,
    # so a month twice as long does not need more memory (the standard max_tasks_per_child does
    # the same, but not for a pool that forks).
    reference_index(codes)
    with frozen():
        try:
            if workers <= 1:
                for batch in batches:
                    checked.extend(_check(batch, codes, settings))
                    progress(f"checked {len(checked)}/{len(receipts)} files")
                return checked
            fork = multiprocessing.get_context("fork")
            step = workers * BATCHES_PER_PROCESS
            for start in range(0, len(batches), step):
                progress(f"checking batches {start + 1}-{min(start + step, len(batches))} of {len(batches)} "
                         f"in {workers} new processes")
                with ProcessPoolExecutor(workers, mp_context=fork, initializer=_start_worker,
                                         initargs=(codes, settings)) as pool:
                    for batch in pool.map(_check_in_worker, batches[start:start + step]):
                        checked.extend(batch)
                        progress(f"checked {len(checked)}/{len(receipts)} files ({workers} processes)")
        except BrokenProcessPool:
            raise JianfuError(
                "a process checking files stopped before it finished (killed, perhaps for lack of memory: "
                "JIANFU_INGEST_WORKERS=1 checks in one); nothing was decided, and the next ingest finishes the "
                "files received / 检查文件的进程意外终止（可能因内存不足，可设 JIANFU_INGEST_WORKERS=1）；"
                "本次未作任何判定，下次运行 ingest 时将继续处理已接收的文件") from None
    return checked


def _validate_all(receipts: list[_Receipt], codes: Codes, settings: Settings) -> None:
    """Step 4: one GX run per kind over every readable file."""
    items = [BatchItem(r.row["submission_id"], KINDS[r.row["kind"]], r.read, ledger.as_naive_utc(r.row["received_at"]))
             for r in receipts if r.read is not None]
    if not items:
        return
    # Validation results go to a file-backed GX context so Data Docs show the history.
    try:
        found = validate_batch(items, codes, settings.now(), context_root=context_root(settings))
    except Exception:  # a library failure on the batch: find the file(s) it belongs to, one by one
        log.warning("validating %d file(s) together failed; validating them one by one", len(items), exc_info=True)
        found = {}
        for item in items:
            try:
                found.update(validate_batch([item], codes, settings.now(), context_root=context_root(settings)))
            except Exception as exc:
                log.warning("validating %s failed", item.key, exc_info=True)
                by_key = next(r for r in receipts if r.row["submission_id"] == item.key)
                by_key.failed = f"validation failed ({type(exc).__name__}: {str(exc)[:200]})"
    for receipt in receipts:
        receipt.problems.extend(found.get(receipt.row["submission_id"], []))


def _stage(receipt: _Receipt, settings: Settings) -> str:
    """Write the normalised table of a file that passed where the warehouse build will find it, in
    the shape of its warehouse partition file (the build links it into the warehouse as it is)."""
    row = receipt.row
    folder = settings.staging / row["kind"]
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{row['submission_id']}.parquet"
    tmp = folder / f".{row['submission_id']}.parquet.tmp-{os.getpid()}"
    stage_partition_file(row["kind"], to_arrow(receipt.read, KINDS[row["kind"]]), row["submission_id"],
                         row["county_code"], row["period"], str(tmp))
    os.replace(tmp, final)
    return str(final)


def _validate_and_stage(receipts: list[_Receipt], codes: Codes, settings: Settings) -> None:
    """Step 4 for receipts already read; the tables are let go as soon as they are staged."""
    _validate_all(receipts, codes, settings)
    for receipt in receipts:
        if receipt.read is None:
            continue
        receipt.row_count = receipt.read.row_count
        if receipt.failed is None and not any(p.severity == CRITICAL for p in receipt.problems):
            try:
                receipt.staged_path = _stage(receipt, settings)
            except Exception as exc:
                log.warning("staging %s failed", receipt.row["file_name"], exc_info=True)
                receipt.failed = f"staging failed ({type(exc).__name__}: {str(exc)[:200]})"
        receipt.read = None


def _retry_later(receipts: list[_Receipt], engine, summary: IngestSummary, failures: FailureCounts) -> list[_Receipt]:
    """Receipts whose check failed this run: left `received` (claim released, so the next run takes
    them) and listed as skipped; after ATTEMPTS runs they are rejected with the reason. Returns
    the receipts to decide now."""
    decide = []
    for receipt in receipts:
        if receipt.failed is None:
            failures.forget(receipt.row["submission_id"])
            decide.append(receipt)
            continue
        runs = failures.failed(receipt.row["submission_id"])
        if runs >= ATTEMPTS:
            receipt.problems = [critical(
                "check_failed", f"the file could not be checked in {runs} runs ({receipt.failed}); "
                                "save it again from Excel as .xlsx or UTF-8 CSV and send it again",
                f"连续{runs}次无法完成检查，请用 Excel 重新另存为 .xlsx 或 UTF-8 CSV 后重新报送")]
            receipt.staged_path = None
            decide.append(receipt)
            continue
        with engine.begin() as conn:
            ledger.set_fields(conn, receipt.row["submission_id"], claimed_by=None, claimed_at=None)
        summary.skipped.append((receipt.row["source_path"],
                                f"{receipt.failed}; tried again next run ({runs} of {ATTEMPTS})"))
    return decide


def _report(settings: Settings, submission: dict, problems: list[Problem], headers: dict[str, str]) -> str | None:
    """Write the file's report; a failure costs the report (logged), never the decision."""
    try:
        return str(write_report(settings.reports, submission, problems, headers))
    except Exception:
        log.warning("could not write the report of %s", submission["file_name"], exc_info=True)
        return None


def _decide(receipts: list[_Receipt], settings: Settings, engine, summary: IngestSummary, run_id: str) -> None:
    """Step 5: write the reports, then record every decision in receipt order."""
    decisions = []
    for receipt in sorted(receipts, key=lambda r: ledger.receipt_order(r.row)):
        row, problems = receipt.row, receipt.problems
        errors = sum(1 for p in problems if p.severity == CRITICAL)
        warnings = sum(1 for p in problems if p.severity == WARNING)
        fields = dict(kind=row["kind"], county_code=row.get("county_code"), period=row.get("period"),
                      row_count=receipt.row_count, error_count=errors, warning_count=warnings,
                      reason=_one_line(problems) if errors else None, report_path=None,
                      staged_path=None if errors else receipt.staged_path)
        status = ledger.REJECTED if errors else ledger.ACCEPTED_WITH_WARNINGS if warnings else ledger.ACCEPTED
        if problems:
            fields["report_path"] = _report(settings, {**row, **fields, "status": status}, problems, receipt.headers)
        decisions.append((receipt, ledger.Decision(row["submission_id"], status, fields)))

    with engine.begin() as conn, ledger.versions_lock(conn):
        # A decision is skipped when this run's claim lapsed and another run decided the file.
        final = ledger.record_decisions(conn, [d for _, d in decisions], claimed_by=run_id)
    for receipt, decision in decisions:
        if decision.submission_id not in final:
            continue
        status, version = final[decision.submission_id]
        f = decision.fields
        summary.outcomes.append(Outcome(
            decision.submission_id, receipt.row["file_name"], receipt.row["source_path"], status, f["kind"],
            f["county_code"], f["period"], version, f["row_count"], f["error_count"], f["warning_count"],
            f["reason"], f["report_path"],
        ))


def ingest(settings: Settings, paths: list[Path] | None = None, kind: str | None = None,
           progress: Progress | None = None, *, recheck_rejected: bool = False,
           settle: float = 0, batch_bytes: int = BATCH_BYTES, workers: int = 1) -> IngestSummary:
    """Receive, archive, validate and put in force every new file under `paths` (default: landing).

    With `recheck_rejected`, files rejected earlier are validated again from the archive as well:
    after the office fixes its reference data (a unit or department it had not listed), a file
    rejected only for that is accepted, in force by its original receipt time. A county cannot
    simply re-send such a file, because the same bytes again are a duplicate (SPEC section 5).

    `settle` seconds: files changed more recently are left for the next run (the command line and
    the DAG pass rules.yaml's landing_settle_seconds; a caller that placed the files itself, 0).
    `batch_bytes`: bytes of files read and validated together (see _plan_batches); `workers`: processes
    checking batches side by side (the command line passes JIANFU_INGEST_WORKERS; Airflow maps
    batches over tasks instead). What is decided depends on neither.
    """
    progress = progress or (lambda _msg: None)
    started = time.monotonic()
    explicit_paths = paths
    if paths is None:
        if not settings.landing.exists():
            raise DiscoveryError(f"{settings.landing}: no landing directory (run `jianfu init`, or pass paths)")
        paths = [settings.landing]
    landing = scan(paths, kind, settle=settle)
    found = landing.found
    codes = Codes.load(settings.reference)
    failures = FailureCounts(settings.home / "ingest_failures.json")
    engine = ledger.connect(settings.db_url)
    try:
        ledger.create_schema(engine)
        summary = IngestSummary(skipped=[(shown(str(s.path)), s.reason) for s in landing.skipped],
                                unsettled=len(landing.unsettled))
        run_id = ledger.new_run_id()
        _receive(settings, engine, found, summary, progress, run_id, failures, codes)
        if recheck_rejected:
            with engine.begin() as conn:
                reopened = ledger.reopen_rejected(conn, run_id)
            progress(f"checking {reopened} rejected file(s) again")
        # Decide what this run received, and what a run that died left `received` (from the
        # archive) — but, when given paths, only files at those paths: another batch may be
        # deciding the rest right now.
        scope = None if explicit_paths is None else [shown(str(d.path)) for d in found]
        with engine.begin() as conn:
            receipts = [_Receipt(dict(row)) for row in ledger.claim_unfinished(conn, run_id, scope)]
        if receipts:
            progress(f"reading and validating {len(receipts)} file(s)")
            checked = _check_all(receipts, codes, settings, progress, batch_bytes, workers)
            _decide(_retry_later(checked, engine, summary, failures), settings, engine, summary, run_id)
        failures.save()
    finally:
        engine.dispose()
    summary.elapsed = time.monotonic() - started
    return summary
