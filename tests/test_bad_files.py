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
    files = {str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*") if p.is_file() and p.suffix in (".csv", ".xlsx", ".xls")}
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
