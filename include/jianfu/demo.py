"""Driving a running Airflow end to end, and the demo's closing summary (`make demo`).

Tooling around the DAGs, not part of them: `scripts/demo.sh` and the production-stack test run
`python -m jianfu.demo run-chain` against a live scheduler, then `python -m jianfu.demo summary`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from .config import Settings
from .orchestration import task_settings


# ---------------------------------------------------------------------------- demo summary
def summary_text(settings: Settings, airflow_home: str | None = None) -> str:
    """What `make demo` prints at the end: what was received, found and sent, and where."""
    import duckdb

    warehouse = settings.warehouse.rstrip("/")
    con = duckdb.connect()

    def rows(table: str, sql: str) -> list[tuple]:
        source = f"read_parquet('{warehouse}/{table}/**/*.parquet', hive_partitioning=true, union_by_name=true)"
        try:
            return con.execute(sql.format(t=source)).fetchall()
        except duckdb.Error:
            return []

    lines = ["", "jianfu demo summary", "===================", f"JIANFU_HOME  {settings.home}"]
    statuses = rows("submissions", "select status, count(*) from {t} group by 1 order by 1")
    lines.append("submissions  " + (", ".join(f"{n} {s}" for s, n in statuses) or "none"))
    rejected = rows("submissions",
                    "select file_name, coalesce(county_code, '?') from {t} where status = 'rejected' order by 1")
    for name, county in rejected[:20]:
        lines.append(f"  rejected   {name} ({county})")
    if len(rejected) > 20:
        lines.append(f"  ... and {len(rejected) - 20} more rejected")
    flags = rows("flags", "select rule, severity, count(*) from {t} group by 1, 2 order by 1")
    lines.append("flags        " + ("" if flags else "none"))
    lines += [f"  {rule:<32} {severity:<9} {n:>6}" for rule, severity, n in flags]
    alerts = rows("alerts", "select rule, dept_code, year, used, quota, delivered from {t} order by 1, 2, 3")
    lines.append(f"quota alerts {len(alerts)}")
    lines += [f"  {r:<22} {d:<18} {y} used {u}/{q} delivered={dv}" for r, d, y, u, q, dv in alerts[:30]]
    board = rows("collection_status", "select status, count(*) from {t} group by 1 order by 1")
    lines.append("collection   " + (", ".join(f"{n} {s}" for s, n in board) or "none"))
    outbox = sorted(settings.outbox.glob("*.eml")) if settings.outbox.exists() else []
    lines += [
        "",
        f"warehouse    {warehouse}   (query: .venv/bin/jianfu query \"select * from flags limit 10\")",
        f"reports      {settings.reports}   (rejection/warning reports, JSON + CSV)",
        f"outbox       {settings.outbox}   ({len(outbox)} .eml notification(s))",
    ]
    if airflow_home:
        lines.append(f"airflow      AIRFLOW_HOME={airflow_home}; open the UI with `make airflow` -> http://localhost:8080")
    return "\n".join(lines)


# ------------------------------------------------------------------ driving a live Airflow
DAG_IDS = ("jianfu_ingest", "jianfu_build", "jianfu_alerts", "jianfu_collection")


def run_chain(timeout: float = 900.0, poll: float = 3.0, say=print) -> dict[str, str]:
    """Run the whole pipeline through a *running* Airflow and wait for it (demo, stack test).

    Needs the scheduler, dag-processor and api-server of the current AIRFLOW_HOME running (any
    executor). It waits for the DAGs to be parsed, unpauses them, triggers jianfu_ingest, lets the
    Assets schedule jianfu_build and jianfu_alerts, then triggers jianfu_collection. Returns
    dag_id -> final state of the run it waited for; raises TimeoutError or RuntimeError (naming the
    DAG) when a run fails or the chain stalls. Uses Airflow's own ORM, so it needs the metadata DB,
    not the REST API and its credentials.
    """
    import time

    from airflow.api.common.trigger_dag import trigger_dag
    from airflow.models.dag import DagModel
    from airflow.models.dagrun import DagRun
    from airflow.models.serialized_dag import SerializedDagModel
    from airflow.sdk import timezone
    from airflow.utils.session import create_session
    from airflow.utils.types import DagRunTriggeredByType

    deadline = time.monotonic() + timeout

    def wait(what: str, check) -> Any:
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"gave up after {timeout:.0f}s waiting for {what}")
            time.sleep(poll)

    def parsed() -> bool:
        with create_session() as session:
            return all(SerializedDagModel.has_dag(d, session=session) for d in DAG_IDS)

    say("waiting for the dag-processor to parse the DAGs ...")
    wait("the four jianfu DAGs to be parsed", parsed)
    with create_session() as session:
        for dag_id in DAG_IDS:
            model = DagModel.get_dagmodel(dag_id, session=session)
            model.is_paused = False
    started = timezone.utcnow()

    def finished(dag_id: str, run_id: str | None = None) -> DagRun | None:
        with create_session() as session:
            query = session.query(DagRun).filter(DagRun.dag_id == dag_id)
            query = query.filter(DagRun.run_id == run_id) if run_id else query.filter(DagRun.queued_at >= started)
            runs = query.all()
            if any(r.state == "failed" for r in runs):
                bad = next(r for r in runs if r.state == "failed")
                raise RuntimeError(f"{dag_id} run {bad.run_id} failed: see its task logs in the Airflow UI")
            done = [r for r in runs if r.state == "success"]
            if done and not any(r.state in ("queued", "running") for r in runs):
                session.expunge_all()
                return done[-1]
            return None

    results: dict[str, str] = {}
    for dag_id in DAG_IDS:
        if dag_id in ("jianfu_ingest", "jianfu_collection"):
            with create_session() as session:
                run = trigger_dag(dag_id, triggered_by=DagRunTriggeredByType.CLI, session=session)
                run_id = run.run_id if run else None
            say(f"triggered {dag_id} ({run_id})")
        else:
            run_id = None
            say(f"waiting for {dag_id}, scheduled by its Asset ...")
        run = wait(f"a successful run of {dag_id}", lambda d=dag_id, r=run_id: finished(d, r))
        results[dag_id] = str(run.state)
        say(f"{dag_id}: {run.state} ({run.run_id})")
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m jianfu.demo summary|run-chain [TIMEOUT]`: tooling of `make demo`."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["summary"]:
        print(summary_text(task_settings(), os.environ.get("AIRFLOW_HOME")))
        return 0
    if args[:1] == ["run-chain"]:
        try:
            run_chain(timeout=float(args[1]) if len(args) > 1 else 900.0, say=lambda m: print(m, flush=True))
        except (TimeoutError, RuntimeError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0
    print("usage: python -m jianfu.demo summary | run-chain [TIMEOUT_SECONDS]", file=sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
