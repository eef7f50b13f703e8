"""Quota alerts (SPEC.md section 9) against a real SMTP server and a real HTTP server on loopback.

The warehouse inputs (inspections, flags, quota_usage) are hand-built here, as the build would
publish them; the ledger, the channels and the `alerts` export are the real ones.
"""

from __future__ import annotations

import email
import email.policy
import socket
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from jianfu.alerts import run_alerts
from jianfu.config import ConfigError, Settings
from jianfu.ledger import connect
from jianfu.ledger.delivery import notification_attempts, notifications
from jianfu.warehouse.publish import Warehouse
from jianfu.warehouse.views import connect as views
from jianfu.warehouse.views import file_schema
from robots import JsonEndpoint

COUNTY = "421127"
AGRI, EDU = "421127-AGRI", "421127-EDU"


# ----------------------------------------------------------------------------- loopback servers
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """aiosmtpd handler keeping every envelope received."""

    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        self.envelopes.append(envelope)
        return "250 OK"

    def messages(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(e.content, policy=email.policy.default) for e in self.envelopes]


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=port)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


class Webhook(JsonEndpoint):
    """A robot that accepts anything: records POST bodies and replies with `answer`."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.answer: dict = {"errcode": 0, "errmsg": "ok"}
        super().__init__(self._record)
        self.url = f"{self.base}/robot/send?access_token=t"

    def _record(self, path: str, body: dict) -> dict:
        self.bodies.append(body)
        return self.answer


@pytest.fixture
def webhook():
    with Webhook() as hook:
        yield hook


# ----------------------------------------------------------------------------- warehouse inputs
def write_reference(ref: Path) -> None:
    ref.mkdir(parents=True, exist_ok=True)
    (ref / "units.csv").write_text(
        "unit_code,unit_name,level,parent_code,contact_email\n"
        f"{COUNTY}000000,黄梅县,county,,hm@county.example\n"
        f"{COUNTY}100000,黄梅镇,township,{COUNTY}000000,\n"
        f"{COUNTY}101000,孔垄镇,township,{COUNTY}000000,\n"
        f"{COUNTY}100201,东门村,village,{COUNTY}100000,\n",
        encoding="utf-8")
    (ref / "departments.csv").write_text(
        "dept_code,dept_name,contact_email\n"
        f"{AGRI},黄梅县农业农村局,agri@county.example\n"
        f"{EDU},黄梅县教育局,\n",
        encoding="utf-8")
    (ref / "quotas.csv").write_text(f"dept_code,year,max_inspection_items\n{AGRI},2026,2\n{EDU},2026,5\n",
                                    encoding="utf-8")


#: (dept, item_id, topic, target, date, status)
VISITS = [
    (AGRI, "A1", "高标准农田建设检查", f"{COUNTY}100000", date(2026, 3, 2), "done"),
    (AGRI, "A1", "高标准农田建设检查", f"{COUNTY}101000", date(2026, 3, 9), "done"),
    (AGRI, "A2", "秸秆禁烧督查", f"{COUNTY}100201", date(2026, 6, 1), "done"),
    (AGRI, "A3", "农机安全考核", f"{COUNTY}100000", date(2026, 12, 1), "planned"),
    (AGRI, "A4", "已取消的检查", f"{COUNTY}100000", date(2026, 5, 1), "cancelled"),
    (EDU, "E1", "校园安全检查", f"{COUNTY}100000", date(2026, 4, 1), "done"),
    (EDU, "E2", "控辍保学督查", f"{COUNTY}101000", date(2026, 5, 1), "done"),
    (EDU, "E3", "食堂检查", f"{COUNTY}101000", date(2026, 6, 1), "done"),
    (EDU, "E4", "课后服务考核", f"{COUNTY}100201", date(2026, 9, 1), "planned"),
]
QUOTAS = {AGRI: 2, EDU: 5}


def partition_file(kind: str, columns: dict) -> pa.Table:
    """A partition file of a submission table: the columns given, nulls for the others."""
    schema = file_schema(kind)
    rows = len(next(iter(columns.values())))
    return pa.table({f.name: pa.array(columns.get(f.name, [None] * rows), f.type) for f in schema}, schema=schema)


def publish_inputs(settings: Settings, visits: list[tuple]) -> None:
    """inspections, quota_usage and flags as the build publishes them (flags by the SPEC 8 rule)."""
    wh = Warehouse(settings.warehouse)
    wh.publish("inspections", {f"county_code={COUNTY}/year=2026": {"part-0.parquet": partition_file("inspections", {
        "item_id": [v[1] for v in visits],
        "dept_code": [v[0] for v in visits],
        "category": ["inspection"] * len(visits),
        "topic": [v[2] for v in visits],
        "target_unit_code": [v[3] for v in visits],
        "planned_date": pa.array([v[4] for v in visits], pa.date32()),
        "actual_date": pa.array([v[4] if v[5] == "done" else None for v in visits], pa.date32()),
        "status": [v[5] for v in visits],
        "in_plan": [True] * len(visits),
        "submission_id": ["s1"] * len(visits),
        "eff_date": pa.array([v[4] for v in visits], pa.date32()),
    })}}, only={f"county_code={COUNTY}/year=2026"})
    usage, flags = [], []
    for dept, quota in QUOTAS.items():
        used = len({v[1] for v in visits if v[0] == dept and v[5] != "cancelled"})
        status = "exceeded" if used > quota else ("warning" if used >= -(-8 * quota // 10) else "ok")
        usage.append((dept, 2026, quota, used, used / quota, status))
        if status != "ok":
            rule = "DEPT_QUOTA_EXCEEDED" if status == "exceeded" else "DEPT_QUOTA_WARNING"
            flags.append((f"f-{dept}", rule, "critical" if status == "exceeded" else "warning", dept, used, quota))
    wh.publish_table("quota_usage", pa.table({
        "dept_code": [u[0] for u in usage], "year": pa.array([u[1] for u in usage], pa.int32()),
        "quota": [u[2] for u in usage], "used": [u[3] for u in usage], "ratio": [u[4] for u in usage],
        "status": [u[5] for u in usage]}))
    wh.publish_table("flags", pa.table({
        "flag_id": [f[0] for f in flags], "rule": [f[1] for f in flags], "severity": [f[2] for f in flags],
        "county_code": pa.array([None] * len(flags), pa.string()), "period": ["2026"] * len(flags),
        "unit_code": pa.array([None] * len(flags), pa.string()), "dept_code": [f[3] for f in flags],
        "subject": [f[3] for f in flags], "metric": [float(f[4]) for f in flags],
        "threshold": [float(f[5]) for f in flags], "detail": [""] * len(flags)}))


def make_settings(env: dict[str, str], smtp_port: int | None = None, webhook_url: str | None = None,
                  **extra: str) -> Settings:
    values = dict(env, JIANFU_ALERT_EMAILS="office@jianfu.example, lead@jianfu.example", **extra)
    if smtp_port:
        values["JIANFU_SMTP_URL"] = f"smtp://127.0.0.1:{smtp_port}"
    if webhook_url:
        values["JIANFU_WEBHOOK_URL"] = webhook_url
    settings = Settings.from_env(values)
    write_reference(settings.reference)
    return settings


def alerts_rows(settings: Settings) -> list[dict]:
    con = views(settings.warehouse, tables=["alerts"])
    return [dict(zip([d[0] for d in con.description], row, strict=False)) for row in
            con.execute("SELECT * FROM alerts ORDER BY alert_key, used").fetchall()]


# ----------------------------------------------------------------------------- tests
def test_each_alert_is_delivered_once(jianfu_env, webhook):
    port = free_port()
    settings = make_settings(jianfu_env, port, webhook.url)
    publish_inputs(settings, VISITS)
    with SmtpServer(port) as smtp:
        first = run_alerts(settings)
        second = run_alerts(settings)
        assert len(smtp.inbox.envelopes) == 2
    assert sorted((n.rule, n.dept, n.used, n.quota, n.delivered) for n in first.notifications) == [
        ("DEPT_QUOTA_EXCEEDED", AGRI, 3, 2, True), ("DEPT_QUOTA_WARNING", EDU, 4, 5, True)]
    assert second.notifications == [] and "nothing to notify" in second.describe()
    assert len(webhook.bodies) == 2

    by_subject = {m["Subject"]: (m, e) for m, e in zip(smtp.inbox.messages(), smtp.inbox.envelopes, strict=False)}
    exceeded = next((m, e) for s, (m, e) in by_subject.items() if "超额" in s)
    message, envelope = exceeded
    subject = str(message["Subject"])  # department, status and year in the inbox line itself
    assert "黄梅县农业农村局（421127-AGRI）2026年度督检考事项已超出配额" in subject and "已用 3 项 / 配额 2 项" in subject
    assert message["Date"].datetime.utcoffset().total_seconds() == 8 * 3600
    assert "alert key" not in message.get_body(("plain",)).get_content()
    assert set(envelope.rcpt_tos) == {"office@jianfu.example", "lead@jianfu.example", "agri@county.example"}
    text = message.get_body(("plain",)).get_content()
    assert text.index("黄梅县农业农村局") < text.index("Department:")  # Chinese first
    for needle in ("配额：2 项", "已用：3 项", "A1 高标准农田建设检查", "2026-03-02~2026-03-09",
                   "黄梅镇(421127100000)", "A3 农机安全考核", "暂停新增督检考事项", "What to do", "2026"):
        assert needle in text, needle
    assert "A4" not in text  # cancelled visits are not counted
    warning = next(m for s, (m, _) in by_subject.items() if "预警" in s)
    assert warning["To"].addresses and "E4 课后服务考核" in warning.get_body(("plain",)).get_content()

    hook = next(b for b in webhook.bodies if "超" in b["markdown"]["title"])
    assert hook["msgtype"] == "markdown" and "421127-AGRI" in hook["markdown"]["text"]

    emls = sorted(settings.outbox.glob("*.eml"))
    assert len(emls) == 2
    parsed = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in emls]
    assert all("减负" in m.get_body(("plain",)).get_content() for m in parsed)
    assert any("高标准农田建设检查" in m.get_body(("plain",)).get_content() for m in parsed)
    assert not list(settings.outbox.glob(".*"))  # no temporary files left

    rows = alerts_rows(settings)
    assert [(r["alert_key"], r["used"], r["quota"], r["delivered"], r["channels"]) for r in rows] == [
        ("DEPT_QUOTA_EXCEEDED|421127-AGRI|2026", 3, 2, True, "outbox,smtp,webhook"),
        ("DEPT_QUOTA_WARNING|421127-EDU|2026", 4, 5, True, "outbox,smtp,webhook"),
    ]
    assert all(r["notified_at"] is not None for r in rows)


@pytest.mark.parametrize("ledger", ["sqlite", "postgresql"])
def test_smtp_down_then_back_delivers_exactly_once(jianfu_env, webhook, ledger, request):
    port = free_port()  # nothing listens here until the server starts
    extra = {"JIANFU_DB_URL": request.getfixturevalue("pg_url")} if ledger == "postgresql" else {}
    settings = make_settings(jianfu_env, port, webhook.url, **extra)
    publish_inputs(settings, VISITS)

    down = run_alerts(settings)
    assert [n.delivered for n in down.notifications] == [False, False]
    assert all("smtp" in n.errors for n in down.notifications)
    assert "NOT delivered" in down.describe()
    assert len(webhook.bodies) == 2 and len(list(settings.outbox.glob("*.eml"))) == 2
    assert [r["delivered"] for r in alerts_rows(settings)] == [False, False]
    engine = connect(settings.db_url)
    with engine.connect() as conn:
        failed = conn.execute(select(notification_attempts).where(
            notification_attempts.c.channel == "smtp")).mappings().all()
        assert [a["ok"] for a in failed] == [False, False] and all(a["error"] for a in failed)

    with SmtpServer(port) as smtp:
        back = run_alerts(settings)
        again = run_alerts(settings)
        assert len(smtp.inbox.envelopes) == 2
    assert [(n.action, n.delivered) for n in back.notifications] == [("retry", True), ("retry", True)]
    assert again.notifications == []
    assert len(webhook.bodies) == 2  # channels that already succeeded are not sent again
    assert len(list(settings.outbox.glob("*.eml"))) == 2
    rows = alerts_rows(settings)
    assert [(r["delivered"], r["channels"]) for r in rows] == [(True, "outbox,smtp,webhook")] * 2
    with engine.connect() as conn:
        states = conn.execute(select(notifications.c.state, notifications.c.attempts)).all()
    assert sorted(states) == [("delivered", 2), ("delivered", 2)]
    engine.dispose()


def test_exceeded_renotifies_when_used_grows_warning_does_not(jianfu_env):
    port = free_port()
    settings = make_settings(jianfu_env, port)
    publish_inputs(settings, VISITS)
    with SmtpServer(port) as smtp:
        run_alerts(settings)
        more = VISITS + [
            (AGRI, "A5", "畜禽养殖检查", f"{COUNTY}101000", date(2026, 7, 1), "done"),
            (EDU, "E5", "教材征订检查", f"{COUNTY}100000", date(2026, 7, 1), "done"),
        ]
        publish_inputs(settings, more)  # AGRI 3 -> 4 (exceeded), EDU 4 -> 5 (still warning)
        grown = run_alerts(settings)
        assert [(n.rule, n.used) for n in grown.notifications] == [("DEPT_QUOTA_EXCEEDED", 4)]
        assert run_alerts(settings).notifications == []
        publish_inputs(settings, VISITS)  # back to 3: below the last notified 4, no new alert
        assert run_alerts(settings).notifications == []
        assert len(smtp.inbox.envelopes) == 3
    rows = alerts_rows(settings)
    assert [(r["rule"], r["used"]) for r in rows] == [
        ("DEPT_QUOTA_EXCEEDED", 3), ("DEPT_QUOTA_EXCEEDED", 4), ("DEPT_QUOTA_WARNING", 4)]


def test_undelivered_alert_with_new_numbers_is_superseded(jianfu_env):
    port = free_port()
    settings = make_settings(jianfu_env, port)
    publish_inputs(settings, VISITS)
    assert not any(n.delivered for n in run_alerts(settings).notifications)  # SMTP down
    publish_inputs(settings, VISITS + [(AGRI, "A5", "畜禽养殖检查", f"{COUNTY}101000", date(2026, 7, 1), "done")])
    with SmtpServer(port) as smtp:
        run = run_alerts(settings)
        subjects = sorted(m["Subject"] for m in smtp.inbox.messages())
    # the stale AGRI alert (used 3) is not sent; the current one (used 4) is, and EDU is retried
    assert len(subjects) == 2 and any("已用 4 项" in s for s in subjects) and not any("已用 3 项" in s for s in subjects)
    assert sorted((n.dept, n.used, n.action) for n in run.notifications) == [
        (AGRI, 4, "new"), (EDU, 4, "retry")]
    assert [(r["used"], r["delivered"]) for r in alerts_rows(settings) if r["rule"] == "DEPT_QUOTA_EXCEEDED"] == [
        (3, False), (4, True)]


def test_dry_run_sends_and_writes_nothing(jianfu_env, webhook):
    settings = make_settings(jianfu_env, None, webhook.url)
    publish_inputs(settings, VISITS)
    run = run_alerts(settings, dry_run=True)
    assert len(run.notifications) == 2 and "dry run" in run.describe()
    assert webhook.bodies == [] and not settings.outbox.exists()
    assert not Warehouse(settings.warehouse).exists("alerts")
    real = run_alerts(settings)  # the webhook and outbox are the only channels: delivered
    assert [n.delivered for n in real.notifications] == [True, True]
    assert run_alerts(settings, dry_run=True).notifications == []


def test_webhook_refusal_is_failed_for_good_and_a_rate_limit_is_retried(jianfu_env, webhook):
    settings = make_settings(jianfu_env, None, webhook.url, JIANFU_WEBHOOK_KIND="dingtalk")
    publish_inputs(settings, VISITS)
    webhook.answer = {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}
    limited = run_alerts(settings)
    assert [(n.delivered, n.failed) for n in limited.notifications] == [(False, False)] * 2
    assert "130101" in limited.notifications[0].errors["webhook"] and "will retry" in limited.describe()

    webhook.answer = {"errcode": 310000, "errmsg": "keywords not in content"}
    refused = run_alerts(settings)
    assert [(n.action, n.delivered, n.failed) for n in refused.notifications] == [("retry", False, True)] * 2
    assert "310000" in refused.notifications[0].errors["webhook"] and "FAILED" in refused.describe()

    webhook.answer = {"errcode": 0}
    assert run_alerts(settings).notifications == []  # failed for good: recorded, not sent again
    assert len(webhook.bodies) == 4
    assert [r["delivered"] for r in alerts_rows(settings)] == [False, False]


def test_missing_flags_and_bad_smtp_url_are_one_line_errors(jianfu_env):
    settings = make_settings(jianfu_env)
    with pytest.raises(ConfigError, match="jianfu build"):
        run_alerts(settings)
    bad = make_settings(jianfu_env, JIANFU_SMTP_URL="mail.example:25")
    with pytest.raises(ConfigError, match="JIANFU_SMTP_URL"):
        run_alerts(bad)
