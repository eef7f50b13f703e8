"""One call run in a forked process while the caller does other work: ingest's use of the second core.

Why fork, and why after Great Expectations is loaded: reading, validating and staging a province
month is CPU-bound Python and Arrow work split naturally by kind, but GX (its import, its context,
the suites) costs more than a second to set up. A child forked once that is done inherits it all,
copy-on-write, and starts working at once; a spawned process would pay it again. What goes back
through the pipe is small (problems, counts, paths): the tables stay in the process that read them.

A child that fails in any way — an exception, a crash, killed for memory — answers (False, why);
the caller then does that share itself, so a worker can slow an ingest down but never lose or
half-decide a file. Where fork is not available (or JIANFU_INGEST_PROCESSES=1) there is no child.
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from collections.abc import Callable
from typing import Any


def processes() -> int:
    """How many processes an ingest may use: JIANFU_INGEST_PROCESSES (default 2, at most 2)."""
    try:
        wanted = int(os.environ.get("JIANFU_INGEST_PROCESSES", "2"))
    except ValueError:
        wanted = 2
    return max(1, min(2, wanted)) if "fork" in multiprocessing.get_all_start_methods() else 1


class ForkedCall:
    """`fn()` running in a forked child; `result()` waits for it."""

    def __init__(self, fn: Callable[[], Any]):
        context = multiprocessing.get_context("fork")
        self._answers, send = context.Pipe(duplex=False)
        self._process = context.Process(target=_run, args=(fn, send), name="jianfu-ingest-worker", daemon=True)
        self._process.start()
        send.close()  # the child holds the only sending end: its death reads as EOF here

    def result(self) -> tuple[bool, Any]:
        """(True, what fn returned), or (False, why the child did not answer)."""
        try:
            ok, payload = self._answers.recv()
        except (EOFError, OSError) as exc:
            ok, payload = False, f"the worker process ended without an answer ({type(exc).__name__})"
        finally:
            self._answers.close()
            self._process.join()
        if not ok and self._process.exitcode:
            payload = f"{payload} (exit code {self._process.exitcode})"
        return ok, payload


def _run(fn: Callable[[], Any], send) -> None:
    try:
        answer = (True, fn())
    except BaseException:  # noqa: BLE001 - everything goes back to the parent, which decides
        answer = (False, traceback.format_exc())
    send.send(answer)
    send.close()
