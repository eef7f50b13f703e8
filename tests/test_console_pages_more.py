"""The console's joint-visits, reduction and catalog pages on the pilot warehouse: each page's
figures equal `jianfu joint` / `jianfu query`, county text is escaped, lists export to XLSX.

The pilot warehouse is built once for the module as tests/test_console.py builds it; pages are
driven through FastAPI's TestClient against the app `jianfu serve` runs.
"""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from datetime import date

import openpyxl
import pytest
from fastapi.testclient import TestClient

from conftest import NOW
from jianfu.cli import main
from jianfu.config import Settings
from jianfu.console import create_app
from jianfu.console.pages import Request, catalog, reduction
from jianfu.console.store import Store
from jianfu.console.tables import SHOWN_ROWS
from jianfu.flags.normalize import norm_name
from jianfu.ingest.pipeline import ingest
from jianfu.joint import joint_result
from jianfu.sample import generate
from jianfu.warehouse.build import build

AS_OF = "2026-06-30"  # the issue's example day: the pilot plans proposals in two counties' rest of year
COUNTY = "421127"  # 黄梅县
#: A target of a pilot proposal renamed with markup: county text must show as text, never run.
PLANTED_UNIT, PLANTED_NAME = "421127101218", "殷湾村<script>alert(1)</script>"
PLANTED_DEPT, PLANTED_DEPT_NAME = "421127-NATRES", "=HYPERLINK(\"x\")<b>自然资源局</b>"


@pytest.fixture(scope="module")
def pilot(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("console_more") / "home"
    settings = Settings.from_env({"JIANFU_HOME": str(home), "JIANFU_NOW": NOW.isoformat()})
    generate(home, seed=7, scale="pilot", now=NOW)
    units = settings.reference / "units.csv"
    units.write_text(units.read_text(encoding="utf-8").replace(f"{PLANTED_UNIT},殷湾村村民委员会,",
                                                               f"{PLANTED_UNIT},{PLANTED_NAME},"), encoding="utf-8")
    depts = settings.reference / "departments.csv"
    depts.write_text(depts.read_text(encoding="utf-8").replace(
        f"{PLANTED_DEPT},黄梅县自然资源和规划局,", f'{PLANTED_DEPT},"{PLANTED_DEPT_NAME.replace(chr(34), chr(34) * 2)}",'),
        encoding="utf-8")
    ingest(settings)
    build(settings)
    return settings


@pytest.fixture
def client(pilot: Settings) -> TestClient:
    return TestClient(create_app(pilot))


@pytest.fixture
def cli(pilot: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    """`jianfu ARGS` against the pilot home: its stdout."""
    monkeypatch.setenv("JIANFU_HOME", str(pilot.home))
    monkeypatch.setenv("JIANFU_NOW", NOW.isoformat())
    for name in ("JIANFU_WAREHOUSE", "JIANFU_REFERENCE"):
        monkeypatch.delenv(name, raising=False)

    def run(*args: str) -> str:
        capsys.readouterr()
        assert main(list(args)) == 0
        return capsys.readouterr().out

    return run


def cards(html: str) -> list[str]:
    return re.findall(r'<div class="figure">([^<]*)</div>', html)


def workbook(content: bytes) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return {ws.title: list(ws.values) for ws in book.worksheets}


# ------------------------------------------------------------------------------- joint visits
def test_joint_page_shows_what_jianfu_joint_prints(client, cli):
    expected = json.loads(cli("joint", "--as-of", AS_OF, "--format", "json"))

    response = client.get("/joint", params={"as_of": AS_OF})

    assert response.status_code == 200 and 'class="error"' not in response.text
    summary = expected["summary"]
    assert cards(response.text) == [str(summary["candidates"]), str(summary["proposals"]),
                                    str(summary["visits_after_merging"]), f"{summary['reduction_pct']}%"]
    assert summary["proposals"] >= 2
    for proposal in expected["proposals"]:
        assert proposal["proposed_date"] in response.text and proposal["target_unit_code"] in response.text
    assert "黄梅县" in response.text  # names, not codes alone
    assert 'id="chart-calendar"' in response.text


def test_joint_page_defaults_to_today_at_the_office(client, cli, pilot):
    expected = json.loads(cli("joint", "--format", "json"))["summary"]

    html = client.get("/joint").text

    assert expected["as_of"] == pilot.office_today().isoformat()
    assert f'value="{expected["as_of"]}"' in html
    assert cards(html)[:3] == [str(expected["candidates"]), str(expected["proposals"]),
                               str(expected["visits_after_merging"])]


def test_joint_page_of_one_county_has_that_countys_summary(client, pilot):
    result = joint_result(pilot, 2026, date.fromisoformat(AS_OF))
    mine = result.summary.by_county[COUNTY]

    html = client.get("/joint", params={"as_of": AS_OF, "county": COUNTY}).text
    listed = workbook(client.get("/joint", params={"as_of": AS_OF, "county": COUNTY, "format": "xlsx"}).content)

    assert cards(html)[:3] == [str(mine.candidates), str(mine.proposals), str(mine.visits_after_merging)]
    assert len(listed["proposals"]) - 1 == mine.proposals > 0
    assert all(COUNTY in row[0] for row in listed["proposals"][1:])


def test_joint_export_is_a_workbook_of_the_proposals(client, cli):
    expected = json.loads(cli("joint", "--as-of", AS_OF, "--format", "json"))

    response = client.get("/joint", params={"as_of": AS_OF, "format": "xlsx"})

    sheets = workbook(response.content)
    proposals = sheets["proposals"]
    assert proposals[0][0] == "县(市、区)"
    assert len(proposals) - 1 == len(expected["proposals"])
    header = proposals[0]
    saved = [row[header.index("减少次数")] for row in proposals[1:]]
    assert sum(saved) == sum(p["visits_saved"] for p in expected["proposals"])
    assert len(sheets["summary"]) > 1


def test_joint_page_says_plainly_when_as_of_is_not_a_day(client):
    response = client.get("/joint", params={"as_of": "<b>2026-13-01</b>"})

    assert response.status_code == 200
    assert "截至日期应为 YYYY-MM-DD" in response.text
    assert "<b>2026-13-01</b>" not in response.text and "&lt;b&gt;2026-13-01&lt;/b&gt;" in response.text


def test_joint_page_escapes_county_text(client):
    html = client.get("/joint", params={"as_of": AS_OF}).text
    book = workbook(client.get("/joint", params={"as_of": AS_OF, "format": "xlsx"}).content)

    # Chart data travels as JSON inside <script type="application/json">, where no `</` can close it.
    specs = re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', html, flags=re.S)
    page = re.sub(r'<script type="application/json"[^>]*>.*?</script>', "", html, flags=re.S)

    assert PLANTED_UNIT in page and specs and all("</" not in spec for spec in specs)
    assert "<script>alert(1)" not in page and "殷湾村&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert any(PLANTED_NAME in str(cell) for row in book["proposals"] for cell in row)


def query(cli, sql: str) -> list[dict]:
    return json.loads(cli("query", sql, "--format", "json"))


def without_specs(html: str) -> str:
    return re.sub(r'<script type="application/json"[^>]*>.*?</script>', "", html, flags=re.S)


# ---------------------------------------------------------------------------------- reduction
def test_reduction_page_shows_the_reduction_tables_month(client, cli):
    latest = query(cli, "SELECT max(period) AS p FROM reduction")[0]["p"]
    expected = query(cli, f"""SELECT sum(forms_cancelled) AS c, sum(forms_less_frequent) AS l, sum(forms_added) AS a,
                                     sum(groups_dissolved) AS d, sum(groups_created) AS n
                              FROM reduction WHERE period = '{latest}'""")[0]

    response = client.get("/reduction")

    assert response.status_code == 200 and 'class="error"' not in response.text
    assert cards(response.text) == [str(expected[k]) for k in "cladn"]
    assert expected["c"] > 0 and expected["l"] > 0 and expected["d"] > 0  # the pilot plants each
    assert 'id="chart-trend"' in response.text


@pytest.mark.parametrize("period", ["2026-09", "2026-10"])
def test_the_months_lists_are_as_long_as_the_reduction_tables_counts(pilot, cli, period):
    counts = query(cli, f"""SELECT county_code, forms_cancelled, forms_less_frequent, groups_dissolved
                            FROM reduction WHERE period = '{period}'""")

    found = reduction.changes(Store(pilot), period)

    for column, name in (("forms_cancelled", "cancelled"), ("forms_less_frequent", "less_frequent"),
                         ("groups_dissolved", "dissolved")):
        listed = Counter(r["county_code"] for r in found[name])
        assert listed == {r["county_code"]: r[column] for r in counts if r[column]}, column


def test_reduction_of_one_county_and_period_exports_its_rows(client, cli):
    expected = query(cli, f"SELECT * FROM reduction WHERE county_code = '{COUNTY}' ORDER BY period")

    response = client.get("/reduction", params={"county": COUNTY, "period": "2026-10", "format": "xlsx"})

    sheets = workbook(response.content)
    assert set(sheets) == {"month", "cancelled", "less_frequent", "dissolved", "trend"}
    month = sheets["month"]
    assert len(month) == 2 and COUNTY in month[1][0]
    header = month[0]
    assert month[1][header.index("取消填报")] == expected[-1]["forms_cancelled"]
    assert month[1][header.index("解散工作群")] == expected[-1]["groups_dissolved"]
    assert len(sheets["cancelled"]) - 1 == expected[-1]["forms_cancelled"]
    assert len(sheets["trend"]) - 1 == len(expected)


# ------------------------------------------------------------------------------------ catalog
def test_catalog_page_figures_equal_jianfu_query(client, cli):
    expected = query(cli, """SELECT count(*) AS forms, count(*) FILTER (WHERE active) AS active,
                                    count(DISTINCT overlap_group) AS groups FROM form_catalog""")[0]

    html = client.get("/catalog").text

    assert cards(html)[:2] == [str(expected["forms"]), str(expected["active"])]
    assert cards(html)[3] == str(expected["groups"]) and expected["groups"] > 0
    assert 'id="chart-overlap"' in html


def test_catalog_lists_the_first_forms_and_exports_them_all(pilot, client, cli):
    expected = query(cli, """SELECT dept_code, form_id FROM form_catalog
                             ORDER BY hours_12m DESC NULLS LAST, dept_code, form_id""")
    assert len(expected) > SHOWN_ROWS  # the precondition: more forms than the page shows

    forms = catalog.render(Request(Store(pilot), "zh", {})).tables[0]
    html = client.get("/catalog").text
    listed = re.search(r'<section class="list" id="list-forms">.*?</section>', html, re.S).group(0)
    sheets = workbook(client.get("/catalog", params={"format": "xlsx"}).content)

    assert forms.count == len(expected) and len(forms.rows) == SHOWN_ROWS  # read: only the rows shown
    assert f'<span class="count">({len(expected)})</span>' in listed
    assert listed.count("<tr>") == SHOWN_ROWS + 1
    header, *rows = sheets["forms"]
    assert [r[header.index("报表编号")] for r in rows] == [e["form_id"] for e in expected]


def test_catalog_overlap_groups_sum_their_members_and_unite_their_items(client, cli):
    expected = {r["g"]: r for r in query(cli, """SELECT overlap_group AS g, count(*) AS forms,
                    round(sum(hours_12m), 1) AS hours, sum(responses_12m) AS responses
                    FROM form_catalog WHERE overlap_group IS NOT NULL GROUP BY ALL""")}

    sheets = workbook(client.get("/catalog", params={"format": "xlsx"}).content)

    header, *rows = sheets["overlap"]
    assert len(rows) == len(expected)
    for row in rows:
        got = dict(zip(header, row, strict=True))
        want = expected[got["重叠组"]]
        assert (got["报表数"], got["近12个月耗时(小时)"], got["近12个月填报次数"]) == (
            want["forms"], want["hours"], want["responses"])
    top = dict(zip(header, rows[0], strict=True))
    members = query(cli, f"""SELECT DISTINCT f.data_items FROM form_catalog c JOIN form_counts f
                             ON f.dept_code = c.dept_code AND f.form_id = c.form_id AND f.period = c.last_period
                             WHERE c.overlap_group = '{top["重叠组"]}'""")
    united = top["合并后的指标"].split("、")
    assert top["指标数(合并后)"] == len(united) == len({norm_name(i) for i in united})  # each item once
    for member in members:
        items = {norm_name(i) for i in re.split(r"[;；、,，|]", member["data_items"] or "") if i.strip()}
        assert items and items <= {norm_name(i) for i in united}


def test_catalog_filters_by_department_and_active(client, cli):
    dept = query(cli, f"SELECT count(*) AS n FROM form_catalog WHERE dept_code = '{PLANTED_DEPT}'")[0]["n"]
    inactive = query(cli, "SELECT count(*) AS n FROM form_catalog WHERE NOT active")[0]["n"]

    by_dept = client.get("/catalog", params={"dept": PLANTED_DEPT}).text
    by_active = client.get("/catalog", params={"active": "no"}).text

    assert cards(by_dept)[0] == str(dept) and dept > 0
    assert cards(by_active)[:2] == [str(inactive), "0"]


def test_catalog_escapes_department_text(client):
    html = without_specs(client.get("/catalog", params={"dept": PLANTED_DEPT}).text)
    book = workbook(client.get("/catalog", params={"dept": PLANTED_DEPT, "format": "xlsx"}).content)

    assert "<b>自然资源局</b>" not in html and "&lt;b&gt;自然资源局&lt;/b&gt;" in html
    cells = [cell for row in book["forms"][1:] for cell in row if isinstance(cell, str) and "自然资源局" in cell]
    assert cells and all(not cell.startswith("=") for cell in cells)


# ------------------------------------------------------------------------------------- charts
def test_the_new_charts_are_valid_vega_lite_and_draw_offline():
    from jianfu import charts

    drawn = [
        charts.joint_calendar([{"county": "黄梅县 421127", "target": "殷湾村 (421127101218)",
                                "proposed_date": date(2026, 12, 10), "departments": 2, "dept_names": "甲、乙",
                                "lead": "甲", "visits_merged": 2}]),
        charts.reduction_trend([{"period": "2026-09", "county_code": "421127", "county": "黄梅县", "measure": "报表数 forms", "value": 51},
                                {"period": "2026-10", "county_code": "421127", "county": "黄梅县", "measure": "报表数 forms", "value": 32}],
                               lang="en"),
        charts.overlap_hours([{"overlap_group": "421127-AGRI:F1", "name": "耕地表", "forms": 2, "hours_12m": 12.5}]),
    ]

    for chart in drawn:
        spec = charts.spec(chart)  # altair validates against the Vega-Lite schema
        svg = charts.svg(chart)
        assert "$schema" in spec and svg.startswith("<svg") and "<text" in svg
