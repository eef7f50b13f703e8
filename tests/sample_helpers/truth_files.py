"""truth/: what the pipeline must conclude from the sample — ledger statuses, flags, and why.

The tests write it beside a generated sample (`write_truth`), so that a failing pipeline test can be
read against a plain file; `jianfu sample` itself writes only data.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from jianfu.sample.pilot import Built, in_force_rows
from jianfu.sample.planted import Case
from jianfu.sample.submissions import Submission
from sample_helpers.truth import RULES, FlagRow, expected_flag_rows


def expected_flags_of(built: Built) -> set[FlagRow]:
    """The flags the versions in force of a pilot sample must produce, by the independent oracle."""
    ordered = built.submissions
    return expected_flag_rows(in_force_rows(ordered, "form_counts"), in_force_rows(ordered, "work_groups"),
                              in_force_rows(ordered, "inspections"), built.quotas)


def write_truth(out: Path, built: Built) -> set[FlagRow]:
    """truth/ under `out`: ledger.csv, flags.csv and README.md of the sample `built`; its flags."""
    flags = expected_flags_of(built)
    truth = out / "truth"
    truth.mkdir(parents=True, exist_ok=True)
    write_ledger(truth / "ledger.csv", built.submissions)
    write_flags(truth / "flags.csv", flags)
    write_readme(truth / "README.md", built.cases, built.submissions, flags)
    return flags


def write_ledger(path: Path, ordered: list[Submission]) -> None:
    """One row per landing file, in receipt order, with the final status it must end in."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["relative_path", "kind", "county_code", "period", "expected_status", "why", "sent_at"])
        for s in ordered:
            w.writerow([s.relpath, s.kind, s.county, s.period, s.status, "; ".join(s.why),
                        s.sent.strftime("%Y-%m-%dT%H:%M:%SZ")])


def write_flags(path: Path, flags: set[FlagRow]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["rule", "period", "subject", "county_code"])
        w.writerows(sorted(flags))


def write_readme(path: Path, cases: list[Case], ordered: list[Submission], flags: set[FlagRow]) -> None:
    statuses = Counter(s.status for s in ordered)
    per_rule = Counter(f[0] for f in flags)
    lines = [
        "# Truth of this sample",
        "",
        "What a correct pipeline must conclude after ingesting every file of `landing/` (in `(mtime, path)`",
        "order) and building the warehouse. Written by the tests; the flags were computed by",
        "`tests/sample_helpers/truth.py`, an independent plain-Python reading of SPEC.md section 8, from the rows of",
        "the versions in force only.",
        "",
        "- `ledger.csv`: every landing file, in receipt order, with the final ledger status it must have",
        "  (`accepted`, `accepted_with_warnings`, `rejected`, `duplicate`, `superseded`) and why.",
        "  Unreadable files (junk, empty) have no county or period: nothing in them says which.",
        "- `flags.csv`: exactly the flags the versions in force must produce: `rule, period, subject,",
        "  county_code` (county empty for the department quota rules).",
        "",
        "Statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())),
        "",
        "Flags per rule: " + ", ".join(f"{r} {per_rule.get(r, 0)}" for r in RULES),
        "",
        "## Planted cases",
        "",
        "Each case fires the flags listed and must not fire its near misses (boundary values that stay",
        "just inside a threshold, or rows only in files that are not in force).",
        "",
        "| case | rule | where | what | fires | near misses |",
        "|---|---|---|---|---|---|",
    ]
    for c in cases:
        where = " ".join(p for p in c.where if p)
        lines.append(f"| {c.name} | {c.rule} | {where} | {c.what} | {len(c.fires)} | {len(c.misses)} |")
    lines += [
        "",
        "## Files that are not simply accepted",
        "",
        "| file | status | why |",
        "|---|---|---|",
    ]
    for s in ordered:
        if s.status != "accepted" or s.why != ["monthly submission"]:
            if s.why == ["monthly submission"] or s.why == ["inspection plan update in force"]:
                continue
            lines.append(f"| {s.relpath} | {s.status} | {'; '.join(s.why)} |")
    lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
