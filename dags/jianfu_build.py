"""
### jianfu_build — publish the Parquet warehouse (SPEC.md sections 7-8)

Runs whenever `jianfu_ingest` updates the Asset `jianfu://submissions/accepted`, i.e. when new
versions came into force. It rebuilds what changed (the build is incremental), runs the flag
rules, the burden index and quota usage, and publishes each table atomically. It then updates the
Asset `jianfu://warehouse`, which schedules `jianfu_alerts`.

The build is the warehouse's single publisher: `max_active_runs=1`, and it is one task (it is
not mapped — per-county work is spread at ingest time). Several accepted-submission events that
arrive while a build runs are coalesced into the next run. Trigger it by hand (conf `{"full": true}`)
to rebuild everything from the ledger.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task

from jianfu.orchestration import ACCEPTED_SUBMISSIONS, TAGS, WAREHOUSE, default_args


@dag(
    dag_id="jianfu_build",
    description="新的报送被接收后更新数据仓库与问题标记 — on newly accepted files: warehouse, flags, burden, quota usage",
    schedule=[ACCEPTED_SUBMISSIONS],
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,  # single publisher of the warehouse
    default_args=default_args(),
    params={"full": Param(False, type="boolean", description="rebuild every table from the ledger")},
    tags=[*TAGS, "warehouse"],
    doc_md=__doc__,
)
def jianfu_build():
    @task(outlets=[WAREHOUSE])
    def build_warehouse(params=None) -> dict:
        from jianfu import orchestration

        full = bool((params or {}).get("full", False))
        return orchestration.build_warehouse(orchestration.task_settings(), full=full)

    build_warehouse()


jianfu_build()
