"""Two hot spots of GX 1.24, mended in place: expectation kwargs looked up without building the
whole configuration, and Data Docs templates compiled once (see the section further down).

`Expectation.configuration` is a property that rebuilds the whole configuration from the pydantic
model (`self.dict()`, then a new ExpectationConfiguration) on every access. Three small methods GX
calls for every metric of every expectation — `_get_domain_kwargs`, `_get_success_kwargs` and
`_get_success_kwarg` — read it inside a loop over keys, so one validation of jianfu's three suites
(100 expectations) rebuilt configurations about 7,000 times: a third of GX's time on a clean month.

The replacements below do exactly what GX's do without building a configuration at all: they
read only the keys they need from the model, the way the `configuration` property makes its kwargs
(`self.dict(exclude_defaults=True)` less the keys it moves out of kwargs). Building one costs a full
`dict()` of the model, a regular expression on the class name and a JSON check of its meta; asking
for a few keys costs a fraction of that, and these three run about 3,300 times per validation of
jianfu's suites (a fixed cost that every ingest pays once per process).

Both are installed only on the GX release they were written against (PATCHED_RELEASE; a later
release keeps its own code), the lookups only on the base class, so an expectation that overrides
a method keeps its own. tests/test_validate.py checks the lookups against GX's originals on every
expectation of the suites, and that a template is compiled once.
"""

from __future__ import annotations

import logging
from typing import Any

import great_expectations
from great_expectations.expectations.expectation import Expectation

PATCHED_RELEASE = "1.24.1"

log = logging.getLogger(__name__)

ORIGINALS = {name: getattr(Expectation, name)
             for name in ("_get_domain_kwargs", "_get_success_kwargs", "_get_success_kwarg")}


#: What `Expectation.configuration` moves out of the model's dict into the configuration's own
#: fields: never in `configuration.kwargs`.
NOT_KWARGS = frozenset({"meta", "notes", "description", "severity", "id", "rendered_content"})


def configuration_kwargs(expectation: Expectation, keys) -> dict[str, Any]:
    """`expectation.configuration.kwargs` restricted to `keys`, without building the configuration.

    pydantic's `dict()` decides each field on its own (included? equal to its default?), so asking
    for some keys gives exactly those keys of the whole dict."""
    wanted = {key for key in keys if key not in NOT_KWARGS}
    return expectation.dict(include=wanted, exclude_defaults=True) if wanted else {}


def _get_domain_kwargs(self) -> dict[str, Any]:
    kwargs = configuration_kwargs(self, self.domain_keys)
    return {key: kwargs.get(key, self._get_default_value(key)) for key in self.domain_keys}


def _get_success_kwargs(self) -> dict[str, Any]:
    domain_kwargs = self._get_domain_kwargs()
    kwargs = configuration_kwargs(self, self.success_keys)
    success_kwargs = {key: kwargs.get(key, self._get_default_value(key)) for key in self.success_keys}
    success_kwargs.update(domain_kwargs)
    return success_kwargs


def _get_success_kwarg(self, key: str, default: Any = None) -> Any:
    kwargs = configuration_kwargs(self, (key,))
    if key in kwargs:
        return kwargs[key]
    field = self.__fields__.get(key)
    if field is not None:
        return field.default if not field.required else default
    log.warning("_get_success_kwarg called with key %r, but it is not a known field of %s", key, type(self).__name__)
    return default


REPLACEMENTS = {"_get_domain_kwargs": _get_domain_kwargs, "_get_success_kwargs": _get_success_kwargs,
                "_get_success_kwarg": _get_success_kwarg}


def install() -> bool:
    """Put the replacements on Expectation when GX is the release they match; True if installed."""
    if great_expectations.__version__ != PATCHED_RELEASE:
        log.info("GX %s is not %s: its own kwargs lookups are kept", great_expectations.__version__, PATCHED_RELEASE)
        return False
    for name, function in REPLACEMENTS.items():
        setattr(Expectation, name, function)
    _cache_compiled_templates()
    return True


# -------------------------------------------------------------------------- Data Docs templates
# GX renders every Data Docs page through a view that makes a new Jinja environment, so each page
# compiles its templates again from source (35 templates for an ingest's page and index): two
# thirds of the time of an ingest's Data Docs. Jinja's own bytecode cache, given to those
# environments, compiles a template once and loads it after that; it checks the template source's
# checksum, so a changed template (another GX release) is compiled again.


def _bytecode_cache():
    """Jinja's file cache in the user's private temp directory (made 0700, its owner checked by
    Jinja; written through a temporary file and a rename), shared by every jianfu process of the
    user; in this process's memory if Jinja finds that directory unsafe."""
    import jinja2

    class MemoryBytecodeCache(jinja2.BytecodeCache):
        def __init__(self) -> None:
            self.code: dict[str, bytes] = {}

        def load_bytecode(self, bucket) -> None:
            if bucket.key in self.code:
                bucket.bytecode_from_string(self.code[bucket.key])

        def dump_bytecode(self, bucket) -> None:
            self.code[bucket.key] = bucket.bytecode_to_string()

    try:
        return jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):
        return MemoryBytecodeCache()


def _cache_compiled_templates() -> None:
    from great_expectations.render.view.view import DefaultJinjaView

    if getattr(DefaultJinjaView.__init__, "_jianfu_cached", False):
        return
    original = DefaultJinjaView.__init__
    cache = _bytecode_cache()

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.env.bytecode_cache = cache

    __init__._jianfu_cached = True
    DefaultJinjaView.__init__ = __init__
