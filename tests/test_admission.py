"""The admission check (准入, SPEC.md section 10): reuse / review / admit, naming the overlapping forms."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl
import pytest

from builders import write_reference
from jianfu.collection import check_form
from jianfu.collection.admission import NoJudgement
from jianfu.config import ConfigError, Settings
from jianfu.warehouse.publish import Warehouse
from test_alerts import partition_file

COUNTY = "421127"
UNITS = [f"{COUNTY}100{n:03d}" for n in range(1, 6)]

#: (period, dept, form_id, form_name, data_items, units filling it)
FORMS = [
    ("2026-10", "421127-AGRI", "F001", "耕地保护情况统计表", "耕地面积;基本农田面积;撂荒面积;种植面积;灌溉面积", UNITS[:3]),
    ("2026-09", "421127-AGRI", "F001", "耕地保护情况统计表", "耕地面积;基本农田面积;撂荒面积;种植面积;灌溉面积", UNITS[3:4]),
    ("2026-09", "421127-NRES", "R009", "土地利用台账", "耕地面积；基本农田面积；撂荒面积；建设用地面积", UNITS[:2]),
    ("2026-10", "421127-EDU", "E001", "学生资助统计", "资助人数、资助金额", UNITS[:5]),
    ("2026-10", "421127-HEALTH", "H001", "疫苗接种情况统计表", None, UNITS[:1]),
    # outside the 12 months up to 2026-10: not compared
    ("2025-10", "421127-CIVIL", "C001", "低保对象统计", "低保户数;低保人数", UNITS[:5]),
]

PROPOSALS = [
    ("421127-AGRI", "耕地撂荒情况统计", "每月", "耕地面积、基本农田面积、撂荒面积、种植面积"),
    ("421127-EDU", "学生资助及营养餐统计", "每季度", "资助人数;营养餐人数;资助金额;食堂数量"),
    ("421127-CIVIL", "低保对象统计", "每年", "低保户数;低保人数"),
    ("４２１１２７－ＷＳＪ", "疫苗接种情况 统计表。", "不定期", ""),
]


def publish_forms(settings: Settings) -> None:
    by_period: dict[str, list[tuple]] = {}
    for period, dept, form_id, name, items, units in FORMS:
        for unit in units:
            by_period.setdefault(period, []).append((unit, form_id, name, dept, items))
    Warehouse(settings.warehouse).publish("form_counts", {
        f"county_code={COUNTY}/period={period}": {"part-0.parquet": partition_file("form_counts", {
            "unit_code": [r[0] for r in rows], "form_id": [r[1] for r in rows], "form_name": [r[2] for r in rows],
            "dept_code": [r[3] for r in rows], "frequency": ["monthly"] * len(rows),
            "fill_count": [1] * len(rows), "field_count": [5] * len(rows), "data_items": [r[4] for r in rows],
            "submission_id": ["s1"] * len(rows)})}
        for period, rows in by_period.items()})


DEPARTMENTS = ("AGRI", "NRES", "EDU", "HEALTH", "CIVIL", "WSJ")


def write_departments(settings: Settings) -> None:
    write_reference(settings.reference)
    (settings.reference / "departments.csv").write_text(
        "dept_code,dept_name\n" + "".join(f"{COUNTY}-{d},黄梅县{d}\n" for d in DEPARTMENTS), encoding="utf-8")


@pytest.fixture
def settings(jianfu_env) -> Settings:
    settings = Settings.from_env(dict(jianfu_env))
    write_departments(settings)
    publish_forms(settings)
    return settings


def write_csv(path: Path, encoding: str = "gb18030") -> Path:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["下发部门代码", "报表名称", "填报频次", "指标清单"])
    writer.writerows(PROPOSALS)
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def test_verdicts_name_the_overlapping_forms(settings, tmp_path):
    result = check_form(settings, write_csv(tmp_path / "proposed.csv"))
    assert result.window == ("2025-11", "2026-10") and result.forms_compared == 4
    by_name = {p.form_name: p for p in result.proposals}

    farmland = by_name["耕地撂荒情况统计"]
    assert farmland.verdict == "reuse" and farmland.dept_code == "421127-AGRI" and farmland.frequency == "monthly"
    assert [(m.dept_code, m.form_id, m.form_name, m.similarity, m.units_filling) for m in farmland.matches] == [
        ("421127-AGRI", "F001", "耕地保护情况统计表", 0.8, 4),  # 4 shared items of 5; units of both months
        ("421127-NRES", "R009", "土地利用台账", 0.6, 2),
    ]
    aid = by_name["学生资助及营养餐统计"]
    assert aid.verdict == "review"
    assert [(m.form_id, m.similarity, m.units_filling) for m in aid.matches] == [("E001", 0.5, 5)]
    assert by_name["低保对象统计"].verdict == "admit" and by_name["低保对象统计"].matches == []
    vaccine = by_name["疫苗接种情况 统计表。"]  # no items: equal normalised names
    assert vaccine.verdict == "reuse" and vaccine.dept_code == "421127-WSJ"
    assert [(m.form_id, m.similarity) for m in vaccine.matches] == [("H001", 1.0)]

    table = result.render("table")
    assert "REUSE" in table and "421127-AGRI:F001 耕地保护情况统计表" in table and "ADMIT" in table

    rows = list(csv.reader(io.StringIO(result.render("csv"))))
    assert rows[0] == ["proposed_form", "verdict", "dept_code", "form_id", "form_name", "similarity", "units_filling"]
    assert rows[1:] == [
        ["耕地撂荒情况统计", "reuse", "421127-AGRI", "F001", "耕地保护情况统计表", "0.800", "4"],
        ["耕地撂荒情况统计", "reuse", "421127-NRES", "R009", "土地利用台账", "0.600", "2"],
        ["学生资助及营养餐统计", "review", "421127-EDU", "E001", "学生资助统计", "0.500", "5"],
        ["低保对象统计", "admit", "", "", "", "", ""],
        ["疫苗接种情况 统计表。", "reuse", "421127-HEALTH", "H001", "疫苗接种情况统计表", "1.000", "1"],
    ]
    data = json.loads(result.render("json"))
    assert [p["verdict"] for p in data["proposals"]] == ["reuse", "review", "admit", "reuse"]
    assert data["proposals"][0]["matches"][0]["form_id"] == "F001"


def test_xlsx_with_title_rows_and_english_headers(settings, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["2027年拟新增报表清单"])
    sheet.append([])
    sheet.append(["dept_code", "form_name", "frequency", "data_items"])
    for row in PROPOSALS[:2]:
        sheet.append(list(row))
    path = tmp_path / "proposed.xlsx"
    book.save(path)
    result = check_form(settings, path)
    assert [(p.form_name, p.verdict, p.row) for p in result.proposals] == [
        ("耕地撂荒情况统计", "reuse", 4), ("学生资助及营养餐统计", "review", 5)]


def test_thresholds_come_from_rules_yaml(settings, tmp_path):
    (settings.reference / "rules.yaml").write_text("form_similarity_min: 0.9\nadmission_review_min: 0.55\n")
    result = check_form(settings, write_csv(tmp_path / "p.csv", "utf-8-sig"))
    assert [p.verdict for p in result.proposals] == ["review", "admit", "admit", "reuse"]
    assert [m.form_id for m in result.proposals[0].matches] == ["F001", "R009"]


def test_an_empty_warehouse_is_no_judgement_not_admit(jianfu_env, tmp_path):
    settings = Settings.from_env(dict(jianfu_env))
    write_departments(settings)

    with pytest.raises(NoJudgement, match="no form counts to compare with"):
        check_form(settings, write_csv(tmp_path / "p.csv"))


def test_rows_it_cannot_judge_refuse_the_whole_file_each_named(settings, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("部门,报表名称,填报频次,指标清单\n"
                    "421127-AGRI,耕地撂荒情况统计,每月,耕地面积\n"
                    "421127-XX,某统计表,每月,a\n"
                    "421127-EDU,另一表,每两周,b\n"
                    "421127-EDU,,每月,c\n", encoding="utf-8")

    with pytest.raises(NoJudgement) as caught:
        check_form(settings, path)

    message = str(caught.value)
    assert "\n" not in message and "nothing judged" in message
    assert "row 3: department 421127-XX is not in departments.csv" in message
    assert "row 4: frequency '每两周' is not one of" in message
    assert "row 5: form_name (报表名称) is empty" in message
    assert "row 2" not in message


def test_chinese_headers_are_read_and_named(settings, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("部门,报表名称,填报频次,指标清单\n421127-AGRI,耕地撂荒情况统计,每月,"
                    "耕地面积、基本农田面积、撂荒面积、种植面积\n", encoding="utf-8")

    result = check_form(settings, path)

    assert result.proposals[0].dept_code == "421127-AGRI" and result.proposals[0].verdict == "reuse"
    assert "columns recognised: 部门 -> dept_code, 报表名称 -> form_name, 填报频次 -> frequency, " \
           "指标清单 -> data_items" in result.render("table")


def test_unusable_files_are_one_line_errors(settings, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="form_name"):
        check_form(settings, bad)
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match="empty"):
        check_form(settings, empty)
    formula = tmp_path / "formula.csv"
    formula.write_text("dept_code,form_name,frequency,data_items\n421127-AGRI,=HYPERLINK(\"x\"),monthly,a;b\n",
                       encoding="utf-8")
    assert "'=HYPERLINK" in check_form(settings, formula).render("csv")
