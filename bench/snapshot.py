"""The code a bench run measures, frozen for the length of the run.

Several engineers work in the same tree and edit it while a bench runs; a build fingerprints the
flag code, so an edit between the full build and the resubmission's build made the resubmission
recompute every county and the figure meaningless. Every phase therefore imports jianfu from a
copy taken when the run starts (PYTHONPATH takes precedence over the editable install's .pth):
by default the committed HEAD (`git archive`: a figure that names a commit can be reproduced),
or with BENCH_CODE=worktree the working tree as it is, uncommitted edits included. The copy
holds `include/` (the GX suites ship inside the package).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from pathlib import Path

PARTS = ("include",)


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout.strip()


def take(root: Path, target: Path, mode: str = "head") -> dict:
    """Copy the code into `target`; returns what was copied (commit, dirty files) and where."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    commit = _git(root, "rev-parse", "HEAD")
    dirty = [line[3:] for line in _git(root, "status", "--porcelain", "--", *PARTS).splitlines() if line]
    if mode == "head":
        archive = subprocess.run(["git", "archive", "--format=tar", "HEAD", "--", *PARTS], cwd=root,
                                 check=True, capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(target, filter="data")
    elif mode == "worktree":
        for part in PARTS:
            if (root / part).exists():
                shutil.copytree(root / part, target / part, ignore=shutil.ignore_patterns("__pycache__"))
    else:
        raise ValueError(f"BENCH_CODE={mode!r}: expected head or worktree")
    return {"mode": mode, "commit": commit, "dirty_files_not_measured" if mode == "head" else "dirty_files": dirty,
            "path": str(target / "include")}
