"""What the quota alerts say, read from the warehouse (SPEC.md sections 8 and 9).

The flags table is the rule engine's verdict (which department is over or near its quota); this
module only reads it, together with quota_usage for the numbers and the inspections view for the
items counted, so that an alert never disagrees with the flags an analyst sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb

from ..config import RULE_DEFAULTS, ConfigError, Settings
from ..reference import Reference
from ..schema import FLAG_RULES
from ..warehouse.publish import Warehouse
from ..warehouse.views import connect

#: The rules that raise an alert (jianfu.schema.FLAG_RULES marks them), and the one that repeats.
ALERT_RULES = tuple(rule.name for rule in FLAG_RULES.values() if rule.notifies)
EXCEEDED = FLAG_RULES["DEPT_QUOTA_EXCEEDED"].name


@dataclass(frozen=True)
class CountedItem:
    """One inspection item counted against the quota: its visits summarised."""

    item_id: str
    topic: str
    first_date: date | None
    last_date: date | None
    targets: tuple[str, ...]  # target unit codes, sorted
    counties: tuple[str, ...]


@dataclass(frozen=True)
class QuotaAlert:
    rule: str
    dept_code: str
    year: int
    used: int
    quota: int
    items: tuple[CountedItem, ...] = field(default=(), compare=False)

    @property
    def key(self) -> str:
        """The alert key of SPEC.md section 9: (rule, dept_code, year), written as the flags write subjects."""
        return f"{self.rule}|{self.dept_code}|{self.year}"


def _columns(con: duckdb.DuckDBPyConnection, view: str) -> set[str]:
    return {row[0] for row in con.execute(f"DESCRIBE {view}").fetchall()}


def load_quota_alerts(settings: Settings, reference: Reference, rules: dict[str, float] | None = None,
                      with_items: bool = True) -> list[QuotaAlert]:
    """Every DEPT_QUOTA_* flag of the warehouse, with used and quota (and the items counted)."""
    warehouse = Warehouse(settings.warehouse)
    if not warehouse.files("flags"):
        raise ConfigError(f"the warehouse at {settings.warehouse} has no flags table yet: run `jianfu build` first")
    default_quota = int((rules or RULE_DEFAULTS)["default_dept_quota"])
    con = connect(settings.warehouse, tables=["flags", "quota_usage", "inspections"])
    try:
        views = {row[0] for row in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
        flag_cols = _columns(con, "flags")
        metric = "metric" if "metric" in flag_cols else "NULL"
        threshold = "threshold" if "threshold" in flag_cols else "NULL"
        flags = con.execute(
            f"""SELECT DISTINCT rule, dept_code, CAST(period AS VARCHAR) AS period,
                       {metric} AS metric, {threshold} AS threshold
                FROM flags WHERE rule IN ({", ".join(f"'{name}'" for name in ALERT_RULES)})
                ORDER BY rule, dept_code, period"""
        ).fetchall()
        usage: dict[tuple[str, int], tuple[int, int]] = {}
        if "quota_usage" in views:
            for dept, year, quota, used in con.execute(
                "SELECT dept_code, CAST(year AS INTEGER), quota, used FROM quota_usage"
            ).fetchall():
                usage[(dept, int(year))] = (int(quota), int(used))
        alerts = []
        for rule, dept, period, metric_value, _threshold in flags:
            year = int(str(period)[:4])
            if (dept, year) in usage:
                quota, used = usage[(dept, year)]
            else:
                quota = reference.quotas.get((dept, year), default_quota)
                used = int(metric_value) if metric_value is not None else 0
            items = _counted_items(con, dept, year) if with_items else ()
            if not used and items:
                used = len(items)
            alerts.append(QuotaAlert(rule, dept, year, int(used), int(quota), items))
        return alerts
    finally:
        con.close()


def _counted_items(con: duckdb.DuckDBPyConnection, dept_code: str, year: int) -> tuple[CountedItem, ...]:
    """Distinct item_ids of the department with a visit (status not cancelled) in the year."""
    cols = _columns(con, "inspections")
    eff = "eff_date" if "eff_date" in cols else "coalesce(actual_date, planned_date)"
    rows = con.execute(
        f"""SELECT item_id, min(topic), min({eff}), max({eff}),
                   list(DISTINCT target_unit_code ORDER BY target_unit_code),
                   list(DISTINCT county_code ORDER BY county_code)
            FROM inspections
            WHERE dept_code = ? AND CAST(year AS INTEGER) = ? AND status <> 'cancelled'
            GROUP BY item_id ORDER BY item_id""",
        [dept_code, year],
    ).fetchall()
    return tuple(CountedItem(r[0], r[1] or "", r[2], r[3], tuple(r[4] or ()), tuple(r[5] or ())) for r in rows)
