"""Importing Great Expectations without the optional dependencies jianfu never calls.

`import great_expectations` executes every expectation module, and two of them pull in heavy
libraries at import time although only their own run needs them: the KL-divergence and KS-test
expectations import `scipy.stats` (about 1 s: SciPy's whole statistics stack) and the KL-divergence
one `altair` (about 0.3 s: the Vega-Lite schema). jianfu's suites use neither, and every
`jianfu ingest` paid that second and a half before looking at a file — more than a province
month takes to parse.

While GX is imported, those modules are created with the standard library's
`importlib.util.LazyLoader`: the module object exists at once and its code runs on the first
attribute access. Nothing is stubbed or left out: an expectation that does use them (a suite edited
to add a distribution test) loads them at that moment and works as before. The finder is removed
as soon as GX is imported, so the rest of the process imports as usual.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from contextlib import contextmanager
from importlib.abc import MetaPathFinder

#: Imported by GX at module level, used only inside expectations jianfu's suites do not hold.
DEFERRED = frozenset({"scipy.stats", "altair"})

_LOCK = threading.Lock()


class _DeferringFinder(MetaPathFinder):
    """Finds the DEFERRED modules through the normal finders and wraps their loader in LazyLoader."""

    def __init__(self, names: frozenset[str]):
        self.names = names

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self.names:
            return None
        # Ask the finders after this one (the real ones) for the module's spec.
        later = sys.meta_path[sys.meta_path.index(self) + 1:]
        for finder in later:
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find else None
            if spec is not None:
                break
        else:
            return None
        if spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = importlib.util.LazyLoader(spec.loader)
        return spec


@contextmanager
def deferring(names: frozenset[str] = DEFERRED):
    """Within the block, the first import of each of `names` is deferred to its first use."""
    finder = _DeferringFinder(names)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def import_gx():
    """`great_expectations`, imported (once per process) with DEFERRED modules left lazy and the
    fields of its pydantic models inherited without deep copies (jianfu.pydantic_fields)."""
    from .pydantic_fields import inherited_fields_copied_cheaply

    with _LOCK:
        if "great_expectations" not in sys.modules:
            with deferring(), inherited_fields_copied_cheaply():
                import great_expectations  # noqa: F401
    return sys.modules["great_expectations"]
