"""The report a county gets back for a rejected or warned file (SPEC.md section 6.3).

Two files per submission under `$JIANFU_HOME/reports/submissions/`: a JSON for machines and a CSV
the county opens in Excel (UTF-8 with BOM so Excel picks the encoding, Chinese and English message).
One line per problem; long lists are cut at 1,000 lines per rule with the total kept. Every text
cell is neutralised against spreadsheet formula injection, because values come from the county's
own file and go back into someone's Excel.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from ..problems import CRITICAL, WARNING, Problem
from ..submission import bounded

MAX_LINES_PER_RULE = 1000
#: Bytes of a report's file name before its suffix.
MAX_NAME_BYTES = 150
CSV_COLUMNS = [
    ("severity", "级别"),
    ("rule", "规则"),
    ("column", "列"),
    ("row", "行号"),
    ("value", "值"),
    ("message_zh", "说明"),
    ("message_en", "message"),
]
SEVERITY_ZH = {CRITICAL: "错误(拒收)", WARNING: "警告", "info": "提示"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise(value: Any) -> Any:
    """Make a text cell inert in a spreadsheet: a leading formula character gets a quote mark."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


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


def write_report(reports_dir: Path, submission: dict[str, Any], problems: list[Problem]) -> Path:
    """Write the JSON and CSV reports of one submission; returns the CSV path (what the county opens)."""
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
        "problems": [{k: neutralise(v) for k, v in p.to_dict().items()} for p in kept],
    }
    _atomic_write(folder / f"{stem}.json", json.dumps(summary, ensure_ascii=False, indent=2).encode("utf-8"))

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([f"{zh} {en}" for en, zh in CSV_COLUMNS])
    for p in kept:
        row = p.to_dict()
        row["severity"] = f"{SEVERITY_ZH.get(p.severity, p.severity)} {p.severity}"
        writer.writerow([neutralise("" if row[c] is None else row[c]) for c, _ in CSV_COLUMNS])
    for rule, total in sorted(totals.items()):
        if total > MAX_LINES_PER_RULE:
            writer.writerow([severity_of[rule], rule, "", "", "",
                             f"此规则共{total}处问题，仅列出前{MAX_LINES_PER_RULE}处",
                             f"{total} problems of this rule, the first {MAX_LINES_PER_RULE} listed"])
    csv_path = folder / f"{stem}.csv"
    _atomic_write(csv_path, buffer.getvalue().encode("utf-8-sig"))
    return csv_path
