"""`jianfu ingest`: receive county files without ever losing one (SPEC.md sections 4-6).

The order of work is what makes it safe to stop at any moment and run again:

1. hash each file; a file already decided at the same place is skipped (re-runs change nothing);
2. copy it into the raw archive (by SHA-256) and record the receipt in the ledger as `received`;
   bytes already received under another name become a `duplicate` and stop there;
3. read and normalise every new receipt (structural problems reject the file at once);
4. validate all readable files in one Great Expectations batch per kind (per-file overhead is the
   cost that matters when a province sends hundreds of small files), and stage each file that
   passed as Parquet — steps 3 and 4 run on two cores, with worker processes taking part of the
   files while this process loads GX and then checks the rest (_check_all, fork.py);
5. decide every file in receipt order in one ledger transaction: rejected, or accepted and put in
   force (superseding the version before it).

A run that dies leaves receipts in `received`; the next run finishes them from the archive.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import select
import shutil
import socket
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from .. import ledger
from ..config import Settings
from ..problems import CRITICAL, WARNING, Problem, RejectFile, critical
from ..reference import Reference
from ..schema import KINDS
from . import fork, schedule
from .archive import archive_file, sync_directories
from .discover import Discovered, DiscoveryError, discover
from .frame import BatchItem, ReadResult

log = logging.getLogger(__name__)
Progress = Callable[[str], None]

_PERIOD_IN_NAME = re.compile(r"(?<!\d)(20\d{2})[-_年]?(0[1-9]|1[0-2])(?!\d)")
_YEAR_IN_NAME = re.compile(r"(?<!\d)(20\d{2})(?!\d)")
_COUNTY_IN_NAME = re.compile(r"(?<!\d)(\d{6})(?!\d)")


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
                lines.append(f"{'':<23}   reason: {o.reason}")
            if o.report_path:
                lines.append(f"{'':<23}   report: {o.report_path}")
        statuses = [ledger.ACCEPTED, ledger.ACCEPTED_WITH_WARNINGS, ledger.SUPERSEDED, ledger.REJECTED,
                    ledger.DUPLICATE]
        totals = ", ".join(f"{self.count(s)} {s}" for s in statuses if self.count(s))
        lines.append(
            f"decided {len(self.outcomes)} file(s) in {self.elapsed:.1f}s"
            + (f": {totals}" if totals else "")
            + (f"; {self.already_seen} already received before, skipped" if self.already_seen else "")
        )
        return "\n".join(lines)


def _guess_from_name(name: str, kind: str | None, reference: Reference) -> tuple[str | None, str | None]:
    """County and period from a file name, for files too broken to read (so the board says rejected)."""
    county = next((c for c in _COUNTY_IN_NAME.findall(name) if c in reference.county_codes), None)
    if kind == "inspections":
        match = _YEAR_IN_NAME.search(name)
        return county, match.group(1) if match else None
    match = _PERIOD_IN_NAME.search(name)
    return county, f"{match.group(1)}-{match.group(2)}" if match else None


def _one_line(problems: list[Problem]) -> str:
    first = next(p for p in problems if p.severity == CRITICAL)
    more = sum(1 for p in problems if p.severity == CRITICAL) - 1
    where = f" (column {first.column}" + (f", row {first.row}" if first.row else "") + ")" if first.column else ""
    return f"{first.message_en}{where}" + (f"; and {more} more problem(s), see the report" if more else "")


@dataclass
class _Receipt:
    row: dict
    read: ReadResult | None = None
    problems: list[Problem] = field(default_factory=list)
    row_count: int | None = None
    staged_path: str | None = None

    def checked(self) -> dict:
        """What checking the file found, as a worker process hands it back (small and picklable)."""
        return dict(problems=self.problems, county_code=self.row.get("county_code"), period=self.row.get("period"),
                    row_count=self.row_count, staged_path=self.staged_path)

    def take(self, checked: dict) -> None:
        self.problems = checked["problems"]
        self.row.update(county_code=checked["county_code"], period=checked["period"])
        self.row_count, self.staged_path = checked["row_count"], checked["staged_path"]
        self.read = None  # staged by the worker: the table is not needed here any more

    def read_result(self) -> dict:
        """What reading the file found, as the reader process hands it back (its table goes as a file)."""
        read = self.read
        return dict(problems=self.problems, county_code=self.row.get("county_code"), period=self.row.get("period"),
                    table=read is not None, read_county=read and read.county_code, read_period=read and read.period,
                    header_row=read and read.header_row)

    def take_read(self, result: dict, handover: Path) -> None:
        import pyarrow as pa

        self.problems = result["problems"]
        self.row.update(county_code=result["county_code"], period=result["period"])
        if result["table"]:
            source = pa.memory_map(str(handover / f"{self.row['submission_id']}.arrow"))
            self.read = ReadResult(county_code=result["read_county"], period=result["read_period"],
                                   header_row=result["header_row"], table=pa.ipc.open_file(source).read_all())


def sort_by_receipt(conn, found: list[Discovered]) -> tuple[list[Discovered], list[Discovered], list[Discovered]]:
    """Split landed files into (new, received but not yet decided, already decided).

    A file counts as known when the ledger has a receipt at the same place with the same size and
    modification time; that is decided without reading the file, so a re-run costs one listing.
    A file changed in place is new (ingest then tells a touched copy from new bytes by its hash).
    """
    at_place = ledger.receipts_at(conn, [str(d.path) for d in found])
    fresh, unfinished, decided = [], [], []
    for item in found:
        known = [r for r in at_place.get(str(item.path), [])
                 if r["size_bytes"] == item.size and r["source_mtime_ns"] == item.mtime_ns]
        if not known:
            fresh.append(item)
        elif known[-1]["status"] == ledger.RECEIVED:
            unfinished.append(item)
        else:
            decided.append(item)
    return fresh, unfinished, decided


def _receive(settings: Settings, engine, found: list[Discovered], summary: IngestSummary,
             progress: Progress, run_id: str) -> None:
    """Steps 1-2: archive and record every new file, claimed by this run for deciding.

    A file already received at the same place with the same size and modification time is skipped
    without being read: landing directories only grow, and a re-run must cost little. Everything
    else is copied into the archive (hashing on the way) by a small thread pool — the work is I/O
    and fsync, which run outside the GIL — and then recorded in one ledger transaction.
    """
    now = settings.now()
    with engine.connect() as conn:
        fresh, unfinished, decided = sort_by_receipt(conn, found)
    summary.already_seen += len(decided)  # unfinished ones are finished by claim_unfinished
    if not fresh:
        return

    progress(f"archiving {len(fresh)} new file(s)")
    with ThreadPoolExecutor(max_workers=4) as pool:
        archived = list(pool.map(lambda d: archive_file(d.path, settings.raw_archive), fresh))
    sync_directories(archived)
    with engine.connect() as conn:
        by_sha = ledger.receipts_of(conn, sorted({a.sha256 for a in archived}))

    rows: list[dict] = []
    first_in_run: dict[str, dict] = {}
    touched: dict[str, int] = {}
    for item, copy in zip(fresh, archived, strict=True):
        source, sha = str(item.path), copy.sha256
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
            submission_id=submission_id, kind=item.kind, file_name=item.path.name, source_path=source,
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
        if row["status"] == ledger.DUPLICATE:
            summary.outcomes.append(Outcome(row["submission_id"], row["file_name"], row["source_path"],
                                            ledger.DUPLICATE, row["kind"], row["county_code"], row["period"],
                                            reason=row["reason"]))


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


def _read_all(receipts: list[_Receipt], reference: Reference, progress: Progress) -> None:
    """Step 3: read and normalise; structural problems become the file's only (critical) problem."""
    from .read import MAX_BYTES, read_submission

    for n, receipt in enumerate(receipts, start=1):
        if n % 50 == 0:
            progress(f"read {n}/{len(receipts)} files")
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
            county, period = _guess_from_name(row["file_name"], kind_name, reference)
            row["county_code"] = row.get("county_code") or county
            row["period"] = row.get("period") or period


def _validate_all(receipts: list[_Receipt], reference: Reference, settings: Settings) -> None:
    """Step 4: one GX run per kind over every readable file."""
    from ..validate import validate_batch
    from ..validate.docs import context_root

    items = [BatchItem(r.row["submission_id"], KINDS[r.row["kind"]], r.read, ledger.as_naive_utc(r.row["received_at"]))
             for r in receipts if r.read is not None]
    if not items:
        return
    # Validation results go to a file-backed GX context so Data Docs show the history.
    found = validate_batch(items, reference, settings.now(), context_root=context_root(settings))
    for receipt in receipts:
        receipt.problems.extend(found.get(receipt.row["submission_id"], []))


def _stage(receipt: _Receipt, settings: Settings) -> str:
    """Write the normalised table of a file that passed where the warehouse build will find it."""
    import pyarrow.parquet as pq

    from .read import to_arrow

    row = receipt.row
    folder = settings.staging / row["kind"]
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{row['submission_id']}.parquet"
    tmp = folder / f".{row['submission_id']}.parquet.tmp-{os.getpid()}"
    pq.write_table(to_arrow(receipt.read, KINDS[row["kind"]]), tmp)
    os.replace(tmp, final)
    return str(final)


def _check_share(receipts: list[_Receipt], reference: Reference, settings: Settings, progress: Progress) -> None:
    """Steps 3-4 for some receipts: read, validate, and stage the files without critical problems."""
    _read_all(receipts, reference, progress)
    _validate_and_stage(receipts, reference, settings)


def _validate_and_stage(receipts: list[_Receipt], reference: Reference, settings: Settings) -> list[_Receipt]:
    """Step 4 for receipts already read; the tables are let go as soon as they are staged."""
    _validate_all(receipts, reference, settings)
    for receipt in receipts:
        if receipt.read is None:
            continue
        receipt.row_count = receipt.read.row_count
        if not any(p.severity == CRITICAL for p in receipt.problems):
            receipt.staged_path = _stage(receipt, settings)
        receipt.read = None
    return receipts


#: Below this many files a run is checked in one process: a worker would save less than it costs.
MIN_FILES_TO_FORK = 4


def _plan(receipts: list[_Receipt]) -> schedule.Plan:
    return schedule.plan(receipts, size=lambda r: r.row["size_bytes"], kind=lambda r: r.row["kind"])


def _load_validation(receipts: list[_Receipt], settings: Settings) -> None:
    """GX, its contexts and the suites of the kinds at hand, loaded once in this process."""
    from ..validate import prepare
    from ..validate.docs import context_root

    prepare(sorted({r.row["kind"] for r in receipts if r.row["kind"] in KINDS}), context_root=context_root(settings))


def _check_all(receipts: list[_Receipt], reference: Reference, settings: Settings, progress: Progress, *,
               data_docs: bool = False) -> None:
    """Steps 3-4 for every receipt, on two cores when there are enough files.

    Loading GX costs more than a second of one core, so the work goes in two stages (fork.py):
    a reader process forked first reads the checker's files (schedule.py plans who does what),
    then more files while this process loads GX, until this process has loaded it and says stop;
    then a checker process forked from this one — GX loaded, the tables read in memory —
    validates and stages its files while this process reads what the reader did not, and
    validates and stages the rest. The reader hands its tables over as Arrow IPC files
    (memory-mapped here, not copied). A worker that fails leaves its part to this process. With
    `data_docs`, the checker also renders the Data Docs pages of its results before it ends
    (build_data_docs then renders only this process's pages and the index).
    """
    if len(receipts) < MIN_FILES_TO_FORK or fork.processes() < 2:
        _load_validation(receipts, settings)
        progress(f"reading and validating {len(receipts)} file(s)")
        _check_share(receipts, reference, settings, progress)
        return
    plan = _plan(receipts)
    checked_there = plan.checker
    optional = plan.kept + plan.here  # read by the reader while GX loads here, the planned ones first
    progress(f"reading and validating {len(receipts)} file(s) on two cores, {plan.how} "
             f"({len(checked_there)} through worker processes, {len(optional)} here)")
    settings.staging.mkdir(parents=True, exist_ok=True)
    _remove_dead_handovers(settings.staging)
    handover = Path(tempfile.mkdtemp(prefix=f"{_HANDOVER}{_HOST}-{os.getpid()}-", dir=settings.staging))
    try:
        stop_reading, say_stop = os.pipe()
        try:
            reader = _fork(lambda: _worker_read(checked_there, optional, reference, handover, stop_reading), "reader")
        finally:
            os.close(stop_reading)
        try:
            _load_validation(receipts, settings)
        finally:
            try:
                os.write(say_stop, b"\n")
            except BrokenPipeError:  # the reader has ended already
                pass
            os.close(say_stop)
        ok, answer = reader.result() if reader else (False, None)
        if ok and len(answer) >= len(checked_there):
            read = [*checked_there, *optional][:len(answer)]
            for receipt, result in zip(read, answer, strict=True):
                receipt.take_read(result, handover)
            kept, unread = optional[:len(read) - len(checked_there)], optional[len(read) - len(checked_there):]
        else:
            _worker_failed("reader", answer if not ok else "it did not read every file it had to", checked_there)
            _read_all(checked_there, reference, progress)
            kept, unread = [], optional
        checker = _fork(lambda: [r.checked() for r in _worker_check(checked_there, reference, settings, data_docs)],
                        "checker")
        _read_all(unread, reference, progress)
        _validate_and_stage(unread + kept, reference, settings)
        ok, answer = checker.result() if checker else (False, None)
        if ok:
            for receipt, checked in zip(checked_there, answer, strict=True):
                receipt.take(checked)
        else:
            _worker_failed("checker", answer, checked_there)
            _validate_and_stage(checked_there, reference, settings)
    finally:
        shutil.rmtree(handover, ignore_errors=True)


_HANDOVER = ".reading-"
_HOST = socket.gethostname()[:20].replace("-", "_")


def _remove_dead_handovers(staging: Path) -> None:
    """Remove handover directories that ingests of this host killed before their clean-up left
    behind (a province month's tables: tens of megabytes each). Another host's are left alone."""
    for folder in staging.glob(f"{_HANDOVER}{_HOST}-*"):
        pid = folder.name[len(_HANDOVER) + len(_HOST) + 1:].partition("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fork(fn, name: str) -> fork.ForkedCall | None:
    try:
        return fork.ForkedCall(fn)
    except OSError as exc:
        log.warning("could not start the ingest %s process (%s): its files are checked here", name, exc)
        return None


def _worker_failed(name: str, why: str | None, receipts: list[_Receipt]) -> None:
    if why is not None:
        log.warning("the ingest %s process failed; its %d file(s) are checked here instead:\n%s",
                    name, len(receipts), why)


def _worker_read(must: list[_Receipt], optional: list[_Receipt], reference: Reference, handover: Path,
                 stop: int | None = None) -> list[dict]:
    """The reader process: read the files of `must`, then those of `optional` in order until the
    parent writes to (or closes) the `stop` pipe; leave each table in `handover` as an Arrow IPC
    file. Returns what reading found, for `must` and then the optional files read, in order."""
    import pyarrow as pa

    out = []
    for receipt in [*must, *optional]:
        if len(out) >= len(must) and stop is not None and select.select([stop], [], [], 0)[0]:
            break
        _read_all([receipt], reference, lambda _msg: None)
        if receipt.read is not None:
            table = receipt.read.table
            with pa.OSFile(str(handover / f"{receipt.row['submission_id']}.arrow"), "wb") as sink, \
                    pa.ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)
        out.append(receipt.read_result())
        receipt.read = None  # handed over: not kept in this process
    return out


def _worker_check(receipts: list[_Receipt], reference: Reference, settings: Settings,
                  data_docs: bool = False) -> list[_Receipt]:
    """The checker process: validate and stage files the reader read; with `data_docs`, render the
    pages of its validation results (a failure there costs only those pages, rendered at the end)."""
    from ..validate import docs

    docs.forget_recorded()  # what this process's parent stored before the fork is the parent's to render
    checked = _validate_and_stage(receipts, reference, settings)
    if data_docs:
        try:
            docs.render_recorded(settings)
        except Exception:  # pragma: no cover - depends on GX's site builder
            log.warning("could not render the checker's Data Docs pages; the ingest renders them", exc_info=True)
    return checked


def _decide(receipts: list[_Receipt], settings: Settings, engine, summary: IngestSummary, run_id: str) -> None:
    """Step 5: write the reports, then record every decision in receipt order."""
    from ..validate.report import write_report

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
            fields["report_path"] = str(write_report(settings.reports, {**row, **fields, "status": status}, problems))
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
           progress: Progress | None = None, *, data_docs: bool = True,
           recheck_rejected: bool = False) -> IngestSummary:
    """Receive, archive, validate and put in force every new file under `paths` (default: landing).

    With `recheck_rejected`, files rejected earlier are validated again from the archive as well:
    after the office fixes its reference data (a unit or department it had not listed), a file
    rejected only for that is accepted, in force by its original receipt time. A county cannot
    simply re-send such a file, because the same bytes again are a duplicate (SPEC section 5).
    """
    progress = progress or (lambda _msg: None)
    started = time.monotonic()
    explicit_paths = paths
    if paths is None:
        if not settings.landing.exists():
            raise DiscoveryError(f"{settings.landing}: no landing directory (run `jianfu init`, or pass paths)")
        paths = [settings.landing]
    found = discover(paths, kind)
    reference = Reference.load(settings.reference)
    engine = ledger.connect(settings.db_url)
    try:
        ledger.create_schema(engine)
        summary = IngestSummary()
        run_id = ledger.new_run_id()
        _receive(settings, engine, found, summary, progress, run_id)
        if recheck_rejected:
            with engine.begin() as conn:
                reopened = ledger.reopen_rejected(conn, run_id)
            progress(f"checking {reopened} rejected file(s) again")
        # Decide what this run received, and what a run that died left `received` (from the
        # archive) — but, when given paths, only files at those paths: another batch may be
        # deciding the rest right now.
        scope = None if explicit_paths is None else [str(d.path) for d in found]
        with engine.begin() as conn:
            receipts = [_Receipt(dict(row)) for row in ledger.claim_unfinished(conn, run_id, scope)]
        if receipts:
            _check_all(receipts, reference, settings, progress, data_docs=data_docs)
            _decide(receipts, settings, engine, summary, run_id)
            if data_docs:
                _build_data_docs(settings)
    finally:
        engine.dispose()
    summary.elapsed = time.monotonic() - started
    return summary


def _build_data_docs(settings: Settings) -> None:
    """Refresh the GX Data Docs site; a failure here must not undo a good ingest."""
    try:
        from ..validate import build_data_docs

        build_data_docs(settings)
    except Exception:  # pragma: no cover - depends on GX's site builder
        log.warning("could not refresh the GX Data Docs site", exc_info=True)
