"""Quota alerts (SPEC.md section 9) and the channel layer every jianfu notification goes through.

- `run_alerts(settings, dry_run=False) -> AlertRun`: `jianfu alerts` and the jianfu_alerts DAG.
- `Notification`, `deliver(settings, notification) -> DeliveryResult`: outbox always, SMTP and the
  webhook when configured; never raises for a channel failure.
- `notify(settings, subject, body, ...)`: one-off message (e.g. an Airflow failure callback),
  recorded in the ledger like the others and retried by `retry_pending(settings, topic)`.
"""

from __future__ import annotations

import uuid

from ..config import Settings
from ..ledger import connect, create_schema
from . import store
from .channels import DeliveryResult, Notification, deliver, required_channels
from .run import AlertNotice, AlertRun, alerts_table, export_alerts, run_alerts

__all__ = [
    "AlertNotice",
    "AlertRun",
    "DeliveryResult",
    "Notification",
    "alerts_table",
    "deliver",
    "export_alerts",
    "notify",
    "required_channels",
    "retry_pending",
    "run_alerts",
]


def notify(settings: Settings, subject: str, body: str, *, recipients: tuple[str, ...] | None = None,
           markdown: str | None = None, topic: str = "notice", record: bool = True) -> store.SendOutcome:
    """Send one message now on every channel; recorded in the ledger (unless record=False).

    `subject` and `body` should already be bilingual (Chinese first). Recipients default to the
    office list (JIANFU_ALERT_EMAILS). With record=False (e.g. the ledger itself is what failed)
    the message is only delivered, not recorded or retried.
    """
    note = Notification(
        notification_id=uuid.uuid4().hex,
        subject=subject,
        body=body,
        markdown=markdown or f"### {subject}\n\n{body}",
        recipients=tuple(settings.alert_emails if recipients is None else recipients),
        created_at=settings.now(),
    )
    if not record:
        result = deliver(settings, note)
        return store.SendOutcome(note.notification_id, result.required, result.succeeded,
                                 result.delivered(), result.errors)
    engine = connect(settings.db_url)
    try:
        create_schema(engine)
        with engine.begin() as conn:
            store.create(conn, topic, note)
        rows = store.claim(engine, topic, only=[note.notification_id])
        return store.send_claimed(engine, settings, rows)[note.notification_id]
    finally:
        engine.dispose()


def retry_pending(settings: Settings, topic: str = "notice") -> dict[str, store.SendOutcome]:
    """Retry undelivered messages of a topic (quota alerts and reminders retry their own)."""
    engine = connect(settings.db_url)
    try:
        create_schema(engine)
        return store.send_claimed(engine, settings, store.claim(engine, topic))
    finally:
        engine.dispose()
