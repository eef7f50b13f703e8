"""The bulletin's joint-visits and reduction parts on the pilot warehouse (SPEC.md sections 13,
14 and 17): the numbers in the PDF, HTML and XLSX are `jianfu joint`'s and the warehouse's.

Joint visits are computed as of the bulletin month's last day, as `jianfu joint --year Y --as-of`
that day computes them: the bulletin of October proposes what was still ahead on 31 October.
"""

from __future__ import annotations

import json
import subprocess
from datetime import date

import openpyxl
import pytest

from conftest import NOW
from jianfu.config import Settings
from jianfu.ingest.pipeline import ingest
from jianfu.joint import joint_result
from jianfu.report import build_bulletin, write_report
from jianfu.sample import generate
from jianfu.warehouse.build import build
from jianfu.warehouse.query import run_query

PERIOD = "2026-10"
MONTH_END = date(2026, 10, 31)
COUNTY = "421127"  # 黄梅县, the pilot county with proposals


@pytest.fixture(scope="module")
def pilot(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("bulletin_more") / "home"
    settings = Settings.from_env({"JIANFU_HOME": str(home), "JIANFU_NOW": NOW.isoformat()})
    generate(home, seed=7, scale="pilot", now=NOW)
    ingest(settings)
    build(settings)
    return settings


def query(settings: Settings, sql: str) -> list[dict]:
    """What `jianfu query SQL --format json` answers."""
    return json.loads(run_query(settings, sql, "json"))


def test_joint_section_is_jianfu_joint_as_of_the_months_last_day(pilot):
    expected = joint_result(pilot, 2026, MONTH_END)

    bulletin = build_bulletin(pilot, PERIOD)

    joint = bulletin.section("joint")
    assert dict(joint.headline) == {"待查次数 / planned visits ahead": expected.summary.candidates,
                                    "建议联合检查 / joint visits proposed": expected.summary.proposals,
                                    "合并后次数 / visits after merging": expected.summary.visits_after_merging,
                                    "减少 / reduction (%)": expected.summary.reduction_pct}
    assert expected.summary.proposals >= 2
    assert [r["proposed_date"] for r in joint.rows] == [p.proposed_date for p in expected.proposals]
    assert joint.totals()["visits_saved"] == sum(p.visits_saved for p in expected.proposals)
    inspections = bulletin.section("inspections").totals()
    assert inspections["joint_proposals"] == expected.summary.proposals
    assert inspections["joint_saved"] == sum(p.visits_saved for p in expected.proposals)
    assert joint.chart is not None


def test_one_county_bulletin_proposes_that_countys_joint_visits(pilot):
    expected = joint_result(pilot, 2026, MONTH_END).summary.by_county[COUNTY]

    joint = build_bulletin(pilot, PERIOD, COUNTY).section("joint")

    assert {r["county_code"] for r in joint.rows} == {COUNTY}
    assert len(joint.rows) == expected.proposals
    assert dict(joint.headline)["待查次数 / planned visits ahead"] == expected.candidates


def test_pdf_and_html_hold_the_joint_visits(pilot, tmp_path):
    expected = joint_result(pilot, 2026, MONTH_END)

    pdf = write_report(pilot, PERIOD, "pdf", tmp_path / "b.pdf")
    html = write_report(pilot, PERIOD, "html", tmp_path / "b.html").read_text(encoding="utf-8")

    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "建议联合检查" in text
    for p in expected.proposals:
        assert p.proposed_date.isoformat() in text and p.target_unit_code in text
        assert p.proposed_date.isoformat() in html
    assert f"{expected.summary.reduction_pct}" in text
    assert 'id="joint"' in html and "<svg" in html.split('id="joint"', 1)[1].split("</section>", 1)[0]


def test_xlsx_joint_sheet_totals_equal_jianfu_joint(pilot, tmp_path):
    expected = joint_result(pilot, 2026, MONTH_END)

    book = openpyxl.load_workbook(write_report(pilot, PERIOD, "xlsx", tmp_path / "b.xlsx"))

    sheet = book["四(续)、建议联合检查"]
    header = [c.value for c in sheet[1]]
    saved = [sheet.cell(r, header.index("减少次数 / visits saved") + 1).value for r in range(2, sheet.max_row + 1)]
    rows = saved[:saved.index(None)]
    assert len(rows) == expected.summary.proposals
    assert sum(rows) == saved[len(rows) + 1] == sum(p.visits_saved for p in expected.proposals)
    assert sheet.freeze_panes == "A2"


# ---------------------------------------------------------------------------------- reduction
REDUCTION_SUMS = """SELECT sum(forms_cancelled) AS forms_cancelled, sum(forms_less_frequent) AS forms_less_frequent,
                           sum(groups_dissolved) AS groups_dissolved, sum(fills) AS fills
                    FROM reduction WHERE period = '2026-10'"""


def test_reduction_section_is_the_reduction_tables_month(pilot):
    expected = query(pilot, REDUCTION_SUMS)[0]

    section = build_bulletin(pilot, PERIOD).section("reduction")

    totals = section.totals()
    assert {k: totals[k] for k in expected} == expected
    assert expected["forms_cancelled"] > 0 and expected["groups_dissolved"] > 0
    assert section.chart is not None and not section.notes
    drawn = section.chart.to_dict()
    assert {"报表数 forms", "填报次数 fills", "工作群 groups"} <= {r["measure"] for r in _chart_rows(drawn)}


def _chart_rows(spec: dict) -> list[dict]:
    return [row for rows in spec.get("datasets", {}).values() for row in rows]


def test_reduction_numbers_are_in_the_pdf_and_the_xlsx(pilot, tmp_path):
    expected = query(pilot, REDUCTION_SUMS)[0]

    text = subprocess.run(["pdftotext", "-layout", str(write_report(pilot, PERIOD, "pdf", tmp_path / "b.pdf")), "-"],
                          capture_output=True, text=True, check=True).stdout
    book = openpyxl.load_workbook(write_report(pilot, PERIOD, "xlsx", tmp_path / "b.xlsx"))

    reduction_page = text[text.index("本月减负成效"):]
    for key in ("forms_cancelled", "groups_dissolved"):
        assert str(expected[key]) in reduction_page
    sheet = book["六、本月减负成效"]
    header = [c.value for c in sheet[1]]
    column = [sheet.cell(r, header.index("取消填报 / cancelled") + 1).value for r in range(2, sheet.max_row + 1)]
    rows = column[:column.index(None)]
    assert sum(rows) == column[len(rows) + 1] == expected["forms_cancelled"]
