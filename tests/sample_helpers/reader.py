"""A deliberately simple reader of SPEC.md section 4 files, for the sample's round-trip test only.

It shares nothing with jianfu.ingest: its job is to prove that what the sample writes (encodings,
title rows, header spellings, date/period/boolean/enum words) reads back, by the SPEC's rules, to
exactly the rows the truth was computed from.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from datetime import date, datetime
from typing import Any

import openpyxl

from jianfu.schema import BOOL, DATE, ENUM, INT, NUMBER, PERIOD, YEAR, Kind

TRUE = {"yes", "是", "true", "1", "y"}
FALSE = {"no", "否", "false", "0", "n"}


def fold(text: Any) -> str:
    return unicodedata.normalize("NFKC", str(text)).strip().casefold()


def cells(data: bytes) -> list[list[Any]]:
    """Rows of cells of a CSV (UTF-8, BOM, or GB18030) or the first sheet of an XLSX."""
    if zipfile.is_zipfile(io.BytesIO(data)):
        wb = openpyxl.load_workbook(io.BytesIO(data), data_only=True, read_only=True)
        rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
        wb.close()
        return rows
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030")
    return [list(r) for r in csv.reader(io.StringIO(text))]


def _blank(v: Any) -> bool:
    return v is None or str(v).strip() == ""


def parse_value(col, raw: Any) -> Any:
    if _blank(raw):
        return None
    if col.type == DATE:
        if isinstance(raw, datetime):
            return raw.date()
        text = str(raw).strip()
        m = re.fullmatch(r"(\d{4})[-/](\d{2})[-/](\d{2})", text) or re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})日", text)
        return date(int(m[1]), int(m[2]), int(m[3]))
    if col.type == PERIOD:
        text = str(raw).strip()
        m = re.fullmatch(r"(\d{4})-?(\d{2})", text) or re.fullmatch(r"(\d{4})年(\d{1,2})月", text)
        return f"{m[1]}-{int(m[2]):02d}"
    if col.type in (INT, YEAR):
        return int(raw)
    if col.type == NUMBER:
        return float(raw)
    if col.type == BOOL:
        word = fold(raw)
        return True if word in TRUE else False if word in FALSE else ValueError(word)
    if col.type == ENUM:
        word = fold(raw)
        for en, zh in col.enum.items():
            if word in (en, fold(zh)):
                return en
        return str(raw)
    return str(raw)


def read(data: bytes, kind: Kind) -> tuple[list[dict], dict[str, int]]:
    """Canonical rows of a file, and counts of what was skipped (title, blank, note rows, extra columns)."""
    names = {}
    for c in kind.columns:
        for spelling in (c.name, c.zh, *c.aliases):
            names[fold(spelling)] = c
    grid = cells(data)
    header_at = next(i for i, row in enumerate(grid[:11]) if sum(fold(v) in names for v in row if v is not None) >= 3)
    header = [names.get(fold(v)) if v is not None else None for v in grid[header_at]]
    skipped = {"title": header_at, "blank": 0, "note": 0, "extra": sum(1 for h, v in zip(header, grid[header_at], strict=True)
                                                                      if h is None and not _blank(v))}
    rows = []
    for raw in grid[header_at + 1:]:
        if all(_blank(v) for v in raw):
            skipped["blank"] += 1
            continue
        values = {col.name: raw[i] if i < len(raw) else None for i, col in enumerate(header) if col is not None}
        if all(_blank(values.get(k)) for k in kind.key):
            skipped["note"] += 1
            continue
        rows.append({c.name: parse_value(c, values.get(c.name)) for c in kind.columns})
    return rows, skipped
