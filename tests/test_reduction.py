"""Reduction tracking (SPEC.md section 14): hand-made months pin each column; random months are
compared with the plain-Python oracle of tests/reduction_oracle.py; a one-county resubmission
rewrites only that county's reduction rows."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jianfu.config import RULE_DEFAULTS
from jianfu.flags import reduction, relations
from jianfu.schema import REDUCTION_SCHEMA

sys.path.insert(0, str(Path(__file__).parent))
import reduction_oracle as oracle  # noqa: E402

COUNTY, OTHER = "421127", "421182"
TOWN, VILLAGE, TOWN2 = "421127100000", "421127100201", "421127101000"
AGRI, CIVIL = "421127-AGRI", "421127-CIVIL"
UNITS = [dict(unit_code=u, unit_name=f"单位{u[-6:]}", level=lv) for u, lv in (
    ("421127000000", "county"), (TOWN, "township"), (VILLAGE, "village"), (TOWN2, "township"),
    ("421182000000", "county"), ("421182100000", "township"))]
DEPARTMENTS = [dict(dept_code=d, dept_name=d) for d in (AGRI, CIVIL)]


def form(period: str, form_id: str = "F1", *, unit: str = TOWN, dept: str = AGRI, frequency: str = "monthly",
         fills: int = 1, fields: int = 10, hours: float | None = 1.0, county: str = COUNTY) -> dict:
    return dict(county_code=county, period=period, unit_code=unit, form_id=form_id, form_name=f"表{form_id}",
                dept_code=dept, frequency=frequency, fill_count=fills, field_count=fields, hours_spent=hours,
                channel=None, data_items=None, submission_id="s")


def group(period: str, group_id: str = "G1", *, unit: str = TOWN, last_active: date | None = None,
          county: str = COUNTY) -> dict:
    return dict(county_code=county, period=period, unit_code=unit, group_id=group_id, group_name="群",
                platform="wechat", owner_dept_code=AGRI, purpose="permanent", created_date=date(2020, 1, 1),
                last_active_date=last_active or oracle.period_end(period), member_count=5, messages_30d=None,
                task_end_date=None, submission_id="s")


def visit(year: int, item: str, planned: date, *, status: str = "planned", actual: date | None = None,
          county: str = COUNTY) -> dict:
    return dict(county_code=county, year=year, item_id=item, dept_code=AGRI, category="inspection", topic="检查",
                target_unit_code=TOWN, planned_date=planned, actual_date=actual, status=status, in_plan=True,
                joint_depts=None, approval_ref=None, submission_id="s")


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect(config={"threads": 1})
    yield connection
    connection.close()


def rows_of(con, forms=(), groups=(), visits=(), rules=None) -> dict[tuple[str, str], dict]:
    relations.load(con, form_counts=forms, work_groups=groups, inspections=visits, units=UNITS,
                   departments=DEPARTMENTS)
    table = reduction(con, {**RULE_DEFAULTS, **(rules or {})})
    assert table.schema == REDUCTION_SCHEMA
    return {(r["county_code"], r["period"]): r for r in table.to_pylist()}


# --- forms ---------------------------------------------------------------------------------------

def test_forms_cancelled_added_and_less_frequent_against_the_month_before(con):
    before = [form("2024-01", "KEEP", frequency="weekly"), form("2024-01", "CUT"), form("2024-01", "SAME"),
              form("2024-01", "ADHOC", frequency="weekly"), form("2024-01", "ZERO_NOW"),
              form("2024-01", "UP", frequency="monthly")]
    now = [form("2024-02", "KEEP", frequency="monthly"),  # weekly -> monthly: less frequent
           form("2024-02", "SAME"), form("2024-02", "NEW"),
           form("2024-02", "ADHOC", frequency="adhoc"),  # to adhoc: no rank, not counted
           form("2024-02", "ZERO_NOW", fills=0),  # listed but not filled: cancelled
           form("2024-02", "UP", frequency="weekly")]  # more often: not counted

    got = rows_of(con, forms=before + now)[(COUNTY, "2024-02")]

    assert (got["forms"], got["forms_prev"]) == (5, 6)
    assert (got["forms_cancelled"], got["forms_added"], got["forms_less_frequent"]) == (2, 1, 1)


def test_a_forms_frequency_in_a_month_is_the_highest_among_its_rows(con):
    before = [form("2024-01", unit=TOWN, frequency="daily"), form("2024-01", unit=VILLAGE, frequency="annual")]
    now = [form("2024-02", unit=TOWN, frequency="weekly"), form("2024-02", unit=VILLAGE, frequency="weekly")]

    got = rows_of(con, forms=before + now)[(COUNTY, "2024-02")]

    assert got["forms_less_frequent"] == 1  # daily (highest of January) -> weekly


def test_fills_entries_and_hours_of_the_month(con):
    forms = [form("2024-02", "A", fills=3, fields=10, hours=2.5), form("2024-02", "B", fills=0, fields=7, hours=None),
             form("2024-02", "C", unit=VILLAGE, fills=2, fields=5, hours=1.0)]

    got = rows_of(con, forms=forms)[(COUNTY, "2024-02")]

    assert (got["forms"], got["fills"], got["field_entries"], got["hours"]) == (2, 5, 40, 3.5)


def test_a_month_missing_on_either_side_gives_null(con):
    forms = [form("2024-01"), form("2024-03")]  # no February
    groups = [group("2024-02")]  # February has groups only

    got = rows_of(con, forms=forms, groups=groups)

    feb, mar = got[(COUNTY, "2024-02")], got[(COUNTY, "2024-03")]
    assert feb["forms"] is None and feb["fills"] is None and feb["hours"] is None
    assert feb["forms_cancelled"] is None and feb["forms_prev"] == 1
    assert (mar["forms"], mar["forms_prev"], mar["forms_cancelled"], mar["forms_added"]) == (1, None, None, None)
    assert mar["groups"] is None and mar["groups_prev"] == 1 and mar["groups_dissolved"] is None
    jan = got[(COUNTY, "2024-01")]
    assert jan["groups"] is None and jan["forms_prev"] is None


def test_fills_a_year_before_present_and_absent(con):
    forms = [form("2023-02", fills=7), form("2024-02", fills=3), form("2024-03", fills=2)]

    got = rows_of(con, forms=forms)

    assert got[(COUNTY, "2024-02")]["fills_yoy"] == 7
    assert got[(COUNTY, "2024-03")]["fills_yoy"] is None
    assert got[(COUNTY, "2023-02")]["fills_prev"] is None


# --- groups --------------------------------------------------------------------------------------

def test_groups_dissolved_created_and_zombies(con):
    before = [group("2024-01", "G1"), group("2024-01", "G2"), group("2024-01", "G3"),
              group("2024-01", "G1", unit=VILLAGE)]
    now = [group("2024-02", "G1"), group("2024-02", "G4", last_active=date(2023, 12, 1)),  # 90 days: zombie
           group("2024-02", "G5", last_active=date(2023, 12, 2))]  # 89 days: not yet

    got = rows_of(con, groups=before + now)[(COUNTY, "2024-02")]

    assert (got["groups"], got["groups_prev"]) == (3, 4)
    assert (got["groups_dissolved"], got["groups_created"], got["zombie_groups"]) == (3, 2, 1)
    assert got["forms"] is None and got["visits"] is None


# --- visits --------------------------------------------------------------------------------------

def test_visits_by_eff_date_across_the_year_boundary(con):
    forms = [form("2023-12"), form("2024-01"), form("2024-02")]
    visits = [
        visit(2023, "A", date(2023, 12, 5)),
        visit(2023, "B", date(2023, 11, 20), status="done", actual=date(2023, 12, 28)),  # done: actual date
        visit(2023, "C", date(2023, 12, 9), status="cancelled"),  # not a visit
        visit(2024, "D", date(2024, 1, 2)),
        visit(2024, "E", date(2024, 3, 2), status="done", actual=date(2024, 1, 31)),
    ]

    got = rows_of(con, forms=forms, visits=visits)

    assert got[(COUNTY, "2023-12")]["visits"] == 2
    assert got[(COUNTY, "2024-01")]["visits"] == 2
    assert got[(COUNTY, "2024-02")]["visits"] == 0  # the 2024 plan is in force, no visit that month


def test_visits_are_null_without_a_plan_in_force_for_the_year(con):
    forms = [form("2024-02"), form("2024-02", county=OTHER, unit="421182100000")]
    visits = [visit(2023, "A", date(2023, 12, 5)), visit(2024, "B", date(2024, 2, 5), county=OTHER)]

    got = rows_of(con, forms=forms, visits=visits)

    assert got[(COUNTY, "2024-02")]["visits"] is None  # only a 2023 plan for this county
    assert got[(OTHER, "2024-02")]["visits"] == 1


def test_each_county_alone_equals_all_counties(con):
    forms = [form("2024-02"), form("2024-02", county=OTHER, unit="421182100000", fills=4)]
    relations.load(con, form_counts=forms, units=UNITS, departments=DEPARTMENTS)

    whole = reduction(con, RULE_DEFAULTS).to_pylist()
    parts = [r for c in (COUNTY, OTHER) for r in reduction(con, RULE_DEFAULTS, [c]).to_pylist()]

    assert parts == whole and len(whole) == 2


# --- against the oracle --------------------------------------------------------------------------

PERIODS = ("2023-01", "2023-02", "2023-12", "2024-01", "2024-02")
FREQUENCIES = ("daily", "weekly", "monthly", "quarterly", "semiannual", "annual", "once", "adhoc")


@st.composite
def months(draw) -> dict:
    forms, groups, visits = [], [], []
    for county in (COUNTY, OTHER):
        units = [f"{county}100000", f"{county}100201"]
        for period in draw(st.sets(st.sampled_from(PERIODS), max_size=4)):
            keys = draw(st.sets(st.tuples(st.sampled_from(units), st.sampled_from((AGRI, CIVIL)),
                                          st.sampled_from(("F1", "F2", "F3"))), min_size=1, max_size=6))
            for unit, dept, form_id in sorted(keys):
                forms.append(form(period, form_id, unit=unit, dept=dept, county=county,
                                  frequency=draw(st.sampled_from(FREQUENCIES)), fills=draw(st.integers(0, 3)),
                                  fields=draw(st.integers(1, 9)), hours=draw(st.sampled_from((None, 0.5, 2.0)))))
        for period in draw(st.sets(st.sampled_from(PERIODS), max_size=4)):
            for unit, gid in sorted(draw(st.sets(st.tuples(st.sampled_from(units), st.sampled_from(("G1", "G2", "G3"))),
                                                 min_size=1, max_size=4))):
                groups.append(group(period, gid, unit=unit, county=county,
                                    last_active=draw(st.sampled_from((date(2022, 6, 1), date(2023, 10, 3),
                                                                       date(2023, 11, 2), date(2023, 1, 1))))))
        for year in draw(st.sets(st.sampled_from((2023, 2024)), max_size=2)):
            for n in range(draw(st.integers(0, 4))):
                planned = date(year, draw(st.sampled_from((1, 2, 12))), draw(st.integers(1, 28)))
                status = draw(st.sampled_from(("planned", "done", "cancelled")))
                actual = date(year, draw(st.sampled_from((1, 2, 12))), 15) if status == "done" else None
                visits.append(visit(year, f"I{n}", planned, status=status, actual=actual, county=county))
    return dict(forms=forms, groups=groups, visits=visits, zombie_days=draw(st.sampled_from((30, 90, 400))))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=months())
def test_reduction_equals_the_oracle(con, data):
    got = rows_of(con, data["forms"], data["groups"], data["visits"], {"zombie_days": data["zombie_days"]})

    expected = oracle.reduction(data["forms"], data["groups"], data["visits"], data["zombie_days"])

    assert sorted(got) == [(r["county_code"], r["period"]) for r in expected]
    for row in expected:
        assert got[(row["county_code"], row["period"])] == pytest.approx(row), row


# --- incremental -----------------------------------------------------------------------------------

def test_a_one_county_resubmission_recomputes_only_that_countys_reduction_rows(tmp_path):
    from test_warehouse import WarehouseHome, county_rows, province_tables

    home = WarehouseHome(tmp_path / "home")
    home.populate()
    home.build()
    before = province_tables(home)

    home.submit("form_counts", "421182", "2026-09", seed=2)  # other fill counts, same forms
    result = home.build()

    assert result.recomputed_counties == ["421182"]
    assert county_rows(province_tables(home), "421127") == county_rows(before, "421127")
    con = duckdb.connect()
    fills = con.execute(f"SELECT fills FROM '{home.settings.warehouse}/reduction/*.parquet' "
                        "WHERE county_code = '421182' AND period = '2026-09'").fetchall()
    expected = sum(r["fill_count"] for r in home.rows("form_counts", "421182", "2026-09", seed=2))
    assert fills == [(expected,)]


def test_a_catalog_recomputed_from_the_same_inputs_rewrites_no_file(tmp_path):
    """The catalog's inputs live in a note beside the tables; without it (a build killed after
    publishing the catalog, before the note) the catalog is recomputed and, its rows being equal,
    no file is written: sums of hours do not depend on the order rows are added in."""
    from test_warehouse import WarehouseHome, file_state

    home = WarehouseHome(tmp_path / "home")
    home.populate()
    home.build()
    before = file_state(home.settings.warehouse)
    (Path(home.settings.warehouse) / ".inputs" / "form_catalog").unlink()

    result = home.build()

    assert result.written == 0 and file_state(home.settings.warehouse) == before
    assert (Path(home.settings.warehouse) / ".inputs" / "form_catalog").exists()
