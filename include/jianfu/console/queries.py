"""SQL the console's pages share: which months there are, and names beside codes.

Every figure a page shows is one of these queries or a page's own, over the warehouse views, so
the same SQL typed into `jianfu query` gives the same numbers (tests/test_console_queries.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

from ..config import Settings
from .store import Store

#: The months the warehouse holds monthly data for, newest first: those of a monthly kind's
#: version in force (the submissions table is small; the kind tables would be read whole).
PERIODS_SQL = """
SELECT DISTINCT period FROM submissions
WHERE kind IN ('form_counts', 'work_groups') AND status IN ('accepted', 'accepted_with_warnings')
ORDER BY period DESC
"""

#: A unit's name with its code: `黄梅镇 (421127100000)`; the code alone when reference lacks it.
UNIT_LABEL = "coalesce({u}.unit_name || ' (' || {code} || ')', {code})"
DEPT_LABEL = "coalesce({d}.dept_name || ' (' || {code} || ')', {code})"


SEVERITY = {"zh": {"critical": "严重", "warning": "警告", "info": "提示"},
            "en": {"critical": "critical", "warning": "warning", "info": "info"}}


def severity(value: str | None, lang: str) -> str | None:
    return SEVERITY.get(lang, SEVERITY["zh"]).get(value or "", value)


def unit_label(alias: str, code: str) -> str:
    return UNIT_LABEL.format(u=alias, code=code)


def dept_label(alias: str, code: str) -> str:
    return DEPT_LABEL.format(d=alias, code=code)


def periods(store: Store) -> list[str]:
    return [r["period"] for r in store.rows(PERIODS_SQL)]


def chosen_period(store: Store, asked: str, known: list[str] | None = None) -> str | None:
    """The month asked for when the warehouse has it (`known`: its months), else the latest month."""
    known = periods(store) if known is None else known
    if asked in known:
        return asked
    return known[0] if known else None


def counties(store: Store) -> list[tuple[str, str]]:
    """(code, `name (code)`) of every county in the reference, by code."""
    return [(r["unit_code"][:6], f"{r['unit_name']} ({r['unit_code'][:6]})")
            for r in store.rows("SELECT unit_code, unit_name FROM units WHERE level = 'county' ORDER BY unit_code")]


def county_names(store: Store) -> dict[str, str]:
    return {r["county_code"]: r["unit_name"]
            for r in store.rows("SELECT county_code, unit_name FROM units WHERE level = 'county'")}


def office_time(settings: Settings, value: datetime | None) -> str | None:
    """A moment as the office reads it: `YYYY-MM-DD HH:MM` in its time zone (naive values are UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(settings.office_tz).strftime("%Y-%m-%d %H:%M")
