"""Ledger tables of delivery (registered on jianfu.ledger.metadata, created by create_schema).

- `notification_files`: the files a message carries (the bulletin's PDF), so a retry next run
  attaches the same file.
- `webhook_posts`: every POST made to a robot, by a hash of its URL: a robot takes at most 20
  messages a minute, counted across runs, and only the ledger remembers what earlier runs sent.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Table, Text

from ..ledger import metadata

#: A message that will not be retried: a channel refused it for good (e.g. a robot's keyword
#: check); recorded, shown with the alerts, and not sent again.
FAILED = "failed"

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
