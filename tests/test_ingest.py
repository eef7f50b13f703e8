"""`jianfu ingest` end to end on real files: nothing lost, nothing done twice, versions kept right."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from builders import COUNTY, FORM_HEADER, OTHER_COUNTY, form_rows, write_csv, write_reference
from conftest import NOW
from jianfu import ledger
from jianfu.config import Settings
from jianfu.ingest.pipeline import BATCHES_PER_PROCESS, ingest

T = 1_794_268_800  # 2026-11-10 UTC, a fixed mtime base: receipt order is by mtime, then path


@pytest.fixture
def home(settings: Settings) -> Settings:
    write_reference(settings.reference)
    return settings


def landing(settings: Settings, name: str) -> Path:
    return settings.landing / "form_counts" / name


def statuses(settings: Settings) -> dict[str, str]:
    engine = ledger.connect(settings.db_url)
    with engine.connect() as conn:
        rows = ledger.all_submissions(conn)
    engine.dispose()
    return {r["file_name"]: r["status"] for r in rows}


def count_rows(settings: Settings) -> int:
    engine = ledger.connect(settings.db_url)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(ledger.submissions)).scalar_one()
    engine.dispose()
    return n


def test_a_good_file_is_accepted_archived_and_staged(home):
    path = write_csv(landing(home, "421127_2026-09.csv"), FORM_HEADER, form_rows(), mtime=T)

    summary = ingest(home)

    assert [o.status for o in summary.outcomes] == ["accepted"]
    outcome = summary.outcomes[0]
    assert (outcome.county_code, outcome.period, outcome.rows, outcome.version) == (COUNTY, "2026-09", 4, 1)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert (home.raw_archive / sha[:2] / f"{sha}.csv").read_bytes() == path.read_bytes()
    staged = pq.read_table(home.staging / "form_counts" / f"{outcome.submission_id}.parquet")
    assert staged.num_rows == 4 and staged.column("fill_count").to_pylist() == [1, 1, 1, 1]


def test_running_twice_records_nothing_new(home):
    write_csv(landing(home, "421127_2026-09.csv"), FORM_HEADER, form_rows(), mtime=T)
    write_csv(landing(home, "140404_2026-09.csv"), FORM_HEADER, form_rows(county=OTHER_COUNTY), mtime=T + 1)
    ingest(home)
    before = count_rows(home)

    again = ingest(home)

    assert again.outcomes == [] and again.already_seen == 2
    assert count_rows(home) == before == 2


def test_a_resubmission_supersedes_the_version_in_force(home):
    write_csv(landing(home, "421127_2026-09.csv"), FORM_HEADER, form_rows(fill=1), mtime=T)
    ingest(home)
    write_csv(landing(home, "421127_2026-09_corrected.csv"), FORM_HEADER, form_rows(fill=2), mtime=T + 60)

    summary = ingest(home)

    assert [(o.file_name, o.status, o.version) for o in summary.outcomes] == [
        ("421127_2026-09_corrected.csv", "accepted", 2)]
    assert statuses(home) == {"421127_2026-09.csv": "superseded", "421127_2026-09_corrected.csv": "accepted"}


def test_a_rejected_resubmission_leaves_the_version_in_force(home):
    write_csv(landing(home, "421127_2026-09.csv"), FORM_HEADER, form_rows(), mtime=T)
    ingest(home)
    bad = form_rows()
    bad[0][7] = "many"  # fill_count not a number
    write_csv(landing(home, "421127_2026-09_v2.csv"), FORM_HEADER, bad, mtime=T + 60)

    summary = ingest(home)

    assert [o.status for o in summary.outcomes] == ["rejected"]
    assert summary.outcomes[0].report_path and Path(summary.outcomes[0].report_path).exists()
    assert statuses(home) == {"421127_2026-09.csv": "accepted", "421127_2026-09_v2.csv": "rejected"}


def test_within_one_run_the_later_file_wins(home):
    write_csv(landing(home, "b_first.csv"), FORM_HEADER, form_rows(fill=1), mtime=T)
    write_csv(landing(home, "a_second.csv"), FORM_HEADER, form_rows(fill=3), mtime=T + 5)

    ingest(home)

    assert statuses(home) == {"b_first.csv": "superseded", "a_second.csv": "accepted"}


def test_byte_identical_file_under_another_name_is_a_duplicate(home):
    original = write_csv(landing(home, "421127_2026-09.csv"), FORM_HEADER, form_rows(), mtime=T)
    copy = landing(home, "copy of 421127_2026-09.csv")
    copy.write_bytes(original.read_bytes())

    summary = ingest(home)

    assert sorted(o.status for o in summary.outcomes) == ["accepted", "duplicate"]
    dup = next(o for o in summary.outcomes if o.status == "duplicate")
    assert "byte-identical" in dup.reason


def test_a_duplicate_and_a_new_file_in_one_run_are_both_recorded(home):
    """A duplicate received before a new file in the same run (both recorded in one insert)."""
    original = write_csv(landing(home, "421127_2026-09.csv"), FORM_HEADER, form_rows(), mtime=T)
    ingest(home)
    copy = landing(home, "421127_2026-09 (resent).csv")
    copy.write_bytes(original.read_bytes())
    os.utime(copy, (T + 10, T + 10))
    write_csv(landing(home, "140404_2026-09.csv"), FORM_HEADER, form_rows(county=OTHER_COUNTY), mtime=T + 20)

    summary = ingest(home)

    assert [(o.file_name, o.status) for o in summary.outcomes] == [
        ("421127_2026-09 (resent).csv", "duplicate"), ("140404_2026-09.csv", "accepted")]
    assert statuses(home)["421127_2026-09.csv"] == "accepted"


def test_the_archive_keeps_every_byte_received_even_rejected_junk(home):
    junk = landing(home, "421127_2026-09.csv")
    junk.parent.mkdir(parents=True)
    junk.write_bytes(bytes(range(256)) * 40)
    empty = landing(home, "empty.csv")
    empty.write_bytes(b"")

    summary = ingest(home)

    assert sorted(o.status for o in summary.outcomes) == ["rejected", "rejected"]
    for path in (junk, empty):
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        assert (home.raw_archive / sha[:2] / f"{sha}.csv").read_bytes() == path.read_bytes()
    # The county and period come from the file name when the file itself cannot be read.
    junk_outcome = next(o for o in summary.outcomes if o.file_name == junk.name)
    assert (junk_outcome.county_code, junk_outcome.period) == (COUNTY, "2026-09")


def test_a_receipt_left_unfinished_by_a_crash_is_finished_next_run(home):
    write_csv(landing(home, "421127_2026-09.csv"), FORM_HEADER, form_rows(), mtime=T)
    summary = ingest(home)
    engine = ledger.connect(home.db_url)
    with engine.begin() as conn:  # as if the run had died after archiving, before deciding
        ledger.set_fields(conn, summary.outcomes[0].submission_id, status=ledger.RECEIVED, version=None,
                          claimed_by=f"{socket.gethostname()[:20]}:{_dead_pid()}:feedbeef")
    engine.dispose()

    again = ingest(home)

    assert [o.status for o in again.outcomes] == ["accepted"]
    assert statuses(home) == {"421127_2026-09.csv": "accepted"}


def test_a_receipt_another_live_run_is_deciding_is_left_to_it(home):
    write_csv(landing(home, "421127_2026-09.csv"), FORM_HEADER, form_rows(), mtime=T)
    summary = ingest(home)
    engine = ledger.connect(home.db_url)
    with engine.begin() as conn:  # a run in another live process is deciding this file right now
        ledger.set_fields(conn, summary.outcomes[0].submission_id, status=ledger.RECEIVED, version=None,
                          claimed_by=f"{socket.gethostname()[:20]}:{os.getppid()}:cafebabe",
                          claimed_at=datetime.now(UTC))
    engine.dispose()

    again = ingest(home)

    assert again.outcomes == []
    assert statuses(home) == {"421127_2026-09.csv": "received"}


def _dead_pid() -> int:
    """A process id that belonged to a process now gone."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_a_file_outside_any_kind_directory_needs_kind(home, tmp_path):
    path = write_csv(tmp_path / "loose" / "421127_2026-09.csv", FORM_HEADER, form_rows())

    rejected = ingest(home, [path])
    assert rejected.outcomes[0].status == "rejected" and "--kind" in rejected.outcomes[0].reason


def test_ingest_with_explicit_kind(home, tmp_path):
    path = write_csv(tmp_path / "loose" / "421127_2026-09.csv", FORM_HEADER, form_rows())

    summary = ingest(home, [path], kind="form_counts")

    assert [o.status for o in summary.outcomes] == ["accepted"]


def _ingest_in_child(env: dict[str, str]) -> None:
    import os

    os.environ.update(env)
    from jianfu.config import Settings as S
    from jianfu.ingest.pipeline import ingest as run

    run(S.from_env())


@pytest.mark.parametrize("engine_name", ["sqlite", "postgresql"])
def test_two_concurrent_ingests_record_each_file_once(home, jianfu_env, request, engine_name):
    env = dict(jianfu_env)
    if engine_name == "postgresql":
        env["JIANFU_DB_URL"] = request.getfixturevalue("pg_url")
    for i, period in enumerate(["2026-07", "2026-08", "2026-09", "2026-10"]):
        write_csv(landing(home, f"421127_{period}.csv"), FORM_HEADER, form_rows(period=period), mtime=T + i)
        write_csv(landing(home, f"140404_{period}.csv"), FORM_HEADER, form_rows(period=period, county=OTHER_COUNTY),
                  mtime=T + i)
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_ingest_in_child, args=(env,)) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert [w.exitcode for w in workers] == [0, 0]

    settings = Settings.from_env(env)
    assert count_rows(settings) == 8
    assert set(statuses(settings).values()) == {"accepted"}


def test_a_file_touched_but_unchanged_is_not_received_again(home):
    path = write_csv(landing(home, "421127_2026-09.csv"), FORM_HEADER, form_rows(), mtime=T)
    ingest(home)
    os.utime(path, (T + 3600, T + 3600))  # copied again over itself, say

    again = ingest(home)

    assert again.outcomes == [] and again.already_seen == 1
    assert count_rows(home) == 1


def test_an_ingest_of_some_paths_finishes_only_receipts_at_those_paths(home):
    stuck = write_csv(landing(home, "421127_2026-09.csv"), FORM_HEADER, form_rows(), mtime=T)
    first = ingest(home)
    engine = ledger.connect(home.db_url)
    with engine.begin() as conn:  # left unfinished by a run that died
        ledger.set_fields(conn, first.outcomes[0].submission_id, status=ledger.RECEIVED, version=None,
                          claimed_by=None)
    engine.dispose()
    other = write_csv(landing(home, "140404_2026-09.csv"), FORM_HEADER, form_rows(county=OTHER_COUNTY), mtime=T + 1)

    batch = ingest(home, [other])
    assert [o.file_name for o in batch.outcomes] == [other.name]
    assert statuses(home)[stuck.name] == "received"

    everything = ingest(home)
    assert [o.file_name for o in everything.outcomes] == [stuck.name]
    assert statuses(home)[stuck.name] == "accepted"


def test_recheck_rejected_accepts_a_file_once_the_reference_knows_its_unit(home):
    rows = form_rows()
    rows[0][2] = "421127102000"  # a township the office has not put in units.csv yet
    write_csv(landing(home, "421127_2026-09.csv"), FORM_HEADER, rows, mtime=T)
    bad = form_rows(period="2026-08")
    bad[0][7] = "many"  # a real mistake: stays rejected whatever the reference says
    write_csv(landing(home, "421127_2026-08.csv"), FORM_HEADER, bad, mtime=T + 1)
    first = ingest(home)
    assert [o.status for o in first.outcomes] == ["rejected", "rejected"]
    with (home.reference / "units.csv").open("a", encoding="utf-8") as fh:
        fh.write("421127102000,新开镇,township,421127000000,\n")

    plain = ingest(home)
    assert plain.outcomes == []  # without the flag nothing is looked at again
    again = ingest(home, recheck_rejected=True)

    assert {o.file_name: o.status for o in again.outcomes} == {
        "421127_2026-09.csv": "accepted", "421127_2026-08.csv": "rejected"}
    accepted = next(o for o in again.outcomes if o.status == "accepted")
    assert (accepted.version, accepted.report_path, accepted.reason) == (1, None, None)
    assert (home.staging / "form_counts" / f"{accepted.submission_id}.parquet").exists()
    assert statuses(home) == {"421127_2026-09.csv": "accepted", "421127_2026-08.csv": "rejected"}


def test_files_of_the_same_name_archived_at_once_keep_their_own_bytes(tmp_path):
    """Ingest copies several files at once; two counties' files may share a name."""
    import threading

    from jianfu.ingest.archive import archive_file

    sources = []
    for n in range(2):
        path = tmp_path / f"county{n}" / "报表.csv"
        path.parent.mkdir()
        path.write_bytes(bytes([48 + n]) * (8 << 20))
        sources.append(path)
    archive = tmp_path / "raw"
    start = threading.Barrier(2)
    copies = [None, None]

    def copy(n: int) -> None:
        start.wait()
        copies[n] = archive_file(sources[n], archive)

    threads = [threading.Thread(target=copy, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    for source, copy in zip(sources, copies, strict=True):
        assert hashlib.sha256(copy.path.read_bytes()).hexdigest() == copy.sha256 == \
            hashlib.sha256(source.read_bytes()).hexdigest()
    assert not list(archive.glob(".incoming-*"))


def _ingest_quietly(settings: Settings) -> None:
    ingest(settings)


def test_ingest_runs_inside_a_daemonic_process(home):
    """Celery's prefork pool runs tasks in daemonic processes, which may not have children."""
    for n, period in enumerate(("2026-08", "2026-09")):
        write_csv(landing(home, f"421127_{period}.csv"), FORM_HEADER, form_rows(period=period), mtime=T + n)
        write_csv(landing(home, f"140404_{period}.csv"), FORM_HEADER, form_rows(period=period, county=OTHER_COUNTY),
                  mtime=T + n)
    process = multiprocessing.get_context("fork").Process(target=_ingest_quietly, args=(home,), daemon=True)

    process.start()
    process.join(120)

    assert process.exitcode == 0
    assert sorted(statuses(home).values()) == ["accepted"] * 4


# ------------------------------------------------------------------------------ landing (SPEC 5)


def test_links_fifos_and_office_temp_files_are_never_received(home, tmp_path):
    secret = tmp_path / "environ"
    secret.write_text("JIANFU_SMTP_URL=smtp://office:hunter2@mail\n")
    folder = home.landing / "form_counts"
    write_csv(landing(home, "421127_2026-09.csv"), FORM_HEADER, form_rows(), mtime=T)
    (folder / "secrets.csv").symlink_to(secret)
    (folder / "linked_dir").symlink_to(tmp_path, target_is_directory=True)
    os.mkfifo(folder / "pipe.csv")
    for name in ("~$421127_2026-09.xlsx", ".~lock.421127_2026-09.xlsx#", "copy.tmp", "big.csv.part",
                 "dl.xlsx.crdownload"):
        (folder / name).write_bytes(b"half written")

    summary = ingest(home)

    assert [(o.file_name, o.status) for o in summary.outcomes] == [("421127_2026-09.csv", "accepted")]
    skipped = dict(summary.skipped)
    assert "symbolic link" in skipped[str(folder / "secrets.csv")]
    assert "symbolic link" in skipped[str(folder / "linked_dir")]
    assert "FIFO" in skipped[str(folder / "pipe.csv")]
    assert len(skipped) == 3
    archived = b"".join(p.read_bytes() for p in home.raw_archive.rglob("*") if p.is_file())
    assert b"hunter2" not in archived and b"half written" not in archived
    assert "3 skipped" in summary.describe()


def test_a_file_still_being_copied_is_left_for_the_next_run(home):
    import time

    write_csv(landing(home, "421127_2026-09.csv"), FORM_HEADER, form_rows(), mtime=T)
    fresh = write_csv(landing(home, "421127_2026-10.csv"), FORM_HEADER, form_rows(period="2026-10"))

    first = ingest(home, settle=60)
    os.utime(fresh, (time.time() - 61, time.time() - 61))
    second = ingest(home, settle=60)

    assert [o.file_name for o in first.outcomes] == ["421127_2026-09.csv"]
    assert first.unsettled == 1 and "1 still being copied, left for the next run" in first.describe()
    assert [o.file_name for o in second.outcomes] == ["421127_2026-10.csv"] and second.unsettled == 0


def test_a_gbk_file_name_is_received_and_shown_escaped(home):
    name = os.fsdecode("421127_2026-09_报表\n".encode("gbk") + b"accepted  forged.csv")
    path = landing(home, "x.csv").with_name(name)
    write_csv(path, FORM_HEADER, form_rows(), mtime=T)

    summary = ingest(home)

    assert [o.status for o in summary.outcomes] == ["accepted"]
    shown = summary.outcomes[0].file_name
    assert shown == "421127_2026-09_\\xb1\\xa8\\xb1\\xed\\u000aaccepted  forged.csv"
    assert all(line.startswith(("accepted", " ", "decided")) for line in summary.describe().splitlines())
    assert statuses(home) == {shown: "accepted"}
    assert ingest(home).already_seen == 1  # known by its place on the next run


@pytest.mark.postgres
def test_a_long_gbk_name_is_recorded_on_postgresql(home, pg_url):
    """Escaped, a name of undecodable bytes is four times as long: the ledger keeps it within its
    column, and the place (the whole path) still tells the file on the next run."""
    settings = Settings.from_env({**home.env, "JIANFU_DB_URL": pg_url})
    name = os.fsdecode(("报表" * 40).encode("gbk") + b".csv")  # 164 bytes, 644 characters escaped
    write_csv(landing(settings, "x.csv").with_name(name), FORM_HEADER, form_rows(), mtime=T)

    summary = ingest(settings)

    assert [o.status for o in summary.outcomes] == ["accepted"]
    assert len(summary.outcomes[0].file_name) == 500
    assert ingest(settings).already_seen == 1


def test_a_long_chinese_file_name_gets_a_report_with_a_bounded_name(home):
    bad = form_rows()
    bad[1][5] = "999999-NOPE"
    long_name = "黄梅县" * 23 + "2026年9月报表填报统计.csv"  # 87 characters, 240 bytes
    write_csv(landing(home, long_name), FORM_HEADER, bad, mtime=T)

    summary = ingest(home)

    outcome = summary.outcomes[0]
    assert outcome.status == "rejected"
    report = Path(outcome.report_path)
    assert report.exists() and len(report.name.encode()) <= 160
    assert report.with_suffix(".json").exists()


def test_a_report_shows_the_countys_own_header_beside_the_canonical_column(home):
    import csv as csv_module

    from jianfu.schema import FORM_COUNTS

    chinese = [FORM_COUNTS.column(name).zh for name in FORM_HEADER]
    rows = form_rows()
    rows[1][FORM_HEADER.index("frequency")] = "每两周"
    write_csv(landing(home, "421127_2026-09.csv"), chinese, rows, mtime=T)

    outcome = ingest(home).outcomes[0]

    assert outcome.status == "rejected"
    lines = list(csv_module.reader(Path(outcome.report_path).read_text(encoding="utf-8-sig").splitlines()))
    assert lines[0][5:] == ["说明", "message"]
    assert [line[2] for line in lines[1:]] == ["填报频次 (frequency)"]


def test_an_empty_file_says_what_to_do_in_both_languages(home):
    landing(home, "421127_2026-09.csv").parent.mkdir(parents=True, exist_ok=True)
    landing(home, "421127_2026-09.csv").write_bytes(b"")
    os.utime(landing(home, "421127_2026-09.csv"), (T, T))

    outcome = ingest(home).outcomes[0]

    assert outcome.status == "rejected"
    assert "submit it again" in outcome.reason


_INGEST_WITH_FILE_SIZE_LIMIT = """
import json, resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))  # no file written may exceed 1 MiB
from jianfu.config import Settings
from jianfu.ingest.pipeline import ingest
summary = ingest(Settings.from_env({"JIANFU_HOME": sys.argv[1]}))
print(json.dumps({"outcomes": [[o.file_name, o.status, o.reason] for o in summary.outcomes],
                  "skipped": summary.skipped}))
"""


def test_a_file_that_cannot_be_archived_is_skipped_and_rejected_after_three_runs(home):
    """A file the archive cannot take (here: larger than the process may write) never stops the
    others; it is tried again, and recorded as rejected with its reason in the third run."""
    import json
    import sys

    big = landing(home, "421127_2026-08.csv")
    write_csv(big, FORM_HEADER, form_rows(period="2026-08") * 5000, mtime=T)
    assert big.stat().st_size > 1 << 20
    write_csv(landing(home, "421127_2026-09.csv"), FORM_HEADER, form_rows(), mtime=T + 1)

    runs = []
    for _ in range(3):
        done = subprocess.run([sys.executable, "-c", _INGEST_WITH_FILE_SIZE_LIMIT, str(home.home)],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))

    assert [o[:2] for o in runs[0]["outcomes"]] == [["421127_2026-09.csv", "accepted"]]
    assert [path for path, _ in runs[0]["skipped"]] == [str(big)] and "(1 of 3)" in runs[0]["skipped"][0][1]
    assert runs[1]["outcomes"] == [] and "(2 of 3)" in runs[1]["skipped"][0][1]
    [(name, status, reason)] = runs[2]["outcomes"]
    assert (name, status, runs[2]["skipped"]) == ("421127_2026-08.csv", "rejected", [])
    assert "in 3 runs" in reason
    assert statuses(home) == {"421127_2026-09.csv": "accepted", "421127_2026-08.csv": "rejected"}
    assert ingest(home).outcomes == []  # decided: the next run leaves it alone


def test_the_dags_plan_leaves_links_and_files_still_being_copied(home, tmp_path):
    import logging

    from jianfu import orchestration

    class Lines(logging.Handler):
        text = ""

        def emit(self, record):
            Lines.text += record.getMessage() + "\n"

    settled = write_csv(landing(home, "421127_2026-09.csv"), FORM_HEADER, form_rows(), mtime=T)
    write_csv(landing(home, "421127_2026-10.csv"), FORM_HEADER, form_rows(period="2026-10"))  # just written
    (tmp_path / "secret").write_text("password")
    landing(home, "linked.csv").symlink_to(tmp_path / "secret")

    logger = logging.getLogger("jianfu.orchestration")  # Airflow may reconfigure logging on import
    handler, level = Lines(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        batches = orchestration.plan_ingest(home)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)

    assert batches == [[str(settled)]]
    assert f"skipped {landing(home, 'linked.csv')}: a symbolic link" in Lines.text
    assert "1 file(s) still being copied, left for the next run" in Lines.text


@pytest.mark.parametrize(("batch_bytes", "workers"), [(1, 1), (1, 2), (1_000, 2), (2**30, 1)])
def test_what_is_decided_does_not_depend_on_batches_or_processes(home, batch_bytes, workers):
    """Ingest reads and validates a bounded batch of files at a time (a national month does not fit
    in memory at once), in one process or several: one file per batch, a few per batch, or all at
    once, here or in worker processes, decide alike, and each problem stays with its own file and row."""
    write_csv(landing(home, "421127_2026-09.csv"), FORM_HEADER, form_rows(fill=1), mtime=T)
    bad = form_rows(county=OTHER_COUNTY)
    bad[1][7] = -3  # fill_count below zero: a GX rule, on the file's second data row
    write_csv(landing(home, "140404_2026-09.csv"), FORM_HEADER, bad, mtime=T + 1)
    write_csv(landing(home, "421127_2026-08.csv"), FORM_HEADER, form_rows(period="2026-08"), mtime=T + 2)
    write_csv(landing(home, "421127_2026-09_v2.csv"), FORM_HEADER, form_rows(fill=2), mtime=T + 3)

    messages: list[str] = []

    summary = ingest(home, progress=messages.append, batch_bytes=batch_bytes, workers=workers)

    in_processes = any("(2 processes)" in m for m in messages)
    assert in_processes == (workers == 2), messages
    assert [(o.file_name, o.status, o.rows, o.errors) for o in summary.outcomes] == [
        ("421127_2026-09.csv", "superseded", 4, 0),
        ("140404_2026-09.csv", "rejected", 2, 1),
        ("421127_2026-08.csv", "accepted", 4, 0),
        ("421127_2026-09_v2.csv", "accepted", 4, 0),
    ]
    rejected = summary.outcomes[1]
    assert "fill_count" in rejected.reason and "row 3" in rejected.reason
    in_force = summary.outcomes[3]
    staged = pq.read_table(home.staging / "form_counts" / f"{in_force.submission_id}.parquet")
    assert staged.column("fill_count").to_pylist() == [2, 2, 2, 2]


def test_fresh_worker_processes_take_over_without_changing_what_is_decided(home):
    """Workers are replaced after BATCHES_PER_PROCESS batches each (a worker's memory grows with the
    batches it checked): more batches than one pool's share go to a second pool of fresh
    processes, and are decided as in one process."""
    files = 2 * BATCHES_PER_PROCESS + 3
    for n in range(files):
        write_csv(landing(home, f"421127_2026-09_{n:02d}.csv"), FORM_HEADER, form_rows(fill=1 + n), mtime=T + n)
    messages: list[str] = []

    summary = ingest(home, progress=messages.append, batch_bytes=1, workers=2)

    assert [m for m in messages if m.startswith("checking batches")] == [
        f"checking batches 1-{2 * BATCHES_PER_PROCESS} of {files} in 2 new processes",
        f"checking batches {2 * BATCHES_PER_PROCESS + 1}-{files} of {files} in 2 new processes"]
    assert f"checked {files}/{files} files (2 processes)" in messages
    assert [o.status for o in summary.outcomes] == ["superseded"] * (files - 1) + ["accepted"]
    assert [o.version for o in summary.outcomes] == list(range(1, files + 1))


_INGEST_IN_WORKERS = """
import sys
from jianfu.config import Settings
from jianfu.ingest.pipeline import ingest
settings = Settings.from_env({"JIANFU_HOME": sys.argv[1], "JIANFU_NOW": sys.argv[2]})
summary = ingest(settings, progress=lambda m: print(m, flush=True), batch_bytes=1, workers=2)
print(summary.describe())
"""


def _children(pid: int) -> list[int]:
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            found += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
        except OSError:
            continue
    return found


def test_a_worker_killed_mid_ingest_loses_nothing(home):
    """A worker process killed while checking (the kernel's OOM killer, an operator) stops the run
    with a plain message and no decision; the next run decides every file, each once."""
    for n in range(30):
        write_csv(landing(home, f"421127_2026-09_{n:02d}.csv"), FORM_HEADER, form_rows(fill=1 + n), mtime=T + n)
    run = subprocess.Popen([sys.executable, "-c", _INGEST_IN_WORKERS, str(home.home), NOW.isoformat()],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = None
    while run.poll() is None and killed is None:
        children = _children(run.pid)
        if children:
            killed = children[0]
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.01)
    out, err = run.communicate(timeout=300)

    assert killed is not None, f"no worker process was seen: {out[-2000:]}"
    assert run.returncode != 0
    assert "a process checking files stopped before it finished" in err, err[-3000:]
    assert set(statuses(home).values()) == {"received"}

    summary = ingest(home)

    assert [o.status for o in summary.outcomes].count("superseded") == 29
    assert sorted(statuses(home).values()) == ["accepted"] + ["superseded"] * 29
