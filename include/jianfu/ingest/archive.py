"""The immutable raw archive (SPEC.md section 5): every byte received, named by its SHA-256.

A file is hashed and copied in one pass, into a temporary name beside its final place and renamed
only when complete, so the archive never holds a partial copy under a real name. An existing
archive entry is never rewritten: same name, same bytes. The temporary name is unique per copy
(ingest copies several files at once, and two counties' files may share a name), and
`sync_directories` makes the renames durable before the ledger records the receipts.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20
#: What of a file name's extension the archive keeps: a short ASCII suffix, for people browsing it.
_SUFFIX = re.compile(r"\.[a-z0-9]{1,8}")


@dataclass(frozen=True)
class Archived:
    sha256: str
    size: int
    path: Path


def archive_file(source: Path, archive_root: Path) -> Archived:
    """Copy `source` into the archive; returns its hash, size and archive path.

    The file is opened without following a link and must be a regular file when open: landing was
    checked with lstat, but a link or FIFO put in its place since must not be read either.
    """
    archive_root.mkdir(parents=True, exist_ok=True)
    src_fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(src_fd).st_mode):
        os.close(src_fd)
        raise OSError(errno.EINVAL, "not a regular file", str(source))
    fd, tmp_name = tempfile.mkstemp(prefix=".incoming-", dir=archive_root)
    tmp = Path(tmp_name)
    digest = hashlib.sha256()
    size = 0
    with os.fdopen(src_fd, "rb") as src, os.fdopen(fd, "wb") as dst:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            dst.write(chunk)
            size += len(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    sha = digest.hexdigest()
    match = _SUFFIX.fullmatch(source.suffix.lower())
    suffix = match.group(0) if match else ""
    final = archive_root / sha[:2] / f"{sha}{suffix}"
    if final.exists():
        tmp.unlink()
    else:
        final.parent.mkdir(exist_ok=True)
        os.replace(tmp, final)
        os.chmod(final, 0o444)
    return Archived(sha, size, final)


def sync_directories(copies: list[Archived]) -> None:
    """fsync each archive directory the copies were renamed into (once each): a rename is durable
    only when its directory is."""
    for directory in sorted({str(copy.path.parent) for copy in copies}):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
