"""E-mail: the RFC 5322 message (outbox file and SMTP) of SPEC.md section 9.

- multipart/alternative: the plain text and an HTML rendering of it (county text HTML-escaped), then
  any attachments (the bulletin's PDF), so every mail program shows it well;
- `From` is JIANFU_SMTP_FROM (the office's name and address), `Date` in the office's time zone;
- a footer names the office and how to reach it, taken from that same From address, so a county
  or department knows whom to answer.
- SMTP: `smtp://[user:pass@]host[:port]` speaks plain SMTP (port 25), upgrading with STARTTLS when
  the server offers it; `smtps://...` is implicit TLS (port 465) with certificate verification.
- The outbox is written first, atomically (temporary file + rename), once per notification.
"""

from __future__ import annotations

import mimetypes
import os
import smtplib
import ssl
import tempfile
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..config import ConfigError, Settings
from ..escape import html_text
from .message import Notification

#: Seconds before a mail server that does not answer counts as failed.
TIMEOUT_SECONDS = 15

#: What the footer calls the office when JIANFU_SMTP_FROM carries no display name.
DEFAULT_OFFICE = "减负办 / coordination office"


def office(settings: Settings) -> tuple[str, str]:
    """(name, address) of the office, from JIANFU_SMTP_FROM (`黄冈市减负办 <jfb@hg.example>`)."""
    name, address = parseaddr(settings.smtp_from)
    return (name or DEFAULT_OFFICE), (address or settings.smtp_from)


def footer(settings: Settings) -> str:
    name, address = office(settings)
    return (f"{name} · 联系 / contact: {address}\n"
            f"本消息由 jianfu 减负 自动发送，如有疑问请回复本邮件或联系上述地址。/ "
            f"Sent by jianfu; reply to this message or write to the address above.")


def _html(settings: Settings, notification: Notification) -> str:
    paragraphs = "".join(f"<p>{html_text(block).replace(chr(10), '<br>')}</p>"
                         for block in notification.body.strip().split("\n\n"))
    return ("<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            f"<title>{html_text(notification.subject)}</title></head>"
            "<body style=\"font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;line-height:1.6\">"
            f"{paragraphs}<hr><p style=\"color:#555;font-size:90%\">"
            f"{html_text(footer(settings)).replace(chr(10), '<br>')}</p></body></html>")


def build_email(settings: Settings, notification: Notification) -> EmailMessage:
    """The message written to the outbox and sent over SMTP (UTF-8 throughout)."""
    message = EmailMessage()
    message["Subject"] = notification.subject
    message["From"] = settings.smtp_from
    if notification.recipients:
        message["To"] = ", ".join(notification.recipients)
    created = notification.created_at or settings.now()
    message["Date"] = format_datetime(created.astimezone(settings.office_tz))
    domain = office(settings)[1].rpartition("@")[2] or "jianfu.local"
    message["Message-ID"] = make_msgid(idstring=notification.notification_id, domain=domain)
    message["X-Jianfu-Notification"] = notification.notification_id
    message.set_content(f"{notification.body.rstrip()}\n\n-- \n{footer(settings)}\n", charset="utf-8")
    message.add_alternative(_html(settings, notification), subtype="html", charset="utf-8")
    for path in notification.attachments:
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        maintype, subtype = kind.split("/", 1)
        message.add_attachment(Path(path).read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
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
