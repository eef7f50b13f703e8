"""The `jianfu` command's promises: one clear line on errors, exit 2 for usage, 1 for failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from builders import FORM_HEADER, form_rows, write_csv, write_reference

JIANFU = str(Path(sys.executable).with_name("jianfu"))


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([JIANFU, *args], capture_output=True, text=True, env={**os.environ, **env}, timeout=300)


@pytest.mark.parametrize("args", [
    ["frobnicate"],
    ["ingest", "--kind", "forms"],
    ["status", "--as-of", "21/11/2026"],
    ["sample", "--scale", "planet"],
    ["query"],
])
def test_bad_arguments_print_one_line_and_exit_2(args, jianfu_env):
    result = run(*args, env=jianfu_env)

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("jianfu: error: ")
    assert "Traceback" not in result.stderr


def test_a_missing_path_is_a_usage_error(jianfu_env, tmp_path):
    result = run("ingest", str(tmp_path / "nowhere"), env=jianfu_env)

    assert result.returncode == 2
    assert result.stderr.strip() == f"jianfu: error: {tmp_path / 'nowhere'}: no such file or directory"


def test_check_form_of_a_missing_file_is_a_usage_error(jianfu_env, tmp_path):
    result = run("check-form", str(tmp_path / "proposal.xlsx"), env=jianfu_env)

    assert result.returncode == 2 and "no such file" in result.stderr


def test_a_failure_is_one_line_without_traceback_and_exit_1(jianfu_env, tmp_path):
    # No reference data: the office has not set up units.csv yet.
    write_csv(Path(jianfu_env["JIANFU_HOME"]) / "landing" / "form_counts" / "a.csv", FORM_HEADER, form_rows())

    result = run("ingest", env=jianfu_env)

    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "units.csv is missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback(jianfu_env):
    write_csv(Path(jianfu_env["JIANFU_HOME"]) / "landing" / "form_counts" / "a.csv", FORM_HEADER, form_rows())

    result = run("--debug", "ingest", env=jianfu_env)

    assert result.returncode == 1 and "Traceback" in result.stderr


def test_init_then_ingest_prints_a_per_file_summary(jianfu_env):
    home = Path(jianfu_env["JIANFU_HOME"])
    init = run("init", env=jianfu_env)
    assert init.returncode == 0, init.stderr
    site = home / "reports" / "data_docs"
    suite_page = site / "expectations" / "form_counts.html"
    assert f"validation history: {site / 'index.html'}" in init.stdout and suite_page.exists()
    rendered_at = suite_page.stat().st_mtime_ns
    write_reference(home / "reference")
    write_csv(home / "landing" / "form_counts" / "421127_2026-09.csv", FORM_HEADER, form_rows())
    bad = form_rows()
    bad[1][5] = "999999-NOPE"
    write_csv(home / "landing" / "form_counts" / "421127_2026-10.csv", FORM_HEADER,
              [r[:1] + ["2026-10"] + r[2:] for r in bad])
    left = run("ingest", env=jianfu_env)  # just written: perhaps still being copied

    result = run("ingest", "--settle", "0", env=jianfu_env)

    assert left.returncode == 0 and "2 still being copied, left for the next run" in left.stdout

    assert result.returncode == 0, result.stderr  # a rejected file is work done
    assert "accepted" in result.stdout and "rejected" in result.stdout
    assert "report:" in result.stdout and "1 accepted, 1 rejected" in result.stdout
    # init rendered the suites; the ingest added its results and left the suite pages alone
    assert list((site / "validations" / "form_counts").rglob("*.html"))
    assert suite_page.stat().st_mtime_ns == rendered_at
