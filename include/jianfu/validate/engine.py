"""Running a suite over a stacked frame with GX, in an ephemeral context kept for the process.

An ephemeral context costs nothing on disk and is created once; the pandas datasource, asset and
batch definition are created once per kind and reused, so each call pays only GX's own validation.

Two passes: the whole suite first asks GX only whether each expectation holds (BOOLEAN_ONLY: one
unexpected-count metric per expectation), then the expectations that failed run again asking for
every failing row (COMPLETE). Failing rows are what a report needs, but asking for them makes GX
compute about ten metrics per expectation (unexpected values, their index columns, counts, ...)
and costs two to three times as much; most expectations hold on most months, so the second pass is
usually empty or small. Both passes are plain GX validations of the same batch.
"""

from __future__ import annotations

import threading

import great_expectations as gx
import pandas as pd
from great_expectations.core import ExpectationSuite, ExpectationSuiteValidationResult
from great_expectations.data_context.types.base import ProgressBarsConfig

from .attribute import ValidationEngineError
from .prepare import FILE, POS, ROW

#: The first pass: only whether each expectation holds.
QUICK_FORMAT = {"result_format": "BOOLEAN_ONLY"}
#: What a failed expectation must return so a failure can be attributed: all failing rows
#: (COMPLETE), each identified by file, row in the county's file and position in the stacked frame.
#: The pandas query string GX can also build is skipped: it lists every failing index and is of no
#: use here.
RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": [FILE, ROW, POS],
    "return_unexpected_index_query": False,
}

_LOCK = threading.RLock()
_CONTEXT = None


def context():
    """The process's ephemeral GX context, without progress bars (they would flood Airflow logs)."""
    global _CONTEXT
    with _LOCK:
        if _CONTEXT is None:
            ctx = gx.get_context(mode="ephemeral")
            ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
            _CONTEXT = ctx
        return _CONTEXT


def batch_definition(kind_name: str):
    """The whole-dataframe batch definition of a kind in the process's context (made once)."""
    ctx = context()
    try:
        source = ctx.data_sources.get("jianfu")
    except (KeyError, ValueError, LookupError):
        source = ctx.data_sources.add_pandas("jianfu")
    try:
        asset = source.get_asset(kind_name)
    except (KeyError, ValueError, LookupError):
        asset = source.add_dataframe_asset(kind_name)
    try:
        return asset.get_batch_definition("all_rows")
    except (KeyError, ValueError, LookupError):
        return asset.add_batch_definition_whole_dataframe("all_rows")


def _condition_columns(condition) -> set[str]:
    if not isinstance(condition, dict):
        return set()
    out = set()
    if isinstance(condition.get("column"), dict) and "name" in condition["column"]:
        out.add(condition["column"]["name"])
    for part in condition.get("conditions") or []:
        out |= _condition_columns(part)
    return out


def used_columns(suite: ExpectationSuite) -> list[str]:
    """Columns the suite's expectations read, plus the ones identifying a row.

    GX copies the whole frame for each row-conditioned metric (DataFrame.query), so it is handed
    only what it reads: the text columns no rule looks at (data_items, joint_depts, ...) stay out.
    """
    names = {FILE, ROW, POS}
    for exp in suite.expectations:
        kwargs = exp.configuration.kwargs
        for key in ("column", "column_A", "column_B"):
            if isinstance(kwargs.get(key), str):
                names.add(kwargs[key])
        names.update(kwargs.get("column_list") or [])
        condition = kwargs.get("row_condition")
        names |= _condition_columns(condition.dict() if hasattr(condition, "dict") else condition)
    return sorted(names)


def run_suite(kind_name: str, frame: pd.DataFrame, suite: ExpectationSuite,
              parameters: dict | None = None) -> ExpectationSuiteValidationResult:
    """Validate the stacked frame of one kind against its suite. `parameters` fill the suite's
    {"$PARAMETER": name} values, if it has any.

    The result has one entry per expectation of the suite: the quick pass's for the expectations
    that held, the detailed pass's (every failing row) for those that did not.
    """
    with _LOCK:  # GX's context and its stores are not documented as thread-safe
        columns = [c for c in used_columns(suite) if c in frame.columns]
        batch = batch_definition(kind_name).get_batch(batch_parameters={"dataframe": frame[columns]})
        parameters = parameters or {}
        quick = batch.validate(suite, expectation_parameters=parameters, result_format=QUICK_FORMAT)
        failed = [res.expectation_config for res in quick.results if not res.success]
        if not failed:
            return quick
        # GX orders results by its metric graph, not as the suite lists them: the failed
        # expectations are rebuilt from the configurations their results carry.
        again = ExpectationSuite(name=f"{suite.name}.failed", expectations=failed)
        detailed = batch.validate(again, expectation_parameters=parameters, result_format=RESULT_FORMAT)
        if len(detailed.results) != len(failed):
            raise ValidationEngineError(f"GX returned {len(detailed.results)} results for {len(failed)} expectations")
        quick.results = [res for res in quick.results if res.success] + list(detailed.results)
        return quick
