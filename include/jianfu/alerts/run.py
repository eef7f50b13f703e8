"""`jianfu alerts`: decide which quota alerts are due, deliver them once, export the `alerts` table.

The rule of SPEC.md section 9, per key (rule, dept_code, year):
- due when the key has never been delivered, or (EXCEEDED only) when `used` is above the `used` of
  the last delivered alert. WARNING never repeats for the same year.
- a pending (not yet delivered) alert with the same used and quota is retried as it is; one whose
  numbers changed is marked superseded and, if an alert is still due, a new one with the current
  numbers replaces it.
- a pending alert whose flag no longer fires is still retried ("nothing is lost"): it reports the
  numbers of its time, and its text says which.

Deciding and writing the new alerts happens in one ledger transaction (serialised between runs);
sending happens outside it, through jianfu.notify.store.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa
from sqlalchemy import select, text
from sqlalchemy.engine import Connection, Engine

from ..config import Settings, load_rules
from ..ledger import as_naive_utc, connect, create_schema
from ..ledger.delivery import DELIVERED, FAILED, PENDING, SUPERSEDED, alert_notifications, notifications
from ..notify import Notification, required_channels, store
from ..notify.mail import smtp_endpoint
from ..reference import Reference
from ..schema import ALERTS_SCHEMA
from ..warehouse.publish import Warehouse
from . import messages
from .quota import EXCEEDED, QuotaAlert, load_quota_alerts

TOPIC = "quota_alert"



@dataclass
class AlertNotice:
    """One alert this run sent, retried or (dry run) would send."""

    key: str
    rule: str
    dept: str
    year: int
    used: int
    quota: int
    channels: tuple[str, ...]  # channels that have delivered it (dry run: would be tried)
    delivered: bool
    action: str  # new | retry | dry-run
    notification_id: str | None = None
    errors: dict[str, str] = field(default_factory=dict)
    failed: bool = False  # refused for good (e.g. a robot's keyword check): recorded, not retried


@dataclass
class AlertRun:
    flags: int  # quota flags in the warehouse
    notifications: list[AlertNotice] = field(default_factory=list)
    superseded: int = 0
    dry_run: bool = False

    def describe(self) -> str:
        if not self.notifications:
            return (f"alerts: {self.flags} quota flag(s); nothing to notify"
                    + (" (dry run)" if self.dry_run else "") + ".")
        lines = [f"alerts: {self.flags} quota flag(s); "
                 + (f"{len(self.notifications)} notification(s) would be sent (dry run)" if self.dry_run else
                    f"{sum(n.delivered for n in self.notifications)} of {len(self.notifications)} "
                    "notification(s) delivered")]
        for n in self.notifications:
            state = ("would send" if self.dry_run else "delivered" if n.delivered else
                     "FAILED, not retried" if n.failed else "NOT delivered, will retry")
            lines.append(f"  {n.rule} {n.dept} {n.year}: used {n.used} / quota {n.quota} "
                         f"[{n.action}] {state} via {','.join(n.channels) or '-'}")
            for channel, error in sorted(n.errors.items()):
                lines.append(f"    {channel} failed: {error}")
        return "\n".join(lines)


def _lock(conn: Connection) -> None:
    """Serialise alert decisions between runs (SQLite: BEGIN IMMEDIATE already does)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(74255108)"))


def _history(conn: Connection, key: str) -> list:
    query = (select(alert_notifications, notifications.c.state, notifications.c.created_at)
             .join(notifications, notifications.c.notification_id == alert_notifications.c.notification_id)
             .where(alert_notifications.c.alert_key == key)
             .order_by(notifications.c.created_at, notifications.c.notification_id))
    return list(conn.execute(query).mappings())


def _is_due(alert: QuotaAlert, delivered: list) -> bool:
    """Never delivered, or EXCEEDED with `used` above the last delivered one.

    An EXCEEDED alert is only ever created with `used` above every delivered one, so the delivered
    `used` values of a key only grow: the last delivered is the largest, whatever the clock says
    (JIANFU_NOW pinned, or two runs in the same microsecond).
    """
    if not delivered:
        return True
    return alert.rule == EXCEEDED and alert.used > max(d["used"] for d in delivered)


def _plan(conn: Connection, alert: QuotaAlert) -> tuple[bool, list[str]]:
    """(create a new notification?, pending ids to supersede) for one flagged key."""
    history = _history(conn, alert.key)
    # A message a robot refused for good counts as sent: re-creating it every run would only fail again.
    delivered = [h for h in history if h["state"] in (DELIVERED, FAILED)]
    pending = [h for h in history if h["state"] == PENDING]
    current = [p for p in pending if (p["used"], p["quota"]) == (alert.used, alert.quota)]
    stale = [p["notification_id"] for p in pending if p not in current]
    create = not current and _is_due(alert, delivered)
    return create, stale


def _notification(settings: Settings, reference: Reference, alert: QuotaAlert, warn_ratio: float,
                  created: datetime) -> Notification:
    recipients = list(settings.alert_emails)
    dept = reference.departments.get(alert.dept_code)
    if dept and dept.contact_email and dept.contact_email not in recipients:
        recipients.append(dept.contact_email)
    return Notification(
        notification_id=uuid.uuid4().hex,
        subject=messages.subject(alert, reference),
        body=messages.body(alert, reference, warn_ratio),
        markdown=messages.markdown(alert, reference, warn_ratio),
        recipients=tuple(recipients),
        created_at=created,
    )


def run_alerts(settings: Settings, *, dry_run: bool = False) -> AlertRun:
    """Evaluate the quota flags of the warehouse and deliver the alerts that are due."""
    if settings.smtp_url:
        smtp_endpoint(settings.smtp_url)  # a malformed URL is a usage error, not a failed delivery
    reference = Reference.load(settings.reference)
    rules = load_rules(settings.reference)
    warn_ratio = float(rules["quota_warning_ratio"])
    alerts = load_quota_alerts(settings, reference, rules)
    engine = connect(settings.db_url)
    try:
        create_schema(engine)
        if dry_run:
            return _dry_run(engine, settings, reference, alerts, warn_ratio)
        run = AlertRun(flags=len(alerts))
        new_ids: dict[str, QuotaAlert] = {}
        created = settings.now()
        with engine.begin() as conn:
            _lock(conn)
            for alert in alerts:
                create, stale = _plan(conn, alert)
                store.set_state(conn, stale, SUPERSEDED)
                run.superseded += len(stale)
                if create:
                    note = _notification(settings, reference, alert, warn_ratio, created)
                    store.create(conn, TOPIC, note)
                    conn.execute(alert_notifications.insert().values(
                        notification_id=note.notification_id, alert_key=alert.key, rule=alert.rule,
                        dept_code=alert.dept_code, year=alert.year, used=alert.used, quota=alert.quota))
                    new_ids[note.notification_id] = alert
        claimed = store.claim(engine, TOPIC)
        outcomes = store.send_claimed(engine, settings, claimed)
        with engine.connect() as conn:
            about = {r["notification_id"]: r for r in conn.execute(
                select(alert_notifications).where(alert_notifications.c.notification_id.in_(list(outcomes)))
            ).mappings()}
        for nid, outcome in outcomes.items():
            a = about[nid]
            run.notifications.append(AlertNotice(
                a["alert_key"], a["rule"], a["dept_code"], a["year"], a["used"], a["quota"],
                outcome.delivered_channels, outcome.delivered, "new" if nid in new_ids else "retry",
                nid, outcome.errors, outcome.failed))
        export_alerts(settings, engine)
        return run
    finally:
        engine.dispose()


def _dry_run(engine: Engine, settings: Settings, reference: Reference, alerts: list[QuotaAlert],
             warn_ratio: float) -> AlertRun:
    """What a real run would send, without sending or writing anything."""
    run = AlertRun(flags=len(alerts), dry_run=True)
    with engine.connect() as conn:
        for alert in alerts:
            create, stale = _plan(conn, alert)
            run.superseded += len(stale)
            if create:
                note = _notification(settings, reference, alert, warn_ratio, settings.now())
                run.notifications.append(AlertNotice(alert.key, alert.rule, alert.dept_code, alert.year,
                                                     alert.used, alert.quota,
                                                     required_channels(settings, note), False, "dry-run"))
        retried = conn.execute(
            select(alert_notifications)
            .join(notifications, notifications.c.notification_id == alert_notifications.c.notification_id)
            .where(notifications.c.state == PENDING)
        ).mappings()
        for a in retried:
            if any(n.key == a["alert_key"] for n in run.notifications):
                continue
            run.notifications.append(AlertNotice(a["alert_key"], a["rule"], a["dept_code"], a["year"],
                                                 a["used"], a["quota"], (), False, "retry",
                                                 a["notification_id"]))
    return run


def alerts_table(engine: Engine) -> pa.Table:
    """Every quota alert ever recorded, oldest first, in the `alerts` shape of SPEC.md section 7.

    notified_at is when it was delivered, or (not delivered) its last attempt; channels lists the
    channels that delivered it; delivered is true once every required channel succeeded.
    """
    query = (select(alert_notifications, notifications.c.state, notifications.c.created_at,
                    notifications.c.delivered_at, notifications.c.last_attempt_at,
                    notifications.c.channels_delivered)
             .join(notifications, notifications.c.notification_id == alert_notifications.c.notification_id)
             .order_by(notifications.c.created_at, alert_notifications.c.alert_key,
                       alert_notifications.c.used, notifications.c.notification_id))
    with engine.connect() as conn:
        rows = list(conn.execute(query).mappings())

    def utc(value: datetime | None) -> datetime | None:
        if value is None:
            return None
        return as_naive_utc(value).replace(tzinfo=UTC)

    return pa.table({
        "alert_key": [r["alert_key"] for r in rows],
        "rule": [r["rule"] for r in rows],
        "dept_code": [r["dept_code"] for r in rows],
        "year": [r["year"] for r in rows],
        "used": [r["used"] for r in rows],
        "quota": [r["quota"] for r in rows],
        "notified_at": [utc(r["delivered_at"] or r["last_attempt_at"]) for r in rows],
        "channels": [r["channels_delivered"] or "" for r in rows],
        "delivered": [r["state"] == DELIVERED for r in rows],
    }, schema=ALERTS_SCHEMA)


def export_alerts(settings: Settings, engine: Engine) -> None:
    """Publish the `alerts` warehouse table from the ledger (the ledger is the record)."""
    warehouse = Warehouse(settings.warehouse)
    with warehouse.lock():
        warehouse.publish_table("alerts", alerts_table(engine))
