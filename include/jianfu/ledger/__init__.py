"""The submission ledger (SPEC.md section 5): one row per file received, in a SQL database.

SQLite by default, PostgreSQL in production, through SQLAlchemy Core. Two ingests may run at once
(two Celery workers, or a clerk re-running by hand): receipts are unique on (sha256, source_path),
and every decision about which version is in force happens inside `versions_lock`, which
serialises writers on both engines.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import itemgetter

from sqlalchemy import Engine, bindparam, create_engine, event, inspect, select, text, update
from sqlalchemy.engine import Connection, RowMapping

from ..config import JianfuError
from . import delivery  # noqa: F401  (registers the delivery tables on `metadata`)
from .tables import (
    ACCEPTED,
    ACCEPTED_STATUSES,
    ACCEPTED_WITH_WARNINGS,
    DUPLICATE,
    RECEIVED,
    REJECTED,
    SUPERSEDED,
    metadata,
    submissions,
)

__all__ = ["ACCEPTED", "ACCEPTED_STATUSES", "ACCEPTED_WITH_WARNINGS", "DUPLICATE", "RECEIVED", "REJECTED",
           "SUPERSEDED", "metadata", "submissions"]

#: How long a run's claim on a received file holds before another run may finish the file.
CLAIM_TIMEOUT = timedelta(minutes=30)


#: How long a connection keeps trying to put a new SQLite ledger in WAL mode (see use_wal).
WAL_SWITCH_SECONDS = 60.0


def use_wal(cursor, deadline_seconds: float = WAL_SWITCH_SECONDS) -> None:
    """Put the SQLite ledger in WAL mode (kept in the file: later connections find it set).

    Two processes opening a new ledger at the same moment (two ingests started together) may both
    try to switch; SQLite then answers one of them "database is locked" at once rather than wait,
    because waiting could deadlock. That one looks again until the switch is done, by the other
    process or by itself."""
    deadline = time.monotonic() + deadline_seconds
    while True:
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def connect(db_url: str) -> Engine:
    """An engine for the ledger; SQLite gets WAL, a busy timeout and real write locking."""
    if db_url.startswith("sqlite"):
        engine = create_engine(db_url, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):  # pragma: no cover - exercised by every SQLite test
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
            cursor = dbapi_conn.cursor()
            use_wal(cursor)
            cursor.execute("PRAGMA busy_timeout=60000")
            # In WAL mode NORMAL is safe against a crash of the process; only power loss may
            # lose the last commits, never corrupt the database.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover
            # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of deadlocking.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(db_url, pool_pre_ping=True)


def create_schema(engine: Engine) -> None:
    """Create every ledger table (submissions, and those other stages register on `metadata`)."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Two processes creating the same tables at once trip over PostgreSQL's catalogue
            # (duplicate pg_type rows); take turns instead.
            conn.execute(text("SELECT pg_advisory_xact_lock(74255106)"))
        metadata.create_all(conn)
        _add_missing_columns(conn)


def _add_missing_columns(conn: Connection) -> None:
    """Bring a ledger made by an older jianfu up to date: add the nullable columns it lacks.

    Columns are only ever added, never changed or dropped, so this is the whole migration story
    for the ledger; a new column that cannot be null would need a real migration.
    """
    existing = inspect(conn)
    for table in metadata.sorted_tables:
        have = {c["name"] for c in existing.get_columns(table.name)}
        for column in table.columns:
            if column.name in have:
                continue
            if not column.nullable:
                raise RuntimeError(f"ledger table {table.name} lacks the required column {column.name}")
            kind = column.type.compile(dialect=conn.dialect)
            conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))


@contextmanager
def versions_lock(conn: Connection) -> Iterator[None]:
    """Serialise version decisions across processes for the current transaction."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(74255107)"))
    # SQLite: BEGIN IMMEDIATE already holds the database write lock for the transaction.
    yield


def receipt(conn: Connection, sha256: str, source_path: str) -> RowMapping | None:
    """The ledger row of this exact file at this exact place, if it was seen before."""
    row = conn.execute(
        select(submissions).where(submissions.c.sha256 == sha256, submissions.c.source_path == source_path)
    ).mappings().first()
    return row


def receipts_at(conn: Connection, source_paths: list[str]) -> dict[str, list[RowMapping]]:
    """Every receipt recorded at these places, by place (looked up in chunks of 500)."""
    found: dict[str, list[RowMapping]] = {}
    for start in range(0, len(source_paths), 500):
        chunk = source_paths[start:start + 500]
        for row in conn.execute(select(submissions).where(submissions.c.source_path.in_(chunk))).mappings():
            found.setdefault(row["source_path"], []).append(row)
    return found


def receipts_of(conn: Connection, sha256s: list[str]) -> dict[str, list[RowMapping]]:
    """Every receipt of these contents, by SHA-256, earliest first."""
    found: dict[str, list[RowMapping]] = {}
    for start in range(0, len(sha256s), 500):
        chunk = sha256s[start:start + 500]
        query = (select(submissions).where(submissions.c.sha256.in_(chunk))
                 .order_by(submissions.c.received_at, submissions.c.submission_id))
        for row in conn.execute(query).mappings():
            found.setdefault(row["sha256"], []).append(row)
    return found


def get(conn: Connection, submission_id: str) -> RowMapping | None:
    return conn.execute(select(submissions).where(submissions.c.submission_id == submission_id)).mappings().first()


def insert(conn: Connection, **values) -> None:
    conn.execute(submissions.insert().values(**values))


def set_fields(conn: Connection, submission_id: str, **values) -> None:
    conn.execute(update(submissions).where(submissions.c.submission_id == submission_id).values(**values))


def in_force_row(conn: Connection, kind: str, county_code: str, period: str) -> RowMapping | None:
    return conn.execute(
        select(submissions).where(
            submissions.c.kind == kind,
            submissions.c.county_code == county_code,
            submissions.c.period == period,
            submissions.c.status.in_(ACCEPTED_STATUSES),
        )
    ).mappings().first()


def accept(conn: Connection, submission_id: str, status: str) -> int:
    """Put one accepted file in force (see record_decisions); returns its version."""
    return record_decisions(conn, [Decision(submission_id, status)])[submission_id][1]


@dataclass
class Decision:
    """What validation decided about one received file: its status (rejected, accepted or
    accepted with warnings) and the other columns to record with it."""

    submission_id: str
    status: str
    fields: dict = field(default_factory=dict)


def record_decisions(conn: Connection, decisions: list[Decision],
                     claimed_by: str | None = None) -> dict[str, tuple[str, int | None]]:
    """Record decisions in receipt order; returns each file's final (status, version).

    Must run inside `versions_lock`. An accepted file gets the next version of its county x kind
    x period and goes in force, superseding the version in force — unless that one was received
    later (two ingests raced), in which case the file is superseded at once. A file superseded by
    a later file of the same call ends `superseded`. With `claimed_by`, a decision for a file that
    is no longer `received` under that claim is skipped (another run decided it meanwhile) and
    left out of the answer.

    Everything is read in a few queries and written in one executemany per shape of update: a
    province month decides hundreds of files, and a round trip per file and step was a tenth of
    an ingest.
    """
    rows = {r["submission_id"]: dict(r) for r in _rows_by_id(conn, [d.submission_id for d in decisions])}
    todo = []
    for d in decisions:
        row = rows.get(d.submission_id)
        if row is None:
            raise KeyError(f"no ledger row {d.submission_id}")
        if claimed_by is not None and (row["status"] != RECEIVED or row["claimed_by"] != claimed_by):
            continue
        row.update(d.fields)
        todo.append((row, d.status))
    todo.sort(key=lambda t: receipt_order(t[0]))

    groups = {(r["kind"], r["county_code"], r["period"]) for r, status in todo if status in ACCEPTED_STATUSES}
    versions: dict[tuple, int] = dict.fromkeys(groups, 0)
    current: dict[tuple, dict] = {}
    for other in _rows_of_groups(conn, groups):
        key = (other["kind"], other["county_code"], other["period"])
        if key not in groups:
            continue
        if other["version"] is not None:
            versions[key] += 1
        if other["status"] in ACCEPTED_STATUSES:
            current[key] = dict(other)

    changes: dict[str, dict] = {}
    final: dict[str, tuple[str, int | None]] = {}
    for row, status in todo:
        sid = row["submission_id"]
        changes[sid] = {**{k: row[k] for k in _DECISION_FIELDS if k in row}, "status": status}
        if status not in ACCEPTED_STATUSES:
            final[sid] = (status, None)
            continue
        key = (row["kind"], row["county_code"], row["period"])
        versions[key] += 1
        version = versions[key]
        changes[sid]["version"] = version
        holder = current.get(key)
        if holder is not None and receipt_order(holder) > receipt_order(row):
            changes[sid].update(status=SUPERSEDED, superseded_by=holder["submission_id"])
            final[sid] = (SUPERSEDED, version)
            continue
        if holder is not None:
            changes.setdefault(holder["submission_id"], {}).update(status=SUPERSEDED, superseded_by=sid)
            if holder["submission_id"] in final:
                final[holder["submission_id"]] = (SUPERSEDED, final[holder["submission_id"]][1])
        final[sid] = (status, version)
        current[key] = row
    _update_many(conn, changes)
    return final


#: Columns a decision may record besides status, version and superseded_by.
_DECISION_FIELDS = ("kind", "county_code", "period", "row_count", "error_count", "warning_count", "reason",
                    "report_path", "staged_path")


def _rows_by_id(conn: Connection, ids: list[str]) -> list[RowMapping]:
    out: list[RowMapping] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        out.extend(conn.execute(select(submissions).where(submissions.c.submission_id.in_(chunk))).mappings())
    return out


def _rows_of_groups(conn: Connection, groups: set[tuple]) -> list[RowMapping]:
    """Rows that may be versions of these county x kind x period groups (filtered by county and
    kind in SQL, by the exact group by the caller)."""
    counties = sorted({county for _, county, _ in groups})
    kinds = sorted({kind for kind, _, _ in groups})
    out: list[RowMapping] = []
    for start in range(0, len(counties), 500):
        chunk = counties[start:start + 500]
        out.extend(conn.execute(select(submissions).where(
            submissions.c.county_code.in_(chunk), submissions.c.kind.in_(kinds),
            (submissions.c.version.is_not(None)) | (submissions.c.status.in_(ACCEPTED_STATUSES)),
        )).mappings())
    return out


def _update_many(conn: Connection, changes: dict[str, dict]) -> None:
    """One executemany per set of columns changed."""
    by_shape: dict[tuple, list[dict]] = {}
    for sid, values in changes.items():
        by_shape.setdefault(tuple(sorted(values)), []).append({"_sid": sid, **{f"_{k}": v for k, v in values.items()}})
    for shape, params in by_shape.items():
        statement = (update(submissions).where(submissions.c.submission_id == bindparam("_sid"))
                     .values({k: bindparam(f"_{k}") for k in shape}))
        conn.execute(statement, params)


def in_force(receipts: Iterable[Mapping]) -> list[Mapping]:
    """The versions in force among `receipts` (all_submissions' rows), by kind, county and period."""
    current = [r for r in receipts if r["status"] in ACCEPTED_STATUSES]
    return sorted(current, key=itemgetter("kind", "county_code", "period"))


class NoSubmissionsTable(JianfuError):
    """The ledger has never been set up: nothing was received yet, and nothing can be built or shown."""


def read_submissions(db_url: str, columns: Sequence[str] | None = None) -> tuple[list[dict], list[dict]]:
    """(versions in force, every receipt in receipt order), from one read of the table, so they
    agree and a national ledger is fetched once; with `columns`, each row holds those alone (the
    build reads the dozen it uses of each wide row).

    What the build and the console read; a ledger without its table is said to be one, not
    created as a side effect of looking."""
    engine = connect(db_url)
    try:
        if not inspect(engine).has_table("submissions"):
            raise NoSubmissionsTable(f"the ledger at {db_url} has no submissions table yet: "
                                     "run `jianfu init` (and `jianfu ingest`) first")
        with engine.connect() as conn:
            receipts = all_submissions(conn, columns)
    finally:
        engine.dispose()
    return in_force(receipts), receipts


def all_submissions(conn: Connection, columns: Sequence[str] | None = None) -> list[dict]:
    """Every receipt, in receipt order, as a dict per row of every column or of `columns` (the
    column names are taken once, not per row as a RowMapping does: a national year's ledger has
    100,000 rows)."""
    chosen = select(submissions) if columns is None else select(*(submissions.c[name] for name in columns))
    result = conn.execute(chosen.order_by(submissions.c.received_at, submissions.c.submission_id))
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result.all()]


def receipt_order(row) -> tuple:
    """Order of receipt: when the file landed, then its path (as discovery orders files)."""
    return (as_naive_utc(row["received_at"]), row["source_path"], row["submission_id"])


def new_run_id() -> str:
    """An ingest run's name in claims: host and process, so a dead process's claims are visible."""
    return f"{socket.gethostname()[:20]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _claim_is_free(claimed_by: str | None, claimed_at: datetime | None, wall: datetime) -> bool:
    """Free when unclaimed, expired, or held by a process of this host that no longer exists."""
    if claimed_by is None or claimed_at is None or as_naive_utc(claimed_at) < as_naive_utc(wall - CLAIM_TIMEOUT):
        return True
    host, _, rest = claimed_by.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname()[:20] or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def reopen_rejected(conn: Connection, run_id: str) -> int:
    """Put every rejected file of a known kind back to `received`, claimed by this run, so that it
    is decided again from its archived bytes. Returns how many."""
    result = conn.execute(update(submissions)
                          .where(submissions.c.status == REJECTED, submissions.c.kind.is_not(None))
                          .values(status=RECEIVED, claimed_by=run_id, claimed_at=datetime.now(UTC)))
    return result.rowcount


def claim_unfinished(conn: Connection, run_id: str, source_paths: list[str] | None = None) -> list[RowMapping]:
    """The `received` files this run is to decide: its own, and those whose run died.

    With `source_paths`, only receipts at those places are taken over (an ingest of one batch of
    files must not take files another batch is deciding right now). Taking over is a
    compare-and-set on the claim, so two runs never both win one file.
    """
    wall = datetime.now(UTC)
    query = select(submissions.c.submission_id, submissions.c.source_path, submissions.c.claimed_by,
                   submissions.c.claimed_at).where(submissions.c.status == RECEIVED)
    wanted = None if source_paths is None else set(source_paths)
    for row in conn.execute(query).mappings().all():
        if row["claimed_by"] == run_id or (wanted is not None and row["source_path"] not in wanted):
            continue
        if _claim_is_free(row["claimed_by"], row["claimed_at"], wall):
            seen = (submissions.c.claimed_by.is_(None) if row["claimed_by"] is None
                    else submissions.c.claimed_by == row["claimed_by"])
            conn.execute(update(submissions).where(submissions.c.submission_id == row["submission_id"],
                                                   submissions.c.status == RECEIVED, seen)
                         .values(claimed_by=run_id, claimed_at=wall))
    rows = conn.execute(select(submissions).where(submissions.c.status == RECEIVED,
                                                  submissions.c.claimed_by == run_id)).mappings()
    return sorted(rows, key=receipt_order)


def as_naive_utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes (stored as UTC); compare everything as naive UTC."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
