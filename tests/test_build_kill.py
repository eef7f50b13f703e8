"""SIGKILL `jianfu build` at many moments: the warehouse stays readable, every table is wholly the
old or wholly the new state, and the next build ends exactly where a clean build does.

The build runs in a child process with the publish test hook (JIANFU_TEST_SLOW_PUBLISH, see
jianfu.warehouse.publish): after each file it writes it prints a marker on stderr and pauses, so a
kill after the k-th marker lands after exactly k files of the build. Kills at timed moments cover
the rest (reading the ledger, linking, the link swap, removing old snapshots, the flag SQL).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.dataset as ds
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from jianfu.config import SLOW_PUBLISH_ENV, Settings  # noqa: E402
from jianfu.warehouse.build import build  # noqa: E402
from test_warehouse import ALL_TABLES, WarehouseHome, file_state, snapshot  # noqa: E402

CHILD = ("import sys; from jianfu.config import Settings; from jianfu.warehouse.build import build; "
         "build(Settings.from_env(), progress=lambda m: print(m, file=sys.stderr, flush=True))")
MARKER = "jianfu-test-publish: wrote"


def child_env(home: WarehouseHome, delay: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIANFU_")}
    env.update(home.env)
    env[SLOW_PUBLISH_ENV] = delay
    return env


def kill_after_files(home: WarehouseHome, files: int) -> int:
    """Run a build and SIGKILL it once it has written `files` files; returns the files seen."""
    proc = subprocess.Popen([sys.executable, "-c", CHILD], env=child_env(home, "0.2"),
                            stderr=subprocess.PIPE, text=True)
    seen = 0
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.startswith(MARKER):
            seen += 1
            if seen >= files:
                break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    return seen


def kill_after_seconds(home: WarehouseHome, seconds: float) -> None:
    """SIGKILL a build `seconds` after its first progress line (imports and start-up excluded)."""
    proc = subprocess.Popen([sys.executable, "-c", CHILD], env=child_env(home, "0.01"),
                            stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    proc.stderr.readline()
    time.sleep(seconds)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()


def assert_each_table_old_or_new(root: str, old: dict, new: dict) -> dict[str, str]:
    now = snapshot(root)  # reads every table through DuckDB: the warehouse is readable
    verdict = {}
    for table in ALL_TABLES:
        if now[table] == new[table]:
            verdict[table] = "new"
        elif now[table] == old[table]:
            verdict[table] = "old"
        else:
            pytest.fail(f"{table} is neither the old nor the new state after a kill")
        # ... and by an engine with no jianfu code
        ds.dataset(f"{root}/{table}", partitioning="hive").to_table()
    return verdict


@pytest.mark.slow
def test_sigkill_at_any_moment_leaves_old_or_new_and_the_next_build_completes(tmp_path: Path):
    home = WarehouseHome(tmp_path / "home", counties=("421127", "421182", "421122"))
    home.populate(months=("2026-07", "2026-08", "2026-09"))
    home.build()
    # A second snapshot of every table: each killed publish below reuses the one before the live one.
    home.build(full=True)
    root = home.settings.warehouse
    old = snapshot(root)

    # Changes touching every kind and several counties, and the reference (units).
    home.submit("form_counts", "421127", "2026-09", seed=4)
    home.submit("form_counts", "421182", "2026-08", seed=4)
    home.submit("work_groups", "421122", "2026-07", seed=9)
    home.submit("inspections", "421182", "2026", seed=1)
    home.submit("form_counts", "421122", "2026-10", seed=1)  # a new partition
    with (home.settings.reference / "departments.csv").open("a", encoding="utf-8") as fh:
        fh.write("421127-WATER,水利局\n")

    clean_root = str(tmp_path / "clean")
    build(Settings.from_env({**home.env, "JIANFU_WAREHOUSE": clean_root}))
    new = snapshot(clean_root)
    assert all(new[t] != old[t] for t in ("form_counts", "work_groups", "inspections", "departments",
                                          "submissions", "flags", "burden", "quota_usage"))

    verdicts = []
    for files in (1, 3, 6, 10):
        seen = kill_after_files(home, files)
        verdicts.append(assert_each_table_old_or_new(root, old, new))
        if seen < files:  # the build finished before that many files: all new
            break
    for seconds in (0.0, 0.1, 0.3, 0.6, 1.0):
        kill_after_seconds(home, seconds)
        verdicts.append(assert_each_table_old_or_new(root, old, new))
    # The kills did land between tables: some states mixed old and new tables.
    assert any(set(v.values()) == {"old", "new"} for v in verdicts)

    result = home.build()
    assert snapshot(root) == new
    assert home.build().written == 0
    # Nothing a killed build left behind remains: one live and at most one previous snapshot.
    for table in ALL_TABLES:
        snaps = list((Path(root) / ".snapshots" / table).iterdir())
        assert 1 <= len(snaps) <= 2, (table, snaps)
    assert not [p for p in Path(root).iterdir() if ".link-" in p.name]
    assert result is not None and file_state(root)
