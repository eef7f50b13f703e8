"""The monthly bulletin (SPEC.md section 17) on the pilot sample: PDF, XLSX, HTML and its delivery.

The warehouse is the real one the pipeline builds from the pilot sample; the numbers the bulletin
prints are checked against SQL over the same warehouse views `jianfu query` uses. The PDF is read
back with poppler (pdffonts, pdftotext, pdftoppm); the e-mail goes to a real SMTP server and the
summary to a DingTalk robot on loopback that checks the 加签 signature.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import openpyxl
import pytest

from conftest import NOW
from jianfu.collection import status_board
from jianfu.config import Settings
from jianfu.ingest.pipeline import ingest
from jianfu.report import build_bulletin, render_to, write_report
from jianfu.report.model import Bulletin, Column, Section
from jianfu.report.send import previous_month, send_bulletin
from jianfu.sample import generate
from jianfu.warehouse.build import build
from jianfu.warehouse.views import connect
from robots import Robot
from test_alerts import SmtpServer, free_port

PERIOD = "2026-10"
OFFICE = "黄冈市减负办 <jfb@hg.example.cn>"
SECRET = "SECbulletin"
ROOT = Path(__file__).resolve().parents[1]
JIANFU = ROOT / ".venv" / "bin" / "jianfu"


@pytest.fixture(scope="module")
def pilot(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("bulletin") / "home"
    settings = Settings.from_env({"JIANFU_HOME": str(home), "JIANFU_NOW": NOW.isoformat(), "JIANFU_SMTP_FROM": OFFICE})
    generate(home, seed=7, scale="pilot", now=NOW)
    ingest(settings)
    build(settings)
    status_board(settings, as_of=NOW.date(), send_reminders=False)
    return settings


def one(settings: Settings, sql: str) -> int | float:
    con = connect(settings.warehouse)
    try:
        return con.execute(sql).fetchone()[0] or 0
    finally:
        con.close()


def warehouse_figures(settings: Settings, county: str | None = None) -> dict[str, int | float]:
    """The month's numbers as an analyst gets them with `jianfu query`."""
    where = f" AND county_code = '{county}'" if county else ""
    return {
        "fills": one(settings, f"SELECT sum(fills) FROM burden WHERE period = '{PERIOD}'{where}"),
        "hours": one(settings, f"SELECT round(sum(hours), 1) FROM burden WHERE period = '{PERIOD}'{where}"),
        "visits": one(settings, "SELECT count(*) FROM inspections WHERE status <> 'cancelled' "
                                f"AND strftime(eff_date, '%Y-%m') = '{PERIOD}'{where}"),
        "zombie": one(settings, f"SELECT count(*) FROM flags WHERE rule = 'GROUP_ZOMBIE' AND period = '{PERIOD}'{where}"),
        "late": one(settings, "SELECT count(*) FROM collection_status WHERE status = 'late' AND "
                              f"((kind <> 'inspections' AND period = '{PERIOD}') OR (kind = 'inspections' "
                              f"AND period = '2026')){where}"),
        "quota_used": one(settings, "SELECT sum(used) FROM quota_usage WHERE year = 2026"),
    }


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


# ----------------------------------------------------------------------------- PDF
def test_pdf_is_a4_with_embedded_cjk_fonts_and_the_warehouse_numbers(pilot, tmp_path):
    out = tmp_path / "bulletin.pdf"

    write_report(pilot, PERIOD, "pdf", out)

    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk and all(line.split()[-5] == "yes" for line in cjk), fonts  # emb column
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True).stdout
    assert "595.28 x 841.89 pts (A4)" in info or "(A4)" in info, info
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    text = pdf_text(out)
    figures = warehouse_figures(pilot)
    for value in (f"{figures['fills']:,}", f"{figures['hours']:,}", str(figures["visits"]), str(figures["late"])):
        assert value in text, value
    assert "黄冈市减负办" in text.split("\f")[0]  # the office on the cover
    assert "基层减负工作月度通报（2026年10月）" in text
    for title in ("数据报送情况", "报表填报负担", "工作群", "督查检查考核", "督检考事项配额", "本月减负成效"):
        assert title in text, title
    assert f"第 2 页 / 共 {pages} 页" in text  # page numbers
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(out), str(tmp_path / "page")], check=True)
    assert len(list(tmp_path.glob("page-*.png"))) == pages


def test_one_county_bulletin_holds_that_countys_numbers(pilot, tmp_path):
    bulletin = build_bulletin(pilot, PERIOD, "421127")

    figures = warehouse_figures(pilot, "421127")
    assert [r["county_code"] for r in bulletin.section("collection").rows] == ["421127"]
    assert bulletin.section("burden").totals()["fills"] == figures["fills"]
    assert bulletin.section("inspections").totals()["visits"] == figures["visits"]
    assert all(r["dept_code"].startswith("421127-") for r in bulletin.section("quota").rows)
    assert bulletin.scope_name == "黄梅县"


# ----------------------------------------------------------------------------- XLSX and HTML
def test_xlsx_has_a_sheet_per_section_ready_to_filter_with_the_warehouse_totals(pilot, tmp_path):
    out = write_report(pilot, PERIOD, "xlsx", tmp_path / "bulletin.xlsx")

    book = openpyxl.load_workbook(out)
    figures = warehouse_figures(pilot)
    sheets = {ws.title: ws for ws in book.worksheets[1:]}
    assert list(sheets) == ["一、数据报送情况", "二、报表填报负担", "三、工作群", "四、督查检查考核", "四(续)、建议联合检查",
                            "五、督检考事项配额",
                            "六、本月减负成效"]

    def column(ws, header: str) -> tuple[list, object]:
        index = [c.value for c in ws[1]].index(header) + 1
        cells = [ws.cell(r, index).value for r in range(2, ws.max_row + 1)]
        data = cells[:cells.index(None)]  # the rows, then a blank row, then the totals
        return data, cells[len(data) + 1]

    for sheet, header, expected in (("二、报表填报负担", "填报次数 / fills", figures["fills"]),
                                    ("四、督查检查考核", "本月检查次数 / visits this month", figures["visits"]),
                                    ("三、工作群", "僵尸群 / zombie", figures["zombie"]),
                                    ("一、数据报送情况", "逾期 / late", figures["late"]),
                                    ("五、督检考事项配额", "已用事项 / used", figures["quota_used"])):
        rows, total = column(sheets[sheet], header)
        assert sum(rows) == total == expected, sheet
        assert sheets[sheet].freeze_panes == "A2" and sheets[sheet].auto_filter.ref.startswith("A1:")


def _planted_bulletin() -> Bulletin:
    section = Section("collection", "一、数据报送情况", "1. Collection",
                      headline=[("按时 / on time", 1)],
                      columns=[Column("county_name", "县", "county"), Column("on_time", "按时", "on time", True)],
                      rows=[{"county_name": "=HYPERLINK(\"http://evil.example\",\"点我\")", "on_time": 1},
                            {"county_name": "<script>alert(1)</script>县", "on_time": 2}])
    return Bulletin("2026-10", None, "全部县", "<b>减负办</b>", "jfb@example.cn", "2026-11-06 08:00", [section])


def test_county_text_is_inert_in_xlsx_and_html(tmp_path):
    bulletin = _planted_bulletin()

    xlsx = render_to(bulletin, "xlsx", tmp_path / "b.xlsx")
    html = render_to(bulletin, "html", tmp_path / "b.html").read_text(encoding="utf-8")

    names = [row[0].value for row in openpyxl.load_workbook(xlsx).worksheets[1].iter_rows(min_row=2, max_row=3)]
    assert names[0].startswith("'=") and names[1].startswith("<script>")
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;减负办" in html


def test_html_is_self_contained_with_inline_charts(pilot, tmp_path):
    html = write_report(pilot, PERIOD, "html", tmp_path / "b.html").read_text(encoding="utf-8")

    assert html.count("<svg") >= 5
    for reference in ('src="http', "src='http", 'href="http', "@import", "<link", "<script"):
        assert reference not in html, reference
    assert f"{warehouse_figures(pilot)['fills']:,}" in html


def test_cli_report_writes_the_file_and_refuses_a_bad_period(pilot, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "JIANFU_HOME": str(pilot.home), "JIANFU_NOW": NOW.isoformat()}
    out = tmp_path / "cli.html"

    ok = subprocess.run([str(JIANFU), "report", "--period", PERIOD, "--format", "html", "--out", str(out)],
                        env=env, capture_output=True, text=True, timeout=300)
    bad = subprocess.run([str(JIANFU), "report", "--period", "2026-13"], env=env, capture_output=True, text=True)

    assert ok.returncode == 0, ok.stderr
    assert out.is_file() and ok.stdout.strip() == str(out)
    assert bad.returncode == 2 and "2026-13" in bad.stderr and "real month" in bad.stderr


def test_no_warehouse_is_a_clear_failure(jianfu_env, tmp_path):
    settings = Settings.from_env(dict(jianfu_env))
    with pytest.raises(Exception, match="jianfu build"):
        write_report(settings, PERIOD, "pdf", tmp_path / "x.pdf")


# ----------------------------------------------------------------------------- delivery
def test_bulletin_is_mailed_with_its_pdf_and_summarised_to_the_robot_once(pilot, tmp_path, monkeypatch):
    port = free_port()
    with Robot("dingtalk", SECRET) as robot, SmtpServer(port) as smtp:
        settings = Settings.from_env({
            **pilot.env, "JIANFU_DB_URL": f"sqlite:///{tmp_path / 'ledger.db'}", "JIANFU_HOME": str(pilot.home),
            "JIANFU_SMTP_URL": f"smtp://127.0.0.1:{port}", "JIANFU_ALERT_EMAILS": "office@hg.example.cn",
            "JIANFU_WEBHOOK_URL": robot.url, "JIANFU_WEBHOOK_KIND": "dingtalk", "JIANFU_WEBHOOK_SECRET": SECRET,
            "JIANFU_CONSOLE_URL": "http://127.0.0.1:8090/"})
        robot.mode = "rate"
        limited = send_bulletin(settings, PERIOD)
        robot.mode = "ok"
        retried = send_bulletin(settings, PERIOD)
        again = send_bulletin(settings, PERIOD)
        mails = smtp.inbox.messages()

    assert not limited.delivered and "130101" in limited.errors["webhook"]
    assert retried.delivered and not retried.created and again.delivered
    assert len(mails) == 1 and len(robot.accepted) == 1 and robot.rejected == ["rate"]
    [attachment] = list(mails[0].iter_attachments())
    assert attachment.get_filename() == f"bulletin-{PERIOD}.pdf"
    received = tmp_path / "received.pdf"
    received.write_bytes(attachment.get_content())
    figures = warehouse_figures(pilot)
    assert f"{figures['fills']:,}" in pdf_text(received)
    assert "黄冈市减负办" in str(mails[0]["From"]) and "2026年10月" in str(mails[0]["Subject"])
    summary = robot.texts()[0]
    assert f"{figures['fills']:,}" in summary and "http://127.0.0.1:8090/" in summary


def test_the_bulletin_reports_the_month_before():
    from datetime import date

    assert previous_month(date(2026, 11, 6)) == "2026-10"
    assert previous_month(date(2027, 1, 6)) == "2026-12"
