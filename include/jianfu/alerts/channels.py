"""The alert channels of SPEC.md section 9: file outbox (always), SMTP e-mail, JSON webhook.

Quota alerts, collection reminders and Airflow failure callbacks all send through `deliver`, so a
message looks and behaves the same whatever raised it.

Choices:
- The outbox is always on and is written first: one RFC 5322 `.eml` file per notification, named by
  the notification id, written atomically (temporary file + rename), so it opens in any mail program
  and a crash never leaves half a message. Re-delivering the same notification does not rewrite it.
- SMTP: `smtp://[user:pass@]host[:port]` speaks plain SMTP (port 25), upgrading with STARTTLS when
  the server offers it; `smtps://...` is implicit TLS (port 465) with certificate verification.
  The sender is JIANFU_SMTP_FROM, else the URL's user when it is an address, else jianfu@<host>.
  A notification with no recipient address does not require the SMTP channel.
- Webhook: one POST of JSON in the group-robot "markdown" shape. WeCom robots
  (qyapi.weixin.qq.com) take `{"msgtype": "markdown", "markdown": {"content": ...}}`; everything
  else gets the DingTalk shape `{"msgtype": "markdown", "markdown": {"title": ..., "text": ...}}`.
  Both robots answer HTTP 200 with `{"errcode": N}` and N != 0 on refusal: that counts as a failure.
"""

from __future__ import annotations

import json
import os
import smtplib
import ssl
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..config import ConfigError, Settings

OUTBOX = "outbox"
SMTP = "smtp"
WEBHOOK = "webhook"
CHANNEL_ORDER = (OUTBOX, SMTP, WEBHOOK)

#: Seconds before a mail server or webhook that does not answer counts as failed.
TIMEOUT_SECONDS = 15


@dataclass(frozen=True)
class Notification:
    """One message to send: the same text goes to every channel."""

    notification_id: str  # stable: names the outbox file and the Message-ID
    subject: str
    body: str  # plain text, Chinese first, then English
    markdown: str  # the webhook's text
    recipients: tuple[str, ...] = ()
    created_at: datetime | None = None


@dataclass
class DeliveryResult:
    """What happened on each channel tried, and which channels the notification requires."""

    required: tuple[str, ...]
    ok: dict[str, bool] = field(default_factory=dict)  # channel -> succeeded, for channels tried
    errors: dict[str, str] = field(default_factory=dict)  # channel -> one-line error
    eml_path: Path | None = None

    @property
    def succeeded(self) -> tuple[str, ...]:
        return tuple(c for c in CHANNEL_ORDER if self.ok.get(c))

    def delivered(self, already: frozenset[str] | set[str] = frozenset()) -> bool:
        """True when every required channel has succeeded, now or in an earlier attempt."""
        done = set(already) | set(self.succeeded)
        return all(c in done for c in self.required)


def required_channels(settings: Settings, notification: Notification) -> tuple[str, ...]:
    """The channels a notification must reach before it counts as delivered."""
    channels = [OUTBOX]
    if settings.smtp_url and notification.recipients:
        channels.append(SMTP)
    if settings.webhook_url:
        channels.append(WEBHOOK)
    return tuple(channels)


def deliver(settings: Settings, notification: Notification,
            skip: frozenset[str] | set[str] = frozenset()) -> DeliveryResult:
    """Send `notification` on every required channel not in `skip` (already done before).

    Never raises for a channel failure: the error is returned, so the caller can record it and
    retry later. Channels are independent: a dead mail server does not stop the webhook.
    """
    result = DeliveryResult(required=required_channels(settings, notification))
    message = build_email(settings, notification)
    for channel in result.required:
        if channel in skip:
            continue
        try:
            if channel == OUTBOX:
                result.eml_path = write_outbox(settings.outbox, notification, message)
            elif channel == SMTP:
                send_smtp(settings, message)
            elif channel == WEBHOOK:
                post_webhook(settings.webhook_url or "", notification)
            result.ok[channel] = True
        except Exception as exc:  # noqa: BLE001 - any failure of a channel is recorded, not raised
            result.ok[channel] = False
            result.errors[channel] = f"{type(exc).__name__}: {exc}".replace("\n", " ")[:500]
    return result


# --------------------------------------------------------------------------- e-mail and outbox
def sender_address(settings: Settings) -> str:
    explicit = settings.env.get("JIANFU_SMTP_FROM")
    if explicit:
        return explicit
    if settings.smtp_url:
        parts = urlsplit(settings.smtp_url)
        user = unquote(parts.username or "")
        if "@" in user:
            return user
        return f"jianfu@{parts.hostname or 'localhost'}"
    return "jianfu@localhost"


def build_email(settings: Settings, notification: Notification) -> EmailMessage:
    """The RFC 5322 message written to the outbox and sent over SMTP (UTF-8 throughout)."""
    message = EmailMessage()
    message["Subject"] = notification.subject
    message["From"] = sender_address(settings)
    if notification.recipients:
        message["To"] = ", ".join(notification.recipients)
    created = notification.created_at or settings.now()
    message["Date"] = format_datetime(created)
    domain = sender_address(settings).rpartition("@")[2] or "jianfu.local"
    message["Message-ID"] = make_msgid(idstring=notification.notification_id, domain=domain)
    message["X-Jianfu-Notification"] = notification.notification_id
    message.set_content(notification.body, charset="utf-8")
    return message


def write_outbox(outbox: Path, notification: Notification, message: EmailMessage) -> Path:
    """Write the .eml once, atomically; an existing file for this notification is kept as is."""
    outbox.mkdir(parents=True, exist_ok=True)
    created = notification.created_at
    stamp = created.strftime("%Y%m%dT%H%M%S") + "-" if created else ""
    path = outbox / f"{stamp}{notification.notification_id}.eml"
    if path.exists():
        return path
    fd, tmp = tempfile.mkstemp(prefix=".", suffix=".eml.tmp", dir=outbox)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(message.as_bytes())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def smtp_endpoint(smtp_url: str) -> tuple[str, str, int, str | None, str | None]:
    """(scheme, host, port, user, password) of JIANFU_SMTP_URL; ConfigError when malformed."""
    parts = urlsplit(smtp_url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(f"JIANFU_SMTP_URL {smtp_url!r} must look like smtp://user:pass@host:port "
                          "or smtps://user:pass@host:port")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
    except ValueError:
        raise ConfigError(f"JIANFU_SMTP_URL {smtp_url!r} has a malformed port") from None
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return parts.scheme, parts.hostname, port, user, password


def send_smtp(settings: Settings, message: EmailMessage) -> None:
    scheme, host, port, user, password = smtp_endpoint(settings.smtp_url or "")
    if scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT_SECONDS,
                                                context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, port, timeout=TIMEOUT_SECONDS)
    with client:
        client.ehlo()
        if scheme == "smtp" and client.has_extn("starttls"):
            client.starttls()
            client.ehlo()
        if user:
            client.login(user, password or "")
        client.send_message(message)


# --------------------------------------------------------------------------- webhook
def webhook_payload(webhook_url: str, notification: Notification) -> dict:
    """The group-robot JSON: WeCom's shape for qyapi.weixin.qq.com, DingTalk's for any other URL."""
    if "qyapi.weixin.qq.com" in (urlsplit(webhook_url).hostname or ""):
        return {"msgtype": "markdown", "markdown": {"content": notification.markdown}}
    return {"msgtype": "markdown", "markdown": {"title": notification.subject, "text": notification.markdown}}


def post_webhook(webhook_url: str, notification: Notification) -> None:
    body = json.dumps(webhook_payload(webhook_url, notification), ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(webhook_url, data=body, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
        raw = response.read()
    try:
        answer = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (UnicodeDecodeError, json.JSONDecodeError):
        return  # a plain 2xx without JSON: accepted
    if isinstance(answer, dict) and answer.get("errcode") not in (None, 0, "0"):
        raise RuntimeError(f"webhook refused the message: errcode {answer.get('errcode')} "
                           f"{answer.get('errmsg', '')}".strip())
