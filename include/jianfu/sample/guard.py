"""What `jianfu sample` must not touch (SPEC.md section 11): the office's own data.

Sample data planted in a real home would be ingested by the 15-minute DAG and mixed with the
counties' files, and a sample units.csv would silently replace the office's. So before writing,
the sample lists what is already there and refuses, naming the file, unless told `--force`.
"""

from __future__ import annotations

from pathlib import Path

from ..config import JianfuError

#: Reference files that only the office makes: any existing one is the office's.
OFFICE_FILES = ("units.csv", "departments.csv", "quotas.csv")


class SampleRefused(JianfuError):
    """The sample would replace the office's reference data or add to its landing directory."""


def _init_defaults() -> dict[str, str]:
    """The rules.yaml / collection.yaml `jianfu init` writes: replacing those loses nothing."""
    from ..home import default_collection_yaml, default_rules_yaml

    return {"rules.yaml": default_rules_yaml(), "collection.yaml": default_collection_yaml()}


def in_the_way(out: Path) -> list[Path]:
    """Files under `out` that a sample would replace or join, in the order they are reported."""
    reference, landing = out / "reference", out / "landing"
    found = [reference / name for name in OFFICE_FILES if (reference / name).exists()]
    for name, default in _init_defaults().items():
        path = reference / name
        if path.exists() and (not path.is_file() or path.read_text(encoding="utf-8", errors="replace") != default):
            found.append(path)
    if landing.is_dir():
        found += sorted(p for p in landing.rglob("*") if not p.is_dir())[:1]
    return found


def refuse_if_in_use(out: Path) -> None:
    """Raise SampleRefused naming the first file in the way, and how many there are."""
    found = in_the_way(out)
    if not found:
        return
    first = found[0]
    if first.is_relative_to(out / "landing"):
        what = f"{out / 'landing'} already holds files ({first})"
    else:
        what = f"{first} already exists, and it never replaces reference data"
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    raise SampleRefused(f"jianfu sample will not write here: {what}{more}; sample data belongs in a "
                        "directory of its own (--out DIR, or JIANFU_HOME set to an empty directory)")
