"""cProfile of ingest and build on the bench's province sample: `.venv/bin/python bench/profiling.py`.

Run `make bench` (or bench/run.py) first so that bench/out/sample exists. The profiled phases run
in their own home (bench/out/profile/home) exactly as in the bench — same worker, same arguments —
but under cProfile, whose overhead inflates the times: use the figures here for shares, the ones in
docs/BENCHMARKS.md for speed. For each phase it writes `<label>.prof` (open with snakeviz or
pstats) and `<label>.txt`: the top functions by cumulative and by own time.

Options: `--phases ingest,build,resubmit` (default all three), `--top N` (40). BENCH_CODE chooses
the code as in the bench (head, or worktree to profile uncommitted changes).
"""

from __future__ import annotations

import argparse
import io
import pstats
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dataset  # noqa: E402
import resubmit  # noqa: E402
import snapshot  # noqa: E402
from harness import run_phase  # noqa: E402
from run import ROOT, Config, _home_env  # noqa: E402


def write_text(prof: Path, top: int) -> Path:
    """Top functions by cumulative and by own (tottime) time, as plain text."""
    buffer = io.StringIO()
    stats = pstats.Stats(str(prof), stream=buffer).strip_dirs()
    total = stats.total_tt  # type: ignore[attr-defined]
    buffer.write(f"total {total:.2f} s (profiled)\n\n== by cumulative time ==\n")
    stats.sort_stats("cumulative").print_stats(top)
    buffer.write("\n== by own time ==\n")
    stats.sort_stats("tottime").print_stats(top)
    text = prof.with_suffix(".txt")
    text.write_text(buffer.getvalue())
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phases", default="ingest,build,resubmit")
    parser.add_argument("--top", type=int, default=40)
    opts = parser.parse_args(argv)
    phases = set(opts.phases.split(","))
    cfg = Config.from_env()
    sample_dir = cfg.out / "sample"
    if not dataset.landing_files(sample_dir):
        print(f"no sample in {sample_dir}: run `make bench` first", file=sys.stderr)
        return 1
    folder = cfg.out / "profile"
    folder.mkdir(parents=True, exist_ok=True)
    code = snapshot.take(ROOT, folder / "src", cfg.code)
    code_env = {"PYTHONPATH": code["path"]}
    home = dataset.fresh_home(folder / "home", sample_dir)
    env = {**code_env, **_home_env(home, sample_dir / "reference", cfg.now)}
    done = []

    def profiled(label: str, phase: str, args: dict, env: dict[str, str]) -> None:
        prof = folder / f"{label}.prof"
        run = run_phase(label, phase, args, out=folder, env=env, profile=prof, pycache=cfg.out / "pycache")
        if run.ok:
            done.append(write_text(prof, opts.top))

    profiled("ingest", "ingest", {"data_docs": True}, env)
    if phases & {"build", "resubmit"}:
        profiled("build", "build", {"full": False}, env)
    if "resubmit" in phases:
        resubmit.changed_copy(resubmit.largest_csv(home / "landing" / "form_counts"))
        later = {**code_env, **_home_env(home, sample_dir / "reference", cfg.later(1))}
        profiled("resubmit_ingest", "ingest", {"data_docs": True}, later)
        profiled("resubmit_build", "build", {"full": False}, later)
    for path in done:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
