"""One-sheet county workbooks written with openpyxl, byte for byte the same for the same rows.

openpyxl (write-only mode, which streams rows) does the SpreadsheetML; two things it takes from the
clock when saving are pinned so that a sample is reproducible: the document's modified date and the
zip members' times. The saved archive is copied with both set to the file's own `stamp`.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.xml.functions import tostring

CORE_PROPERTIES = "docProps/core.xml"

#: The look of a county report: 宋体 11, a bold header, a bold 14 centred title, yyyy-mm-dd dates.
PLAIN, HEADER, TITLE = "plain", "header", "title"
_FONTS = {PLAIN: Font(name="宋体", size=11), HEADER: Font(name="宋体", size=11, bold=True),
          TITLE: Font(name="宋体", size=14, bold=True)}
DATE_FORMAT = "yyyy-mm-dd"


def _cell(sheet: Any, value: Any, style: str) -> Any:
    if isinstance(value, datetime):
        value = value.date()
    cell = WriteOnlyCell(sheet, value=value)
    if style != PLAIN:
        cell.font = _FONTS[style]
    if style == TITLE:
        cell.alignment = Alignment(horizontal="center")
    if isinstance(value, date):
        cell.number_format = DATE_FORMAT
    return cell


def write_xlsx(rows: list[tuple[str, list[Any]]], *, sheet: str, width: int, merge_title: bool,
               stamp: datetime, creator: str = "jianfu sample") -> bytes:
    """An XLSX of one sheet. `rows` are (style, cells) in order; None and '' cells are left empty.

    With `merge_title`, the first row's first cell is merged across `width` columns.
    """
    book = Workbook(write_only=True)
    when = stamp.replace(tzinfo=None, microsecond=0)
    book.properties.creator = creator
    book.properties.created = when
    ws = book.create_sheet(sheet[:31])
    if merge_title:
        ws.merged_cells.ranges.add(f"A1:{get_column_letter(max(width, 1))}1")
    for style, cells in rows:
        ws.append([None if v is None or v == "" else _cell(ws, v, style) for v in cells])
    raw = io.BytesIO()
    book.save(raw)
    book.properties.modified = when  # saving set it to the clock
    return _pinned(raw.getvalue(), when, tostring(book.properties.to_tree()))


def _pinned(data: bytes, when: datetime, core_xml: bytes) -> bytes:
    """The same archive with every member dated `when` and the core properties given."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for member in src.infolist():
            info = zipfile.ZipInfo(member.filename, date_time=when.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            dst.writestr(info, core_xml if member.filename == CORE_PROPERTIES else src.read(member))
    return out.getvalue()
