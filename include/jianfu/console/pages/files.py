"""Every file received (SPEC.md sections 5 and 16): what came in, when, and what became of it.

From the ledger, newest first, filtered by county, kind, period and ledger status; each file links
to its cell's page (versions and report). Files whose county or period could not be read (an
unreadable file) are listed too, with what the ledger knows.
"""

from __future__ import annotations

from urllib.parse import urlencode

from ... import charts
from ...ledger import NoSubmissionsTable, read_submissions
from .. import queries
from ..tables import Column, Table
from . import Page, Request, Result
from .cell import LEDGER_STATUS

FILTERS = ("county_code", "kind", "period", "status")


def render(req: Request) -> Result:
    settings = req.store.settings
    try:
        _, receipts = read_submissions(settings.db_url)
    except NoSubmissionsTable:
        receipts = []
    chosen = {k: req.param(k) for k in FILTERS}
    names = queries.county_names(req.store)
    kinds = charts.KIND_LABELS.get(req.lang, charts.KIND_LABELS["zh"])
    statuses = LEDGER_STATUS.get(req.lang, LEDGER_STATUS["zh"])
    matching = [r for r in reversed(receipts) if not any(v and (r.get(k) or "") != v for k, v in chosen.items())]
    rows = []
    for r in matching[:req.limit]:  # a national year's ledger holds 100,000 files
        county = r["county_code"]
        link = ("cell?" + urlencode({"county": county, "kind": r["kind"], "period": r["period"]})
                if county and r["kind"] and r["period"] else None)
        rows.append({
            "file_name": r["file_name"], "received_at": queries.office_time(settings, r["received_at"]),
            "county": f"{names.get(county, '')} ({county})" if county else None,
            "kind": kinds.get(r["kind"], r["kind"]), "period": r["period"],
            "status": statuses.get(r["status"], r["status"]), "_class_status": f"status-{r['status']}",
            "row_count": r["row_count"], "error_count": r["error_count"], "warning_count": r["warning_count"],
            "reason": r["reason"], "link": link,
        })
    table = Table("files", {"zh": "收到的文件(最新在前)", "en": "Files received (newest first)"},
                  [Column("received_at", "收到时间", "received"), Column("file_name", "文件名", "file"),
                   Column("county", "县(市、区)", "county"), Column("kind", "类别", "kind"),
                   Column("period", "统计期", "period"), Column("status", "台账状态", "ledger status"),
                   Column("row_count", "行数", "rows"), Column("error_count", "错误", "errors"),
                   Column("warning_count", "警告", "warnings"), Column("reason", "原因", "reason")],
                  rows, links={"file_name": "link"}, total=len(matching))
    options = {
        "county_code": sorted({(r["county_code"], f"{names.get(r['county_code'], '')} ({r['county_code']})")
                               for r in receipts if r["county_code"]}),
        "kind": list(kinds.items()),
        "period": sorted({(r["period"], r["period"]) for r in receipts if r["period"]}, reverse=True),
        "status": list(statuses.items()),
    }
    return Result(context={"chosen": chosen, "options": options}, tables=[table])


PAGE = Page(slug="files", title={"zh": "收到的文件", "en": "Files received"}, render=render, order=22)
