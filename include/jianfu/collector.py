"""Python's cycle collector during long work: what was loaded before is left out of its passes."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def frozen() -> Iterator[None]:
    """Freeze every object tracked so far (`gc.freeze`) for the length of the block.

    The collector's full passes walk every live object, and long work sets them off the more often
    the more it allocates: frozen, what was loaded before (the libraries above all) is not walked
    again on each pass, and a process forked meanwhile shares those pages rather than copying the
    ones a pass would write. Unfrozen afterwards, unless the caller had frozen objects itself
    (Airflow's executors do before they fork): its choice stands.
    """
    caller_froze = gc.get_freeze_count() > 0
    gc.freeze()
    try:
        yield
    finally:
        if not caller_froze:
            gc.unfreeze()
