"""Flags, burden and quota usage (SPEC.md sections 7 and 8) on small hand-built tables.

Each test builds the warehouse relations from a few rows, runs the public API of jianfu.flags and
checks which flags fire — always with the near miss next to the firing case, because the
boundaries (> vs >=, days in month, inclusive windows) are where a rule is most easily misread.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date

import duckdb
import pyarrow as pa
import pytest

from jianfu.config import RULE_DEFAULTS, load_rules
from jianfu.flags import (
    COUNTY_TABLES,
    READS,
    burden,
    county_flags,
    norm_group_name,
    norm_name,
    quota_flags,
    quota_usage,
    relations,
    runner,
)
from jianfu.flags.runner import sql_text
from jianfu.schema import BURDEN_SCHEMA, FLAG_RULES, QUOTA_USAGE_SCHEMA
from jianfu.schema import FLAGS_SCHEMA as FLAG_SCHEMA

COUNTY = "421127"
OTHER_COUNTY = "421182"
TOWN = "421127100000"  # 小池镇
VILLAGE = "421127100201"  # 滨江村
TOWN2 = "421127101000"  # 孔垄镇
OTHER_TOWN = "421182100000"  # 武穴市 刊江街道
AGRI, CIVIL, EDU = "421127-AGRI", "421127-CIVIL", "421127-EDU"
CITY_SAFE = "421100-SAFETY"

UNITS = [
    dict(unit_code="421127000000", unit_name="黄梅县", level="county"),
    dict(unit_code=TOWN, unit_name="小池镇", level="township", parent_code="421127000000"),
    dict(unit_code=VILLAGE, unit_name="滨江村", level="village", parent_code=TOWN),
    dict(unit_code=TOWN2, unit_name="孔垄镇", level="township", parent_code="421127000000"),
    dict(unit_code="421182000000", unit_name="武穴市", level="county"),
    dict(unit_code=OTHER_TOWN, unit_name="刊江街道", level="township", parent_code="421182000000"),
]
DEPARTMENTS = [
    dict(dept_code=AGRI, dept_name="黄梅县农业农村局"),
    dict(dept_code=CIVIL, dept_name="黄梅县民政局"),
    dict(dept_code=EDU, dept_name="黄梅县教育局"),
    dict(dept_code=CITY_SAFE, dept_name="黄冈市应急管理局"),
]


def form(**kw) -> dict:
    row = dict(
        period="2024-02", unit_code=TOWN, form_id="F1", form_name="报表",
        dept_code=AGRI, frequency="monthly", fill_count=1, field_count=10, hours_spent=1.5,
        channel="system", data_items=None, submission_id="s1",
    )
    row.update(kw)
    row.setdefault("county_code", row["unit_code"][:6])
    return row


def group(**kw) -> dict:
    row = dict(
        county_code=COUNTY, period="2024-02", unit_code=TOWN, group_id="G1", group_name="工作群",
        platform="wechat", owner_dept_code=AGRI, purpose="permanent", created_date=date(2023, 1, 1),
        last_active_date=date(2024, 2, 20), member_count=30, messages_30d=5, task_end_date=None,
        submission_id="s2",
    )
    row.update(kw)
    return row


def visit(**kw) -> dict:
    row = dict(
        county_code=COUNTY, year=2024, item_id="I1", dept_code=AGRI, category="inspection",
        topic="安全检查", target_unit_code=TOWN, planned_date=date(2024, 3, 1), actual_date=None,
        status="planned", in_plan=True, joint_depts=None, approval_ref=None, submission_id="s3",
    )
    row.update(kw)
    return row


@pytest.fixture
def con():
    # tables of a dozen rows: one thread avoids scheduling overhead that dwarfs the work
    connection = duckdb.connect(config={"threads": 1})
    yield connection
    connection.close()


def load(con, forms=(), groups=(), inspections=(), quotas=()):
    relations.load(
        con, form_counts=forms, work_groups=groups, inspections=inspections,
        units=UNITS, departments=DEPARTMENTS, quotas=quotas,
    )


def rows_of(con, rule: str, rules: dict | None = None) -> list[dict]:
    """Flag rows of one rule, running only that rule's SQL file (as county_flags / quota_flags do)."""
    thresholds = {**RULE_DEFAULTS, **(rules or {})}
    runner.prepare(con, thresholds)
    if not FLAG_RULES[rule].per_county:
        runner.materialise_quota_usage(con)
    table = runner.run_rule(con, rule)
    assert {r["rule"] for r in table.to_pylist()} <= {rule}
    return table.to_pylist()


def fired(con, rule: str, rules: dict | None = None) -> set[tuple[str, str]]:
    """(period, subject) of the flags of `rule`."""
    return {(r["period"], r["subject"]) for r in rows_of(con, rule, rules)}


# --- normalisation -------------------------------------------------------------------------------

def test_names_normalise_by_nfkc_case_and_punctuation():
    assert norm_name(" ＡＢＣ，学生 资助（2024）表! ") == "abc学生资助2024表"
    assert norm_name("a\u200bb\tc") == "abc"  # invisible and control characters are whitespace too
    assert norm_group_name("防汛１群") == norm_group_name("防汛(2)群") == "防汛群"
    assert norm_group_name("第一群") == "第一群"  # Chinese numerals are words, not digits


# --- FORM_OVER_FREQUENCY -------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("period", "frequency", "fill_count", "fires"),
    [
        ("2024-02", "daily", 29, False),  # leap February: 29 days allowed
        ("2024-02", "daily", 30, True),
        ("2023-02", "daily", 28, False),
        ("2023-02", "daily", 29, True),
        ("2024-01", "daily", 31, False),
        ("2024-01", "daily", 32, True),
        ("2024-04", "daily", 31, True),  # April has 30 days
        ("2024-02", "weekly", 5, False),
        ("2024-02", "weekly", 6, True),
        ("2024-02", "monthly", 1, False),
        ("2024-02", "monthly", 2, True),
        ("2024-02", "quarterly", 2, True),
        ("2024-02", "semiannual", 2, True),
        ("2024-02", "annual", 2, True),
        ("2024-02", "once", 2, True),
        ("2024-02", "once", 1, False),
        ("2024-02", "adhoc", 1000, False),
    ],
)
def test_form_over_frequency_boundaries(con, period, frequency, fill_count, fires):
    load(con, forms=[form(period=period, frequency=frequency, fill_count=fill_count)])
    expected = {(period, f"{TOWN}|{AGRI}|F1")} if fires else set()
    assert fired(con, "FORM_OVER_FREQUENCY") == expected


def test_form_over_frequency_row_speaks_to_a_clerk(con):
    load(con, forms=[form(frequency="weekly", fill_count=12, form_name="耕地保护巡查表")])
    (row,) = rows_of(con, "FORM_OVER_FREQUENCY")
    assert (row["metric"], row["threshold"], row["severity"]) == (12.0, 5.0, "warning")
    assert (row["county_code"], row["unit_code"], row["dept_code"]) == (COUNTY, TOWN, AGRI)
    assert row["detail"] == "黄梅县小池镇 2024-02填报黄梅县农业农村局《耕地保护巡查表》12次，超过每周频次允许的5次"
    subject = f"{TOWN}|{AGRI}|F1"
    assert row["flag_id"] == hashlib.sha256(f"FORM_OVER_FREQUENCY|{COUNTY}|2024-02|{subject}".encode()).hexdigest()[:16]


# --- FORM_DUPLICATE_ACROSS_DEPTS -----------------------------------------------------------------

def _pair(items_a, items_b, *, dept_b=CIVIL, name_a="表甲", name_b="表乙", fill_b=1, unit_b=TOWN):
    return [
        form(form_id="FA", dept_code=AGRI, form_name=name_a, data_items=items_a),
        form(form_id="FB", dept_code=dept_b, form_name=name_b, data_items=items_b, fill_count=fill_b,
             unit_code=unit_b),
    ]


def test_duplicate_forms_at_exactly_the_minimum_similarity_fire(con):
    load(con, forms=_pair("户主;人口;收入;住房", "户主、人口、收入、耕地"))  # 3/5 = 0.6
    assert fired(con, "FORM_DUPLICATE_ACROSS_DEPTS") == {("2024-02", f"{AGRI}:FA|{CIVIL}:FB")}
    (row,) = rows_of(con, "FORM_DUPLICATE_ACROSS_DEPTS")
    assert row["metric"] == pytest.approx(0.6) and row["threshold"] == 0.6
    assert "黄梅县农业农村局《表甲》" in row["detail"] and "黄梅县小池镇" in row["detail"]


def test_duplicate_forms_just_below_the_minimum_do_not_fire(con):
    load(con, forms=_pair("户主;人口;收入;住房;存款", "户主,人口,收入,耕地,车辆"))  # 3/7
    assert fired(con, "FORM_DUPLICATE_ACROSS_DEPTS") == set()


def test_duplicate_forms_fire_at_a_lower_threshold_from_rules(con):
    load(con, forms=_pair("户主;人口;收入;住房;存款", "户主,人口,收入,耕地,车辆"))  # 3/7 = 0.43
    assert fired(con, "FORM_DUPLICATE_ACROSS_DEPTS", {"form_similarity_min": 0.4}) == {
        ("2024-02", f"{AGRI}:FA|{CIVIL}:FB")
    }


def test_duplicate_form_items_are_normalised_and_split_on_every_separator(con):
    load(con, forms=_pair("户主姓名；家庭人口|年收入", "户主 姓名，家庭·人口、年收入!"))
    assert fired(con, "FORM_DUPLICATE_ACROSS_DEPTS") == {("2024-02", f"{AGRI}:FA|{CIVIL}:FB")}


def test_duplicate_forms_need_different_departments(con):
    load(con, forms=_pair("户主;人口", "户主;人口", dept_b=AGRI))
    assert fired(con, "FORM_DUPLICATE_ACROSS_DEPTS") == set()


def test_duplicate_forms_need_a_unit_that_filled_both(con):
    load(con, forms=_pair("户主;人口", "户主;人口", fill_b=0))
    assert fired(con, "FORM_DUPLICATE_ACROSS_DEPTS") == set()
    load(con, forms=_pair("户主;人口", "户主;人口", unit_b=VILLAGE))
    assert fired(con, "FORM_DUPLICATE_ACROSS_DEPTS") == set()


def test_duplicate_forms_without_items_compare_normalised_names(con):
    load(con, forms=_pair(None, "户主;人口", name_a="学生资助 统计表", name_b="学生资助统计表（）"))
    assert fired(con, "FORM_DUPLICATE_ACROSS_DEPTS") == {("2024-02", f"{AGRI}:FA|{CIVIL}:FB")}
    load(con, forms=_pair(None, None, name_a="学生资助统计表", name_b="学生资助台账"))
    assert fired(con, "FORM_DUPLICATE_ACROSS_DEPTS") == set()
    # both have items: the names no longer matter
    load(con, forms=_pair("甲", "乙", name_a="同名表", name_b="同名表"))
    assert fired(con, "FORM_DUPLICATE_ACROSS_DEPTS") == set()


def test_duplicate_forms_subject_orders_whole_tokens_and_is_one_flag_per_pair(con):
    dept_ab, dept_ab1 = "421127-AB", "421127-AB1"  # '1' sorts before ':', so AB1:... comes first
    forms = []
    for unit in (TOWN, VILLAGE, TOWN2):
        forms += [form(unit_code=unit, form_id="X", dept_code=dept_ab, data_items="甲;乙"),
                  form(unit_code=unit, form_id="Y", dept_code=dept_ab1, data_items="甲;乙")]
    load(con, forms=forms)
    (row,) = rows_of(con, "FORM_DUPLICATE_ACROSS_DEPTS")
    assert row["subject"] == f"{dept_ab1}:Y|{dept_ab}:X"
    assert "3个单位" in row["detail"] and "黄梅县小池镇滨江村" in row["detail"]


# --- UNIT_REPORTING_OVERLOAD ---------------------------------------------------------------------

def _fills(total: int) -> list[dict]:
    return [form(form_id=f"F{i}", frequency="adhoc", fill_count=n)
            for i, n in enumerate([total // 2, total - total // 2])]


def test_unit_reporting_overload_is_strictly_above_the_maximum(con):
    load(con, forms=_fills(60))
    assert fired(con, "UNIT_REPORTING_OVERLOAD") == set()
    load(con, forms=_fills(61))
    assert fired(con, "UNIT_REPORTING_OVERLOAD") == {("2024-02", TOWN)}


def test_unit_reporting_overload_follows_the_threshold(con):
    load(con, forms=_fills(41))
    assert fired(con, "UNIT_REPORTING_OVERLOAD") == set()
    assert fired(con, "UNIT_REPORTING_OVERLOAD", {"unit_monthly_fills_max": 40}) == {("2024-02", TOWN)}


# --- GROUP_ZOMBIE, GROUP_TEMPORARY_OVERDUE, GROUP_DUPLICATE, UNIT_GROUP_OVERLOAD ------------------

def test_zombie_groups_from_90_days_inactive(con):
    # period end 2024-02-29: 2023-12-01 is 90 days before, 2023-12-02 is 89
    load(con, groups=[group(group_id="G90", last_active_date=date(2023, 12, 1)),
                      group(group_id="G89", last_active_date=date(2023, 12, 2))])
    assert fired(con, "GROUP_ZOMBIE") == {("2024-02", f"{TOWN}|G90")}
    (row,) = rows_of(con, "GROUP_ZOMBIE")
    assert (row["metric"], row["threshold"], row["dept_code"]) == (90.0, 90.0, AGRI)


def test_zombie_days_follow_the_threshold(con):
    load(con, groups=[group(group_id="G30", last_active_date=date(2024, 1, 30))])  # 30 days
    assert fired(con, "GROUP_ZOMBIE") == set()
    assert fired(con, "GROUP_ZOMBIE", {"zombie_days": 30}) == {("2024-02", f"{TOWN}|G30")}


def test_temporary_groups_overdue_after_grace_or_maximum(con):
    load(con, groups=[
        group(group_id="T7", purpose="temporary", task_end_date=date(2024, 2, 22)),  # 7 days: grace
        group(group_id="T8", purpose="temporary", task_end_date=date(2024, 2, 21)),  # 8 days
        group(group_id="N180", purpose="temporary", created_date=date(2023, 9, 2)),  # 180 days
        group(group_id="N181", purpose="temporary", created_date=date(2023, 9, 1)),  # 181 days
        group(group_id="P", purpose="permanent", task_end_date=date(2023, 1, 1)),
    ])
    assert fired(con, "GROUP_TEMPORARY_OVERDUE") == {("2024-02", f"{TOWN}|T8"), ("2024-02", f"{TOWN}|N181")}


def test_temporary_grace_follows_the_threshold(con):
    load(con, groups=[group(group_id="T8", purpose="temporary", task_end_date=date(2024, 2, 21))])
    assert fired(con, "GROUP_TEMPORARY_OVERDUE", {"temporary_grace_days": 8}) == set()
    assert fired(con, "GROUP_TEMPORARY_OVERDUE", {"temporary_grace_days": 3}) == {("2024-02", f"{TOWN}|T8")}


def test_duplicate_groups_of_one_unit_and_owner(con):
    load(con, groups=[
        group(group_id="G2", group_name="防汛１群"),
        group(group_id="G10", group_name="防汛（2）群"),
        group(group_id="G3", group_name="防汛 群 3"),
        group(group_id="G4", group_name="防汛群", owner_dept_code=CIVIL),  # other owner
        group(group_id="G5", group_name="防汛群", unit_code=VILLAGE),  # other unit
        group(group_id="G6", group_name="抗旱群"),
    ])
    assert fired(con, "GROUP_DUPLICATE") == {("2024-02", f"{TOWN}|{AGRI}|G10;G2;G3")}


def test_unit_group_overload_counts_live_groups_only(con):
    live = [group(group_id=f"L{i:02d}", group_name=f"群{i}") for i in range(15)]
    zombie = group(group_id="Z", last_active_date=date(2023, 1, 1))
    load(con, groups=[*live, zombie])
    assert fired(con, "UNIT_GROUP_OVERLOAD") == set()
    load(con, groups=[*live, group(group_id="L99")])
    assert fired(con, "UNIT_GROUP_OVERLOAD") == {("2024-02", TOWN)}
    (row,) = rows_of(con, "UNIT_GROUP_OVERLOAD")
    assert row["severity"] == "info" and row["metric"] == 16


# --- INSPECTION_TARGET_OVERFREQUENT --------------------------------------------------------------

def test_target_visits_per_quarter_above_maximum(con):
    load(con, inspections=[
        visit(item_id="A", planned_date=date(2024, 1, 5)),
        visit(item_id="B", dept_code=CIVIL, planned_date=date(2024, 2, 5)),
        visit(item_id="C", dept_code=EDU, planned_date=date(2024, 3, 31)),
    ])
    assert fired(con, "INSPECTION_TARGET_OVERFREQUENT") == {("2024-Q1", TOWN)}


def test_target_visits_skip_cancelled_and_follow_eff_date(con):
    load(con, inspections=[
        visit(item_id="A", planned_date=date(2024, 1, 5)),
        visit(item_id="B", dept_code=CIVIL, planned_date=date(2024, 2, 5)),
        visit(item_id="C", dept_code=EDU, planned_date=date(2024, 3, 1), status="cancelled"),
        # planned in Q1, done in Q2: counted in Q2
        visit(item_id="D", planned_date=date(2024, 3, 10), actual_date=date(2024, 4, 2), status="done"),
    ])
    assert fired(con, "INSPECTION_TARGET_OVERFREQUENT") == set()
    assert fired(con, "INSPECTION_TARGET_OVERFREQUENT", {"target_quarter_visits_max": 1}) == {
        ("2024-Q1", TOWN)
    }


# --- INSPECTION_UNCOORDINATED --------------------------------------------------------------------

def test_uncoordinated_visits_within_the_window(con):
    load(con, inspections=[
        visit(item_id="A1", dept_code=AGRI, planned_date=date(2024, 5, 1)),
        visit(item_id="C1", dept_code=CIVIL, planned_date=date(2024, 5, 31)),  # 30 days: fires
        visit(item_id="E1", dept_code=EDU, planned_date=date(2024, 7, 1)),  # 31 days after C1
    ])
    assert fired(con, "INSPECTION_UNCOORDINATED") == {("2024", f"{TOWN}|{AGRI}:A1|{CIVIL}:C1")}
    (row,) = rows_of(con, "INSPECTION_UNCOORDINATED")
    assert (row["metric"], row["threshold"], row["severity"]) == (30.0, 30.0, "info")


def test_uncoordinated_ignores_one_department_joint_visits_and_cancelled(con):
    load(con, inspections=[
        visit(item_id="A1", dept_code=AGRI, planned_date=date(2024, 5, 1)),
        visit(item_id="A2", dept_code=AGRI, planned_date=date(2024, 5, 2)),  # same department
        visit(item_id="C1", dept_code=CIVIL, planned_date=date(2024, 5, 3), joint_depts=f"{EDU}；{AGRI}"),
        visit(item_id="E1", dept_code=EDU, planned_date=date(2024, 5, 4), joint_depts="４２１１２７－ＣＩＶＩＬ"),
        visit(item_id="X1", dept_code=CITY_SAFE, planned_date=date(2024, 5, 5), status="cancelled"),
    ])
    # C1 lists AGRI and EDU; E1 lists CIVIL (full width); only AGRI x EDU remains uncoordinated
    assert fired(con, "INSPECTION_UNCOORDINATED") == {
        ("2024", f"{TOWN}|{AGRI}:A1|{EDU}:E1"),
        ("2024", f"{TOWN}|{AGRI}:A2|{EDU}:E1"),
    }


def test_uncoordinated_period_is_the_year_of_the_earlier_visit(con):
    load(con, inspections=[
        visit(item_id="Z", dept_code=CIVIL, planned_date=date(2024, 12, 20)),
        visit(item_id="A", dept_code=AGRI, year=2025, planned_date=date(2025, 1, 5)),
    ])
    assert fired(con, "INSPECTION_UNCOORDINATED") == {("2024", f"{TOWN}|{AGRI}:A|{CIVIL}:Z")}


def test_uncoordinated_window_follows_the_threshold(con):
    load(con, inspections=[
        visit(item_id="A1", dept_code=AGRI, planned_date=date(2024, 5, 1)),
        visit(item_id="C1", dept_code=CIVIL, planned_date=date(2024, 5, 15)),
    ])
    assert fired(con, "INSPECTION_UNCOORDINATED", {"merge_window_days": 13}) == set()
    assert len(fired(con, "INSPECTION_UNCOORDINATED", {"merge_window_days": 14})) == 1


# --- INSPECTION_UNPLANNED ------------------------------------------------------------------------

def test_unplanned_done_visits_without_approval(con):
    done = dict(status="done", actual_date=date(2024, 6, 1), in_plan=False)
    load(con, inspections=[
        visit(item_id="U1", **done),
        visit(item_id="U2", **done, approval_ref="  "),  # blank is no approval
        visit(item_id="OK1", **done, approval_ref="黄办发〔2024〕3号"),
        visit(item_id="OK2", status="done", actual_date=date(2024, 6, 1), in_plan=True),
        visit(item_id="OK3", status="planned", in_plan=False),
        visit(item_id="OK4", status="cancelled", in_plan=False),
    ])
    assert fired(con, "INSPECTION_UNPLANNED") == {("2024", f"{AGRI}:U1|{TOWN}"), ("2024", f"{AGRI}:U2|{TOWN}")}


# --- INSPECTION_REPEATED_TOPIC -------------------------------------------------------------------

def test_repeated_topic_of_one_department_at_one_target(con):
    load(con, inspections=[
        visit(item_id="T2", topic="安全生产检查", planned_date=date(2024, 2, 1)),
        visit(item_id="T1", topic="安全生产 检查！", planned_date=date(2024, 9, 1)),
        visit(item_id="T3", topic="安全生产检查", target_unit_code=VILLAGE),  # other target
        visit(item_id="T4", topic="安全生产检查", dept_code=CIVIL),  # other department
        visit(item_id="T5", topic="环境检查", planned_date=date(2024, 5, 1)),
        visit(item_id="T6", topic="环境检查", planned_date=date(2024, 6, 1), status="cancelled"),
    ])
    assert fired(con, "INSPECTION_REPEATED_TOPIC") == {("2024", f"{AGRI}|{TOWN}|T1;T2")}


# --- DEPT_QUOTA_WARNING / DEPT_QUOTA_EXCEEDED ----------------------------------------------------

def _items(dept: str, n: int, **kw) -> list[dict]:
    return [visit(dept_code=dept, item_id=f"{dept[-4:]}{i}", **kw) for i in range(n)]


@pytest.mark.parametrize(
    ("used", "status"),
    [(3, "ok"), (4, "warning"), (5, "warning"), (6, "exceeded")],  # quota 5: warn from ceil(4.0) = 4
)
def test_quota_with_a_quota_row(con, used, status):
    load(con, inspections=_items(AGRI, used), quotas=[dict(dept_code=AGRI, year=2024, max_inspection_items=5)])
    usage = quota_usage(con, RULE_DEFAULTS).to_pylist()
    assert usage == [dict(dept_code=AGRI, year=2024, quota=5, used=used, ratio=used / 5, status=status)]
    expected = {
        "ok": (set(), set()),
        "warning": ({("2024", AGRI)}, set()),
        "exceeded": (set(), {("2024", AGRI)}),
    }[status]
    assert (fired(con, "DEPT_QUOTA_WARNING"), fired(con, "DEPT_QUOTA_EXCEEDED")) == expected


@pytest.mark.parametrize(("used", "status"), [(1, "ok"), (2, "warning"), (3, "exceeded")])
def test_quota_default_is_two(con, used, status):  # ceil(0.8 x 2) = 2
    load(con, inspections=_items(AGRI, used))
    (row,) = quota_usage(con, RULE_DEFAULTS).to_pylist()
    assert (row["quota"], row["used"], row["status"]) == (2, used, status)


def test_quota_counts_a_city_item_once_across_counties_and_skips_cancelled(con):
    load(con, inspections=[
        # item K1 visits two towns of two counties: one item
        visit(dept_code=CITY_SAFE, item_id="K1", target_unit_code=TOWN),
        visit(dept_code=CITY_SAFE, item_id="K1", target_unit_code=OTHER_TOWN, county_code=OTHER_COUNTY),
        visit(dept_code=CITY_SAFE, item_id="K2", target_unit_code=OTHER_TOWN, county_code=OTHER_COUNTY),
        # K3: cancelled everywhere, not used; K4: cancelled in one county, done in the other: used
        visit(dept_code=CITY_SAFE, item_id="K3", status="cancelled"),
        visit(dept_code=CITY_SAFE, item_id="K4", status="cancelled"),
        visit(dept_code=CITY_SAFE, item_id="K4", target_unit_code=OTHER_TOWN, county_code=OTHER_COUNTY,
              status="done", actual_date=date(2024, 4, 1)),
    ], quotas=[dict(dept_code=CITY_SAFE, year=2024, max_inspection_items=3)])
    (row,) = quota_usage(con, RULE_DEFAULTS).to_pylist()
    assert (row["used"], row["quota"], row["status"]) == (3, 3, "warning")
    (flag,) = rows_of(con, "DEPT_QUOTA_WARNING")
    assert flag["county_code"] is None and flag["dept_code"] == CITY_SAFE
    assert "黄冈市应急管理局" in flag["detail"] and "K1、K2、K4" in flag["detail"]


def test_quota_thresholds_follow_rules(con):
    load(con, inspections=_items(AGRI, 3) + _items(CIVIL, 2),
         quotas=[dict(dept_code=AGRI, year=2024, max_inspection_items=5)])
    assert fired(con, "DEPT_QUOTA_WARNING") == {("2024", CIVIL)}
    assert fired(con, "DEPT_QUOTA_WARNING", {"quota_warning_ratio": 0.5}) == {("2024", AGRI), ("2024", CIVIL)}
    assert fired(con, "DEPT_QUOTA_EXCEEDED", {"default_dept_quota": 1}) == {("2024", CIVIL)}


def test_quota_rows_without_visits_are_listed_but_never_flagged(con):
    load(con, quotas=[dict(dept_code=EDU, year=2024, max_inspection_items=0)])
    assert quota_usage(con, RULE_DEFAULTS).to_pylist() == [
        dict(dept_code=EDU, year=2024, quota=0, used=0, ratio=None, status="ok")
    ]
    assert quota_flags(con, RULE_DEFAULTS).num_rows == 0


# --- rules.yaml drives the thresholds ------------------------------------------------------------

def test_a_threshold_changed_in_rules_yaml_changes_the_flags(con, tmp_path):
    load(con, forms=_fills(50), groups=[group(last_active_date=date(2024, 1, 1))])
    defaults = {(r["rule"], r["subject"]) for r in county_flags(con, load_rules(tmp_path)).to_pylist()}
    assert defaults == set()
    (tmp_path / "rules.yaml").write_text("unit_monthly_fills_max: 49\nzombie_days: 59\n", encoding="utf-8")
    changed = {(r["rule"], r["subject"]) for r in county_flags(con, load_rules(tmp_path)).to_pylist()}
    assert changed == {("UNIT_REPORTING_OVERLOAD", TOWN), ("GROUP_ZOMBIE", f"{TOWN}|G1")}


def test_a_connection_used_again_sees_new_units(con):
    """The detail sentences name units as the units relation on the connection names them now."""
    over = [form(frequency="weekly", fill_count=12)]
    load(con, forms=over)
    burden(con, RULE_DEFAULTS, [COUNTY])
    (row,) = county_flags(con, RULE_DEFAULTS, [COUNTY]).to_pylist()
    assert row["detail"].startswith("黄梅县小池镇 ")
    renamed = [dict(u, unit_name="小池新镇") if u["unit_code"] == TOWN else u for u in UNITS]
    relations.load(con, form_counts=over, units=renamed, departments=DEPARTMENTS)
    (row,) = county_flags(con, RULE_DEFAULTS, [COUNTY]).to_pylist()
    assert row["detail"].startswith("黄梅县小池新镇 ")


# --- burden --------------------------------------------------------------------------------------

def test_burden_per_unit_and_month(con):
    load(
        con,
        forms=[
            form(form_id="F1", fill_count=3, field_count=10, hours_spent=2.0),
            form(form_id="F2", dept_code=CIVIL, fill_count=0, field_count=50, hours_spent=None),
            form(form_id="F3", dept_code=CIVIL, fill_count=2, field_count=5, hours_spent=0.5),
        ],
        groups=[group(group_id="G1"), group(group_id="G2", last_active_date=date(2023, 11, 1))],
        inspections=[
            visit(item_id="A", planned_date=date(2024, 2, 3)),
            visit(item_id="B", planned_date=date(2024, 2, 4), status="cancelled"),
            visit(item_id="C", planned_date=date(2024, 1, 9), actual_date=date(2024, 2, 9), status="done"),
            visit(item_id="D", planned_date=date(2024, 3, 9), target_unit_code=VILLAGE),
        ],
    )
    table = burden(con, RULE_DEFAULTS)
    assert table.schema == BURDEN_SCHEMA
    assert table.to_pylist() == [
        dict(unit_code=TOWN, county_code=COUNTY, period="2024-02", forms_filled=2, fills=5, field_entries=40,
             hours=2.5, groups=2, zombie_groups=1, inspections=2),
        dict(unit_code=VILLAGE, county_code=COUNTY, period="2024-03", forms_filled=0, fills=0, field_entries=0,
             hours=0.0, groups=0, zombie_groups=0, inspections=1),
    ]


# --- schemas, stability, and per-county = full ---------------------------------------------------

def _two_counties() -> dict:
    forms, groups, inspections = [], [], []
    for unit in (TOWN, VILLAGE, OTHER_TOWN):
        forms += [form(unit_code=unit, form_id="A", data_items="甲;乙", fill_count=3),
                  form(unit_code=unit, form_id="B", dept_code=CIVIL, data_items="甲、乙")]
        groups += [group(unit_code=unit, county_code=unit[:6], group_id=g, last_active_date=d)
                   for g, d in (("G1", date(2023, 1, 1)), ("G2", date(2024, 2, 1)))]
        inspections += [visit(target_unit_code=unit, county_code=unit[:6], item_id=i, dept_code=d,
                              planned_date=date(2024, 5, n), topic="检查")
                        for n, (i, d) in enumerate((("I1", AGRI), ("I2", CIVIL), ("I3", AGRI), ("I4", EDU)), 1)]
    return dict(forms=forms, groups=groups, inspections=inspections)


def test_flags_of_each_county_concatenated_equal_all_flags(con):
    load(con, **_two_counties())
    full = county_flags(con, RULE_DEFAULTS)
    assert full.schema == FLAG_SCHEMA
    assert set(full.column("county_code").to_pylist()) == {COUNTY, OTHER_COUNTY}
    parts = pa.concat_tables([county_flags(con, RULE_DEFAULTS, [c]) for c in (COUNTY, OTHER_COUNTY)])
    key = [("rule", "ascending"), ("flag_id", "ascending")]
    assert parts.sort_by(key).equals(full.sort_by(key))
    burden_parts = pa.concat_tables([burden(con, RULE_DEFAULTS, [c]) for c in (COUNTY, OTHER_COUNTY)])
    assert burden_parts.equals(burden(con, RULE_DEFAULTS))
    assert county_flags(con, RULE_DEFAULTS, []).num_rows == 0


def test_a_failing_rule_file_is_named_in_the_error(con, monkeypatch):
    load(con, **_two_counties())
    real = runner.sql_text
    monkeypatch.setattr(runner, "sql_text",
                        lambda stem: "SELECT * FROM no_such_relation" if stem == "group_zombie" else real(stem))
    with pytest.raises(duckdb.Error, match=r"sql/group_zombie\.sql"):
        county_flags(con, RULE_DEFAULTS)


def test_results_are_stable_across_runs_and_connections(con):
    load(con, **_two_counties())
    first = county_flags(con, RULE_DEFAULTS)
    other = duckdb.connect()
    try:
        load(other, **_two_counties())
        assert county_flags(other, RULE_DEFAULTS).equals(first)
    finally:
        other.close()
    assert county_flags(con, RULE_DEFAULTS).equals(first)
    assert quota_usage(con, RULE_DEFAULTS).schema == QUOTA_USAGE_SCHEMA
    assert quota_flags(con, RULE_DEFAULTS).schema == FLAG_SCHEMA


def test_form_duplicates_are_capped_per_county_month_most_similar_first(con):
    items = "甲;乙;丙;丁;戊"
    forms = [form(form_id="A", data_items=items),
             form(form_id="B", dept_code=CIVIL, data_items=items),  # A~B 1.0
             form(form_id="C", dept_code=EDU, data_items="甲;乙;丙;丁"),  # A~C, B~C 0.8
             form(form_id="D", dept_code=CITY_SAFE, data_items=items)]  # A~D, B~D 1.0; C~D 0.8
    load(con, forms=forms)
    cut: dict = {}

    runner.prepare(con, {**RULE_DEFAULTS, "form_duplicate_max_pairs": 4})
    table = runner.run_rule(con, "FORM_DUPLICATE_ACROSS_DEPTS", cut)

    tokens = {"A": f"{AGRI}:A", "B": f"{CIVIL}:B", "C": f"{EDU}:C", "D": f"{CITY_SAFE}:D"}

    def pair(a, b):
        return "|".join(sorted((tokens[a], tokens[b])))

    # six similar pairs: the three at 1.0, then the 0.8 ones by subject; two are cut
    ties = sorted([pair("A", "C"), pair("B", "C"), pair("C", "D")])
    assert set(table.column("subject").to_pylist()) == {pair("A", "B"), pair("A", "D"), pair("B", "D"), ties[0]}
    assert cut == {(COUNTY, "2024-02"): 2}


#: The relations of the SQL files that come from each submission table (_staging.sql's views and
#: the quota usage made from the visits).
_FROM_KIND = {"form_rows": "form_counts", "form_counts": "form_counts", "group_rows": "work_groups",
              "work_groups": "work_groups", "visits": "inspections", "all_visits": "inspections",
              "inspections": "inspections", "jf_quota_usage": "inspections"}


def _kinds_read(stem: str) -> set[str]:
    code = "\n".join(line.split("--", 1)[0] for line in sql_text(stem).splitlines())
    return {kind for name, kind in _FROM_KIND.items() if re.search(rf"\b{name}\b", code)}


def test_each_rule_and_table_reads_exactly_the_submission_tables_the_build_recomputes_it_for():
    """The build runs a county's rule again only when the table FlagRule.reads names changed, and a
    per-county table only for the tables of READS: a rule file reading another table would keep
    stale flags."""
    assert {name: _kinds_read(rule.sql) for name, rule in FLAG_RULES.items()} == \
        {name: {rule.reads} for name, rule in FLAG_RULES.items()}
    assert {table: _kinds_read(table) for table in COUNTY_TABLES} == \
        {table: set(READS[table]) for table in COUNTY_TABLES}
