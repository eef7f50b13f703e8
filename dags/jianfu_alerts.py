"""
### jianfu_alerts — department inspection quota alerts (SPEC.md section 9)

Runs whenever `jianfu_build` updates the Asset `jianfu://warehouse`. It compares every
department's inspection items in force with its yearly quota and notifies — e-mail, webhook robot
and the `.eml` outbox — when a quota is exceeded or about to be. Each alert key is notified once
(again for an exceeded quota when usage grows); failed deliveries are retried on the next run, so
re-running sends nothing twice. `max_active_runs=1`: it writes the ledger and the `alerts` table.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from jianfu.orchestration import TAGS, WAREHOUSE, default_args


@dag(
    dag_id="jianfu_alerts",
    description="仓库更新后检查督检考配额并通知 — after each warehouse update: check inspection quotas, notify departments",
    schedule=[WAREHOUSE],
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,  # writes the alert ledger and the alerts table
    default_args=default_args(),
    tags=[*TAGS, "alerts"],
    doc_md=__doc__,
)
def jianfu_alerts():
    @task
    def quota_alerts() -> dict:
        from jianfu import orchestration

        return orchestration.run_quota_alerts(orchestration.task_settings())

    quota_alerts()


jianfu_alerts()
