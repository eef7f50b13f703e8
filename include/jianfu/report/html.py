"""The bulletin as one self-contained HTML page: the `html` format, and the source of the PDF.

Charts are inline SVG drawn on the server (jianfu.charts.svg), styles are inline CSS: the file
opens offline and can be mailed as it is. The print rules (A4, cover, page numbers, a table header
repeated on every page) only apply when the page is printed, by WeasyPrint or a browser.
Everything shown is HTML-escaped: county and department names come from files others write.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from .. import charts
from ..reference import area_names
from .model import Bulletin, Section

FONT_STACK = "'Noto Sans CJK SC', 'Noto Serif CJK SC', 'WenQuanYi Micro Hei', 'Source Han Sans SC', sans-serif"

CSS = f"""
@page {{ size: A4; margin: 18mm 15mm 20mm 15mm;
  @bottom-center {{ content: "第 " counter(page) " 页 / 共 " counter(pages) " 页 · page " counter(page);
                    font-family: {FONT_STACK}; font-size: 8.5pt; color: #555; }} }}
@page :first {{ @bottom-center {{ content: none; }} }}
body {{ font-family: {FONT_STACK}; font-size: 10pt; color: #1a1a1a; line-height: 1.5; max-width: 190mm; margin: auto; }}
.cover {{ page-break-after: always; text-align: center; padding-top: 60mm; }}
.cover .office {{ font-size: 20pt; font-weight: bold; color: #b71c1c; }}
.cover h1 {{ font-size: 26pt; margin: 14mm 0 4mm; }}
.cover .en {{ font-size: 13pt; color: #444; }}
.cover .meta {{ margin-top: 30mm; font-size: 11pt; color: #333; }}
.cover hr {{ border: 0; border-top: 2pt solid #b71c1c; width: 70%; margin: 8mm auto; }}
h2 {{ font-size: 15pt; color: #b71c1c; border-bottom: 1pt solid #b71c1c; padding-bottom: 1mm; margin-top: 8mm;
      page-break-after: avoid; }}
h2 small {{ color: #555; font-weight: normal; font-size: 10pt; margin-left: 3mm; }}
.headline {{ margin: 3mm 0; page-break-inside: avoid; }}
.figure {{ display: inline-block; vertical-align: top; border: 0.6pt solid #ccc; border-radius: 2mm;
           padding: 1.5mm 3mm; width: 34mm; margin: 0 1.5mm 2mm 0; }}
.figure .value {{ font-size: 17pt; font-weight: bold; color: #0d47a1; }}
.figure .label {{ font-size: 8.5pt; color: #555; }}
.chart {{ margin: 3mm 0; page-break-inside: avoid; }}
.chart svg {{ max-width: 100%; }}
table {{ border-collapse: collapse; width: 100%; font-size: 8.5pt; margin: 2mm 0 4mm; }}
thead {{ display: table-header-group; }}
th, td {{ border: 0.5pt solid #bbb; padding: 1mm 1.5mm; }}
th {{ background: #f3f3f3; font-weight: bold; }}
th small {{ display: block; font-weight: normal; color: #666; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
tr {{ page-break-inside: avoid; }}
tr.total td {{ font-weight: bold; background: #fafafa; }}
.note {{ color: #6d4c41; background: #fff8e1; padding: 2mm 3mm; font-size: 9pt; }}
.section {{ page-break-before: always; }}
"""


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if value % 1 else f"{int(value):,}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return escape("" if value is None else str(value))


_LINK = re.compile(r"</?a\b[^>]*>")
_SIZE = re.compile(r'^(<svg\b[^>]*?)\swidth="([\d.]+)"\s+height="([\d.]+)"')

#: Largest chart on the page, in CSS pixels: A4's printable width, and half its height so that a
#: chart shares its page with its section's table.
MAX_WIDTH, MAX_HEIGHT = 680, 520


def chart_svg(chart: Any) -> str:
    """The chart as inline SVG, scaled to fit the page, without links: a printed page points nowhere
    (the console's charts link cells to pages, which Vega resolves against a public host here)."""
    drawn = _LINK.sub("", charts.svg(chart))
    size = _SIZE.match(drawn)
    if not size:
        return drawn
    width, height = float(size.group(2)), float(size.group(3))
    scale = min(1.0, MAX_WIDTH / width, MAX_HEIGHT / height)
    return _SIZE.sub(lambda m: f'{m.group(1)} width="{width * scale:.0f}" height="{height * scale:.0f}"', drawn, count=1)


#: Counties a printed per-county table lists one by one: a province's (the largest has 190). A
#: national bulletin prints its provinces instead, and its XLSX every county.
MAX_COUNTIES_LISTED = 200


def by_province(section: Section) -> list[dict[str, Any]] | None:
    """A per-county table of more than MAX_COUNTIES_LISTED counties summed by province: what the
    PDF and HTML print, while the XLSX keeps every county. None for any other table (per
    department, per proposal, or a province's counties or fewer)."""
    keys = [c.key for c in section.columns[:2]]
    counties = {r.get("county_code") for r in section.rows}
    if keys != ["county_code", "county_name"] or len(counties) != len(section.rows) \
            or len(counties) <= MAX_COUNTIES_LISTED:
        return None
    summed: dict[str, dict[str, Any]] = {}
    for row in section.rows:
        code = row["county_code"][:2]
        out = summed.setdefault(code, {"county_code": code, "county_name": area_names().get(code, "")})
        for column in section.columns:
            if column.total:
                out[column.key] = (out.get(column.key) or 0) + (row.get(column.key) or 0)
    # Hours and the like to a tenth, as the total line prints them: rounded once, after summing.
    return [{k: round(v, 1) if isinstance(v, float) else v for k, v in summed[code].items()} for code in sorted(summed)]


def _table(section: Section) -> str:
    if not section.columns:
        return ""
    provinces = by_province(section)
    head = "".join(f"<th>{escape(c.zh)}<small>{escape(c.en)}</small></th>" for c in section.columns)
    body = []
    if provinces is not None:
        body.append(f"<tr><td colspan=\"{len(section.columns)}\">{len(section.rows):,} 个县按省(区、市)汇总，"
                    f"逐县数据见 XLSX 版 / {len(section.rows):,} counties summed by province; every county "
                    f"in the XLSX edition</td></tr>")
    for row in provinces if provinces is not None else section.rows[:section.print_rows]:
        cells = "".join(f"<td class=\"{'num' if isinstance(row.get(c.key), (int, float)) else ''}\">"
                        f"{_cell(row.get(c.key))}</td>" for c in section.columns)
        body.append(f"<tr>{cells}</tr>")
    totals = section.totals()
    if totals and section.rows:
        cells = []
        for n, column in enumerate(section.columns):
            text = _cell(round(totals[column.key], 1) if column.key in totals else ("合计 / total" if n == 0 else ""))
            cells.append(f"<td class=\"num\">{text}</td>" if column.key in totals else f"<td>{text}</td>")
        body.append(f"<tr class=\"total\">{''.join(cells)}</tr>")
    hidden = 0 if provinces is not None else len(section.rows) - len(section.rows[:section.print_rows])
    if hidden:
        body.append(f"<tr><td colspan=\"{len(section.columns)}\">……其余 {hidden} 行见 XLSX 版 / "
                    f"{hidden} more rows in the XLSX edition</td></tr>")
    if not section.rows:
        body.append(f"<tr><td colspan=\"{len(section.columns)}\">本月无数据 / nothing this month</td></tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _section(section: Section) -> str:
    parts = [f"<section class=\"section\" id=\"{escape(section.key)}\">",
             f"<h2>{escape(section.title_zh)}<small>{escape(section.title_en)}</small></h2>"]
    if section.headline:
        figures = "".join(f"<div class=\"figure\"><div class=\"value\">{_cell(v)}</div>"
                          f"<div class=\"label\">{escape(label)}</div></div>" for label, v in section.headline)
        parts.append(f"<div class=\"headline\">{figures}</div>")
    parts += [f"<p class=\"note\">{escape(note)}</p>" for note in section.notes]
    parts.append(_table(section))
    if section.chart is not None:
        parts.append(f"<div class=\"chart\">{chart_svg(section.chart)}</div>")
    parts.append("</section>")
    return "\n".join(parts)


def title(bulletin: Bulletin) -> tuple[str, str]:
    year, month = bulletin.period.split("-")
    scope = bulletin.scope_name if bulletin.county_code else ""
    return (f"{scope}基层减负工作月度通报（{year}年{int(month)}月）",
            f"Monthly burden-reduction bulletin, {bulletin.period}")


def render(bulletin: Bulletin) -> str:
    zh, en = title(bulletin)
    cover = (f"<div class=\"cover\"><div class=\"office\">{escape(bulletin.office_name)}</div><hr>"
             f"<h1>{escape(zh)}</h1><div class=\"en\">{escape(en)}</div>"
             f"<div class=\"meta\">范围 / scope：{escape(bulletin.scope_name)}<br>"
             f"编制 / issued：{escape(bulletin.generated_at)}<br>"
             f"联系 / contact：{escape(bulletin.office_contact)}</div></div>")
    body = "\n".join(_section(s) for s in bulletin.sections)
    return ("<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(zh)}</title><style>{CSS}</style></head><body>{cover}\n{body}</body></html>\n")
