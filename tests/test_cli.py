"""The `jianfu` command's promises: one clear line on errors, exit 2 for usage, 1 for failure."""

from __future__ import annotations

import csv
import io
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
    ["status", "--area", "14x"],
    ["sample", "--scale", "planet"],
    ["query"],
])
def test_bad_arguments_print_one_line_and_exit_2(args, jianfu_env):
    result = run(*args, env=jianfu_env)

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("jianfu: error: ")
    assert "Traceback" not in result.stderr


def test_a_missing_path_is_a_usage_error(jianfu_env, tmp_path):
    Path(jianfu_env["JIANFU_HOME"]).mkdir()

    result = run("ingest", str(tmp_path / "nowhere"), env=jianfu_env)

    assert result.returncode == 2
    assert result.stderr.strip() == f"jianfu: error: {tmp_path / 'nowhere'}: no such file or directory"


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_a_bad_number_of_ingest_workers_is_named_before_any_work(jianfu_env, value):
    home = Path(jianfu_env["JIANFU_HOME"])
    run("init", "--no-docs", env=jianfu_env)
    write_reference(home / "reference")
    write_csv(home / "landing" / "form_counts" / "421127_2026-09.csv", FORM_HEADER, form_rows())

    result = run("ingest", env={**jianfu_env, "JIANFU_INGEST_WORKERS": value})

    assert result.returncode == 1
    assert f"JIANFU_INGEST_WORKERS={value!r}" in result.stderr and "1 or more" in result.stderr
    assert not list((home / "raw").rglob("*.csv")), "nothing is archived before the setting is checked"


def test_check_form_of_a_missing_file_is_a_usage_error(jianfu_env, tmp_path):
    (Path(jianfu_env["JIANFU_HOME"]) / "warehouse").mkdir(parents=True)

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


# --- what a newcomer tripped on (issue 18) ---------------------------------------------------------

@pytest.fixture
def office_home(jianfu_env) -> Path:
    """An initialised home with the office's reference data and one accepted county file."""
    home = Path(jianfu_env["JIANFU_HOME"])
    assert run("init", "--no-docs", env=jianfu_env).returncode == 0
    write_reference(home / "reference")
    write_csv(home / "landing" / "form_counts" / "421127_2026-09.csv", FORM_HEADER, form_rows())
    assert run("ingest", "--settle", "0", env=jianfu_env).returncode == 0
    assert run("build", env=jianfu_env).returncode == 0
    return home


def test_sample_refuses_to_replace_the_offices_reference_data(office_home, jianfu_env):
    departments = (office_home / "reference" / "departments.csv").read_bytes()

    result = run("sample", env=jianfu_env)

    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert str(office_home / "reference" / "units.csv") in result.stderr
    assert (office_home / "reference" / "departments.csv").read_bytes() == departments
    assert [p.name for p in (office_home / "landing").rglob("*") if p.is_file()] == ["421127_2026-09.csv"]


def test_sample_refuses_a_landing_that_holds_files_and_an_edited_rules_yaml(jianfu_env, tmp_path):
    out = tmp_path / "elsewhere"
    (out / "landing" / "form_counts").mkdir(parents=True)
    (out / "landing" / "form_counts" / "421127_2026-10.csv").write_text("a,b\n", encoding="utf-8")
    rules_only = tmp_path / "rules_only"
    (rules_only / "reference").mkdir(parents=True)
    (rules_only / "reference" / "rules.yaml").write_text("zombie_days: 60\n", encoding="utf-8")

    landing = run("sample", "--out", str(out), env=jianfu_env)
    rules = run("sample", "--out", str(rules_only), env=jianfu_env)

    assert landing.returncode == 1 and "already holds files" in landing.stderr
    assert str(out / "landing" / "form_counts" / "421127_2026-10.csv") in landing.stderr
    assert sorted(p.name for p in (out / "landing").rglob("*") if p.is_file()) == ["421127_2026-10.csv"]
    assert rules.returncode == 1 and str(rules_only / "reference" / "rules.yaml") in rules.stderr
    assert (rules_only / "reference" / "rules.yaml").read_text(encoding="utf-8") == "zombie_days: 60\n"


def test_sample_writes_over_init_defaults_and_with_force(jianfu_env):
    home = Path(jianfu_env["JIANFU_HOME"])
    assert run("init", "--no-docs", env=jianfu_env).returncode == 0

    first = run("sample", env=jianfu_env)
    again = run("sample", env=jianfu_env)
    forced = run("sample", "--force", env=jianfu_env)

    assert first.returncode == 0, first.stderr
    assert (home / "reference" / "units.csv").exists() and (home / "proposals" / "proposed_forms.csv").exists()
    assert not (home / "truth").exists()
    assert again.returncode == 1 and "units.csv" in again.stderr
    assert forced.returncode == 0, forced.stderr


def test_no_error_message_advises_planting_sample_data(jianfu_env):
    home = Path(jianfu_env["JIANFU_HOME"])
    init = run("init", "--no-docs", env=jianfu_env)
    write_csv(home / "landing" / "form_counts" / "a.csv", FORM_HEADER, form_rows())

    ingest = run("ingest", env=jianfu_env)

    assert "units.csv" in init.stdout and "jianfu sample" not in init.stdout
    assert ingest.returncode == 1 and "units.csv is missing" in ingest.stderr
    assert "sample" not in ingest.stderr


def test_check_form_without_form_counts_fails_instead_of_admitting(jianfu_env):
    home = Path(jianfu_env["JIANFU_HOME"])
    assert run("init", "--no-docs", env=jianfu_env).returncode == 0
    write_reference(home / "reference")
    proposal = home / "proposed.csv"
    proposal.write_text("部门,报表名称,填报频次,指标清单\n421127-AGRI,新表,每月,甲;乙\n", encoding="utf-8")

    result = run("check-form", str(proposal), env=jianfu_env)

    assert result.returncode == 1 and "ADMIT" not in result.stdout
    assert result.stderr.count("\n") == 1 and "no form counts to compare with" in result.stderr


def test_check_form_refuses_rows_it_cannot_judge_and_names_the_columns_it_read(office_home, jianfu_env):
    bad = office_home / "bad.csv"
    bad.write_text("部门,报表名称,填报频次,指标清单\n421127-XX,新表,每月,甲\n421127-AGRI,另表,每两周,乙\n",
                   encoding="utf-8")
    good = office_home / "good.csv"
    good.write_text("部门,报表名称,填报频次,指标清单\n421127-AGRI,新表,每月,甲;乙\n", encoding="utf-8")

    refused = run("check-form", str(bad), env=jianfu_env)
    judged = run("check-form", str(good), env=jianfu_env)

    assert refused.returncode == 1 and refused.stdout == ""
    assert "row 2: department 421127-XX" in refused.stderr and "row 3: frequency '每两周'" in refused.stderr
    assert judged.returncode == 0, judged.stderr
    assert "columns recognised: 部门 -> dept_code, 报表名称 -> form_name" in judged.stdout


@pytest.mark.parametrize("setup", ["missing", "file", "no_warehouse"])
def test_query_against_no_home_or_warehouse_fails_clearly(jianfu_env, tmp_path, setup):
    home = Path(jianfu_env["JIANFU_HOME"])
    if setup == "file":
        home.write_text("not a directory", encoding="utf-8")
    elif setup == "no_warehouse":
        home.mkdir()

    result = run("query", "SELECT count(*) FROM flags", env=jianfu_env)

    assert result.returncode == 1 and result.stdout == "" and "0 rows" not in result.stdout
    assert result.stderr.count("\n") == 1 and "Errno" not in result.stderr
    expected = {"missing": "does not exist", "file": "is a file, not a directory",
                "no_warehouse": f"the warehouse {home / 'warehouse'} does not exist"}[setup]
    assert expected in result.stderr


def test_build_before_init_fails_and_leaves_nothing(jianfu_env):
    home = Path(jianfu_env["JIANFU_HOME"])

    result = run("build", env=jianfu_env)

    assert result.returncode == 1 and "jianfu init" in result.stderr
    assert not home.exists()


def test_query_limits_and_csv_formulas(office_home, jianfu_env):
    slow = run("query", "SELECT sum(a.range * b.range) FROM range(200000) a, range(200000) b",
               "--timeout", "0.5", env=jianfu_env)
    big = run("query", "SELECT max(len(l)) FROM (SELECT list(range) AS l FROM range(30000000))",
              "--memory-limit", "50MiB", env=jianfu_env)
    formulas = run("query", "SELECT '=HYPERLINK(\"http://x\")' AS a, '@SUM(1)' AS b, e'\\tc' AS c, -3 AS n, "
                   "'黄梅县' AS d", "--format", "csv", env=jianfu_env)

    assert slow.returncode == 1 and slow.stderr.count("\n") == 1 and "--timeout" in slow.stderr
    assert big.returncode == 1 and big.stderr.count("\n") == 1 and "memory limit" in big.stderr
    assert formulas.returncode == 0, formulas.stderr
    assert list(csv.reader(io.StringIO(formulas.stdout)))[1] == [
        "'=HYPERLINK(\"http://x\")", "'@SUM(1)", "'\tc", "-3", "黄梅县"]


def test_status_looks_without_sending_and_reads_county_dates(office_home, jianfu_env):
    look = run("status", "--as-of", "2026/12/20", env=jianfu_env)
    outbox_after_look = list((office_home / "outbox").glob("*.eml"))
    send = run("status", "--as-of", "2026年12月20日", "--send-reminders", env=jianfu_env)

    assert look.returncode == 0, look.stderr
    assert "as of 2026-12-20" in look.stdout and "none sent" in look.stdout
    assert outbox_after_look == []
    assert send.returncode == 0, send.stderr
    assert "delivered" in send.stdout and list((office_home / "outbox").glob("*.eml"))


def test_status_prints_one_area_and_still_reminds_every_county_due(office_home, jianfu_env):
    area = run("status", "--as-of", "2026/12/20", "--area", "42", "--send-reminders", env=jianfu_env)

    assert area.returncode == 0, area.stderr
    assert "in 湖北省 42: 1 county(ies)" in area.stdout and "421127 黄梅县" in area.stdout
    assert "140404" not in area.stdout.split("reminders:")[0]  # 上党区 (山西省) is not printed...
    assert "140404 上党区" in area.stdout.split("reminders:")[1]  # ...and is still reminded


@pytest.mark.parametrize(("text", "says"), [("2026-13-40", "is not a real date"), ("2026-02-30", "is not a real date"),
                                            ("soon", "2026年11月21日")])
def test_a_wrong_date_says_what_is_wrong(jianfu_env, text, says):
    result = run("status", "--as-of", text, env=jianfu_env)

    assert result.returncode == 2 and says in result.stderr and result.stderr.count("\n") == 1


def test_debug_is_accepted_after_the_command(jianfu_env):
    write_csv(Path(jianfu_env["JIANFU_HOME"]) / "landing" / "form_counts" / "a.csv", FORM_HEADER, form_rows())

    result = run("ingest", "--debug", env=jianfu_env)

    assert result.returncode == 1 and "Traceback" in result.stderr and "unrecognized" not in result.stderr


def test_output_into_a_closed_pipe_ends_quietly(office_home, jianfu_env):
    shell = f"{JIANFU} query 'SELECT * FROM range(200000)' --format csv | head -n 2"

    result = subprocess.run(["bash", "-o", "pipefail", "-c", shell], capture_output=True, text=True,
                            env={**os.environ, **jianfu_env}, timeout=120)

    assert result.stdout.splitlines() == ["range", "0"]
    assert result.stderr == "" and result.returncode == 141


def test_readme_using_it_names_what_the_sample_writes(jianfu_env, tmp_path):
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    using_it = readme.split("## Using it", 1)[1].split("\n## ", 1)[0]
    check_form = next(line for line in using_it.splitlines() if line.startswith("jianfu check-form"))
    named = check_form.split()[2].replace("$JIANFU_HOME", str(tmp_path / "try"))

    result = run("sample", "--out", str(tmp_path / "try"), env=jianfu_env)

    assert result.returncode == 0, result.stderr
    assert Path(named).is_file(), f"README's check-form example names {named}, which the sample does not write"
    assert "部门" in using_it and "报表名称" in using_it  # Chinese headers work, and the README says so
    assert "`JIANFU_SMTP_FROM`" in readme.split("## Configuration", 1)[1]
