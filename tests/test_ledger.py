"""The ledger's version rules (SPEC.md section 5) on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from jianfu import ledger

T0 = datetime(2026, 11, 1, 8, 0)


def _receive(conn, sid: str, *, at: datetime, sha: str | None = None, source: str | None = None,
             county: str = "421127", period: str = "2026-09") -> None:
    ledger.insert(conn, submission_id=sid, kind="form_counts", county_code=county, period=period,
                  file_name=f"{sid}.csv", source_path=source or f"/landing/{sid}.csv", sha256=sha or sid * 4,
                  size_bytes=10, archive_path=f"/raw/{sid}", received_at=at, status=ledger.RECEIVED)


@pytest.fixture
def engine(db_url):
    engine = ledger.connect(db_url)
    ledger.create_schema(engine)
    yield engine
    engine.dispose()


def test_create_schema_twice_is_harmless(engine):
    ledger.create_schema(engine)
    with engine.connect() as conn:
        assert ledger.all_submissions(conn) == []


def test_resubmission_supersedes_the_version_in_force(engine):
    with engine.begin() as conn:
        _receive(conn, "a1", at=T0)
        _receive(conn, "a2", at=T0 + timedelta(days=3))
    with engine.begin() as conn, ledger.versions_lock(conn):
        assert ledger.accept(conn, "a1", ledger.ACCEPTED) == 1
    with engine.begin() as conn, ledger.versions_lock(conn):
        assert ledger.accept(conn, "a2", ledger.ACCEPTED_WITH_WARNINGS) == 2
    with engine.connect() as conn:
        assert ledger.get(conn, "a1")["status"] == ledger.SUPERSEDED
        assert ledger.get(conn, "a1")["superseded_by"] == "a2"
        assert [r["submission_id"] for r in ledger.in_force(ledger.all_submissions(conn))] == ["a2"]


def test_an_older_receipt_accepted_late_does_not_displace_the_newer(engine):
    # Two ingests raced: the later receipt was decided first.
    with engine.begin() as conn:
        _receive(conn, "old", at=T0)
        _receive(conn, "new", at=T0 + timedelta(hours=1))
    with engine.begin() as conn, ledger.versions_lock(conn):
        ledger.accept(conn, "new", ledger.ACCEPTED)
    with engine.begin() as conn, ledger.versions_lock(conn):
        ledger.accept(conn, "old", ledger.ACCEPTED)
    with engine.connect() as conn:
        assert [r["submission_id"] for r in ledger.in_force(ledger.all_submissions(conn))] == ["new"]
        assert ledger.get(conn, "old")["status"] == ledger.SUPERSEDED


def test_versions_are_per_county_kind_and_period(engine):
    with engine.begin() as conn:
        _receive(conn, "x", at=T0, county="421127")
        _receive(conn, "y", at=T0, county="140404")
        _receive(conn, "z", at=T0, period="2026-10")
    with engine.begin() as conn, ledger.versions_lock(conn):
        versions = [ledger.accept(conn, sid, ledger.ACCEPTED) for sid in ("x", "y", "z")]
    assert versions == [1, 1, 1]
    with engine.connect() as conn:
        assert len(ledger.in_force(ledger.all_submissions(conn))) == 3


def test_the_same_file_at_the_same_place_is_received_once(engine):
    with engine.begin() as conn:
        _receive(conn, "r1", at=T0, sha="f" * 64, source="/landing/a.csv")
    with pytest.raises(IntegrityError):
        with engine.begin() as conn:
            _receive(conn, "r2", at=T0, sha="f" * 64, source="/landing/a.csv")
    with engine.connect() as conn:
        assert ledger.receipt(conn, "f" * 64, "/landing/a.csv")["submission_id"] == "r1"


def test_concurrent_accepts_leave_exactly_one_version_in_force(engine):
    with engine.begin() as conn:
        for i in range(8):
            _receive(conn, f"c{i}", at=T0 + timedelta(minutes=i))
    errors: list[BaseException] = []

    def accept(sid: str) -> None:
        try:
            with engine.begin() as conn, ledger.versions_lock(conn):
                ledger.accept(conn, sid, ledger.ACCEPTED)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=accept, args=(f"c{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engine.connect() as conn:
        rows = ledger.all_submissions(conn)
        assert [r["submission_id"] for r in ledger.in_force(ledger.all_submissions(conn))] == ["c7"]
        assert sorted(r["version"] for r in rows) == list(range(1, 9))
        assert sum(r["status"] == ledger.SUPERSEDED for r in rows) == 7


def test_a_ledger_from_an_older_version_gains_the_new_columns(db_url):
    engine = ledger.connect(db_url)
    with engine.begin() as conn:  # the submissions table as an older jianfu made it
        conn.exec_driver_sql("CREATE TABLE submissions (submission_id VARCHAR(40) PRIMARY KEY, kind VARCHAR(20), "
                             "file_name VARCHAR(500) NOT NULL, source_path TEXT NOT NULL, sha256 VARCHAR(64) NOT NULL, "
                             "size_bytes BIGINT NOT NULL, archive_path TEXT NOT NULL, "
                             "received_at TIMESTAMP NOT NULL, status VARCHAR(30) NOT NULL, "
                             "error_count INTEGER NOT NULL, warning_count INTEGER NOT NULL)")

    ledger.create_schema(engine)

    with engine.begin() as conn:
        _receive(conn, "m1", at=T0)
        assert ledger.get(conn, "m1")["source_mtime_ns"] is None
        assert ledger.receipts_at(conn, ["/landing/m1.csv"])["/landing/m1.csv"][0]["county_code"] == "421127"
    engine.dispose()


def _mixed_ledger(engine) -> None:
    """Receipts of every status, with microseconds and with an unset optional column."""
    with engine.begin() as conn:
        _receive(conn, "a1", at=T0)
        _receive(conn, "a2", at=T0 + timedelta(days=3, microseconds=250))
        _receive(conn, "b1", at=T0 + timedelta(hours=1), county="421182")
        _receive(conn, "c1", at=T0 + timedelta(hours=2), period="2026-08")
        _receive(conn, "d1", at=T0 + timedelta(hours=4))
    with engine.begin() as conn:
        ledger.accept(conn, "a1", ledger.ACCEPTED)
        ledger.accept(conn, "a2", ledger.ACCEPTED_WITH_WARNINGS)  # supersedes a1
        ledger.accept(conn, "b1", ledger.ACCEPTED)
        ledger.record_decisions(conn, [ledger.Decision("c1", ledger.REJECTED, {"reason": "bad"})])


def test_the_versions_in_force_and_every_receipt_are_read_in_one_go(db_url):
    engine = ledger.connect(db_url)
    ledger.create_schema(engine)
    _mixed_ledger(engine)
    engine.dispose()

    in_force, receipts = ledger.read_submissions(db_url)

    assert [r["submission_id"] for r in in_force] == ["a2", "b1"]
    assert len(receipts) == 5 and {r["status"] for r in in_force} <= set(ledger.ACCEPTED_STATUSES)


def test_a_ledger_without_its_table_is_said_to_be_one(tmp_path):
    empty = tmp_path / "empty.db"
    ledger.connect(f"sqlite:///{empty}").dispose()

    with pytest.raises(ledger.NoSubmissionsTable, match="jianfu init"):
        ledger.read_submissions(f"sqlite:///{empty}")


class _LockedThenFree:
    """A DBAPI cursor whose WAL switch SQLite refuses `refusals` times with "database is locked",
    as it does (at once, without waiting) to one of two processes opening a new ledger together."""

    def __init__(self, refusals: int):
        self.refusals, self.mode, self.statements = refusals, "delete", []

    def execute(self, sql: str):
        import sqlite3

        self.statements.append(sql)
        if sql == "PRAGMA journal_mode=WAL":
            if self.refusals:
                self.refusals -= 1
                raise sqlite3.OperationalError("database is locked")
            self.mode = "wal"
        return self

    def fetchone(self):
        return (self.mode,)


def test_a_new_ledger_switched_to_wal_by_two_processes_at_once_waits_its_turn():
    cursor = _LockedThenFree(refusals=3)

    ledger.use_wal(cursor)

    assert cursor.mode == "wal" and cursor.statements.count("PRAGMA journal_mode=WAL") == 4
    already = _LockedThenFree(refusals=0)
    already.mode = "wal"
    ledger.use_wal(already)  # set in the file already: nothing to switch
    assert "PRAGMA journal_mode=WAL" not in already.statements
    with pytest.raises(Exception, match="locked"):
        ledger.use_wal(_LockedThenFree(refusals=10**6), deadline_seconds=0.1)  # not forever


def test_two_processes_opening_a_new_sqlite_ledger_together_both_succeed(tmp_path):
    """The race the WAL switch retry is for, for real: two processes, one new ledger, many times."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    failures = 0
    for n in range(25):
        url = f"sqlite:///{tmp_path / f'ledger-{n}.db'}"
        barrier = ctx.Barrier(2)
        processes = [ctx.Process(target=_open_new_ledger, args=(url, barrier)) for _ in range(2)]
        for p in processes:
            p.start()
        for p in processes:
            p.join(60)
        failures += sum(p.exitcode != 0 for p in processes)
    assert failures == 0


def _open_new_ledger(url: str, barrier) -> None:
    barrier.wait()
    engine = ledger.connect(url)
    try:
        ledger.create_schema(engine)
    finally:
        engine.dispose()
