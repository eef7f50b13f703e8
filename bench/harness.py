"""Running a phase in a child process and keeping what it measured (see worker.py for why).

Every phase leaves three things under bench/out/: its arguments (`runs/<label>.args.json`), its
result (`runs/<label>.json`) and its output (`logs/<label>.log`), so a surprising figure can be
traced to what the stage printed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from machine import load_average

WORKER = Path(__file__).resolve().parent / "worker.py"


def child_env(pycache: Path, env: dict[str, str], *, bytecode_cache: bool = True) -> dict[str, str]:
    """The environment of a phase's process.

    Bytecode is cached under `pycache` (PYTHONPYCACHEPREFIX, bench/out/pycache): an installed jianfu compiles
    Great Expectations, pandas and SQLAlchemy once and loads .pyc files after that, but this
    machine sets PYTHONDONTWRITEBYTECODE=1, under which every process would compile GX from source
    again (seconds per process) — a cost of the sandbox, not of jianfu. The cache lives in the
    bench's own output, so neither the venv nor the source tree is written to.
    """
    merged = {**os.environ, **env}
    if bytecode_cache:
        merged.pop("PYTHONDONTWRITEBYTECODE", None)
        merged["PYTHONPYCACHEPREFIX"] = str(pycache)
    else:
        merged["PYTHONDONTWRITEBYTECODE"] = "1"
        merged.pop("PYTHONPYCACHEPREFIX", None)
    return merged


@dataclass
class PhaseRun:
    label: str
    phase: str
    status: str  # ok | unavailable | failed | skipped
    seconds: float | None = None  # the phase's own work, timed inside the child
    wall_seconds: float | None = None  # the child process from start to exit (interpreter, imports)
    peak_rss_bytes: int | None = None  # peak memory: PSS of the process tree (see worker.py)
    peak_rss_sum_bytes: int | None = None  # the tree's resident sizes added up: an upper bound
    import_seconds: float | None = None  # of `seconds`: importing the stage's modules
    load: float | None = None  # 1-minute load average when the phase started (other work on the cores)
    jianfu_file: str | None = None  # where the phase imported jianfu from
    cpu_seconds: float | None = None  # user + system CPU of the timed region, all threads
    error: str | None = None
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self) -> dict:
        return asdict(self)


def skipped(label: str, phase: str, why: str) -> PhaseRun:
    return PhaseRun(label, phase, "skipped", error=why)


def settle_disk() -> None:
    """Write every dirty page to disk before a phase starts, so that no phase pays for another's.

    The page cache writes files back some seconds after they were written. Without this, the
    landing directory the bench has just copied into a fresh home (49 MB for the province), or the
    Parquet the phase before wrote, is written back while the next phase runs; and `jianfu ingest`,
    which fsyncs every file it archives (nothing lost), waits for that writeback through the
    filesystem's journal. On this machine that added 0.5-0.8 s to an ingest of the province month.
    An office's landing files arrive over days and are long on disk when ingest runs."""
    os.sync()


def run_phase(label: str, phase: str, args: dict, *, out: Path, env: dict[str, str],
              profile: Path | None = None, timeout: float = 1200, bytecode_cache: bool = True,
              pycache: Path | None = None) -> PhaseRun:
    """Run `phase` in a fresh interpreter with `env`; never raises for a phase that fails."""
    runs, logs = out / "runs", out / "logs"
    runs.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    args_file, result_file, log_file = runs / f"{label}.args.json", runs / f"{label}.json", logs / f"{label}.log"
    args_file.write_text(json.dumps(args, ensure_ascii=False, indent=1))
    result_file.unlink(missing_ok=True)
    command = [sys.executable, str(WORKER), phase, str(args_file), str(result_file)]
    if profile is not None:
        command += ["--profile", str(profile)]
    print(f"[bench] {label}: running", file=sys.stderr, flush=True)
    settle_disk()
    load = (load_average() or [None])[0]
    started = time.perf_counter()
    with log_file.open("w") as log:
        try:
            proc = subprocess.run(command, env=child_env(pycache or out / "pycache", env, bytecode_cache=bytecode_cache), stdout=log, stderr=subprocess.STDOUT,
                                  timeout=timeout, check=False)
            code = proc.returncode
        except subprocess.TimeoutExpired:
            code = None
    wall = time.perf_counter() - started
    if code is None:
        run = PhaseRun(label, phase, "failed", wall_seconds=wall, error=f"timed out after {timeout:.0f} s", load=load)
    elif not result_file.exists():
        tail = log_file.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
        run = PhaseRun(label, phase, "failed", wall_seconds=wall, error=f"exit {code}: {tail[0]}", load=load)
    else:
        data = json.loads(result_file.read_text())
        run = PhaseRun(label, phase, data["status"], seconds=data.get("seconds"), wall_seconds=wall,
                       peak_rss_bytes=data.get("peak_rss_bytes"), peak_rss_sum_bytes=data.get("peak_rss_sum_bytes"),
                       import_seconds=data.get("import_seconds"),
                       load=load, jianfu_file=data.get("jianfu_file"), cpu_seconds=data.get("cpu_seconds"),
                       error=data.get("error"), result=data.get("result") or {})
        if data.get("traceback"):
            with log_file.open("a") as log:
                log.write(data["traceback"])
    shown = f"{run.seconds:.2f} s" if run.seconds is not None else run.status
    extra = f" — {run.error}" if run.error else ""
    print(f"[bench] {label}: {shown} (process {wall:.1f} s){extra}", file=sys.stderr, flush=True)
    return run
