"""Notifications in the ledger: write before sending, record every attempt, retry what failed.

The cycle for one message (used by quota alerts and collection reminders alike):

1. `create` (in the caller's transaction, together with what the message is about) writes it as
   `pending`. Nothing has been sent yet; if the run dies now, the next run sends it.
2. `claim` takes a short lease on pending messages, in its own transaction, so two concurrent runs
   never send the same message; network I/O then happens outside any transaction (a slow mail
   server must not hold the ledger's write lock).
3. `send_claimed` delivers each message on the channels that have not succeeded yet and records,
   in one transaction per message, one attempt row per channel tried and the new state.

"Delivered" means every required channel (outbox always, SMTP when configured and the message has
recipients, the webhook when configured) has succeeded, in this attempt or an earlier one. A retry
skips channels that already succeeded, so a group robot is not pinged twice because the mail
server was down. The one duplicate left possible is a crash between a channel's success and the
transaction recording it: that channel is sent again by the next run (at least once, never lost).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Connection, Engine, RowMapping

from ..config import Settings
from ..ledger import as_naive_utc
from ..ledger.delivery import (
    DELIVERED,
    PENDING,
    notification_attempts,
    notifications,
)
from .channels import DeliveryResult, Notification, deliver

#: How long a run may hold a claimed message before another run may take it over.
LEASE = timedelta(minutes=10)


def new_id(*parts: object) -> str:
    """A notification id: a hash of what the message is about and when it was made (40 hex)."""
    return hashlib.sha1("|".join(str(p) for p in parts).encode("utf-8")).hexdigest()


def _csv(values: Iterable[str]) -> str:
    return ",".join(values)


def _split(text: str | None) -> set[str]:
    return {v for v in (text or "").split(",") if v}


def create(conn: Connection, topic: str, notification: Notification) -> None:
    """Write a new pending message (call inside the transaction that decided to send it)."""
    conn.execute(notifications.insert().values(
        notification_id=notification.notification_id,
        topic=topic,
        subject=notification.subject,
        body=notification.body,
        markdown=notification.markdown,
        recipients=_csv(notification.recipients),
        created_at=as_naive_utc(notification.created_at or datetime.now(UTC)),
        state=PENDING,
        channels_required="",
        channels_delivered="",
        attempts=0,
    ))


def set_state(conn: Connection, notification_ids: Iterable[str], state: str) -> None:
    """Retire pending messages (superseded or withdrawn): they are never retried."""
    ids = list(notification_ids)
    if ids:
        conn.execute(update(notifications)
                     .where(notifications.c.notification_id.in_(ids), notifications.c.state == PENDING)
                     .values(state=state, lease_until=None))


def _wall_clock() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def claim(engine: Engine, topic: str, only: Iterable[str] | None = None) -> list[RowMapping]:
    """Lease the pending messages of `topic` (optionally only those ids) to this run."""
    now = _wall_clock()
    with engine.begin() as conn:
        query = select(notifications).where(
            notifications.c.topic == topic,
            notifications.c.state == PENDING,
            or_(notifications.c.lease_until.is_(None), notifications.c.lease_until < now),
        )
        if only is not None:
            query = query.where(notifications.c.notification_id.in_(list(only)))
        rows = list(conn.execute(query.order_by(notifications.c.created_at,
                                                notifications.c.notification_id)).mappings())
        if rows:
            conn.execute(update(notifications)
                         .where(notifications.c.notification_id.in_([r["notification_id"] for r in rows]),
                                notifications.c.state == PENDING)
                         .values(lease_until=now + LEASE))
    return rows


def as_notification(row: RowMapping) -> Notification:
    created = row["created_at"]
    return Notification(
        notification_id=row["notification_id"],
        subject=row["subject"],
        body=row["body"],
        markdown=row["markdown"],
        recipients=tuple(r for r in (row["recipients"] or "").split(",") if r),
        created_at=created.replace(tzinfo=UTC) if created and created.tzinfo is None else created,
    )


@dataclass
class SendOutcome:
    notification_id: str
    required: tuple[str, ...]
    delivered_channels: tuple[str, ...]
    delivered: bool
    errors: dict[str, str]


def send_claimed(engine: Engine, settings: Settings, rows: list[RowMapping]) -> dict[str, SendOutcome]:
    """Deliver claimed messages on their outstanding channels and record each attempt."""
    outcomes: dict[str, SendOutcome] = {}
    for row in rows:
        already = _split(row["channels_delivered"])
        result = deliver(settings, as_notification(row), skip=already)
        outcomes[row["notification_id"]] = record(engine, settings, row, result, already)
    return outcomes


def record(engine: Engine, settings: Settings, row: RowMapping, result: DeliveryResult,
           already: set[str]) -> SendOutcome:
    """One transaction: an attempt row per channel tried, then the message's new state."""
    now = as_naive_utc(settings.now())
    done = already | set(result.succeeded)
    delivered = result.delivered(already)
    order = [c for c in ("outbox", "smtp", "webhook") if c in done]
    error = "; ".join(f"{c}: {e}" for c, e in result.errors.items()) or None
    with engine.begin() as conn:
        for channel, ok in result.ok.items():
            conn.execute(notification_attempts.insert().values(
                notification_id=row["notification_id"], channel=channel, attempted_at=now,
                ok=ok, error=result.errors.get(channel)))
        values = dict(
            channels_required=_csv(result.required),
            channels_delivered=_csv(order),
            attempts=notifications.c.attempts + 1,
            last_attempt_at=now,
            last_error=error,
            lease_until=None,
        )
        if delivered:
            values.update(state=DELIVERED, delivered_at=now)
        conn.execute(update(notifications)
                     .where(notifications.c.notification_id == row["notification_id"],
                            notifications.c.state == PENDING)
                     .values(**values))
    return SendOutcome(row["notification_id"], result.required, tuple(order), delivered, result.errors)
