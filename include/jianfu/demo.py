"""Driving a running Airflow end to end, and the demo's closing summary (`make demo`).

Tooling around the DAGs, not part of them: `scripts/demo.sh` and the production-stack test run
`python -m jianfu.demo pause` before the scheduler starts, `run-chain` against it, then `summary`;
`make airflow` prints `states` (which DAGs are on) in its banner.
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
        lines.append(f"airflow      AIRFLOW_HOME={airflow_home}; open the UI with `make airflow` -> http://127.0.0.1:8080/")
    return "\n".join(lines)


# ------------------------------------------------------------------ driving a live Airflow
DAG_IDS = ("jianfu_ingest", "jianfu_build", "jianfu_alerts", "jianfu_collection")
#: Scheduled on Assets: unpaused, they run only when the DAG before them says there is new work.
ASSET_DAGS = ("jianfu_build", "jianfu_alerts")
#: Seconds to wait for the scheduler's own run of a just-unpaused cron DAG before triggering one.
SCHEDULED_RUN_GRACE = 60.0


def pause_all() -> list[str]:
    """Pause every jianfu DAG Airflow already knows (before the scheduler starts, so none races
    the demo); DAGs it has never parsed are created paused anyway. Returns the ones paused."""
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session

    paused = []
    with create_session() as session:
        for model in session.query(DagModel).filter(DagModel.dag_id.in_(DAG_IDS)):
            if not model.is_paused:
                model.is_paused = True
                paused.append(model.dag_id)
    return paused


def dag_states() -> dict[str, bool | None]:
    """dag_id -> paused? (None: not parsed yet), as the scheduler sees it."""
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session

    with create_session() as session:
        found = {m.dag_id: bool(m.is_paused) for m in session.query(DagModel).filter(DagModel.dag_id.in_(DAG_IDS))}
    return {d: found.get(d) for d in DAG_IDS}


def run_chain(timeout: float = 900.0, poll: float = 3.0, say=print,
              dag_ids: Sequence[str] = DAG_IDS) -> dict[str, str]:
    """Run the whole pipeline through a *running* Airflow and wait for it (demo, stack test).

    Needs the scheduler, dag-processor and api-server of the current AIRFLOW_HOME running (any
    executor), with the jianfu DAGs paused (`pause_all`). The order makes the story it prints true:
    the Asset-scheduled DAGs are unpaused first (they wait for work); jianfu_ingest is unpaused and
    the scheduler's own run (or, if none comes, one triggered here) is the one waited for and
    named, the only one there is; jianfu_build and jianfu_alerts follow from their Assets; only then
    is jianfu_collection unpaused, so its board sees what was ingested. Returns dag_id -> final
    state of the run it waited for; raises TimeoutError or RuntimeError (naming the DAG) when a
    run fails or the chain stalls. Uses Airflow's own ORM, not the REST API and its credentials.
    `dag_ids` (in DAG_IDS order) runs only part of the chain and leaves the others paused:
    bench/airflow_path.py times jianfu_ingest -> jianfu_build alone.
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

    def wait(what: str, check, limit: float | None = None) -> Any:
        until = deadline if limit is None else min(deadline, time.monotonic() + limit)
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() > until:
                if limit is not None and time.monotonic() <= deadline:
                    return None
                raise TimeoutError(f"gave up after {timeout:.0f}s waiting for {what}")
            time.sleep(poll)

    def parsed() -> bool:
        with create_session() as session:
            return all(SerializedDagModel.has_dag(d, session=session) for d in DAG_IDS)

    def unpause(dag_id: str) -> None:
        with create_session() as session:
            DagModel.get_dagmodel(dag_id, session=session).is_paused = False

    def runs_since(dag_id: str, since) -> list[DagRun]:
        with create_session() as session:
            runs = (session.query(DagRun).filter(DagRun.dag_id == dag_id, DagRun.queued_at >= since)
                    .order_by(DagRun.queued_at).all())
            session.expunge_all()
            return runs

    def finished(dag_id: str, run_id: str | None, since) -> DagRun | None:
        runs = [r for r in runs_since(dag_id, since) if run_id is None or r.run_id == run_id]
        bad = next((r for r in runs if r.state == "failed"), None)
        if bad is not None:
            raise RuntimeError(f"{dag_id} run {bad.run_id} failed: see its task logs in the Airflow UI")
        done = [r for r in runs if r.state == "success"]
        if done and not any(r.state in ("queued", "running") for r in runs):
            return done[-1]
        return None

    def scheduled_run(dag_id: str) -> str:
        """Unpause a cron DAG and return the run that will do the work: the scheduler's own."""
        since = timezone.utcnow()
        unpause(dag_id)
        first = wait(f"the scheduler's run of {dag_id}", lambda: runs_since(dag_id, since), SCHEDULED_RUN_GRACE)
        if first:
            say(f"{dag_id}: unpaused; the scheduler started {first[0].run_id}")
            return first[0].run_id
        with create_session() as session:
            run = trigger_dag(dag_id, triggered_by=DagRunTriggeredByType.CLI, session=session)
            run_id = run.run_id
        say(f"{dag_id}: unpaused; no scheduled run yet, triggered {run_id}")
        return run_id

    say("waiting for the dag-processor to parse the DAGs ...")
    wait("the four jianfu DAGs to be parsed", parsed)
    chain = [d for d in DAG_IDS if d in dag_ids]
    for dag_id in ASSET_DAGS:
        if dag_id in chain:
            unpause(dag_id)
    started = timezone.utcnow()
    results: dict[str, str] = {}
    for dag_id in chain:
        if dag_id in ASSET_DAGS:
            say(f"waiting for {dag_id}, scheduled by its Asset ...")
            run = wait(f"a successful run of {dag_id}", lambda d=dag_id: finished(d, None, started))
        else:
            run_id = scheduled_run(dag_id)
            run = wait(f"{dag_id} run {run_id}", lambda d=dag_id, r=run_id: finished(d, r, started))
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
    if args[:1] == ["pause"]:
        paused = pause_all()
        print("paused " + ", ".join(paused) if paused else "the jianfu DAGs are paused")
        return 0
    if args[:1] == ["states"]:
        states = dag_states()
        print("  ".join(f"{d}: {'not parsed yet' if p is None else 'paused' if p else 'on'}" for d, p in states.items()))
        return 0
    if args[:1] == ["run-chain"]:
        try:
            run_chain(timeout=float(args[1]) if len(args) > 1 else 900.0, say=lambda m: print(m, flush=True))
        except (TimeoutError, RuntimeError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0
    print("usage: python -m jianfu.demo summary | pause | states | run-chain [TIMEOUT_SECONDS]", file=sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
