"""One cell of the collection board: a county's versions of one kind and period, their ledger
status, and each rejected or warned file's report (SPEC.md sections 5, 6.3 and 16).

The report is the JSON the validation wrote beside the CSV the county got
($JIANFU_HOME/reports/submissions/<submission_id>_<file>.json): rule, the column, the row number as
the county sees it in its own file, the value and the message. This page replaces GX Data Docs as
what the office opens: no hashes for names, no internal columns, nothing from a public host.
"""

from __future__ import annotations

import json
from typing import Any

from ... import charts
from ...ledger import NoSubmissionsTable, read_submissions
from ...schema import KINDS
from .. import queries
from ..store import Store
from ..tables import Column, Table
from . import Page, Request, Result
from .board import cells

SEVERITY = {"zh": {"critical": "错误(拒收)", "warning": "警告", "info": "提示"},
            "en": {"critical": "error (rejected)", "warning": "warning", "info": "info"}}
LEDGER_STATUS = {"zh": {"accepted": "通过", "accepted_with_warnings": "通过(有警告)", "rejected": "退回",
                        "superseded": "已被更正替换", "duplicate": "重复文件", "received": "处理中"},
                 "en": {"accepted": "accepted", "accepted_with_warnings": "accepted with warnings",
                        "rejected": "rejected", "superseded": "superseded", "duplicate": "duplicate",
                        "received": "in progress"}}


def versions(store: Store, county: str, kind: str, period: str) -> list[dict[str, Any]]:
    """Every receipt of the cell, newest first, from the ledger."""
    try:
        _, receipts = read_submissions(store.settings.db_url)
    except NoSubmissionsTable:
        return []
    mine = [r for r in receipts if r["county_code"] == county and r["kind"] == kind and r["period"] == period]
    return list(reversed(mine))


def report(store: Store, submission_id: str) -> dict[str, Any] | None:
    """The JSON report of a submission, or None when it has none (accepted without warnings)."""
    folder = store.settings.reports / "submissions"
    for path in sorted(folder.glob(f"{submission_id}_*.json")):
        return json.loads(path.read_text(encoding="utf-8"))
    return None


def header_of(kind: str, column: str | None) -> str | None:
    """The column as the county's template heads it (`填报频次 frequency`), so the clerk finds it."""
    if not column or kind not in KINDS:
        return column
    try:
        return f"{KINDS[kind].column(column).zh} {column}"
    except KeyError:
        return column  # an extra column: already the county's own header


def _report_table(name: str, data: dict[str, Any], lang: str) -> Table:
    severity = SEVERITY.get(lang, SEVERITY["zh"])
    kind = data.get("kind") or ""
    rows = [{**p, "column": header_of(kind, p.get("column")), "severity": severity.get(p.get("severity"), p.get("severity")),
             "message": p.get("message_en") if lang == "en" else p.get("message_zh")} for p in data.get("problems", [])]
    cut = [r for r in data.get("rules", []) if r.get("total", 0) > r.get("listed", 0)]
    title = {"zh": f"{data.get('file_name', '')} 的问题清单", "en": f"Problems of {data.get('file_name', '')}"}
    if cut:
        title = {k: v + " (" + "; ".join(f"{r['rule']} {r['listed']}/{r['total']}" for r in cut) + ")"
                 for k, v in title.items()}
    return Table(name, title,
                 [Column("severity", "级别", "severity"), Column("rule", "规则", "rule"), Column("column", "列", "column"),
                  Column("row", "行号(原文件)", "row (in the file)"), Column("value", "值", "value"),
                  Column("message", "说明", "message")], rows)


def render(req: Request) -> Result:
    county, kind, period = req.param("county"), req.param("kind"), req.param("period")
    store = req.store
    found = [c for c in cells(store, store.settings.office_today())
             if c.county_code == county and c.kind == kind and c.period == period]
    status_labels = charts.STATUS_LABELS.get(req.lang, charts.STATUS_LABELS["zh"])
    ledger_labels = LEDGER_STATUS.get(req.lang, {})
    rows = []
    tables = []
    for n, v in enumerate(versions(store, county, kind, period), start=1):
        rows.append({
            "file_name": v["file_name"], "status": ledger_labels.get(v["status"], v["status"]),
            "_class_status": f"status-{v['status']}",
            "received_at": queries.office_time(store.settings, v["received_at"]),
            "version": v["version"], "row_count": v["row_count"], "error_count": v["error_count"],
            "warning_count": v["warning_count"], "reason": v["reason"],
            "report": req.t("见下方报告", "see the report below") if v["report_path"] else None,
        })
        data = report(store, v["submission_id"])
        if data is not None:
            tables.append(_report_table(f"report{n}", data, req.lang))
    versions_table = Table("versions", {"zh": "收到的各版本(最新在前)", "en": "Versions received (newest first)"},
                           [Column("file_name", "文件名", "file"), Column("received_at", "收到时间", "received"),
                            Column("status", "台账状态", "ledger status"), Column("version", "版本", "version"),
                            Column("row_count", "行数", "rows"), Column("error_count", "错误", "errors"),
                            Column("warning_count", "警告", "warnings"), Column("reason", "原因", "reason")], rows)
    cell = found[0] if found else None
    return Result(context={"cell": cell, "status_label": status_labels.get(cell.status) if cell else None,
                           "kind_label": charts.KIND_LABELS.get(req.lang, charts.KIND_LABELS["zh"]).get(kind, kind),
                           "county_name": store.counties.get(county, county) if county else "",
                           "county": county, "period": period, "reports": [t.name for t in tables]},
                  tables=[versions_table, *tables])


PAGE = Page(slug="cell", title={"zh": "报送详情", "en": "Submission detail"}, render=render, order=25, nav=False)
