"""Quota usage per department (SPEC.md sections 8, 9 and 16): used against quota, warning and
exceeded marked, the items counted, and the alerts sent and failed.

`used` and `quota` are the quota_usage table's; the items counted are the distinct item_ids of the
department with a visit (status not cancelled) in the year, across every county, as the quota rule
counts them; alerts come from the `alerts` table `jianfu alerts` publishes.

A country has tens of thousands of departments: the page reads the first SHOWN_ROWS of them (most
used first; the export, all), the items of those only, and counts the statuses in SQL.
"""

from __future__ import annotations

from typing import Any

from ... import charts
from .. import queries
from ..store import Store
from ..tables import Column, Table
from . import Page, Request, Result

USAGE_SQL = f"""
SELECT q.dept_code, d.dept_name, {queries.dept_label('d', 'q.dept_code')} AS dept, q.year, q.quota, q.used,
       q.ratio, q.status
FROM quota_usage AS q LEFT JOIN departments AS d USING (dept_code)
WHERE q.year = ? AND (? = '' OR q.dept_code = ?)
ORDER BY q.status = 'exceeded' DESC, q.status = 'warning' DESC, q.ratio DESC NULLS FIRST, q.dept_code
{{limit}}
"""
STATUS_SQL = """
SELECT status, count(*) AS departments FROM quota_usage WHERE year = ? AND (? = '' OR dept_code = ?) GROUP BY status
"""
#: The items counted of the departments listed (all of them when the list is NULL).
ITEMS_SQL = """
SELECT i.dept_code, i.item_id, min(i.topic) AS topic, min(i.category) AS category, count(*) AS visits,
       min(i.eff_date) AS first_visit, max(i.eff_date) AS last_visit,
       count(DISTINCT i.target_unit_code) AS targets
FROM inspections AS i
WHERE i.year = ? AND i.status <> 'cancelled' AND (CAST(? AS VARCHAR[]) IS NULL OR list_contains(?, i.dept_code))
GROUP BY i.dept_code, i.item_id
ORDER BY i.dept_code, i.item_id
"""
CHART_ROWS = 20
ALERTS_SQL = f"""
SELECT a.rule, a.dept_code, {queries.dept_label('d', 'a.dept_code')} AS dept, a.year, a.used, a.quota,
       a.notified_at, a.channels, a.delivered
FROM alerts AS a LEFT JOIN departments AS d USING (dept_code)
WHERE a.year = ?
ORDER BY a.notified_at DESC NULLS LAST, a.dept_code
"""


def years(store: Store) -> list[int]:
    return [r["year"] for r in store.rows("SELECT DISTINCT year FROM quota_usage ORDER BY year DESC")]


def usage(store: Store, year: int, dept: str = "", limit: int | None = None) -> list[dict[str, Any]]:
    """Departments' usage of `year` (one department's, or all), over quota first: the first `limit`, or all."""
    return store.rows(USAGE_SQL.format(limit="" if limit is None else f"LIMIT {int(limit)}"), [year, dept, dept])


def statuses(store: Store, year: int, dept: str = "") -> dict[str, int]:
    """Departments per status (ok / warning / exceeded) of `year`."""
    return {r["status"]: r["departments"] for r in store.rows(STATUS_SQL, [year, dept, dept])}


def items(store: Store, year: int, depts: list[str] | None = None) -> list[dict[str, Any]]:
    """The items counted in `year` of the departments `depts` (None: of every department)."""
    return store.rows(ITEMS_SQL, [year, depts, depts])


def alerts(store: Store, year: int) -> list[dict[str, Any]]:
    return store.rows(ALERTS_SQL, [year])


def render(req: Request) -> Result:
    known = years(req.store)
    asked = req.param("year")
    year = int(asked) if asked.isdigit() and int(asked) in known else (known[0] if known else None)
    if year is None:
        return Result(context={"year": None, "years": []})
    labels = charts.QUOTA_LABELS.get(req.lang, charts.QUOTA_LABELS["zh"])
    dept = req.param("dept_code")
    rows = usage(req.store, year, dept, req.limit)
    counted = items(req.store, year, [r["dept_code"] for r in rows])
    per_dept: dict[str, list[str]] = {}
    for r in counted:
        per_dept.setdefault(r["dept_code"], []).append(f"{r['item_id']} {r['topic'] or ''}".strip())
    shown = [{**r, "status_label": labels.get(r["status"], r["status"]), "_class_status_label": f"status-{r['status']}",
              "items": "、".join(per_dept.get(r["dept_code"], [])), "link": f"quota?year={year}&dept_code={r['dept_code']}"}
             for r in rows]
    by_status = statuses(req.store, year, dept)
    sent = [{**a, "notified_at": queries.office_time(req.store.settings, a["notified_at"]),
             "delivered": req.t("已送达", "delivered") if a["delivered"] else req.t("未送达，将重试", "failed, will retry"),
             "_class_delivered": "" if a["delivered"] else "status-rejected"}
            for a in alerts(req.store, year) if not dept or a["dept_code"] == dept]
    tables = [
        Table("usage", {"zh": f"{year} 年各部门督检考事项用量", "en": f"Quota usage {year}"},
              [Column("dept", "部门", "department"), Column("quota", "年度上限", "quota"), Column("used", "已用", "used"),
               Column("ratio", "用量比", "ratio"), Column("status_label", "状态", "status"),
               Column("items", "计入的事项", "items counted")], shown, links={"dept": "link"},
              total=sum(by_status.values())),
        Table("items", {"zh": "计入的事项", "en": "Items counted"},
              [Column("dept_code", "部门代码", "department"), Column("item_id", "事项编号", "item"),
               Column("topic", "主题", "topic"), Column("category", "类别", "category"),
               Column("visits", "次数", "visits"), Column("first_visit", "首次", "first"),
               Column("last_visit", "最近", "last"), Column("targets", "对象单位数", "targets")],
              [r for r in counted if r["dept_code"] == dept]),
        Table("alerts", {"zh": "已发出的提醒", "en": "Alerts sent"},
              [Column("rule", "规则", "rule"), Column("dept", "部门", "department"), Column("used", "已用", "used"),
               Column("quota", "上限", "quota"), Column("notified_at", "时间", "when"),
               Column("channels", "渠道", "channels"), Column("delivered", "结果", "result")], sent),
    ]
    figures = {s: by_status.get(s, 0) for s in charts.QUOTA_COLOURS}
    return Result(
        context={"year": year, "years": known, "figures": figures, "labels": labels, "dept": dept,
                 "sent": sum(1 for a in sent if a["_class_delivered"] == ""),
                 "failed": sum(1 for a in sent if a["_class_delivered"])},
        tables=tables, charts={"usage": charts.quota_usage(drawn(shown), lang=req.lang)} if shown else {})


def drawn(rows: list[dict[str, Any]], most: int = CHART_ROWS) -> list[dict[str, Any]]:
    """The departments the chart shows: every one listed over or near its quota, then the
    fullest, up to `most`.

    A province has hundreds of departments; a chart of all of them is a wall nobody reads, and
    the full list is the table below it (and the export)."""
    marked = [r for r in rows if r["status"] != "ok"]
    rest = sorted((r for r in rows if r["status"] == "ok"), key=lambda r: (-(r["ratio"] or 0), r["dept_code"]))
    return marked + rest[:max(0, most - len(marked))]


PAGE = Page(slug="quota", title={"zh": "督检考上限", "en": "Inspection quotas"}, render=render, order=40)
