"""`jianfu init`: lay out $JIANFU_HOME and create the ledger, safely re-runnable."""

from __future__ import annotations

from pathlib import Path

from . import ledger
from .config import COLLECTION_DEFAULTS, RULE_DEFAULTS, Settings
from .schema import KINDS

RULES_HEADER = """\
# Thresholds of the flag rules (SPEC.md section 8). A missing key takes its default.
"""
COLLECTION_HEADER = """\
# Collection schedule (SPEC.md section 10). start: first period on the board (default: the
# earliest period received). Monthly kinds are due on due_day of the next month; the inspection
# plan is due on plan_due (MM-DD) of its year.
"""


def _write_if_missing(path: Path, text: str) -> bool:
    if path.exists():
        return False
    path.write_text(text, encoding="utf-8")
    return True


def default_rules_yaml() -> str:
    return RULES_HEADER + "".join(f"{key}: {value}\n" for key, value in RULE_DEFAULTS.items())


def default_collection_yaml() -> str:
    import yaml

    return COLLECTION_HEADER + yaml.safe_dump(COLLECTION_DEFAULTS, sort_keys=False, allow_unicode=True)


def init_home(settings: Settings) -> str:
    """Create the directories, default rules/collection files and the ledger schema."""
    created = []
    for folder in [settings.home, settings.reference, settings.raw_archive, settings.staging, settings.reports,
                   settings.outbox, *(settings.landing / k for k in KINDS)]:
        if not folder.exists():
            folder.mkdir(parents=True)
            created.append(str(folder))
    if "://" not in settings.warehouse:
        Path(settings.warehouse).mkdir(parents=True, exist_ok=True)
    if _write_if_missing(settings.reference / "rules.yaml", default_rules_yaml()):
        created.append(str(settings.reference / "rules.yaml"))
    if _write_if_missing(settings.reference / "collection.yaml", default_collection_yaml()):
        created.append(str(settings.reference / "collection.yaml"))
    engine = ledger.connect(settings.db_url)
    try:
        ledger.create_schema(engine)
    finally:
        engine.dispose()
    lines = [f"jianfu home: {settings.home}", f"ledger: {_safe_url(settings.db_url)}"]
    lines += [f"created {c}" for c in created] or ["nothing to create: already initialised"]
    missing = [n for n in ("units.csv", "departments.csv") if not (settings.reference / n).exists()]
    if missing:
        lines.append(f"next: put the office's {', '.join(missing)} in {settings.reference} "
                     "(columns in SPEC.md section 3)")
    return "\n".join(lines)


def _safe_url(url: str) -> str:
    """The database URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
