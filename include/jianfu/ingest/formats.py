"""Turning the bytes of a county file into rows of cell text, whatever the format.

The format is decided by content, not by the file name: county offices rename files, and a CSV saved
as `.xlsx` or an old `.xls` renamed to `.xlsx` must get a verdict a clerk understands. A file is
either an XLSX (a zip, `PK`), an old OLE2 workbook or an encrypted OOXML (`D0 CF 11 E0`, rejected),
or a CSV in UTF-8 (BOM or not) or GB18030/GBK (what Chinese Excel writes).

Every format yields a `Sheet`: its first rows as text (for header detection) and, once the header row
is known, a `Body` — one Arrow string array per column position of the rows below the header, with
the row number of each row as the county sees it in its own file (1-based, title and header rows
counted). For CSV that number is the *record* number, which is the row Excel shows when it opens
the file: a quoted cell spanning several lines is one record, and blank lines are records too.

CSV is read by pyarrow.csv (all columns as strings) from the header row on; only the first few
records are parsed in Python to find the header. Rows whose cell count differs from the header's
(a signature line typed in one cell, a trailing comma) are repaired one by one (padded, or cut with
the cut cells reported), so they keep their row numbers.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..problems import RejectFile, critical
from .headers import HEADER_SEARCH_ROWS

ZIP_MAGIC = b"PK"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0"
UTF8_BOM = codecs.BOM_UTF8
HEAD_BYTES = 64 * 1024

# Rule ids of the structural problems raised here (see read.py for the full list).
UNREADABLE = "unreadable_file"
EMPTY = "empty_file"
TOO_LARGE = "too_large"
TOO_MANY_ROWS = "too_many_rows"


@dataclass
class Body:
    """The rows below the header: one string array per column position (null or '' when empty)."""

    cells: list[pa.Array]
    rows: np.ndarray  # int64: row number in the county's file, per row
    #: XLSX only: column position -> mask of the rows whose cell was an Excel date cell.
    date_cells: dict[int, np.ndarray] = field(default_factory=dict)
    #: CSV only: row numbers of rows that had non-blank cells beyond the header's last column.
    overflow: list[int] = field(default_factory=list)


class Sheet:
    """A readable file: its first rows as text, and its body once the header row is known."""

    format: str = ""
    head: list[list[str]]

    def body(self, header_index: int) -> Body:  # pragma: no cover - interface
        raise NotImplementedError


def unreadable(en: str, zh: str, rule: str = UNREADABLE) -> RejectFile:
    """A RejectFile for a file whose bytes cannot be read as a county table."""
    return RejectFile(critical(rule, en, zh))


def open_sheet(path: Path, max_bytes: int, max_rows: int) -> Sheet:
    """Read a file and decide its format; raises RejectFile when it is none we accept."""
    size = path.stat().st_size
    if size > max_bytes:
        raise unreadable(
            f"The file is {size / 1048576:.1f} MB; files over {max_bytes // 1048576} MB are not accepted. "
            "Split it or remove unneeded sheets and columns.",
            f"文件大小为 {size / 1048576:.1f} MB，超过 {max_bytes // 1048576} MB 的上限。请删除多余的工作表或列后重新报送。",
            TOO_LARGE,
        )
    data = path.read_bytes()
    if not data or data.isspace():
        raise unreadable(
            "The file is empty.", "文件是空的，没有任何内容。请确认导出了正确的文件后重新报送。", EMPTY
        )
    if data.startswith(OLE2_MAGIC):
        raise unreadable(
            "Old Excel format (.xls) or password-protected workbook: save it as .xlsx (without a password) "
            "or as CSV and submit again.",
            "文件是旧版 Excel 格式（.xls）或设置了打开密码：请另存为 .xlsx（不设密码）或 CSV 格式后重新报送。",
        )
    if data.startswith(ZIP_MAGIC):
        return XlsxSheet(data, max_rows)
    return CsvSheet(data)


# --------------------------------------------------------------------------------------------- CSV


def _binary(data: bytes) -> bool:
    """Whether the start of a file is binary rather than text (NUL bytes or many control bytes)."""
    sample = data[:8192]
    if b"\x00" in sample:
        return True
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls > max(8, len(sample) // 100)


_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13))


def _records(text: str, limit: int) -> tuple[list[list[str]], list[int]]:
    """The first `limit` CSV records of `text`, and the character offset where each record starts.

    Offsets let the body be read by pyarrow from the header row on, so rows above it (titles with a
    different number of cells) never reach pyarrow.
    """
    buf = io.StringIO(text, newline="")
    consumed = 0

    def lines():
        nonlocal consumed
        while line := buf.readline():
            consumed += len(line)
            yield line

    records: list[list[str]] = []
    starts = [0]
    for record in csv.reader(lines()):
        records.append(record)
        starts.append(consumed)
        if len(records) >= limit:
            break
    return records, starts


class CsvSheet(Sheet):
    """A CSV file in UTF-8 (with or without BOM) or GB18030."""

    def __init__(self, data: bytes):
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise unreadable(
                "The file is UTF-16 text (Excel's 'Unicode Text'), which is not accepted. "
                "Save it from Excel as 'CSV UTF-8' or as .xlsx and submit again.",
                "文件是 UTF-16 编码的文本（Excel 的“Unicode 文本”），不能接收。请在 Excel 中另存为"
                "“CSV UTF-8”或 .xlsx 格式后重新报送。",
            )
        if _binary(data):
            raise unreadable(
                "This is not a CSV or XLSX file (it contains binary data). Submit the table as .xlsx or CSV.",
                "文件不是 CSV 或 XLSX 表格（含有二进制内容）。请将表格保存为 .xlsx 或 CSV 格式后重新报送。",
            )
        if data.startswith(UTF8_BOM):
            data = data[len(UTF8_BOM):]
        self.encoding = "utf-8"
        self.utf8 = data  # the bytes pyarrow reads, always UTF-8
        self._text: str | None = None  # decoded whole only when the file is not UTF-8
        try:
            self._head_text(HEAD_BYTES)
        except UnicodeDecodeError:
            self._to_gb18030()
        self.format = f"csv-{self.encoding}"
        self._find_head()

    def _to_gb18030(self) -> None:
        try:
            self._text = self.utf8.decode("gb18030")
        except UnicodeDecodeError:
            raise unreadable(
                "The file's text encoding is neither UTF-8 nor GB18030/GBK, so it cannot be read. "
                "Save it from Excel as 'CSV UTF-8' or as .xlsx and submit again.",
                "无法识别文件的文字编码（既不是 UTF-8，也不是 GB18030/GBK）。请在 Excel 中另存为"
                "“CSV UTF-8”或 .xlsx 格式后重新报送。",
            ) from None
        self.encoding = "gb18030"
        self.utf8 = self._text.encode("utf-8")

    def _head_text(self, nbytes: int) -> tuple[str, bool]:
        """Decoded text of the first `nbytes` bytes, and whether it is the whole file."""
        if self._text is not None:  # GB18030, decoded whole: slice characters (offsets stay exact)
            return self._text[:nbytes], nbytes >= len(self._text)
        whole = nbytes >= len(self.utf8)
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        return decoder.decode(self.utf8[:nbytes], final=whole), whole

    def _find_head(self) -> None:
        """Parse the first records (enough to find the header row) and where each starts."""
        nbytes = HEAD_BYTES
        limit = HEADER_SEARCH_ROWS + 1
        while True:
            try:
                text, whole = self._head_text(nbytes)
                records, starts = _records(text, limit)
            except UnicodeDecodeError:
                self._to_gb18030()
                continue
            except csv.Error as exc:
                raise unreadable(
                    f"The CSV file cannot be parsed ({exc}).",
                    f"CSV 文件格式错误，无法解析（{exc}）。请用 Excel 重新导出后再报送。",
                ) from None
            if whole or len(records) >= limit:
                break
            nbytes *= 4
        self.head = records[:HEADER_SEARCH_ROWS]
        self._head_starts = starts
        self._head_text_cache = text

    def body(self, header_index: int) -> Body:
        width = len(self.head[header_index])
        offset = len(self._head_text_cache[: self._head_starts[header_index]].encode("utf-8"))
        first_record = header_index + 1  # record number of the header row
        invalid: list[tuple[int, str]] = []

        def on_invalid(row) -> str:
            invalid.append((row.number, row.text))
            return "skip"

        names = [f"f{i}" for i in range(width)]
        try:
            table = pacsv.read_csv(
                pa.BufferReader(pa.py_buffer(self.utf8).slice(offset)),
                read_options=pacsv.ReadOptions(column_names=names, use_threads=False),
                parse_options=pacsv.ParseOptions(
                    newlines_in_values=True, ignore_empty_lines=False, invalid_row_handler=on_invalid
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={n: pa.string() for n in names},
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except pa.ArrowInvalid as exc:
            if self.encoding == "utf-8" and "UTF8" in str(exc).upper().replace("-", ""):
                # Valid UTF-8 at the top, GBK further down: read the whole file as GB18030.
                head = self.head
                self._to_gb18030()
                self._find_head()
                if self.head != head:
                    raise unreadable(
                        "The file mixes text encodings (UTF-8 at the top, something else further down), "
                        "so it cannot be read. Save it from Excel as 'CSV UTF-8' or as .xlsx and submit again.",
                        "文件中混用了不同的文字编码，无法读取。请在 Excel 中另存为“CSV UTF-8”或 .xlsx 格式后重新报送。",
                    ) from None
                return self.body(header_index)
            raise unreadable(
                f"The CSV file cannot be parsed ({exc}).",
                f"CSV 文件格式错误，无法解析（{exc}）。请用 Excel 重新导出后再报送。",
            ) from None
        # With column_names given, pyarrow numbers records from 1 at the header row.
        table = table.slice(1)
        n_valid = table.num_rows
        total = n_valid + len(invalid)
        bad_numbers = np.array([n for n, _ in invalid], dtype=np.int64)
        numbers = np.setdiff1d(np.arange(2, total + 2, dtype=np.int64), bad_numbers, assume_unique=True)
        if len(numbers) != n_valid or (len(bad_numbers) and bad_numbers.min() < 2):
            return self._body_slow(header_index, width)  # numbering not as expected: parse it all here
        rows = numbers + (first_record - 1)
        cells = [table.column(i).combine_chunks() for i in range(width)]
        if not invalid:
            return Body(cells, rows)
        return self._merge_repaired(cells, rows, invalid, width, first_record)

    @staticmethod
    def _merge_repaired(cells, rows, invalid, width, first_record) -> Body:
        """Add the rows pyarrow skipped (wrong cell count), padded or cut to the header's width."""
        extra_rows = []
        extra_cells: list[list[str]] = [[] for _ in range(width)]
        overflow = []
        for number, text in invalid:
            record = next(csv.reader(io.StringIO(text, newline="")), [])
            if any(c.strip() for c in record[width:]):
                overflow.append(number + first_record - 1)
            record = (record + [""] * width)[:width]
            for i in range(width):
                extra_cells[i].append(record[i])
            extra_rows.append(number + first_record - 1)
        all_rows = np.concatenate([rows, np.array(extra_rows, dtype=np.int64)])
        order = np.argsort(all_rows, kind="stable")
        merged = [
            pc.take(pa.concat_arrays([cells[i], pa.array(extra_cells[i], pa.string())]), order)
            for i in range(width)
        ]
        return Body(merged, all_rows[order], overflow=sorted(overflow))

    def _body_slow(self, header_index: int, width: int) -> Body:
        """Fallback: every record parsed by Python's csv module (slow, but numbers rows by itself)."""
        text = self._text if self._text is not None else self.utf8.decode("utf-8")
        columns: list[list[str]] = [[] for _ in range(width)]
        rows = []
        overflow = []
        for number, record in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            if number <= header_index + 1:
                continue
            if any(c.strip() for c in record[width:]):
                overflow.append(number)
            record = (record + [""] * width)[:width]
            for i in range(width):
                columns[i].append(record[i])
            rows.append(number)
        return Body([pa.array(c, pa.string()) for c in columns], np.array(rows, dtype=np.int64),
                    overflow=overflow)


# -------------------------------------------------------------------------------------------- XLSX


def cell_text(value: object) -> str | None:
    """Text of an Excel cell as the county meant it.

    Whole numbers lose their `.0` (a 12-digit unit code typed as a number stays `421127001001`,
    never `4.21127e+11`), booleans read TRUE/FALSE, date cells get an ISO rendering.
    """
    if value is None:
        return None
    kind = type(value)
    if kind is str:
        return value
    if kind is int:
        return str(value)
    if kind is float:
        if value.is_integer() and abs(value) < 1e18:
            return str(int(value))
        return repr(value)
    if kind is bool:
        return "TRUE" if value else "FALSE"
    if kind is datetime:
        if value.hour == value.minute == value.second == value.microsecond == 0:
            return value.strftime("%Y-%m-%d")
        return value.isoformat(sep=" ")
    if kind is date or kind is time:
        return value.isoformat()
    if kind is timedelta:
        return str(value)
    return str(value)


class XlsxSheet(Sheet):
    """The first worksheet of an XLSX workbook, read with openpyxl (read-only, cached values)."""

    format = "xlsx"

    def __init__(self, data: bytes, max_rows: int):
        rows, dates = self._read(data, max_rows)
        self._rows = rows
        self._dates = dates  # (row index, column position) of Excel date cells
        self.head = [[c or "" for c in r] for r in rows[:HEADER_SEARCH_ROWS]]

    @staticmethod
    def _read(data: bytes, max_rows: int) -> tuple[list[list[str | None]], set[tuple[int, int]]]:
        import openpyxl  # imported here: CSV-only runs do not pay for it

        try:
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError):
            raise unreadable(
                "The XLSX file is damaged or incomplete (perhaps cut off while copying). "
                "Open it in Excel, save it again and resubmit.",
                "XLSX 文件已损坏或不完整（可能在复制或上传时被截断）。请用 Excel 打开后重新保存，再次报送。",
            ) from None
        except Exception as exc:  # openpyxl raises many types for a zip that is not a workbook
            raise unreadable(
                f"The file is a zip archive but not a readable Excel workbook ({type(exc).__name__}). "
                "Save the table as .xlsx or CSV and submit again.",
                "文件是压缩包，但不是可读取的 Excel 工作簿。请将表格另存为 .xlsx 或 CSV 格式后重新报送。",
            ) from None
        try:
            if not book.worksheets:
                raise unreadable(
                    "The workbook has no worksheet.", "工作簿中没有工作表。请确认表格内容在第一个工作表中。"
                )
            sheet = book.worksheets[0]
            # The stored dimension is often wrong in files written by other software: do not trust it.
            sheet.reset_dimensions()
            rows: list[list[str | None]] = []
            dates: set[tuple[int, int]] = set()
            filled = 0
            for r, values in enumerate(sheet.iter_rows(values_only=True)):
                texts = []
                for c, value in enumerate(values):
                    if isinstance(value, (datetime, date)):
                        dates.add((r, c))
                    texts.append(cell_text(value))
                rows.append(texts)
                if any(texts):
                    filled += 1
                    if filled > max_rows + HEADER_SEARCH_ROWS:
                        raise too_many_rows(max_rows)
        except RejectFile:
            raise
        except Exception as exc:
            raise unreadable(
                f"The XLSX file is damaged and its first sheet cannot be read ({type(exc).__name__}). "
                "Open it in Excel, save it again and resubmit.",
                "XLSX 文件已损坏，无法读取第一个工作表。请用 Excel 打开后重新保存，再次报送。",
            ) from None
        finally:
            book.close()
        return rows, dates

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


def too_many_rows(max_rows: int) -> RejectFile:
    """A RejectFile for a file with more data rows than one submission may carry."""
    return unreadable(
        f"The file has more than {max_rows:,} data rows, the most one submission may carry.",
        f"文件数据行超过 {max_rows:,} 行的上限。请检查是否误报了其他表格的数据。",
        TOO_MANY_ROWS,
    )
