"""A list shown on a page, and the same list as an XLSX workbook (SPEC.md section 16).

Every page hands its lists to the console as `Table`s: the template draws them as HTML tables
(escaped by Jinja's autoescape) and `?format=xlsx` writes them as sheets of one workbook. Text
cells are formula-neutralised, because much of what a list shows was typed by a county.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook

from ..escape import neutralise_formula

#: Rows of a list a page shows; the XLSX export has every row, up to what a sheet holds.
SHOWN_ROWS = 200
#: Rows of a list an XLSX sheet takes: Excel's 1,048,576 less the header and a line saying what was
#: left out.
XLSX_ROWS = 1_048_576 - 2

#: XLSX sheet names: at most 31 characters, none of []:*?/\ (Excel refuses the workbook otherwise).
_SHEET_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


@dataclass
class Table:
    """Rows (dicts) and the columns to show of them, in order."""

    name: str  # sheet name and anchor, ASCII
    title: dict[str, str]  # lang -> heading
    columns: Sequence[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)  # column key -> row key holding a link (relative URL)
    #: Rows of the whole list, when `rows` holds only the first SHOWN_ROWS of it: a page reads no
    #: more rows than it shows, however many a national warehouse holds.
    total: int | None = None

    @property
    def count(self) -> int:
        return len(self.rows) if self.total is None else self.total

    def heading(self, lang: str) -> str:
        return self.title.get(lang) or self.title.get("zh") or self.name


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)  # openpyxl keeps no time zone; times are office time already
    if isinstance(value, (date, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        value = "、".join(str(v) for v in value)
    return neutralise_formula(str(value))


def to_xlsx(tables: Sequence[Table], lang: str = "zh") -> bytes:
    """One sheet per table: a header row of column labels, then the rows, filterable."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for table in tables:
        sheet = workbook.create_sheet(table.name.translate(_SHEET_FORBIDDEN)[:31] or "sheet")
        sheet.append([c.label(lang) for c in table.columns])
        for row in table.rows[:XLSX_ROWS]:
            sheet.append([_cell(row.get(c.key)) for c in table.columns])
        if table.columns:
            sheet.auto_filter.ref = sheet.dimensions
            sheet.freeze_panes = "A2"
        left_out = table.count - min(len(table.rows), XLSX_ROWS)
        if left_out > 0:  # below the filtered range: a note, not a row of the list
            sheet.append([f"另有 {left_out:,} 行未写入(一张工作表最多 {XLSX_ROWS:,} 行)，请缩小筛选范围。"
                          if lang == "zh" else
                          f"{left_out:,} more rows not written (a sheet takes {XLSX_ROWS:,}): narrow the filter."])
    if not workbook.worksheets:
        workbook.create_sheet("empty")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
