"""`jianfu_report` under Airflow's own `dag.test()`: the bulletin reaches every channel exactly once.

The pilot sample is built into a warehouse by the CLI path; the DAG then runs twice (the second
run is a re-run of the same month) against a real SMTP server and a DingTalk robot on loopback
that checks the 加签 signature. Airflow runs in a subprocess with its own AIRFLOW_HOME.
"""

from __future__ import annotations

import email
import email.policy

import pytest

from airflow_helpers import (
    AIRFLOW,
    PINNED_NOW,
    ROOT,
    airflow_env,
    cli_warehouse,
    generate_sample,
    run,
    run_python,
)
from robots import Robot
from test_alerts import SmtpServer, free_port

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

SECRET = "SECdagtest"

RUN_TWICE = """
import json
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=DAGS)
assert not bag.import_errors, bag.import_errors
out = []
for _ in range(2):
    dag_run = bag.dags["jianfu_report"].test()
    out.append({"state": str(dag_run.state),
                "tasks": {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}})
print("RESULT:" + json.dumps(out))
"""


def test_jianfu_report_sends_through_every_channel_exactly_once(tmp_path):
    home = tmp_path / "home"
    generate_sample(home)
    cli_warehouse(home)
    run([str(ROOT / ".venv" / "bin" / "jianfu"), "status"],
        {"PATH": "/usr/bin:/bin", "JIANFU_HOME": str(home), "JIANFU_NOW": PINNED_NOW})
    port = free_port()
    with Robot("dingtalk", SECRET) as robot, SmtpServer(port) as smtp:
        env = airflow_env(tmp_path / "airflow", JIANFU_HOME=str(home), JIANFU_NOW=PINNED_NOW,
                          JIANFU_TASK_RETRIES="0", JIANFU_SMTP_URL=f"smtp://127.0.0.1:{port}",
                          JIANFU_ALERT_EMAILS="office@hg.example.cn", JIANFU_SMTP_FROM="黄冈市减负办 <jfb@hg.example.cn>",
                          JIANFU_WEBHOOK_URL=robot.url, JIANFU_WEBHOOK_KIND="dingtalk", JIANFU_WEBHOOK_SECRET=SECRET)
        run([AIRFLOW, "db", "migrate"], env)

        runs = run_python(f"DAGS = {str(ROOT / 'dags')!r}\n" + RUN_TWICE, env, timeout=900)
        mails = smtp.inbox.messages()

    assert [r["state"].endswith("success") for r in runs] == [True, True], runs
    assert len(mails) == 1 and len(robot.accepted) == 1 and robot.rejected == []
    assert [a.get_filename() for a in mails[0].iter_attachments()] == ["bulletin-2026-10.pdf"]
    assert (home / "reports" / "bulletins" / "bulletin-2026-10.pdf").is_file()
    emls = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            for p in (home / "outbox").glob("*.eml")]
    assert sum("月度通报" in str(m["Subject"]) for m in emls) == 1
    assert "2026年10月" in robot.texts()[0]
