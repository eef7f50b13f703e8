"""The delivery road (jianfu.notify) against robots on loopback that check what real platforms check.

Quota alerts and one-off messages go to a DingTalk, WeCom or Feishu robot (tests/robots.py): each
verifies the signature and body shape as its platform does and keeps the platform's limit of 20
messages a minute. The ledger, the channels and the alerts are the real ones.
"""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update

from jianfu.alerts import run_alerts
from jianfu.config import ConfigError, Settings
from jianfu.ledger import connect, create_schema
from jianfu.ledger.delivery import webhook_posts
from jianfu.notify import EmailNotifier, LedgerNotifier, OutboxNotifier, message, retry_pending, send, store
from jianfu.notify.webhook import kind_of
from robots import Robot
from test_alerts import AGRI, COUNTY, VISITS, SmtpServer, free_port, make_settings, publish_inputs

SECRET = "SEC0123456789abcdef"


@pytest.mark.parametrize("kind", ["dingtalk", "wecom", "feishu"])
def test_alerts_reach_each_robot_once_signed_as_the_platform_checks(jianfu_env, kind):
    with Robot(kind, SECRET) as robot:
        settings = make_settings(jianfu_env, None, robot.url, JIANFU_WEBHOOK_KIND=kind, JIANFU_WEBHOOK_SECRET=SECRET)
        publish_inputs(settings, VISITS)

        first = run_alerts(settings)
        second = run_alerts(settings)

    assert [n.delivered for n in first.notifications] == [True, True]
    assert second.notifications == []
    assert robot.rejected == [] and len(robot.accepted) == 2
    texts = robot.texts()
    assert any("黄梅县农业农村局" in t and "421127-AGRI" in t for t in texts)


def test_a_wrong_secret_is_refused_by_the_robot_and_recorded_failed(jianfu_env):
    with Robot("dingtalk", SECRET) as robot:
        settings = make_settings(jianfu_env, None, robot.url, JIANFU_WEBHOOK_KIND="dingtalk",
                                 JIANFU_WEBHOOK_SECRET="not-the-secret")
        publish_inputs(settings, VISITS)

        run = run_alerts(settings)

    assert robot.rejected == ["signature", "signature"] and robot.accepted == []
    assert [(n.delivered, n.failed) for n in run.notifications] == [(False, True)] * 2
    assert "310000" in run.notifications[0].errors["webhook"]


@pytest.mark.parametrize("kind", ["dingtalk", "wecom", "feishu"])
def test_rate_limited_alerts_are_retried_next_run_and_arrive_once(jianfu_env, kind):
    with Robot(kind, SECRET) as robot:
        settings = make_settings(jianfu_env, None, robot.url, JIANFU_WEBHOOK_KIND=kind, JIANFU_WEBHOOK_SECRET=SECRET)
        publish_inputs(settings, VISITS)
        robot.mode = "rate"
        limited = run_alerts(settings)
        robot.mode = "ok"

        retried = run_alerts(settings)
        after = run_alerts(settings)

    assert [(n.delivered, n.failed) for n in limited.notifications] == [(False, False)] * 2
    assert [(n.action, n.delivered) for n in retried.notifications] == [("retry", True)] * 2
    assert after.notifications == []
    assert len(robot.accepted) == 2 and robot.rejected == ["rate", "rate"]


def test_county_text_cannot_become_a_link_or_image_in_the_robot(jianfu_env):
    planted = "[点此领取](http://evil.example/x) ![x](http://evil.example/i.png) **粗**<b>"
    visits = [*VISITS, (AGRI, "A9", planted, f"{COUNTY}100000", date(2026, 8, 1), "done")]
    with Robot("dingtalk") as robot:
        settings = make_settings(jianfu_env, None, robot.url, JIANFU_WEBHOOK_KIND="dingtalk")
        publish_inputs(settings, visits)

        run_alerts(settings)

    text = next(t for t in robot.texts() if "A9" in t)
    assert "](http" not in text and "![" not in text and "<b>" not in text and "**粗" not in text
    assert "点此领取" in text and "evil.example" in text  # shown as typed, not dropped


def test_past_twenty_a_minute_the_rest_is_folded_into_one_digest_counted_across_runs(jianfu_env):
    with Robot("wecom") as robot:
        settings = make_settings(jianfu_env, None, robot.url, JIANFU_WEBHOOK_KIND="wecom")
        engine = connect(settings.db_url)
        create_schema(engine)
        notes = [message(settings, f"通知 {n} / notice {n}", f"正文 {n}") for n in range(25)]
        with engine.begin() as conn:
            for note in notes:
                store.create(conn, "notice", note)

        first = retry_pending(settings)  # one run: 19 single messages and a digest of 6
        late = send(settings, message(settings, "第 26 条 / 26th", "正文"))  # the same minute: waits
        with engine.begin() as conn:  # a minute passes
            conn.execute(update(webhook_posts).values(posted_at=datetime.now(UTC).replace(tzinfo=None)
                                                      - timedelta(minutes=2)))
        robot.times = [t - 120 for t in robot.times]
        later = retry_pending(settings)
        engine.dispose()

    assert [o.errors for o in first.values() if not o.delivered] == [] and len(first) == 25
    assert robot.rejected == [] and len(robot.accepted) == 21
    digest = robot.texts()[19]
    folded = {n for n in range(25) if f"通知 {n} " in digest}
    single = {n for n in range(25) for t in robot.texts()[:19] if f"通知 {n} " in t}
    assert "6 条通知汇总" in digest and len(folded) == 6 and len(single) == 19 and folded | single == set(range(25))
    assert not late.delivered and "rate limit" in late.errors["webhook"]
    assert [o.delivered for o in later.values()] == [True] and "26" in robot.texts()[20]


def test_email_is_multipart_from_the_office_dated_in_shanghai_with_attachment(jianfu_env, tmp_path):
    port = free_port()
    settings = make_settings(jianfu_env, port, JIANFU_SMTP_FROM="黄冈市减负办 <jfb@hg.example>")
    pdf = tmp_path / "bulletin.pdf"
    pdf.write_bytes(b"%PDF-1.7 test")
    note = message(settings, "主题 / subject", "县里写的 <script>alert(1)</script>", attachments=(pdf,))

    with SmtpServer(port) as smtp:
        outcome = send(settings, note)
        received = smtp.inbox.messages()

    assert outcome.delivered and len(received) == 1
    mail = received[0]
    assert mail["From"].addresses[0].display_name == "黄冈市减负办"
    assert mail["Date"].datetime.utcoffset() == timedelta(hours=8)
    html = mail.get_body(("html",)).get_content()
    assert "&lt;script&gt;" in html and "<script>" not in html and "黄冈市减负办" in html
    plain = mail.get_body(("plain",)).get_content()
    assert "jfb@hg.example" in plain and "alert key" not in plain
    [attached] = list(mail.iter_attachments())
    assert attached.get_filename() == "bulletin.pdf" and attached.get_content() == b"%PDF-1.7 test"
    eml = next(settings.outbox.glob("*.eml"))
    assert email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)["From"] == mail["From"]


def test_channels_are_airflow_notifiers_the_failure_callback_takes_the_ledger_road(jianfu_env):
    port = free_port()
    settings = make_settings(jianfu_env, port)
    context = {"ti": type("TI", (), {"dag_id": "jianfu_build", "task_id": "build_warehouse", "run_id": "r1",
                                     "map_index": -1, "try_number": 3, "log_url": ""})(),
               "exception": ValueError("disk full")}

    with SmtpServer(port) as smtp:
        EmailNotifier(settings)(context)  # the Airflow callback protocol: notifier(context)
        LedgerNotifier(lambda: settings, "airflow_failure")(context)
        subjects = [m["Subject"] for m in smtp.inbox.messages()]
    OutboxNotifier(lambda: settings).notify(context)

    assert subjects == ["[jianfu] 任务失败 Task failed: jianfu_build.build_warehouse"] * 2
    assert len(list(settings.outbox.glob("*.eml"))) == 2  # the ledger road wrote one, the outbox one
    assert retry_pending(settings, "airflow_failure") == {}  # recorded and delivered: nothing left


def test_webhook_kind_is_guessed_from_the_host_and_checked(jianfu_env):
    def kind(url: str, **extra: str) -> str:
        return kind_of(Settings.from_env(dict(jianfu_env, JIANFU_WEBHOOK_URL=url, **extra)))

    assert kind("https://oapi.dingtalk.com/robot/send?access_token=t") == "dingtalk"
    assert kind("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k") == "wecom"
    assert kind("https://open.feishu.cn/open-apis/bot/v2/hook/x") == "feishu"
    assert kind("https://hooks.example/x") == "generic"
    assert kind("http://127.0.0.1:9/x", JIANFU_WEBHOOK_KIND="Feishu") == "feishu"
    with pytest.raises(ConfigError, match="JIANFU_WEBHOOK_KIND"):
        Settings.from_env(dict(jianfu_env, JIANFU_WEBHOOK_KIND="slack"))
