"""`make bench`: a province month through jianfu against a plain pyarrow baseline, in one run.

Phases, each in its own process (worker.py) so that each has its own peak memory:
 1. sample      `jianfu sample --scale province` into bench/out/sample (reused while unchanged);
 2. baseline    pyarrow reads every CSV and writes Parquet, nothing else;
 3. ingest      `jianfu ingest` of the whole landing directory (CLI default: with GX Data Docs), three
                times in fresh homes (ingest, ingest_2, ingest_3; the median is judged, as for the baseline);
                each fresh home is set up first, untimed, by `jianfu init` (ledger; the suites' Data Docs);
 4. ingest_nodocs  the same into a second home with data_docs=False (BENCH_NODOCS=0 skips it);
 5. build       the first `jianfu build` of the province: every table, flags, burden, quota usage, three
                times (build, build_2, build_3: the same ledger, an empty warehouse; the median is judged);
 6. build_noop  `jianfu build` again with nothing changed;
 7. queries     five county-year analyst queries, p50/p95;
 8. resubmit_ingest / resubmit_build  one county resends its form counts with one value changed,
                five times in a row (_2 ... _5; the median build is judged);
 9. small_*     per-file overhead: the N smallest files of one kind, ingest of 1 and of N vs baseline.
Then bench/out/results.json and docs/BENCHMARKS.md are written (`--render` rewrites the document
from the last results.json without measuring again).

Environment knobs (all optional): BENCH_SEED (7), BENCH_SCALE (province), JIANFU_SAMPLE_PROVINCE
(14 山西省, the size the issue describes), BENCH_NOW (2026-11-21T12:00:00+00:00: the pinned clock),
BENCH_QUERY_REPEATS (20), BENCH_REPEATS (3: runs of each judged ingest/build phase; the national
month uses 1, since one run there takes minutes and its size already averages out short stalls), BENCH_NODOCS (1), BENCH_SMALL_KIND (inspections), BENCH_SMALL_FILES (12), BENCH_FRESH_SAMPLE (0),
BENCH_CODE (head: the committed code, copied at the start; worktree: the working tree as it is),
BENCH_OUT (bench/out), BENCH_DOC (docs/BENCHMARKS.md; empty: do not write it), BENCH_BEFORE (an
earlier run's results.json: its phases are shown beside this run's).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dataset  # noqa: E402
import machine  # noqa: E402
import report  # noqa: E402
import resubmit  # noqa: E402
import snapshot  # noqa: E402
from harness import PhaseRun, child_env, run_phase, skipped  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
#: 14 山西省: 121 counties, 23,368 units, 363 files a month — the province the issue describes
#: (~120 counties, ~23k units, ~360 files). It holds three of the pilot counties.
DEFAULT_PROVINCE = "14"
#: One-county resubmissions measured in a row at every scale; their median is judged. The first
#: is slower by design (see below), so with three the median would be the slower of the two
#: everyday ones: five give the everyday build its middle figure.
RESUBMISSIONS = 5
#: What a jianfu run imports, cheapest first, so that each line times only what it adds.
IMPORTS = ["pyarrow.csv", "pyarrow.parquet", "duckdb", "pandas", "sqlalchemy", "jianfu.validate",
           "jianfu.ingest.pipeline", "jianfu.warehouse.build", "jianfu.warehouse.query"]


@dataclass(frozen=True)
class Config:
    seed: int
    scale: str
    province: str
    now: str
    repeats: int
    phase_repeats: int
    nodocs: bool
    small_kind: str
    small_files: int
    fresh_sample: bool
    code: str
    out: Path
    doc: Path | None

    @classmethod
    def from_env(cls) -> Config:
        env = os.environ
        doc = env.get("BENCH_DOC", str(ROOT / "docs" / "BENCHMARKS.md"))
        return cls(
            seed=int(env.get("BENCH_SEED", "7")),
            scale=env.get("BENCH_SCALE", "province"),
            province=env.get("JIANFU_SAMPLE_PROVINCE") or DEFAULT_PROVINCE,
            now=env.get("BENCH_NOW", "2026-11-21T12:00:00+00:00"),
            repeats=int(env.get("BENCH_QUERY_REPEATS", "20")),
            phase_repeats=max(1, int(env.get("BENCH_REPEATS", "3"))),
            nodocs=env.get("BENCH_NODOCS", "1") != "0",
            small_kind=env.get("BENCH_SMALL_KIND", "inspections"),
            small_files=int(env.get("BENCH_SMALL_FILES", "12")),
            fresh_sample=env.get("BENCH_FRESH_SAMPLE", "0") == "1",
            code=env.get("BENCH_CODE", "head"),
            out=Path(env.get("BENCH_OUT", str(ROOT / "bench" / "out"))).absolute(),
            doc=Path(doc).absolute() if doc else None,
        )

    def later(self, hours: int) -> str:
        """The pinned clock moved on: a resubmission must be received after the original."""
        return (datetime.fromisoformat(self.now) + timedelta(hours=hours)).isoformat()


def _home_env(home: Path, reference: Path, now: str) -> dict[str, str]:
    return {"JIANFU_HOME": str(home), "JIANFU_REFERENCE": str(reference), "JIANFU_NOW": now,
            "JIANFU_WAREHOUSE": str(home / "warehouse"), "JIANFU_DB_URL": f"sqlite:///{home / 'ledger.db'}"}


def ledger_copy(home: Path, folder: Path, reference: Path, now: str) -> tuple[Path, dict[str, str]]:
    """A home holding a consistent copy of `home`'s ledger (SQLite's backup, WAL included) and no
    warehouse: the same first build again. The staged files are found through the ledger's
    absolute paths, in `home`."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    source, target = sqlite3.connect(home / "ledger.db"), sqlite3.connect(folder / "ledger.db")
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    return folder, _home_env(folder, reference, now)


def init_home(home: Path, env: dict[str, str], out: Path) -> None:
    """`jianfu init` in a fresh home, untimed, as an office sets up its home once: the ledger, and the
    validation history site with the expectation suites rendered (a monthly ingest then renders only
    its own results)."""
    command = [sys.executable, "-c", "import sys; from jianfu.cli import main; sys.exit(main(['init']))"]
    run = subprocess.run(command, env=child_env(out / "pycache", env), capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"jianfu init in {home} failed: {run.stderr.strip()[-2000:]}")


def sample_phase(cfg: Config, sample_dir: Path, code_env: dict[str, str]) -> PhaseRun:
    key = dataset.sample_key(cfg.seed, cfg.scale, cfg.province, cfg.now,
                             Path(code_env["PYTHONPATH"]) / "jianfu" / "sample")
    if not cfg.fresh_sample and dataset.cached(sample_dir, key):
        print(f"[bench] sample: reusing {sample_dir} (same seed, scale, clock and generator)", file=sys.stderr)
        previous = cfg.out / "runs" / "sample.json"
        run = PhaseRun("sample", "sample", "reused")
        if previous.exists():
            data = json.loads(previous.read_text())
            run.seconds, run.peak_rss_bytes = data.get("seconds"), data.get("peak_rss_bytes")
            run.result = data.get("result") or {}
        return run
    if sample_dir.exists():
        shutil.rmtree(sample_dir)
    env = {**code_env, "JIANFU_HOME": str(sample_dir), "JIANFU_NOW": cfg.now,
           "JIANFU_SAMPLE_PROVINCE": cfg.province}
    run = run_phase("sample", "sample", {"out": str(sample_dir), "seed": cfg.seed, "scale": cfg.scale},
                    out=cfg.out, env=env)
    if run.ok:
        dataset.mark(sample_dir, key)
    return run


def _before(cfg: Config) -> dict | None:
    """An earlier run's results to compare with (BENCH_BEFORE: a results.json), if given."""
    path = os.environ.get("BENCH_BEFORE")
    return json.loads(Path(path).read_text()) if path else None


def render_only(cfg: Config) -> int:
    """`bench/run.py --render`: docs/BENCHMARKS.md again from the last run's results.json."""
    results = json.loads((cfg.out / "results.json").read_text())
    if cfg.doc:
        cfg.doc.write_text(report.render(results, _before(cfg)))
    print(report.summary(results))
    return 0


def main(argv: list[str]) -> int:
    cfg = Config.from_env()
    if "--render" in argv:
        return render_only(cfg)
    started = time.perf_counter()
    cfg.out.mkdir(parents=True, exist_ok=True)
    sample_dir, reference = cfg.out / "sample", cfg.out / "sample" / "reference"
    code = snapshot.take(ROOT, cfg.out / "src", cfg.code)
    code_env = {"PYTHONPATH": code["path"]}
    print(f"[bench] measuring {cfg.code} code of commit {code['commit'][:12]} (copied to {code['path']})",
          file=sys.stderr)
    runs: dict[str, PhaseRun] = {"sample": sample_phase(cfg, sample_dir, code_env)}
    # Warm the bytecode cache (see harness.child_env), then time imports warm and as this machine
    # would without a cache: importing GX is a fixed cost of every `jianfu ingest`.
    imports = {"modules": IMPORTS}
    runs["imports_warmup"] = run_phase("imports_warmup", "imports", imports, out=cfg.out, env=code_env)
    runs["imports"] = run_phase("imports", "imports", imports, out=cfg.out, env=code_env)
    runs["imports_nocache"] = run_phase("imports_nocache", "imports", imports, out=cfg.out, env=code_env,
                                        bytecode_cache=False)
    files = dataset.landing_files(sample_dir)
    info = dataset.describe(sample_dir, files) if files else {"files": 0}
    results: dict = {"machine": machine.describe(), "code": code, "config": {**cfg.__dict__, "out": str(cfg.out),
                                                               "doc": str(cfg.doc) if cfg.doc else None},
                     "dataset": info, "runs": runs, "resubmission": None, "small": None}

    def run(label: str, phase: str, args: dict, env: dict[str, str], needs: tuple[str, ...] = ()) -> PhaseRun:
        missing = [n for n in needs if not runs.get(n) or not runs[n].ok]
        if missing:
            runs[label] = skipped(label, phase, f"needs {', '.join(missing)}")
            print(f"[bench] {label}: skipped ({runs[label].error})", file=sys.stderr)
        else:
            runs[label] = run_phase(label, phase, args, out=cfg.out, env={**code_env, **env})
        return runs[label]

    if not files:
        print("[bench] no sample data: every measured phase is skipped", file=sys.stderr)
    else:
        # The baseline is short, so one slow moment on a shared machine moves it a lot: it runs three
        # times, spread between the ingests, and the report uses the median.
        base_args = {"files": [str(p) for p in files], "out": str(cfg.out / "baseline")}
        run("baseline", "baseline", base_args, {})

        def fresh(name: str) -> tuple[Path, dict[str, str]]:
            folder = dataset.fresh_home(cfg.out / name, sample_dir)
            folder_env = _home_env(folder, reference, cfg.now)
            init_home(folder, {**code_env, **folder_env}, cfg.out)
            return folder, folder_env

        home, env = fresh("home")
        run("ingest", "ingest", {"data_docs": True}, env)
        if cfg.nodocs:
            other, other_env = fresh("home-nodocs")
            run("ingest_nodocs", "ingest", {"data_docs": False}, other_env)
            shutil.rmtree(other, ignore_errors=True)
        extra = range(2, cfg.phase_repeats + 1)
        for repeat in extra:  # the median of the ingests is judged, as for the baseline
            other, other_env = fresh(f"home-{repeat}")
            run(f"ingest_{repeat}", "ingest", {"data_docs": True}, other_env)
            shutil.rmtree(other, ignore_errors=True)
        if cfg.phase_repeats > 1:
            run("baseline_2", "baseline", base_args, {})
        run("build", "build", {"full": False}, env, needs=("ingest",))
        for repeat in extra:  # the median of the first builds is judged (the resubmission's share)
            other, other_env = ledger_copy(home, cfg.out / f"home-build-{repeat}", reference, cfg.now)
            run(f"build_{repeat}", "build", {"full": False}, other_env, needs=("ingest",))
            shutil.rmtree(other, ignore_errors=True)
        run("build_noop", "build", {"full": False}, env, needs=("build",))
        run("queries", "queries", {"repeats": cfg.repeats}, env, needs=("build",))
        if cfg.phase_repeats > 1:
            run("baseline_3", "baseline", base_args, {})

        # The largest county resends its form counts RESUBMISSIONS times, one value changed each time;
        # the median of those builds is judged, at every scale (BENCH_REPEATS=1 included): the first
        # publish after a fresh build makes each changed table's snapshot anew, a mkdir per partition
        # directory, while an office's everyday build reuses the snapshot before last.
        source = resubmit.largest_csv(home / "landing" / "form_counts")
        resubmissions = max(cfg.phase_repeats, RESUBMISSIONS)
        for repeat in range(1, resubmissions + 1):
            suffix = "" if repeat == 1 else f"_{repeat}"
            if runs["build"].ok:
                resub = resubmit.changed_copy(source, suffix="resubmitted" if repeat == 1 else "again")
                source = resub.path
                if repeat == 1:
                    results["resubmission"] = {"original": resub.original.name, "file": resub.path.name,
                                               "line": resub.row, "old": resub.old_value, "new": resub.new_value,
                                               "repeats": resubmissions}
            later = _home_env(home, reference, cfg.later(repeat))
            run(f"resubmit_ingest{suffix}", "ingest", {"data_docs": True}, later, needs=("build",))
            run(f"resubmit_build{suffix}", "build", {"full": False}, later, needs=(f"resubmit_ingest{suffix}",))

        small = dataset.smallest(files, sample_dir, cfg.small_kind, cfg.small_files) if cfg.small_files else []
        if small:
            results["small"] = {"kind": cfg.small_kind, "files": [p.name for p in small],
                                "bytes": sum(p.stat().st_size for p in small)}
            run("small_baseline", "baseline", {"files": [str(p) for p in small],
                                               "out": str(cfg.out / "baseline-small")}, {})
            one = dataset.subset_home(cfg.out / "home-small-1", sample_dir, small[:1])
            one_env = _home_env(one, reference, cfg.now)
            init_home(one, {**code_env, **one_env}, cfg.out)
            run("small_ingest_1", "ingest", {"data_docs": False}, one_env)
            many = dataset.subset_home(cfg.out / "home-small-n", sample_dir, small)
            many_env = _home_env(many, reference, cfg.now)
            init_home(many, {**code_env, **many_env}, cfg.out)
            run("small_ingest_n", "ingest", {"data_docs": False}, many_env)
            for folder in (one, many):
                shutil.rmtree(folder, ignore_errors=True)

    results["total_seconds"] = time.perf_counter() - started
    results["machine"]["load_at_end"] = machine.load_average()
    results["runs"] = {k: v.to_json() for k, v in runs.items()}
    (cfg.out / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str))
    text = report.render(results, _before(cfg))
    if cfg.doc:
        cfg.doc.parent.mkdir(parents=True, exist_ok=True)
        cfg.doc.write_text(text)
        print(f"[bench] wrote {cfg.doc}", file=sys.stderr)
    print(report.summary(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
