"""Validation through GX (SPEC.md section 6): each rule of each suite, attribution to file and row,
batching, severities, the suites themselves, and Data Docs.

Frames are built here from plain rows per the contract of jianfu.submission, so these tests do not
depend on the reader.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from jianfu import schema as S
from jianfu.config import Settings
from jianfu.problems import CRITICAL, WARNING
from jianfu.reference import Codes, Department, Reference, Unit
from jianfu.submission import ROW, BatchItem, ReadResult, raw
from jianfu.validate import EXPECTATIONS_DIR, build_data_docs, load_suite, validate_batch
from jianfu.validate.suites import read_suite_json

COUNTY = "421127"
RECEIVED = datetime(2025, 4, 3, 2, 0, tzinfo=UTC)  # 2025-04-03 10:00 in China
NOW = datetime(2025, 4, 3, 3, 0, tzinfo=UTC)

#: Expectations each suite must hold (GX silently drops one it cannot build).
EXPECTED_COUNTS = {"form_counts": 31, "work_groups": 38, "inspections": 31}


# ---------------------------------------------------------------------------------------------
# building validation frames per the contract


def _typed(col: S.Column, text: str | None):
    """The parsed value the reader would give for `text` (a small subset of its parsing)."""
    if text is None:
        return None
    if col.type in (S.COUNTY_CODE, S.UNIT_CODE, S.TEXT):
        return text
    if col.type == S.DEPT_CODE:
        return text.upper()
    if col.type == S.ENUM:
        back = {zh: en for en, zh in (col.enum or {}).items()}
        return back.get(text, text)
    if col.type == S.PERIOD:
        return text if re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", text) else None
    if col.type in (S.YEAR, S.INT):
        return int(text) if re.fullmatch(r"-?[0-9]+", text) else None
    if col.type == S.NUMBER:
        try:
            return float(text)
        except ValueError:
            return None
    if col.type == S.DATE:
        value = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
        return None if pd.isna(value) else value
    if col.type == S.BOOL:
        low = text.lower()
        return True if low in S.TRUE_WORDS else False if low in S.FALSE_WORDS else None
    raise AssertionError(col.type)


_DTYPE = {S.INT: "Int64", S.YEAR: "Int64", S.NUMBER: "Float64", S.BOOL: "boolean", S.DATE: "datetime64[us]"}


def make_frame(kind: S.Kind, rows: list[dict[str, str | None]], first_row: int = 2) -> pd.DataFrame:
    """A validation frame from rows of raw cell texts (missing keys are blank cells)."""
    data: dict[str, object] = {ROW: pd.array(range(first_row, first_row + len(rows)), dtype="int64")}
    for col in kind.columns:
        texts = [r.get(col.name) for r in rows]
        data[col.name] = pd.Series([_typed(col, t) for t in texts], dtype=_DTYPE.get(col.type, "string"))
        data[raw(col.name)] = pd.Series(texts, dtype="string")
    return pd.DataFrame(data)


def item(kind: S.Kind, rows: list[dict], key: str = "s1", received_at: datetime = RECEIVED,
         county: str = COUNTY) -> BatchItem:
    period = rows[0].get(kind.period_column) if rows else "2025-03"
    frame = make_frame(kind, rows)
    return BatchItem(key=key, kind=kind, read=ReadResult(frame=frame, county_code=county, period=period),
                     received_at=received_at)


def good_form(**over) -> dict:
    row = {"county_code": COUNTY, "period": "2025-03", "unit_code": "421127100000", "form_id": "F-1",
           "form_name": "耕地保护月报", "dept_code": "421127-AGRI", "frequency": "每月", "fill_count": "1",
           "field_count": "20", "hours_spent": "2.5", "channel": "业务系统", "data_items": "耕地面积;播种面积"}
    row.update(over)
    return row


def good_group(**over) -> dict:
    row = {"county_code": COUNTY, "period": "2025-03", "unit_code": "421127100001", "group_id": "G-1",
           "group_name": "村两委工作群", "platform": "微信", "owner_dept_code": "421127-AGRI",
           "purpose": "长期", "created_date": "2024-01-10", "last_active_date": "2025-03-20",
           "member_count": "30", "messages_30d": "12", "task_end_date": None}
    row.update(over)
    return row


def good_visit(**over) -> dict:
    row = {"county_code": COUNTY, "year": "2025", "item_id": "I-1", "dept_code": "420000-HEALTH",
           "category": "检查", "topic": "食品安全检查", "target_unit_code": "421127100000",
           "planned_date": "2025-03-01", "actual_date": "2025-03-02", "status": "已完成", "in_plan": "是",
           "joint_depts": "421127-AGRI", "approval_ref": None}
    row.update(over)
    return row


def make_reference() -> Reference:
    units = [
        Unit("421127000000", "黄梅县", "county", "421100000000"),
        Unit("421127100000", "黄梅镇", "township", "421127000000"),
        Unit("421127100001", "东门社区", "village", "421127100000"),
        Unit("421127101000", "孔垄镇", "township", "421127000000"),
        Unit("421126000000", "蕲春县", "county", "421100000000"),
        Unit("421126100000", "漕河镇", "township", "421126000000"),
    ]
    depts = [Department("421127-AGRI", "县农业农村局"), Department("421100-EDU", "市教育局"),
             Department("420000-HEALTH", "省卫健委")]
    return Reference(units={u.unit_code: u for u in units}, departments={d.dept_code: d for d in depts},
                     quotas={}, path=Path("."))


@pytest.fixture(scope="module")
def reference() -> Codes:
    """What validation checks codes against: the codes of the reference above."""
    return Codes.of(make_reference())


def found(problems) -> set[tuple[str, str | None, int | None]]:
    return {(p.rule, p.column, p.row) for p in problems}


# ---------------------------------------------------------------------------------------------
# one case per rule: (key, kind, rows, expected (rule, column, row) set, item options)

F, G, V = S.FORM_COUNTS, S.WORK_GROUPS, S.INSPECTIONS
KEY_FC = "unit_code+dept_code+form_id"
KEY_WG = "unit_code+group_id"
KEY_IN = "dept_code+item_id+target_unit_code"

CASES: list[tuple[str, S.Kind, list[dict], set, dict]] = [
    # form_counts
    ("fc_ok", F, [good_form(), good_form(form_id="F-2", unit_code="421127100001", channel=None, hours_spent=None)],
     set(), {}),
    ("fc_missing", F, [good_form(form_name=None, fill_count=None)],
     {("missing_value", "form_name", 2), ("missing_value", "fill_count", 2)}, {}),
    ("fc_missing_unit", F, [good_form(unit_code=None)], {("missing_value", "unit_code", 2)}, {}),
    ("fc_missing_county", F, [good_form(county_code=None), good_form(county_code=None, form_id="F-2")],
     {("missing_value", "county_code", 2)}, {}),
    ("fc_malformed_int", F, [good_form(fill_count="三次"), good_form(form_id="F-2", field_count="2.5")],
     {("malformed_value", "fill_count", 2), ("malformed_value", "field_count", 3)}, {}),
    ("fc_malformed_number", F, [good_form(hours_spent="两小时")], {("malformed_value", "hours_spent", 2)}, {}),
    ("fc_malformed_period", F, [good_form(period="2025-13")], {("malformed_value", "period", 2)}, {}),
    ("fc_malformed_county", F, [good_form(county_code="4211")], {("malformed_value", "county_code", 2)}, {}),
    ("fc_malformed_unit", F, [good_form(unit_code="42112710000")], {("malformed_value", "unit_code", 2)}, {}),
    ("fc_malformed_dept", F, [good_form(dept_code="AGRI")], {("malformed_value", "dept_code", 2)}, {}),
    ("fc_enum", F, [good_form(frequency="每两周"), good_form(form_id="F-2", channel="邮件")],
     {("unknown_enum", "frequency", 2), ("unknown_enum", "channel", 3)}, {}),
    ("fc_enum_english", F, [good_form(frequency="weekly", channel="paper")], set(), {}),
    ("fc_too_long", F, [good_form(form_id="X" * 65), good_form(form_id="F-2", form_name="表" * 201)],
     {("too_long", "form_id", 2), ("too_long", "form_name", 3)}, {}),
    ("fc_length_limit_ok", F, [good_form(form_id="X" * 64, form_name="表" * 200)], set(), {}),
    ("fc_range", F, [good_form(fill_count="1001"), good_form(form_id="F-2", field_count="0"),
                     good_form(form_id="F-3", hours_spent="10000.5"), good_form(form_id="F-4", fill_count="-1")],
     {("out_of_range", "fill_count", 2), ("fill_count_high", "fill_count", 2), ("out_of_range", "field_count", 3),
      ("out_of_range", "hours_spent", 4), ("out_of_range", "fill_count", 5)}, {}),
    ("fc_range_limits_ok", F, [good_form(fill_count="0", field_count="5000", hours_spent="10000"),
                               good_form(form_id="F-2", fill_count="100", field_count="1", hours_spent="0")],
     set(), {}),
    ("fc_unknown_county", F, [good_form(county_code="429999", unit_code="429999100000"),
                              good_form(county_code="429999", unit_code="429999100000", form_id="F-2")],
     {("unknown_county", "county_code", 2), ("unknown_unit", "unit_code", 2), ("unknown_unit", "unit_code", 3)},
     {"county": "429999"}),
    ("fc_unit_not_in_reference", F, [good_form(unit_code="421127100999")], {("unknown_unit", "unit_code", 2)}, {}),
    ("fc_unit_is_county", F, [good_form(unit_code="421127000000")], {("unknown_unit", "unit_code", 2)}, {}),
    ("fc_unit_other_county", F, [good_form(unit_code="421126100000")], {("unit_outside_county", "unit_code", 2)}, {}),
    ("fc_unknown_dept", F, [good_form(dept_code="421127-XYZ")], {("unknown_dept", "dept_code", 2)}, {}),
    ("fc_city_dept_ok", F, [good_form(dept_code="421100-EDU")], set(), {}),
    ("fc_duplicate", F, [good_form(), good_form(form_name="另一个名字"), good_form(form_id="F-2")],
     {("duplicate_key", KEY_FC, 2), ("duplicate_key", KEY_FC, 3)}, {}),
    ("fc_future", F, [good_form(period="2025-05"), good_form(period="2025-05", form_id="F-2")],
     {("period_in_future", "period", 2)}, {}),
    # 2025-03-31 20:00 UTC is 1 April 04:00 in China: April may be reported.
    ("fc_received_china_time", F, [good_form(period="2025-04")], set(),
     {"received_at": datetime(2025, 3, 31, 20, 0, tzinfo=UTC)}),
    ("fc_received_naive_is_utc", F, [good_form(period="2025-04")], set(),
     {"received_at": datetime(2025, 3, 31, 20, 0)}),
    ("fc_old", F, [good_form(period="2023-03")], {("period_too_old", "period", 2)}, {}),
    ("fc_24_months_ok", F, [good_form(period="2023-04")], set(), {}),
    ("fc_fill_high", F, [good_form(fill_count="150")], {("fill_count_high", "fill_count", 2)}, {}),
    # work_groups
    ("wg_ok", G, [good_group(), good_group(group_id="G-2", unit_code="421127000000", purpose="临时",
                                           task_end_date="2025-06-30", messages_30d=None)], set(), {}),
    ("wg_missing", G, [good_group(created_date=None, member_count=None, platform=None)],
     {("missing_value", "created_date", 2), ("missing_value", "member_count", 2), ("missing_value", "platform", 2)},
     {}),
    ("wg_malformed_date", G, [good_group(created_date="2024-02-30"), good_group(group_id="G-2", task_end_date="明年")],
     {("malformed_value", "created_date", 2), ("malformed_value", "task_end_date", 3)}, {}),
    ("wg_enum", G, [good_group(platform="QQ"), good_group(group_id="G-2", purpose="短期")],
     {("unknown_enum", "platform", 2), ("unknown_enum", "purpose", 3)}, {}),
    ("wg_range", G, [good_group(member_count="0"), good_group(group_id="G-2", messages_30d="-3"),
                     good_group(group_id="G-3", member_count="5001")],
     {("out_of_range", "member_count", 2), ("out_of_range", "messages_30d", 3), ("out_of_range", "member_count", 4),
      ("member_count_high", "member_count", 4)}, {}),
    ("wg_member_high", G, [good_group(member_count="2500")], {("member_count_high", "member_count", 2)}, {}),
    ("wg_after_period", G, [good_group(created_date="2025-04-01", last_active_date="2025-04-01")],
     {("created_after_period", "created_date", 2), ("active_after_period", "last_active_date", 2)}, {}),
    ("wg_period_end_ok", G, [good_group(created_date="2025-03-31", last_active_date="2025-03-31")], set(), {}),
    ("wg_active_before_created", G, [good_group(created_date="2024-05-01", last_active_date="2024-04-30")],
     {("active_before_created", "last_active_date", 2)}, {}),
    ("wg_task_end_before_created", G, [good_group(task_end_date="2024-01-09")],
     {("task_end_before_created", "task_end_date", 2)}, {}),
    ("wg_unknown_dept", G, [good_group(owner_dept_code="421100-XX")], {("unknown_dept", "owner_dept_code", 2)}, {}),
    ("wg_unit_other_county", G, [good_group(unit_code="421126000000")],
     {("unit_outside_county", "unit_code", 2)}, {}),
    ("wg_duplicate", G, [good_group(), good_group(group_name="同名不同行")],
     {("duplicate_key", KEY_WG, 2), ("duplicate_key", KEY_WG, 3)}, {}),
    ("wg_future", G, [good_group(period="2025-06", created_date="2025-01-01", last_active_date="2025-06-01")],
     {("period_in_future", "period", 2)}, {}),
    # inspections
    ("in_ok", V, [good_visit(), good_visit(item_id="I-2", status="计划", actual_date=None, in_plan="否",
                                           dept_code="421100-EDU", target_unit_code="421127000000")], set(), {}),
    ("in_missing", V, [good_visit(topic=None, in_plan=None, status=None)],
     {("missing_value", "topic", 2), ("missing_value", "in_plan", 2), ("missing_value", "status", 2)}, {}),
    ("in_malformed", V, [good_visit(in_plan="也许"), good_visit(item_id="I-2", planned_date="三月")],
     {("malformed_value", "in_plan", 2), ("malformed_value", "planned_date", 3)}, {}),
    ("in_malformed_year", V, [good_visit(year="二〇二五")], {("malformed_value", "year", 2)}, {}),
    ("in_enum", V, [good_visit(category="巡查"), good_visit(item_id="I-2", status="进行中")],
     {("unknown_enum", "category", 2), ("unknown_enum", "status", 3)}, {}),
    ("in_outside_year", V, [good_visit(planned_date="2024-12-31"), good_visit(item_id="I-2", actual_date="2026-01-01")],
     {("date_outside_year", "planned_date", 2), ("date_outside_year", "actual_date", 3)}, {}),
    ("in_actual_missing", V, [good_visit(actual_date=None), good_visit(item_id="I-2", status="计划", actual_date=None)],
     {("actual_date_missing", "actual_date", 2)}, {}),
    ("in_unknown_dept", V, [good_visit(dept_code="430000-HEALTH")], {("unknown_dept", "dept_code", 2)}, {}),
    ("in_unknown_target", V, [good_visit(target_unit_code="421127100999")],
     {("unknown_unit", "target_unit_code", 2)}, {}),
    ("in_target_other_county", V, [good_visit(target_unit_code="421126100000")],
     {("unit_outside_county", "target_unit_code", 2)}, {}),
    ("in_duplicate", V, [good_visit(), good_visit(topic="同一事项再报"), good_visit(target_unit_code="421127100001")],
     {("duplicate_key", KEY_IN, 2), ("duplicate_key", KEY_IN, 3)}, {}),
    ("in_future", V, [good_visit(year="2026", planned_date="2026-03-01", actual_date=None, status="计划")],
     {("period_in_future", "year", 2)}, {}),
    ("in_old", V, [good_visit(year="2022", planned_date="2022-03-01", actual_date="2022-03-02")],
     {("period_too_old", "year", 2)}, {}),
    ("in_two_years_ok", V, [good_visit(year="2023", planned_date="2023-03-01", actual_date="2023-03-02")], set(), {}),
    # joint_depts partners are not checked against the reference (SPEC does not require it).
    ("in_joint_unknown_ok", V, [good_visit(joint_depts="999999-NOPE、421127-AGRI")], set(), {}),
]


GOOD_ROW = [(F, good_form), (G, good_group), (V, good_visit)]
BAD_TEXT = {S.COUNTY_CODE: "4211", S.UNIT_CODE: "1234", S.DEPT_CODE: "AGRI", S.PERIOD: "2025-13", S.YEAR: "二〇二五",
            S.INT: "x", S.NUMBER: "x", S.DATE: "2024-02-30", S.BOOL: "也许"}


def _generated_cases() -> list[tuple[str, S.Kind, list[dict], set, dict]]:
    """For every column: blank if required, malformed if typed, too long if bounded."""
    out = []
    for kind, good in GOOD_ROW:
        for col in kind.columns:
            if col.required:
                out.append((f"{kind.name}_blank_{col.name}", kind, [good(**{col.name: None})],
                            {("missing_value", col.name, 2)}, {}))
            if col.type in BAD_TEXT:
                out.append((f"{kind.name}_malformed_{col.name}", kind, [good(**{col.name: BAD_TEXT[col.type]})],
                            {("malformed_value", col.name, 2)}, {}))
            if col.max_len:
                out.append((f"{kind.name}_long_{col.name}", kind, [good(**{col.name: "长" * (col.max_len + 1)})],
                            {("too_long", col.name, 2)}, {}))
        county = {"county_code": "429999", kind.unit_column: "429999100000"}
        out.append((f"{kind.name}_unknown_county", kind, [good(**county)],
                    {("unknown_county", "county_code", 2), ("unknown_unit", kind.unit_column, 2)}, {"county": "429999"}))
        out.append((f"{kind.name}_unknown_unit", kind, [good(**{kind.unit_column: "421127100999"})],
                    {("unknown_unit", kind.unit_column, 2)}, {}))
    return out


CASES += _generated_cases()
CASES += [
    ("wg_old", G, [good_group(period="2023-02", created_date="2023-01-01", last_active_date="2023-02-01")],
     {("period_too_old", "period", 2)}, {}),
]


@pytest.fixture(scope="module")
def case_results(reference: Codes) -> dict[str, list]:
    """All cases as files of ONE batch (three kinds): each case also proves attribution to its file."""
    items = [item(kind, rows, key=key, **opts) for key, kind, rows, _, opts in CASES]
    return validate_batch(items, reference, NOW)


@pytest.mark.parametrize("key, expected", [(c[0], c[3]) for c in CASES], ids=[c[0] for c in CASES])
def test_rule(case_results, key, expected):
    assert found(case_results[key]) == expected


def test_every_rule_of_every_suite_has_a_case():
    covered = {(kind.name, rule, column) for _, kind, _, exp, _ in CASES for rule, column, _ in exp}
    for kind_name in S.KINDS:
        for exp in read_suite_json(kind_name)["expectations"]:
            meta = exp["meta"]
            assert (kind_name, meta["rule"], meta["column"]) in covered, (kind_name, meta["rule"], meta["column"])


WARNING_RULES = {"fill_count_high", "member_count_high", "period_too_old"}


def test_severities(case_results):
    problems = [p for ps in case_results.values() for p in ps]
    assert problems
    for p in problems:
        assert p.severity == (WARNING if p.rule in WARNING_RULES else CRITICAL), p


def test_warnings_do_not_make_criticals(case_results):
    for key in ("fc_fill_high", "wg_member_high", "fc_old", "in_old"):
        assert case_results[key] and all(p.severity == WARNING for p in case_results[key])


def test_problem_carries_raw_value_and_messages(case_results):
    (p,) = case_results["fc_malformed_dept"]
    assert p.value == "AGRI" and p.row == 2 and p.column == "dept_code"
    assert "421127-AGRI" in p.message_en and "下发部门代码" in p.message_zh
    (p,) = [q for q in case_results["fc_malformed_int"] if q.column == "fill_count"]
    assert p.value == "三次"
    assert p.message_zh == "「填报次数」应为0到1000之间的整数"
    assert p.message_en == "fill_count (填报次数) must be a whole number from 0 to 1000"
    dup = {p.value for p in case_results["fc_duplicate"]}
    assert dup == {"421127100000 | 421127-AGRI | F-1"}
    (p,) = case_results["fc_future"]
    assert p.value == "2025-05"
    (p,) = case_results["fc_missing_unit"]
    assert p.value is None


def test_rows_are_the_clerks_rows(reference):
    """`row` is the frame's __row (title and header rows counted), not a position."""
    it = item(F, [good_form(), good_form(fill_count="x", form_id="F-2")], key="titled")
    it.read.frame[ROW] = [7, 9]  # e.g. 5 title rows, a header, a skipped note row
    (p,) = validate_batch([it], reference, NOW)["titled"]
    assert (p.rule, p.row) == ("malformed_value", 9)


def test_good_and_bad_file_in_one_batch(reference):
    good = item(F, [good_form(), good_form(form_id="F-2")], key="good")
    bad = item(F, [good_form(), good_form(form_id="F-2", frequency="每两周")], key="bad")
    out = validate_batch([good, bad], reference, NOW)
    assert out["good"] == []
    assert found(out["bad"]) == {("unknown_enum", "frequency", 3)}


def test_same_keys_in_two_files_are_not_duplicates(reference):
    rows = [good_form(), good_form(form_id="F-2")]
    out = validate_batch([item(F, rows, key="a"), item(F, rows, key="b")], reference, NOW)
    assert out == {"a": [], "b": []}


def test_file_level_rules_report_once_per_file(reference):
    a = item(F, [good_form(period="2025-06", form_id=f"F-{i}") for i in range(5)], key="a")
    b = item(F, [good_form(period="2025-06", form_id=f"F-{i}") for i in range(3)], key="b")
    out = validate_batch([a, b], reference, NOW)
    assert found(out["a"]) == {("period_in_future", "period", 2)}
    assert found(out["b"]) == {("period_in_future", "period", 2)}


def test_empty_batch(reference):
    assert validate_batch([], reference, NOW) == {}


def test_stacking_tolerates_object_columns(reference):
    """An optional column all blank may come as object dtype from one file and typed from another."""
    a = item(F, [good_form(hours_spent=None, channel=None)], key="a")
    a.read.frame["hours_spent"] = pd.Series([None], dtype=object)
    b = item(F, [good_form(hours_spent="abc")], key="b")
    out = validate_batch([a, b], reference, NOW)
    assert out["a"] == [] and found(out["b"]) == {("malformed_value", "hours_spent", 2)}


# ---------------------------------------------------------------------------------------------
# the suites


@pytest.mark.parametrize("kind_name", sorted(EXPECTED_COUNTS))
def test_suite_loads_every_expectation(kind_name):
    data = read_suite_json(kind_name)
    suite = load_suite(kind_name)
    assert len(data["expectations"]) == EXPECTED_COUNTS[kind_name]
    assert len(suite.expectations) == len(data["expectations"])


def test_suite_that_gx_would_silently_shorten_is_refused(tmp_path):
    from jianfu.validate.suites import SuiteError

    data = read_suite_json("form_counts")
    data["expectations"][0]["type"] = "expect_column_values_to_be_wonderful"
    (tmp_path / "form_counts.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(SuiteError, match="built 30 of 31"):
        load_suite("form_counts", tmp_path)


@pytest.mark.parametrize("kind_name", sorted(EXPECTED_COUNTS))
def test_suite_matches_schema(kind_name):
    """The JSON is the truth for GX, jianfu.schema for everything else: they must agree."""
    kind = S.KINDS[kind_name]
    exps = read_suite_json(kind_name)["expectations"]
    by_rule: dict[str, dict[str, dict]] = {}
    for e in exps:
        assert e["severity"] in ("critical", "warning")
        assert e["meta"]["message_en"] and e["meta"]["message_zh"]
        by_rule.setdefault(e["meta"]["rule"], {})[e["meta"]["column"]] = e
    assert set(by_rule["missing_value"]) == set(kind.required)
    for col in kind.columns:
        if col.enum:
            assert by_rule["unknown_enum"][col.name]["kwargs"]["value_set"] == list(col.enum)
        if col.max_len:
            assert by_rule["too_long"][col.name]["kwargs"]["max_value"] == col.max_len
        if col.min_value is not None or col.max_value is not None:
            kw = by_rule["out_of_range"][col.name]["kwargs"]
            assert (kw.get("min_value"), kw.get("max_value")) == (col.min_value, col.max_value)
        if col.type in (S.COUNTY_CODE, S.UNIT_CODE, S.DEPT_CODE):
            regex = {S.COUNTY_CODE: S.COUNTY_CODE_RE, S.UNIT_CODE: S.UNIT_CODE_RE, S.DEPT_CODE: S.DEPT_CODE_RE}
            assert by_rule["malformed_value"][col.name]["kwargs"]["regex"] == regex[col.type]
    assert by_rule["unknown_unit"][kind.unit_column]["kwargs"]["value_set"] == list(kind.unit_levels)
    assert by_rule["duplicate_key"]["+".join(kind.key)]["kwargs"]["column_list"] == ["__file", *kind.key]
    warnings = {e["meta"]["rule"] for e in exps if e["severity"] == "warning"}
    assert warnings <= WARNING_RULES


# ---------------------------------------------------------------------------------------------
# Data Docs


def test_data_docs(reference, tmp_path, monkeypatch):
    monkeypatch.setenv("JIANFU_HOME", str(tmp_path / "home"))
    settings = Settings.from_env()
    from jianfu.validate.docs import context_root

    items = [item(F, [good_form(), good_form(form_id="F-2", fill_count="x")], key="sub-1"),
             item(V, [good_visit()], key="sub-2")]
    validate_batch(items, reference, NOW, context_root=context_root(settings))
    index = build_data_docs(settings)
    assert index == settings.reports / "data_docs" / "index.html" and index.exists()
    pages = list((settings.reports / "data_docs" / "validations").rglob("*.html"))
    assert len(pages) == 2
    page = next(p for p in pages if "form_counts" in str(p)).read_text(encoding="utf-8")
    assert "sub-1" in page
    suite_pages = {p: p.stat().st_mtime_ns for p in (settings.reports / "data_docs" / "expectations").glob("*.html")}
    assert len(suite_pages) == 3
    # a second run adds its results without re-rendering the first ones
    before = {p: p.stat().st_mtime_ns for p in pages}
    validate_batch(items[:1], reference, datetime(2025, 4, 4, tzinfo=UTC), context_root=context_root(settings))
    build_data_docs(settings)
    after = list((settings.reports / "data_docs" / "validations").rglob("*.html"))
    assert len(after) == 3
    assert all(p.stat().st_mtime_ns == t for p, t in before.items())
    assert all(p.stat().st_mtime_ns == t for p, t in suite_pages.items())


def test_county_text_never_reaches_the_data_docs_html(reference, tmp_path, monkeypatch):
    """Data Docs are HTML the office opens: values from a county file are not rendered there (the
    county's report quotes them, escaped for Excel), so a file cannot plant a script."""
    monkeypatch.setenv("JIANFU_HOME", str(tmp_path / "home"))
    settings = Settings.from_env()
    from jianfu.validate.docs import context_root

    script = "<script>alert('x')</script>"
    items = [item(F, [good_form(), good_form(form_id="F-2", fill_count=script, frequency=script,
                                             unit_code="<img src=x onerror=alert(1)>")], key="sub-1")]
    found = validate_batch(items, reference, NOW, context_root=context_root(settings))

    build_data_docs(settings)

    assert any(p.value == script for p in found["sub-1"])  # the problem is found and reported
    html = "".join(p.read_text(encoding="utf-8") for p in (settings.reports / "data_docs").rglob("*.html"))
    assert "<script>alert(" not in html and "<img src=x" not in html and "onerror=alert" not in html
    assert "sub-1" in html


def test_data_docs_render_a_suite_again_when_its_json_changes(reference, tmp_path, monkeypatch):
    monkeypatch.setenv("JIANFU_HOME", str(tmp_path / "home"))
    suites = tmp_path / "expectations"
    shutil.copytree(EXPECTATIONS_DIR, suites)
    settings = Settings.from_env()
    build_data_docs(settings, suites)
    pages = {p.name: p.stat().st_mtime_ns for p in (settings.reports / "data_docs" / "expectations").glob("*.html")}
    data = json.loads((suites / "work_groups.json").read_text(encoding="utf-8"))
    data["expectations"][0]["meta"]["message_en"] = "a message the office reworded"
    (suites / "work_groups.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    build_data_docs(settings, suites)

    now = {p.name: p.stat().st_mtime_ns for p in (settings.reports / "data_docs" / "expectations").glob("*.html")}
    assert [name for name in sorted(now) if now[name] != pages[name]] == ["work_groups.html"]


# ---------------------------------------------------------------------------------------------
# cost: the suite runs once per kind, so many files cost little more than one


@pytest.mark.slow
def test_batching_cost(reference):
    one = [item(F, [good_form()], key="one")]
    validate_batch(one, reference, NOW)
    t0 = time.perf_counter()
    validate_batch(one, reference, NOW)
    single = time.perf_counter() - t0
    rows = [good_form(form_id=f"F-{i}") for i in range(300)]
    many = [item(F, rows, key=f"k{i}") for i in range(100)]
    t0 = time.perf_counter()
    out = validate_batch(many, reference, NOW)
    batch = time.perf_counter() - t0
    assert all(v == [] for v in out.values())
    assert batch < 10 * single + 5, (single, batch)


# ---------------------------------------------------------------------------------------------
# end to end with the reader (a few; the cases above build frames directly)


def _csv(path: Path, kind: S.Kind, rows: list[dict], title: str | None = None, encoding: str = "utf-8-sig") -> Path:
    import csv

    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        if title:
            w.writerow([title])
        w.writerow([c.zh for c in kind.columns])
        for r in rows:
            w.writerow(["" if r.get(c.name) is None else r[c.name] for c in kind.columns])
    return path


def test_end_to_end_with_reader(reference, tmp_path):
    from jianfu.ingest.read import read_submission

    files = {
        "fc_bad": (F, _csv(tmp_path / "fc.csv", F, [good_form(), good_form(form_id="F-2", fill_count="1200"),
                                                    good_form(form_id="F-3", dept_code="421127-nope")],
                            title="黄梅县2025年3月报表填报统计", encoding="gb18030")),
        "wg_good": (G, _csv(tmp_path / "wg.csv", G, [good_group(created_date="2024/01/10",
                                                                last_active_date="2025年3月20日")])),
        "in_warn": (V, _csv(tmp_path / "in.csv", V, [good_visit(year="2022", planned_date="2022-05-01",
                                                                actual_date="2022-05-03")])),
    }
    items = [BatchItem(key, kind, read_submission(path, kind), RECEIVED) for key, (kind, path) in files.items()]
    out = validate_batch(items, reference, NOW)
    # title row 1, header row 2: the second data row is row 4 of the clerk's file
    assert found(out["fc_bad"]) == {("out_of_range", "fill_count", 4), ("fill_count_high", "fill_count", 4),
                                    ("unknown_dept", "dept_code", 5)}
    assert {p.value for p in out["fc_bad"]} == {"1200", "421127-nope"}
    assert out["wg_good"] == []
    assert found(out["in_warn"]) == {("period_too_old", "year", 2)}


def test_reader_table_and_frame_give_the_same_verdicts(reference):
    """Validation stacks the reader's Arrow table when the ReadResult has one, else converts the
    frame: both must give the same problems."""
    import pyarrow as pa

    rows = [good_form(), good_form(form_id="F-2", fill_count="x", unit_code="421126100000"),
            good_form(form_id="F-3", hours_spent="20000", channel="传真", dept_code="421127-XX")]
    plain = item(F, rows, key="a")
    with_table = item(F, rows, key="b")
    with_table.read.table = pa.Table.from_pandas(with_table.read.frame, preserve_index=False)
    out = validate_batch([plain, with_table], reference, NOW)
    assert out["a"] and out["a"] == out["b"]


def test_gx_gets_numpy_backed_columns(reference):
    from jianfu.validate.prepare import stack

    frame = stack([(0, item(G, [good_group()]))], G, reference)
    for name, dtype in frame.dtypes.items():
        assert not isinstance(dtype, pd.ArrowDtype) and getattr(dtype, "storage", None) != "pyarrow", name


