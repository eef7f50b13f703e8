"""Finding submission files and telling their kind (SPEC.md section 4).

The kind comes from where a file lands (`landing/<kind>/...`) or from `--kind`. Files are returned
in receipt order — by modification time, then path — because the newest accepted file of a
county x kind x period is the one in force.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..config import JianfuError
from ..schema import KINDS

#: File types a county may send; anything else under landing/ is still received (and rejected),
#: except obvious clutter that editors and operating systems leave behind.
IGNORED_NAMES = (".DS_Store", "Thumbs.db", "desktop.ini")


class DiscoveryError(JianfuError):
    """A path given on the command line does not exist or holds nothing to ingest."""


@dataclass(frozen=True)
class Discovered:
    path: Path
    kind: str | None  # None when neither the path nor --kind tells it
    mtime_ns: int
    size: int = 0


def kind_from_path(path: Path) -> str | None:
    """The nearest enclosing directory named after a kind, if any."""
    for part in reversed(path.parent.parts):
        if part in KINDS:
            return part
    return None


def _is_candidate(path: Path) -> bool:
    name = path.name
    return not (name.startswith((".", "~$")) or name in IGNORED_NAMES)


def discover(paths: list[Path], kind: str | None = None) -> list[Discovered]:
    """Every file under `paths` (files or directories), in receipt order."""
    if kind is not None and kind not in KINDS:
        raise DiscoveryError(f"unknown kind {kind!r}: expected one of {', '.join(KINDS)}")
    found: dict[Path, Discovered] = {}
    for given in paths:
        if not given.exists():
            raise DiscoveryError(f"{given}: no such file or directory")
        if given.is_file():
            candidates = [given]
        else:
            candidates = []
            for dirpath, dirnames, filenames in os.walk(given):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
                candidates.extend(Path(dirpath) / f for f in sorted(filenames))
        for path in candidates:
            if not path.is_file() or not _is_candidate(path):
                continue
            resolved = path.resolve()
            stat = path.stat()
            found[resolved] = Discovered(resolved, kind or kind_from_path(resolved), stat.st_mtime_ns, stat.st_size)
    return sorted(found.values(), key=lambda d: (d.mtime_ns, str(d.path)))
