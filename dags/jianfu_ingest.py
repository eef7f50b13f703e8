"""
### jianfu_ingest — receive county submissions (SPEC.md sections 4-6)

Every 15 minutes: find the files counties dropped under `$JIANFU_HOME/landing/<kind>/`, archive
and validate them with Great Expectations, and put accepted versions in force in the ledger.

* **plan** lists the landed files and cuts them into batches of whole counties (all versions of a
  county x kind x period stay in one batch, in receipt order);
* **ingest_batch** is mapped over the batches, so Celery workers share the work; the ledger
  serialises version decisions, so batches may run at once;
* **announce** updates the Asset `jianfu://submissions/accepted` only when this run accepted at
  least one new file (otherwise it is skipped, so `jianfu_build` does not run for nothing);
* **summarize** totals the run; it fails the run if a batch failed;
* **data_docs** renders the GX Data Docs of the run's validation results, a task of its own so a
  rendering problem never touches an ingest.

Files already received are skipped, so a run with nothing new costs one directory listing.
A polling schedule is used instead of a sensor: it needs no worker slot or triggerer while idle,
survives restarts, and works the same in the demo and on Celery. Trigger it by hand for an
immediate run. Settings: Airflow Connections/Variables, else the JIANFU_* environment
(see `jianfu.orchestration`).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from jianfu.orchestration import ACCEPTED_SUBMISSIONS, TAGS, default_args


@dag(
    dag_id="jianfu_ingest",
    description="每15分钟接收各县报送文件并校验 — every 15 minutes: receive, validate and put in force the counties' files",
    schedule="*/15 * * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,  # it writes the ledger and the staging area
    default_args=default_args(),
    tags=[*TAGS, "ingest"],
    doc_md=__doc__,
)
def jianfu_ingest():
    @task
    def plan() -> list[list[str]]:
        from jianfu import orchestration

        return orchestration.plan_ingest(orchestration.task_settings())

    @task(max_active_tis_per_dagrun=8, show_return_value_in_logs=False)  # mapped: default_args do not reach it
    def ingest_batch(paths: list[str]) -> dict:
        from jianfu import orchestration

        return orchestration.ingest_batch(orchestration.task_settings(), paths)

    @task(outlets=[ACCEPTED_SUBMISSIONS], trigger_rule="all_done")
    def announce(results: list[dict | None], *, outlet_events=None) -> dict:
        from airflow.sdk.exceptions import AirflowSkipException

        from jianfu.orchestration import merge_ingest_results

        totals = merge_ingest_results(results)
        if totals["accepted"] == 0:
            raise AirflowSkipException("no new accepted submission: the warehouse is up to date")
        outlet_events[ACCEPTED_SUBMISSIONS].extra = {
            "accepted": totals["accepted"],
            "by_status": totals["by_status"],
        }
        return {"accepted": totals["accepted"], "by_status": totals["by_status"]}

    @task
    def summarize(results: list[dict]) -> dict:
        from jianfu import orchestration

        return orchestration.finish_ingest(results)

    @task(trigger_rule="all_done")
    def data_docs(results: list[dict | None]) -> None:
        from jianfu import orchestration

        if orchestration.merge_ingest_results(results)["files"]:
            orchestration.refresh_data_docs(orchestration.task_settings())

    results = ingest_batch.expand(paths=plan())
    announce(results)
    summarize(results)
    data_docs(results)


jianfu_ingest()
