"""Inherited pydantic v1 fields copied for what a subclass changes, not deep-copied whole.

Great Expectations defines some six hundred pydantic v1 models at import time (every expectation,
every fluent datasource and asset). pydantic v1 starts each subclass by deep-copying its bases'
fields (`ModelMetaclass.__new__`: `fields.update(smart_deepcopy(base.__fields__))`), and a field
holds its types, its FieldInfo, its validators and its sub-fields: `copy.deepcopy` walks all of
it, typing objects included, and took a quarter of GX's import — a third of a second of every
`jianfu ingest`, before any file is read.

What the subclass may then change on an inherited field is known (pydantic.v1.main and
pydantic.v1.fields, 1.10 as shipped in pydantic 2.x): attributes of the field itself (its config,
alias, validators, type, sub-fields, all by assignment); its FieldInfo's alias and include /
exclude (in place); its `class_validators` dict (in place); and, when forward references are
resolved, the same attributes of its sub-fields and key field (in place, recursively). So the copy
below gives each field its own object, FieldInfo, `class_validators` dict and validator lists, and
copies sub-fields and the key field the same way; the default is deep-copied as before. Only
immutable things are shared: classes, typing objects, validator functions.

It applies only while GX is imported (jianfu.gx_import) and only to dicts of fields; any other
value goes to pydantic's own smart_deepcopy. tests/test_validate.py imports GX both ways in fresh
interpreters and compares every field of every model GX defines, recursively.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager

#: pydantic.v1 as shipped in the pinned pydantic (requirements.txt); another release keeps its own copy.
PATCHED_PYDANTIC = "2.14.3"


def _copy_field(field, deepcopy_value):
    new = copy.copy(field)
    info = copy.copy(field.field_info)
    if isinstance(getattr(info, "extra", None), dict):
        info.extra = dict(info.extra)
    new.field_info = info
    if field.class_validators is not None:
        new.class_validators = dict(field.class_validators)
    for name in ("validators", "pre_validators", "post_validators"):
        value = getattr(field, name)
        if isinstance(value, list):
            setattr(new, name, list(value))
    if field.sub_fields is not None:
        new.sub_fields = [_copy_field(sub, deepcopy_value) for sub in field.sub_fields]
    if field.sub_fields_mapping is not None:
        new.sub_fields_mapping = {k: _copy_field(v, deepcopy_value) for k, v in field.sub_fields_mapping.items()}
    if field.key_field is not None:
        new.key_field = _copy_field(field.key_field, deepcopy_value)
    new.default = deepcopy_value(field.default)
    return new


@contextmanager
def inherited_fields_copied_cheaply():
    """Within the block, pydantic v1 copies inherited fields as described above."""
    try:
        import pydantic
        import pydantic.v1.main as v1_main
        from pydantic.v1.fields import ModelField
    except ImportError:  # no pydantic v1: nothing to do
        yield
        return
    if pydantic.VERSION != PATCHED_PYDANTIC:
        yield
        return
    original = v1_main.smart_deepcopy

    def smart_deepcopy(obj):
        if type(obj) is dict and obj and all(type(v) is ModelField for v in obj.values()):
            return {name: _copy_field(f, original) for name, f in obj.items()}
        return original(obj)

    v1_main.smart_deepcopy = smart_deepcopy
    try:
        yield
    finally:
        v1_main.smart_deepcopy = original
