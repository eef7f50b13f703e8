"""Send a month's bulletin: the PDF by e-mail to the office's list, a short summary to the robot.

The jianfu_report DAG calls `send_bulletin` on day 6 for the month before. One message per month
(ledger topic `bulletin YYYY-MM`): the first run writes it, a later run (a retry, a re-run of the
same month) only retries what has not been delivered, so every channel gets the bulletin once.
The PDF is rewritten on every run from the warehouse as it is then; the message attaches that file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select

from ..config import JianfuError, Settings
from ..escape import markdown as md
from ..ledger import connect, create_schema
from ..ledger.delivery import notifications
from ..notify import message, store
from . import build_bulletin, default_path, render_to
from .html import title
from .model import Bulletin


@dataclass
class BulletinRun:
    period: str
    path: str
    created: bool  # this run wrote the month's message (else it existed: retried or already sent)
    delivered: bool
    channels: tuple[str, ...] = ()
    errors: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        state = "delivered" if self.delivered else "NOT delivered yet, retried on the next run"
        lines = [f"bulletin {self.period}: {self.path}",
                 f"  message {'sent' if self.created else 'already written'}: {state} via {','.join(self.channels) or '-'}"]
        lines += [f"  {channel} failed: {error}" for channel, error in sorted(self.errors.items())]
        return "\n".join(lines)


def previous_month(day: date) -> str:
    """The month a bulletin issued on `day` reports: the one before."""
    first = day.replace(day=1)
    return f"{first.year - (first.month == 1)}-{(first.month - 2) % 12 + 1:02d}"


def period_for_run(settings: Settings, logical_date: datetime | None, override: str | None = None) -> str:
    """The month of a DAG run: an explicit param, else the month before the run's day (office time)."""
    if override:
        return override
    if settings.env.get("JIANFU_NOW") or logical_date is None:
        return previous_month(settings.office_today())
    return previous_month(settings.office_date(logical_date))


def summary(settings: Settings, bulletin: Bulletin, pdf_name: str) -> tuple[str, str, str]:
    """(subject, plain text, robot Markdown): the headline numbers of every section, the console link."""
    zh, en = title(bulletin)
    subject = f"【月度通报】{bulletin.office_name}：{zh} / {en}"
    text = [f"{zh}", f"{en}", "", f"附件 {pdf_name} 为本月通报全文。/ The full bulletin is attached ({pdf_name}).", ""]
    robot = [f"### {md(zh)}", f"{md(en)}", ""]
    for section in bulletin.sections:
        figures = "；".join(f"{label} {value:,}" if isinstance(value, int) else f"{label} {value}"
                           for label, value in section.headline)
        text.append(f"{section.title_zh} / {section.title_en}")
        text.append(f"  {figures or '见附件 / see the attachment'}")
        if figures:
            robot.append(f"- **{md(section.title_zh)}**：{md(figures)}")
    text += ["", f"控制台 / console: {settings.console_url}"]
    robot += ["", f"全文已发送至邮箱。/ The full bulletin went out by e-mail. [打开控制台 / open the console]({settings.console_url})"]
    return subject, "\n".join(text) + "\n", "\n".join(robot)


class NotDelivered(JianfuError):
    """A channel failed; the DAG task fails so Airflow retries it (only the failed channels resend)."""


def send_bulletin(settings: Settings, period: str, *, require_delivery: bool = False) -> BulletinRun:
    """Write the month's PDF and deliver it (once per month across runs)."""
    bulletin = build_bulletin(settings, period)
    path = render_to(bulletin, "pdf", default_path(settings, period, "pdf"))
    topic = f"bulletin {period}"
    engine = connect(settings.db_url)
    try:
        create_schema(engine)
        with engine.begin() as conn:
            exists = conn.execute(select(notifications.c.notification_id)
                                  .where(notifications.c.topic == topic).limit(1)).first() is not None
            if not exists:
                subject, body, markdown = summary(settings, bulletin, path.name)
                store.create(conn, topic, message(settings, subject, body, markdown=markdown, attachments=(path,)))
        outcomes = store.send_claimed(engine, settings, store.claim(engine, topic))
    finally:
        engine.dispose()
    run = BulletinRun(period, str(path), created=not exists, delivered=all(o.delivered for o in outcomes.values()))
    for outcome in outcomes.values():
        run.channels, run.errors = outcome.delivered_channels, outcome.errors
    if not outcomes and exists:
        run.delivered = True  # delivered (or given up) by an earlier run: nothing to send
    if require_delivery and not run.delivered:
        raise NotDelivered(run.describe().replace("\n", "; "))
    return run
