"""Helpers for the Airflow tests: isolated AIRFLOW_HOMEs, subprocesses, free ports, PostgreSQL.

Airflow reads its configuration once, when it is first imported, and keeps global state (ORM
session, secrets backends). Every test therefore runs Airflow in a *subprocess* with its own
temporary AIRFLOW_HOME, built by sourcing scripts/airflow_env.sh exactly as `make demo` does, so
the tests also prove that script gives a working embedded Airflow. Nothing here touches
./.airflow or ~/airflow.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
AIRFLOW = str(VENV_BIN / "airflow") if (VENV_BIN / "airflow").exists() else "airflow"
DAG_IDS = ("jianfu_alerts", "jianfu_build", "jianfu_collection", "jianfu_ingest", "jianfu_report")
#: The moment sample data and runs are pinned to, so every run sees the same "now".
PINNED_NOW = "2026-11-21T12:00:00+00:00"


def airflow_env(airflow_home: Path, **extra: str) -> dict[str, str]:
    """The environment scripts/airflow_env.sh exports for `airflow_home`, plus `extra`.

    The caller's own AIRFLOW_* and JIANFU_* variables are dropped first, so a developer's
    settings cannot leak into a test.
    """
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "JIANFU_", "_AIRFLOW"))}
    base["AIRFLOW_HOME"] = str(airflow_home)
    base.update(extra)
    out = subprocess.run(
        ["bash", "-c", f"source {ROOT / 'scripts' / 'airflow_env.sh'} && env -0"],
        env=base, capture_output=True, check=True,
    ).stdout.decode()
    env = dict(item.split("=", 1) for item in out.split("\0") if "=" in item)
    env.update(extra)  # explicit values win over the script's defaults
    return env


def run(cmd: list[str], env: Mapping[str, str], timeout: float = 300, check: bool = True,
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command, failing with its output when it fails (pytest shows why)."""
    proc = subprocess.run(cmd, env=dict(env), capture_output=True, text=True, timeout=timeout, cwd=cwd or ROOT)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} exited {proc.returncode}\n--- stdout\n{proc.stdout[-6000:]}\n"
            f"--- stderr\n{proc.stderr[-6000:]}"
        )
    return proc


def run_python(code: str, env: Mapping[str, str], timeout: float = 600) -> Any:
    """Run `code` in the project's Python and return what it printed after `RESULT:` as JSON."""
    proc = run([PYTHON, "-c", textwrap.dedent(code)], env, timeout=timeout)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT:"):
            return json.loads(line[len("RESULT:"):])
    raise AssertionError(f"no RESULT line\n--- stdout\n{proc.stdout[-6000:]}\n--- stderr\n{proc.stderr[-6000:]}")


def json_from_cli(stdout: str) -> Any:
    """The JSON document in an `airflow ... -o json` output (warnings may precede it)."""
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if line.startswith(("[", "{")):
            return json.loads(line)
    raise AssertionError(f"no JSON in output:\n{stdout[-4000:]}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate: Callable[[], Any], timeout: float, interval: float = 2.0, what: str = "condition") -> Any:
    """Poll until `predicate()` is truthy; raise TimeoutError saying what was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def generate_sample(home: Path) -> Any:
    """Sample data for the pilot counties into `home` (reference/, landing/) and the tests' truth/.

    Returns what was built: `.submissions` carry the ledger status each file must end in.
    """
    from datetime import datetime

    from jianfu.sample.pilot import build
    from sample_helpers.truth_files import write_truth

    built = build(home, 7, datetime.fromisoformat(PINNED_NOW))
    write_truth(home, built)
    return built


def cli_warehouse(home: Path) -> None:
    """The CLI path (init + ingest + build called directly) over the sample in `home`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIANFU_")}
    env.update(JIANFU_HOME=str(home), JIANFU_NOW=PINNED_NOW)
    run_python(
        """
        from jianfu.config import Settings
        from jianfu.home import init_home
        from jianfu.ingest.pipeline import ingest
        from jianfu.warehouse.build import build
        settings = Settings.from_env()
        init_home(settings)
        ingest(settings)
        build(settings)
        print("RESULT:null")
        """,
        env,
    )


#: Timestamps that record when something ran rather than what the data is.
VOLATILE_COLUMNS = {"received_at", "notified_at", "built_at", "published_at", "created_at", "updated_at"}


def warehouse_snapshot(warehouse: Path) -> dict[str, list[tuple]]:
    """Every table of a warehouse as sorted rows, without run-time timestamps and paths."""
    import duckdb

    con = duckdb.connect()
    tables: dict[str, list[tuple]] = {}
    for table_dir in sorted(p for p in warehouse.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))):
        if not any(table_dir.rglob("*.parquet")):
            tables[table_dir.name] = []
            continue
        rel = con.sql(
            f"select * from read_parquet('{table_dir}/**/*.parquet', hive_partitioning=true, union_by_name=true)"
        )
        keep = [c for c in rel.columns if c not in VOLATILE_COLUMNS and not c.endswith("_path")]
        rows = con.sql(f"select {', '.join(f'{chr(34)}{c}{chr(34)}' for c in keep)} from rel").fetchall()
        tables[table_dir.name] = sorted(rows, key=repr)
    return tables


# ------------------------------------------------------------------------------- PostgreSQL
PG_HOST = os.environ.get("JIANFU_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("JIANFU_TEST_PG_PORT", "5432"))


def _pg_admin_url() -> str | None:
    """A superuser URL of the local server (trust auth), or None when it does not answer."""
    import sqlalchemy as sa

    candidates = []
    if os.environ.get("JIANFU_TEST_PG_URL"):  # the same variable tests/conftest.py honours
        url = sa.engine.make_url(os.environ["JIANFU_TEST_PG_URL"]).set(drivername="postgresql+psycopg2")
        candidates.append(url.render_as_string(hide_password=False))
    candidates += [f"postgresql+psycopg2://{user}@{PG_HOST}:{PG_PORT}/{db}"
                   for user in ("postgres", "root") for db in ("postgres", "test")]
    for url in candidates:
        try:
            engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(sa.text("select 1"))
            engine.dispose()
            return url
        except Exception:  # noqa: BLE001 - try the next candidate
            continue
    return None


@contextmanager
def temporary_pg_database(prefix: str = "jianfu_airflow") -> Iterator[str]:
    """A fresh database on the local PostgreSQL, dropped afterwards; yields its SQLAlchemy URL."""
    import sqlalchemy as sa

    admin = _pg_admin_url()
    if admin is None:
        raise RuntimeError(f"PostgreSQL on {PG_HOST}:{PG_PORT} does not answer")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    try:
        yield sa.engine.make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        engine.dispose()


def redis_available(host: str = "127.0.0.1", port: int = 6379) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False
