"""The monthly bulletin (月度通报, SPEC.md section 17): `jianfu report` and the jianfu_report DAG.

- `build_bulletin(settings, period, county=None) -> Bulletin`: every section's numbers and chart,
  read from the warehouse views;
- `write_report(settings, period, fmt, out=None, county=None) -> Path`: pdf | xlsx | html;
- `send_bulletin(settings, period)` (jianfu.report.send): write the PDF under
  $JIANFU_HOME/reports/bulletins/, e-mail it to the office's list and post a summary to the robot.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..config import JianfuError, Settings
from ..notify.mail import office
from ..warehouse.publish import Warehouse
from ..warehouse.views import connect
from .model import Bulletin, Column, Section
from .sections import SECTIONS, Scope

__all__ = ["FORMATS", "Bulletin", "Column", "ReportError", "Section", "build_bulletin", "check_period", "default_path",
           "write_report"]

FORMATS = ("pdf", "xlsx", "html")

#: Tables without which there is nothing to report: the build writes them.
REQUIRED = ("units", "flags", "burden", "quota_usage")


class ReportError(JianfuError):
    """The bulletin cannot be written; the message says what to do."""


def check_period(period: str) -> str:
    match = re.fullmatch(r"(\d{4})-(\d{2})", period or "")
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ReportError(f"period {period!r} is not a real month in the form YYYY-MM (e.g. 2026-10)")
    return period


def build_bulletin(settings: Settings, period: str, county: str | None = None) -> Bulletin:
    """The bulletin's content for a month (and optionally one county), from the warehouse."""
    check_period(period)
    warehouse = Warehouse(settings.warehouse)
    if not warehouse.local or not Path(settings.warehouse).is_dir():
        if warehouse.local:
            raise ReportError(f"no warehouse at {settings.warehouse}: run `jianfu build` first "
                              "(or set JIANFU_HOME / JIANFU_WAREHOUSE)")
    con = connect(settings.warehouse)
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        missing = [t for t in REQUIRED if t not in tables]
        if missing:
            raise ReportError(f"the warehouse at {settings.warehouse} has no {', '.join(missing)} yet: "
                              "run `jianfu build` first")
        scope = Scope(con, period, county, tables, settings)
        scope_name = "全部县" if county is None else _county_name(scope, county)
        name, contact = office(settings)
        now = settings.now().astimezone(settings.office_tz)
        bulletin = Bulletin(period, county, scope_name, name, contact, now.strftime("%Y-%m-%d %H:%M"))
        bulletin.sections = [make(scope) for make in SECTIONS]
        return bulletin
    finally:
        con.close()


def _county_name(scope: Scope, county: str) -> str:
    found = scope.rows("SELECT unit_name FROM units WHERE unit_code = $code AND level = 'county'",
                       code=f"{county}000000")
    if not found:
        raise ReportError(f"--county {county!r} is not a county of the reference (units.csv)")
    return str(found[0]["unit_name"])


def default_path(settings: Settings, period: str, fmt: str, county: str | None = None) -> Path:
    """$JIANFU_HOME/reports/bulletins/bulletin-2026-10[-421127].pdf"""
    return settings.reports / "bulletins" / f"bulletin-{period}{'-' + county if county else ''}.{fmt}"


def write_report(settings: Settings, period: str, fmt: str, out: Path | None = None,
                 county: str | None = None) -> Path:
    """Write the bulletin in one format (default path: under $JIANFU_HOME/reports/bulletins/)."""
    if fmt not in FORMATS:
        raise ReportError(f"--format {fmt!r}: one of {', '.join(FORMATS)}")
    bulletin = build_bulletin(settings, period, county)
    return render_to(bulletin, fmt, Path(out) if out else default_path(settings, period, fmt, county))


def render_to(bulletin: Bulletin, fmt: str, out: Path) -> Path:
    """Print a built bulletin in one format; atomically (a reader never sees half a file)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    try:
        if fmt == "xlsx":
            from .xlsx import write_xlsx

            write_xlsx(bulletin, partial)
        else:
            from .html import render

            page = render(bulletin)
            if fmt == "html":
                partial.write_text(page, encoding="utf-8")
            else:
                from .pdf import write_pdf

                write_pdf(page, partial)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return out
