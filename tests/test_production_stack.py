"""The production stack, minus Docker: Airflow on PostgreSQL with the CeleryExecutor and Redis.

What docker-compose.yaml runs, as separate local processes: api-server (Celery workers report task
state through its execution API in Airflow 3), scheduler, dag-processor and a Celery worker. The
metadata database and the jianfu ledger are fresh PostgreSQL databases; the broker is the local
Redis (a dedicated db number and a queue of this test's own, so other users of the server are not
disturbed). jianfu's settings reach the worker the production way: JIANFU_HOME as the Airflow
Variable `jianfu_home` and the ledger as the Airflow Connection `jianfu_ledger`, not as JIANFU_*
variables of the worker.

The pipeline runs on the pilot sample through the Asset chain; the test waits with a bounded
timeout, checks the warehouse and the ledger, and always stops the processes and drops the
databases.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from airflow_helpers import (
    AIRFLOW,
    PINNED_NOW,
    PYTHON,
    airflow_env,
    free_port,
    generate_sample,
    redis_available,
    run,
    run_python,
    temporary_pg_database,
    wait_for,
)

pytestmark = [pytest.mark.slow, pytest.mark.airflow, pytest.mark.postgres]

REDIS_DB = int(os.environ.get("JIANFU_TEST_REDIS_DB", "11"))
CHAIN_TIMEOUT = 360  # seconds for ingest -> build -> alerts -> collection once Airflow is up

SETUP = """
import sys
from airflow.models import Connection, Variable
from airflow.utils.session import create_session
Variable.set("jianfu_home", sys.argv[1])
with create_session() as session:
    session.add(Connection(conn_id="jianfu_ledger", conn_type="postgres", host=sys.argv[2],
                           port=int(sys.argv[3]), login=sys.argv[4], schema=sys.argv[5]))
"""

CHECK = """
import json, sys
from airflow.models.dagrun import DagRun
from airflow.models.taskinstance import TaskInstance
from airflow.utils.session import create_session
with create_session() as session:
    tis = session.query(TaskInstance).filter(TaskInstance.dag_id.like("jianfu_%")).all()
    out = {
        "tasks": sorted({(t.dag_id, t.task_id, t.map_index, str(t.state), t.queue, t.hostname or "", t.run_id)
                         for t in tis}),
        "runs": sorted({(r.dag_id, str(r.state), str(r.run_type)) for r in session.query(DagRun)}),
        "times": sorted((r.dag_id, r.run_id, r.start_date.isoformat(), r.end_date.isoformat() if r.end_date else "")
                        for r in session.query(DagRun)),
    }
print("RESULT:" + json.dumps(out))
"""


def _stop(procs: list[subprocess.Popen]) -> None:
    """SIGTERM each process group, then SIGKILL what is left after a grace period."""
    for proc in procs:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 30
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _forget_queue(queue: str) -> None:
    """Remove this test's Celery queue keys from the shared Redis db (nothing else)."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
    keys = [k for k in client.scan_iter(match=f"*{queue}*")]
    if keys:
        client.delete(*keys)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def test_pipeline_on_postgres_celery_and_redis(tmp_path: Path) -> None:
    if not redis_available():
        pytest.fail("Redis does not answer on 127.0.0.1:6379 (start it: see .ci/run)")
    started = time.monotonic()
    home = tmp_path / "home"
    sample = generate_sample(home)

    queue = f"jianfu_test_{secrets.token_hex(4)}"
    port = free_port()
    logs = tmp_path / "logs"
    logs.mkdir()
    procs: list[subprocess.Popen] = []
    with temporary_pg_database("jianfu_airflow") as meta_url, temporary_pg_database("jianfu_ledger") as ledger_url:
        from sqlalchemy.engine import make_url

        ledger = make_url(ledger_url)
        env = airflow_env(
            tmp_path / "airflow",
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=meta_url,
            AIRFLOW__CORE__EXECUTOR="CeleryExecutor",
            AIRFLOW__CELERY__BROKER_URL=f"redis://127.0.0.1:6379/{REDIS_DB}",
            AIRFLOW__CELERY__RESULT_BACKEND="db+" + meta_url,  # SQLAlchemy 2.1 defaults to psycopg 3: be explicit
            AIRFLOW__CELERY__WORKER_CONCURRENCY="4",
            AIRFLOW__OPERATORS__DEFAULT_QUEUE=queue,
            AIRFLOW__API__PORT=str(port),
            AIRFLOW__API__BASE_URL=f"http://127.0.0.1:{port}",
            AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://127.0.0.1:{port}/execution/",
            AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_hex(32),
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="True",
            AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC="2",
            AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
            JIANFU_NOW=PINNED_NOW,
            JIANFU_TASK_RETRIES="1",
            JIANFU_RETRY_DELAY_SECONDS="2",
        )
        # Settings come from Airflow here, not from the worker's environment.
        env.pop("JIANFU_HOME", None)
        try:
            run([AIRFLOW, "db", "migrate"], env, timeout=300)
            run([PYTHON, "-c", SETUP, str(home), ledger.host, str(ledger.port or 5432), ledger.username,
                 ledger.database], env)
            components = {
                "api-server": ["api-server", "--port", str(port)],
                "scheduler": ["scheduler"],
                "dag-processor": ["dag-processor"],
                "celery-worker": ["celery", "worker", "--queues", queue, "--concurrency", "4",
                                  "--celery-hostname", f"{queue}@%h", "--skip-serve-logs"],
            }
            for name, args in components.items():
                log = open(logs / f"{name}.log", "w")
                procs.append(subprocess.Popen([AIRFLOW, *args], env=env, stdout=log, stderr=subprocess.STDOUT,
                                              start_new_session=True, cwd=tmp_path))

            def api_up() -> bool:
                import urllib.request

                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/version", timeout=2)
                    return True
                except OSError:
                    return False

            wait_for(api_up, timeout=120, what="the api-server")
            for proc, name in zip(procs, components, strict=True):
                assert proc.poll() is None, f"{name} exited early:\n{_tail(logs / f'{name}.log')}"

            chain = run([PYTHON, "-m", "jianfu.demo", "run-chain", str(CHAIN_TIMEOUT)], env,
                        timeout=CHAIN_TIMEOUT + 60, check=False)
            if chain.returncode != 0:
                details = "\n".join(f"--- {n}\n{_tail(logs / f'{n}.log')}" for n in components)
                pytest.fail(f"the chain did not finish:\n{chain.stdout}\n{chain.stderr}\n{details}")

            state = run_python(CHECK, env)
        finally:
            _stop(procs)
            _forget_queue(queue)

        # Every DAG ran to success, the build and alerts because of their Assets.
        runs = {tuple(r) for r in state["runs"]}
        for dag_id in ("jianfu_ingest", "jianfu_build", "jianfu_alerts", "jianfu_collection"):
            assert any(r[0] == dag_id and r[1].endswith("success") for r in runs), (dag_id, runs)
        assert any(r[0] == "jianfu_build" and "asset" in r[2].lower() for r in runs), runs
        assert any(r[0] == "jianfu_alerts" and "asset" in r[2].lower() for r in runs), runs
        # The story the demo tells is true: the ingest run it names did the work, and no other
        # ingest run did any; the collection board ran after the alerts, never before the ingest.
        named = re.search(r"jianfu_ingest: success \((\S+)\)", chain.stdout).group(1)
        working = {t[6] for t in state["tasks"] if t[0] == "jianfu_ingest" and t[1] == "ingest_batch" and t[2] >= 0}
        assert working == {named}, (named, working, chain.stdout)
        ends = {dag_id: end for dag_id, _run, _start, end in state["times"]}
        collection_starts = [start for dag_id, _run, start, _end in state["times"] if dag_id == "jianfu_collection"]
        assert collection_starts and min(collection_starts) >= ends["jianfu_alerts"], state["times"]
        # The mapped ingest ran on the Celery worker, from this test's queue.
        batches = [t for t in state["tasks"] if t[1] == "ingest_batch" and t[2] >= 0]  # -1: an idle run
        assert len(batches) > 1 and all(t[3].endswith("success") and t[4] == queue for t in batches), batches

        # The warehouse is where the Variable said, the ledger where the Connection said.
        warehouse = home / "warehouse"
        for table in ("form_counts", "work_groups", "inspections", "submissions", "flags", "burden",
                      "quota_usage", "alerts", "collection_status"):
            assert list((warehouse / table).rglob("*.parquet")), f"{table} is missing from the warehouse"
        import sqlalchemy as sa

        engine = sa.create_engine(ledger_url)
        try:
            with engine.connect() as conn:
                statuses = dict(conn.execute(sa.text(
                    "select status, count(*) from submissions group by status")).fetchall())
        finally:
            engine.dispose()
        # Batches ran at once on the worker: the ledger must still decide every file as the
        # sample's truth says (same statuses as one sequential ingest).
        expected = dict(Counter(s.status for s in sample.submissions))
        assert statuses == expected, (statuses, expected)
    assert time.monotonic() - started < 600
