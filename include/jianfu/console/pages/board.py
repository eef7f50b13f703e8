"""The collection board (SPEC.md sections 10 and 16): county x kind x period, coloured.

An office above county level narrows it by area (a province, a city): over charts.MAX_COUNTIES_DRAWN
counties the grid draws a row per city or province, and a click on one opens the board of its
counties.

The cells are jianfu.collection.board's, computed from the ledger's receipts exactly as `jianfu
status` computes them, as of today in the office's time zone (or `?as_of=YYYY-MM-DD`); looking
sends no reminder and publishes nothing. Each cell links to its detail page (pages/cell.py).
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from ... import charts
from ...collection.board import STATUSES, Cell, compute_cells
from ...collection.schedule import load_schedule
from ...config import JianfuError
from ...ledger import NoSubmissionsTable, read_submissions
from ...reference import area_name
from .. import queries
from ..store import Store
from ..tables import Column, Table
from . import Page, Request, Result


def cells(store: Store, as_of: date) -> list[Cell]:
    """Every cell of the board as of the end of `as_of` (office time zone)."""
    settings = store.settings
    try:
        _, receipts = read_submissions(settings.db_url)
    except NoSubmissionsTable:
        raise JianfuError(f"台账中还没有报送记录，请先运行 jianfu init 与 jianfu ingest。 / "
                          f"the ledger {settings.db_url} has no submissions: run `jianfu init` first") from None
    return compute_cells(store.counties, load_schedule(settings), receipts, as_of, settings.office_date)


def cell_link(cell: Cell) -> str:
    return "cell?" + urlencode({"county": cell.county_code, "kind": cell.kind, "period": cell.period})


def _as_of(req: Request) -> date:
    try:
        return date.fromisoformat(req.param("as_of"))
    except ValueError:
        return req.store.settings.office_today()


def render(req: Request) -> Result:
    as_of = _as_of(req)
    board = cells(req.store, as_of)
    labels = charts.STATUS_LABELS.get(req.lang, charts.STATUS_LABELS["zh"])
    kinds = charts.KIND_LABELS.get(req.lang, charts.KIND_LABELS["zh"])
    area, county, kind, status = req.param("area"), req.param("county"), req.param("kind"), req.param("status")
    shown = [c for c in board if c.county_code.startswith(area)
             and (not county or c.county_code == county) and (not kind or c.kind == kind)
             and (not status or c.status == status)]
    rows = [{
        "county": f"{c.county_name} ({c.county_code})", "kind": kinds.get(c.kind, c.kind), "period": c.period,
        "due_date": c.due_date, "status": labels.get(c.status, c.status), "_class_status": f"status-{c.status}",
        "received_at": queries.office_time(req.store.settings, c.received_at),
        "reason": c.reason, "link": cell_link(c),
    } for c in shown]
    counted = {s: sum(1 for c in shown if c.status == s) for s in STATUSES}
    table = Table("board", {"zh": "报送情况明细", "en": "Every cell"},
                  [Column("county", "县(市、区)", "county"), Column("kind", "类别", "kind"),
                   Column("period", "统计期", "period"), Column("due_date", "截止日", "due"),
                   Column("status", "状态", "status"), Column("received_at", "收到时间", "received"),
                   Column("reason", "退回原因", "why rejected")],
                  rows, links={"period": "link"})
    grid = [{"county_code": c.county_code, "county_name": c.county_name, "kind": c.kind, "period": c.period,
             "status": c.status, "href": cell_link(c)} for c in shown]
    in_area = [c for c in board if c.county_code.startswith(area)]

    def area_board(code: str) -> str:
        """A city's or a province's row on a grid of many counties opens the board of its counties."""
        return "board?" + urlencode({k: v for k, v in (("area", code), ("kind", kind), ("status", status),
                                                          ("as_of", req.param("as_of"))) if v})

    drawn = charts.collection_grid(grid, lang=req.lang, area_link=area_board) if grid else None
    return Result(
        context={"as_of": as_of, "counted": counted, "labels": labels, "kinds": kinds,
                 "areas": areas({c.county_code for c in board}, area),
                 "counties": sorted({(c.county_code, f"{c.county_name} ({c.county_code})") for c in in_area}),
                 "statuses": STATUSES, "area": area, "county": county, "kind": kind, "status": status},
        tables=[table], charts={"grid": drawn} if drawn else {})


def areas(county_codes: set[str], current: str) -> list[tuple[str, str]]:
    """The choices of the area filter, for a board of more counties than its grid draws one by
    one: every province, and the cities of the province chosen (or of the only one)."""
    if len(county_codes) <= charts.MAX_COUNTIES_DRAWN:
        return []
    provinces = sorted({c[:2] for c in county_codes})
    chosen = current[:2] if current else (provinces[0] if len(provinces) == 1 else "")
    choices = []
    for province in provinces:
        choices.append((province, area_name(province)))
        if province == chosen:
            choices += [(city, f"　{area_name(city)}") for city in sorted({c[:4] for c in county_codes
                                                                         if c.startswith(province)})]
    return choices


PAGE = Page(slug="board", title={"zh": "报送看板", "en": "Collection board"}, render=render, order=20)
