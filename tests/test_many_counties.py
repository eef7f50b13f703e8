"""An office above county level: charts, the board and the printed bulletin sum counties by city
or province when they are more than a page can show one by one, and the XLSX keeps every county.

The counties are real division codes (the sample's counties.csv): Beijing's and Tianjin's
districts and Hebei's 190 counties, 222 in all.
"""

from __future__ import annotations

import csv
import subprocess

import openpyxl

from jianfu import charts
from jianfu.console.pages import board
from jianfu.reference import area_name, area_names
from jianfu.report import render_to
from jianfu.report.html import MAX_COUNTIES_LISTED, by_province
from jianfu.report.model import Bulletin, Column, Section
from jianfu.sample.divisions import DATA

with (DATA / "counties.csv").open(encoding="utf-8", newline="") as fh:
    COUNTIES = [r for r in csv.DictReader(fh) if r["province_code"] in ("11", "12", "13")]


def cells(codes: list[str], status: str = "accepted") -> list[dict]:
    return [{"county_code": c, "county_name": f"县{c}", "kind": "form_counts", "period": "2026-10", "status": status}
            for c in codes]


def drawn_rows(chart) -> list[dict]:
    spec = charts.spec(chart)
    return spec["datasets"][spec["data"]["name"]]


def test_areas_are_named_by_province_and_city():
    assert area_name("13") == "河北省 13" and area_name("1304") == "邯郸市 1304"
    assert area_names()["1101"] == "北京市"  # 市辖区: named by its municipality
    assert len([c for c in area_names() if len(c) == 2]) == 31


def test_a_chart_draws_counties_then_cities_then_provinces():
    hebei = [r["county_code"] for r in COUNTIES if r["province_code"] == "13"]
    many_cities = [f"{p:02d}{c:02d}01" for p in range(11, 16) for c in range(1, 15)]  # 70 cities

    assert charts.area_digits(hebei[:charts.MAX_COUNTIES_DRAWN]) == 6
    assert charts.area_digits(hebei) == 4  # 190 counties in 11 cities
    assert charts.area_digits(many_cities) == 2


def test_the_board_of_a_province_shows_its_cities_coloured_by_their_most_urgent_county():
    hebei = [r["county_code"] for r in COUNTIES if r["province_code"] == "13"]
    grid = cells(hebei)
    grid[0]["status"] = "missing"  # one county of 石家庄市 (1301) has not submitted

    chart = charts.collection_grid(grid, area_link=lambda code: f"board?area={code}")

    rows = drawn_rows(chart)
    assert sorted({r["county_code"] for r in rows}) == sorted({c[:4] for c in hebei})
    first = next(r for r in rows if r["county_code"] == hebei[0][:4])
    assert first["status"] == charts.STATUS_LABELS["zh"]["missing"] and first["href"] == f"board?area={hebei[0][:4]}"
    assert "未报 1" in first["counties"]
    others = [r for r in rows if r["county_code"] != hebei[0][:4]]
    assert {r["status"] for r in others} == {charts.STATUS_LABELS["zh"]["accepted"]}
    svg = charts.svg(chart)
    assert "石家庄市 1301" in svg and hebei[1] not in svg and "按市汇总" in svg


def test_a_national_reduction_trend_and_flag_chart_sum_each_province():
    codes = [f"{p:02d}{c:02d}01" for p in range(11, 16) for c in range(1, 15)]
    trend = [{"period": "2026-10", "county_code": c, "county": c, "measure": "报表数 forms", "value": 2} for c in codes]
    flagged = [{"county_code": c, "county_name": "", "rule": "GROUP_ZOMBIE", "count": 3} for c in codes]

    lines = drawn_rows(charts.reduction_trend(trend))
    bars = drawn_rows(charts.flags_by_county(flagged))

    assert {r["county"]: r["value"] for r in lines} == {area_name(f"{p}"): 14 * 2 for p in range(11, 16)}
    assert {r["county_code"]: r["count"] for r in bars} == {f"{p}": 14 * 3 for p in range(11, 16)}


def test_the_board_offers_provinces_and_the_cities_of_the_one_chosen():
    codes = {r["county_code"] for r in COUNTIES}

    choices = dict(board.areas(codes, "13"))
    few = board.areas(set(list(codes)[:charts.MAX_COUNTIES_DRAWN]), "")

    assert {"11", "12", "13", "1301", "1311"} <= set(choices) and "1201" not in choices
    assert choices["1301"].strip() == "石家庄市 1301"
    assert few == []  # a grid's worth of counties needs no area filter


def _national_bulletin(counties: list[dict]) -> Bulletin:
    section = Section("collection", "一、数据报送情况", "1. Collection record",
                      columns=[Column("county_code", "县代码", "county"), Column("county_name", "县(市、区)", "name"),
                               Column("on_time", "按时通过", "on time", True), Column("hours", "耗时", "hours", True)],
                      rows=[{"county_code": r["county_code"], "county_name": r["county_name"], "on_time": 1,
                             "hours": 0.25} for r in counties])
    return Bulletin("2026-10", None, "全部县", "减负办", "jfb@example.cn", "2026-11-06 08:00", [section])


def test_a_bulletin_of_more_counties_than_a_province_prints_provinces_and_keeps_every_county_in_xlsx(tmp_path):
    unknown = [{"county_code": f"99{n:04d}", "county_name": f"县{n}"} for n in range(3)]  # a province no list names
    counties = COUNTIES + unknown
    assert len(counties) > MAX_COUNTIES_LISTED
    bulletin = _national_bulletin(counties)

    printed = by_province(bulletin.sections[0])
    pdf = render_to(bulletin, "pdf", tmp_path / "national.pdf")
    xlsx = render_to(bulletin, "xlsx", tmp_path / "national.xlsx")

    assert [r["county_code"] for r in printed] == ["11", "12", "13", "99"]
    assert printed[2] == {"county_code": "13", "county_name": "河北省", "on_time": 190, "hours": 47.5}
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "河北省" in text and "逐县数据见 XLSX 版" in text and COUNTIES[0]["county_name"] not in text
    pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert int(next(line.split()[-1] for line in pages.splitlines() if line.startswith("Pages:"))) <= 3
    sheet = openpyxl.load_workbook(xlsx).worksheets[1]
    codes = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True) if row and row[0]]
    assert set(codes) >= {r["county_code"] for r in counties}  # every county, one row each


def test_a_province_bulletin_lists_its_counties():
    hebei = [r for r in COUNTIES if r["province_code"] == "13"]

    assert len(hebei) == 190 and by_province(_national_bulletin(hebei).sections[0]) is None


def test_a_joint_visit_calendar_draws_the_counties_with_the_most_proposals():
    proposals = [{"county": f"县 {c['county_code']}", "target": f"村 {c['county_code']}001", "proposed_date": "2026-12-10",
                  "departments": 2, "dept_names": "甲、乙", "lead": "甲", "visits_merged": 2}
                 for n, c in enumerate(COUNTIES) for _ in range(1 + (n == 5))]  # the sixth county has two

    rows = drawn_rows(charts.joint_calendar(proposals))

    counties = {r["county"] for r in rows}
    assert len(counties) == charts.JOINT_COUNTIES_DRAWN and f"县 {COUNTIES[5]['county_code']}" in counties
