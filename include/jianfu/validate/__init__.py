"""Row-level validation of submissions with Great Expectations (SPEC.md section 6).

The rules are GX expectation suites in expectations/<kind>.json; each expectation's `severity` says
whether a failure rejects the file (critical, 6.1) or is only reported (warning, 6.2), and its
`meta` carries the rule id, column and bilingual message of the Problem it produces.

Structural checks that must pass before a table exists (readable file, header row, required
columns, uniform county and period) belong to ingestion, which raises RejectFile.

Cost: GX spends most of a second per suite run regardless of size, so the files of a call are
stacked per kind and each suite runs once per kind (see prepare.py). Reference membership is a
join in prepare.py, not a GX value set: GX 1.24 re-serialises a value set on every internal access
of an expectation's configuration, which made 30,000 unit codes cost 13 s per run.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from pathlib import Path

from ..gx_import import import_gx

import_gx()  # before any module of this package imports GX: see gx_import.py

from . import gx_patch  # noqa: E402

gx_patch.install()

from ..ingest.frame import BatchItem  # noqa: E402
from ..problems import Problem  # noqa: E402
from ..reference import Reference  # noqa: E402
from .attribute import ValidationEngineError, problems_by_file  # noqa: E402
from .docs import build_data_docs, file_context, record_result  # noqa: E402
from .engine import batch_definition, run_suite  # noqa: E402
from .prepare import stack  # noqa: E402
from .suites import SuiteError, expectations_dir, load_suite  # noqa: E402

__all__ = [
    "prepare",
    "validate_batch",
    "load_suite",
    "build_data_docs",
    "expectations_dir",
    "SuiteError",
    "ValidationEngineError",
]


def prepare(kind_names: list[str], *, context_root: Path | None = None) -> None:
    """Load everything validating these kinds needs: the suites, GX's ephemeral context with a
    batch definition per kind and, with `context_root`, the file-backed context of the history.

    validate_batch does this itself when needed; ingest calls it first so that a worker process
    forked afterwards inherits it all instead of building it again (and two processes never
    create the file-backed context at once).
    """
    for name in kind_names:
        load_suite(name)
        batch_definition(name)
    if context_root is not None:
        file_context(Path(context_root))


def validate_batch(items: list[BatchItem], reference: Reference, now: datetime, *,
                   context_root: Path | None = None) -> dict[str, list[Problem]]:
    """Problems (critical and warning) of each item, by its key; an item without any maps to [].

    Items may be of different kinds; each kind's suite runs once over all its files. `now` stamps
    the validation run; period and year are judged against each item's own `received_at`. With
    `context_root` (a file-backed GX context directory, normally $JIANFU_HOME/gx) the results are
    also stored there for Data Docs (build_data_docs).
    """
    out: dict[str, list[Problem]] = {item.key: [] for item in items}
    by_kind: dict[str, list[tuple[int, BatchItem]]] = defaultdict(list)
    for index, item in enumerate(items):
        by_kind[item.kind.name].append((index, item))
    for kind_name, indexed in by_kind.items():
        kind = indexed[0][1].kind
        suite = load_suite(kind_name)
        frame = stack(indexed, kind, reference)
        result = run_suite(kind_name, frame, suite)
        order = {(e.meta["rule"], e.meta["column"]): n for n, e in enumerate(suite.expectations)}
        for file_index, problems in problems_by_file(result, frame, order).items():
            out[items[file_index].key].extend(problems)
        if context_root is not None:
            record_result(Path(context_root), kind_name, result, indexed, now)
    return out
