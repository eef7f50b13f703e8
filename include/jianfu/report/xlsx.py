"""The bulletin as a workbook: one sheet per section, ready to filter.

Each sheet: a bilingual header row (frozen), the rows with an autofilter over them, and below a
blank row the totals, outside the filter so that filtering never hides or moves them. Text cells
are formula-neutralised: county names must never run as formulas in the office's spreadsheet.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from ..escape import neutralise_formula
from .html import title
from .model import Bulletin

HEADER_FILL = PatternFill("solid", fgColor="F3F3F3")


def sheet_name(index: int, title_zh: str) -> str:
    """Excel's limits: 31 characters, none of []:*?/\\."""
    cleaned = "".join(ch for ch in title_zh if ch not in "[]:*?/\\")
    return cleaned[:31] or f"section {index}"


def write_xlsx(bulletin: Bulletin, out: Path) -> Path:
    book = Workbook()
    cover = book.active
    cover.title = "通报 bulletin"
    zh, en = title(bulletin)
    for row in ([bulletin.office_name], [zh], [en], ["范围 / scope", bulletin.scope_name],
                ["编制 / issued", bulletin.generated_at], ["联系 / contact", bulletin.office_contact]):
        cover.append([neutralise_formula(v) for v in row])
    cover["A1"].font = Font(bold=True, size=14)
    for index, section in enumerate(bulletin.sections, 1):
        sheet = book.create_sheet(sheet_name(index, section.title_zh))
        if not section.columns:
            sheet.append([neutralise_formula(note) for note in section.notes] or ["本月无数据 / nothing this month"])
            continue
        sheet.append([f"{c.zh} / {c.en}" for c in section.columns])
        for cell in sheet[1]:
            cell.font, cell.fill = Font(bold=True), HEADER_FILL
        for row in section.rows:
            sheet.append([neutralise_formula(row.get(c.key)) for c in section.columns])
        sheet.freeze_panes = "A2"
        last = get_column_letter(len(section.columns))
        sheet.auto_filter.ref = f"A1:{last}{len(section.rows) + 1}"
        totals = section.totals()
        if totals:
            sheet.append([])
            sheet.append([totals.get(c.key, "合计 / total" if n == 0 else None)
                          for n, c in enumerate(section.columns)])
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)
        for note in section.notes:
            sheet.append([neutralise_formula(note)])
        for n, column in enumerate(section.columns, 1):
            sheet.column_dimensions[get_column_letter(n)].width = max(10, min(40, len(column.zh) * 2 + 4))
    book.save(out)
    return out
