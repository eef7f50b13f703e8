"""The corpus of bad county files (tests/bad_files): each ends as it must, with a report that names
the rule, column and row, and none of them touches the version in force."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from builders import FORM_HEADER, form_rows, write_csv, write_reference
from conftest import NOW
from jianfu import ledger
from jianfu.config import Settings
from jianfu.ingest.pipeline import ingest

CORPUS = Path(__file__).parent / "bad_files"
CASES: dict[str, dict] = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))
RECEIVED = NOW.timestamp() - 86400  # every corpus file landed the day before


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("corpus") / "home"
    settings = Settings.from_env({"JIANFU_HOME": str(home), "JIANFU_NOW": NOW.isoformat()})
    write_reference(settings.reference)
    good = write_csv(settings.landing / "form_counts" / "in_force.csv", FORM_HEADER, form_rows(),
                     mtime=RECEIVED - 86400)
    first = ingest(settings)
    assert [o.status for o in first.outcomes] == ["accepted"]
    for name in CASES:
        target = settings.landing / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CORPUS / name, target)
        os.utime(target, (RECEIVED, RECEIVED))
    summary = ingest(settings)
    outcomes = {f"{o.kind}/{o.file_name}" if o.kind else o.file_name: o for o in summary.outcomes}
    return settings, outcomes, first.outcomes[0].submission_id, good


def test_the_corpus_is_large_and_covers_every_case():
    files = {str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*") if p.is_file() and p.parent != CORPUS}
    assert files == set(CASES)
    assert sum(1 for c in CASES.values() if c["status"] == "rejected") >= 30


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_file_ends_as_expected_with_a_report_naming_rule_column_and_row(corpus_run, name):
    settings, outcomes, _, _ = corpus_run
    case = CASES[name]
    outcome = outcomes[name]

    assert outcome.status == case["status"], outcome.reason
    if not case["problems"]:
        assert outcome.report_path is None
        return
    report = json.loads(Path(outcome.report_path).with_suffix(".json").read_text(encoding="utf-8"))
    listed = {(p["rule"], p["column"], p["row"]) for p in report["problems"]}
    for rule, column, row in case["problems"]:
        assert (rule, column, row) in listed, f"{name}: {(rule, column, row)} not in {sorted(listed, key=str)[:8]}"
    for problem in report["problems"]:
        assert problem["message_en"] and problem["message_zh"]


def test_the_version_in_force_is_untouched(corpus_run):
    settings, _, good_id, _ = corpus_run
    engine = ledger.connect(settings.db_url)
    with engine.connect() as conn:
        row = ledger.in_force_row(conn, "form_counts", "421127", "2026-09")
        rejected = [r for r in ledger.all_submissions(conn) if r["status"] == "rejected"]
    engine.dispose()
    assert row["submission_id"] == good_id and row["version"] == 1
    assert all(r["staged_path"] is None for r in rejected)
    staged = {p.stem for p in settings.staging.rglob("*.parquet")}
    assert len(rejected) >= 30 and not staged & {r["submission_id"] for r in rejected}


def test_rejected_files_are_archived_byte_for_byte(corpus_run):
    import hashlib

    settings, outcomes, _, _ = corpus_run
    for name in outcomes:
        data = (CORPUS / name).read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        assert next((settings.raw_archive / sha[:2]).glob(f"{sha}*")).read_bytes() == data


def test_report_csv_opens_in_excel_bilingual_and_formula_safe(corpus_run):
    _, outcomes, _, _ = corpus_run
    path = Path(outcomes["form_counts/formula_injection.csv"].report_path)
    raw = path.read_bytes()

    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel picks the encoding
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["级别 severity", "规则 rule", "列 column"]
    values = [r[4] for r in rows[1:]]
    assert "'=1+1" in values and not any(v.startswith(("=", "+", "-", "@")) for v in values)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in rows[1][5])  # a Chinese message


def test_long_lists_are_cut_at_1000_per_rule_with_the_total_kept(corpus_run):
    _, outcomes, _, _ = corpus_run
    outcome = outcomes["form_counts/many_errors_capped.csv"]
    report = json.loads(Path(outcome.report_path).with_suffix(".json").read_text(encoding="utf-8"))
    rule = next(r for r in report["rules"] if r["rule"] == "out_of_range")

    assert (rule["total"], rule["listed"]) == (1200, 1000)
    assert sum(1 for p in report["problems"] if p["rule"] == "out_of_range") == 1000
    assert outcome.errors == 1200
    assert "1200" in Path(outcome.report_path).read_text(encoding="utf-8-sig")


def test_a_repeated_long_value_makes_a_bounded_report_with_a_summary_line(corpus_run):
    _, outcomes, _, _ = corpus_run
    outcome = outcomes["form_counts/repeated_long_value.xlsx"]
    report_csv = Path(outcome.report_path)
    report = json.loads(report_csv.with_suffix(".json").read_text(encoding="utf-8"))

    assert outcome.errors == 3000
    assert report_csv.stat().st_size < 1_000_000 and report_csv.with_suffix(".json").stat().st_size < 2_000_000
    assert max(len(p["value"]) for p in report["problems"]) <= 210
    summary = next(s for s in report["summaries"] if s["rule"] == "malformed_value")
    assert (summary["count"], summary["first_row"], summary["last_row"]) == (3000, 2, 3001)
    lines = list(csv.reader(io.StringIO(report_csv.read_text(encoding="utf-8-sig"))))
    assert "3000" in lines[1][6] and "3000" in lines[1][5]  # the summary comes first, in both languages


def test_the_report_names_the_countys_own_header_and_proper_column_titles(corpus_run):
    _, outcomes, _, _ = corpus_run
    path = Path(outcomes["form_counts/good_gb18030.csv"].report_path or outcomes["form_counts/unknown_enum.csv"].report_path)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))

    assert rows[0] == ["级别 severity", "规则 rule", "列 column", "行号 row", "值 value", "说明", "message"]


@pytest.mark.parametrize("name", ["form_counts/good_xls.xls", "form_counts/good_et.et", "form_counts/good_ods.ods"])
def test_office_workbooks_read_to_the_rows_of_the_same_csv(name, tmp_path):
    import importlib.util

    from jianfu.ingest.read import read_submission, to_arrow
    from jianfu.schema import FORM_COUNTS

    spec = importlib.util.spec_from_file_location("regenerate", CORPUS / "regenerate.py")
    regenerate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(regenerate)
    period = {"good_xls.xls": "2026-01", "good_ods.ods": "2026-02", "good_et.et": "2026-03"}[Path(name).name]
    twin = tmp_path / "twin.csv"
    twin.write_bytes(regenerate.csv_bytes(regenerate.FORM, regenerate.forms(period)))

    from_workbook = read_submission(CORPUS / name, FORM_COUNTS)
    from_csv = read_submission(twin, FORM_COUNTS)

    assert to_arrow(from_workbook, FORM_COUNTS).equals(to_arrow(from_csv, FORM_COUNTS))
    assert from_workbook.problems == from_csv.problems == []


def test_a_libreoffice_xlsx_reads_to_the_rows_of_the_same_csv(tmp_path):
    """LibreOffice stores numbers as numbers, dates as date cells and 12-digit codes as numeric cells."""
    import importlib.util
    import zipfile

    from jianfu.ingest.read import read_submission, to_arrow
    from jianfu.schema import WORK_GROUPS

    spec = importlib.util.spec_from_file_location("regenerate", CORPUS / "regenerate.py")
    regenerate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(regenerate)
    book = CORPUS / "work_groups" / "good_libreoffice.xlsx"
    sheet = zipfile.ZipFile(book).read("xl/worksheets/sheet1.xml")
    assert b'<c r="C2" s="0" t="n"><v>421127100000</v>' in sheet or b'<c r="C2" t="n"><v>421127100000</v>' in sheet \
        or b"<v>421127100000</v>" in sheet  # the unit code is a numeric cell
    twin = tmp_path / "twin.csv"
    twin.write_bytes(regenerate.csv_bytes(regenerate.GROUP, [
        regenerate.group(period="2026-04", last_active_date="2026-04-20"),
        regenerate.group(period="2026-04", group_id="G2", unit_code=regenerate.V1, last_active_date="2026-04-21")]))

    assert to_arrow(read_submission(book, WORK_GROUPS), WORK_GROUPS).equals(
        to_arrow(read_submission(twin, WORK_GROUPS), WORK_GROUPS))


HOSTILE = [name for name, case in CASES.items()
           if name.endswith((".xlsx", ".xls", ".et", ".ods")) or "nul" in name or "mixed" in name]

# The child's peak resident memory is what is judged (1 GiB). Its address space is also capped, at
# 4 GiB, so a bomb that does inflate fails fast instead of taking the machine; a 1 GiB cap on address
# space would judge reservations (thread stacks, malloc arenas), not memory, and a thread start that
# cannot get its stack there waits for ever instead of failing.
_CAPPED_INGEST = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
from jianfu.config import Settings
from jianfu.ingest.pipeline import ingest
settings = Settings.from_env({"JIANFU_HOME": sys.argv[1], "JIANFU_NOW": sys.argv[2]})
summary = ingest(settings)
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"peak_kib": peak_kib, "decided": {f"{o.kind}/{o.file_name}": o.status for o in summary.outcomes}}))
"""


def test_the_hostile_files_are_decided_in_under_1_gib_with_the_version_in_force_untouched(tmp_path):
    import subprocess
    import sys

    settings = Settings.from_env({"JIANFU_HOME": str(tmp_path / "home"), "JIANFU_NOW": NOW.isoformat()})
    write_reference(settings.reference)
    write_csv(settings.landing / "form_counts" / "in_force.csv", FORM_HEADER, form_rows(), mtime=RECEIVED - 86400)
    good_id = ingest(settings).outcomes[0].submission_id
    for name in HOSTILE:
        target = settings.landing / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CORPUS / name, target)
        os.utime(target, (RECEIVED, RECEIVED))

    run = subprocess.run([sys.executable, "-c", _CAPPED_INGEST, str(settings.home), NOW.isoformat()],
                         capture_output=True, text=True, timeout=600)

    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["decided"] == {name: CASES[name]["status"] for name in HOSTILE}
    assert result["peak_kib"] < 1 << 20, f"peak {result['peak_kib'] / 1024:.0f} MiB"
    engine = ledger.connect(settings.db_url)
    with engine.connect() as conn:
        in_force = ledger.in_force_row(conn, "form_counts", "421127", "2026-09")
    engine.dispose()
    assert in_force["submission_id"] == good_id
