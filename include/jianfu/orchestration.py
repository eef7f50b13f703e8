"""What the Airflow DAGs call: settings, work planning, one function per task, failure alerts.

The DAG files in dags/ stay thin (structure, schedules, retries) and call in here, so that the
same code runs under `dag.test()`, the embedded LocalExecutor and Celery workers, and can be
unit-tested without a scheduler. Nothing in this module touches the disk or a database at import
time: the DAG processor imports it on every parse.

Settings (SPEC.md sections 11-12). A task resolves its settings when it runs, never at parse time:

- Airflow Connections, when defined, give the endpoints: `jianfu_ledger` -> JIANFU_DB_URL,
  `jianfu_smtp` -> JIANFU_SMTP_URL, `jianfu_webhook` -> JIANFU_WEBHOOK_URL;
- Airflow Variables named after the lower-cased environment variable (`jianfu_home`,
  `jianfu_warehouse`, `jianfu_alert_emails`, ...) give everything else;
- otherwise the JIANFU_* environment of the worker, exactly as the CLI reads it.

Airflow wins over the environment because it is what an operator edits in the UI; both reach
Airflow through its secrets backends, so `AIRFLOW_VAR_JIANFU_HOME` and `AIRFLOW_CONN_JIANFU_LEDGER`
work too.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow.sdk import Asset

if TYPE_CHECKING:  # pragma: no cover - type names only
    from .config import Settings
    from .ingest.discover import Discovered

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------- assets
#: Updated by jianfu_ingest when a run accepted at least one new file; schedules jianfu_build.
ACCEPTED_SUBMISSIONS = Asset("jianfu://submissions/accepted")
#: Updated by jianfu_build after every successful publish; schedules jianfu_alerts.
WAREHOUSE = Asset("jianfu://warehouse")

#: Tags every jianfu DAG carries, so the UI can filter the project.
TAGS = ("jianfu", "减负")

#: Retries of every task: transient failures (a locked SQLite ledger, a restarted PostgreSQL, an
#: object store timing out) heal within minutes; real bugs fail after ~10 minutes, not hours.
RETRIES = 2
RETRY_DELAY = timedelta(minutes=2)
MAX_RETRY_DELAY = timedelta(minutes=10)

#: Upper bound of mapped ingest tasks per run; Variable `jianfu_ingest_max_batches` overrides it.
DEFAULT_MAX_BATCHES = 8

# ------------------------------------------------------------------------------------- settings
#: Environment variables an Airflow Variable of the same lower-case name may set.
VARIABLE_SETTINGS = (
    "JIANFU_HOME",
    "JIANFU_REFERENCE",
    "JIANFU_WAREHOUSE",
    "JIANFU_DB_URL",
    "JIANFU_SMTP_URL",
    "JIANFU_SMTP_FROM",
    "JIANFU_ALERT_EMAILS",
    "JIANFU_WEBHOOK_URL",
    "JIANFU_WEBHOOK_KIND",
    "JIANFU_WEBHOOK_SECRET",
    "JIANFU_CONSOLE_URL",
)

#: Airflow Connection id -> the environment variable its URL becomes.
CONNECTION_SETTINGS = {
    "jianfu_ledger": "JIANFU_DB_URL",
    "jianfu_smtp": "JIANFU_SMTP_URL",
    "jianfu_webhook": "JIANFU_WEBHOOK_URL",
}

#: Airflow conn_type -> SQLAlchemy driver name, for the ledger connection.
_SQLALCHEMY_DRIVERS = {
    "postgres": "postgresql+psycopg2",
    "postgresql": "postgresql+psycopg2",
    "mysql": "mysql+pymysql",
}


def _variable(key: str) -> str | None:
    """An Airflow Variable, or None when it is not defined or Airflow cannot be asked."""
    try:
        from airflow.sdk import Variable

        value = Variable.get(key, default=None)
    except Exception as exc:  # noqa: BLE001 - outside a task (unit tests, CLI) there is no Airflow
        log.debug("Variable %s not available: %s", key, exc)
        return None
    return None if value in (None, "") else str(value)


def _connection(conn_id: str) -> Any | None:
    """An Airflow Connection, or None when it is not defined or Airflow cannot be asked."""
    try:
        from airflow.sdk import Connection

        return Connection.get(conn_id)
    except Exception as exc:  # noqa: BLE001 - not defined is the normal case
        log.debug("Connection %s not available: %s", conn_id, exc)
        return None


def connection_url(conn_id: str, conn: Any) -> str:
    """The URL jianfu expects (SPEC.md section 11) for one of the CONNECTION_SETTINGS.

    An explicit `url` in the connection's extra always wins, so any URL can be configured even
    when the Airflow connection type has no natural mapping.
    """
    extra = dict(getattr(conn, "extra_dejson", None) or {})
    if extra.get("url"):
        return str(extra["url"])
    conn_type = (conn.conn_type or "").lower()
    host = conn.host or ""
    user = quote(conn.login, safe="") if conn.login else ""
    password = quote(conn.password, safe="") if conn.password else ""
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    port = f":{conn.port}" if conn.port else ""
    if conn_id == "jianfu_ledger":
        if conn_type == "sqlite":
            return f"sqlite:///{host or conn.schema}"
        driver = _SQLALCHEMY_DRIVERS.get(conn_type, conn_type)
        return f"{driver}://{auth}{host}{port}/{conn.schema or ''}"
    if conn_id == "jianfu_smtp":
        secure = str(extra.get("ssl", extra.get("use_ssl", ""))).lower() in ("1", "true", "yes")
        scheme = "smtps" if secure or conn_type == "smtps" else "smtp"
        return f"{scheme}://{auth}{host}{port}"
    if conn_id == "jianfu_webhook":
        if "://" in host:  # the whole robot URL pasted into Host, as the UI invites
            return host
        scheme = conn.schema or ("http" if conn_type == "http" else "https")
        return f"{scheme}://{host}{port}{extra.get('endpoint', '')}"
    raise ValueError(f"no URL mapping for connection {conn_id!r}")


def airflow_overrides() -> dict[str, str]:
    """JIANFU_* values configured in Airflow (Connections over Variables), for this task run."""
    found: dict[str, str] = {}
    for key in VARIABLE_SETTINGS:
        value = _variable(key.lower())
        if value is not None:
            found[key] = value
    for conn_id, key in CONNECTION_SETTINGS.items():
        conn = _connection(conn_id)
        if conn is not None:
            found[key] = connection_url(conn_id, conn)
    return found


#: Libraries whose INFO lines drown a task's own log (Great Expectations alone logs ~200 lines of
#: registrations per import); their warnings and errors still show.
QUIET_LOGGERS = ("great_expectations", "numexpr", "fsspec", "filelock", "urllib3", "matplotlib", "asyncio")


def quiet_third_party_logs() -> None:
    """Keep a task's log to what jianfu says, plus the warnings of the libraries it uses."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def task_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings for a task: the JIANFU_* environment overlaid with what Airflow configures.

    Every task calls this first, so it is also where the task's log is quietened.
    """
    from .config import Settings

    quiet_third_party_logs()
    env = dict(os.environ if environ is None else environ)
    env.update(airflow_overrides())
    return Settings.from_env(env)


def ensure_home(settings: Settings) -> None:
    """Lay out $JIANFU_HOME and the ledger if a fresh deployment has not yet (idempotent)."""
    from .home import init_home

    init_home(settings)


# ------------------------------------------------------------------------------ ingest batches
@dataclass(frozen=True)
class _Group:
    """Files that must be ingested by one task, in receipt order."""

    key: str
    paths: tuple[str, ...]
    size: int


def group_files(found: Sequence[Discovered], county_codes: frozenset[str]) -> list[_Group]:
    """Group discovered files so that versions of one county x kind x period never split.

    Supersede order only matters among files of one county, kind and period, so those must be
    decided by one ingest call, in receipt order. The kind is certain (the landing directory);
    the county is sniffed from the file name, which is how the templates name files but is not
    guaranteed. So: a kind whose every file names its county is grouped by county; a kind with
    even one file that does not is kept whole in one group. That is always safe, and still spreads
    the usual case (one file per county) across workers. Files of unknown kind (they will be
    rejected) form a group of their own.
    """
    from .schema import county_in_name

    by_kind: dict[str, list[Discovered]] = {}
    for item in found:  # `found` is in receipt order; every group keeps that order
        by_kind.setdefault(item.kind or "_unknown_kind", []).append(item)
    groups: list[_Group] = []
    for kind_name, items in by_kind.items():
        counties = [county_in_name(i.path.name, county_codes) for i in items]
        if kind_name == "_unknown_kind" or any(c is None for c in counties):
            keyed = {kind_name: items}
        else:
            keyed = {}
            for item, county in zip(items, counties, strict=True):
                keyed.setdefault(f"{kind_name}/{county}", []).append(item)
        for key, members in keyed.items():
            size = sum(_size(m.path) for m in members)
            groups.append(_Group(key, tuple(str(m.path) for m in members), size))
    return groups


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def pack_batches(groups: Sequence[_Group], max_batches: int) -> list[list[str]]:
    """At most `max_batches` batches of whole groups, balanced by bytes (largest group first).

    Deterministic for the same input, so a retried run plans the same work.
    """
    if not groups:
        return []
    count = max(1, min(max_batches, len(groups)))
    batches: list[list[_Group]] = [[] for _ in range(count)]
    loads = [0] * count
    for group in sorted(groups, key=lambda g: (-g.size, g.key)):
        target = min(range(count), key=lambda i: (loads[i], i))
        batches[target].append(group)
        loads[target] += group.size + 1
    return [[p for g in sorted(b, key=lambda g: g.key) for p in g.paths] for b in batches if b]


def _to_decide(settings: Settings, landed: Sequence[Discovered]) -> list[Discovered]:
    """Landed files not yet decided: new ones, and receipts a run left `received` (so a batch
    finishes them). The same test ingest itself applies, so an idle run maps no work."""
    from . import ledger
    from .ingest.pipeline import sort_by_receipt

    engine = ledger.connect(settings.db_url)
    try:
        ledger.create_schema(engine)
        with engine.connect() as conn:
            fresh, unfinished, _decided = sort_by_receipt(conn, list(landed))
    finally:
        engine.dispose()
    return sorted(fresh + unfinished, key=lambda d: (d.mtime_ns, str(d.path)))


def plan_ingest(settings: Settings, max_batches: int | None = None) -> list[list[str]]:
    """The mapped ingest work of one run: batches of landed files (absolute paths)."""
    from .config import load_rules
    from .ingest.discover import scan
    from .reference import Reference
    from .submission import shown

    ensure_home(settings)
    landing = scan([settings.landing], settle=load_rules(settings.reference)["landing_settle_seconds"])
    for skipped in landing.skipped:  # the run's summary of what is not received, and why
        log.warning("skipped %s: %s", shown(str(skipped.path)), skipped.reason)
    if landing.unsettled:
        log.info("%d file(s) still being copied, left for the next run", len(landing.unsettled))
    landed = landing.found
    found = _to_decide(settings, landed)
    if not found:
        log.info("nothing new in %s (%d file(s) already received)", settings.landing, len(landed))
        return []
    if max_batches is None:
        configured = _variable("jianfu_ingest_max_batches") or os.environ.get("JIANFU_INGEST_MAX_BATCHES")
        max_batches = int(configured) if configured else DEFAULT_MAX_BATCHES
    county_codes = Reference.load(settings.reference).county_codes
    batches = pack_batches(group_files(found, county_codes), max_batches)
    log.info("%d file(s) in %s -> %d batch(es)", len(found), settings.landing, len(batches))
    return batches


def ingest_batch(settings: Settings, paths: Sequence[str]) -> dict[str, Any]:
    """Ingest one batch; returns a JSON-able summary for XCom (counts and one line per file).

    GX Data Docs are rebuilt once per run by the DAG's data_docs task, not by every mapped task.
    """
    from .ingest.pipeline import ingest

    summary = ingest(settings, [Path(p) for p in paths], progress=log.info)
    log.info("%s", summary.describe())
    files = [
        {
            "file": o.file_name,
            "status": o.status,
            "kind": o.kind,
            "county_code": o.county_code,
            "period": o.period,
            "reason": o.reason,
            "report": o.report_path,
        }
        for o in summary.outcomes
    ]
    return {"accepted": summary.accepted, "already_seen": summary.already_seen, "files": files}


def merge_ingest_results(results: Iterable[Mapping[str, Any] | None]) -> dict[str, Any]:
    """The run's totals from the mapped results (failed batches have none)."""
    merged: dict[str, Any] = {"accepted": 0, "already_seen": 0, "by_status": {}, "files": []}
    for result in results:
        if not result:
            continue
        merged["accepted"] += int(result.get("accepted", 0))
        merged["already_seen"] += int(result.get("already_seen", 0))
        for item in result.get("files", []):
            merged["files"].append(item)
            status = item.get("status") or "?"
            merged["by_status"][status] = merged["by_status"].get(status, 0) + 1
    return merged


def describe_ingest_run(totals: Mapping[str, Any]) -> str:
    """The run's files and totals as the CLI words them, for the last lines of the task log."""
    lines = []
    for f in totals.get("files", []):
        where = " ".join(str(f.get(k) or "?") for k in ("kind", "county_code", "period"))
        lines.append(f"{f.get('status') or '?':<23} {f.get('file')}  [{where}]")
        if f.get("reason") and f.get("status") in ("rejected", "duplicate"):
            lines.append(f"{'':<23}   reason: {f['reason']}")
        if f.get("report"):
            lines.append(f"{'':<23}   report: {f['report']}")
    by_status = ", ".join(f"{n} {s}" for s, n in sorted(totals.get("by_status", {}).items()))
    seen = int(totals.get("already_seen", 0))
    lines.append(f"decided {len(totals.get('files', []))} file(s)" + (f": {by_status}" if by_status else "")
                 + (f"; {seen} already received before, skipped" if seen else ""))
    return "\n".join(lines)


def finish_ingest(results: Iterable[Mapping[str, Any] | None]) -> dict[str, Any]:
    """The run's totals, with the summary the CLI prints logged last."""
    totals = merge_ingest_results(results)
    log.info("%s", describe_ingest_run(totals))
    return totals


def refresh_data_docs(settings: Settings) -> None:
    """Rebuild the GX Data Docs once after the mapped ingests; never fails the run."""
    try:
        from .validate import build_data_docs

        build_data_docs(settings)
    except Exception:  # noqa: BLE001 - docs are a convenience, the ledger is the record
        log.warning("could not refresh the Great Expectations Data Docs", exc_info=True)


# ------------------------------------------------------------------------ build, alerts, status
def _jsonable(value: Any) -> Any:
    """A result object as something XCom can store (dataclasses, paths, dates -> plain types)."""
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def _describe(result: Any) -> str:
    describe = getattr(result, "describe", None)
    return describe() if callable(describe) else repr(result)


def build_warehouse(settings: Settings, full: bool = False) -> dict[str, Any]:
    """Publish the warehouse (single publisher: the DAG allows one run at a time)."""
    from .warehouse.build import build

    ensure_home(settings)
    result = build(settings, full=full, progress=log.info)
    log.info("%s", _describe(result))
    return _jsonable(result)


def run_quota_alerts(settings: Settings) -> dict[str, Any]:
    """Evaluate quotas and notify through the alert channels (SPEC.md section 9)."""
    from .alerts import run_alerts

    result = run_alerts(settings)
    pending = retry_failure_alerts(settings)
    if pending:
        log.warning("%d failure alert(s) still undelivered; retried on the next run", pending)
    log.info("%s", _describe(result))
    return _jsonable(result)


def as_of_date(settings: Settings, logical_date: datetime | None, override: str | None = None) -> date:
    """The day a status board is for: an explicit override, JIANFU_NOW, else the run's day.

    The run's logical date is used (in the office's time zone, Asia/Shanghai) rather than the
    wall clock, so that re-running a day's DAG run reproduces that day's board.
    """
    if override:
        return date.fromisoformat(str(override))
    if settings.env.get("JIANFU_NOW") or logical_date is None:
        return settings.office_today()
    return settings.office_date(logical_date)


def collection_status(settings: Settings, as_of: date, send_reminders: bool = True) -> dict[str, Any]:
    """The collection status board as of a day, sending the reminders that are due."""
    from .collection import status_board

    ensure_home(settings)
    board = status_board(settings, as_of=as_of, send_reminders=send_reminders)
    log.info("%s", _describe(board))
    return _jsonable(board)


# ----------------------------------------------------------------------------- failure alerts
#: Ledger topic of failure alerts: recorded like quota alerts, retried by the jianfu_alerts DAG.
FAILURE_TOPIC = "airflow_failure"


def failure_message(context: Mapping[str, Any]) -> tuple[str, str, str]:
    """(subject, body, markdown) saying which jianfu task failed for good and what to do."""
    from .notify import failure_message as compose

    return compose(context)


def notify_failure(context: Mapping[str, Any]) -> None:
    """on_failure_callback of every jianfu task: the office hears through the alert channels.

    A `jianfu.notify.LedgerNotifier`: recorded in the ledger like a quota alert (a failed delivery is
    retried by the next jianfu_alerts run), delivered unrecorded when the ledger is what broke.
    """
    from .notify import LedgerNotifier

    LedgerNotifier(task_settings, FAILURE_TOPIC).notify(context)


def retry_failure_alerts(settings: Settings) -> int:
    """Re-send failure alerts whose delivery failed before; returns how many are still pending."""
    from .notify import retry_pending

    outcomes = retry_pending(settings, FAILURE_TOPIC)
    return sum(1 for o in outcomes.values() if not getattr(o, "delivered", True))


def default_args() -> dict[str, Any]:
    """Task defaults shared by every jianfu DAG: retries with backoff and the failure alert.

    JIANFU_TASK_RETRIES and JIANFU_RETRY_DELAY_SECONDS override the retry policy (tests and the
    demo fail fast instead of waiting minutes); reading two variables is all this does at parse time.
    """
    retries = int(os.environ.get("JIANFU_TASK_RETRIES") or RETRIES)
    delay = os.environ.get("JIANFU_RETRY_DELAY_SECONDS")
    return {
        "owner": "jianfu",
        "retries": retries,
        "retry_delay": timedelta(seconds=float(delay)) if delay else RETRY_DELAY,
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": MAX_RETRY_DELAY,
        "on_failure_callback": notify_failure,
        # Each task logs the same human summary the CLI prints as its last line; the XCom dict
        # after it would only bury that.
        "show_return_value_in_logs": False,
    }
