"""How a one-partition publish grows with the table's history (make bench-publish).

A county's resubmission changes one partition of form_counts, but the table holds a partition per
county and month received so far: 2,977 for a national month, 35,724 for a national year. This
publishes a table of one-row files at both sizes, then changes one partition five times in a row
(the steady state: every publish after the second has a snapshot before last to reuse), and
prints the seconds of each publish. No jianfu code but the publish layer, no data but the tree:
what it measures is the cost of the snapshot itself, which the one-county rebuild pays once per
partitioned table.

    .venv/bin/python bench/publish_growth.py [months ...]    (default: 1 12)

Another version's figures: PYTHONPATH=<its checkout>/include before the command.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa

from jianfu.warehouse.publish import Warehouse

COUNTIES = 2977  # the national sample's counties with form counts
REPEATS = 5


def partitions(months: int) -> list[str]:
    periods = [f"{2026 + (m - 1) // 12}-{(m - 1) % 12 + 1:02d}" for m in range(1, months + 1)]
    return [f"county_code={100000 + c}/period={p}" for c in range(COUNTIES) for p in periods]


def measure(months: int, scratch: Path) -> dict:
    row = pa.table({"v": [1]})
    warehouse = Warehouse(str(scratch / f"months-{months}"))
    names = partitions(months)
    started = time.perf_counter()
    warehouse.publish("form_counts", {name: {"s0.parquet": row} for name in names})
    first = time.perf_counter() - started
    changed = []
    for repeat in range(1, REPEATS + 1):
        started = time.perf_counter()
        warehouse.publish("form_counts", {names[0]: {f"s{repeat}.parquet": row}})
        changed.append(time.perf_counter() - started)
    return {"months": months, "partitions": len(names), "first": first, "changed": changed}


def main(argv: list[str]) -> int:
    months = [int(a) for a in argv] or [1, 12]
    with tempfile.TemporaryDirectory(prefix="jianfu-publish-", dir=Path(__file__).parent) as scratch:
        for count in months:
            result = measure(count, Path(scratch))
            steady = sorted(result["changed"][1:])[len(result["changed"][1:]) // 2]
            print(f"{result['partitions']:>6} partitions ({count} month(s)): first publish {result['first']:.2f} s; "
                  f"one partition changed: {', '.join(f'{s:.3f}' for s in result['changed'])} s "
                  f"(median after the first {steady:.3f} s)", flush=True)
            shutil.rmtree(Path(scratch) / f"months-{count}", ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
