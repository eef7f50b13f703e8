"""Delivery (SPEC.md section 9): the outbox, e-mail and robot channels every jianfu message takes.

Quota alerts, collection reminders, Airflow failure callbacks and the monthly bulletin all go
through here, so a message looks and behaves the same whatever raised it:

- `Notification`: one message (subject, bilingual body, robot Markdown, recipients, attachments);
- `OutboxNotifier`, `EmailNotifier`, `WebhookNotifier`: the channels, Airflow notifiers with `send`;
- `LedgerNotifier`: an Airflow callback that records its message and sends it on every channel;
- `send(settings, notification, topic)`: record in the ledger, deliver now, retried next run when a
  channel failed; `retry_pending(settings, topic)` retries a topic's undelivered messages.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from airflow.sdk import BaseNotifier

from ..config import Settings
from ..ledger import connect, create_schema
from . import store
from .airflow_text import failure_message, failure_notification
from .channels import (
    EmailNotifier,
    OutboxNotifier,
    WebhookNotifier,
    deliver,
    required_channels,
)
from .message import DeliveryResult, Notification
from .store import SendOutcome

__all__ = [
    "DeliveryResult",
    "EmailNotifier",
    "LedgerNotifier",
    "Notification",
    "OutboxNotifier",
    "SendOutcome",
    "WebhookNotifier",
    "deliver",
    "failure_message",
    "message",
    "required_channels",
    "retry_pending",
    "send",
]

log = logging.getLogger(__name__)


def message(settings: Settings, subject: str, body: str, *, markdown: str | None = None,
            recipients: tuple[str, ...] | None = None, attachments: tuple = ()) -> Notification:
    """A new message to the office list (JIANFU_ALERT_EMAILS) unless recipients are given."""
    return Notification(
        notification_id=uuid.uuid4().hex,
        subject=subject,
        body=body,
        markdown=markdown or f"### {subject}\n\n{body}",
        recipients=tuple(settings.alert_emails if recipients is None else recipients),
        created_at=settings.now(),
        attachments=tuple(attachments),
    )


def send(settings: Settings, note: Notification, topic: str = "notice", *, record: bool = True) -> SendOutcome:
    """Send one message now on every channel; recorded in the ledger (unless record=False).

    With record=False (e.g. the ledger itself is what failed) the message is only delivered, not
    recorded or retried.
    """
    if not record:
        result = deliver(settings, note)
        return SendOutcome(note.notification_id, result.required, result.succeeded, result.delivered(),
                           result.errors)
    engine = connect(settings.db_url)
    try:
        create_schema(engine)
        with engine.begin() as conn:
            store.create(conn, topic, note)
        rows = store.claim(engine, topic, only=[note.notification_id])
        return store.send_claimed(engine, settings, rows)[note.notification_id]
    finally:
        engine.dispose()


def retry_pending(settings: Settings, topic: str = "notice") -> dict[str, SendOutcome]:
    """Retry undelivered messages of a topic (quota alerts and reminders retry their own)."""
    engine = connect(settings.db_url)
    try:
        create_schema(engine)
        return store.send_claimed(engine, settings, store.claim(engine, topic))
    finally:
        engine.dispose()


class LedgerNotifier(BaseNotifier):
    """An Airflow callback taking the same road as a quota alert: recorded, every channel, retried.

    When the ledger itself is what is broken, the message is still delivered, just not recorded.
    A callback that raises would bury the original failure in the log, so every problem here is
    logged and swallowed; the outbox channel is local and always on.
    """

    def __init__(self, settings: Callable[[], Settings], topic: str,
                 compose: Callable[[Settings, Mapping[str, Any]], Notification] = failure_notification):
        super().__init__()
        self._settings = settings
        self._topic = topic
        self._compose = compose

    def notify(self, context: Any) -> None:
        try:
            settings = self._settings()
            note = self._compose(settings, context)
            try:
                outcome = send(settings, note, self._topic)
            except Exception:  # noqa: BLE001 - e.g. the ledger database is down
                log.warning("could not record the notification; delivering it unrecorded", exc_info=True)
                outcome = send(settings, note, self._topic, record=False)
            log.info("notification %s: %s", self._topic, outcome)
        except Exception:  # noqa: BLE001
            log.exception("could not send the %s notification", self._topic)
