"""Joint visits (SPEC.md section 13): each rule pinned by a hand-made plan, the greedy checked
against a brute-force search over every grouping, and the pilot sample end to end, CLI included."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from conftest import NOW
from jianfu.config import ConfigError, Settings
from jianfu.ingest.pipeline import ingest
from jianfu.joint import PROPOSAL_COLUMNS, PlanRow, joint_proposals, joint_result, propose, window
from jianfu.joint.plan import candidates
from jianfu.joint.render import render_csv
from jianfu.sample import generate
from jianfu.warehouse.build import build

JIANFU = str(Path(sys.executable).with_name("jianfu"))
COUNTY = "421127"
T1, T2 = "421127100201", "421127100202"
AS_OF = date(2026, 6, 30)
SHIFT = 15


def visit(dept: str, item: str, planned: date, target: str = T1, status: str = "planned",
          county: str = COUNTY, year: int = 2026) -> PlanRow:
    return PlanRow(county, year, f"{county}-{dept}" if "-" not in dept else dept, item, target, planned, status)


def d(month: int, day: int, year: int = 2026) -> date:
    return date(year, month, day)


def run(rows: list[PlanRow], as_of: date = AS_OF, shift: int = SHIFT, year: int = 2026):
    return propose(rows, year=year, as_of=as_of, shift_days=shift)


# --- windows ----------------------------------------------------------------------------------

def test_a_window_is_planned_date_plus_minus_the_shift():
    assert window(d(8, 20), AS_OF, 2026, SHIFT) == (d(8, 5), d(9, 4))


def test_a_window_stops_at_the_first_and_last_day_of_the_year():
    as_of_last_year = date(2025, 12, 20)

    assert window(d(1, 5), as_of_last_year, 2026, SHIFT) == (d(1, 1), d(1, 20))
    assert window(d(12, 25), AS_OF, 2026, SHIFT) == (d(12, 10), d(12, 31))


def test_a_window_never_reaches_as_of_or_before():
    assert window(d(7, 5), AS_OF, 2026, SHIFT) == (d(7, 1), d(7, 20))
    assert window(d(7, 1), AS_OF, 2026, SHIFT) == (d(7, 1), d(7, 16))


# --- candidates -------------------------------------------------------------------------------

def test_done_cancelled_past_and_other_years_visits_are_not_candidates():
    rows = [
        visit("AGRI", "done", d(8, 1), status="done"),
        visit("AGRI", "cancelled", d(8, 2), status="cancelled"),
        visit("AGRI", "on-as-of", AS_OF),
        visit("AGRI", "before", d(6, 1)),
        visit("AGRI", "next-year", d(8, 3, 2027), year=2027),
        visit("AGRI", "day-after", d(7, 1)),
    ]

    got = candidates(rows, year=2026, as_of=AS_OF, shift_days=SHIFT)

    assert [c.row.item_id for c in got] == ["day-after"]


def test_excluded_visits_never_join_a_group():
    rows = [visit("AGRI", "A", d(8, 1)), visit("EDU", "done", d(8, 1), status="done"),
            visit("HEALTH", "cancelled", d(8, 2), status="cancelled"), visit("WATER", "past", d(6, 29))]

    proposals, summary = run(rows)

    assert proposals == []
    assert (summary.candidates, summary.proposals, summary.visits_after_merging) == (1, 0, 1)


# --- grouping ---------------------------------------------------------------------------------

def test_two_visits_exactly_twice_the_shift_apart_merge_on_the_one_common_day():
    rows = [visit("AGRI", "A", d(8, 1)), visit("EDU", "B", d(8, 31))]

    (p,), summary = run(rows)

    assert p.window == (d(8, 16), d(8, 16)) and p.proposed_date == d(8, 16)
    assert (p.visits_merged, p.visits_saved, summary.visits_after_merging) == (2, 1, 1)


def test_two_visits_one_day_more_apart_stay_two_visits():
    rows = [visit("AGRI", "A", d(8, 1)), visit("EDU", "B", d(9, 1))]

    proposals, summary = run(rows)

    assert proposals == []
    assert (summary.candidates, summary.visits_after_merging, summary.reduction_pct) == (2, 2, 0.0)


def test_a_chain_makes_the_greedy_start_a_new_group():
    # Windows [08-05, 09-04], [08-25, 09-24], [09-14, 10-14]: the first two meet on 09-04, the third
    # cannot (it starts 09-14), and a new group starts with it.
    rows = [visit("AGRI", "A", d(8, 20)), visit("EDU", "B", d(9, 9)), visit("HEALTH", "C", d(9, 29))]

    (p,), summary = run(rows)

    assert p.visits == "421127-AGRI:A@2026-08-20;421127-EDU:B@2026-09-09"
    assert (summary.candidates, summary.proposals, summary.visits_after_merging) == (3, 1, 2)


def test_each_target_is_grouped_on_its_own():
    rows = [visit("AGRI", "A", d(8, 1), T1), visit("EDU", "B", d(8, 2), T2)]

    proposals, summary = run(rows)

    assert proposals == [] and summary.visits_after_merging == 2


def test_one_department_visiting_twice_is_merged_too():
    rows = [visit("AGRI", "A", d(8, 1)), visit("AGRI", "B", d(8, 10))]

    (p,), _ = run(rows)

    assert (p.departments, p.lead_dept_code, p.proposed_date) == (1, "421127-AGRI", d(8, 1))


# --- lead department, lead visit, proposed date -----------------------------------------------

def test_the_department_with_more_planned_rows_anywhere_in_the_county_leads():
    rows = [visit("AGRI", "A", d(8, 1)), visit("EDU", "B", d(8, 10)),
            # EDU's other planned rows: another target, and a date before as_of (still planned)
            visit("EDU", "C", d(10, 1), T2), visit("EDU", "D", d(5, 1), T2),
            # AGRI's done and cancelled rows do not count
            visit("AGRI", "E", d(3, 1), T2, status="done"), visit("AGRI", "F", d(3, 2), T2, status="done"),
            visit("AGRI", "G", d(3, 3), T2, status="cancelled")]

    proposals, _ = run(rows)

    assert [(p.lead_dept_code, p.lead.row.item_id, p.proposed_date) for p in proposals] == [
        ("421127-EDU", "B", d(8, 10))]


def test_planned_rows_of_another_county_do_not_count():
    rows = [visit("AGRI", "A", d(8, 1)), visit("EDU", "B", d(8, 10)),
            visit("140404-EDU", "C", d(10, 1), "140404100201", county="140404"),
            visit("140404-EDU", "D", d(10, 2), "140404100202", county="140404")]

    (p,), _ = run(rows)

    assert p.lead_dept_code == "421127-AGRI"  # a tie in 421127 (1 each): the smaller dept_code


def test_a_tie_in_planned_rows_goes_to_the_smallest_dept_code():
    rows = [visit("WATER", "A", d(8, 1)), visit("EDU", "B", d(8, 10)),
            visit("WATER", "C", d(10, 1), T2), visit("EDU", "D", d(11, 1), T2)]

    proposals, _ = run(rows)

    assert [p.lead_dept_code for p in proposals] == ["421127-EDU"]


def test_the_lead_visit_is_the_lead_departments_earliest_then_smallest_item():
    rows = [visit("AGRI", "Z", d(8, 5)), visit("AGRI", "B", d(8, 5)), visit("AGRI", "A", d(8, 9)),
            visit("EDU", "E", d(8, 1))]

    (p,), _ = run(rows)

    assert (p.lead.row.item_id, p.proposed_date) == ("B", d(8, 5))


def test_a_lead_visit_outside_the_common_window_is_moved_to_its_nearest_day():
    # Windows [07-17, 08-16] and [08-06, 09-05]: common [08-06, 08-16]. HEALTH leads (2 rows).
    early = [visit("HEALTH", "H", d(8, 1)), visit("EDU", "E", d(8, 21)), visit("HEALTH", "X", d(11, 1), T2)]
    late = [visit("HEALTH", "H", d(8, 21)), visit("EDU", "E", d(8, 1)), visit("HEALTH", "X", d(11, 1), T2)]

    (p_early,), _ = run(early)
    (p_late,), _ = run(late)

    assert (p_early.lead.row.item_id, p_early.window, p_early.proposed_date) == ("H", (d(8, 6), d(8, 16)), d(8, 6))
    assert (p_late.lead.row.item_id, p_late.proposed_date) == ("H", d(8, 16))


def test_a_lead_visit_inside_the_common_window_keeps_its_date():
    rows = [visit("AGRI", "A", d(8, 10)), visit("EDU", "B", d(8, 12))]

    (p,), _ = run(rows)

    assert p.proposed_date == d(8, 10)


# --- output -----------------------------------------------------------------------------------

def test_a_proposal_row_has_exactly_the_spec_columns_and_sorted_visits():
    rows = [visit("WATER", "W1", d(8, 3)), visit("AGRI", "A9", d(8, 4)), visit("AGRI", "A10", d(8, 5))]

    (p,), summary = run(rows)

    assert p.row() == {"year": 2026, "county_code": COUNTY, "target_unit_code": T1, "proposed_date": "2026-08-04",
                       "lead_dept_code": "421127-AGRI", "departments": 2,
                       "visits": "421127-AGRI:A10@2026-08-05;421127-AGRI:A9@2026-08-04;421127-WATER:W1@2026-08-03",
                       "visits_merged": 3, "visits_saved": 2}
    assert tuple(p.row()) == PROPOSAL_COLUMNS
    assert summary.as_dict() == {"candidates": 3, "proposals": 1, "visits_after_merging": 1,
                                 "reduction_pct": 66.7, "year": 2026, "as_of": "2026-06-30"}


def test_the_summary_is_kept_per_county_too():
    rows = [visit("AGRI", "A", d(8, 1)), visit("EDU", "B", d(8, 2)),
            visit("140404-EDU", "C", d(10, 1), "140404100201", county="140404")]

    _, summary = run(rows)

    assert {c: (s.candidates, s.proposals, s.visits_after_merging) for c, s in summary.by_county.items()} == {
        "140404": (1, 0, 1), COUNTY: (2, 1, 1)}


def test_csv_cells_cannot_start_a_spreadsheet_formula():
    rows = [PlanRow(COUNTY, 2026, "=HYPERLINK(1)", "A", T1, d(8, 1), "planned"),
            PlanRow(COUNTY, 2026, "=HYPERLINK(1)", "B", T1, d(8, 2), "planned")]
    proposals, _ = run(rows)

    got = list(csv.DictReader(io.StringIO(render_csv(proposals))))

    assert got[0]["lead_dept_code"] == "'=HYPERLINK(1)"
    assert got[0]["visits"].startswith("'=HYPERLINK(1):A@2026-08-01;")


def test_the_same_rows_in_any_order_give_the_same_proposals():
    rows = [visit("AGRI", "A", d(8, 20)), visit("EDU", "B", d(9, 9)), visit("HEALTH", "C", d(9, 29)),
            visit("WATER", "D", d(9, 30)), visit("AGRI", "E", d(8, 21), T2), visit("EDU", "F", d(8, 22), T2)]

    first = [p.row() for p in run(rows)[0]]
    again = [p.row() for p in run(rows[::-1])[0]]

    assert first == again and len(first) == 3


# --- the oracle: the greedy gives the fewest visits -------------------------------------------

def _partitions(items: list[int]):
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in _partitions(rest):
        yield [[first], *part]
        for i in range(len(part)):
            yield [*part[:i], [first, *part[i]], *part[i + 1:]]


def _fewest_visits(windows: list[tuple[date, date]]) -> int:
    """Brute force: the smallest number of groups whose windows each share a day."""
    return min(len(part) for part in _partitions(list(range(len(windows))))
               if all(max(windows[i][0] for i in g) <= min(windows[i][1] for i in g) for g in part))


_days = st.integers(min_value=0, max_value=364)


@st.composite
def plans(draw):
    as_of = date(2026, 1, 1) + timedelta(days=draw(st.integers(min_value=-20, max_value=300)))
    shift = draw(st.integers(min_value=0, max_value=20))
    n = draw(st.integers(min_value=1, max_value=7))
    rows = []
    for k in range(n):
        planned = date(2026, 1, 1) + timedelta(days=draw(_days))
        dept = draw(st.sampled_from(["AGRI", "EDU", "HEALTH"]))
        status = draw(st.sampled_from(["planned", "planned", "planned", "done", "cancelled"]))
        target = draw(st.sampled_from([T1, T2]))
        rows.append(visit(dept, f"I{k}", planned, target, status))
    return rows, as_of, shift


@hsettings(max_examples=300, deadline=None)
@given(plans())
def test_the_greedy_gives_the_fewest_visits_and_covers_every_candidate_once(plan):
    rows, as_of, shift = plan

    proposals, summary = run(rows, as_of=as_of, shift=shift)

    cands = candidates(rows, year=2026, as_of=as_of, shift_days=shift)
    fewest = sum(_fewest_visits([(c.start, c.end) for c in cands if c.row.target_unit_code == t])
                 for t in {c.row.target_unit_code for c in cands})
    merged = [m.label for p in proposals for m in p.members]
    singles = summary.visits_after_merging - summary.proposals
    assert summary.candidates == len(cands)
    assert summary.visits_after_merging == fewest
    assert len(merged) == len(set(merged)) and set(merged) <= {c.label for c in cands}
    assert len(merged) + singles == len(cands)
    for p in proposals:
        assert all(m.start <= p.proposed_date <= m.end for m in p.members)
        assert p.proposed_date > as_of and p.proposed_date.year == 2026
        assert {m.row.target_unit_code for m in p.members} == {p.target_unit_code}


# --- the pilot sample -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pilot(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("joint") / "home"
    settings = Settings.from_env({"JIANFU_HOME": str(home), "JIANFU_NOW": NOW.isoformat()})
    generate(home, seed=7, scale="pilot", now=NOW)
    ingest(settings)
    build(settings)
    return settings


#: 黄梅县's proposals as of 2026-06-30 (the planted JOINT-planned case of jianfu.sample.planted).
HUANGMEI_PROPOSALS = [
    {"year": 2026, "county_code": "421127", "target_unit_code": "421127101218", "proposed_date": "2026-12-10",
     "lead_dept_code": "421127-EMERG", "departments": 2,
     "visits": "421127-AGRI:AGRI-J01@2026-11-25;421127-EMERG:EMERG-J01@2026-12-15",
     "visits_merged": 2, "visits_saved": 1},
    {"year": 2026, "county_code": "421127", "target_unit_code": "421127101225", "proposed_date": "2026-12-16",
     "lead_dept_code": "421127-EDU", "departments": 2,
     "visits": "421100-HEALTH:HEALTH-J02@2026-12-31;421127-EDU:EDU-J02@2026-12-01",
     "visits_merged": 2, "visits_saved": 1},
]


def test_the_pilot_sample_gives_huangmeis_planted_joint_visits(pilot):
    proposals, summary = joint_proposals(pilot, as_of=AS_OF)

    assert [p.row() for p in proposals if p.county_code == "421127"] == HUANGMEI_PROPOSALS
    assert summary.by_county["421127"].candidates == 6  # the two pairs and the pair 31 days apart
    assert summary.by_county["421127"].visits_after_merging == 4
    assert summary.year == 2026 and summary.as_of == AS_OF


def test_as_of_defaults_to_the_offices_today(pilot):
    proposals, summary = joint_proposals(pilot)

    assert summary.as_of == date(2026, 11, 21)  # NOW is 12:00 UTC, 20:00 in Asia/Shanghai
    assert [p.row() for p in proposals if p.county_code == "421127"] == HUANGMEI_PROPOSALS


def with_shift(pilot: Settings, folder: Path, value: str) -> Settings:
    """The pilot's settings with a copy of its reference whose rules.yaml sets joint_shift_days."""
    reference = folder / "reference"
    shutil.copytree(pilot.reference, reference)
    text = (reference / "rules.yaml").read_text(encoding="utf-8")
    assert "joint_shift_days: 15\n" in text
    (reference / "rules.yaml").write_text(text.replace("joint_shift_days: 15\n", f"joint_shift_days: {value}\n"),
                                          encoding="utf-8")
    return Settings.from_env({**pilot.env, "JIANFU_REFERENCE": str(reference)})


def test_joint_shift_days_comes_from_rules_yaml(pilot, tmp_path):
    narrow = with_shift(pilot, tmp_path, "9")

    result = joint_result(narrow, as_of=AS_OF)

    assert result.shift_days == 9
    # 20 and 30 days apart no longer meet within 9 days either way
    assert [p for p in result.proposals if p.county_code == "421127"] == []


@pytest.mark.parametrize("value", ["-1", "7.5"])
def test_a_shift_that_is_not_a_whole_number_of_days_is_a_config_error(pilot, tmp_path, value):
    wrong = with_shift(pilot, tmp_path, value)

    with pytest.raises(ConfigError, match="joint_shift_days must be a whole number of days"):
        joint_result(wrong, as_of=AS_OF)


# --- the command ------------------------------------------------------------------------------

def jianfu(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([JIANFU, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env})


def test_jianfu_joint_csv_prints_the_rows_and_the_summary_on_stderr(pilot):
    result = jianfu("joint", "--as-of", "2026-06-30", "--format", "csv", env=pilot.env)

    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert tuple(rows[0]) == PROPOSAL_COLUMNS
    assert [r for r in rows if r["county_code"] == "421127"] == [
        {k: str(v) for k, v in p.items()} for p in HUANGMEI_PROPOSALS]
    _, summary = joint_proposals(pilot, as_of=AS_OF)
    assert result.stderr.strip() == summary.describe()
    assert f"planned visits ahead: {summary.candidates}" in result.stderr


def test_jianfu_joint_json_gives_proposals_and_summary(pilot):
    result = jianfu("joint", "--as-of", "2026-06-30", "--year", "2026", "--format", "json", env=pilot.env)

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [p for p in data["proposals"] if p["county_code"] == "421127"] == HUANGMEI_PROPOSALS
    assert set(data["summary"]) >= {"candidates", "proposals", "visits_after_merging", "reduction_pct"}
    assert data["summary"]["proposals"] == len(data["proposals"])


def test_jianfu_joint_table_names_county_target_and_departments(pilot):
    result = jianfu("joint", "--as-of", "2026-06-30", env=pilot.env)

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "黄梅县 421127" in out
    assert "建议 2026-12-10" in out and "牵头 lead 黄梅县应急管理局" in out
    assert "黄冈市卫生健康委员会 421100-HEALTH HEALTH-J02" in out
    assert "reduction:" in out.splitlines()[-1]


@pytest.mark.parametrize("make_home", [False, True])
def test_jianfu_joint_without_a_warehouse_fails_in_one_line(tmp_path, make_home):
    home = tmp_path / "home"
    if make_home:
        home.mkdir()
    env = {"JIANFU_HOME": str(home), "JIANFU_NOW": NOW.isoformat()}

    result = jianfu("joint", env=env)

    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [["joint", "--year", "26"], ["joint", "--as-of", "30/06/2026"],
                                  ["joint", "--format", "xml"]])
def test_jianfu_joint_usage_errors_exit_2(args, tmp_path):
    result = jianfu(*args, env={"JIANFU_HOME": str(tmp_path)})

    assert result.returncode == 2
    assert result.stderr.startswith("jianfu: error: ") and result.stderr.count("\n") == 1


def test_the_worked_example_in_docs_is_what_the_command_prints(pilot):
    doc = (Path(__file__).parent.parent / "docs" / "JOINT.md").read_text(encoding="utf-8")
    example = doc.split("`--format csv` prints (summary on stderr):\n\n```\n", 1)[1].split("\n```", 1)[0]

    result = jianfu("joint", "--as-of", "2026-06-30", "--format", "csv", env=pilot.env)

    lines = result.stdout.splitlines()
    assert example.splitlines() == [lines[0]] + [line for line in lines[1:] if ",421127," in line]


def test_jianfu_joint_on_a_new_empty_warehouse_proposes_nothing(tmp_path):
    env = {"JIANFU_HOME": str(tmp_path / "home"), "JIANFU_NOW": NOW.isoformat()}
    assert jianfu("init", "--no-docs", env=env).returncode == 0

    result = jianfu("joint", "--format", "json", env=env)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"proposals": [], "summary": {
        "candidates": 0, "proposals": 0, "visits_after_merging": 0, "reduction_pct": 0.0,
        "year": 2026, "as_of": "2026-11-21"}}
