"""The province sample the bench runs on: generated once, reused while its inputs are unchanged.

Generating a province takes a while and is not what is being measured, so the sample is kept in
bench/out/sample/ under a key of everything that decides its bytes (seed, scale, province, the
pinned clock, and the generator's source). A changed generator or setting regenerates it;
BENCH_FRESH_SAMPLE=1 forces it. Each measured run gets its own JIANFU_HOME with a fresh copy of
the landing files (mtimes kept, since receipt order follows them).
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path

KINDS = ("form_counts", "work_groups", "inspections")


def sample_key(seed: int, scale: str, province: str | None, now: str, source: Path) -> str:
    """A digest of the generator's inputs and of its source (`source`: the jianfu/sample folder
    measured): equal digest, equal sample."""
    digest = hashlib.sha256(json.dumps([seed, scale, province, now]).encode())
    for path in sorted(source.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(source).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def cached(sample_dir: Path, key: str) -> bool:
    marker = sample_dir / ".bench-key"
    return marker.exists() and marker.read_text().strip() == key and (sample_dir / "landing").is_dir()


def mark(sample_dir: Path, key: str) -> None:
    (sample_dir / ".bench-key").write_text(key + "\n")


def landing_files(sample_dir: Path) -> list[Path]:
    """Every submission file of the sample, in a stable order."""
    landing = sample_dir / "landing"
    if not landing.is_dir():
        return []
    return sorted(p for p in landing.rglob("*") if p.is_file() and not p.name.startswith("."))


def fresh_home(home: Path, sample_dir: Path) -> Path:
    """An empty JIANFU_HOME holding a copy of the sample's landing directory."""
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    shutil.copytree(sample_dir / "landing", home / "landing", copy_function=shutil.copy2)
    return home


def subset_home(home: Path, sample_dir: Path, files: list[Path]) -> Path:
    """An empty JIANFU_HOME whose landing holds only `files` (kept under their kind's folder)."""
    if home.exists():
        shutil.rmtree(home)
    for path in files:
        rel = path.relative_to(sample_dir / "landing")
        (home / "landing" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, home / "landing" / rel)
    return home


def describe(sample_dir: Path, files: list[Path]) -> dict:
    """Files, bytes and formats per kind, and counties/townships/villages of the reference."""
    kinds: dict[str, dict] = {}
    for path in files:
        kind = path.relative_to(sample_dir / "landing").parts[0]
        entry = kinds.setdefault(kind, {"files": 0, "bytes": 0, "csv": 0, "xlsx": 0, "other": 0})
        entry["files"] += 1
        entry["bytes"] += path.stat().st_size
        suffix = path.suffix.lower().lstrip(".")
        entry[suffix if suffix in ("csv", "xlsx") else "other"] += 1
    levels: dict[str, int] = {}
    units_csv = sample_dir / "reference" / "units.csv"
    if units_csv.exists():
        with units_csv.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                levels[row["level"]] = levels.get(row["level"], 0) + 1
    return {"files": len(files), "bytes": sum(k["bytes"] for k in kinds.values()), "kinds": kinds,
            "units": levels}


def smallest(files: list[Path], sample_dir: Path, kind: str, count: int) -> list[Path]:
    """The `count` smallest CSVs of one kind: the many-small-files case of a province.

    One kind, so that ingest validates them in one GX batch: N files against one file then
    differ only by what each extra file costs, not by another suite run.
    """
    of_kind = [p for p in files if p.suffix.lower() == ".csv"
               and p.relative_to(sample_dir / "landing").parts[0] == kind]
    return sorted(of_kind, key=lambda p: (p.stat().st_size, p.name))[:count]
