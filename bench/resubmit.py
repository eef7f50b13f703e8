"""The one-county resubmission: a county sends its form counts again with one value changed.

This is the everyday case the incremental build exists for (SPEC.md section 7: "its cost follows
what changed, not the size of the warehouse"). The file is written the way a clerk would send it:
the same encoding, headers and layout as the county's original, under a new name, received later.
The largest county's CSV is chosen, so the figure is the worst one-county case.
"""

from __future__ import annotations

import csv
import io
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

#: Header spellings of fill_count (SPEC.md 4.1) after trimming, NFKC and case folding.
FILL_COUNT_HEADERS = {"fill_count", "填报次数"}


@dataclass(frozen=True)
class Resubmission:
    original: Path
    path: Path
    row: int  # 1-based line in the file of the changed row
    old_value: str
    new_value: str


def _norm(header: str) -> str:
    return unicodedata.normalize("NFKC", header).strip().casefold()


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("gb18030"), "gb18030"


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def changed_copy(original: Path, suffix: str = "resubmitted") -> Resubmission:
    """Write `<stem>-<suffix>.csv` beside `original`, one fill_count changed, mtime after every file."""
    text, encoding = _decode(original.read_bytes())
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header_at = next(i for i, r in enumerate(rows) if any(_norm(c) in FILL_COUNT_HEADERS for c in r))
    col = next(i for i, c in enumerate(rows[header_at]) if _norm(c) in FILL_COUNT_HEADERS)
    for i in range(header_at + 1, len(rows)):
        cell = rows[i][col].strip() if col < len(rows[i]) else ""
        if cell.isdigit():
            value = int(cell)
            new = value + 1 if value < 100 else value - 1  # stays in range, no new warning
            old_text, rows[i][col] = rows[i][col], str(new)
            changed_line = i + 1
            break
    else:
        raise ValueError(f"{original}: no fill_count value to change")
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator=_newline(text)).writerows(rows)
    target = original.with_name(f"{original.stem}-{suffix}.csv")
    target.write_bytes(out.getvalue().encode(encoding))
    newest = max(p.stat().st_mtime for p in original.parent.parent.rglob("*") if p.is_file())
    os.utime(target, (newest + 60, newest + 60))
    return Resubmission(original, target, changed_line, old_text, str(new))


def largest_csv(folder: Path) -> Path:
    """The biggest CSV under `folder` (the county with the most units sends the biggest file)."""
    candidates = [p for p in folder.iterdir() if p.suffix.lower() == ".csv"]
    if not candidates:
        raise FileNotFoundError(f"{folder}: no CSV to resubmit")
    return max(candidates, key=lambda p: (p.stat().st_size, p.name))
