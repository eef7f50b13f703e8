"""The channels as Airflow notifiers: file outbox (always), SMTP e-mail, group-robot webhook.

Each is an `airflow.sdk.BaseNotifier`, so a DAG may name one as a callback, and each has `send`,
which the ledger-backed delivery (jianfu.notify.store) calls for quota alerts, reminders, the
bulletin and failure callbacks alike: one road for every message. `send` raises when the channel
did not take the message; the caller records the error and retries next run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from airflow.sdk import BaseNotifier

from ..config import Settings
from . import mail, webhook
from .message import OUTBOX, SMTP, WEBHOOK, DeliveryResult, Notification, one_line

SettingsSource = Settings | Callable[[], Settings]


class Channel(BaseNotifier):
    """A channel; as an Airflow callback it sends `compose(context)` (default: the failure text)."""

    name = ""

    def __init__(self, settings: SettingsSource, compose: Callable[[Mapping[str, Any]], Notification] | None = None):
        super().__init__()
        self._settings = settings
        self._compose = compose

    def settings(self) -> Settings:
        return self._settings() if callable(self._settings) else self._settings

    def notify(self, context: Any) -> None:
        from .airflow_text import failure_notification

        settings = self.settings()
        compose = self._compose or (lambda ctx: failure_notification(settings, ctx))
        self.send(settings, compose(context))

    def send(self, settings: Settings, notification: Notification) -> Path | None:
        raise NotImplementedError


class OutboxNotifier(Channel):
    """One RFC 5322 `.eml` per message under $JIANFU_HOME/outbox: opens in any mail program."""

    name = OUTBOX

    def send(self, settings: Settings, notification: Notification) -> Path:
        return mail.write_outbox(settings.outbox, notification, mail.build_email(settings, notification))


class EmailNotifier(Channel):
    """SMTP to the message's recipients (JIANFU_SMTP_URL)."""

    name = SMTP

    def send(self, settings: Settings, notification: Notification) -> None:
        mail.send_smtp(settings, mail.build_email(settings, notification))


class WebhookNotifier(Channel):
    """The office's group robot (JIANFU_WEBHOOK_URL, KIND, SECRET)."""

    name = WEBHOOK

    def send(self, settings: Settings, notification: Notification) -> None:
        webhook.post(settings, notification.subject, notification.markdown)


CHANNELS: dict[str, type[Channel]] = {c.name: c for c in (OutboxNotifier, EmailNotifier, WebhookNotifier)}


def required_channels(settings: Settings, notification: Notification) -> tuple[str, ...]:
    """The channels a notification must reach before it counts as delivered."""
    channels = [OUTBOX]
    if settings.smtp_url and notification.recipients:
        channels.append(SMTP)
    if settings.webhook_url:
        channels.append(WEBHOOK)
    return tuple(channels)


def deliver(settings: Settings, notification: Notification, skip: frozenset[str] | set[str] = frozenset(),
            *, webhook_now: bool = True) -> DeliveryResult:
    """Send on every required channel not in `skip`; never raises for a channel's failure.

    Channels are independent: a dead mail server does not stop the robot. `webhook_now=False`
    leaves the robot to the caller (a digest, or the rate limit's wait).
    """
    result = DeliveryResult(required=required_channels(settings, notification))
    for name in result.required:
        if name in skip or (name == WEBHOOK and not webhook_now):
            continue
        try:
            sent = CHANNELS[name](settings).send(settings, notification)
            if name == OUTBOX:
                result.eml_path = sent
            result.ok[name] = True
        except Exception as exc:  # noqa: BLE001 - any failure of a channel is recorded, not raised
            result.ok[name] = False
            result.errors[name] = one_line(exc)
            if isinstance(exc, webhook.WebhookRefused) and not isinstance(exc, webhook.WebhookRateLimited):
                result.gave_up.add(name)
    return result
