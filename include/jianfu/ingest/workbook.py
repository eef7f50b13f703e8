"""Workbooks — XLSX, XLS (Excel 97-2003), WPS ET and ODS — through one reader, python-calamine.

A workbook is judged safe before anything inflates it (SPEC.md 6.1): a zip-based one (XLSX, ODS)
must not claim parts that inflate past MAX_INFLATED or MAX_RATIO times the file's size, and its
sheet XML is streamed once, in bounded memory, for cell references beyond row 1,048,576 or column
XFD (a single stray cell at row 2,000,000,000 makes a reader allocate the whole rectangle), for
ODS repeat counts beyond those limits, and for cell text over 32,767 characters. A part that
inflates to more than it declared fails its CRC check in that scan, so a lying header is caught
too. Binary workbooks (XLS, ET) cannot hold more than 65,536 rows or 32,767 characters a cell.

The data is read from the first worksheet with a header row in its first rows (an instruction
sheet such as 填表说明 in front is skipped). Cells keep what the county typed: a whole number
reads without `.0` (a 12-digit unit code stored as a number stays 421127100000), a date cell is
marked as one, so the reader can take it for a date or a period whatever its display format.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

import numpy as np
import pyarrow as pa
from python_calamine import CalamineWorkbook, PasswordError, SheetTypeEnum

from ..problems import RejectFile
from .formats import Body, Sheet, too_many_rows, unreadable
from .headers import HEADER_SEARCH_ROWS

MAX_INFLATED = 500 * 1024 * 1024
MAX_RATIO = 100
MAX_ROW = 1_048_576
MAX_COLUMN = 16_384  # XFD
MAX_CELL_CHARS = 32_767
CHUNK = 1 << 20

UNSAFE = "unsafe_workbook"

#: A cell or range reference in sheet XML (`r="B7"`, `<row r="7">`, `ref="A1:XFD9"`).
_REF = re.compile(rb'\b(?:r|ref|sqref)="\$?([A-Z]*)\$?(\d+)(?::\$?([A-Z]*)\$?(\d+))?')
#: ODS repeat counts (`table:number-rows-repeated="1048553"`).
_REPEAT = re.compile(rb'number-(rows|columns)-repeated="(\d+)"')
#: Text between two markup characters that may hold more than MAX_CELL_CHARS characters.
_LONG_TEXT = re.compile(rb"[^<>]{%d,}" % (MAX_CELL_CHARS + 1))
_CONTINUATION = bytes(range(0x80, 0xC0))


def _unsafe(en: str, zh: str) -> RejectFile:
    return unreadable(
        f"The workbook is unsafe to open: {en}. Copy the table into a new workbook, save it as .xlsx "
        "and submit again.",
        f"工作簿无法安全打开：{zh}。请将表格复制到新的工作簿，另存为 .xlsx 后重新报送。",
        UNSAFE,
    )


def _damaged() -> RejectFile:
    return unreadable(
        "The workbook is damaged or incomplete (perhaps cut off while copying). "
        "Open it in Excel or WPS, save it again and resubmit.",
        "工作簿已损坏或不完整（可能在复制或上传时被截断）。请用 Excel 或 WPS 打开后重新保存，再次报送。",
    )


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _characters(text: bytes) -> int:
    """Characters in UTF-8 bytes: every byte that does not continue a character starts one."""
    return len(text.translate(None, _CONTINUATION))


def _check_references(buf: bytes) -> None:
    for m in _REF.finditer(buf):
        for letters, digits in ((m.group(1), m.group(2)), (m.group(3), m.group(4))):
            if digits is None:
                continue
            if int(digits) > MAX_ROW or (letters and (len(letters) > 3 or _column_number(letters) > MAX_COLUMN)):
                cell = (letters + digits).decode("ascii", "replace")
                raise _unsafe(f"it has a cell at {cell[:20]}, beyond row 1,048,576 or column XFD",
                              f"含有超出第 1,048,576 行或 XFD 列的单元格（{cell[:20]}）")
    for m in _REPEAT.finditer(buf):
        limit = MAX_ROW if m.group(1) == b"rows" else MAX_COLUMN
        if int(m.group(2)) > limit:
            raise _unsafe(f"it repeats a {m.group(1).decode()[:-1]} {int(m.group(2)):,} times",
                          f"含有重复 {int(m.group(2)):,} 次的行或列")


def _scan_part(book: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Stream one XML part: references in range, no text over MAX_CELL_CHARS characters."""
    open_run = 0  # characters of text since the last markup character, carried across chunks
    tail = b""
    with book.open(info) as part:
        while chunk := part.read(CHUNK):
            _check_references(tail + chunk)
            tail = chunk[-64:]
            first = min((i for i in (chunk.find(b"<"), chunk.find(b">")) if i >= 0), default=-1)
            if first < 0:
                open_run += _characters(chunk)
            else:
                open_run += _characters(chunk[:first])
                if open_run <= MAX_CELL_CHARS:
                    for m in _LONG_TEXT.finditer(chunk, first):
                        if _characters(m.group()) > MAX_CELL_CHARS:
                            open_run = MAX_CELL_CHARS + 1
                            break
                if open_run <= MAX_CELL_CHARS:
                    last = max(chunk.rfind(b"<"), chunk.rfind(b">"))
                    open_run = _characters(chunk[last + 1:])
            if open_run > MAX_CELL_CHARS:
                raise _unsafe("a cell holds more than 32,767 characters, the most Excel allows",
                              "有单元格超过 Excel 允许的 32,767 个字符")


def check_zip(data: bytes) -> None:
    """Refuse a zip-based workbook that would inflate too far or holds out-of-range cells."""
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
        infos = book.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError):
        raise _damaged() from None
    inflated = sum(i.file_size for i in infos)
    if inflated > MAX_INFLATED or inflated > MAX_RATIO * max(len(data), 1):
        raise _unsafe(f"its parts would inflate to {inflated / 2**20:,.0f} MB from {len(data) / 1024:,.0f} KB",
                      f"解压后将达 {inflated / 2**20:,.0f} MB（文件仅 {len(data) / 1024:,.0f} KB）")
    try:
        for info in infos:
            name = info.filename.lower()
            if name.endswith(".xml") and ("worksheets/" in name or "sharedstrings" in name or name == "content.xml"):
                _scan_part(book, info)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError):
        raise _damaged() from None


def cell_text(value: object) -> str | None:
    """Text of a workbook cell as the county meant it (whole numbers without `.0`, ISO dates)."""
    if value is None or value == "":
        return None
    kind = type(value)
    if kind is str:
        return value
    if kind is bool:
        return "TRUE" if value else "FALSE"
    if kind is int:
        return str(value)
    if kind is float:
        if value.is_integer() and abs(value) < 1e18:
            return str(int(value))
        return repr(value)
    if kind is datetime:
        if value.hour == value.minute == value.second == value.microsecond == 0:
            return value.strftime("%Y-%m-%d")
        return value.isoformat(sep=" ")
    if kind is date or kind is time:
        return value.isoformat()
    if kind is timedelta:
        return str(value)
    return str(value)


class WorkbookSheet(Sheet):
    """The first worksheet of a workbook with a header row (see the module docstring)."""

    format = "workbook"

    def __init__(self, data: bytes, max_rows: int, has_header: Callable[[list[list[str]]], bool]):
        if data.startswith(b"PK"):
            check_zip(data)
        try:
            book = CalamineWorkbook.from_filelike(io.BytesIO(data))
            sheets = [i for i, meta in enumerate(book.sheets_metadata) if meta.typ == SheetTypeEnum.WorkSheet]
            if not sheets:
                raise unreadable("The workbook has no worksheet.", "工作簿中没有工作表。请确认表格内容在工作表中。")
            chosen = sheets[0]
            for index in sheets:
                head = book.get_sheet_by_index(index).to_python(skip_empty_area=False, nrows=HEADER_SEARCH_ROWS)
                if has_header([[cell_text(c) or "" for c in row] for row in head]):
                    chosen = index
                    break
            values = book.get_sheet_by_index(chosen).to_python(skip_empty_area=False)
        except RejectFile:
            raise
        except PasswordError:
            raise unreadable(
                "The workbook is protected by a password: save it without a password and submit again.",
                "工作簿设置了打开密码：请取消密码后另存，再重新报送。",
            ) from None
        except Exception as exc:  # calamine raises its own and OS errors for a file that is not a workbook
            raise unreadable(
                f"The file cannot be opened as a workbook ({type(exc).__name__}): it is damaged, encrypted or "
                "not a spreadsheet. Save the table as .xlsx or CSV and submit again.",
                "文件无法作为工作簿打开（已损坏、已加密或不是表格文件）。请将表格另存为 .xlsx 或 CSV 格式后重新报送。",
            ) from None
        self._rows = [[cell_text(c) for c in row] for row in values]
        filled = sum(1 for row in self._rows if any(row))
        if filled > max_rows + HEADER_SEARCH_ROWS:
            raise too_many_rows(max_rows)
        self._dates = {(r, c) for r, row in enumerate(values) for c, v in enumerate(row) if isinstance(v, date)}
        self.head = [[c or "" for c in r] for r in self._rows[:HEADER_SEARCH_ROWS]]

    def body(self, header_index: int) -> Body:
        below = self._rows[header_index + 1:]
        width = max([len(r) for r in self._rows[header_index:]], default=0)
        columns: list[list[str | None]] = [[] for _ in range(width)]
        for values in below:
            values = values + [None] * (width - len(values))
            for i in range(width):
                columns[i].append(values[i])
        date_cells: dict[int, np.ndarray] = {}
        for r, c in self._dates:
            if r > header_index:
                mask = date_cells.setdefault(c, np.zeros(len(below), dtype=bool))
                mask[r - header_index - 1] = True
        rows = np.arange(header_index + 2, header_index + 2 + len(below), dtype=np.int64)
        return Body([pa.array(c, pa.string()) for c in columns], rows, date_cells)
