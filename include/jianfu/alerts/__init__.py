"""Quota alerts (SPEC.md section 9); delivery itself is jianfu.notify.

- `run_alerts(settings, dry_run=False) -> AlertRun`: `jianfu alerts` and the jianfu_alerts DAG.
- `notify(settings, subject, body, ...)`: a one-off message to the office, recorded in the ledger
  like the alerts and retried by `jianfu.notify.retry_pending(settings, topic)`.
"""

from __future__ import annotations

from ..config import Settings
from ..notify import (
    DeliveryResult,
    Notification,
    deliver,
    message,
    required_channels,
    retry_pending,
    send,
    store,
)
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
    """Send one message now on every channel (see jianfu.notify.send)."""
    note = message(settings, subject, body, markdown=markdown, recipients=recipients)
    return send(settings, note, topic, record=record)
