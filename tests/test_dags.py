"""DAG integrity: the four DAGs import cleanly, are configured as the spec says, and do no work
when parsed (the DAG processor parses every file every few seconds).

Airflow runs in a subprocess with a fresh temporary AIRFLOW_HOME (see tests/airflow_helpers.py).
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

import pytest

from airflow_helpers import AIRFLOW, DAG_IDS, ROOT, airflow_env, json_from_cli, run, run_python

pytestmark = pytest.mark.airflow

WRITERS = {"jianfu_ingest", "jianfu_build", "jianfu_alerts", "jianfu_collection"}

INSPECT = """
import json, sys, time
started = time.monotonic()
from airflow.dag_processing.dagbag import DagBag
import_airflow = time.monotonic() - started
started = time.monotonic()
bag = DagBag(dag_folder=DAGS)
parse = time.monotonic() - started
dags = {}
for dag_id, dag in bag.dags.items():
    tasks = {}
    for t in dag.tasks:
        tasks[t.task_id] = {
            "retries": t.retries,
            "retry_delay": t.retry_delay.total_seconds(),
            "on_failure_callback": [getattr(c, "__qualname__", repr(c)) for c in (
                t.on_failure_callback if isinstance(t.on_failure_callback, list)
                else [t.on_failure_callback] if t.on_failure_callback else [])],
            "outlets": [getattr(o, "uri", repr(o)) for o in t.outlets],
            "mapped": bool(getattr(t, "is_mapped", False)) or "Mapped" in type(t).__name__,
            "type": type(t).__name__,
            "trigger_rule": str(t.trigger_rule),
            "show_return_value_in_logs": getattr(t, "partial_kwargs", {}).get("show_return_value_in_logs")
                if "Mapped" in type(t).__name__ else getattr(t, "show_return_value_in_logs", None),
        }
    dags[dag_id] = {
        "tags": sorted(dag.tags),
        "doc_md": dag.doc_md or "",
        "description": dag.description or "",
        "max_active_runs": dag.max_active_runs,
        "catchup": dag.catchup,
        "timetable": type(dag.timetable).__name__,
        "timetable_summary": getattr(dag.timetable, "expression", None),
        "timezone": str(getattr(dag.timetable, "timezone", "")),
        "schedule_assets": sorted(o.uri for o in dag.timetable.asset_condition.objects)
                           if getattr(dag.timetable, "asset_condition", None) is not None else [],
        "tasks": tasks,
    }
jianfu_modules = sorted(m for m in sys.modules if m == "jianfu" or m.startswith("jianfu."))
heavy = sorted(m for m in ("pandas", "great_expectations", "duckdb", "pyarrow", "openpyxl") if m in sys.modules)
print("RESULT:" + json.dumps({
    "import_errors": {k: str(v) for k, v in bag.import_errors.items()},
    "dags": dags,
    "parse_seconds": parse,
    "file_seconds": {s.file: s.duration.total_seconds() if hasattr(s.duration, "total_seconds") else s.duration
                     for s in bag.dagbag_stats},
    "jianfu_modules": jianfu_modules,
    "heavy_modules": heavy,
}))
"""


@pytest.fixture(scope="module")
def parsed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Parse dags/ once with a fresh AIRFLOW_HOME and a JIANFU_HOME that does not exist."""
    tmp = tmp_path_factory.mktemp("dagbag")
    jianfu_home = tmp / "no-such-home"
    env = airflow_env(tmp / "airflow", JIANFU_HOME=str(jianfu_home))
    report = run_python(f"DAGS = {str(ROOT / 'dags')!r}\n" + INSPECT, env, timeout=300)
    report["jianfu_home_created"] = jianfu_home.exists()
    report["airflow_home"] = str(tmp / "airflow")
    return report


def test_no_import_errors_and_four_dags(parsed: dict) -> None:
    assert parsed["import_errors"] == {}
    assert sorted(parsed["dags"]) == sorted(DAG_IDS)


def test_tags_doc_and_catchup(parsed: dict) -> None:
    for dag_id, dag in parsed["dags"].items():
        assert "jianfu" in dag["tags"], dag_id
        assert len(dag["tags"]) >= 2, f"{dag_id}: a tag for the stage as well"
        assert dag["doc_md"].strip().startswith(f"### {dag_id}"), f"{dag_id}: doc_md=__doc__"
        assert dag["catchup"] is False, dag_id


def test_every_dag_has_a_description_in_both_languages(parsed: dict) -> None:
    for dag_id, dag in parsed["dags"].items():
        description = dag["description"]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in description), f"{dag_id}: Chinese description"
        assert any(ch.isascii() and ch.isalpha() for ch in description), f"{dag_id}: English description"


def test_task_logs_end_with_the_summary_not_the_xcom_dict(parsed: dict) -> None:
    for dag_id, dag in parsed["dags"].items():
        for task_id, task in dag["tasks"].items():
            assert task["show_return_value_in_logs"] is False, f"{dag_id}.{task_id}"


def test_writers_run_one_at_a_time(parsed: dict) -> None:
    for dag_id in WRITERS:
        assert parsed["dags"][dag_id]["max_active_runs"] == 1, dag_id


def test_every_task_retries_and_alerts_on_failure(parsed: dict) -> None:
    for dag_id, dag in parsed["dags"].items():
        for task_id, task in dag["tasks"].items():
            assert task["retries"] >= 1, f"{dag_id}.{task_id}"
            assert task["retry_delay"] >= 30, f"{dag_id}.{task_id}"
            assert any("notify_failure" in c for c in task["on_failure_callback"]), f"{dag_id}.{task_id}"


def _uris(uris: list[str]) -> list[str]:
    return [u.rstrip("/") for u in uris]  # Airflow normalises "jianfu://warehouse" to ".../"


def test_assets_chain_the_dags(parsed: dict) -> None:
    dags = parsed["dags"]
    accepted, warehouse = "jianfu://submissions/accepted", "jianfu://warehouse"
    ingest = dags["jianfu_ingest"]
    assert _uris(ingest["tasks"]["announce"]["outlets"]) == [accepted]
    assert ingest["tasks"]["announce"]["trigger_rule"].lower().endswith("all_done")
    assert ingest["tasks"]["ingest_batch"]["mapped"], "ingest is mapped over batches of counties"
    assert ingest["timetable_summary"] == "*/15 * * * *"
    assert _uris(dags["jianfu_build"]["schedule_assets"]) == [accepted]
    assert _uris(dags["jianfu_build"]["tasks"]["build_warehouse"]["outlets"]) == [warehouse]
    assert _uris(dags["jianfu_alerts"]["schedule_assets"]) == [warehouse]
    assert dags["jianfu_collection"]["timetable_summary"] == "0 8 * * *"


def test_no_work_at_parse_time(parsed: dict) -> None:
    # Nothing is created where jianfu keeps its data...
    assert not parsed["jianfu_home_created"]
    # ...no stage module (and none of the heavy libraries they use) is imported...
    assert set(parsed["jianfu_modules"]) <= {"jianfu", "jianfu.orchestration"}, parsed["jianfu_modules"]
    assert not {"great_expectations", "duckdb", "openpyxl"} & set(parsed["heavy_modules"])
    # ...and each file parses well within the DAG processor's budget.
    assert parsed["file_seconds"], "the DagBag reported no files"
    for path, seconds in parsed["file_seconds"].items():
        assert seconds < 3.0, f"{path} took {seconds:.2f}s to parse"


def test_airflow_dags_list_with_fresh_home(tmp_path: Path) -> None:
    """`airflow dags list` on a brand-new AIRFLOW_HOME: the four DAGs, no import errors."""
    env = airflow_env(tmp_path / "airflow", JIANFU_HOME=str(tmp_path / "data"))
    run([AIRFLOW, "db", "migrate"], env)
    listed = run([AIRFLOW, "dags", "list", "--local", "-o", "json"], env)
    assert sorted(d["dag_id"] for d in json_from_cli(listed.stdout)) == sorted(DAG_IDS)
    # With import errors Airflow says "Failed to load all files" on stderr.
    assert "Failed to load" not in listed.stderr, listed.stderr
    assert not (tmp_path / "data").exists(), "listing DAGs must not create JIANFU_HOME"


#: What an operator must fill in .env; the committed example leaves them empty.
SECRETS = {"POSTGRES_PASSWORD", "REDIS_PASSWORD", "AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET",
           "AIRFLOW_API_SECRET_KEY", "AIRFLOW_ADMIN_PASSWORD"}


def _env_file(tmp_path: Path, fill_secrets: bool) -> Path:
    """.env.example as committed, or with every empty value filled as an operator would."""
    lines = []
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if fill_secrets and line.split("=", 1)[0] in SECRETS and line.endswith("="):
            line += secrets.token_hex(16)
        lines.append(line)
    path = tmp_path / ("filled.env" if fill_secrets else "example.env")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    compose = str(ROOT / "docker-compose.yaml")
    filled = _env_file(tmp_path, fill_secrets=True)
    ok = run([binary, "-f", compose, "--env-file", str(filled), "config", "-q"], env, check=False)
    assert ok.returncode == 0, ok.stderr
    rendered = run([binary, "-f", compose, "--env-file", str(filled), "config", "--services"], env).stdout.split()
    assert set(rendered) >= {"postgres", "redis", "airflow-init", "airflow-apiserver", "airflow-scheduler",
                             "airflow-dag-processor", "airflow-triggerer", "airflow-worker"}
    # No password is baked in: the example as committed is refused, naming the missing secret.
    refused = run([binary, "-f", compose, "--env-file", str(_env_file(tmp_path, fill_secrets=False)),
                   "config", "-q"], env, check=False)
    assert refused.returncode != 0
    assert "set " in refused.stderr and "in .env" in refused.stderr, refused.stderr


HELPERS = """
import json
from pathlib import Path
from types import SimpleNamespace
from jianfu.ingest.discover import Discovered
from jianfu import orchestration as o

counties = frozenset({"421127", "140404"})
def d(kind, name, t):
    return Discovered(Path("/landing") / kind / name, kind, t)
named = [d("form_counts", "421127_2026-09.csv", 1), d("form_counts", "140404_2026-09.csv", 2),
         d("form_counts", "421127_2026-09_fixed.csv", 3), d("work_groups", "groups.csv", 4),
         d("work_groups", "421127_2026-09.csv", 5)]
groups = o.group_files(named, counties)
batches = o.pack_batches(groups, 8)
one = o.pack_batches(groups, 1)
conn = lambda **kw: SimpleNamespace(**{"conn_type": None, "host": None, "login": None, "password": None,
                                       "port": None, "schema": None, "extra_dejson": {}, **kw})
urls = {
    "pg": o.connection_url("jianfu_ledger", conn(conn_type="postgres", host="db", port=5432, login="u",
                                                  password="p@ss/word", schema="jianfu")),
    "sqlite": o.connection_url("jianfu_ledger", conn(conn_type="sqlite", host="/data/ledger.db")),
    "smtps": o.connection_url("jianfu_smtp", conn(conn_type="smtp", host="mail", port=465, login="a@b.cn",
                                                  password="x", extra_dejson={"ssl": True})),
    "hook": o.connection_url("jianfu_webhook", conn(conn_type="http",
                                                    host="https://oapi.dingtalk.com/robot/send?access_token=t")),
    "extra": o.connection_url("jianfu_ledger", conn(conn_type="generic", extra_dejson={"url": "sqlite:///x.db"})),
}
settings = o.task_settings({"JIANFU_HOME": "/srv/jianfu"})
print("RESULT:" + json.dumps({"groups": {g.key: [Path(p).name for p in g.paths] for g in groups},
                              "batches": [[Path(p).name for p in b] for b in batches],
                              "one": [[Path(p).name for p in b] for b in one],
                              "urls": urls, "home": str(settings.home)}))
"""


def test_airflow_shows_office_time_and_listens_on_loopback(tmp_path: Path) -> None:
    env = airflow_env(tmp_path / "airflow")

    timezone = run([AIRFLOW, "config", "get-value", "core", "default_timezone"], env).stdout.strip()
    host = run([AIRFLOW, "config", "get-value", "api", "host"], env).stdout.strip()

    assert timezone.splitlines()[-1] == "Asia/Shanghai"
    assert host.splitlines()[-1] == "127.0.0.1"


QUIET = """
import json, logging
from jianfu import orchestration
orchestration.task_settings()
import great_expectations  # noqa: F401
levels = {name: logging.getLogger(name).getEffectiveLevel() for name in ("great_expectations", "jianfu")}
text = orchestration.describe_ingest_run(orchestration.merge_ingest_results([
    {"accepted": 1, "already_seen": 2, "files": [
        {"file": "a.csv", "status": "accepted", "kind": "form_counts", "county_code": "421127", "period": "2026-09"},
        {"file": "b.csv", "status": "rejected", "kind": "form_counts", "county_code": "421127", "period": "2026-10",
         "reason": "unit_code 1 is not in reference", "report": "/r/b.csv"}]},
    None]))
print("RESULT:" + json.dumps({"levels": levels, "text": text}))
"""


def test_tasks_quiet_library_logs_and_summarise_like_the_cli(tmp_path: Path) -> None:
    out = run_python(QUIET, airflow_env(tmp_path / "airflow"))

    assert out["levels"]["great_expectations"] >= 30 and out["levels"]["jianfu"] < 30
    lines = out["text"].splitlines()
    assert lines[0].startswith("accepted") and "a.csv  [form_counts 421127 2026-09]" in lines[0]
    assert "reason: unit_code 1 is not in reference" in out["text"] and "report: /r/b.csv" in out["text"]
    assert lines[-1] == "decided 2 file(s): 1 accepted, 1 rejected; 2 already received before, skipped"


def test_orchestration_helpers(tmp_path: Path) -> None:
    """Batching keeps versions together; Connections become the URLs SPEC.md section 11 names."""
    env = airflow_env(tmp_path / "airflow")
    out = run_python(HELPERS, env)
    # A kind whose files all name their county is split by county, versions in receipt order;
    # a kind with one anonymous file stays whole.
    assert out["groups"] == {
        "form_counts/421127": ["421127_2026-09.csv", "421127_2026-09_fixed.csv"],
        "form_counts/140404": ["140404_2026-09.csv"],
        "work_groups": ["groups.csv", "421127_2026-09.csv"],
    }
    assert len(out["batches"]) == 3 and len(out["one"]) == 1
    assert sorted(sum(out["batches"], [])) == sorted(sum(out["groups"].values(), []))
    assert out["urls"] == {
        "pg": "postgresql+psycopg2://u:p%40ss%2Fword@db:5432/jianfu",
        "sqlite": "sqlite:////data/ledger.db",
        "smtps": "smtps://a%40b.cn:x@mail:465",
        "hook": "https://oapi.dingtalk.com/robot/send?access_token=t",
        "extra": "sqlite:///x.db",
    }
    # Outside a task there is no Airflow to ask: the environment alone decides.
    assert out["home"] == "/srv/jianfu"


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of TCP sockets listening on `port` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].rsplit(":", 1)
            if int(hex_port, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                found.add(address)
    return found


def _processes_of(airflow_home: Path) -> list[int]:
    """Processes running with this AIRFLOW_HOME in their environment."""
    marker = f"AIRFLOW_HOME={airflow_home}".encode()
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if marker in (proc / "environ").read_bytes().split(b"\0"):
                    pids.append(int(proc.name))
            except OSError:
                continue
    return pids


@pytest.mark.slow
def test_make_airflow_banner_loopback_and_one_ctrl_c(tmp_path: Path) -> None:
    import signal
    import subprocess
    import threading
    import time

    from airflow_helpers import free_port

    port = free_port()
    airflow_home = tmp_path / "airflow"
    env = airflow_env(airflow_home, AIRFLOW__API__PORT=str(port), JIANFU_HOME=str(tmp_path / "home"))
    for key in ("AIRFLOW__API__BASE_URL", "AIRFLOW__CORE__EXECUTION_API_SERVER_URL", "AIRFLOW__API__HOST"):
        env.pop(key, None)  # derived from the port by the script, as for `make airflow`
    # As from a terminal, SIGINT reaches the script with its default disposition: a non-interactive
    # bash cannot trap a signal that was ignored when it started, and code run earlier in this test
    # process may leave SIGINT ignored at the OS level (Python's own handler would not show it).
    script = subprocess.Popen(["bash", str(ROOT / "scripts" / "airflow_standalone.sh")], env=env, cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(script.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 300
        while not any("stop: Ctrl-C" in line for line in lines):
            assert script.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "no banner within 5 minutes:\n" + "".join(lines)
            time.sleep(1)
        banner = "".join(lines)
        listening = _listening_addresses(port)

        os.killpg(script.pid, signal.SIGINT)  # what one Ctrl-C in the terminal sends
        returncode = script.wait(timeout=90)
    finally:
        if script.poll() is None:
            os.killpg(script.pid, signal.SIGKILL)
        for pid in _processes_of(airflow_home):
            os.killpg(pid, signal.SIGKILL) if pid == os.getpgid(pid) else os.kill(pid, signal.SIGKILL)

    assert f"http://127.0.0.1:{port}/" in banner and "login: admin / " in banner
    assert "jianfu_ingest: paused" in banner and "unpause it in the UI" in banner  # fresh home: all paused
    assert listening == {"0100007F"}, listening  # 127.0.0.1 only
    assert returncode == 0
    time.sleep(1)
    assert _processes_of(airflow_home) == [], "components left running after one Ctrl-C"
