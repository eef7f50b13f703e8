"""The console's joint-visits, reduction and catalog pages on the pilot warehouse: each page's
figures equal `jianfu joint` / `jianfu query`, county text is escaped, lists export to XLSX.

The pilot warehouse is built once for the module as tests/test_console.py builds it; pages are
driven through FastAPI's TestClient against the app `jianfu serve` runs.
"""

from __future__ import annotations

import io
import json
import re
from datetime import date

import openpyxl
import pytest
from fastapi.testclient import TestClient

from conftest import NOW
from jianfu.cli import main
from jianfu.config import Settings
from jianfu.console import create_app
from jianfu.ingest.pipeline import ingest
from jianfu.joint import joint_result
from jianfu.sample import generate
from jianfu.warehouse.build import build

AS_OF = "2026-06-30"  # the issue's example day: the pilot plans proposals in two counties' rest of year
COUNTY = "421127"  # 黄梅县
#: A target of a pilot proposal renamed with markup: county text must show as text, never run.
PLANTED_UNIT, PLANTED_NAME = "421127101218", "殷湾村<script>alert(1)</script>"


@pytest.fixture(scope="module")
def pilot(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("console_more") / "home"
    settings = Settings.from_env({"JIANFU_HOME": str(home), "JIANFU_NOW": NOW.isoformat()})
    generate(home, seed=7, scale="pilot", now=NOW)
    units = settings.reference / "units.csv"
    units.write_text(units.read_text(encoding="utf-8").replace(f"{PLANTED_UNIT},殷湾村村民委员会,",
                                                               f"{PLANTED_UNIT},{PLANTED_NAME},"), encoding="utf-8")
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
