"""The report a county gets back for a rejected or warned file (SPEC.md section 6.3).

Two files per submission under `$JIANFU_HOME/reports/submissions/`: a JSON for machines and a CSV
the county opens in Excel (UTF-8 with BOM so Excel picks the encoding, Chinese and English message).
One line per problem; long lists are cut at 1,000 lines per rule with the total kept, a value at
200 characters, so a small hostile file cannot make a huge report. A problem that repeats many
times gets a summary line first, so the clerk sees "one mistake, 88 rows" before the 88 lines.
The column is shown as the county wrote it in its own header, with the canonical name beside it.
Every text cell is neutralised against spreadsheet formula injection, because values come from the
county's own file and go back into someone's Excel.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from ..escape import neutralise_formula
from ..problems import CRITICAL, WARNING, Problem
from ..submission import bounded

MAX_LINES_PER_RULE = 1000
#: Characters of a value (and of a message) kept in a report.
MAX_VALUE_CHARS = 200
MAX_MESSAGE_CHARS = 1000
#: A problem (rule x column) found on at least this many rows gets a summary line.
SUMMARY_FROM = 10
#: Bytes of a report's file name before its suffix.
MAX_NAME_BYTES = 150
#: (field of a report line, header cell of the CSV column)
CSV_COLUMNS = [
    ("severity", "级别 severity"),
    ("rule", "规则 rule"),
    ("column", "列 column"),
    ("row", "行号 row"),
    ("value", "值 value"),
    ("message_zh", "说明"),
    ("message_en", "message"),
]
SEVERITY_ZH = {CRITICAL: "错误(拒收)", WARNING: "警告", "info": "提示"}


def cut(text: str | None, limit: int) -> str | None:
    """`text` cut to `limit` characters, marked as cut."""
    if text is None or len(text) <= limit:
        return text
    return f"{text[:limit]}…(+{len(text) - limit})"


def column_shown(column: str | None, headers: dict[str, str]) -> str | None:
    """The column as the county wrote it, with the canonical name beside it when they differ
    (`填报频次 (frequency)`); a key of several columns (`unit_code+form_id`) part by part."""
    if not column:
        return column
    parts = []
    for name in column.split("+"):
        own = headers.get(name)
        parts.append(f"{own} ({name})" if own and own != name else name)
    return "+".join(parts)


def repeated(problems: list[Problem]) -> list[dict[str, Any]]:
    """One summary per (rule, column) found on SUMMARY_FROM rows or more, in file order."""
    rows: defaultdict[tuple[str, str | None], list[int]] = defaultdict(list)
    severity = {}
    for p in problems:
        rows[(p.rule, p.column)].append(p.row or 0)
        severity[(p.rule, p.column)] = p.severity
    out = []
    for (rule, column), found in rows.items():
        if len(found) >= SUMMARY_FROM:
            numbers = sorted(n for n in found if n)
            where = f"{numbers[0]}-{numbers[-1]}" if numbers else "-"
            out.append({"severity": severity[(rule, column)], "rule": rule, "column": column, "count": len(found),
                        "first_row": numbers[0] if numbers else None, "last_row": numbers[-1] if numbers else None,
                        "message_zh": f"此问题共出现 {len(found)} 次（第 {where} 行），请统一更正后重新报送",
                        "message_en": f"This problem occurs {len(found)} times (rows {where}); "
                                      "correct them all and submit again"})
    return out


def cap_per_rule(problems: list[Problem]) -> tuple[list[Problem], dict[str, int]]:
    """The problems to list (at most MAX_LINES_PER_RULE per rule, in file order) and each rule's total."""
    totals = Counter(p.rule for p in problems)
    shown: defaultdict[str, int] = defaultdict(int)
    kept = []
    ordered = sorted(problems, key=lambda p: (0 if p.severity == CRITICAL else 1, p.row or 0, p.rule, p.column or ""))
    for problem in ordered:
        if shown[problem.rule] < MAX_LINES_PER_RULE:
            shown[problem.rule] += 1
            kept.append(problem)
    return kept, dict(totals)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _line(p: Problem, headers: dict[str, str]) -> dict[str, Any]:
    line = p.to_dict()
    line["column_in_file"] = column_shown(p.column, headers)
    line["value"] = cut(p.value, MAX_VALUE_CHARS)
    line["message_zh"] = cut(p.message_zh, MAX_MESSAGE_CHARS)
    line["message_en"] = cut(p.message_en, MAX_MESSAGE_CHARS)
    return {k: neutralise_formula(v) for k, v in line.items()}


def write_report(reports_dir: Path, submission: dict[str, Any], problems: list[Problem],
                 headers: dict[str, str] | None = None) -> Path:
    """Write the JSON and CSV reports of one submission; returns the CSV path (what the county opens).

    `headers` maps canonical columns to the header cells of the county's own file."""
    headers = headers or {}
    folder = reports_dir / "submissions"
    folder.mkdir(parents=True, exist_ok=True)
    # File names are limited in bytes (255 on most file systems), and Chinese is three a character.
    stem = bounded(f"{submission['submission_id']}_{Path(submission['file_name']).stem}", MAX_NAME_BYTES)
    kept, totals = cap_per_rule(problems)
    severity_of = {p.rule: p.severity for p in problems}

    summary = {
        "submission_id": submission["submission_id"],
        "file_name": submission["file_name"],
        "kind": submission.get("kind"),
        "county_code": submission.get("county_code"),
        "period": submission.get("period"),
        "status": submission["status"],
        "received_at": str(submission.get("received_at") or ""),
        "error_count": sum(1 for p in problems if p.severity == CRITICAL),
        "warning_count": sum(1 for p in problems if p.severity == WARNING),
        "rules": [
            {"rule": rule, "severity": severity_of[rule], "total": total,
             "listed": min(total, MAX_LINES_PER_RULE)}
            for rule, total in sorted(totals.items())
        ],
        "summaries": [{**r, "column_in_file": column_shown(r["column"], headers)} for r in repeated(problems)],
        "problems": [_line(p, headers) for p in kept],
    }
    _atomic_write(folder / f"{stem}.json", json.dumps(summary, ensure_ascii=False, indent=2).encode("utf-8"))

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([header for _, header in CSV_COLUMNS])
    for r in summary["summaries"]:
        writer.writerow([f"{SEVERITY_ZH.get(r['severity'], r['severity'])} {r['severity']}", r["rule"],
                         neutralise_formula(r["column_in_file"] or ""), "", "", r["message_zh"], r["message_en"]])
    for p in kept:
        row = _line(p, headers)
        row["severity"] = f"{SEVERITY_ZH.get(p.severity, p.severity)} {p.severity}"
        row["column"] = row.pop("column_in_file")
        writer.writerow(["" if row[c] is None else row[c] for c, _ in CSV_COLUMNS])
    for rule, total in sorted(totals.items()):
        if total > MAX_LINES_PER_RULE:
            writer.writerow([severity_of[rule], rule, "", "", "",
                             f"此规则共{total}处问题，仅列出前{MAX_LINES_PER_RULE}处",
                             f"{total} problems of this rule, the first {MAX_LINES_PER_RULE} listed"])
    csv_path = folder / f"{stem}.csv"
    _atomic_write(csv_path, buffer.getvalue().encode("utf-8-sig"))
    return csv_path
