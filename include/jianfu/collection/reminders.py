"""Reminders to counties that are missing or rejected past due (SPEC.md section 10).

One message per county per run lists every overdue cell of that county that is due a reminder
(a county missing three months of three kinds gets one e-mail, not nine); the rate limit is kept
per county x kind x period: a cell is reminded at most once per `reminder_interval_days`, counted
from the previous reminder's creation, and never while an earlier reminder for it is still
undelivered (that one is retried instead). A pending reminder whose cells have all been resolved
since (the county submitted) is withdrawn, not sent.

Recipients: the county's contact_email (units.csv county row) and the office list. The channels,
ledger records and retry rules are those of every message (jianfu.notify.store).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection, Engine

from ..config import Settings
from ..escape import markdown as md
from ..ledger import as_naive_utc
from ..ledger.delivery import PENDING, WITHDRAWN, notifications, reminders
from ..notify import Notification, store
from ..reference import Reference
from ..schema import KINDS
from .board import REJECTED, Cell

TOPIC = "reminder"


@dataclass
class ReminderNotice:
    county_code: str
    county_name: str
    cells: list[tuple[str, str]]  # (kind, period)
    delivered: bool
    channels: tuple[str, ...]
    action: str  # new | retry
    errors: dict[str, str] = field(default_factory=dict)


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(74255109)"))


def _status_zh(cell: Cell) -> str:
    return "已报送但被退回" if cell.status == REJECTED else "未报送"


def _status_en(cell: Cell) -> str:
    return "submitted but rejected" if cell.status == REJECTED else "not received"


def reason_zh(cell: Cell) -> str | None:
    """The first error of a rejected file in Chinese, from its report (the ledger keeps English only)."""
    if not cell.report_path:
        return None
    try:
        report = Path(cell.report_path).with_suffix(".json")  # the ledger names the CSV; the JSON is beside it
        problems = json.loads(report.read_text(encoding="utf-8")).get("problems", [])
    except (OSError, ValueError):
        return None
    return next((p["message_zh"] for p in problems if p.get("severity") == "critical" and p.get("message_zh")), None)


def _rejected_zh(cell: Cell) -> str:
    zh = reason_zh(cell)
    if zh:
        return f"；退回原因：{zh}"
    return "；退回原因见退回报告" if cell.status == REJECTED else ""


def message(settings: Settings, reference: Reference, county_code: str, cells: list[Cell],
            created: datetime) -> Notification:
    """The bilingual reminder for one county: each overdue submission, its due date and what to do."""
    name = reference.county_name(county_code)
    unit = reference.units.get(county_code + "000000")
    recipients = [unit.contact_email] if unit and unit.contact_email else []
    recipients += [e for e in settings.alert_emails if e not in recipients]
    zh_lines = [f"  {n}. {KINDS[c.kind].zh}（{c.kind}）{c.period}：{_status_zh(c)}，截止日期 {c.due_date.isoformat()}"
                + _rejected_zh(c) for n, c in enumerate(cells, 1)]
    en_lines = [f"  {n}. {c.kind} {c.period}: {_status_en(c)}, due {c.due_date.isoformat()}"
                + (f"; rejected because: {c.reason}" if c.reason else "") for n, c in enumerate(cells, 1)]
    subject = (f"【报送提醒】{name}（{county_code}）{len(cells)} 项数据逾期未报或被退回 / "
               f"Collection reminder: {len(cells)} submission(s) overdue for {county_code}")
    body = "\n".join([
        f"{name}减负工作联系人：",
        "",
        "以下数据已过报送截止日期，尚未收到合格的报送文件：",
        *zh_lines,
        "",
        "请尽快按模板报送；被退回的文件请先查看退回报告（JSON/CSV，逐行说明问题所在），修改后重新报送。",
        "已按时报送的，请忽略本提醒并与县减负办核对。",
        "",
        "-" * 60,
        "",
        f"To the burden-reduction contact of {name} ({county_code}):",
        "",
        "These submissions are past their due date and no acceptable file has been received:",
        *en_lines,
        "",
        "Please submit them as soon as possible. For a rejected file, read its rejection report "
        "(JSON/CSV, one line per problem), fix the file and submit it again.",
        "If you have already submitted, ignore this reminder and check with the coordination office.",
        "",
        "jianfu 减负 · collection reminder",
    ]) + "\n"
    markdown = "\n".join([
        f"### 报送提醒 / Collection reminder：{md(name)}（{county_code}）",
        *[f"- {KINDS[c.kind].zh} {c.period}：{_status_zh(c)}（截止 {c.due_date.isoformat()}） / "
          f"{c.kind} {c.period}: {_status_en(c)}" for c in cells],
        "",
        "请尽快报送，被退回的请按退回报告修改后重报。/ Please submit, or fix and resubmit rejected files.",
    ])
    return Notification(uuid.uuid4().hex, subject, body, markdown, tuple(recipients), created)


def _last_reminded(conn: Connection) -> dict[tuple[str, str, str], datetime]:
    rows = conn.execute(select(reminders.c.county_code, reminders.c.kind, reminders.c.period,
                               func.max(reminders.c.created_at))
                        .group_by(reminders.c.county_code, reminders.c.kind, reminders.c.period)).all()
    return {(r[0], r[1], r[2]): as_naive_utc(r[3]) for r in rows}


def _pending_cells(conn: Connection) -> dict[str, set[tuple[str, str, str]]]:
    """Cells of each pending reminder message."""
    rows = conn.execute(select(reminders.c.notification_id, reminders.c.county_code, reminders.c.kind,
                               reminders.c.period)
                        .join(notifications, notifications.c.notification_id == reminders.c.notification_id)
                        .where(notifications.c.state == PENDING)).all()
    out: dict[str, set[tuple[str, str, str]]] = {}
    for nid, county, kind, period in rows:
        out.setdefault(nid, set()).add((county, kind, period))
    return out


def send_reminders(engine: Engine, settings: Settings, reference: Reference, cells: list[Cell],
                   as_of: date, interval_days: int) -> list[ReminderNotice]:
    """Write the reminders that are due, withdraw obsolete ones, deliver every pending one."""
    overdue = [c for c in cells if c.overdue and c.past_due(as_of)]
    overdue_keys = {(c.county_code, c.kind, c.period) for c in overdue}
    now = settings.now()
    limit = as_naive_utc(now) - timedelta(days=interval_days)
    created: dict[str, tuple[str, list[Cell]]] = {}
    with engine.begin() as conn:
        _lock(conn)
        pending = _pending_cells(conn)
        store.set_state(conn, [nid for nid, keys in pending.items() if not keys & overdue_keys], WITHDRAWN)
        waiting = set().union(*pending.values()) if pending else set()
        last = _last_reminded(conn)
        due: dict[str, list[Cell]] = {}
        for cell in overdue:
            key = (cell.county_code, cell.kind, cell.period)
            if key in waiting or (key in last and last[key] > limit):
                continue
            due.setdefault(cell.county_code, []).append(cell)
        for county, county_cells in sorted(due.items()):
            note = message(settings, reference, county, county_cells, now)
            store.create(conn, TOPIC, note)
            for cell in county_cells:
                conn.execute(reminders.insert().values(
                    notification_id=note.notification_id, county_code=cell.county_code, kind=cell.kind,
                    period=cell.period, status=cell.status, due_date=cell.due_date,
                    created_at=as_naive_utc(now)))
            created[note.notification_id] = (county, county_cells)
    outcomes = store.send_claimed(engine, settings, store.claim(engine, TOPIC))
    with engine.connect() as conn:
        covered: dict[str, list[tuple[str, str, str]]] = {}
        for nid, county, kind, period in conn.execute(
            select(reminders.c.notification_id, reminders.c.county_code, reminders.c.kind, reminders.c.period)
            .where(reminders.c.notification_id.in_(list(outcomes)))
            .order_by(reminders.c.kind, reminders.c.period)
        ).all():
            covered.setdefault(nid, []).append((county, kind, period))
    notices = []
    for nid, outcome in outcomes.items():
        keys = covered.get(nid, [])
        county = keys[0][0] if keys else "?"
        notices.append(ReminderNotice(county, reference.county_name(county), [(k, p) for _, k, p in keys],
                                      outcome.delivered, outcome.delivered_channels,
                                      "new" if nid in created else "retry", outcome.errors))
    return sorted(notices, key=lambda n: (n.county_code, n.action))
