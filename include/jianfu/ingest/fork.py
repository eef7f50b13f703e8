"""One call run in a forked process while the caller does other work: ingest's use of the second core.

Why fork: reading, validating and staging a province month is CPU-bound Python and Arrow work,
and Great Expectations (its import, its context, the suites) costs more than a second to set up.
A child forked after that is done inherits it all, copy-on-write, and starts working at once; a
spawned process would pay it again; and a child forked before it can read files while the parent
loads GX. What goes back through the pipe is small (problems, counts, paths); tables, where they
must change process, go as Arrow IPC files (ingest's _check_all).

A child that fails in any way — an exception, a crash, killed for memory — answers (False, why);
the caller then does that share itself, so a worker can slow an ingest down but never lose or
half-decide a file. Where fork is not available (or JIANFU_INGEST_PROCESSES=1) there is no child,
and a fork that fails (no memory, process limit) leaves the caller to do that share as well.
"""

from __future__ import annotations

import os
import pickle
import traceback
from collections.abc import Callable
from typing import Any


def processes() -> int:
    """How many processes an ingest may use: JIANFU_INGEST_PROCESSES (default 2, at most 2)."""
    try:
        wanted = int(os.environ.get("JIANFU_INGEST_PROCESSES", "2"))
    except ValueError:
        wanted = 2
    return max(1, min(2, wanted)) if hasattr(os, "fork") else 1


class ForkedCall:
    """`fn()` running in a forked child; `result()` waits for it.

    A plain os.fork and a pipe, not multiprocessing: an Airflow task on a Celery worker runs inside a
    daemonic pool process, which multiprocessing forbids to have children, and the child needs none
    of multiprocessing's bookkeeping. The child sends one pickled answer and leaves with os._exit, so
    nothing the parent set up (database pools, atexit handlers, logging) is torn down twice.
    """

    def __init__(self, fn: Callable[[], Any]):
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker
            os.close(read_fd)
            _answer(fn, write_fd)  # never returns
        os.close(write_fd)  # the child holds the only writing end: its death reads as EOF here
        self._pid = pid
        self._answers = os.fdopen(read_fd, "rb")

    def result(self) -> tuple[bool, Any]:
        """(True, what fn returned), or (False, why the child did not answer)."""
        try:
            data = self._answers.read()
        finally:
            self._answers.close()
            _, status = os.waitpid(self._pid, 0)
        code = os.waitstatus_to_exitcode(status)
        if not data:
            return False, f"the worker process ended without an answer (exit code {code})"
        try:
            return pickle.loads(data)
        except Exception as exc:  # noqa: BLE001 - a truncated answer is a failed worker
            return False, f"the worker's answer could not be read ({type(exc).__name__}: {exc}; exit code {code})"


def _answer(fn: Callable[[], Any], write_fd: int) -> None:
    code = 0
    try:
        try:
            answer = (True, fn())
        except BaseException:  # noqa: BLE001 - everything goes back to the parent, which decides
            answer = (False, traceback.format_exc())
        with os.fdopen(write_fd, "wb") as out:
            pickle.dump(answer, out, protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException:  # noqa: BLE001 - cannot answer: the parent sees EOF and does the work
        code = 1
    finally:
        os._exit(code)
