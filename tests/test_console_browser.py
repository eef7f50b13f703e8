"""The console end to end in a real browser, inside a real Airflow api-server (SPEC.md section 16).

Debian's chromium, driven by Playwright, against `airflow api-server` started with this project's
plugins folder and SimpleAuthManager on a temporary AIRFLOW_HOME, over the pilot warehouse:
unauthenticated requests are refused; after logging in through Airflow's own login page, the nav
entry opens the console; every page shows the pilot's figures; the flags export downloads and
opens with openpyxl; an admission file uploads and shows its verdicts; and no request leaves
127.0.0.1 (every request the browser makes is intercepted and checked). A screenshot of each page
is taken; with JIANFU_SCREENSHOTS=docs/img they refresh the images of README.md and docs/CONSOLE.md
(by default they go to a temporary folder, so a test run leaves the docs as they are).
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from airflow_helpers import (
    AIRFLOW,
    PINNED_NOW,
    ROOT,
    airflow_env,
    free_port,
    generate_sample,
    run,
    run_python,
    wait_for,
)

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(os.environ.get("JIANFU_SCREENSHOTS") or tempfile.mkdtemp(prefix="jianfu-shots-")).absolute()
USER, PASSWORD = "clerk", secrets.token_urlsafe(12)

if not Path(CHROMIUM).exists():  # .ci/run installs it; a laptop without it skips, saying why
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)", allow_module_level=True)

BUILD = """
from jianfu.alerts.run import run_alerts
from jianfu.config import Settings
from jianfu.home import init_home
from jianfu.ingest.pipeline import ingest
from jianfu.warehouse.build import build
import json
settings = Settings.from_env()
init_home(settings)
ingest(settings)
build(settings)
run_alerts(settings)
from jianfu.warehouse.query import run_query
figures = {
    "rejected": json.loads(run_query(settings, "SELECT count(*) AS n FROM submissions WHERE period = '2026-10' AND status = 'rejected'", "json"))[0]["n"],
    "rejected_files": json.loads(run_query(settings, "SELECT count(*) AS n FROM submissions WHERE status = 'rejected'", "json"))[0]["n"],
    "zombies": json.loads(run_query(settings, "SELECT count(*) AS n FROM flags WHERE rule = 'GROUP_ZOMBIE'", "json"))[0]["n"],
    "exceeded": [r["dept_code"] for r in json.loads(run_query(settings, "SELECT dept_code FROM quota_usage WHERE status = 'exceeded'", "json"))],
    "top_township": json.loads(run_query(settings, '''SELECT t.unit_name FROM burden b JOIN units u USING (unit_code)
        JOIN units t ON t.unit_code = u.township_code WHERE b.period = '2026-10'
        GROUP BY t.unit_code, t.unit_name ORDER BY sum(b.fills) DESC, t.unit_code LIMIT 1''', "json"))[0]["unit_name"],
}
from jianfu.joint import joint_result
figures["joint_proposals"] = joint_result(settings).summary.proposals
figures["forms_cancelled"] = json.loads(run_query(settings, "SELECT sum(forms_cancelled) AS n FROM reduction WHERE period = '2026-10'", "json"))[0]["n"]
figures["overlap_groups"] = json.loads(run_query(settings, "SELECT count(DISTINCT overlap_group) AS n FROM form_catalog", "json"))[0]["n"]
print("RESULT:" + json.dumps(figures, ensure_ascii=False))
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """A real api-server with the plugin, over the pilot warehouse; yields (base URL, figures, home)."""
    tmp = tmp_path_factory.mktemp("console_browser")
    home = tmp / "home"
    generate_sample(home)
    port = free_port()
    airflow_home = tmp / "airflow"
    airflow_home.mkdir()
    passwords = airflow_home / "passwords.json"
    passwords.write_text(json.dumps({USER: PASSWORD}))
    env = airflow_env(
        airflow_home,
        AIRFLOW__API__PORT=str(port),
        AIRFLOW__API__BASE_URL=f"http://127.0.0.1:{port}",
        AIRFLOW__API__HOST="127.0.0.1",
        AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_hex(32),
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=f"{USER}:viewer",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(passwords),
        AIRFLOW__CORE__LAZY_LOAD_PLUGINS="False",
        JIANFU_HOME=str(home),
        JIANFU_NOW=PINNED_NOW,
    )
    figures = run_python(BUILD, env)
    run([AIRFLOW, "db", "migrate"], env, timeout=300)
    log = open(tmp / "api-server.log", "w")
    proc = subprocess.Popen([AIRFLOW, "api-server", "--port", str(port), "--host", "127.0.0.1"], env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=tmp)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            urllib.request.urlopen(f"{base}/api/v2/monitor/health", timeout=2)
            return True
        except OSError:
            return False

    try:
        wait_for(up, timeout=180, what="the api-server")
        yield base, figures, home
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        if os.environ.get("JIANFU_KEEP_LOGS"):
            shutil.copy(tmp / "api-server.log", ROOT / "api-server.log")


def _shot(page, name: str) -> None:
    """A screenshot for the docs, in a 256-colour palette: a third of the bytes, same legibility."""
    from PIL import Image

    image = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    image.quantize(colors=256).save(SHOTS / f"console_{name}.png", optimize=True)


def _status(url: str) -> int:
    try:
        return urllib.request.urlopen(url, timeout=10).status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_console_is_unreachable_without_the_airflow_login(server):
    base, _, _ = server

    statuses = {path: _status(f"{base}/jianfu{path}")
                for path in ("/", "/flags", "/flags?format=xlsx", "/static/console.css", "/static/vega-bundle.js")}

    assert set(statuses.values()) == {401}, statuses


def test_console_in_the_browser(server, tmp_path):
    import openpyxl
    from playwright.sync_api import sync_playwright

    base, figures, home = server
    outside: list[str] = []
    SHOTS.mkdir(parents=True, exist_ok=True)

    def guard(route):
        host = urlsplit(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 820}, accept_downloads=True,
                                      locale="zh-CN", timezone_id="Asia/Shanghai")
        context.route("**/*", guard)
        page = context.new_page()

        # Not logged in: the console sends the browser to Airflow's login page, then back.
        page.goto(f"{base}/jianfu/")
        page.wait_for_url("**/auth/login**")
        page.get_by_label("Username").fill(USER)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/jianfu/**", timeout=60_000)
        assert "概览" in page.title()

        # The nav entry of the Airflow UI opens the console inside it.
        page.goto(f"{base}/")
        page.get_by_role("link", name="减负 jianfu").first.click(timeout=60_000)
        frame = page.frame_locator("iframe").first
        frame.locator("h1").filter(has_text="概览").wait_for(timeout=60_000)
        frame.locator("figure.chart svg").first.wait_for(timeout=30_000)
        _shot(page, "in_airflow")

        def visit(path: str, shot: str):
            page.goto(f"{base}/jianfu/{path}")
            for figure in page.locator("figure.chart").all():
                figure.locator("svg").first.wait_for(timeout=30_000)
            assert page.locator(".error").count() == 0, page.locator(".error").all_inner_texts()
            _shot(page, shot)
            return page

        overview = visit("overview", "overview").locator("#cards").inner_text()
        assert f"{figures['rejected']}\n退回的文件" in overview

        board = visit("board", "board")
        assert board.locator("figure.chart svg").count() == 1
        board.locator("#list-board a").first.click()
        page.wait_for_url("**/jianfu/cell?**")
        assert "收到的各版本" in page.content()

        rejected = page.goto(f"{base}/jianfu/board?status=rejected")
        assert rejected.ok
        page.locator("#list-board a").first.click()
        page.wait_for_url("**/jianfu/cell?**")
        assert page.locator("h2", has_text="问题清单").count() >= 1
        _shot(page, "cell")

        files = visit("files?status=rejected", "files")
        assert files.locator("#list-files tbody tr").count() == figures["rejected_files"]

        flags = visit("flags?rule=GROUP_ZOMBIE", "flags")
        assert f"预警清单 ({figures['zombies']})" in flags.locator("#list-flags h2").inner_text()
        with page.expect_download() as download:
            page.locator("#export").click()
        saved = tmp_path / "flags.xlsx"
        download.value.save_as(saved)
        rows = list(openpyxl.load_workbook(saved).active.values)
        assert len(rows) - 1 == figures["zombies"]

        quota = visit("quota", "quota").content()
        assert all(code in quota for code in figures["exceeded"])

        burden = visit("burden", "burden").content()
        assert figures["top_township"] in burden

        joint = visit("joint", "joint")
        assert joint.locator("#cards .figure").nth(1).inner_text() == str(figures["joint_proposals"])
        assert joint.locator("#list-proposals tbody tr").count() == figures["joint_proposals"] > 0

        reduction = visit("reduction", "reduction")
        assert reduction.locator("#cards .figure").first.inner_text() == str(figures["forms_cancelled"])

        catalog = visit("catalog", "catalog")
        assert catalog.locator("#list-overlap tbody tr").count() == min(figures["overlap_groups"], 200)

        page.goto(f"{base}/jianfu/admission")
        page.locator("input[type=file]").set_input_files(str(home / "proposals" / "proposed_forms.csv"))
        page.get_by_role("button", name="审查", exact=True).click()
        page.locator("#list-verdicts").wait_for(timeout=30_000)
        verdicts = page.locator("#list-verdicts").inner_text()
        shown = page.locator("#list-verdicts tbody tr").count()
        assert "复用已有报表" in verdicts and "需审查" in verdicts and "准予新设" in verdicts
        _shot(page, "admission")
        page.locator("input[type=file]").set_input_files(str(home / "proposals" / "proposed_forms.csv"))
        with page.expect_download() as download:
            page.locator("#upload-xlsx").click()
        download.value.save_as(tmp_path / "verdicts.xlsx")
        sheet = list(openpyxl.load_workbook(tmp_path / "verdicts.xlsx").active.values)
        assert sheet[0][0] == "拟新设报表"
        assert len(sheet) - 1 == shown > 0

        page.goto(f"{base}/jianfu/overview?lang=en")
        assert "Overview" in page.locator("h1").inner_text()
        context.close()
        browser.close()

    assert outside == []
