"""Shared fixtures: an isolated JIANFU_HOME per test, a pinned clock, and real databases.

PostgreSQL tests get a database of their own, created on the local server and dropped after, so
they never see another test's rows. Set JIANFU_TEST_PG_URL to point at another server.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jianfu.config import Settings

#: The clock every test runs at unless it says otherwise (sample data is relative to it).
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
PG_ADMIN_URL = os.environ.get("JIANFU_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def jianfu_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """JIANFU_* variables for a fresh home under tmp_path, with the clock pinned to NOW."""
    home = tmp_path / "home"
    env = {"JIANFU_HOME": str(home), "JIANFU_NOW": NOW.isoformat()}
    for name in ("JIANFU_REFERENCE", "JIANFU_WAREHOUSE", "JIANFU_DB_URL", "JIANFU_SMTP_URL",
                 "JIANFU_ALERT_EMAILS", "JIANFU_WEBHOOK_URL", "JIANFU_WEBHOOK_KIND", "JIANFU_WEBHOOK_SECRET",
                 "JIANFU_SMTP_FROM", "JIANFU_CONSOLE_URL", "JIANFU_INGEST_WORKERS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def settings(jianfu_env: dict[str, str]) -> Settings:
    return Settings.from_env()


def _pg_available() -> bool:
    try:
        import psycopg2

        psycopg2.connect(PG_ADMIN_URL, connect_timeout=3).close()
        return True
    except Exception:
        return False


@pytest.fixture
def pg_url() -> str:
    """URL of a new, empty PostgreSQL database, dropped after the test."""
    import psycopg2

    if not _pg_available():
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: start it (see .ci/run)")
    name = f"jianfu_test_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(PG_ADMIN_URL)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}".replace("postgresql://", "postgresql+psycopg2://", 1)
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Both ledger engines: SQLite in tmp_path and a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return request.getfixturevalue("pg_url")
