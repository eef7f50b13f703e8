"""
### jianfu_report — the monthly bulletin (月度通报, SPEC.md section 17)

On day 6 of every month at 08:00 Beijing time, for the month before: writes the bulletin PDF under
`$JIANFU_HOME/reports/bulletins/`, e-mails it as an attachment to the office's list
(JIANFU_ALERT_EMAILS) and posts the headline numbers with a link to the console to the group robot.
Each month's bulletin is sent once: a re-run rewrites the PDF and only retries channels that failed.
The `period` param (YYYY-MM) of a manual run picks another month. `max_active_runs=1`: it writes
the notification ledger.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task

from jianfu.orchestration import TAGS, default_args


@dag(
    dag_id="jianfu_report",
    description="月度通报：每月6日生成上月通报并发送 / monthly bulletin on day 6 for the month before",
    schedule="0 8 6 * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,  # writes the notification ledger
    default_args=default_args(),
    params={"period": Param(None, type=["null", "string"], pattern=r"^\d{4}-\d{2}$", description="month (YYYY-MM)")},
    tags=[*TAGS, "report"],
    doc_md=__doc__,
)
def jianfu_report():
    @task
    def bulletin(params=None, logical_date=None) -> dict:
        from jianfu import orchestration
        from jianfu.report.send import period_for_run, send_bulletin

        settings = orchestration.task_settings()
        period = period_for_run(settings, logical_date, (params or {}).get("period"))
        run = send_bulletin(settings, period, require_delivery=True)
        print(run.describe())
        return {"period": run.period, "path": run.path, "delivered": run.delivered, "channels": list(run.channels)}

    bulletin()


jianfu_report()
