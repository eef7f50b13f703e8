"""Ledger tables of outgoing messages (alerts, reminders), registered on the ledger's `metadata`.

Outgoing messages are kept in two layers, so that quota alerts, collection reminders and anything
else that notifies share one delivery and retry mechanism (jianfu.alerts.store):

- `notifications`: one row per message (its full text, recipients and delivery state). A message is
  written here *before* any channel is tried, so a run that dies half-way leaves it pending and the
  next run finishes it: nothing is lost.
- `notification_attempts`: one row per channel per attempt, successful or not, with the error.
- `alert_notifications`: which quota alert (rule, department, year, used, quota) a message is.
- `notification_files`: the files a message carries (the bulletin's PDF), so a retry next run
  attaches the same file.
- `webhook_posts`: every POST made to a robot, by a hash of its URL: a robot takes at most 20
  messages a minute, counted across runs, and only the ledger remembers what earlier runs sent.
- `reminders`: which collection cell (county x kind x period) a reminder message covers; one
  message may cover several cells of one county.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
)

from .tables import metadata

# Notification states.
PENDING = "pending"  # written; some required channel has not succeeded yet
DELIVERED = "delivered"  # every required channel succeeded
SUPERSEDED = "superseded"  # replaced by a newer message about the same thing before delivery
WITHDRAWN = "withdrawn"  # no longer true (e.g. the county submitted), so never retried
FAILED = "failed"  # a channel refused it for good (e.g. a robot's keyword check): never retried

notifications = Table(
    "notifications",
    metadata,
    Column("notification_id", String(40), primary_key=True),
    Column("topic", String(30), nullable=False, index=True),  # 'quota_alert', 'reminder', ...
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),  # plain text, Chinese first, then English
    Column("markdown", Text, nullable=False),  # the webhook's text
    Column("recipients", Text, nullable=False, default=""),  # e-mail addresses, comma separated
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("state", String(20), nullable=False, index=True),
    Column("channels_required", Text, nullable=False, default=""),  # at the last attempt
    Column("channels_delivered", Text, nullable=False, default=""),  # accumulated over attempts
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_attempt_at", DateTime(timezone=True)),
    Column("delivered_at", DateTime(timezone=True)),
    Column("last_error", Text),
    # A run claims a pending message for a few minutes before sending, so two concurrent runs
    # never send the same message twice. Wall-clock time, not JIANFU_NOW.
    Column("lease_until", DateTime(timezone=True)),
)

notification_attempts = Table(
    "notification_attempts",
    metadata,
    Column("attempt_id", Integer, primary_key=True, autoincrement=True),
    Column("notification_id", String(40), ForeignKey("notifications.notification_id"),
           nullable=False, index=True),
    Column("channel", String(20), nullable=False),  # outbox | smtp | webhook
    Column("attempted_at", DateTime(timezone=True), nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("error", Text),
)

alert_notifications = Table(
    "alert_notifications",
    metadata,
    Column("notification_id", String(40), ForeignKey("notifications.notification_id"), primary_key=True),
    Column("alert_key", String(120), nullable=False, index=True),  # 'RULE|dept_code|year'
    Column("rule", String(40), nullable=False),
    Column("dept_code", String(30), nullable=False),
    Column("year", Integer, nullable=False),
    Column("used", Integer, nullable=False),
    Column("quota", Integer, nullable=False),
)

reminders = Table(
    "reminders",
    metadata,
    Column("reminder_id", Integer, primary_key=True, autoincrement=True),
    Column("notification_id", String(40), ForeignKey("notifications.notification_id"),
           nullable=False, index=True),
    Column("county_code", String(6), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("period", String(7), nullable=False),
    Column("status", String(30), nullable=False),  # missing | rejected, when reminded
    Column("due_date", Date, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)



notification_files = Table(
    "notification_files",
    metadata,
    Column("notification_id", String(40), ForeignKey("notifications.notification_id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("path", Text, nullable=False),
)

webhook_posts = Table(
    "webhook_posts",
    metadata,
    Column("post_id", Integer, primary_key=True, autoincrement=True),
    Column("url_key", String(64), nullable=False, index=True),  # sha256 of the URL: no token kept
    Column("posted_at", DateTime(timezone=True), nullable=False, index=True),
    Column("messages", Integer, nullable=False),  # 1, or how many a digest folded
)
