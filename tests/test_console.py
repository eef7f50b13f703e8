"""The console's pages on the pilot warehouse: each page's figures equal `jianfu query`'s, every
page answers in Chinese and English, lists export to XLSX, county text is escaped, and nothing
names a public host.

The pilot warehouse is built once for the module the way the CLI builds it (sample, ingest,
build, alerts); the pages are driven through FastAPI's TestClient, against the same app
`jianfu serve` runs.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections import Counter

import openpyxl
import pytest
from fastapi.testclient import TestClient

from conftest import NOW
from jianfu.alerts.run import run_alerts
from jianfu.collection.admission import check_form
from jianfu.collection.status import status_board
from jianfu.config import JianfuError, Settings
from jianfu.console import create_app
from jianfu.console.pages import Request, board, burden, discover, flags, overview, quota
from jianfu.console.serve import serve_app
from jianfu.console.store import Store
from jianfu.console.tables import SHOWN_ROWS, Column, Table, to_xlsx
from jianfu.ingest.pipeline import ingest
from jianfu.sample import generate
from jianfu.warehouse.build import build
from jianfu.warehouse.query import run_query

PERIOD = "2026-10"  # the pilot's latest month
PAGES = ("overview", "board", "files", "flags", "quota", "burden", "admission")


@pytest.fixture(scope="module")
def pilot(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("console") / "home"
    settings = Settings.from_env({"JIANFU_HOME": str(home), "JIANFU_NOW": NOW.isoformat()})
    generate(home, seed=7, scale="pilot", now=NOW)
    ingest(settings)
    build(settings)
    run_alerts(settings)
    return settings


@pytest.fixture(scope="module")
def strict(pilot: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The pilot's warehouse as an office with strict thresholds builds it: thousands of flags."""
    home = tmp_path_factory.mktemp("strict") / "home"
    shutil.copytree(pilot.home, home, symlinks=True)
    rules = home / "reference" / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    for default, strict_value in (("unit_monthly_fills_max: 60", "unit_monthly_fills_max: 1"),
                                  ("zombie_days: 90", "zombie_days: 1")):
        assert default in text
        text = text.replace(default, strict_value)
    rules.write_text(text, encoding="utf-8")
    settings = Settings.from_env({"JIANFU_HOME": str(home), "JIANFU_NOW": NOW.isoformat()})
    build(settings)
    return settings


@pytest.fixture(scope="module")
def store(pilot: Settings) -> Store:
    return Store(pilot)


@pytest.fixture(scope="module")
def client(pilot: Settings) -> TestClient:
    return TestClient(create_app(pilot))


@pytest.fixture(autouse=True)
def chinese_first(request: pytest.FixtureRequest) -> None:
    """Each test starts as a new visitor (no language cookie from the test before: Chinese)."""
    if "client" in request.fixturenames:
        request.getfixturevalue("client").cookies.clear()


def query(settings: Settings, sql: str) -> list[dict]:
    """What `jianfu query SQL --format json` answers."""
    return json.loads(run_query(settings, sql, "json"))


# ------------------------------------------------------------------------------------ queries
def test_overview_figures_equal_jianfu_query(pilot, store):
    got = overview.figures(store, PERIOD)

    submissions = query(pilot, f"SELECT status, count(*) AS n FROM submissions WHERE period = '{PERIOD}' GROUP BY status")
    flags_ = query(pilot, "SELECT rule, count(*) AS n FROM flags WHERE period IN ('2026-10', '2026-Q4', '2026') GROUP BY rule")
    near = query(pilot, "SELECT dept_code FROM quota_usage WHERE year = 2026 AND status IN ('warning', 'exceeded')")
    assert {r["status"]: r["files"] for r in got["submissions"]} == {r["status"]: r["n"] for r in submissions}
    assert {r["rule"]: r["count"] for r in got["flags"]} == {r["rule"]: r["n"] for r in flags_}
    assert {r["dept_code"] for r in got["quota"]} == {r["dept_code"] for r in near} != set()
    assert got["submissions"] and got["flags"]


def test_township_burden_is_the_township_and_its_villages(pilot, store):
    ranked = overview.townships(store, PERIOD)

    total = query(pilot, f"""SELECT sum(b.fills) AS fills FROM burden AS b JOIN units AS u USING (unit_code)
                             WHERE b.period = '{PERIOD}' AND u.township_code IS NOT NULL""")[0]["fills"]
    top = ranked[0]
    own = query(pilot, f"""SELECT sum(b.fills) AS fills FROM burden AS b JOIN units AS u USING (unit_code)
                           WHERE b.period = '{PERIOD}' AND u.township_code = '{top["unit_code"]}'""")[0]["fills"]
    assert sum(r["fills"] for r in ranked) == total > 0
    assert top["fills"] == own == max(r["fills"] for r in ranked)
    assert top["unit"] == f"{top['unit_name']} ({top['unit_code']})"


def test_flags_filters_equal_jianfu_query(pilot, store):
    every = flags.flags(store, {})
    zombies = flags.flags(store, {"rule": "GROUP_ZOMBIE"})
    one = flags.flags(store, {"rule": "GROUP_ZOMBIE", "county_code": zombies[0]["county_code"],
                              "period": zombies[0]["period"]})

    counted = query(pilot, "SELECT rule, count(*) AS n FROM flags GROUP BY rule")
    expected_one = query(pilot, f"""SELECT count(*) AS n FROM flags WHERE rule = 'GROUP_ZOMBIE'
        AND county_code = '{zombies[0]["county_code"]}' AND period = '{zombies[0]["period"]}'""")[0]["n"]
    assert Counter(r["rule"] for r in every) == {r["rule"]: r["n"] for r in counted}
    assert len(one) == expected_one >= 1
    assert all(r["county"] and "(" in r["county"] for r in zombies)  # a name beside the code


def test_quota_usage_items_and_alerts_equal_jianfu_query(pilot, store):
    usage = quota.usage(store, 2026)
    items = quota.items(store, 2026)
    alerts = quota.alerts(store, 2026)

    expected = query(pilot, "SELECT dept_code, used, quota, status FROM quota_usage WHERE year = 2026")
    assert {(r["dept_code"], r["used"], r["quota"], r["status"]) for r in usage} == \
        {(r["dept_code"], r["used"], r["quota"], r["status"]) for r in expected}
    # the items listed per department are exactly the ones its `used` counts
    per_dept = Counter(r["dept_code"] for r in items)
    assert all(per_dept[r["dept_code"]] == r["used"] for r in usage)
    some = [r["dept_code"] for r in usage[:2]]  # what the page reads: the items of the departments it lists
    assert quota.items(store, 2026, some) == [r for r in items if r["dept_code"] in some] != []
    assert sum(quota.statuses(store, 2026).values()) == len(usage)
    assert {"warning", "exceeded"} <= {r["status"] for r in usage}
    assert len(alerts) == query(pilot, "SELECT count(*) AS n FROM alerts WHERE year = 2026")[0]["n"] > 0


def test_burden_trend_sums_the_burden_table(pilot, store):
    months = burden.trend(store, "hours")

    expected = query(pilot, """SELECT period, county_code, sum(hours) AS v FROM burden
                               WHERE period IN (SELECT period FROM form_counts UNION SELECT period FROM work_groups)
                               GROUP BY ALL""")
    assert {(r["period"], r["county_code"]): r["value"] for r in months} == \
        pytest.approx({(r["period"], r["county_code"]): r["v"] for r in expected})


def test_board_cells_are_the_status_boards(pilot, store):
    cells = board.cells(store, pilot.office_today())

    statuses = Counter(c.status for c in cells)
    expected = status_board(pilot, as_of=pilot.office_today(), send_reminders=False).counts()
    assert statuses == expected
    assert {"accepted", "rejected", "late"} <= set(statuses)
    # every rejected cell of the latest month is one whose newest receipt the ledger rejected
    rejected = query(pilot, f"""SELECT DISTINCT county_code, kind FROM submissions
                                WHERE period = '{PERIOD}' AND status = 'rejected'""")
    shown = {(c.county_code, c.kind) for c in cells if c.period == PERIOD and c.status == "rejected"}
    assert shown <= {(r["county_code"], r["kind"]) for r in rejected}
    assert shown


# -------------------------------------------------------------------------------------- pages
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("slug", PAGES)
def test_every_page_answers_in_both_languages_with_no_public_host(client, slug, lang):
    response = client.get(f"/{slug}", params={"lang": lang})

    assert response.status_code == 200
    assert 'class="error"' not in response.text
    assert not re.search(r"(src|href)=\"(https?:)?//", response.text)
    assert "https://" not in response.text and "http://" not in response.text
    if lang == "en":
        assert "Export XLSX" in response.text or slug == "admission"


def test_page_list_is_discovered_from_the_package():
    slugs = [p.slug for p in discover()]

    assert slugs[0] == "overview"
    assert set(PAGES) | {"cell"} <= set(slugs)
    assert [p.slug for p in discover() if not p.nav] == ["cell"]


def test_overview_shows_the_pilot_figures(client, pilot):
    text = client.get("/", params={"lang": "zh"}).text

    rejected = query(pilot, f"SELECT count(*) AS n FROM submissions WHERE period = '{PERIOD}' AND status = 'rejected'")
    assert f"概览 · {PERIOD}" in text
    assert f'<div class="figure">{rejected[0]["n"]}</div><div class="label">退回的文件' in text
    assert 'id="spec-flags"' in text and "static/vega-bundle.js" in text


def test_cell_page_shows_the_countys_report_with_its_row_numbers(client, pilot):
    rejected = query(pilot, f"""SELECT submission_id, county_code, kind, period FROM submissions
                                WHERE status = 'rejected' AND period = '{PERIOD}' ORDER BY error_count DESC LIMIT 1""")[0]
    report_csv = next((pilot.reports / "submissions").glob(f"{rejected['submission_id']}_*.csv"))
    rows = list(csv.reader(io.StringIO(report_csv.read_text(encoding="utf-8-sig"))))[1:]

    response = client.get("/cell", params={"county": rejected["county_code"], "kind": rejected["kind"],
                                           "period": rejected["period"]})

    assert response.status_code == 200
    first_row_number = next(r[3] for r in rows if r[3])  # summary lines of a repeated problem have none
    assert f'<td class="num ">{first_row_number}</td>' in response.text
    assert "退回" in response.text and "问题清单" in response.text


def test_flags_export_is_a_workbook_of_the_filtered_rows(client, pilot):
    response = client.get("/flags", params={"rule": "GROUP_ZOMBIE", "format": "xlsx"})

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.values)
    expected = query(pilot, "SELECT count(*) AS n FROM flags WHERE rule = 'GROUP_ZOMBIE'")[0]["n"]
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert values[0][0] == "规则"
    assert len(values) - 1 == expected
    assert {v[0] for v in values[1:]} == {"僵尸工作群 GROUP_ZOMBIE"}


def test_flags_page_reads_the_rows_it_shows_and_counts_every_flag(strict):
    client = TestClient(create_app(strict))
    total = query(strict, "SELECT count(*) AS n FROM flags")[0]["n"]
    by_rule = {r["rule"]: r["n"] for r in query(strict, "SELECT rule, count(*) AS n FROM flags GROUP BY rule")}
    assert total > 2 * SHOWN_ROWS  # the precondition: more flags than the page shows

    store = Store(strict)
    counted = flags.counts(store, {})
    shown = flags.render(Request(store, "zh", {})).tables[0]
    page = client.get("/flags")
    listed = re.search(r'<section class="list" id="list-flags">.*?</section>', page.text, re.S).group(0)
    export = openpyxl.load_workbook(io.BytesIO(client.get("/flags", params={"format": "xlsx"}).content)).active

    assert {rule: sum(r["count"] for r in counted if r["rule"] == rule) for rule in by_rule} == by_rule
    assert shown.count == total and len(shown.rows) == SHOWN_ROWS  # read: only the rows shown
    assert [r["flag_id"] for r in shown.rows] == [r["flag_id"] for r in flags.flags(store, {})[:SHOWN_ROWS]]
    assert f'<span class="count">({total})</span>' in listed
    assert listed.count("<tr>") == SHOWN_ROWS + 1  # the header and the rows shown
    assert f"仅显示前 {SHOWN_ROWS} 行" in listed
    assert export.max_row - 1 == total


def test_xlsx_says_what_a_sheet_could_not_take():
    table = Table("t", {"zh": "t"}, [Column("name", "名称", "name")], [{"name": "a"}, {"name": "b"}], total=5)

    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx([table], "en"))).active

    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == \
        ["a", "b", "3 more rows not written (a sheet takes 1,048,574): narrow the filter."]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:A3"  # the note is not a row of the list


def test_xlsx_neutralises_formulas():
    table = Table("t", {"zh": "t"}, [Column("name", "名称", "name")],
                  [{"name": "=HYPERLINK(\"http://x\")"}, {"name": "+1"}, {"name": "@SUM(A1)"}, {"name": "正常"}])

    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx([table]))).active

    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == \
        ["'=HYPERLINK(\"http://x\")", "'+1", "'@SUM(A1)", "正常"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:A5"


def test_admission_upload_shows_the_verdicts_of_check_form(client, pilot):
    path = pilot.home / "proposals" / "proposed_forms.csv"
    expected = {p.form_name: p.verdict for p in check_form(pilot, path).proposals}

    response = client.post("/admission", files={"file": ("proposed_forms.csv", path.read_bytes(), "text/csv")})
    export = client.post("/admission?format=xlsx", files={"file": ("p.csv", path.read_bytes(), "text/csv")})

    assert response.status_code == 200
    verdicts = {"reuse": "复用已有报表", "review": "需审查", "admit": "准予新设"}
    for name, verdict in expected.items():
        assert re.search(rf"<td class=\" [^\"]*\">{re.escape(name)}</td>\s*<td[^>]*>[^<]*</td>\s*"
                         rf"<td class=\" status-[a-z]+\">{verdicts[verdict]}</td>", response.text), name
    assert {"reuse", "review", "admit"} <= set(expected.values())
    assert 'id="export"' not in response.text and 'id="upload-xlsx"' in response.text  # the file is posted again
    rows = list(openpyxl.load_workbook(io.BytesIO(export.content)).active.values)
    assert {r[0] for r in rows[1:]} == set(expected)


def test_admission_escapes_what_the_proposer_typed(client):
    body = "dept_code,form_name,frequency,data_items\n421127-AGRI,<script>alert(1)</script>,monthly,a;b\n"

    response = client.post("/admission", files={"file": ("<img src=x onerror=alert(1)>.csv", body.encode(), "text/csv")})

    assert "<script>alert(1)" not in response.text and "<img src=x" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


def test_admission_refuses_a_bad_file_with_its_reason(client):
    response = client.post("/admission", files={"file": ("bad.csv", b"a,b\n1,2\n", "text/csv")})

    assert response.status_code == 200
    assert 'id="refused"' in response.text and "bad.csv" in response.text and "form_name" in response.text
    assert "jianfu-upload" not in response.text  # the temporary path is not shown


def test_language_choice_is_remembered(client):
    client.get("/flags", params={"lang": "en"})

    text = client.get("/quota").text

    assert "Inspection quotas" in text and "Export XLSX" in text


def test_unknown_pages_and_asset_paths_are_not_found(client):
    assert client.get("/nope").status_code == 404
    assert client.get("/static/..%2Fapp.py").status_code == 404
    assert client.get("/static/console.css").status_code == 200
    assert client.get("/static/vega-bundle.js").text.startswith(("(", "!", "var", "/*", "//", "const", "\"use"))


def test_a_missing_warehouse_is_said_plainly(tmp_path):
    settings = Settings.from_env({"JIANFU_HOME": str(tmp_path / "none")})

    response = TestClient(create_app(settings)).get("/flags")

    assert response.status_code == 503
    assert "jianfu build" in response.text


# ---------------------------------------------------------------------------------- jianfu serve
def test_serve_without_a_token_listens_on_loopback_only(pilot):
    with pytest.raises(JianfuError, match="loopback"):
        serve_app(pilot, "0.0.0.0")

    assert TestClient(serve_app(pilot, "127.0.0.1")).get("/flags").status_code == 200


def test_serve_with_a_token_refuses_requests_without_it(pilot):
    settings = Settings.from_env({**pilot.env, "JIANFU_CONSOLE_TOKEN": "s3cret"})
    client = TestClient(serve_app(settings, "0.0.0.0"))

    refused = [client.get(path).status_code for path in ("/", "/flags", "/static/console.css", "/static/vega-bundle.js")]
    entered = client.get("/flags?token=s3cret&rule=GROUP_ZOMBIE", follow_redirects=False)
    after = client.get("/flags?rule=GROUP_ZOMBIE")
    bearer = TestClient(serve_app(settings, "0.0.0.0")).get("/quota", headers={"Authorization": "Bearer s3cret"})

    assert refused == [401, 401, 401, 401]
    assert entered.status_code == 303 and entered.headers["location"] == "/flags?rule=GROUP_ZOMBIE"
    assert after.status_code == 200 and bearer.status_code == 200


def test_a_filter_matching_nothing_shows_an_empty_list(client):
    response = client.get("/flags", params={"rule": "NO_SUCH_RULE"})

    assert response.status_code == 200
    assert "预警清单 <span class=\"count\">(0)</span>" in response.text
    assert 'id="spec-rules"' not in response.text


def test_quota_page_of_one_department_lists_the_items_it_counted(client, pilot):
    dept = query(pilot, "SELECT dept_code, used FROM quota_usage WHERE status = 'exceeded' ORDER BY dept_code LIMIT 1")[0]

    text = client.get("/quota", params={"dept_code": dept["dept_code"]}).text

    assert f'计入的事项 <span class="count">({dept["used"]})</span>' in text
    assert "超出上限" in text


def test_the_store_sees_each_publish_and_never_a_stale_answer(tmp_path):
    import pyarrow as pa

    from jianfu.warehouse.publish import Warehouse

    settings = Settings.from_env({"JIANFU_HOME": str(tmp_path / "home")})
    warehouse = Warehouse(settings.warehouse)
    warehouse.publish_table("units", pa.table({"unit_code": ["421127000000"], "unit_name": ["黄梅县"]}))
    console = Store(settings)
    before = console.rows("SELECT count(*) AS n FROM units")

    warehouse.publish_table("units", pa.table({"unit_code": ["421127000000", "421127100000"],
                                               "unit_name": ["黄梅县", "黄梅镇"]}))
    after = console.rows("SELECT count(*) AS n FROM units")
    again = console.rows("SELECT count(*) AS n FROM units")
    again[0]["n"] = -1  # a caller changing its rows changes nobody else's

    assert before == [{"n": 1}]
    assert after == [{"n": 2}]
    assert console.rows("SELECT count(*) AS n FROM units") == [{"n": 2}]


def test_the_plugins_app_is_built_at_its_first_request_only(pilot):
    from jianfu.console.lazy import LazyApp

    built = []
    lazy = LazyApp(lambda: built.append(1) or create_app(pilot))

    before = list(built)
    client = TestClient(lazy)
    statuses = [client.get("/flags").status_code, client.get("/quota").status_code]

    assert before == [] and built == [1]
    assert statuses == [200, 200]


def test_files_page_lists_every_receipt_with_its_ledger_status(client, pilot):
    counted = {r["status"]: r["n"] for r in query(pilot, "SELECT status, count(*) AS n FROM submissions GROUP BY status")}

    every = client.get("/files").text
    rejected = client.get("/files", params={"status": "rejected"}).text

    assert f'收到的文件(最新在前) <span class="count">({sum(counted.values())})</span>' in every
    assert f'收到的文件(最新在前) <span class="count">({counted["rejected"]})</span>' in rejected
    assert rejected.count('class="num  status-rejected"') == 0 and rejected.count("status-rejected") == counted["rejected"]


def test_the_board_narrows_to_an_area(client):
    page = client.get("/board", params={"area": "14"}).text

    shown = set(re.findall(r"\((\d{6})\)", page))
    assert shown == {"140404", "140427", "140429"}  # the pilot's counties in 山西省
