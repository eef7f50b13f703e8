"""Finding the header row of a county file and mapping its cells to canonical column names.

County files come from Excel templates that each office has edited by hand: titles above the table,
Chinese or English headers, full-width brackets, a `*` marking required columns, a line break inside
a cell. Matching is therefore done on a *header key* that forgives all of that (SPEC.md section 4:
trim, NFKC, case folding), and the header row is the first row among the first 11 that looks like
one, so up to 10 title rows above it are skipped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from ..schema import Kind

#: The header row must be among this many first rows (10 title rows + the header itself).
HEADER_SEARCH_ROWS = 11
#: A row is the header row when at least this many of its cells name distinct columns of the kind
#: (or when it names every required column, for a kind with fewer required columns).
MIN_KNOWN_HEADERS = 3

_NOISE = re.compile(r"[\s_*]+")


def header_key(text: object) -> str:
    """The forgiving comparison key of a header cell.

    NFKC folds full-width forms (`（小时）` -> `(小时)`, `ＣＯＵＮＴＹ` -> `COUNTY`), case folding
    ignores case, and whitespace, underscores and `*` are dropped, so `county_code`, `County Code`,
    `*县级代码` and `耗时\\n(小时)` all find their column.
    """
    if text is None:
        return ""
    return _NOISE.sub("", unicodedata.normalize("NFKC", str(text)).casefold())


_ALIASES: dict[str, dict[str, str]] = {}


def aliases(kind: Kind) -> dict[str, str]:
    """Header key -> canonical column name, for the English name, the Chinese name and aliases."""
    cached = _ALIASES.get(kind.name)
    if cached is not None:
        return cached
    out: dict[str, str] = {}
    for col in kind.columns:
        for spelling in (col.name, col.zh, *col.aliases):
            out[header_key(spelling)] = col.name
    _ALIASES[kind.name] = out
    return out


@dataclass
class HeaderMap:
    """How the cells of the header row map to the kind's columns.

    `columns` maps canonical name -> position of its cell in the row. `duplicates` lists canonical
    names claimed by more than one cell, with the header texts that claimed them. `unknown` lists
    (position, header text) of non-blank header cells that name no column.
    """

    columns: dict[str, int] = field(default_factory=dict)
    duplicates: dict[str, list[str]] = field(default_factory=dict)
    unknown: list[tuple[int, str]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # the header cells as sent, trimmed


def map_header(cells: list[str], kind: Kind) -> HeaderMap:
    """Map one row of header cells to canonical columns (first cell wins; repeats are recorded)."""
    known = aliases(kind)
    result = HeaderMap(texts=[("" if c is None else str(c)).strip() for c in cells])
    claimed_by: dict[str, list[str]] = {}
    for pos, text in enumerate(result.texts):
        key = header_key(text)
        if not key:
            continue
        name = known.get(key)
        if name is None:
            result.unknown.append((pos, text))
            continue
        claimed_by.setdefault(name, []).append(text)
        result.columns.setdefault(name, pos)
    result.duplicates = {name: texts for name, texts in claimed_by.items() if len(texts) > 1}
    return result


def looks_like_header(cells: list[str], kind: Kind) -> bool:
    """Whether a row names enough distinct columns of the kind to be its header row."""
    known = aliases(kind)
    names = {known[k] for k in (header_key(c) for c in cells) if k in known}
    return len(names) >= MIN_KNOWN_HEADERS or set(kind.required) <= names


def find_header_row(head: list[list[str]], kind: Kind) -> int | None:
    """0-based index of the header row among the first rows of a file, or None if none looks like one."""
    for index, cells in enumerate(head[:HEADER_SEARCH_ROWS]):
        if looks_like_header(cells, kind):
            return index
    return None
