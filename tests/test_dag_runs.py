"""Every DAG run through Airflow (`dag.test()`) on the pilot sample gives the CLI's warehouse.

One sample is generated and copied, byte for byte with its modification times, into the same
JIANFU_HOME path twice: first the CLI chain runs there (init, ingest, build, alerts, status), its
home is moved aside, then the four DAGs run there through `dag.test()` on a SQLite metadata
database under a temporary AIRFLOW_HOME. Same path, same pinned clock: every table must hold the
same rows, ignoring timestamps of when things ran. The runs also check the Asset contract: the
ingest run records an accepted-submissions event, a second ingest with nothing new records none.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from airflow_helpers import (
    AIRFLOW,
    DAG_IDS,
    PINNED_NOW,
    ROOT,
    airflow_env,
    generate_sample,
    run,
    run_python,
    warehouse_snapshot,
)

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

RUN_DAGS = """
import json, time
from airflow.dag_processing.dagbag import DagBag
from airflow.models.asset import AssetEvent
from airflow.settings import Session

bag = DagBag(dag_folder=DAGS)
assert not bag.import_errors, bag.import_errors

def events():
    session = Session()
    try:
        return [[e.asset.uri, e.extra] for e in session.query(AssetEvent).order_by(AssetEvent.id)]
    finally:
        session.close()

out = {}
for label in ORDER:
    started = time.monotonic()
    run = bag.dags[label.split(":")[0]].test()
    out[label] = {
        "state": str(run.state),
        "tasks": {f"{ti.task_id}[{ti.map_index}]": str(ti.state) for ti in run.get_task_instances()},
        "seconds": round(time.monotonic() - started, 1),
        "events": events(),
    }
print("RESULT:" + json.dumps(out, default=str))
"""

ORDER = ["jianfu_ingest", "jianfu_build", "jianfu_alerts", "jianfu_collection", "jianfu_ingest:again"]


def _cli_chain(home: Path) -> None:
    """The CLI path, as an analyst would run it by hand."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JIANFU_", "AIRFLOW"))}
    env.update(JIANFU_HOME=str(home), JIANFU_NOW=PINNED_NOW)
    jianfu = str(ROOT / ".venv" / "bin" / "jianfu") if (ROOT / ".venv" / "bin" / "jianfu").exists() else "jianfu"
    for args in (["init"], ["ingest"], ["build"], ["alerts"], ["status", "--send-reminders"]):  # as the DAG does
        run([jianfu, *args], env, timeout=600)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("dag_runs")
    pristine, home = tmp / "sample", tmp / "home"
    generate_sample(pristine)

    shutil.copytree(pristine, home)  # copy2 keeps mtimes: the same receipt order
    _cli_chain(home)
    home.rename(tmp / "cli_home")

    shutil.copytree(pristine, home)
    # One quick retry: a failure shows up in seconds, not after the production backoff.
    env = airflow_env(tmp / "airflow", JIANFU_HOME=str(home), JIANFU_NOW=PINNED_NOW,
                      JIANFU_TASK_RETRIES="1", JIANFU_RETRY_DELAY_SECONDS="1")
    run([AIRFLOW, "db", "migrate"], env)
    result = run_python(f"DAGS = {str(ROOT / 'dags')!r}\nORDER = {ORDER!r}\n" + RUN_DAGS, env, timeout=900)
    return {"runs": result, "airflow_home": home, "cli_home": tmp / "cli_home"}


def test_every_dag_run_succeeds(runs: dict) -> None:
    for label in ORDER:
        assert runs["runs"][label]["state"].endswith("success"), (label, runs["runs"][label])
    # jianfu_report sends mail and robot messages: it runs against its servers in test_report_dag.py.
    assert {label.split(":")[0] for label in ORDER} == set(DAG_IDS) - {"jianfu_report"}


def test_ingest_is_mapped_over_county_batches(runs: dict) -> None:
    tasks = runs["runs"]["jianfu_ingest"]["tasks"]
    batches = [k for k in tasks if k.startswith("ingest_batch[")]
    assert len(batches) > 1, tasks
    assert all(tasks[b].endswith("success") for b in batches)


def test_assets_are_emitted_only_for_new_accepted_files(runs: dict) -> None:
    first = runs["runs"]["jianfu_ingest"]
    accepted = [e for e in first["events"] if e[0].startswith("jianfu://submissions/accepted")]
    assert len(accepted) == 1 and accepted[0][1]["accepted"] > 0
    build = runs["runs"]["jianfu_build"]
    assert any(e[0].startswith("jianfu://warehouse") for e in build["events"])
    again = runs["runs"]["jianfu_ingest:again"]
    assert again["tasks"]["announce[-1]"].endswith("skipped")
    assert again["events"] == runs["runs"]["jianfu_collection"]["events"], "nothing new, no event"


def test_airflow_chain_gives_the_cli_warehouse(runs: dict) -> None:
    via_airflow = warehouse_snapshot(runs["airflow_home"] / "warehouse")
    via_cli = warehouse_snapshot(runs["cli_home"] / "warehouse")
    assert sorted(via_airflow) == sorted(via_cli)
    for expected in ("form_counts", "work_groups", "inspections", "submissions", "flags", "burden",
                     "quota_usage", "alerts", "collection_status"):
        assert expected in via_cli, expected
        assert via_cli[expected], f"{expected} is empty on the CLI path"
    for table in via_cli:
        assert via_airflow[table] == via_cli[table], f"table {table} differs"


def test_alerts_reach_the_outbox(runs: dict) -> None:
    outbox = runs["airflow_home"] / "outbox"
    assert sorted(p.name for p in outbox.glob("*.eml")), "quota alerts and reminders are written as .eml"
    cli_count = len(list((runs["cli_home"] / "outbox").glob("*.eml")))
    assert len(list(outbox.glob("*.eml"))) == cli_count


FAIL_RUN = """
import json
from airflow.dag_processing.dagbag import DagBag
run = DagBag(dag_folder=DAGS).dags["jianfu_ingest"].test()
print("RESULT:" + json.dumps({"state": str(run.state),
                              "tasks": {ti.task_id: str(ti.state) for ti in run.get_task_instances()}}))
"""


def test_a_failed_task_alerts_through_the_channels(tmp_path: Path) -> None:
    """A task that fails for good sends the failure alert (here: the always-on .eml outbox)."""
    import email
    from email.policy import default

    home = tmp_path / "home"
    landing = home / "landing" / "form_counts"
    landing.mkdir(parents=True)
    (landing / "421127_2026-10.csv").write_text("county_code,period\n421127,2026-10\n", encoding="utf-8")
    os.utime(landing / "421127_2026-10.csv", (time.time() - 3600, time.time() - 3600))  # landed an hour ago
    # No reference data (units.csv): planning the ingest fails with a configuration error.
    env = airflow_env(tmp_path / "airflow", JIANFU_HOME=str(home), JIANFU_NOW=PINNED_NOW,
                      JIANFU_TASK_RETRIES="0")
    run([AIRFLOW, "db", "migrate"], env)
    result = run_python(f"DAGS = {str(ROOT / 'dags')!r}\n" + FAIL_RUN, env, timeout=300)
    assert result["state"].endswith("failed"), result
    assert result["tasks"]["plan"].endswith("failed"), result
    messages = [email.message_from_bytes(p.read_bytes(), policy=default) for p in (home / "outbox").glob("*.eml")]
    subjects = [str(m["Subject"]) for m in messages]
    assert any("jianfu_ingest.plan" in s for s in subjects), subjects
    body = messages[0].get_body(preferencelist=("plain",)).get_content()
    assert "units.csv" in body and "clear the task" in body
