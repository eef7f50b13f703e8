"""
### jianfu_collection — collection status board and reminders (SPEC.md section 10)

Every morning at 08:00 Beijing time: for every county and every period, who submitted what —
accepted, late, rejected, missing or pending — as the `collection_status` table, and reminders to
counties that are missing or rejected past the due date (at most once a week per county x kind x
period) through the alert channels. The day of the board is the run's logical date (so re-running
a day reproduces that day), JIANFU_NOW when pinned, or the `as_of` param of a manual run.
`max_active_runs=1`: it writes the reminder ledger and the table.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task

from jianfu.orchestration import TAGS, default_args


@dag(
    dag_id="jianfu_collection",
    description="每天8点（北京时间）更新报送状态并催报 — daily 08:00 Asia/Shanghai: collection status board and reminders",
    schedule="0 8 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,  # writes the reminder ledger and collection_status
    default_args=default_args(),
    params={
        "as_of": Param(None, type=["null", "string"], format="date", description="board date (YYYY-MM-DD)"),
        "send_reminders": Param(True, type="boolean"),
    },
    tags=[*TAGS, "collection"],
    doc_md=__doc__,
)
def jianfu_collection():
    @task
    def status_board(params=None, logical_date=None) -> dict:
        from jianfu import orchestration

        params = params or {}
        settings = orchestration.task_settings()
        as_of = orchestration.as_of_date(settings, logical_date, params.get("as_of"))
        return orchestration.collection_status(settings, as_of, bool(params.get("send_reminders", True)))

    status_board()


jianfu_collection()
