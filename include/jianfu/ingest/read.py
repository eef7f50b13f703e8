"""Read one county file of any accepted format and normalise it to the validation frame.

This is the ingest pipeline's entry point for a file's *content* (SPEC.md sections 4, 6.1, 6.2):

    read_submission(path, kind) -> ReadResult   # the file's table (see frame.py) + warnings
    to_arrow(read, kind) -> pa.Table            # canonical columns typed as kind.arrow_schema

`read_submission` raises `RejectFile` for a file whose structure is broken; everything about single
values (a malformed date, an unknown enum word) is left to validation, which sees both the parsed
value and the `__raw` text. The work is split so each module has one job:

- formats.py: bytes -> rows of cell text for CSV (UTF-8/GB18030/UTF-16, commas or tabs, via
  pyarrow.csv), with each row's number as the county sees it;
- workbook.py: the same for XLSX, XLS, ET and ODS (python-calamine), after a safety check;
- headers.py: which row is the header, and which column each header cell names;
- values.py: cell text -> typed values, column-wise;
- this module: blank and note rows, structural checks, the uniform county and period, the frame.

Row numbers (`__row`, `Problem.row`) are 1-based rows of the county's own file, title and header rows
counted. For CSV they are record numbers, i.e. the row Excel shows: a quoted cell spanning several
lines counts once, a blank line counts.

Rule ids emitted (critical ones raise RejectFile; warnings land in ReadResult.problems):

critical
    too_large                 file over MAX_BYTES (checked before reading)
    empty_file                zero bytes or only whitespace
    unreadable_file           binary junk, encrypted or damaged workbook, truncated XLSX,
                              undecodable text (neither UTF-8 nor GB18030), unparseable CSV
    mixed_encoding            CSV lines in UTF-8 and in GB18030 in one file
    nul_byte                  a NUL byte anywhere in a CSV
    unsafe_workbook           parts inflating past 500 MB or 100x, a cell beyond row 1,048,576 or
                              column XFD, a cell over 32,767 characters
    no_header_row             no header row found in the first 11 rows
    duplicate_column          two header cells map to one canonical column
    missing_required_column   a required column is absent (named in English and Chinese)
    no_data_rows              header only, or only blank and note rows
    too_many_rows             more than MAX_ROWS data rows
    not_uniform               county_code or period/year differs between rows
    county_code_unreadable    no row has a 6-digit county_code (empty or malformed everywhere)
    period_unreadable         no row has a readable period (year for inspections)
warning
    unknown_column            a header cell naming no column (ignored), or values under a blank header
    optional_column_absent    an optional column is not in the file
    note_row_skipped          a non-blank row whose key columns are all empty (填表人/审核人 lines)
    cells_outside_header      CSV row with values to the right of the header's last column (ignored)

Note rows: a key cell holding a `label:text` note (填表人：张三, after NFKC) counts as empty, because
such lines are usually typed in column A, which is often county_code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..problems import Problem, RejectFile, critical, warning
from ..schema import COUNTY_CODE_RE, Column, Kind
from ..submission import ROW, ReadResult, raw
from .formats import EMPTY, OLE2_MAGIC, TOO_LARGE, ZIP_MAGIC, Body, CsvSheet, Sheet, too_many_rows, unreadable
from .headers import HEADER_SEARCH_ROWS, HeaderMap, find_header_row, map_header
from .values import TRUE, empty_column, normalise, parse_column, trim
from .workbook import WorkbookSheet

MAX_BYTES = 100 * 1024 * 1024
MAX_ROWS = 1_000_000

#: Shown per distinct value in a not-uniform message.
EXAMPLE_ROWS = 5

_COUNTY = re.compile(COUNTY_CODE_RE)


def read_submission(path: Path, kind: Kind) -> ReadResult:
    """Read a county file of `kind` into the validation frame, or raise RejectFile."""
    sheet = open_sheet(Path(path), has_header=lambda head: find_header_row(head, kind) is not None)
    header_index = find_header_row(sheet.head, kind)
    if header_index is None:
        raise RejectFile(_no_header_problem(sheet, kind))
    header = map_header(sheet.head[header_index], kind)
    body = sheet.body(header_index)
    return _Reader(kind, header, body, header_index + 1).result()


def open_sheet(path: Path, max_bytes: int | None = None, max_rows: int | None = None,
               has_header: Callable[[list[list[str]]], bool] | None = None) -> Sheet:
    """Read a file and decide its format by content; raises RejectFile when it is none we accept.
    A workbook is read from its first worksheet whose first rows satisfy `has_header` (default:
    the first worksheet). Limits default to a submission's (MAX_BYTES, MAX_ROWS)."""
    max_bytes = MAX_BYTES if max_bytes is None else max_bytes
    max_rows = MAX_ROWS if max_rows is None else max_rows
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
            "The file is empty. Check that the right table was exported, then submit it again.",
            "文件是空的，没有任何内容。请确认导出了正确的文件后重新报送。", EMPTY)
    if data.startswith((ZIP_MAGIC, OLE2_MAGIC)):
        return WorkbookSheet(data, max_rows, has_header or (lambda _head: True))
    return CsvSheet(data)


def to_arrow(source: ReadResult | pd.DataFrame, kind: Kind) -> pa.Table:
    """The canonical columns of a read file (or of a validation frame), typed as `kind.arrow_schema`
    (for staging as Parquet). A ReadResult from read_submission gives its own Arrow table, without
    going through pandas."""
    schema = kind.arrow_schema
    if isinstance(source, ReadResult):
        table, frame = source.table, None if source.table is not None else source.frame
    else:
        table, frame = None, source
    arrays = []
    for fld in schema:
        array = table.column(fld.name) if table is not None else pa.Array.from_pandas(frame[fld.name])
        if pa.types.is_date32(fld.type) and pa.types.is_timestamp(array.type):
            array = pc.cast(array, fld.type, safe=False)  # drops the (midnight) time of day
        arrays.append(array.cast(fld.type) if array.type != fld.type else array)
    return pa.Table.from_arrays(arrays, schema=schema)


# ---------------------------------------------------------------------------------------- reading


class _Reader:
    """One file's body turned into a ReadResult: the checks, in the order a clerk would fix them."""

    def __init__(self, kind: Kind, header: HeaderMap, body: Body, header_row: int):
        self.kind = kind
        self.header = header
        self.body = body
        self.header_row = header_row
        self.problems: list[Problem] = []
        self.raws = [trim(cells) for cells in body.cells]
        self.text: dict[str, pa.Array] = {}  # normalised text per mapped canonical column
        self.values: dict[str, pa.Array] = {}  # parsed values per mapped canonical column
        self.county_guess: str | None = None
        self.period_guess: str | None = None

    def result(self) -> ReadResult:
        kind, header = self.kind, self.header
        nonblank = self._nonblank()
        self._guess(nonblank)
        self._check_columns()
        note = self._note_rows(nonblank)
        keep = pc.and_(nonblank, pc.invert(note)) if note is not None else nonblank
        n_rows = pc.sum(keep).as_py() or 0
        if n_rows == 0:
            raise self.reject(_problem_no_data(self.header_row))
        if n_rows > MAX_ROWS:
            raise self.reject(too_many_rows(MAX_ROWS).problem)

        everything = n_rows == len(keep)

        def kept(array: pa.Array) -> pa.Array:
            return array if everything else pc.filter(array, keep)

        rows = kept(pa.array(self.body.rows, pa.int64()))
        county, period = self._uniform(rows, kept)
        columns: dict[str, pa.Array] = {ROW: rows}
        for col in kind.columns:
            columns[col.name] = kept(self.parsed(col.name)) if col.name in header.columns \
                else empty_column(col, n_rows)
        for col in kind.columns:
            pos = header.columns.get(col.name)
            columns[raw(col.name)] = kept(self.raws[pos]) if pos is not None else pa.nulls(n_rows, pa.string())
        table = pa.Table.from_arrays(list(columns.values()), names=list(columns))

        self._column_warnings()
        self._overflow_warnings()
        return ReadResult(county_code=county, period=period, problems=self.problems,
                          header_row=self.header_row, table=table,
                          headers={name: header.texts[pos] for name, pos in header.columns.items()})

    def reject(self, problem: Problem) -> RejectFile:
        """A RejectFile carrying this file's best-guess county and period."""
        return RejectFile(problem, self.county_guess, self.period_guess)

    # -- values of the county, period and key columns ------------------------------------------

    def text_of(self, name: str) -> pa.Array:
        """Normalised text of a mapped canonical column (computed once)."""
        if name not in self.text:
            pos = self.header.columns[name]
            text = normalise(self.raws[pos])
            if name == self.kind.period_column and pos in self.body.date_cells:
                # An Excel date cell in the period (year) column stands for its month (year).
                width = 7 if name == "period" else 4
                text = pc.if_else(pa.array(self.body.date_cells[pos], pa.bool_()),
                                  pc.utf8_slice_codeunits(text, 0, width), text)
            self.text[name] = text
        return self.text[name]

    def parsed(self, name: str) -> pa.Array:
        """Parsed values of a mapped canonical column, every body row (computed once)."""
        if name not in self.values:
            pos = self.header.columns[name]
            self.values[name] = parse_column(self.kind.column(name), self.text_of(name), self.raws[pos])
        return self.values[name]

    def _nonblank(self) -> pa.Array:
        """Mask of rows with at least one non-blank cell (fully blank rows are dropped silently)."""
        mask = None
        for cells in self.raws:
            if cells.null_count < len(cells):
                mask = pc.is_valid(cells) if mask is None else pc.or_(mask, pc.is_valid(cells))
        return mask if mask is not None else pa.array(np.zeros(len(self.body.rows), dtype=bool))

    def _counts(self, name: str, array: pa.Array) -> list[tuple[str, int]]:
        """Distinct well-formed county codes or periods (as text) with their row counts, most first."""
        if name == "year":
            array = array.cast(pa.string())
        counts = pc.value_counts(array.drop_null())
        pairs = zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True)
        if name == "county_code":
            pairs = ((v, n) for v, n in pairs if _COUNTY.match(v))
        return sorted(pairs, key=lambda p: -p[1])

    def _guess(self, nonblank: pa.Array) -> None:
        """Most frequent well-formed county and period: carried by any RejectFile from here on."""
        for name in ("county_code", self.kind.period_column):
            if name not in self.header.columns:
                continue
            counts = self._counts(name, pc.filter(self.parsed(name), nonblank))
            guess = counts[0][0] if counts else None
            if name == "county_code":
                self.county_guess = guess
            else:
                self.period_guess = guess

    def _uniform(self, rows: pa.Array, kept) -> tuple[str, str]:
        """The single county and period of the file, or a RejectFile saying which rows differ."""
        found = []
        for name in ("county_code", self.kind.period_column):
            col = self.kind.column(name)
            parsed = kept(self.parsed(name))
            counts = self._counts(name, parsed)
            if not counts:
                raise self.reject(_problem_unreadable(col, kept(self.text_of(name)), rows))
            if len(counts) > 1:
                raise self.reject(_problem_not_uniform(col, parsed, rows, counts))
            found.append(counts[0][0])
        return found[0], found[1]

    # -- structure ------------------------------------------------------------------------------

    def _check_columns(self) -> None:
        kind, header = self.kind, self.header
        for name, texts in header.duplicates.items():
            col = kind.column(name)
            shown = "」「".join(texts)
            raise self.reject(critical(
                "duplicate_column",
                f"Two columns of the header ({' / '.join(texts)}) both mean {name} ({col.zh}); "
                "keep only one of them and submit again.",
                f"表头中有多列（「{shown}」）都对应「{col.zh}」({name})，请只保留其中一列后重新报送。",
                column=name, row=self.header_row, value=" / ".join(texts),
            ))
        missing = [kind.column(n) for n in kind.required if n not in header.columns]
        if missing:
            en = ", ".join(f"{c.name} ({c.zh})" for c in missing)
            zh = "、".join(f"「{c.zh}」({c.name})" for c in missing)
            raise self.reject(critical(
                "missing_required_column",
                f"Required column{'s' if len(missing) > 1 else ''} missing: {en}. "
                f"Add {'them' if len(missing) > 1 else 'it'} to the header row (row {self.header_row}) "
                "and submit again.",
                f"缺少必填列{zh}。请在表头（第 {self.header_row} 行）中加入该列后重新报送。",
                column=missing[0].name, row=self.header_row,
            ))

    def _note_rows(self, nonblank: pa.Array) -> pa.Array | None:
        """Mask of note rows: not blank, but every key column empty (or holding a `label:` note)."""
        kind = self.kind
        keys = ["county_code", kind.period_column, *kind.key]
        all_empty = None
        for name in dict.fromkeys(keys):
            text = self.text_of(name)
            # 填表人:张三 (NFKC has turned ： into :) counts as empty
            empty = pc.fill_null(pc.match_substring(text, ":"), TRUE)
            all_empty = empty if all_empty is None else pc.and_(all_empty, empty)
            if not pc.any(all_empty).as_py():  # the usual file: its county codes are all filled in
                return None
        note = pc.and_(all_empty, nonblank)
        indices = pc.indices_nonzero(note).to_pylist()
        for i in indices:
            number = int(self.body.rows[i])
            cells = [c[i].as_py() for c in self.raws]
            shown = " ".join(c for c in cells if c)[:100]
            self.problems.append(warning(
                "note_row_skipped",
                f"Row {number} has no county, period or key values and was skipped as a note: {shown}",
                f"第 {number} 行没有县级代码、统计期等关键信息，已作为备注行跳过：{shown}",
                row=number, value=shown,
            ))
        return note if len(indices) else None

    def _column_warnings(self) -> None:
        kind, header = self.kind, self.header
        for pos, text in header.unknown:
            self.problems.append(warning(
                "unknown_column",
                f"Column {_letter(pos)} 「{text}」 is not a column of {kind.name} and was ignored.",
                f"第 {_letter(pos)} 列「{text}」不是《{kind.zh}》的规定列，已忽略。",
                column=text, row=self.header_row, value=text,
            ))
        named = set(header.columns.values()) | {pos for pos, _ in header.unknown}
        for pos, cells in enumerate(self.raws):
            if pos not in named and cells.null_count < len(cells):
                self.problems.append(warning(
                    "unknown_column",
                    f"Column {_letter(pos)} has values but no header, and was ignored.",
                    f"第 {_letter(pos)} 列有数据但没有表头，已忽略。",
                    row=self.header_row,
                ))
        for name in kind.optional:
            if name not in header.columns:
                col = kind.column(name)
                self.problems.append(warning(
                    "optional_column_absent",
                    f"Optional column {name} ({col.zh}) is not in the file; it is treated as empty.",
                    f"文件中没有选填列「{col.zh}」({name})，按空值处理。",
                    column=name,
                ))

    def _overflow_warnings(self) -> None:
        for number in self.body.overflow:
            self.problems.append(warning(
                "cells_outside_header",
                f"Row {number} has values to the right of the last header column; they were ignored.",
                f"第 {number} 行在表头最后一列的右侧还有数据，已忽略。",
                row=number,
            ))


# -------------------------------------------------------------------------------------- problems


def _letter(pos: int) -> str:
    """Spreadsheet column letter of a 0-based column position (0 -> A, 26 -> AA)."""
    letters = ""
    pos += 1
    while pos:
        pos, rem = divmod(pos - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _rows_text(numbers: Sequence[int], total: int) -> tuple[str, str]:
    shown = ", ".join(str(n) for n in numbers[:EXAMPLE_ROWS])
    more = total > EXAMPLE_ROWS
    return (f"row{'s' if total > 1 else ''} {shown}{', …' if more else ''}",
            f"第 {'、'.join(str(n) for n in numbers[:EXAMPLE_ROWS])}{'…' if more else ''} 行")


def _problem_not_uniform(col: Column, parsed: pa.Array, rows: pa.Array, counts: list[tuple[str, int]]) -> Problem:
    values = [v for v, _ in counts]
    if parsed.type != pa.string():
        parsed = parsed.cast(pa.string())
    en_parts, zh_parts = [], []
    first_minority_row = None
    for rank, value in enumerate(values[:EXAMPLE_ROWS]):
        where = pc.filter(rows, pc.fill_null(pc.equal(parsed, value), False)).to_pylist()
        en_rows, zh_rows = _rows_text(where, len(where))
        en_parts.append(f"{value} in {len(where):,} row{'s' if len(where) > 1 else ''} ({en_rows})")
        zh_parts.append(f"{value} 共 {len(where):,} 行（{zh_rows}）")
        if rank == 1:
            first_minority_row = where[0]
    if len(values) > EXAMPLE_ROWS:
        en_parts.append(f"and {len(values) - EXAMPLE_ROWS} more")
        zh_parts.append(f"等共 {len(values)} 种")
    return critical(
        "not_uniform",
        f"Every row of a file must carry the same {col.name} ({col.zh}), but this file has "
        f"{'; '.join(en_parts)}. Correct the wrong rows, or send one file per "
        f"{'county' if col.name == 'county_code' else 'period'}.",
        f"一个文件中所有行的「{col.zh}」({col.name})必须相同，本文件中有：{'；'.join(zh_parts)}。"
        f"请更正有误的行，或按{'县' if col.name == 'county_code' else '期'}分开报送。",
        column=col.name, row=first_minority_row, value=" / ".join(str(v) for v in values),
    )


def _problem_unreadable(col: Column, text: pa.Array, rows: pa.Array) -> Problem:
    valid = pc.is_valid(text)
    if not pc.any(valid).as_py():
        return critical(
            f"{'county_code' if col.name == 'county_code' else 'period'}_unreadable",
            f"{col.name} ({col.zh}) is empty in every row. Fill it in and submit again.",
            f"所有行的「{col.zh}」({col.name})都是空的。请填写后重新报送。",
            column=col.name,
        )
    first = pc.index(valid, True).as_py()
    value, row = text[first].as_py(), rows[first].as_py()
    if col.name == "county_code":
        how_en, how_zh = "a 6-digit county code such as 421127", "6 位县级行政区划代码，如 421127"
    elif col.name == "year":
        how_en, how_zh = "a year such as 2026", "年份，如 2026"
    else:
        how_en, how_zh = "a month such as 2026-05, 202605 or 2026年5月", "月份，如 2026-05、202605 或 2026年5月"
    return critical(
        f"{'county_code' if col.name == 'county_code' else 'period'}_unreadable",
        f"No row has a readable {col.name} ({col.zh}): it must be {how_en}; row {row} has '{value}'.",
        f"没有任何一行的「{col.zh}」({col.name})格式正确：应填写{how_zh}，第 {row} 行填的是「{value}」。",
        column=col.name, row=row, value=value,
    )


def _problem_no_data(header_row: int) -> Problem:
    return critical(
        "no_data_rows",
        f"The file has a header (row {header_row}) but no data rows below it. Fill in the data and submit again.",
        f"文件只有表头（第 {header_row} 行），下面没有数据行。请填写数据后重新报送。",
        row=header_row,
    )


def _no_header_problem(sheet: Sheet, kind: Kind) -> Problem:
    names = "、".join(f"{c.zh}" for c in kind.columns if c.required)
    if not any(any((c or "").strip() for c in row) for row in sheet.head):
        return critical(
            "empty_file", "The file has no content. Check that the right table was exported, then submit it again.",
            "文件中没有任何内容。请确认导出了正确的表格后重新报送。"
        )
    webpage = re.match(r"\s*<", (sheet.head[0][0] if sheet.head and sheet.head[0] else "") or "")
    hint_en = " It looks like a web page saved with an Excel name: open it in Excel and save as .xlsx." if webpage else ""
    hint_zh = "文件似乎是网页另存的 Excel，请用 Excel 打开后另存为 .xlsx。" if webpage else ""
    return critical(
        "no_header_row",
        f"No header row found in the first {HEADER_SEARCH_ROWS} rows: the header must name the columns of "
        f"{kind.name} ({kind.zh}) in English or Chinese, e.g. {', '.join(kind.required[:4])}.{hint_en}",
        f"在前 {HEADER_SEARCH_ROWS} 行中找不到表头：表头应列出《{kind.zh}》的列名，如 {names}。{hint_zh}",
    )
