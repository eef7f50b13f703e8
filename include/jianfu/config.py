"""Where jianfu keeps things and which thresholds it applies (SPEC.md sections 3, 8, 10, 11).

Settings come from the JIANFU_* environment; inside Airflow the DAG layer may fill the same
environment from Connections and Variables before calling in (see jianfu.orchestration).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

#: The office's time zone (SPEC.md section 12): due dates, "received in a month", every time shown.
OFFICE_TIMEZONE = "Asia/Shanghai"

#: Robot platforms a webhook may be (SPEC.md section 9); each has its own body and signature.
WEBHOOK_KINDS = ("dingtalk", "wecom", "feishu", "generic")

#: Sender of every e-mail when JIANFU_SMTP_FROM is unset (SPEC.md section 11).
DEFAULT_SMTP_FROM = "jianfu@localhost"

#: The console a message links to when JIANFU_CONSOLE_URL is unset: `jianfu serve`'s default address.
DEFAULT_CONSOLE_URL = "http://127.0.0.1:8090/"

#: Processes of a command-line ingest when JIANFU_INGEST_WORKERS is unset (capped at the cores).
DEFAULT_INGEST_WORKERS = 2
#: DuckDB's memory limit in a build when JIANFU_BUILD_MEMORY is unset.
DEFAULT_BUILD_MEMORY = "1GiB"

#: rules.yaml keys and their defaults (SPEC.md section 8).
RULE_DEFAULTS: dict[str, float] = {
    "form_similarity_min": 0.6,
    "form_duplicate_max_pairs": 5000,
    "unit_monthly_fills_max": 60,
    "zombie_days": 90,
    "temporary_grace_days": 7,
    "temporary_max_days": 180,
    "unit_groups_max": 15,
    "target_quarter_visits_max": 2,
    "merge_window_days": 30,
    "quota_warning_ratio": 0.8,
    "default_dept_quota": 2,
    # admission check (section 10)
    "admission_review_min": 0.3,
    # collection reminders (section 10)
    "reminder_interval_days": 7,
    # joint visits (section 13): days a planned visit may move either way to be merged
    "joint_shift_days": 15,
    # intake (section 5): a file changed more recently than this may still be being copied
    "landing_settle_seconds": 60,
}

#: collection.yaml defaults (SPEC.md section 10).
COLLECTION_DEFAULTS: dict[str, Any] = {
    "start": None,  # earliest period received
    "kinds": {
        "form_counts": {"cadence": "monthly", "due_day": 5},
        "work_groups": {"cadence": "monthly", "due_day": 5},
        "inspections": {"cadence": "yearly", "plan_due": "01-31", "updates": "monthly"},
    },
    "reminder_interval_days": 7,
}


class JianfuError(Exception):
    """A failure jianfu can explain in one line to the person running it (no traceback needed)."""


class ConfigError(JianfuError):
    """A setting or reference file is wrong; the message says which and how to fix it."""


#: Environment variable of the warehouse publish's kill-test hook (Settings.publish_pause).
SLOW_PUBLISH_ENV = "JIANFU_TEST_SLOW_PUBLISH"


@dataclass(frozen=True)
class Settings:
    """Every location and endpoint jianfu uses, resolved once."""

    home: Path
    reference: Path
    warehouse: str  # local path or object-store URL
    db_url: str
    smtp_url: str | None = None
    alert_emails: tuple[str, ...] = ()
    webhook_url: str | None = None
    webhook_kind: str | None = None  # JIANFU_WEBHOOK_KIND; None: guessed from the URL's host
    webhook_secret: str | None = field(default=None, repr=False)  # DingTalk 加签 / Feishu signature
    smtp_from: str = DEFAULT_SMTP_FROM  # the office's name and address on every e-mail
    console_url: str = DEFAULT_CONSOLE_URL  # where messages point the office for details
    env: dict[str, str] = field(default_factory=dict, repr=False)
    #: Seconds a warehouse publish pauses after each file (kill tests only; see warehouse/publish.py).
    publish_pause: float | None = None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        home = Path(env.get("JIANFU_HOME") or "./data").expanduser().absolute()
        reference = Path(env.get("JIANFU_REFERENCE") or home / "reference").expanduser().absolute()
        warehouse = env.get("JIANFU_WAREHOUSE") or str(home / "warehouse")
        if "://" not in warehouse:
            warehouse = str(Path(warehouse).expanduser().absolute())
        db_url = env.get("JIANFU_DB_URL") or f"sqlite:///{home / 'ledger.db'}"
        emails = tuple(e.strip() for e in (env.get("JIANFU_ALERT_EMAILS") or "").split(",") if e.strip())
        kind = (env.get("JIANFU_WEBHOOK_KIND") or "").strip().lower() or None
        if kind is not None and kind not in WEBHOOK_KINDS:
            raise ConfigError(f"JIANFU_WEBHOOK_KIND {kind!r} is not one of {', '.join(WEBHOOK_KINDS)}")
        return cls(
            home=home,
            reference=reference,
            warehouse=warehouse,
            db_url=db_url,
            smtp_url=env.get("JIANFU_SMTP_URL") or None,
            alert_emails=emails,
            webhook_url=env.get("JIANFU_WEBHOOK_URL") or None,
            webhook_kind=kind,
            webhook_secret=env.get("JIANFU_WEBHOOK_SECRET") or None,
            smtp_from=env.get("JIANFU_SMTP_FROM") or DEFAULT_SMTP_FROM,
            console_url=env.get("JIANFU_CONSOLE_URL") or DEFAULT_CONSOLE_URL,
            env=env,
            publish_pause=float(env[SLOW_PUBLISH_ENV]) if env.get(SLOW_PUBLISH_ENV) else None,
        )

    # Derived locations. Kept here so that every stage agrees on them.
    @property
    def landing(self) -> Path:
        return self.home / "landing"

    @property
    def raw_archive(self) -> Path:
        return self.home / "raw"

    @property
    def staging(self) -> Path:
        return self.home / "staging"

    @property
    def reports(self) -> Path:
        return self.home / "reports"

    @property
    def outbox(self) -> Path:
        return self.home / "outbox"

    def now(self) -> datetime:
        """The current time, in UTC. JIANFU_NOW (ISO 8601) pins it for tests and demos."""
        pinned = self.env.get("JIANFU_NOW")
        if pinned:
            value = datetime.fromisoformat(pinned)
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        return datetime.now(UTC)

    @property
    def office_tz(self) -> ZoneInfo:
        """The office's time zone: Asia/Shanghai unless JIANFU_TIMEZONE names another."""
        name = self.env.get("JIANFU_TIMEZONE") or OFFICE_TIMEZONE
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"JIANFU_TIMEZONE {name!r} is not a known time zone (e.g. {OFFICE_TIMEZONE})") from None

    def office_date(self, value: datetime) -> date:
        """The office's calendar day of a moment (naive times, as the ledger keeps them, are UTC)."""
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(self.office_tz).date()

    def office_today(self) -> date:
        """The office's calendar day now (honours JIANFU_NOW): the natural default `as_of`."""
        return self.office_date(self.now())

    @property
    def build_memory_limit(self) -> str:
        """JIANFU_BUILD_MEMORY: DuckDB's memory limit in `jianfu build` (DuckDB syntax, e.g. 1GiB);
        past it DuckDB spills to disk, so the build fits a small worker whatever the month's size."""
        return self.env.get("JIANFU_BUILD_MEMORY") or DEFAULT_BUILD_MEMORY

    @property
    def ingest_workers(self) -> int:
        """JIANFU_INGEST_WORKERS: processes `jianfu ingest` checks batches of files in (default: two,
        or one on a one-core machine); each holds one batch, so memory grows with this number."""
        text = self.env.get("JIANFU_INGEST_WORKERS")
        if not text:
            return min(DEFAULT_INGEST_WORKERS, os.cpu_count() or 1)
        try:
            workers = int(text)
        except ValueError:
            workers = 0
        if workers < 1:
            raise ConfigError(f"JIANFU_INGEST_WORKERS={text!r}: give a whole number of processes, 1 or more "
                              f"/ 请填写不小于1的整数")
        return workers

    @property
    def console_token(self) -> str | None:
        """JIANFU_CONSOLE_TOKEN: the secret `jianfu serve` asks for; without it, it serves loopback only."""
        return self.env.get("JIANFU_CONSOLE_TOKEN") or None


def _load_yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of keys to values")
    return data


def load_rules(reference: Path) -> dict[str, float]:
    """Thresholds of rules.yaml; missing keys take their defaults, unknown keys are an error."""
    data = _load_yaml(reference / "rules.yaml")
    unknown = sorted(set(data) - set(RULE_DEFAULTS))
    if unknown:
        raise ConfigError(
            f"{reference / 'rules.yaml'}: unknown key(s) {', '.join(unknown)}; "
            f"known keys are {', '.join(sorted(RULE_DEFAULTS))}"
        )
    rules = dict(RULE_DEFAULTS)
    for key, value in data.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ConfigError(f"{reference / 'rules.yaml'}: {key} must be a number, got {value!r}")
        rules[key] = value
    return rules


def load_collection(reference: Path) -> dict[str, Any]:
    """collection.yaml merged over its defaults (one level deep per kind)."""
    data = _load_yaml(reference / "collection.yaml")
    merged: dict[str, Any] = {k: v for k, v in COLLECTION_DEFAULTS.items() if k != "kinds"}
    merged["kinds"] = {k: dict(v) for k, v in COLLECTION_DEFAULTS["kinds"].items()}
    for key, value in data.items():
        if key == "kinds" and isinstance(value, dict):
            for kind_name, spec in value.items():
                merged["kinds"].setdefault(kind_name, {}).update(spec or {})
        else:
            merged[key] = value
    return merged
