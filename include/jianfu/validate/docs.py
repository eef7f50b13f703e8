"""Validation history and GX Data Docs under $JIANFU_HOME (SPEC.md section 6).

Validation itself runs in an ephemeral context (engine.py); this file-backed context under
$JIANFU_HOME/gx only keeps the suites and the results for the office to browse. Results are written
per call of validate_batch (a few small JSON files). The HTML site under
$JIANFU_HOME/reports/data_docs/ is built by build_data_docs, a step of its own after ingest (a DAG
task, a CLI step), so a rendering failure never touches an ingest; it renders only results not
rendered before, so its cost follows what is new rather than the length of the history.

What is stored is trimmed for reading, not for audit (the ledger's reports are the record):
value sets are cut to their first values, failing rows to the first 200 per expectation, and every
failing row names its submission (in place of its position in the batch).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import threading
from datetime import datetime
from pathlib import Path

import great_expectations as gx
from great_expectations.core import ExpectationSuiteValidationResult
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)

from ..config import Settings
from ..schema import KINDS
from ..submission import ROW, BatchItem
from .prepare import FILE, POS
from .suites import read_suite_json

SITE = "jianfu"
#: Value sets longer than this are cut in stored results (a county's units would flood the page).
VALUE_SET_SHOWN = 20
#: Shown in place of a county's value: the pages are HTML, the county's report has the value.
HIDDEN_VALUE = "(value in the submission's report)"
#: Failing rows kept per expectation in stored results.
ROWS_SHOWN = 200
#: Beside the site: the digest of each suite's JSON as last rendered.
SUITES_RENDERED = ".suites-rendered.json"

_LOCK = threading.RLock()
_CONTEXTS: dict[Path, object] = {}


def context_root(settings: Settings) -> Path:
    """Where the file-backed GX context lives: $JIANFU_HOME/gx."""
    return settings.home / "gx"


def data_docs_dir(settings: Settings) -> Path:
    return settings.reports / "data_docs"


def file_context(root: Path):
    """The file-backed context at `root` (a directory named gx), created on first use and kept
    for the process."""
    root = root.absolute()
    with _LOCK:
        ctx = _CONTEXTS.get(root)
        if ctx is None:
            if (root / "great_expectations.yml").exists():
                ctx = gx.get_context(mode="file", context_root_dir=root)
            elif root.name == "gx":
                root.parent.mkdir(parents=True, exist_ok=True)
                ctx = gx.get_context(mode="file", project_root_dir=root.parent)
            else:
                raise ValueError(f"GX context directory must be called 'gx' to be created: {root}")
            ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
            sites = ctx.list_data_docs_sites()
            for name in [n for n in sites if n != SITE]:
                ctx.delete_data_docs_site(name)  # the scaffolded local_site would duplicate ours
            _CONTEXTS[root] = ctx
        return ctx


def _trimmed(result: ExpectationSuiteValidationResult, keys: dict[int, str],
             run_id: RunIdentifier) -> ExpectationSuiteValidationResult:
    """A copy fit for browsing: short value sets, a bounded number of failing rows, each named by
    its submission id (what the office can look up in the ledger) and row, and no value from a
    county's file: the pages are HTML, and the county's report quotes the values instead."""
    out = copy.deepcopy(result)
    for res in out.results:
        kwargs = res.expectation_config.kwargs
        values = kwargs.get("value_set")
        if isinstance(values, (list, tuple, set)) and len(values) > VALUE_SET_SHOWN:
            values = sorted(values)
            kwargs["value_set"] = [*values[:VALUE_SET_SHOWN], f"... {len(values) - VALUE_SET_SHOWN} more reference codes"]
        body = res.result or {}
        hits = body.get("unexpected_index_list")
        for name in ("unexpected_list", "partial_unexpected_list", "partial_unexpected_index_list",
                     "partial_unexpected_counts", "unexpected_index_query", "details"):
            body.pop(name, None)
        if hits:
            # Each failing row keeps its place (submission, row); its value is left to the report.
            shown = [{k: keys.get(int(v)) if k == FILE else v if k in (ROW, POS) else HIDDEN_VALUE
                      for k, v in h.items()} for h in hits[:ROWS_SHOWN]]
            body["unexpected_index_list"] = body["partial_unexpected_index_list"] = shown
            body["partial_unexpected_list"] = [HIDDEN_VALUE] * len(shown)
            body["partial_unexpected_counts"] = [{"value": HIDDEN_VALUE, "count": len(hits)}]
        if not isinstance(body.get("observed_value"), (int, float, type(None))):
            body.pop("observed_value", None)
    out.meta = {**(out.meta or {}), "run_id": run_id, "validation_time": run_id.run_time,
                "jianfu_submissions": sorted(keys.values())}
    return out


def record_result(root: Path, kind_name: str, result: ExpectationSuiteValidationResult,
                  indexed: list[tuple[int, BatchItem]], now: datetime) -> ValidationResultIdentifier:
    """Store one suite run (one kind of one validate_batch call) in the history."""
    keys = {index: item.key for index, item in indexed}
    digest = hashlib.sha256("\n".join(keys.values()).encode()).hexdigest()[:12]
    run_id = RunIdentifier(run_name=f"ingest-{now:%Y%m%dT%H%M%S}", run_time=now)
    key = ValidationResultIdentifier(
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=kind_name),
        run_id=run_id,
        batch_identifier=f"{len(keys)}-files-{digest}",
    )
    with _LOCK:
        file_context(root).validation_results_store.set(key, _trimmed(result, keys, run_id))
    return key


def _site_config(target: Path) -> dict:
    return {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(target)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }


def _page(target: Path, key: ValidationResultIdentifier) -> Path:
    """Where GX's site writes the page of one validation result."""
    run = key.run_id
    return (target / "validations" / key.expectation_suite_identifier.name / run.run_name
            / run.run_time.strftime("%Y%m%dT%H%M%S.%fZ") / f"{key.batch_identifier}.html")


def _suite_digest(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


#: An identifier no suite has: "render nothing but the index" to GX's site builder.
_NOTHING = ExpectationSuiteIdentifier(name="__jianfu_index_only__")


def build_data_docs(settings: Settings, suites: Path | None = None) -> Path:
    """Render the suites and any results not rendered yet into $JIANFU_HOME/reports/data_docs/;
    returns the site's index.html.

    A suite is stored and rendered again only when its JSON changed since the last build (a digest
    per suite is kept beside the site in SUITES_RENDERED) or its page is missing: GX's
    `suites.add_or_update` compares expectations pairwise and cost more than the rest of the build.
    """
    target = data_docs_dir(settings).absolute()
    target.mkdir(parents=True, exist_ok=True)
    stamps_path = target / SUITES_RENDERED
    try:
        stamps = json.loads(stamps_path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        stamps = {}
    with _LOCK:
        ctx = file_context(context_root(settings))
        config = _site_config(target)
        sites = ctx.list_data_docs_sites()
        if SITE not in sites:
            ctx.add_data_docs_site(SITE, config)
        elif sites[SITE] != config:
            ctx.update_data_docs_site(SITE, config)
        suite_ids = []
        for name in KINDS:
            data = read_suite_json(name, suites)
            digest = _suite_digest(data)
            if stamps.get(name) != digest or not (target / "expectations" / f"{name}.html").exists():
                ctx.suites.add_or_update(gx.ExpectationSuite(**data))
                suite_ids.append(ExpectationSuiteIdentifier(name=name))
                stamps[name] = digest
        fresh = [k for k in ctx.validation_results_store.list_keys() if not _page(target, k).exists()]
        # Given no identifiers, GX renders every page of the history again; an identifier of no
        # stored resource renders none, and the index is built all the same.
        ctx.build_data_docs(site_names=[SITE], resource_identifiers=[*suite_ids, *fresh] or [_NOTHING])
    tmp = stamps_path.with_name(f".{SUITES_RENDERED}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(stamps, indent=1), encoding="utf-8")
    os.replace(tmp, stamps_path)
    return target / "index.html"
