"""The pilot sample end to end through the CLI's code path: every expected status and flag holds.

`truth/` is written by the tests (sample_helpers/truth_files.py) from the generator's own rows with a
plain-Python reading of SPEC.md section 8 that shares no code with the SQL flags, so agreement here is two independent
implementations agreeing, planted boundary near-misses included.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from conftest import NOW
from jianfu import ledger
from jianfu.config import Settings
from jianfu.ingest.pipeline import ingest
from jianfu.sample.pilot import build as build_sample
from jianfu.warehouse.build import build
from jianfu.warehouse.views import connect
from sample_helpers.truth_files import write_truth

ALL_RULES = {
    "FORM_OVER_FREQUENCY", "FORM_DUPLICATE_ACROSS_DEPTS", "UNIT_REPORTING_OVERLOAD", "GROUP_ZOMBIE",
    "GROUP_TEMPORARY_OVERDUE", "GROUP_DUPLICATE", "UNIT_GROUP_OVERLOAD", "INSPECTION_TARGET_OVERFREQUENT",
    "INSPECTION_UNCOORDINATED", "INSPECTION_UNPLANNED", "INSPECTION_REPEATED_TOPIC", "DEPT_QUOTA_WARNING",
    "DEPT_QUOTA_EXCEEDED",
}
SILENT_COUNTY = "140425"  # 平顺县: in the office's reference, never submitted anything


@pytest.fixture(scope="module")
def pilot(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("pilot") / "home"
    settings = Settings.from_env({"JIANFU_HOME": str(home), "JIANFU_NOW": NOW.isoformat()})
    write_truth(home, build_sample(home, 7, NOW))
    _add_silent_county(settings)
    ingest(settings)
    build(settings)
    return settings


def _add_silent_county(settings: Settings) -> None:
    with (settings.reference / "units.csv").open("a", encoding="utf-8") as fh:
        fh.write(f"{SILENT_COUNTY}000000,平顺县,county,,jfb@{SILENT_COUNTY}.gov.example.cn\n")
        fh.write(f"{SILENT_COUNTY}100000,青羊镇,township,{SILENT_COUNTY}000000,\n")


def truth_rows(settings: Settings, name: str) -> list[dict[str, str]]:
    with (settings.home / "truth" / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_every_file_ends_in_its_expected_status(pilot):
    engine = ledger.connect(pilot.db_url)
    with engine.connect() as conn:
        got = {str(Path(r["source_path"]).relative_to(pilot.landing)): r["status"] for r in ledger.all_submissions(conn)}
    engine.dispose()
    expected = {r["relative_path"]: r["expected_status"] for r in truth_rows(pilot, "ledger.csv")}

    assert got == expected
    assert {"accepted", "accepted_with_warnings", "superseded", "rejected", "duplicate"} <= set(got.values())


def test_flags_equal_truth_rule_by_rule(pilot):
    expected: dict[str, set] = defaultdict(set)
    for r in truth_rows(pilot, "flags.csv"):
        expected[r["rule"]].add((r["period"], r["subject"], r["county_code"] or None))
    got: dict[str, set] = defaultdict(set)
    for rule, period, subject, county in connect(pilot.warehouse).execute(
            "SELECT rule, period, subject, county_code FROM flags").fetchall():
        got[rule].add((period, subject, county))

    assert set(expected) == ALL_RULES  # the sample plants every rule
    for rule in sorted(ALL_RULES):
        assert got[rule] == expected[rule], f"{rule}: missing {expected[rule] - got[rule]}, extra {got[rule] - expected[rule]}"


def test_flag_ids_are_stable_hashes_of_rule_county_period_subject(pilot):
    import hashlib

    rows = connect(pilot.warehouse).execute("SELECT flag_id, rule, county_code, period, subject FROM flags").fetchall()
    for flag_id, rule, county, period, subject in rows:
        assert flag_id == hashlib.sha256(f"{rule}|{county or ''}|{period}|{subject}".encode()).hexdigest()[:16]
    assert len({r[0] for r in rows}) == len(rows)  # unique in the table (SPEC 8)


def test_a_second_ingest_and_build_change_nothing(pilot):
    def snapshot() -> dict[str, tuple[int, int]]:
        root = Path(pilot.warehouse)
        return {str(p.relative_to(root)): (p.stat().st_ino, p.stat().st_mtime_ns) for p in root.rglob("*.parquet")}

    before = snapshot()
    again = ingest(pilot)
    result = build(pilot)

    assert again.outcomes == [] and again.already_seen == 69
    assert (result.written, result.removed) == (0, 0)
    assert snapshot() == before


def test_status_board_on_the_sample(pilot):
    from jianfu.collection import status_board

    board = status_board(pilot, as_of=date(2026, 11, 21), send_reminders=False)
    cells = {(c.county_code, c.kind, c.period): c.status for c in board.rows}

    assert cells[("421127", "form_counts", "2026-08")] == "accepted"
    assert cells[("620725", "work_groups", "2026-10")] == "rejected"  # only a rejected file, never re-sent
    assert cells[("421127", "form_counts", "2026-11")] == "pending"  # due 2026-12-05
    assert "late" in {s for (_, _, _), s in cells.items()}
    # A county that never submitted: missing where past due, pending where not yet due.
    assert cells[(SILENT_COUNTY, "form_counts", "2026-09")] == "missing"
    assert cells[(SILENT_COUNTY, "work_groups", "2026-11")] == "pending"
    assert cells[(SILENT_COUNTY, "inspections", "2026")] == "missing"
    assert set(cells.values()) >= {"accepted", "accepted_with_warnings", "late", "rejected", "missing", "pending"}


def test_status_board_as_of_an_earlier_day_sees_only_what_had_arrived(pilot):
    from jianfu.collection import status_board

    board = status_board(pilot, as_of=date(2026, 9, 3), send_reminders=False)
    cells = {(c.county_code, c.kind, c.period): c.status for c in board.rows}

    # On 3 September the August month was not yet due (5 September): sent or pending, never missing.
    august = {s for (county, kind, period), s in cells.items() if period == "2026-08" and county != SILENT_COUNTY}
    assert august <= {"accepted", "accepted_with_warnings", "pending", "rejected"}
    assert not any(period == "2026-10" for (_, _, period) in cells)


def test_admission_check_of_the_sample_proposals(pilot):
    from jianfu.collection import check_form
    from jianfu.sample.proposals import PROPOSALS

    result = check_form(pilot, pilot.home / "proposals" / "proposed_forms.csv")
    rows = list(csv.DictReader(io.StringIO(result.render("csv"))))
    verdicts = {r["proposed_form"]: r["verdict"] for r in rows}

    assert verdicts == {name: verdict for name, _, _, _, verdict, _ in PROPOSALS}
    reuse = [r for r in rows if r["verdict"] == "reuse"]
    assert reuse[0]["form_name"] == "食品安全检查月报" and float(reuse[0]["similarity"]) == 1.0
    assert int(reuse[0]["units_filling"]) > 0
    review = [r for r in rows if r["verdict"] == "review"]
    assert {r["form_name"] for r in review} == {"安全生产隐患排查周报"}
    assert 0.3 <= float(review[0]["similarity"]) < 0.6
    admit = [r for r in rows if r["verdict"] == "admit"]
    assert len(admit) == 1 and admit[0]["form_id"] == ""
