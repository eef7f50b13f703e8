"""Notifications in the ledger: write before sending, record every attempt, retry what failed.

The cycle for one message (quota alerts, collection reminders, failure callbacks, the bulletin):

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
server was down. A robot that refuses for good (not a rate limit) makes the message `failed`: it is
recorded and not retried. The one duplicate left possible is a crash between a channel's success
and the transaction recording it: that channel is sent again by the next run (at least once).

A robot takes at most WEBHOOK_PER_MINUTE messages in any 60 seconds, counted across runs from
`webhook_posts`. When more are waiting, all but one of the free places go to single messages and
the rest are folded into one digest; with no place free, they wait for the next run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, or_, select, update
from sqlalchemy.engine import Connection, Engine, RowMapping

from ..config import Settings
from ..escape import markdown as md
from ..ledger import as_naive_utc
from ..ledger.delivery import (
    DELIVERED,
    FAILED,
    PENDING,
    notification_attempts,
    notification_files,
    notifications,
    webhook_posts,
)
from . import webhook
from .channels import deliver
from .message import CHANNEL_ORDER, WEBHOOK, DeliveryResult, Notification, one_line

#: How long a run may hold a claimed message before another run may take it over.
LEASE = timedelta(minutes=10)

#: What DingTalk, WeCom and Feishu robots accept per 60 seconds.
WEBHOOK_PER_MINUTE = 20
WEBHOOK_WINDOW = timedelta(seconds=60)


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
    for position, path in enumerate(notification.attachments):
        conn.execute(notification_files.insert().values(
            notification_id=notification.notification_id, position=position, path=str(path)))


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


def as_notification(row: RowMapping, attachments: Iterable[str] = ()) -> Notification:
    created = row["created_at"]
    return Notification(
        notification_id=row["notification_id"],
        subject=row["subject"],
        body=row["body"],
        markdown=row["markdown"],
        recipients=tuple(r for r in (row["recipients"] or "").split(",") if r),
        created_at=created.replace(tzinfo=UTC) if created and created.tzinfo is None else created,
        attachments=tuple(Path(p) for p in attachments),
    )


@dataclass
class SendOutcome:
    notification_id: str
    required: tuple[str, ...]
    delivered_channels: tuple[str, ...]
    delivered: bool
    errors: dict[str, str]
    failed: bool = False  # refused for good: recorded, not retried


def _attachments(engine: Engine, ids: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if not ids:
        return out
    with engine.connect() as conn:
        for nid, path in conn.execute(select(notification_files.c.notification_id, notification_files.c.path)
                                      .where(notification_files.c.notification_id.in_(ids))
                                      .order_by(notification_files.c.notification_id,
                                                notification_files.c.position)).all():
            out.setdefault(nid, []).append(path)
    return out


def url_key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def recent_posts(engine: Engine, url: str) -> int:
    """Posts made to this robot in the last 60 seconds, by any run (a digest counts once)."""
    since = _wall_clock() - WEBHOOK_WINDOW
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(webhook_posts).where(
            webhook_posts.c.url_key == url_key(url), webhook_posts.c.posted_at > since)).scalar_one())


def _note_post(engine: Engine, url: str, messages: int) -> None:
    with engine.begin() as conn:
        conn.execute(webhook_posts.insert().values(url_key=url_key(url), posted_at=_wall_clock(),
                                                   messages=messages))


def digest(notes: list[Notification]) -> tuple[str, str]:
    """(title, markdown) of one robot message standing for several."""
    title = f"jianfu：{len(notes)} 条通知汇总 / digest of {len(notes)} notifications"
    lines = [f"### {md(title)}", "",
             "消息过多，已合并为一条；详情见邮件或 outbox。/ Too many messages for the robot this minute; "
             "details are in the e-mails and the outbox.", ""]
    lines += [f"- {md(n.subject)}" for n in notes]
    return title, "\n".join(lines)


def send_claimed(engine: Engine, settings: Settings, rows: list[RowMapping]) -> dict[str, SendOutcome]:
    """Deliver claimed messages on their outstanding channels and record each attempt."""
    files = _attachments(engine, [r["notification_id"] for r in rows])
    notes = [as_notification(r, files.get(r["notification_id"], ())) for r in rows]
    done_before = {r["notification_id"]: _split(r["channels_delivered"]) for r in rows}
    robot = settings.webhook_url
    waiting = [n.notification_id for n in notes if robot and WEBHOOK not in done_before[n.notification_id]]
    free = WEBHOOK_PER_MINUTE - recent_posts(engine, robot) if robot else 0
    if len(waiting) <= free:
        single, folded = set(waiting), []
    elif free >= 1:
        single, folded = set(waiting[:free - 1]), waiting[free - 1:]
    else:
        single, folded = set(), []
    results: dict[str, DeliveryResult] = {}
    for note in notes:
        nid = note.notification_id
        result = deliver(settings, note, skip=done_before[nid], webhook_now=nid in single)
        if robot and WEBHOOK in result.ok:
            _note_post(engine, robot, 1)
        if robot and nid in waiting and nid not in single and nid not in folded:
            result.ok[WEBHOOK] = False
            result.errors[WEBHOOK] = (f"rate limit: {WEBHOOK_PER_MINUTE} messages a minute to this robot "
                                      "reached; retried on the next run")
        results[nid] = result
    if folded:
        _send_digest(engine, settings, [n for n in notes if n.notification_id in folded],
                     [results[nid] for nid in folded])
    return {r["notification_id"]: record(engine, settings, r, results[r["notification_id"]],
                                         done_before[r["notification_id"]]) for r in rows}


def _send_digest(engine: Engine, settings: Settings, notes: list[Notification],
                 results: list[DeliveryResult]) -> None:
    title, text = digest(notes)
    try:
        webhook.post(settings, title, text)
        outcome: tuple[bool, str | None] = (True, None)
    except Exception as exc:  # noqa: BLE001 - recorded on every folded message
        outcome = (False, one_line(exc))
        if isinstance(exc, webhook.WebhookRefused) and not isinstance(exc, webhook.WebhookRateLimited):
            for result in results:
                result.gave_up.add(WEBHOOK)
    _note_post(engine, settings.webhook_url or "", len(notes))
    for result in results:
        result.ok[WEBHOOK] = outcome[0]
        if outcome[1]:
            result.errors[WEBHOOK] = outcome[1]


def record(engine: Engine, settings: Settings, row: RowMapping, result: DeliveryResult,
           already: set[str]) -> SendOutcome:
    """One transaction: an attempt row per channel tried, then the message's new state."""
    now = as_naive_utc(settings.now())
    done = already | set(result.succeeded)
    delivered = result.delivered(already)
    outstanding = [c for c in result.required if c not in done and c not in result.gave_up]
    failed = not delivered and not outstanding
    order = [c for c in CHANNEL_ORDER if c in done]
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
        elif failed:
            values.update(state=FAILED)
        conn.execute(update(notifications)
                     .where(notifications.c.notification_id == row["notification_id"],
                            notifications.c.state == PENDING)
                     .values(**values))
    return SendOutcome(row["notification_id"], result.required, tuple(order), delivered, result.errors, failed)
