"""Finding submission files in landing and telling their kind (SPEC.md sections 4 and 5).

The kind comes from where a file lands (`landing/<kind>/...`) or from `--kind`. Files are returned
in receipt order — by modification time, then path — because the newest accepted file of a
county x kind x period is the one in force.

What counts as received is decided on `lstat`, never by following a link: landing is written by
county clerks and copy tools, and a symbolic link there (to /proc/self/environ, say) must not be
read or archived. Only regular files are received; links, FIFOs, sockets and devices are listed as
skipped with the reason. Office temporary and lock files are ignored, and a file modified less
than `settle` seconds before the scan may still be being copied: it is left for the next run.
"""

from __future__ import annotations

import fnmatch
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..config import JianfuError
from ..schema import KINDS

#: Obvious clutter that editors and operating systems leave behind; never received.
IGNORED_NAMES = (".DS_Store", "Thumbs.db", "desktop.ini")
#: Office temporary and lock files and partial downloads (SPEC section 5); never received.
TEMPORARY_PATTERNS = ("~$*", ".~lock*", "*.tmp", "*.part", "*.crdownload")


class DiscoveryError(JianfuError):
    """A path given on the command line does not exist or holds nothing to ingest."""


@dataclass(frozen=True)
class Discovered:
    path: Path
    kind: str | None  # None when neither the path nor --kind tells it
    mtime_ns: int
    size: int = 0


@dataclass(frozen=True)
class Skipped:
    """A landing entry that is not received this run, and why (shown in the run's summary)."""

    path: Path
    reason: str


@dataclass
class Scan:
    found: list[Discovered] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    #: Regular files changed within the settle time: received by a later run.
    unsettled: list[Skipped] = field(default_factory=list)


def kind_from_path(path: Path) -> str | None:
    """The nearest enclosing directory named after a kind, if any."""
    for part in reversed(path.parent.parts):
        if part in KINDS:
            return part
    return None


def is_ignored(name: str) -> bool:
    """Hidden files, OS clutter and office temporary files: not submissions, not worth a line."""
    return (name.startswith(".") or name in IGNORED_NAMES
            or any(fnmatch.fnmatchcase(name, pattern) for pattern in TEMPORARY_PATTERNS))


def _not_regular(mode: int) -> str | None:
    """Why an entry of this mode is not received, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return "a symbolic link: links are never followed (copy the file itself into landing) / 符号链接，不予读取"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe), not a file / 管道，不是文件"
    if stat.S_ISSOCK(mode):
        return "a socket, not a file / 套接字，不是文件"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a file / 设备，不是文件"
    return "not a regular file / 不是普通文件"


def _entries(given: Path, skipped: list[Skipped]):
    """(path, lstat) of every entry under `given`, without following links; unreadable
    directories are listed as skipped and the walk goes on."""
    try:
        # A directory given by the office (landing itself) may be a link to a share; inside it,
        # nothing is followed.
        top = given.stat() if given.is_dir() else given.lstat()
    except OSError as exc:
        skipped.append(Skipped(given, f"cannot be examined ({exc.strerror or exc}) / 无法读取"))
        return
    if not stat.S_ISDIR(top.st_mode):
        yield given, top
        return
    for dirpath, dirnames, filenames in os.walk(given, onerror=lambda e: skipped.append(
            Skipped(Path(e.filename or given), f"directory cannot be read ({e.strerror or e}) / 目录无法读取"))):
        kept = []
        for d in sorted(dirnames):
            if d.startswith((".", "_")):
                continue
            path = Path(dirpath) / d
            try:
                mode = path.lstat().st_mode
            except OSError:
                continue
            if stat.S_ISLNK(mode):  # os.walk does not descend into it; it is still not received
                skipped.append(Skipped(path, _not_regular(mode)))
            else:
                kept.append(d)
        dirnames[:] = kept
        for name in sorted(filenames):
            path = Path(dirpath) / name
            try:
                yield path, path.lstat()
            except OSError as exc:
                skipped.append(Skipped(path, f"cannot be examined ({exc.strerror or exc}) / 无法读取"))


def scan(paths: list[Path], kind: str | None = None, *, settle: float = 0,
         started: float | None = None) -> Scan:
    """Every regular file under `paths` (files or directories), in receipt order, and what was
    skipped. `settle` seconds: a file modified after `started - settle` (wall clock, default now)
    is left for a later run."""
    if kind is not None and kind not in KINDS:
        raise DiscoveryError(f"unknown kind {kind!r}: expected one of {', '.join(KINDS)}")
    started = time.time() if started is None else started
    result = Scan()
    found: dict[Path, Discovered] = {}
    for given in paths:
        if not os.path.lexists(given):
            raise DiscoveryError(f"{given}: no such file or directory")
        for path, info in _entries(given, result.skipped):
            if is_ignored(path.name):
                continue
            reason = _not_regular(info.st_mode)
            if reason is not None:
                result.skipped.append(Skipped(path, reason))
                continue
            if settle > 0 and info.st_mtime > started - settle:
                result.unsettled.append(Skipped(
                    path, f"changed less than {settle:g} s ago, perhaps still being copied: left for the next run "
                          f"/ 文件可能仍在复制中，留待下次接收"))
                continue
            absolute = path.absolute()
            found[absolute] = Discovered(absolute, kind or kind_from_path(absolute), info.st_mtime_ns, info.st_size)
    result.found = sorted(found.values(), key=lambda d: (d.mtime_ns, str(d.path)))
    return result


def discover(paths: list[Path], kind: str | None = None, *, settle: float = 0) -> list[Discovered]:
    """Every regular file under `paths` that is received now, in receipt order (see scan)."""
    return scan(paths, kind, settle=settle).found
