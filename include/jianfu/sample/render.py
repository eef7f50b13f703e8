"""Turn canonical rows into the bytes a county clerk would really send (SPEC.md section 4).

A `Style` is one clerk's habits: CSV in UTF-8, UTF-8 with BOM or GB18030, or an XLSX with title rows
and real date cells; English, Chinese or sloppy headers; Chinese enum words; the date, period and
boolean spellings; the separator of item lists; blank rows, a 填表人/审核人 note row at the bottom,
an unknown extra column, a missing column. Rendering is deterministic: XLSX files get fixed
document and zip timestamps (see workbook.py), so the same rows and style always give the same bytes.
"""

from __future__ import annotations

import csv
import io
import random
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ..schema import BOOL, DATE, ENUM, INT, NUMBER, PERIOD, TEXT, YEAR, Column, Kind, split_list
from .workbook import HEADER, PLAIN, TITLE, write_xlsx


class Verbatim(str):
    """A list cell (data_items, joint_depts) written exactly as given, separators and all."""


@dataclass(frozen=True)
class Style:
    """How one file is written."""

    fmt: str = "csv"  # csv | xlsx
    encoding: str = "utf-8"  # csv: utf-8 | utf-8-sig | gb18030
    newline: str = "\r\n"
    header: str = "en"  # en | zh | zh_messy | en_messy
    enums: str = "en"  # en | zh | mixed
    dates: str = "iso"  # iso | slash | cn | excel (xlsx: real date cells)
    period: str = "iso"  # iso | compact | cn
    bools: tuple[str, str] = ("yes", "no")
    sep: str = ";"
    title_rows: int = 0  # xlsx: rows above the header (merged title, unit line, blank)
    blank_rows: int = 0  # fully blank rows scattered among the data
    note_row: bool = False  # 填表人/审核人 line at the bottom
    extra_columns: tuple[str, ...] = ()  # unknown headers, ignored with a warning
    drop_columns: tuple[str, ...] = ()  # columns left out of the file
    shuffle_columns: bool = False

    @property
    def ext(self) -> str:
        return "xlsx" if self.fmt == "xlsx" else "csv"

    def describe(self) -> str:
        if self.fmt == "xlsx":
            return f"xlsx ({self.title_rows} title rows, {self.header} headers, dates {self.dates})"
        return f"csv {self.encoding} ({self.header} headers, dates {self.dates}, periods {self.period})"


_FULLWIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})


def _messy_zh(col: Column, k: int) -> str:
    name = col.zh
    if any(ch.isascii() for ch in name):
        return name.translate(_FULLWIDTH)  # 耗时（小时）, 近３０天消息数
    if k % 4 == 1:
        return f" {name} "
    if k % 4 == 2:
        return name + "\u3000"
    return name


def _messy_en(col: Column, k: int) -> str:
    name = col.name
    return (name.upper(), f" {name.title()}", name.translate(_FULLWIDTH), name + "  ")[k % 4]


def header_names(columns: list[Column], style: Style) -> list[str]:
    if style.header == "zh":
        return [c.zh for c in columns]
    if style.header == "zh_messy":
        return [_messy_zh(c, k) for k, c in enumerate(columns)]
    if style.header == "en_messy":
        return [_messy_en(c, k) for k, c in enumerate(columns)]
    return [c.name for c in columns]


def _date_text(day: date, how: str) -> str:
    if how == "slash":
        return f"{day.year}/{day.month:02d}/{day.day:02d}"
    if how == "cn":
        return f"{day.year}年{day.month}月{day.day}日"
    return day.isoformat()


def period_text(period: str, how: str) -> str:
    if how == "compact":
        return period.replace("-", "")
    if how == "cn":
        return f"{int(period[:4])}年{int(period[5:7])}月"
    return period


def _cell(col: Column, value: Any, style: Style, rng: random.Random) -> Any:
    """One value as the clerk writes it; XLSX keeps numbers and dates typed."""
    xlsx = style.fmt == "xlsx"
    if value is None or value == "":
        return None if xlsx else ""
    if col.type == ENUM:
        zh = style.enums == "zh" or (style.enums == "mixed" and rng.random() < 0.5)
        return col.enum.get(value, value) if zh and col.enum else value
    if col.type == DATE:
        if not isinstance(value, date):
            return value
        return value if xlsx and style.dates == "excel" else _date_text(value, style.dates)
    if col.type == PERIOD:
        return period_text(value, style.period) if re.fullmatch(r"\d{4}-\d{2}", str(value)) else value
    if col.type == BOOL:
        if isinstance(value, bool):
            return style.bools[0] if value else style.bools[1]
        return value
    if col.type in (INT, YEAR):
        return value if xlsx else str(value)
    if col.type == NUMBER:
        return value if xlsx else f"{value:g}"
    if col.type == TEXT and col.name in ("data_items", "joint_depts") and not isinstance(value, Verbatim):
        return style.sep.join(split_list(str(value)))
    return value


def _layout(kind: Kind, style: Style, seed: str) -> list[Column]:
    columns = [c for c in kind.columns if c.name not in style.drop_columns]
    if style.shuffle_columns:
        head, tail = columns[:2], columns[2:]
        random.Random(seed + "/cols").shuffle(tail)
        columns = tail[:3] + head + tail[3:]
    return columns


def _note(columns: list[Column], kind: Kind, signer: tuple[str, str], day: str) -> list[str]:
    """A 填表人/审核人 line: text in the first non-key cells, every key cell empty."""
    texts = [f"填表人：{signer[0]}", f"审核人：{signer[1]}", f"填报日期：{day}"]
    out = []
    for c in columns:
        out.append(texts.pop(0) if texts and c.name not in kind.key and c.type in (TEXT, PERIOD, "county_code")
                   else "")
    return out


def table(kind: Kind, rows: list[dict], style: Style, *, seed: str, signer: tuple[str, str] = ("王丽", "陈建国"),
          note_day: str = "") -> tuple[list[str], list[list[Any]]]:
    """Header and body (with blank and note rows) of a file, before encoding."""
    rng = random.Random(seed + "/cells")
    columns = _layout(kind, style, seed)
    header = header_names(columns, style) + list(style.extra_columns)
    body: list[list[Any]] = []
    for n, row in enumerate(rows):
        line = [_cell(c, row.get(c.name), style, rng) for c in columns]
        for extra in style.extra_columns:
            line.append(("已核实", "", "数据来源：乡镇上报", "")[n % 4] if extra else "")
        body.append(line)
    blank = [None if style.fmt == "xlsx" else ""] * len(header)
    spots = sorted(random.Random(seed + "/blank").sample(range(1, len(body) + 1), min(style.blank_rows, len(body))))
    for offset, spot in enumerate(spots):
        body.insert(spot + offset, list(blank))
    if style.note_row:
        body.append(list(blank))
        body.append(_note(columns, kind, signer, note_day) + [""] * len(style.extra_columns))
    return header, body


def render_csv(header: list[str], body: list[list[Any]], style: Style) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=style.newline)
    writer.writerow(header)
    writer.writerows(body)
    return buf.getvalue().encode(style.encoding)


def render_xlsx(header: list[str], body: list[list[Any]], style: Style, *, titles: list[str], sheet: str,
                stamp: datetime) -> bytes:
    """Title rows (the first merged across the table), the header in bold, then the body."""
    rows: list[tuple[str, list[Any]]] = []
    for n, text in enumerate(titles[: style.title_rows]):
        rows.append((TITLE if n == 0 else PLAIN, [text or None]))
    rows.append((HEADER, header))
    rows.extend((PLAIN, line) for line in body)
    return write_xlsx(rows, sheet=sheet, width=len(header), merge_title=style.title_rows > 0, stamp=stamp)
