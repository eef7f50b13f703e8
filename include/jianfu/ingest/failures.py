"""How many runs in a row a file could not be received or checked (SPEC.md section 5).

One file that cannot be read, archived or checked never stops the others: it is skipped with its
reason and tried again by the next run. A failure that repeats is the file's, not the moment's (a
file the ingest may not read, one that crashes a library): after ATTEMPTS runs it is recorded as
rejected, so the office sees it on the board instead of a line in every run's log.

The counts are a small JSON file beside the ledger, keyed by what identifies the attempt (the place,
size and modification time of a landed file; a receipt's id); a changed file starts again at zero.
It is written whole through a rename, so a run that dies leaves the previous counts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

#: Runs a file may fail before it is recorded as rejected.
ATTEMPTS = 3


class FailureCounts:
    """The counts of one home, loaded at the start of a run and saved at its end."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.counts: dict[str, int] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.counts = {}
        self._seen: set[str] = set()

    def failed(self, key: str) -> int:
        """Count one more failed run for `key`; returns the runs failed so far."""
        if key not in self._seen:
            self._seen.add(key)
            self.counts[key] = self.counts.get(key, 0) + 1
        return self.counts[key]

    def forget(self, key: str) -> None:
        self.counts.pop(key, None)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps(self.counts, ensure_ascii=True, indent=0), encoding="utf-8")
        os.replace(tmp, self.path)
