"""The form catalog (SPEC.md section 15): hand-made forms pin each column and the overlap groups;
random forms are compared with the plain-Python oracle of tests/reduction_oracle.py."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from jianfu.config import RULE_DEFAULTS
from jianfu.flags import form_catalog, form_facts, form_usage, relations
from jianfu.schema import FORM_CATALOG_SCHEMA

sys.path.insert(0, str(Path(__file__).parent))
import reduction_oracle as oracle  # noqa: E402

COUNTY, OTHER = "421127", "421182"
TOWN, VILLAGE = "421127100000", "421127100201"
OTHER_TOWN = "421182100000"
AGRI, CIVIL, EDU, CITY = "421127-AGRI", "421127-CIVIL", "421127-EDU", "421100-STATS"


def form(dept: str, form_id: str, items: str | None, *, period: str = "2024-02", unit: str = TOWN,
         name: str | None = None, frequency: str = "monthly", fills: int = 1, fields: int = 10,
         hours: float | None = 1.0) -> dict:
    return dict(county_code=unit[:6], period=period, unit_code=unit, form_id=form_id,
                form_name=name or f"{dept}{form_id}", dept_code=dept, frequency=frequency, fill_count=fills,
                field_count=fields, hours_spent=hours, channel=None, data_items=items, submission_id="s")


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect(config={"threads": 1})
    yield connection
    connection.close()


def catalog_of(con, forms, rules=None) -> dict[tuple[str, str], dict]:
    """The catalog as a build makes it: form_usage of the form_counts rows, then the catalog of that."""
    relations.load(con, form_counts=forms)
    rules = {**RULE_DEFAULTS, **(rules or {})}
    con.register("_jf_usage", form_usage(con, rules))
    con.execute("CREATE OR REPLACE TABLE form_usage AS SELECT * FROM _jf_usage")
    con.unregister("_jf_usage")
    table = form_catalog(con, rules, form_facts(con, rules))
    assert table.schema == FORM_CATALOG_SCHEMA
    return {(r["dept_code"], r["form_id"]): r for r in table.to_pylist()}


def groups_of(catalog: dict) -> dict[tuple[str, str], str | None]:
    return {key: row["overlap_group"] for key, row in catalog.items()}


def test_similarity_exactly_at_the_minimum_links_and_just_below_does_not(con):
    forms = [form(AGRI, "A", "甲;乙;丙"), form(CIVIL, "B", "甲;乙;丙;丁;戊"),  # 3/5 = 0.6: linked
             form(AGRI, "C", "子;丑;寅"), form(CIVIL, "D", "子;丑;寅;卯;辰;巳")]  # 3/6 = 0.5: not

    got = groups_of(catalog_of(con, forms))

    assert got[(AGRI, "A")] == got[(CIVIL, "B")] == f"{AGRI}:A"
    assert got[(AGRI, "C")] is None and got[(CIVIL, "D")] is None


def test_a_chain_across_counties_is_one_group_named_by_its_smallest_form(con):
    forms = [form(EDU, "A", "1;2;3;4"), form(CIVIL, "B", "1;2;3;4;5"),  # A~B 0.8
             form(CITY, "C", "2;3;4;5;6", unit=OTHER_TOWN),  # B~C 4/6, A~C 3/6: linked through B
             form(AGRI, "D", "x;y")]

    got = groups_of(catalog_of(con, forms))

    assert got[(EDU, "A")] == got[(CIVIL, "B")] == got[(CITY, "C")] == f"{CITY}:C"
    assert got[(AGRI, "D")] is None


def test_forms_of_the_same_department_are_never_linked(con):
    forms = [form(AGRI, "A", "甲;乙"), form(AGRI, "B", "甲;乙"), form(AGRI, "C", None, name="台账"),
             form(AGRI, "D", None, name="台 账")]

    assert set(groups_of(catalog_of(con, forms)).values()) == {None}


def test_equal_names_decide_when_a_form_lists_no_items(con):
    forms = [form(AGRI, "A", None, name="学生资助表"), form(CIVIL, "B", "甲;乙", name="学生 资助表！"),
             form(EDU, "C", "甲;乙", name="别的表")]

    got = groups_of(catalog_of(con, forms))

    assert got[(AGRI, "A")] == got[(CIVIL, "B")] == f"{AGRI}:A"
    assert got[(EDU, "C")] == f"{AGRI}:A"  # B and C share every item


def test_items_are_the_union_of_the_latest_period_only(con):
    forms = [form(AGRI, "A", "甲;乙", period="2024-01"), form(AGRI, "A", "丙", period="2024-02"),
             form(AGRI, "A", "丁", period="2024-02", unit=VILLAGE),
             form(CIVIL, "B", "丙;丁", period="2024-02"), form(EDU, "C", "甲;乙", period="2024-02")]

    got = groups_of(catalog_of(con, forms))

    assert got[(AGRI, "A")] == got[(CIVIL, "B")] and got[(EDU, "C")] is None


def test_latest_name_frequency_fields_units_and_sums(con):
    forms = [
        form(AGRI, "A", None, period="2023-12", name="旧名", frequency="daily", fields=99, fills=4, hours=2.0),
        form(AGRI, "A", None, period="2024-02", name="新名", frequency="weekly", fields=10, fills=2, hours=None),
        form(AGRI, "A", None, period="2024-02", unit=VILLAGE, name="新名", frequency="adhoc", fields=12, fills=0),
        form(AGRI, "A", None, period="2024-02", unit="421127101000", name="别名", frequency="monthly", fills=1,
             hours=1.0),
    ]

    (row,) = catalog_of(con, forms).values()

    assert (row["form_name"], row["frequency"], row["field_count"]) == ("新名", "weekly", 12)
    assert (row["counties"], row["units_latest"], row["responses_12m"]) == (1, 2, 7)
    assert row["hours_12m"] == 4.0 and row["hours_per_response"] == pytest.approx(4 / 7)
    assert (row["first_period"], row["last_period"], row["active"]) == ("2023-12", "2024-02", True)


def test_a_name_tie_goes_to_the_first_in_sort_order(con):
    forms = [form(AGRI, "A", None, name="乙表"), form(AGRI, "A", None, unit=VILLAGE, name="甲表")]

    (row,) = catalog_of(con, forms).values()

    assert row["form_name"] == min("乙表", "甲表")


def test_hours_per_response_is_null_without_responses_and_hours_null_when_all_blank(con):
    forms = [form(AGRI, "A", None, fills=0, hours=3.0), form(AGRI, "B", None, fills=2, hours=None)]

    got = catalog_of(con, forms)

    assert (got[(AGRI, "A")]["responses_12m"], got[(AGRI, "A")]["hours_per_response"]) == (0, None)
    assert got[(AGRI, "B")]["hours_12m"] is None and got[(AGRI, "B")]["hours_per_response"] is None


def test_active_only_when_last_seen_in_the_latest_month_and_only_12_months_count(con):
    forms = [form(AGRI, "OLD", None, period="2024-01"), form(AGRI, "NOW", None, period="2024-02", fills=1),
             form(AGRI, "NOW", None, period="2023-03", fills=5),  # the 12th month back: counted
             form(AGRI, "NOW", None, period="2023-02", fills=50),  # the 13th: outside the 12 months
             form(AGRI, "GONE", None, period="2023-02")]

    got = catalog_of(con, forms)

    assert got[(AGRI, "OLD")]["active"] is False and got[(AGRI, "OLD")]["last_period"] == "2024-01"
    assert got[(AGRI, "NOW")]["active"] is True
    assert got[(AGRI, "NOW")]["responses_12m"] == 6 and got[(AGRI, "NOW")]["first_period"] == "2023-02"
    assert (AGRI, "GONE") not in got


# --- against the oracle --------------------------------------------------------------------------

ITEMS = ("户主", "户 主", "人口", "人口！", "收入", "ＡＢ", "ab", "耕地", "住房", "医保", "低保")
NAMES = ("学生资助表", "学生 资助表", "ＡＢ表", "ab表", "台账", "（）")
FREQUENCIES = ("daily", "weekly", "monthly", "quarterly", "semiannual", "annual", "once", "adhoc")


@st.composite
def inventories(draw) -> dict:
    forms = []
    keys = draw(st.sets(st.tuples(st.sampled_from((AGRI, CIVIL, EDU, CITY)), st.sampled_from(("F1", "F2", "F3")),
                                  st.sampled_from((TOWN, VILLAGE, OTHER_TOWN)),
                                  st.sampled_from(("2023-01", "2023-03", "2023-12", "2024-02"))),
                        min_size=1, max_size=14))
    for dept, form_id, unit, period in sorted(keys):
        items = draw(st.one_of(st.none(), st.lists(st.sampled_from(ITEMS), max_size=7).map("；".join)))
        forms.append(form(dept, form_id, items, period=period, unit=unit, name=draw(st.sampled_from(NAMES)),
                          frequency=draw(st.sampled_from(FREQUENCIES)), fills=draw(st.integers(0, 3)),
                          fields=draw(st.integers(1, 9)), hours=draw(st.sampled_from((None, 0.5, 2.0)))))
    # 0.7 x 10 and 0.75 x 4 are where a prefix length computed in floating point could come out short
    return dict(forms=forms, similarity_min=draw(st.sampled_from((0.0, 0.3, 0.5, 0.6, 0.7, 0.75, 0.9, 1.0))))


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=inventories())
def test_catalog_equals_the_oracle(con, data):
    got = catalog_of(con, data["forms"], {"form_similarity_min": data["similarity_min"]})

    expected = oracle.catalog(data["forms"], data["similarity_min"])

    assert sorted(got) == [(r["dept_code"], r["form_id"]) for r in expected]
    for row in expected:
        oracle.assert_same_catalog_row(got[(row["dept_code"], row["form_id"])], row)


# ------------------------------------------------------------------ the catalog a build keeps up to date
def _usage_forms(county: str, draw) -> list[dict]:
    """One county-month of form_counts: forms of the county's two departments and one city form
    (shared with the other counties), with items, names and fills the test draws."""
    from test_warehouse import CITY, county_units

    units = [u[0] for u in county_units(county) if u[2] != "county"][:2]
    rows = []
    for dept, form_id in draw(st.sets(st.sampled_from(((f"{county}-AGRI", "F1"), (f"{county}-EDU", "F1"),
                                                        (f"{county}-EDU", "F2"), (f"{CITY}-HEALTH", "F1"))),
                                      min_size=1)):
        items = draw(st.lists(st.sampled_from(ITEMS[:5]), max_size=4).map("；".join))
        name = draw(st.sampled_from(NAMES[:3]))
        for unit in units:
            rows.append({"county_code": county, "unit_code": unit, "form_id": form_id, "form_name": name,
                         "dept_code": dept, "frequency": "monthly", "fill_count": draw(st.integers(0, 3)),
                         "field_count": 5, "hours_spent": 1.0, "channel": None, "data_items": items or None})
    return rows


def _catalog_files(home) -> dict[str, tuple[int, list[dict]]]:
    """Each catalog file's inode and rows."""
    files = sorted((Path(home.settings.warehouse) / "form_catalog").glob("*.parquet"))
    return {f.name: (f.stat().st_ino, pq.read_table(f).to_pylist()) for f in files}


# Not shrunk: every example runs builds, and a failing one's draws are shown as they were.
@settings(max_examples=10, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_build_recomputes_only_the_forms_whose_use_changed_and_equals_a_whole_catalog(tmp_path_factory, data):
    """Resubmissions change forms' items, names and fills, drop forms and add them; after each build
    the stored catalog equals one computed from every county's form_usage from scratch, and a build
    that only replaced counties' rows of the months already there computes just their forms."""
    from test_warehouse import WarehouseHome

    home = WarehouseHome(tmp_path_factory.mktemp("catalog"), counties=("421127", "421182", "421183"))
    for county in home.counties:
        home.submit("form_counts", county, "2026-08", rows=[{**r, "period": "2026-08"}
                                                          for r in _usage_forms(county, data.draw)])
    home.build()
    months = {"2026-08"}
    for _ in range(data.draw(st.integers(1, 3), label="resubmissions")):
        county = data.draw(st.sampled_from(home.counties), label="county")
        period = data.draw(st.sampled_from(("2026-08", "2026-08", "2026-09")), label="period")
        rows = [{**r, "period": period} for r in _usage_forms(county, data.draw)]
        home.submit("form_counts", county, period, rows=rows)
        said: list[str] = []
        before = _catalog_files(home)
        used = duckdb.sql(f"SELECT DISTINCT dept_code, form_id FROM '{home.settings.warehouse}/form_usage/*.parquet' "
                          f"WHERE county_code = '{county}'").fetchall()
        replaced = set(used) | {(r["dept_code"], r["form_id"]) for r in rows}  # the county's forms, before and after

        home.build(progress=said.append)

        stored = duckdb.connect()
        relations.load(stored)
        stored.execute(f"CREATE TABLE form_usage AS SELECT * FROM '{home.settings.warehouse}/form_usage/*.parquet'")
        whole = form_catalog(stored, dict(RULE_DEFAULTS), form_facts(stored, dict(RULE_DEFAULTS)))
        got = pa.concat_tables([FORM_CATALOG_SCHEMA.empty_table(), *(
            pa.Table.from_pylist(rows, FORM_CATALOG_SCHEMA) for _, rows in _catalog_files(home).values())])
        assert got.to_pylist() == whole.to_pylist()  # the same rows, in the same order
        after = _catalog_files(home)
        for name, (inode, rows) in before.items():  # a file whose rows did not change is not rewritten
            if name in after and after[name][1] == rows:
                assert after[name][0] == inode, name
        if period in months:  # the same latest month: only the forms of the resubmitted county
            assert f"form catalog: {len(replaced)} form(s) whose use changed" in said, said
        months.add(period)
