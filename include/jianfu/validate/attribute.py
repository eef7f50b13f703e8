"""Turning a GX suite result over a stacked frame back into Problems per file and row.

Each failed expectation carries in its `meta` the rule id, the column a clerk should look at and a
bilingual message, and in `severity` whether the file is rejected (critical) or only warned. Each
failing row comes back in `unexpected_index_list` with `__file`, `__row` and `__pos`; the value
quoted is the raw text the county typed (`<col>__raw`), not GX's parsed or derived value.
"""

from __future__ import annotations

from collections import defaultdict

import pandas as pd
from great_expectations.core import ExpectationSuiteValidationResult

from ..problems import Problem
from ..submission import raw
from .prepare import FILE, POS, ROW

#: How a Problem's severity is written: GX 1.24 stores FailureSeverity (a str Enum) on the config.
_SEVERITIES = {"critical", "warning", "info"}


class ValidationEngineError(Exception):
    """GX could not evaluate an expectation. That is a fault of jianfu (suite or data preparation),
    not of the county's file, so no verdict is given rather than a wrong one."""


def _severity(config) -> str:
    value = getattr(config.severity, "value", config.severity)
    if value not in _SEVERITIES:
        raise ValidationEngineError(f"expectation {config.type} has unknown severity {value!r}")
    return value


def _raw_text(frame: pd.DataFrame, columns: list[str], pos: int) -> str | None:
    """The county's own text of `columns` on one row, key parts joined by ' | '."""
    parts = []
    for col in columns:
        name = raw(col)
        if name not in frame.columns:
            continue
        value = frame[name].iat[pos]
        parts.append("" if pd.isna(value) else str(value))
    if not parts or all(p == "" for p in parts):
        return None
    return " | ".join(parts)


def problems_by_file(result: ExpectationSuiteValidationResult, frame: pd.DataFrame,
                     order: dict[tuple, int]) -> dict[int, list[Problem]]:
    """Problems of each file index (`__file`), one per failing row and expectation.

    `order` maps (rule, column) to its position in the suite so each file's problems come sorted
    by row and then as the suite lists its rules.
    """
    found: dict[int, list[tuple[tuple, Problem]]] = defaultdict(list)
    for res in result.results:
        config = res.expectation_config
        info = res.exception_info or {}
        if info.get("raised_exception"):
            raise ValidationEngineError(
                f"GX could not evaluate {config.type} ({(config.meta or {}).get('rule')}, "
                f"{(config.meta or {}).get('column')}): {info.get('exception_message')}"
            )
        if res.success:
            continue
        meta = config.meta or {}
        severity = _severity(config)
        columns = meta.get("columns") or [meta["column"]]
        rank = order.get((meta["rule"], meta["column"]), 0)
        hits = (res.result or {}).get("unexpected_index_list")
        if hits is None:
            raise ValidationEngineError(
                f"{config.type} ({meta.get('rule')}) failed without naming rows: a suite may only hold "
                "row-level (column map) expectations, whose failures can be attributed to a file and row"
            )
        for hit in hits:
            pos = int(hit[POS])
            row = int(hit[ROW])
            problem = Problem(
                rule=meta["rule"],
                severity=severity,
                message_en=meta["message_en"],
                message_zh=meta["message_zh"],
                column=meta["column"],
                row=row,
                value=_raw_text(frame, columns, pos),
            )
            found[int(hit[FILE])].append(((row, rank), problem))
    return {f: [p for _, p in sorted(items, key=lambda t: t[0])] for f, items in found.items()}
