"""One benchmark phase in its own process: `python bench/worker.py PHASE ARGS.json RESULT.json`.

Why a process per phase: peak memory (ru_maxrss) is per process, so a phase measured in a fresh
interpreter reports its own peak and not the largest of everything run before it; and each phase
starts as cold in Python terms as the `jianfu` command would (imports, GX context), while the
page cache stays warm for every phase alike.

The phase is timed inside the process (`seconds`) from the import of the stage's module to its
return — what `jianfu ingest` costs minus interpreter start, since importing the stage (GX above
all) is part of every run; `import_seconds` says how much of it the imports were. The parent also
records the process's wall time. With `--profile FILE` the phase runs under cProfile and the stats go to FILE.
A stage that has not landed yet is reported as `unavailable`, not as a failure of the bench.
"""

from __future__ import annotations

import cProfile
import json
import os
import resource
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))


class Unavailable(Exception):
    """The stage this phase measures is not importable (yet)."""


def _import(module: str, name: str) -> Any:
    try:
        mod = __import__(module, fromlist=[name])
        return getattr(mod, name)
    except (ImportError, AttributeError) as exc:
        raise Unavailable(f"{module}.{name} is not available ({type(exc).__name__}: {exc})") from None


def _settings():
    from jianfu.config import Settings

    return Settings.from_env()


class _Imports:
    """Times the imports a phase needs, so that the report can say how much of a phase they are."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def get(self, module: str, name: str) -> Any:
        t0 = time.perf_counter()
        try:
            return _import(module, name)
        finally:
            self.seconds += time.perf_counter() - t0


def phase_sample(args: dict, imports: _Imports) -> dict:
    generate = imports.get("jianfu.sample", "generate")
    summary = generate(Path(args["out"]), seed=args["seed"], scale=args["scale"], now=_settings().now())
    return {"summary": summary.describe() if hasattr(summary, "describe") else str(summary)}


def phase_baseline(args: dict, imports: _Imports) -> dict:
    run = imports.get("baseline", "run")
    result = run([Path(p) for p in args["files"]], Path(args["out"]))
    return {"files": result.files, "rows": result.rows, "bytes_in": result.bytes_in,
            "gb18030_files": result.gb18030_files, "skipped": result.skipped,
            "per_file_seconds": result.per_file_seconds, "work_seconds": result.seconds}


def phase_ingest(args: dict, imports: _Imports) -> dict:
    ingest = imports.get("jianfu.ingest.pipeline", "ingest")
    paths = [Path(p) for p in args["paths"]] if args.get("paths") else None
    settings = _settings()
    summary = ingest(settings, paths, None, None, workers=settings.ingest_workers)  # as the CLI runs it
    if args.get("data_docs", True):  # the CLI's own step after ingest
        imports.get("jianfu.validate", "build_data_docs")(settings)
    statuses: dict[str, int] = {}
    rows = 0
    for outcome in summary.outcomes:
        statuses[outcome.status] = statuses.get(outcome.status, 0) + 1
        rows += outcome.rows or 0
    rejected = [f"{o.file_name}: {o.reason}" for o in summary.outcomes if o.status == "rejected"][:5]
    return {"files": len(summary.outcomes), "statuses": statuses, "rows": rows,
            "already_seen": summary.already_seen, "rejected_examples": rejected,
            "stage_elapsed": summary.elapsed}


def phase_build(args: dict, imports: _Imports) -> dict:
    build = imports.get("jianfu.warehouse.build", "build")
    steps: list[tuple[float, str]] = []
    started = time.perf_counter()

    def progress(message: str) -> None:
        steps.append((round(time.perf_counter() - started, 3), message))

    result = build(_settings(), full=args.get("full", False), progress=progress)
    return {"describe": result.describe() if hasattr(result, "describe") else str(result),
            "progress": steps, "changed_counties": list(getattr(result, "changed_counties", [])),
            "recomputed_counties": list(getattr(result, "recomputed_counties", [])),
            "stage_elapsed": getattr(result, "elapsed", None)}


def phase_queries(args: dict, imports: _Imports) -> dict:
    imports.get("jianfu.warehouse.views", "connect")
    imports.get("jianfu.warehouse.query", "run_query")
    run = imports.get("queries", "run")
    return run(_settings(), repeats=args["repeats"], county=args.get("county"))


def phase_imports(args: dict, imports: _Imports) -> dict:
    """Import every module a jianfu run needs: warms the bytecode cache, and times the imports."""
    timings = {}
    for module in args["modules"]:
        t0 = time.perf_counter()
        __import__(module)
        timings[module] = time.perf_counter() - t0
    imports.seconds = sum(timings.values())
    return {"modules": timings}


PHASES: dict[str, Callable[[dict, _Imports], dict]] = {
    "imports": phase_imports,
    "sample": phase_sample,
    "baseline": phase_baseline,
    "ingest": phase_ingest,
    "build": phase_build,
    "queries": phase_queries,
}


def _cpu() -> float:
    """User + system CPU seconds of this process, all threads, and of the worker processes it waited
    for: less moved by other processes on the cores than wall time, so a ratio of
    CPU times says something even on a busy machine."""
    return sum(u.ru_utime + u.ru_stime
               for u in (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)))


class _TreeMemory:
    """Samples the memory of this process and its descendants (ingest's worker processes) every
    INTERVAL seconds, from /proc: the peak sum of PSS (physical memory, a page shared by several
    processes counted once, split between them — what the machine must have) and of RSS (each
    process's resident pages in full, shared ones counted in every process: an upper bound).

    Reading smaps_rollup walks a process's page tables (about 10 ms for a 1 GB Python heap, with
    the process's memory map locked meanwhile), so sampling faster slows the phase it measures."""

    INTERVAL = 0.5

    def __init__(self) -> None:
        self.pss = self.rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @staticmethod
    def _tree(pid: int) -> list[int]:
        pids, pending = [], [pid]
        while pending:
            current = pending.pop()
            pids.append(current)
            try:
                for task in os.listdir(f"/proc/{current}/task"):
                    pending += [int(c) for c in Path(f"/proc/{current}/task/{task}/children").read_text().split()]
            except OSError:  # the process ended meanwhile
                continue
        return pids

    def _sample(self) -> None:
        pss = rss = 0
        for pid in self._tree(os.getpid()):
            try:
                for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1]) * 1024
                    elif line.startswith("Rss:"):
                        rss += int(line.split()[1]) * 1024
            except OSError:
                continue
        self.pss, self.rss = max(self.pss, pss), max(self.rss, rss)

    def _run(self) -> None:
        while not self._stop.wait(self.INTERVAL):
            self._sample()
        self._sample()


def _peak_memory(tree: _TreeMemory) -> dict[str, int]:
    """The phase's peak memory: the sampled peak of its process tree's PSS, or this process's own
    peak resident size when larger (a peak shorter than the sampling interval); and the sampled
    peak of the tree's summed RSS beside it."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"peak_rss_bytes": max(own, tree.pss), "peak_rss_sum_bytes": max(own, tree.rss)}


def main(argv: list[str]) -> int:
    profile_to = None
    if "--profile" in argv:
        i = argv.index("--profile")
        profile_to = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    phase, args_file, result_file = argv
    args = json.loads(Path(args_file).read_text())
    out: dict[str, Any] = {"phase": phase, "status": "ok"}
    tree = _TreeMemory()
    try:
        phase_fn = PHASES[phase]
        imports = _Imports()
        profiler = cProfile.Profile() if profile_to else None
        t0, cpu0 = time.perf_counter(), _cpu()
        if profiler:
            profiler.enable()
        with tree:
            out["result"] = phase_fn(args, imports)
        if profiler:
            profiler.disable()
        out["seconds"] = time.perf_counter() - t0
        out["cpu_seconds"] = _cpu() - cpu0
        out["import_seconds"] = imports.seconds
        if profiler:
            profiler.dump_stats(profile_to)
    except Unavailable as exc:
        out.update(status="unavailable", error=str(exc))
    except Exception as exc:
        out.update(status="failed", error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
    out.update(_peak_memory(tree))
    if "jianfu" in sys.modules:  # which copy of the code ran (see snapshot.py)
        out["jianfu_file"] = sys.modules["jianfu"].__file__
    Path(result_file).write_text(json.dumps(out, ensure_ascii=False, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
