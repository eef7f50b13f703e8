"""Row-level validation of submissions with Great Expectations (SPEC.md section 6).

The rules are GX expectation suites in validate/expectations/<kind>.json; each expectation's
`severity` says whether a failure rejects the file (critical, 6.1) or is only reported (warning,
6.2), and its `meta` carries the rule id, column and bilingual message of the Problem it produces.

Structural checks that must pass before a table exists (readable file, header row, required
columns, uniform county and period) belong to ingestion, which raises RejectFile.

The files of a call are stacked per kind and each suite runs once per kind (see prepare.py), so a
province month costs one GX run per kind rather than one per file. Reference membership is a join
in prepare.py rather than a GX value set, because a value set of a province's unit codes is
re-serialised by GX on every access of the expectation's configuration.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from pathlib import Path

from ..problems import Problem
from ..reference import Codes
from ..submission import BatchItem
from .attribute import ValidationEngineError, problems_by_file
from .docs import build_data_docs, record_result
from .engine import run_suite
from .prepare import reference_index, stack
from .suites import EXPECTATIONS_DIR, SuiteError, load_suite

__all__ = [
    "validate_batch",
    "reference_index",
    "load_suite",
    "build_data_docs",
    "EXPECTATIONS_DIR",
    "SuiteError",
    "ValidationEngineError",
]


def validate_batch(items: list[BatchItem], codes: Codes, now: datetime, *,
                   context_root: Path | None = None) -> dict[str, list[Problem]]:
    """Problems (critical and warning) of each item, by its key; an item without any maps to [].

    Items may be of different kinds; each kind's suite runs once over all its files. `now` stamps
    the validation run; period and year are judged against each item's own `received_at`. With
    `context_root` (a file-backed GX context directory, normally $JIANFU_HOME/gx) the results are
    also stored there for Data Docs, which build_data_docs renders as a step of its own.
    """
    out: dict[str, list[Problem]] = {item.key: [] for item in items}
    by_kind: dict[str, list[tuple[int, BatchItem]]] = defaultdict(list)
    for index, item in enumerate(items):
        by_kind[item.kind.name].append((index, item))
    for kind_name, indexed in by_kind.items():
        kind = indexed[0][1].kind
        suite = load_suite(kind_name)
        frame = stack(indexed, kind, codes)
        result = run_suite(kind_name, frame, suite)
        order = {(e.meta["rule"], e.meta["column"]): n for n, e in enumerate(suite.expectations)}
        for file_index, problems in problems_by_file(result, frame, order).items():
            out[items[file_index].key].extend(problems)
        if context_root is not None:
            record_result(Path(context_root), kind_name, result, indexed, now)
    return out
