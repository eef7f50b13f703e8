"""Property test: every rule's SQL against an independent brute-force reading of SPEC.md section 8.

Hypothesis generates small random submissions — a few units, departments, forms, groups and
visits, with names and item lists drawn from pools that collide after normalisation, and dates
and counts clustered around the thresholds — and random thresholds. The flags from the SQL
(jianfu.flags) must equal, rule by rule, those of tests/sample_helpers/truth.py: a literal, nested-loop
reading of the SPEC written separately and sharing no code with the SQL. The same data also checks
that per-county computation equals the full computation, and the burden index against a direct
Python count.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date, timedelta

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jianfu.config import RULE_DEFAULTS
from jianfu.flags import burden, county_flags, quota_flags, relations
from sample_helpers import truth

COUNTIES = ("421127", "421182")
UNITS = {c: (c + "000000", c + "100000", c + "100201", c + "101000") for c in COUNTIES}
DEPTS = ("421127-AB", "421127-AB1", "421127-CIVIL", "421100-CITY")  # AB1:... sorts before AB:...
PERIODS = ("2024-02", "2023-02", "2024-04")
YEARS = (2024, 2025)
SEPARATORS = (";", "；", "、", ",", "，", "|")
ITEMS = ("户主", "户 主", "人口", "人口！", "收入", "ＡＢ", "ab", "耕地")
FORM_NAMES = ("学生资助表", "学生 资助表", "ＡＢ表", "ab表", "台账", "（）")
GROUP_NAMES = ("防汛1群", "防汛（2）群", "防汛群", "抗旱群", "123", "工作群")
TOPICS = ("安全检查", "安全 检查！", "环境督查", "考核")
FREQUENCIES = ("daily", "weekly", "monthly", "quarterly", "semiannual", "annual", "once", "adhoc")

SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    derandomize=False,
)


def _period_end(period: str) -> date:
    year, month = int(period[:4]), int(period[5:])
    return date(year, month, calendar.monthrange(year, month)[1])


def _dedupe(rows: list[dict], key: tuple[str, ...]) -> list[dict]:
    seen: dict[tuple, dict] = {}
    for row in rows:
        seen.setdefault(tuple(row[k] for k in key), row)
    return list(seen.values())


@st.composite
def item_lists(draw) -> str | None:
    kind = draw(st.sampled_from(("none", "empty", "items", "items", "items")))
    if kind == "none":
        return None
    if kind == "empty":
        return draw(st.sampled_from(("", "；", " ")))
    items = draw(st.lists(st.sampled_from(ITEMS), min_size=1, max_size=5))
    seps = draw(st.lists(st.sampled_from(SEPARATORS), min_size=len(items), max_size=len(items)))
    return "".join(i + s for i, s in zip(items, seps, strict=True))[:-1]


@st.composite
def form_rows(draw, county: str) -> dict:
    period = draw(st.sampled_from(PERIODS[:2]))
    frequency = draw(st.sampled_from(FREQUENCIES))
    days = _period_end(period).day
    fill = draw(st.one_of(st.integers(0, 7), st.integers(days - 1, days + 1)) if frequency == "daily"
                else st.integers(0, 7))
    return dict(
        county_code=county, period=period,
        unit_code=draw(st.sampled_from(UNITS[county][1:])),  # townships and villages fill forms
        form_id=draw(st.sampled_from(("F1", "F2", "F3"))),
        form_name=draw(st.sampled_from(FORM_NAMES)),
        dept_code=draw(st.sampled_from(DEPTS)),
        frequency=frequency, fill_count=fill,
        field_count=draw(st.integers(1, 5)),
        hours_spent=draw(st.one_of(st.none(), st.sampled_from((0.0, 0.5, 2.0)))),
        channel=None, data_items=draw(item_lists()), submission_id="s",
    )


@st.composite
def group_rows(draw, county: str) -> dict:
    period = draw(st.sampled_from(PERIODS))
    end = _period_end(period)
    last_active = end - timedelta(days=draw(st.one_of(st.integers(0, 5), st.integers(85, 95), st.integers(0, 200))))
    created = last_active - timedelta(days=draw(st.one_of(st.integers(0, 10), st.integers(170, 190), st.integers(0, 400))))
    task_end = draw(st.one_of(st.none(), st.just(None), st.builds(
        lambda d: created + timedelta(days=d), st.integers(0, 400))))
    return dict(
        county_code=county, period=period,
        unit_code=draw(st.sampled_from(UNITS[county])),
        group_id=draw(st.sampled_from(("G1", "G2", "G3", "G4", "G5"))),
        group_name=draw(st.sampled_from(GROUP_NAMES)),
        platform="wechat",
        owner_dept_code=draw(st.sampled_from(DEPTS)),
        purpose=draw(st.sampled_from(("permanent", "temporary", "temporary"))),
        created_date=created, last_active_date=last_active, member_count=9, messages_30d=None,
        task_end_date=task_end, submission_id="s",
    )


@st.composite
def joint_lists(draw) -> str | None:
    if draw(st.booleans()):
        return None
    depts = draw(st.lists(st.sampled_from(DEPTS), min_size=1, max_size=2))
    if draw(st.booleans()):  # typed with a Chinese input method: full width
        depts = ["".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in d) for d in depts]
    return draw(st.sampled_from(SEPARATORS)).join(depts)


@st.composite
def inspection_rows(draw, county: str) -> dict:
    year = draw(st.sampled_from(YEARS))
    # cluster dates so that windows and quarters are often near their edges (year ends included)
    planned = date(year, 1, 1) + timedelta(days=draw(st.one_of(
        st.integers(0, 364), st.integers(80, 100), st.integers(355, 364), st.integers(0, 10))))
    status = draw(st.sampled_from(("planned", "done", "done", "cancelled")))
    actual = None
    if status == "done":
        actual = min(planned + timedelta(days=draw(st.integers(-5, 40))), date(year, 12, 31))
        actual = max(actual, date(year, 1, 1))
    return dict(
        county_code=county, year=year,
        item_id=draw(st.sampled_from(("I1", "I2", "I3", "I4", "I5"))),
        dept_code=draw(st.sampled_from(DEPTS)),
        category="inspection",
        topic=draw(st.sampled_from(TOPICS)),
        target_unit_code=draw(st.sampled_from(UNITS[county])),
        planned_date=planned, actual_date=actual, status=status,
        in_plan=draw(st.booleans()),
        joint_depts=draw(joint_lists()),
        approval_ref=draw(st.sampled_from((None, "", "  ", "黄办〔2024〕1号"))),
        submission_id="s",
    )


@st.composite
def submissions(draw) -> dict:
    forms, groups, visits = [], [], []
    for county in COUNTIES:
        forms += draw(st.lists(form_rows(county), max_size=14))
        groups += draw(st.lists(group_rows(county), max_size=10))
        visits += draw(st.lists(inspection_rows(county), max_size=12))
    quotas = draw(st.dictionaries(st.tuples(st.sampled_from(DEPTS), st.sampled_from(YEARS)), st.integers(0, 4),
                                  max_size=4))
    rules = dict(
        RULE_DEFAULTS,
        form_similarity_min=draw(st.sampled_from((0.3, 0.5, 0.6, 2 / 3, 1.0))),
        unit_monthly_fills_max=draw(st.integers(2, 12)),
        zombie_days=draw(st.sampled_from((30, 90, 120))),
        temporary_grace_days=draw(st.sampled_from((0, 7, 30))),
        temporary_max_days=draw(st.sampled_from((30, 180))),
        unit_groups_max=draw(st.integers(0, 3)),
        target_quarter_visits_max=draw(st.integers(0, 3)),
        merge_window_days=draw(st.sampled_from((0, 10, 30))),
        quota_warning_ratio=draw(st.sampled_from((0.5, 0.8, 1.0))),
        default_dept_quota=draw(st.integers(0, 3)),
    )
    return dict(
        forms=_dedupe(forms, ("county_code", "period", "unit_code", "dept_code", "form_id")),
        groups=_dedupe(groups, ("county_code", "period", "unit_code", "group_id")),
        visits=_dedupe(visits, ("county_code", "year", "dept_code", "item_id", "target_unit_code")),
        quotas=quotas,
        rules=rules,
    )


@pytest.fixture(scope="module")
def con():
    # tables of a dozen rows: one thread avoids scheduling overhead that dwarfs the work
    connection = duckdb.connect(config={"threads": 1})
    yield connection
    connection.close()


def _load(con, data: dict) -> None:
    relations.load(
        con,
        form_counts=data["forms"], work_groups=data["groups"], inspections=data["visits"],
        units=[dict(unit_code=u, unit_name=f"单位{u[-6:]}", level=truth_level(u)) for c in COUNTIES for u in UNITS[c]],
        departments=[dict(dept_code=d, dept_name=f"部门{d}") for d in DEPTS],
        quotas=[dict(dept_code=d, year=y, max_inspection_items=q) for (d, y), q in data["quotas"].items()],
    )


def truth_level(unit_code: str) -> str:
    if unit_code.endswith("000000"):
        return "county"
    return "township" if unit_code.endswith("000") else "village"


def _by_rule(flags) -> dict[str, set]:
    out: dict[str, set] = defaultdict(set)
    for rule, period, subject, county in flags:
        out[rule].add((period, subject, county or ""))
    return out


@SETTINGS
@given(data=submissions())
def test_every_rule_equals_the_brute_force_oracle(con, data):
    _load(con, data)
    rules = data["rules"]
    got = county_flags(con, rules).to_pylist() + quota_flags(con, rules).to_pylist()
    sql = _by_rule((r["rule"], r["period"], r["subject"], r["county_code"]) for r in got)
    oracle = _by_rule(truth.expected_flag_rows(data["forms"], data["groups"], data["visits"], data["quotas"], rules))
    for rule in truth.RULES:
        assert sql.get(rule, set()) == oracle.get(rule, set()), (
            f"{rule}: SQL only {sorted(sql.get(rule, set()) - oracle.get(rule, set()))}, "
            f"oracle only {sorted(oracle.get(rule, set()) - sql.get(rule, set()))}"
        )
    # no flag twice, and flag_id unique in the table (SPEC 8: it hashes the county too, since the
    # same pair of city and county forms can be flagged in two counties)
    assert len(got) == len({(r["rule"], r["period"], r["subject"], r["county_code"]) for r in got})
    assert len(got) == len({r["flag_id"] for r in got})


def _burden_oracle(data: dict, rules: dict) -> list[dict]:
    rows: dict[tuple, dict] = {}

    def row(county, period, unit):
        return rows.setdefault((unit, county, period), dict(
            unit_code=unit, county_code=county, period=period, forms_filled=0, fills=0, field_entries=0,
            hours=0.0, groups=0, zombie_groups=0, inspections=0))

    for f in data["forms"]:
        r = row(f["county_code"], f["period"], f["unit_code"])
        r["forms_filled"] += f["fill_count"] >= 1
        r["fills"] += f["fill_count"]
        r["field_entries"] += f["fill_count"] * f["field_count"]
        r["hours"] += f["hours_spent"] or 0.0
    for g in data["groups"]:
        r = row(g["county_code"], g["period"], g["unit_code"])
        r["groups"] += 1
        r["zombie_groups"] += (_period_end(g["period"]) - g["last_active_date"]).days >= rules["zombie_days"]
    for v in data["visits"]:
        if v["status"] != "cancelled":
            eff = v["actual_date"] if v["status"] == "done" else v["planned_date"]
            row(v["county_code"], f"{eff:%Y-%m}", v["target_unit_code"])["inspections"] += 1
    return sorted(rows.values(), key=lambda r: (r["county_code"], r["period"], r["unit_code"]))


@settings(SETTINGS, max_examples=10)
@given(data=submissions())
def test_per_county_equals_full_and_burden_equals_a_direct_count(con, data):
    _load(con, data)
    rules = data["rules"]
    full = county_flags(con, rules).to_pylist()
    parts = [r for c in COUNTIES for r in county_flags(con, rules, [c]).to_pylist()]
    key = lambda r: (r["rule"], r["flag_id"])  # noqa: E731
    assert sorted(parts, key=key) == sorted(full, key=key)

    table = burden(con, rules).to_pylist()
    assert [r for c in COUNTIES for r in burden(con, rules, [c]).to_pylist()] == table
    expected = _burden_oracle(data, rules)
    for r in (*table, *expected):
        r["hours"] = round(r["hours"], 6)
    assert table == expected
