"""What one outgoing message is, whatever channel carries it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

OUTBOX = "outbox"
SMTP = "smtp"
WEBHOOK = "webhook"
CHANNEL_ORDER = (OUTBOX, SMTP, WEBHOOK)


@dataclass(frozen=True)
class Notification:
    """One message to send: the same text goes to every channel."""

    notification_id: str  # stable: names the outbox file and the Message-ID
    subject: str
    body: str  # plain text, Chinese first, then English
    markdown: str  # the robot's text; county text in it already escaped (escape.markdown)
    recipients: tuple[str, ...] = ()
    created_at: datetime | None = None
    attachments: tuple[Path, ...] = field(default=())  # files attached to the e-mail


@dataclass
class DeliveryResult:
    """What happened on each channel tried, and which channels the notification requires."""

    required: tuple[str, ...]
    ok: dict[str, bool] = field(default_factory=dict)  # channel -> succeeded, for channels tried
    errors: dict[str, str] = field(default_factory=dict)  # channel -> one-line error
    gave_up: set[str] = field(default_factory=set)  # channels that refused for good: not retried
    eml_path: Path | None = None

    @property
    def succeeded(self) -> tuple[str, ...]:
        return tuple(c for c in CHANNEL_ORDER if self.ok.get(c))

    def delivered(self, already: frozenset[str] | set[str] = frozenset()) -> bool:
        """True when every required channel has succeeded, now or in an earlier attempt."""
        done = set(already) | set(self.succeeded)
        return all(c in done for c in self.required)


def one_line(exc: BaseException) -> str:
    """An error as the ledger keeps it: one line, bounded."""
    return f"{type(exc).__name__}: {exc}".replace("\n", " ")[:500]
