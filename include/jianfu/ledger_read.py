"""The ledger's submissions as `jianfu build` reads them: through sqlite3 for a SQLite ledger.

Why this exists: the build reads the ledger once per run, two queries on one table, and for a
one-county resubmission the rest of its work is a few tenths of a second. Importing SQLAlchemy
(0.12 s) and making an engine were a third of that command. The ledger is still created and
written only through SQLAlchemy (ledger.py owns its schema and every write); this module reads a
SQLite ledger with the standard library's sqlite3 — the driver SQLAlchemy's SQLite dialect uses
underneath — in one read transaction, and turns DATETIME text into datetimes as that dialect does.
Any other database (PostgreSQL in production), and a SQLite URL with options, is read through
ledger.py. tests/test_ledger.py checks that both ways answer the same on the same ledgers.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote

#: ledger.ACCEPTED_STATUSES (asserted equal in tests/test_ledger.py): the statuses in force.
ACCEPTED_STATUSES = ("accepted", "accepted_with_warnings")
_SQLITE_PREFIXES = ("sqlite:///", "sqlite+pysqlite:///")


class NoSubmissionsTable(Exception):
    """The ledger has no submissions table: `jianfu init` has not run against it."""


def sqlite_file(db_url: str) -> Path | None:
    """The database file of a plain `sqlite:///<path>` URL (relative to the working directory, as
    SQLAlchemy reads it; `sqlite:////abs/path` is absolute); None for any other URL."""
    for prefix in _SQLITE_PREFIXES:
        if db_url.startswith(prefix):
            rest = db_url[len(prefix):]
            if not rest or rest == ":memory:" or "?" in rest or "%" in rest:
                return None  # in-memory, or options and escapes SQLAlchemy would interpret
            return Path(rest)
    return None


def read_submissions(db_url: str) -> tuple[list[dict], list[dict]]:
    """(versions in force ordered by kind, county, period; every receipt in receipt order), both
    read in one transaction, so they agree. Raises NoSubmissionsTable."""
    path = sqlite_file(db_url)
    if path is None:
        return _through_sqlalchemy(db_url)
    return _from_sqlite(path)


def _from_sqlite(path: Path) -> tuple[list[dict], list[dict]]:
    try:
        # mode=rw: a missing file is an error here, not a new empty ledger
        conn = sqlite3.connect(f"file:{quote(str(path.absolute()))}?mode=rw", uri=True, timeout=60,
                               isolation_level=None)
    except sqlite3.OperationalError:
        raise NoSubmissionsTable(f"cannot open {path}") from None
    try:
        conn.execute("BEGIN")  # one snapshot for both queries (WAL lets writers go on meanwhile)
        if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'submissions'").fetchone() is None:
            raise NoSubmissionsTable(str(path))
        convert = _converters(conn)
        placeholders = ", ".join("?" for _ in ACCEPTED_STATUSES)
        in_force = _rows(conn.execute(f"SELECT * FROM submissions WHERE status IN ({placeholders}) "
                                      "ORDER BY kind, county_code, period", ACCEPTED_STATUSES), convert)
        receipts = _rows(conn.execute("SELECT * FROM submissions ORDER BY received_at, submission_id"), convert)
        conn.execute("COMMIT")
        return in_force, receipts
    finally:
        conn.close()


def _converters(conn: sqlite3.Connection) -> dict[str, object]:
    """Column -> how SQLAlchemy's SQLite dialect turns the stored value into Python, by the column's
    declared type (what ledger.py's Table emitted): DATETIME and DATE are ISO text, BOOLEAN is 0/1."""
    out = {}
    for _cid, name, declared, *_rest in conn.execute("PRAGMA table_info(submissions)"):
        declared = (declared or "").upper()
        if declared.startswith("DATETIME") or declared.startswith("TIMESTAMP"):
            out[name] = datetime.fromisoformat
        elif declared.startswith("DATE"):
            out[name] = date.fromisoformat
        elif declared.startswith("BOOLEAN"):
            out[name] = bool
    return out


def _rows(cursor: sqlite3.Cursor, convert: dict[str, object]) -> list[dict]:
    names = [d[0] for d in cursor.description]
    steps = [(i, name, convert.get(name)) for i, name in enumerate(names)]
    rows = []
    for values in cursor:
        rows.append({name: (fn(values[i]) if fn is not None and values[i] is not None else values[i])
                     for i, name, fn in steps})
    return rows


def _through_sqlalchemy(db_url: str) -> tuple[list[dict], list[dict]]:
    import sqlalchemy

    from . import ledger

    engine = ledger.connect(db_url)
    try:
        if not sqlalchemy.inspect(engine).has_table("submissions"):
            raise NoSubmissionsTable(db_url)
        with engine.connect() as conn:  # one transaction: one consistent view of the ledger
            return [dict(r) for r in ledger.in_force(conn)], [dict(r) for r in ledger.all_submissions(conn)]
    finally:
        engine.dispose()
