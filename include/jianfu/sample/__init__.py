"""`jianfu sample`: reference data and county submissions with a planted case of every rule.

Three scales. `pilot` (the seven pilot counties, three months, every planted case and bad file) is
what the tests and demos run on. `province`
and `national` are for benchmarks: valid files only, one month, no planted cases, streamed county by
county. Output depends only on (seed, now, scale): the same arguments give byte-identical files.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

SCALES = ("pilot", "province", "national")
KINDS = ("form_counts", "work_groups", "inspections")


@dataclass
class SampleSummary:
    """What `generate` wrote, for the command line to print."""

    out: Path
    scale: str
    seed: int
    files: int
    rows: int
    by_kind: dict[str, dict[str, int]]  # kind -> {"files": n, "rows": n}
    units: int = 0
    departments: int = 0
    cases: int = 0
    seconds: float = 0.0

    def describe(self) -> str:
        lines = [f"sample ({self.scale}, seed {self.seed}) written to {self.out} in {self.seconds:.1f} s",
                 f"  reference: {self.units:,} units, {self.departments:,} departments"]
        for kind in KINDS:
            k = self.by_kind.get(kind, {"files": 0, "rows": 0})
            lines.append(f"  landing/{kind}: {k['files']:,} files, {k['rows']:,} rows")
        if self.cases:
            lines.append(f"  planted: {self.cases} cases (every flag rule, bad files, versions)")
        return "\n".join(lines)


def generate(out: Path, *, seed: int = 7, scale: str = "pilot", now: datetime, force: bool = False) -> SampleSummary:
    """Write reference/ and landing/ (and, pilot, proposals/) under `out`.

    Refuses (SampleRefused) when `out` already holds the office's reference data or landing files,
    unless `force`.

    `now` is the only notion of time used: the pilot covers the three complete months before now's
    month and now's year of inspections; province and national cover the month before now's month.
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}: expected one of {', '.join(SCALES)}")
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    out = Path(out)
    if not force:
        from .guard import refuse_if_in_use

        refuse_if_in_use(out)
    started = time.perf_counter()
    if scale == "pilot":
        from .pilot import build

        built = build(out, seed, now)
        by_kind: dict[str, dict[str, int]] = {k: {"files": 0, "rows": 0} for k in KINDS}
        for sub in built.submissions:
            by_kind[sub.kind]["files"] += 1
            by_kind[sub.kind]["rows"] += len(sub.rows)
        summary = SampleSummary(
            out=out, scale=scale, seed=seed, files=len(built.submissions),
            rows=sum(k["rows"] for k in by_kind.values()), by_kind=by_kind, units=built.units,
            departments=built.departments, cases=len(built.cases),
        )
    else:
        from .bulk import build_bulk
        from .divisions import province_for_scale

        province = province_for_scale(os.environ.get("JIANFU_SAMPLE_PROVINCE")) if scale == "province" else None
        summary = build_bulk(out, seed=seed, now=now, province=province, scale=scale)
    summary.seconds = time.perf_counter() - started
    return summary


__all__ = ["SCALES", "SampleSummary", "generate"]
