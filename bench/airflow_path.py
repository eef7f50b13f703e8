"""`make bench-airflow`: one month through the CLI and through Airflow, wall time side by side.

What the DAGs add (issue 21): an office that runs jianfu in Airflow pays for the scheduler,
the mapped `ingest_batch` tasks, the Asset hop to `jianfu_build` and each task's own process, on
top of the work `jianfu ingest` + `jianfu build` do. This measures both on the same landing files:

 1. cli      a fresh JIANFU_HOME with a copy of the landing directory (`cp -a` keeps the mtimes, so
             every file is settled), `jianfu init` (untimed, as an office sets up once), then
             `jianfu ingest --settle 0` and `jianfu build`, each its own process: wall time and the
             peak RSS of that process (os.wait4's rusage);
 2. airflow  another fresh JIANFU_HOME with the same copy and `jianfu init`, and a fresh AIRFLOW_HOME;
             Airflow is started as `make demo` starts it (scripts/airflow_env.sh and the functions
             of scripts/airflow_components.sh: SQLite, LocalExecutor, api-server, scheduler,
             dag-processor), and `jianfu.demo.run_chain` unpauses jianfu_build then jianfu_ingest
             only (jianfu_alerts, jianfu_collection and jianfu_report stay paused) and waits until
             the jianfu_build run the ingest's Asset causes has finished. The figures come from
             Airflow's own metadata: each run's queued/start/end, the mapped ingest_batch task
             instances; the peak RSS of every process of the components' sessions is read from
             /proc/<pid>/status VmHWM once a second while they run, and a task's is the largest of
             its `airflow worker -- <task instance id>` processes (supervisor and task).
Then bench/out/airflow_path.json and a Markdown table on stdout.

The tasks read their settings from the environment of the components (jianfu.orchestration
task_settings): JIANFU_HOME, JIANFU_REFERENCE and JIANFU_NOW are set there as the bench sets them for
the CLI. The DAGs' landing scan uses the rules' landing_settle_seconds; the copied files keep their
old mtimes, so the scan takes every one of them, as `--settle 0` does. Tasks do not retry here
(JIANFU_TASK_RETRIES=0): a retry would hide a failure inside a longer time.

Usage: bench/airflow_path.py [SAMPLE_DIR] (default bench/out/national/sample, made by
`make bench-national`; any directory with landing/ and reference/, e.g. `jianfu sample --scale pilot`).
Environment: BENCH_NOW (2026-11-21T12:00:00+00:00), BENCH_AIRFLOW_TIMEOUT (seconds, 1800),
BENCH_AIRFLOW_OUT (bench/out/airflow_path: the homes; removed before each run).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import machine  # noqa: E402
from harness import child_env, settle_disk  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CHAIN = ("jianfu_ingest", "jianfu_build")
GIB = 1024 ** 3


# --------------------------------------------------------------------------------- the homes
def jianfu_env(home: Path, reference: Path, now: str) -> dict[str, str]:
    """The settings of one home, for the CLI and for Airflow's components alike."""
    return {"JIANFU_HOME": str(home), "JIANFU_REFERENCE": str(reference), "JIANFU_NOW": now,
            "JIANFU_WAREHOUSE": str(home / "warehouse"), "JIANFU_DB_URL": f"sqlite:///{home / 'ledger.db'}"}


def fresh_home(home: Path, landing: Path, env: dict[str, str]) -> dict:
    """A home as an office has it before a month arrives: set up, and the landing files on disk.
    Returns what `jianfu init` took, kept apart: an office sets its home up once, not monthly."""
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    subprocess.run(["cp", "-a", str(landing), str(home / "landing")], check=True)
    init = timed([str(BIN / "jianfu"), "init"], env, home.parent / f"{home.name}-init.log")
    settle_disk()  # the copy's writeback must not land inside a timed phase
    return init


def timed(command: list[str], env: dict[str, str], log: Path) -> dict:
    """Run one command to its end: wall seconds and the peak RSS of its process tree's largest."""
    with log.open("w") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {proc.returncode}; see {log}")
    return {"seconds": round(wall, 2), "peak_rss_bytes": usage.ru_maxrss * 1024}


def ledger_statuses(home: Path) -> dict[str, int]:
    """Submissions by status: the two paths must have decided the same files the same way."""
    con = sqlite3.connect(home / "ledger.db")
    try:
        return dict(con.execute("select status, count(*) from submissions group by status order by status"))
    finally:
        con.close()


# ----------------------------------------------------------------------------------- the CLI
def run_cli(landing: Path, reference: Path, now: str, work: Path, pycache: Path) -> dict:
    home = work / "cli-home"
    env = child_env(pycache, jianfu_env(home, reference, now))
    init = fresh_home(home, landing, env)
    print("[airflow-path] cli: jianfu ingest", file=sys.stderr, flush=True)
    ingest = timed([str(BIN / "jianfu"), "ingest", "--settle", "0"], env, work / "cli-ingest.log")
    settle_disk()
    print("[airflow-path] cli: jianfu build", file=sys.stderr, flush=True)
    build = timed([str(BIN / "jianfu"), "build"], env, work / "cli-build.log")
    return {"init": init, "ingest": ingest, "build": build, "total_seconds": round(ingest["seconds"] + build["seconds"], 2),
            "statuses": ledger_statuses(home)}


# ------------------------------------------------------------------------------- Airflow path
#: Started as scripts/demo.sh starts Airflow, with its scripts' functions; only the chain differs.
#: The api-server gets a free port of its own, so a `make airflow` on 8080 is not disturbed.
AIRFLOW_SCRIPT = r"""
set -euo pipefail
source scripts/airflow_env.sh
source scripts/airflow_components.sh
cd "$JIANFU_ROOT"
PORT="$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export AIRFLOW__API__PORT="$PORT" AIRFLOW__API__BASE_URL="http://127.0.0.1:$PORT"
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="http://127.0.0.1:$PORT/execution/"
LOGS="$AIRFLOW_HOME/logs/bench"
mkdir -p "$LOGS"
airflow db migrate > "$LOGS/db-migrate.log" 2>&1 || { tail -20 "$LOGS/db-migrate.log" >&2; exit 1; }
python -m jianfu.demo pause > "$LOGS/pause.log"
trap stop_components EXIT
start_component "$LOGS/api-server.log" api-server --port "$PORT"
start_component "$LOGS/scheduler.log" scheduler
start_component "$LOGS/dag-processor.log" dag-processor
for _ in $(seq 1 180); do api_up && break; sleep 1; done
api_up || { echo "the api-server did not answer; see $LOGS" >&2; exit 1; }
python bench/airflow_path.py --chain "$1" "$2" "${AIRFLOW_PIDS[*]}"
"""


class PeakSampler(threading.Thread):
    """Peak RSS (VmHWM) of every process in the given sessions, read once a second.

    Each component runs in a session of its own (setsid in airflow_components.sh) and the task
    processes the LocalExecutor forks stay in the scheduler's. VmHWM is the process's own high-water
    mark, so a sample misses only what a process grows in its last second."""

    def __init__(self, sessions: dict[int, str]) -> None:
        super().__init__(daemon=True)
        self.sessions = sessions
        self.peaks: dict[int, tuple[str, str, int]] = {}  # pid -> (component, command line, bytes)
        self.stopped = threading.Event()

    def sample(self) -> None:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                sid = int(stat.rsplit(")", 1)[1].split()[3])
                if sid not in self.sessions:
                    continue
                hwm = next((int(line.split()[1]) * 1024 for line in (entry / "status").read_text().splitlines()
                            if line.startswith("VmHWM:")), 0)
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            except (OSError, ValueError, IndexError):
                continue
            pid = int(entry.name)
            if hwm >= self.peaks.get(pid, ("", "", 0))[2]:
                self.peaks[pid] = (self.sessions[sid], cmd[:160], hwm)

    def run(self) -> None:
        while not self.stopped.wait(1.0):
            self.sample()

    def summary(self) -> dict:
        """The largest process of each component, and every process sampled, largest first."""
        by_component: dict[str, int] = {}
        for component, _, hwm in self.peaks.values():
            by_component[component] = max(by_component.get(component, 0), hwm)
        processes = sorted(({"pid": pid, "component": c, "command": cmd, "peak_rss_bytes": hwm}
                            for pid, (c, cmd, hwm) in self.peaks.items()), key=lambda p: -p["peak_rss_bytes"])
        return {"peak_rss_bytes_by_component": by_component, "processes": processes}


def chain(timeout: float, result_file: Path, pids: list[int]) -> int:
    """Inside the started Airflow: run jianfu_ingest -> jianfu_build and read what happened."""
    from jianfu.demo import run_chain

    names = ("api-server", "scheduler", "dag-processor")
    sampler = PeakSampler({pid: names[i] if i < len(names) else str(pid) for i, pid in enumerate(pids)})
    sampler.start()
    said: list[tuple[float, str]] = []
    called = time.time()
    try:
        states = run_chain(timeout=timeout, poll=1.0, dag_ids=CHAIN,
                           say=lambda m: (said.append((time.time(), m)), print(m, flush=True)))
    finally:
        sampler.stopped.set()
        sampler.join()
        sampler.sample()
    figures = {"states": states, "chain_call_seconds": round(time.time() - called, 2),
               "said": [[round(t - called, 1), m] for t, m in said], **sampler.summary()}
    figures.update(collect(figures["processes"]))
    result_file.write_text(json.dumps(figures, indent=1, ensure_ascii=False))
    return 0


def collect(processes: list[dict]) -> dict:
    """The chain's figures from Airflow's metadata: the first run of each DAG in this fresh
    AIRFLOW_HOME is the one run_chain waited for (a national ingest outlasts the 15-minute tick,
    so the scheduler queues a second, empty run after it), and the peak RSS of each task, from
    the `airflow worker -- <task instance id>` processes the LocalExecutor runs it in."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    def iso(value) -> str | None:
        return value.isoformat() if value else None

    peaks: dict[str, int] = {}
    for proc in processes:
        _, _, ti_id = proc["command"].partition("airflow worker -- ")
        if ti_id:
            peaks[ti_id.strip()] = max(peaks.get(ti_id.strip(), 0), proc["peak_rss_bytes"])
    runs: dict[str, dict] = {}
    raw: dict[str, DagRun] = {}
    with create_session() as session:
        for dag_id in CHAIN:
            run = session.query(DagRun).filter(DagRun.dag_id == dag_id).order_by(DagRun.queued_at).first()
            raw[dag_id] = run
            tis = session.query(TaskInstance).filter(TaskInstance.dag_id == dag_id,
                                                     TaskInstance.run_id == run.run_id).all()
            tasks: dict[str, dict] = {}
            for ti in tis:
                t = tasks.setdefault(ti.task_id, {"instances": 0, "states": {}, "seconds_sum": 0.0,
                                                  "first_start": None, "last_end": None, "peak_rss_bytes": None})
                t["instances"] += 1
                t["states"][str(ti.state)] = t["states"].get(str(ti.state), 0) + 1
                t["seconds_sum"] = round(t["seconds_sum"] + (ti.duration or 0.0), 2)
                if ti.start_date and (t["first_start"] is None or iso(ti.start_date) < t["first_start"]):
                    t["first_start"] = iso(ti.start_date)
                if ti.end_date and (t["last_end"] is None or iso(ti.end_date) > t["last_end"]):
                    t["last_end"] = iso(ti.end_date)
                if str(ti.id) in peaks:
                    t["peak_rss_bytes"] = max(t["peak_rss_bytes"] or 0, peaks[str(ti.id)])
            runs[dag_id] = {"run_id": run.run_id, "state": str(run.state), "run_type": str(run.run_type),
                            "queued_at": iso(run.queued_at), "start_date": iso(run.start_date),
                            "end_date": iso(run.end_date),
                            "seconds": round((run.end_date - run.start_date).total_seconds(), 2),
                            "tasks": tasks}
    ingest, build = raw["jianfu_ingest"], raw["jianfu_build"]
    announce_end = datetime.fromisoformat(runs["jianfu_ingest"]["tasks"]["announce"]["last_end"])

    def peak(dag_id: str) -> int | None:
        found = [t["peak_rss_bytes"] for t in runs[dag_id]["tasks"].values() if t["peak_rss_bytes"]]
        return max(found) if found else None

    return {
        "runs": runs,
        # The ingest run's creation (the scheduler's run on unpause, or the one run_chain triggers)
        # to the end of the build run its Asset caused.
        "total_seconds": round((build.end_date - ingest.queued_at).total_seconds(), 2),
        # The build starts once `announce` has updated the Asset, while the ingest run still renders
        # its Data Docs: the month is done when the later of the two runs ends.
        "total_both_runs_seconds": round((max(build.end_date, ingest.end_date) - ingest.queued_at).total_seconds(), 2),
        "asset_hop_seconds": round((build.queued_at - announce_end).total_seconds(), 2),
        "mapped_ingest_batches": runs["jianfu_ingest"]["tasks"].get("ingest_batch", {}).get("instances", 0),
        "peak_rss_bytes_ingest_task": peak("jianfu_ingest"),
        "peak_rss_bytes_build_task": peak("jianfu_build"),
    }


def run_airflow(landing: Path, reference: Path, now: str, work: Path, pycache: Path, timeout: float) -> dict:
    home, airflow_home = work / "airflow-jianfu-home", work / "airflow-home"
    jenv = jianfu_env(home, reference, now)
    fresh_home(home, landing, child_env(pycache, jenv))
    if airflow_home.exists():
        shutil.rmtree(airflow_home)
    airflow_home.mkdir(parents=True)
    env = child_env(pycache, {**jenv, "AIRFLOW_HOME": str(airflow_home), "JIANFU_TASK_RETRIES": "0",
                              "PATH": f"{BIN}:{os.environ.get('PATH', '')}"})
    # Values a caller's shell may carry for another Airflow must not leak into this fresh one.
    for key in [k for k in env if k.startswith("AIRFLOW__")]:
        env.pop(key)
    result_file = work / "airflow-chain.json"
    result_file.unlink(missing_ok=True)
    print("[airflow-path] airflow: starting the components, then jianfu_ingest -> jianfu_build",
          file=sys.stderr, flush=True)
    started = time.perf_counter()
    proc = subprocess.run(["bash", "-c", AIRFLOW_SCRIPT, "airflow-path", str(timeout), str(result_file)],
                          cwd=ROOT, env=env, check=False)
    wall = time.perf_counter() - started
    if proc.returncode != 0 or not result_file.exists():
        raise RuntimeError(f"the Airflow path failed (exit {proc.returncode}); logs: {airflow_home / 'logs'}")
    figures = json.loads(result_file.read_text())
    figures["session_seconds"] = round(wall, 2)  # migrate, start, parse, chain, stop
    figures["statuses"] = ledger_statuses(home)
    return figures


# ------------------------------------------------------------------------------------ report
def table(result: dict) -> str:
    cli, af = result["cli"], result["airflow"]
    runs = af["runs"]

    def gib(n: int | None) -> str:
        return f"{n / GIB:.2f} GiB" if n else "n/a"

    rows = [
        ("CLI `jianfu ingest --settle 0`", cli["ingest"]["seconds"], gib(cli["ingest"]["peak_rss_bytes"])),
        ("CLI `jianfu build`", cli["build"]["seconds"], gib(cli["build"]["peak_rss_bytes"])),
        ("CLI total", cli["total_seconds"], ""),
        (f"Airflow `jianfu_ingest` run ({af['mapped_ingest_batches']} mapped `ingest_batch`)",
         runs["jianfu_ingest"]["seconds"], f"{gib(af['peak_rss_bytes_ingest_task'])} (largest task)"),
        ("Airflow `jianfu_build` run", runs["jianfu_build"]["seconds"], gib(af["peak_rss_bytes_build_task"])),
        ("Airflow total (ingest run queued -> build run end)", af["total_seconds"], ""),
        ("Airflow, both runs ended (ingest's Data Docs overlap the build)", af["total_both_runs_seconds"], ""),
    ]
    lines = ["| path | seconds | peak RSS |", "|---|---:|---|"]
    lines += [f"| {name} | {sec:.1f} | {rss} |" for name, sec, rss in rows]
    lines.append(f"| ratio Airflow total / CLI total | {af['total_seconds'] / cli['total_seconds']:.2f}x | |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--chain"]:
        return chain(float(argv[1]), Path(argv[2]), [int(p) for p in argv[3].split()])
    sample = Path(argv[0] if argv else ROOT / "bench" / "out" / "national" / "sample").absolute()
    landing, reference = sample / "landing", sample / "reference"
    if not landing.is_dir() or not reference.is_dir():
        print(f"error: {sample} has no landing/ and reference/ (make bench-national, or jianfu sample)",
              file=sys.stderr)
        return 2
    now = os.environ.get("BENCH_NOW", "2026-11-21T12:00:00+00:00")
    timeout = float(os.environ.get("BENCH_AIRFLOW_TIMEOUT", "1800"))
    work = Path(os.environ.get("BENCH_AIRFLOW_OUT", ROOT / "bench" / "out" / "airflow_path")).absolute()
    work.mkdir(parents=True, exist_ok=True)
    pycache = ROOT / "bench" / "out" / "pycache"
    result: dict = {"sample": str(sample), "date": datetime.now(UTC).isoformat(timespec="seconds"),
                    "command": "make bench-airflow" + (f" SAMPLE={argv[0]}" if argv else ""),
                    "machine": machine.describe(), "load_before": machine.load_average()}
    result["cli"] = run_cli(landing, reference, now, work, pycache)
    shutil.rmtree(work / "cli-home")  # a national home is GBs; the second copy needs the room
    result["load_between"] = machine.load_average()
    result["airflow"] = run_airflow(landing, reference, now, work, pycache, timeout)
    result["load_after"] = machine.load_average()
    result["same_decisions"] = result["cli"]["statuses"] == result["airflow"]["statuses"]
    out = ROOT / "bench" / "out" / "airflow_path.json"
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    print(table(result))
    print(f"\nsubmissions by status: CLI {result['cli']['statuses']}, Airflow {result['airflow']['statuses']}"
          f"{'' if result['same_decisions'] else '  (DIFFERENT)'}")
    print(f"load average before/between/after: {result['load_before']} / {result['load_between']} / "
          f"{result['load_after']}; figures in {out}")
    return 0 if result["same_decisions"] else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
