"""Turning the bytes of a county file into rows of cell text: the shared shapes, and CSV.

The format is decided by content, not by the file name (county offices rename files): a zip (`PK`)
or an OLE2 file (`D0 CF 11 E0`) is a workbook (workbook.py), anything else a CSV in UTF-8 (BOM or
not), GB18030/GBK (what Chinese Excel writes) or UTF-16 with BOM (Excel's "Unicode text"),
separated by commas or tabs. A CSV mixing encodings line by line, or holding a NUL byte, is refused
rather than guessed at: decoding it whole as GB18030 would store mojibake.

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
from dataclasses import dataclass, field

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
MIXED_ENCODING = "mixed_encoding"
NUL_BYTE = "nul_byte"


@dataclass
class Body:
    """The rows below the header: one string array per column position (null or '' when empty)."""

    cells: list[pa.Array]
    rows: np.ndarray  # int64: row number in the county's file, per row
    #: Workbooks only: column position -> mask of the rows whose cell was a date cell.
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


# --------------------------------------------------------------------------------------------- CSV


def _binary(data: bytes) -> bool:
    """Whether the start of a file is binary rather than text (NUL bytes or many control bytes)."""
    sample = data[:8192]
    if b"\x00" in sample:
        return True
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls > max(8, len(sample) // 100)


_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13))


def _records(text: str, limit: int, delimiter: str = ",") -> tuple[list[list[str]], list[int]]:
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
    for record in csv.reader(lines(), delimiter=delimiter):
        records.append(record)
        starts.append(consumed)
        if len(records) >= limit:
            break
    return records, starts


def _mixed_encodings(data: bytes) -> bool:
    """Whether some lines are UTF-8 (with non-ASCII text) and others are not: a file pasted
    together from two sources, which no single decoding reads right."""
    utf8 = other = False
    for line in data.split(b"\n"):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8 = True
        except UnicodeDecodeError:
            other = True
        if utf8 and other:
            return True
    return False


def _delimiter(text: str) -> str:
    """Tab when the first lines hold more tabs than commas (Excel's "Unicode text" and many
    exports), else comma."""
    head = "\n".join(text.splitlines()[: HEADER_SEARCH_ROWS + 1])
    return "\t" if head.count("\t") > head.count(",") else ","


_SAVE_AS = ("Save it from Excel or WPS as 'CSV UTF-8' or as .xlsx and submit again.",
            "请在 Excel 或 WPS 中另存为“CSV UTF-8”或 .xlsx 格式后重新报送。")


class CsvSheet(Sheet):
    """A CSV file in UTF-8 (with or without BOM), GB18030 or UTF-16 with BOM; commas or tabs."""

    def __init__(self, data: bytes):
        self._text: str | None = None  # decoded whole only when the file is not UTF-8
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            try:
                self._text = data.decode("utf-16")
            except UnicodeDecodeError:
                raise unreadable(f"The file starts as UTF-16 text but is not valid UTF-16. {_SAVE_AS[0]}",
                                 f"文件以 UTF-16 编码开头，但内容不是有效的 UTF-16。{_SAVE_AS[1]}") from None
            self.encoding = "utf-16"
            data = self._text.encode("utf-8")
        elif _binary(data):
            raise unreadable(
                "This is not a CSV or Excel file (it contains binary data). Submit the table as .xlsx or CSV.",
                "文件不是 CSV 或 Excel 表格（含有二进制内容）。请将表格保存为 .xlsx 或 CSV 格式后重新报送。",
            )
        else:
            self.encoding = "utf-8"
        if b"\x00" in data:
            raise unreadable(
                f"The file holds a NUL byte (a zero byte, as left by a damaged copy or a binary export), "
                f"which a table never contains. {_SAVE_AS[0]}",
                f"文件中含有空字节（NUL，通常由复制损坏或导出错误造成），表格中不应出现。{_SAVE_AS[1]}", NUL_BYTE)
        if data.startswith(UTF8_BOM):
            data = data[len(UTF8_BOM):]
        self.utf8 = data  # the bytes pyarrow reads, always UTF-8
        if self._text is None:
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                self._to_gb18030()
        self.format = f"csv-{self.encoding}"
        self.delimiter = _delimiter(self._head_text(HEAD_BYTES)[0])
        self._find_head()

    def _to_gb18030(self) -> None:
        if _mixed_encodings(self.utf8):
            raise unreadable(
                f"The file mixes text encodings: some lines are UTF-8, others GBK/GB18030, so its "
                f"Chinese text cannot be read right. {_SAVE_AS[0]}",
                f"文件中混用了不同的文字编码（部分行为 UTF-8，部分行为 GBK/GB18030），中文无法正确读取。{_SAVE_AS[1]}",
                MIXED_ENCODING)
        try:
            self._text = self.utf8.decode("gb18030")
        except UnicodeDecodeError:
            raise unreadable(
                f"The file's text encoding is neither UTF-8 nor GB18030/GBK, so it cannot be read. {_SAVE_AS[0]}",
                f"无法识别文件的文字编码（既不是 UTF-8，也不是 GB18030/GBK）。{_SAVE_AS[1]}",
            ) from None
        self.encoding = "gb18030"
        self.utf8 = self._text.encode("utf-8")

    def _head_text(self, nbytes: int) -> tuple[str, bool]:
        """Decoded text of the first `nbytes` bytes, and whether it is the whole file."""
        if self._text is not None:  # decoded whole: slice characters (offsets stay exact)
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
                records, starts = _records(text, limit, self.delimiter)
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
                    delimiter=self.delimiter, newlines_in_values=True, ignore_empty_lines=False,
                    invalid_row_handler=on_invalid,
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={n: pa.string() for n in names},
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except pa.ArrowInvalid as exc:
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

    def _merge_repaired(self, cells, rows, invalid, width, first_record) -> Body:
        """Add the rows pyarrow skipped (wrong cell count), padded or cut to the header's width."""
        extra_rows = []
        extra_cells: list[list[str]] = [[] for _ in range(width)]
        overflow = []
        for number, text in invalid:
            record = next(csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter), [])
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
        for number, record in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter),
                                        start=1):
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


def too_many_rows(max_rows: int) -> RejectFile:
    """A RejectFile for a file with more data rows than one submission may carry."""
    return unreadable(
        f"The file has more than {max_rows:,} data rows, the most one submission may carry.",
        f"文件数据行超过 {max_rows:,} 行的上限。请检查是否误报了其他表格的数据。",
        TOO_MANY_ROWS,
    )
