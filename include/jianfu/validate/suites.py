"""The GX expectation suites (validate/expectations/<kind>.json), loaded and checked.

The suites are data the coordination office may read and tune (messages, thresholds), so they are
GX 1.x JSON rather than code; they ship inside the package so that an installed wheel validates. GX drops an expectation it cannot build with only a log line
(ExpectationSuite.__init__ catches InvalidExpectationConfigurationError), which would silently switch
a rule off: loading here refuses a suite whose loaded count differs from its JSON list.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import great_expectations as gx

from ..config import JianfuError

#: meta keys every expectation carries so a failure can be turned into a jianfu Problem.
META_KEYS = ("rule", "column", "message_en", "message_zh")


class SuiteError(JianfuError):
    """An expectation suite file is missing or broken; the message names the file and what is wrong."""


#: The suites shipped with the package.
EXPECTATIONS_DIR = Path(__file__).resolve().parent / "expectations"


def suite_path(kind_name: str, directory: Path | None = None) -> Path:
    return (directory or EXPECTATIONS_DIR) / f"{kind_name}.json"


def read_suite_json(kind_name: str, directory: Path | None = None) -> dict:
    """The suite file as JSON, with a clear error when it is absent or not JSON."""
    path = suite_path(kind_name, directory)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SuiteError(f"expectation suite {path} is missing") from None
    except json.JSONDecodeError as exc:
        raise SuiteError(f"expectation suite {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("expectations"), list):
        raise SuiteError(f"expectation suite {path} has no 'expectations' list")
    return data


@dataclass
class _Cached:
    mtime_ns: int
    suite: gx.ExpectationSuite


_CACHE: dict[Path, _Cached] = {}


def load_suite(kind_name: str, directory: Path | None = None) -> gx.ExpectationSuite:
    """The suite of one kind, every expectation of its JSON built by GX (else SuiteError).

    Cached per file and modification time: building ~35 pydantic expectation models costs tens of
    milliseconds, which a per-file caller should not pay each time.
    """
    path = suite_path(kind_name, directory)
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        mtime = -1
    cached = _CACHE.get(path)
    if cached and cached.mtime_ns == mtime:
        return cached.suite
    data = read_suite_json(kind_name, directory)
    for n, exp in enumerate(data["expectations"]):
        missing = [k for k in META_KEYS if not (exp.get("meta") or {}).get(k)]
        if missing:
            raise SuiteError(f"{path}: expectation #{n} ({exp.get('type')}) lacks meta {', '.join(missing)}")
    suite = gx.ExpectationSuite(**data)
    if len(suite.expectations) != len(data["expectations"]):
        built = {(e.expectation_type, json.dumps(e.meta, sort_keys=True)) for e in suite.expectations}
        dropped = [f"#{n} {e.get('type')} ({(e.get('meta') or {}).get('rule')})"
                   for n, e in enumerate(data["expectations"])
                   if (e.get("type"), json.dumps(e.get("meta"), sort_keys=True)) not in built]
        raise SuiteError(
            f"{path}: GX built {len(suite.expectations)} of {len(data['expectations'])} expectations; "
            f"it could not build {', '.join(dropped) or 'some'} (check their type and kwargs)"
        )
    _CACHE[path] = _Cached(mtime, suite)
    return suite
