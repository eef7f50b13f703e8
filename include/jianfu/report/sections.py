"""The sections of the monthly bulletin (SPEC.md section 17), one small function each.

Every number is read from the warehouse views (jianfu.warehouse.views), with the SQL an analyst
would type into `jianfu query`, so the bulletin and a query can never disagree. A section whose
table is not in the warehouse (reduction) says so in a note instead of failing: it fills in by
itself once the build publishes that table. Joint visits are not a table: they are computed as of
the month's last day with `jianfu joint`'s own function.

A section function takes the `Scope` and returns a `Section`; SECTIONS lists them in print order.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb

from .. import charts
from ..collection.board import LATE, MISSING, PENDING
from ..config import Settings
from ..joint import JointResult, Summary, joint_result
from ..ledger import ACCEPTED_STATUSES, REJECTED
from .model import Column, Section


@dataclass
class Scope:
    """What a bulletin covers: one month, every county or one, read through one DuckDB connection."""

    con: duckdb.DuckDBPyConnection
    period: str  # YYYY-MM
    county: str | None
    tables: set[str]
    settings: Settings | None = None  # for what is computed, not stored: joint visits (SPEC 13)
    _joint: JointResult | None = None

    @property
    def month_end(self) -> date:
        year, month = int(self.period[:4]), int(self.period[5:])
        return date(year, month, calendar.monthrange(year, month)[1])

    def joint(self) -> JointResult | None:
        """SPEC 13's proposals for the bulletin's year as of its month's last day (what `jianfu joint
        --year Y --as-of` that day prints), computed once per bulletin; None without settings."""
        if self._joint is None and self.settings is not None and "inspections" in self.tables:
            self._joint = joint_result(self.settings, self.year, self.month_end)
        return self._joint

    @property
    def year(self) -> int:
        return int(self.period[:4])

    @property
    def quarter(self) -> str:
        return f"{self.period[:4]}-Q{(int(self.period[5:]) - 1) // 3 + 1}"

    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        """Rows of a query; `$county` (NULL: every county), `$period` and `$year` are always bound."""
        values = {"county": self.county, "period": self.period, "year": self.year, **params}
        used = {k: v for k, v in values.items() if f"${k}" in sql}
        cursor = self.con.execute(sql, used)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


#: The county column every per-county table starts with.
COUNTY_COLUMNS = [Column("county_code", "县代码", "county"), Column("county_name", "县(市、区)", "county name")]

#: Counties in scope, by name: the left side of every per-county table (a county with nothing shows zeros).
COUNTIES = """
    SELECT unit_code[1:6] AS county_code, unit_name AS county_name
    FROM units WHERE level = 'county' AND ($county IS NULL OR unit_code[1:6] = $county)
"""


def _flag_counts(rules: dict[str, str]) -> str:
    """Per-county count columns of flags, one per rule (the rule's own period is matched by the caller)."""
    return ",\n".join(f"count(*) FILTER (WHERE rule = '{rule}') AS {column}" for column, rule in rules.items())


def _per_county(scope: Scope, sums: dict[str, str], rules: dict[str, str]) -> list[dict[str, Any]]:
    """Per county in scope: sums over the month's burden rows and counts of the month's flags (0 when none)."""
    measures = ", ".join(f"{expr} AS {name}" for name, expr in sums.items())
    picked = ", ".join([f"coalesce(b.{n}, 0) AS {n}" for n in sums] + [f"coalesce(f.{n}, 0) AS {n}" for n in rules])
    return scope.rows(f"""
        WITH b AS (SELECT county_code, {measures} FROM burden WHERE period = $period GROUP BY county_code),
        f AS (SELECT county_code, {_flag_counts(rules)} FROM flags WHERE period = $period GROUP BY county_code)
        SELECT c.county_code, c.county_name, {picked}
        FROM ({COUNTIES}) c LEFT JOIN b USING (county_code) LEFT JOIN f USING (county_code)
        ORDER BY c.county_code""")


def collection(scope: Scope) -> Section:
    section = Section("collection", "一、数据报送情况", "1. Collection record")
    if "collection_status" not in scope.tables:
        section.notes.append("报送看板尚未生成：请先运行 `jianfu status`。/ No collection board yet: run `jianfu status`.")
        return section
    on_time = ", ".join(f"'{s}'" for s in ACCEPTED_STATUSES)
    section.rows = scope.rows(f"""
        WITH cells AS (
            SELECT * FROM collection_status
            WHERE (kind IN ('form_counts', 'work_groups') AND period = $period)
               OR (kind = 'inspections' AND period = CAST($year AS VARCHAR))
        )
        SELECT c.county_code, c.county_name,
               count(s.status) FILTER (WHERE s.status IN ({on_time})) AS on_time,
               count(s.status) FILTER (WHERE s.status = '{LATE}') AS late,
               count(s.status) FILTER (WHERE s.status = '{MISSING}') AS missing,
               count(s.status) FILTER (WHERE s.status = '{REJECTED}') AS rejected,
               count(s.status) FILTER (WHERE s.status = '{PENDING}') AS pending
        FROM ({COUNTIES}) c LEFT JOIN cells s USING (county_code)
        GROUP BY ALL ORDER BY c.county_code""")
    section.columns = [*COUNTY_COLUMNS, Column("on_time", "按时通过", "on time", True),
                       Column("late", "逾期", "late", True), Column("missing", "未报", "missing", True),
                       Column("rejected", "退回", "rejected", True), Column("pending", "未到期", "pending", True)]
    totals = section.totals()
    section.headline = [("按时通过 / on time", totals["on_time"]), ("逾期 / late", totals["late"]),
                        ("未报 / missing", totals["missing"]), ("退回 / rejected", totals["rejected"])]
    cells = scope.rows(f"""
        SELECT s.county_code, c.county_name, s.kind, s.period, s.status
        FROM collection_status s JOIN ({COUNTIES}) c USING (county_code)
        WHERE (s.kind <> 'inspections' AND s.period <= $period
               AND s.period > strftime(CAST($period || '-01' AS DATE) - INTERVAL 6 MONTH, '%Y-%m'))
           OR (s.kind = 'inspections' AND s.period = CAST($year AS VARCHAR))""")
    section.chart = charts.collection_grid(cells) if cells else None
    return section


BURDEN_FLAGS = {"overloaded_units": "UNIT_REPORTING_OVERLOAD", "duplicate_pairs": "FORM_DUPLICATE_ACROSS_DEPTS",
                "over_frequency": "FORM_OVER_FREQUENCY"}


def burden(scope: Scope) -> Section:
    section = Section("burden", "二、报表填报负担", "2. Reporting burden")
    section.rows = _per_county(scope, {"fills": "sum(fills)", "field_entries": "sum(field_entries)",
                                       "hours": "round(sum(hours), 1)"}, BURDEN_FLAGS)
    section.columns = [*COUNTY_COLUMNS, Column("fills", "填报次数", "fills", True),
                       Column("field_entries", "填报字段数", "field entries", True),
                       Column("hours", "耗时(小时)", "hours", True),
                       Column("overloaded_units", "超负荷单位", "overloaded units", True),
                       Column("duplicate_pairs", "跨部门重复报表", "duplicate form pairs", True),
                       Column("over_frequency", "超频次报表", "over-frequent forms", True)]
    _add_reduction_columns(scope, section, {"forms_cancelled": ("取消填报报表", "forms cancelled"),
                                            "forms_less_frequent": ("降低频次报表", "forms less frequent")})
    totals = section.totals()
    section.headline = [("填报次数 / fills", totals["fills"]), ("耗时(小时) / hours", round(totals["hours"], 1)),
                        ("超负荷单位 / overloaded units", totals["overloaded_units"]),
                        ("跨部门重复报表 / duplicate form pairs", totals["duplicate_pairs"])]
    townships = scope.rows("""
        SELECT b.unit_code, u.unit_name, b.fills
        FROM burden b JOIN units u USING (unit_code)
        WHERE b.period = $period AND u.level = 'township' AND ($county IS NULL OR b.county_code = $county)""")
    section.chart = charts.township_ranking(townships, top=10) if townships else None
    return section


GROUP_FLAGS = {"zombie": "GROUP_ZOMBIE", "temporary_overdue": "GROUP_TEMPORARY_OVERDUE",
               "duplicate": "GROUP_DUPLICATE", "overloaded_units": "UNIT_GROUP_OVERLOAD"}


def groups(scope: Scope) -> Section:
    section = Section("groups", "三、工作群", "3. Work groups")
    section.rows = _per_county(scope, {"groups": "sum(groups)"}, GROUP_FLAGS)
    section.columns = [*COUNTY_COLUMNS, Column("groups", "工作群数", "groups", True),
                       Column("zombie", "僵尸群", "zombie", True),
                       Column("temporary_overdue", "临时群逾期未解散", "temporary overdue", True),
                       Column("duplicate", "重复建群", "duplicate", True),
                       Column("overloaded_units", "群过多单位", "units with too many groups", True)]
    _add_reduction_columns(scope, section, {"groups_dissolved": ("已解散", "dissolved")})
    totals = section.totals()
    section.headline = [("工作群 / groups", totals["groups"]), ("僵尸群 / zombie", totals["zombie"]),
                        ("临时群逾期 / temporary overdue", totals["temporary_overdue"]),
                        ("重复建群 / duplicate", totals["duplicate"])]
    by_county = scope.rows(f"""
        SELECT f.county_code, c.county_name, f.rule, count(*) AS count
        FROM flags f JOIN ({COUNTIES}) c USING (county_code)
        WHERE f.period = $period AND f.rule IN ({", ".join(f"'{r}'" for r in GROUP_FLAGS.values())})
        GROUP BY ALL""")
    section.chart = charts.flags_by_county(by_county) if by_county else None
    return section


def inspections(scope: Scope) -> Section:
    section = Section("inspections", "四、督查检查考核", "4. Inspections")
    section.rows = scope.rows(f"""
        WITH v AS (
            SELECT county_code, count(*) AS visits FROM inspections
            WHERE status <> 'cancelled' AND strftime(eff_date, '%Y-%m') = $period GROUP BY county_code
        ), f AS (
            SELECT county_code,
                   count(*) FILTER (WHERE rule = 'INSPECTION_TARGET_OVERFREQUENT' AND period = $quarter) AS overfrequent_targets,
                   count(*) FILTER (WHERE rule = 'INSPECTION_UNCOORDINATED' AND period = CAST($year AS VARCHAR)) AS uncoordinated_pairs,
                   count(*) FILTER (WHERE rule = 'INSPECTION_UNPLANNED' AND period = CAST($year AS VARCHAR)) AS unplanned_items,
                   count(*) FILTER (WHERE rule = 'INSPECTION_REPEATED_TOPIC' AND period = CAST($year AS VARCHAR)) AS repeated_topics
            FROM flags GROUP BY county_code
        )
        SELECT c.county_code, c.county_name, coalesce(v.visits, 0) AS visits,
               coalesce(f.overfrequent_targets, 0) AS overfrequent_targets,
               coalesce(f.uncoordinated_pairs, 0) AS uncoordinated_pairs,
               coalesce(f.unplanned_items, 0) AS unplanned_items, coalesce(f.repeated_topics, 0) AS repeated_topics
        FROM ({COUNTIES}) c LEFT JOIN v USING (county_code) LEFT JOIN f USING (county_code)
        ORDER BY c.county_code""", quarter=scope.quarter)
    section.columns = [*COUNTY_COLUMNS, Column("visits", "本月检查次数", "visits this month", True),
                       Column("overfrequent_targets", f"本季超频对象({scope.quarter})", "over-frequent targets", True),
                       Column("uncoordinated_pairs", "未统筹检查对", "uncoordinated pairs", True),
                       Column("unplanned_items", "计划外未报批", "unplanned items", True),
                       Column("repeated_topics", "重复主题", "repeated topics", True)]
    joint = scope.joint()
    if joint is not None:
        section.columns += [Column("joint_proposals", "建议联合检查", "joint visits proposed", True),
                            Column("joint_saved", "可减少检查", "visits saved", True)]
        saved: dict[str, int] = {}
        for p in joint.proposals:
            saved[p.county_code] = saved.get(p.county_code, 0) + p.visits_saved
        for row in section.rows:
            found = joint.summary.by_county.get(row["county_code"])
            row["joint_proposals"] = found.proposals if found else 0
            row["joint_saved"] = saved.get(row["county_code"], 0)
    totals = section.totals()
    section.headline = [("本月检查次数 / visits", totals["visits"]),
                        ("超频对象 / over-frequent targets", totals["overfrequent_targets"]),
                        ("未统筹检查对 / uncoordinated pairs", totals["uncoordinated_pairs"]),
                        ("计划外未报批 / unplanned", totals["unplanned_items"])]
    by_rule = [{"rule": c.zh, "count": totals[c.key]} for c in section.columns
               if c.total and c.key not in ("visits", "joint_proposals", "joint_saved")]
    section.chart = charts.flags_by_rule(by_rule) if any(r["count"] for r in by_rule) else None
    return section


JOINT_COLUMNS = [*COUNTY_COLUMNS, Column("target", "检查对象", "target"), Column("proposed_date", "建议日期", "proposed date"),
                 Column("lead", "牵头部门", "lead department"), Column("dept_names", "参与部门", "departments joining"),
                 Column("visits_merged", "合并检查次数", "visits merged", True),
                 Column("visits_saved", "减少次数", "visits saved", True)]


def joint_visits(scope: Scope) -> Section:
    """The joint visits proposed for the rest of the year (SPEC 13) as of the month's last day."""
    section = Section("joint", "四(续)、建议联合检查", "4 (cont.) Joint visits proposed")
    joint = scope.joint()
    if joint is None:
        section.notes.append("仓库中尚无督检考计划，无法提出联合检查建议。/ No inspection plans in the warehouse: "
                             "no joint visits to propose.")
        return section
    n = joint.names
    section.rows = [{"county_code": p.county_code, "county_name": n.county(p.county_code),
                     "target": f"{n.of(p.target_unit_code)} ({p.target_unit_code})", "proposed_date": p.proposed_date,
                     "lead": n.of(p.lead_dept_code), "dept_names": "、".join(n.of(d) for d in p.dept_codes),
                     "departments": p.departments, "visits_merged": p.visits_merged, "visits_saved": p.visits_saved}
                    for p in joint.proposals if scope.county is None or p.county_code == scope.county]
    section.columns = list(JOINT_COLUMNS)
    summary = joint.summary
    if scope.county is not None:
        summary = summary.by_county.get(scope.county) or Summary(0, 0, 0)
    section.headline = [("待查次数 / planned visits ahead", summary.candidates),
                        ("建议联合检查 / joint visits proposed", summary.proposals),
                        ("合并后次数 / visits after merging", summary.visits_after_merging),
                        ("减少 / reduction (%)", summary.reduction_pct)]
    section.notes.append(f"截至 {scope.month_end.isoformat()}，{scope.year} 年内尚未进行的计划检查（三相一就）。/ "
                         f"Planned visits of {scope.year} after {scope.month_end.isoformat()}, merged by the 三相一就 rule.")
    section.print_rows = 40
    section.chart = charts.joint_calendar(
        [{"county": f"{r['county_name']} {r['county_code']}", "target": r["target"], "proposed_date": r["proposed_date"],
          "departments": r["departments"], "dept_names": r["dept_names"], "lead": r["lead"],
          "visits_merged": r["visits_merged"]} for r in section.rows]) if section.rows else None
    return section


def quota(scope: Scope) -> Section:
    section = Section("quota", "五、督检考事项配额", "5. Inspection quotas")
    section.rows = scope.rows("""
        SELECT q.dept_code, coalesce(d.dept_name, q.dept_code) AS dept_name, q.quota, q.used,
               round(q.ratio, 2) AS ratio, q.status
        FROM quota_usage q LEFT JOIN departments d USING (dept_code)
        WHERE q.year = $year AND ($county IS NULL OR q.dept_code[1:6] = $county)
        ORDER BY q.ratio DESC, q.dept_code""")
    section.columns = [Column("dept_code", "部门代码", "department"), Column("dept_name", "部门", "name"),
                       Column("quota", "年度配额", "quota", True), Column("used", "已用事项", "used", True),
                       Column("ratio", "使用率", "ratio"), Column("status", "状态", "status")]
    statuses = [r["status"] for r in section.rows]
    section.headline = [("部门 / departments", len(section.rows)),
                        ("超出配额 / exceeded", statuses.count("exceeded")),
                        ("接近配额 / warning", statuses.count("warning"))]
    # A leader reads the departments at or near their quota; the workbook keeps every department.
    section.print_rows = max(len(section.rows) - statuses.count("ok"), 10)
    shown = section.rows[:section.print_rows]
    section.chart = charts.quota_usage(shown[:25]) if shown else None
    for row in section.rows:  # the status as the office reads it, the code kept for filtering
        row["status"] = f"{charts.QUOTA_LABELS['zh'].get(row['status'], row['status'])} / {row['status']}"
    return section


REDUCTION_COLUMNS = [("forms", "报表数", "forms"), ("forms_cancelled", "取消填报", "cancelled"),
                     ("forms_added", "新增报表", "added"), ("forms_less_frequent", "降低频次", "less frequent"),
                     ("fills", "填报次数", "fills"), ("fills_prev", "上月填报次数", "fills last month"),
                     ("groups", "工作群", "groups"), ("groups_dissolved", "解散工作群", "groups dissolved"),
                     ("visits", "检查次数", "visits")]


#: The reduction table's measures drawn month by month (the chart's panels, in this order).
REDUCTION_TREND = [("forms", "报表数 forms"), ("fills", "填报次数 fills"), ("groups", "工作群 groups")]


def reduction(scope: Scope) -> Section:
    section = Section("reduction", "六、本月减负成效", "6. This month's reduction")
    trend = scope.rows("""
        WITH months AS (
            SELECT period, sum(fills) AS fills, round(sum(hours), 1) AS hours FROM burden
            WHERE period <= $period AND ($county IS NULL OR county_code = $county)
            GROUP BY period HAVING sum(fills) > 0
        )
        SELECT period, '填报次数 fills' AS series, fills AS value FROM months
        UNION ALL SELECT period, '耗时(小时) hours', hours FROM months
        ORDER BY period, series""")
    section.chart = charts.monthly_trend(trend) if trend else None
    if "reduction" not in scope.tables:
        section.notes.append("仓库中尚无减负成效表（reduction），本节仅列逐月趋势。/ No reduction table in the "
                             "warehouse yet: this section shows the monthly trend only.")
        return section
    # Drawn from the reduction table itself: forms, fills and groups per county, month by month.
    months = scope.rows(f"""
        SELECT r.period, c.county_code, c.county_name || ' ' || c.county_code AS county, r.forms, r.fills, r.groups
        FROM ({COUNTIES}) c JOIN reduction r USING (county_code) WHERE r.period <= $period
        ORDER BY r.period, c.county_code""")
    series = [{"period": m["period"], "county_code": m["county_code"], "county": m["county"], "measure": label,
               "value": m[key]}
              for m in months for key, label in REDUCTION_TREND if m[key] is not None]
    section.chart = charts.reduction_trend(series) if series else section.chart
    selects = ", ".join(f"r.{key}" for key, _, _ in REDUCTION_COLUMNS)
    section.rows = scope.rows(f"""
        SELECT c.county_code, c.county_name, {selects}
        FROM ({COUNTIES}) c JOIN reduction r USING (county_code) WHERE r.period = $period
        ORDER BY c.county_code""")
    section.columns = [*COUNTY_COLUMNS, *(Column(k, zh, en, True) for k, zh, en in REDUCTION_COLUMNS)]
    totals = section.totals()
    section.headline = [("取消填报报表 / forms cancelled", totals["forms_cancelled"]),
                        ("降低频次 / less frequent", totals["forms_less_frequent"]),
                        ("解散工作群 / groups dissolved", totals["groups_dissolved"])]
    return section


def _add_reduction_columns(scope: Scope, section: Section, wanted: dict[str, tuple[str, str]]) -> None:
    """Columns of the reduction table (section 14) a section shows when that table exists."""
    if "reduction" not in scope.tables:
        return
    found = {r["county_code"]: r for r in scope.rows(
        f"SELECT county_code, {', '.join(wanted)} FROM reduction WHERE period = $period")}
    for key, (zh, en) in wanted.items():
        section.columns.append(Column(key, zh, en, True))
        for row in section.rows:
            row[key] = (found.get(row["county_code"]) or {}).get(key) or 0


SECTIONS: list[Callable[[Scope], Section]] = [collection, burden, groups, inspections, joint_visits, quota, reduction]
