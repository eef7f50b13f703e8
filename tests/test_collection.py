"""The collection status board and reminders (SPEC.md section 10), on a hand-made ledger.

Three counties: 黄梅县 and 蕲春县 submit (on time, late, corrected, rejected, near midnight Beijing
time), 武穴市 never submits anything. Reminders go through a real SMTP server on loopback.
"""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, date, datetime, timedelta, timezone
from itertools import count

import pytest
from sqlalchemy import select

from jianfu.collection import load_schedule, status_board, today
from jianfu.config import ConfigError, Settings
from jianfu.ledger import connect, create_schema, get, insert
from jianfu.ledger.delivery import notifications, reminders
from jianfu.warehouse.views import connect as views
from test_alerts import SmtpServer, free_port

HM, QC, WX = "421127", "421126", "421182"  # 黄梅县, 蕲春县, 武穴市 (no submissions at all)
BJ = timezone(timedelta(hours=8))
_ids = count(1)


def write_reference(settings: Settings, collection_yaml: str | None = None) -> None:
    ref = settings.reference
    ref.mkdir(parents=True, exist_ok=True)
    (ref / "units.csv").write_text(
        "unit_code,unit_name,level,parent_code,contact_email\n"
        f"{HM}000000,黄梅县,county,,hm@county.example\n"
        f"{QC}000000,蕲春县,county,,qc@county.example\n"
        f"{WX}000000,武穴市,county,,wx@county.example\n"
        f"{HM}100000,黄梅镇,township,{HM}000000,\n",
        encoding="utf-8")
    (ref / "departments.csv").write_text("dept_code,dept_name\n421127-AGRI,农业农村局\n", encoding="utf-8")
    if collection_yaml is not None:
        (ref / "collection.yaml").write_text(collection_yaml, encoding="utf-8")


def receive(engine, kind: str, county: str, period: str, at: datetime, status: str, warnings: int = 0,
            reason: str | None = None) -> str:
    n = next(_ids)
    sid = f"s{n:04d}"
    with engine.begin() as conn:
        insert(conn, submission_id=sid, kind=kind, county_code=county, period=period,
               file_name=f"{kind}-{county}-{period}.csv", source_path=f"/landing/{kind}/{n}.csv",
               sha256=f"{n:064x}", size_bytes=100, archive_path=f"/raw/{n}",
               received_at=at.astimezone(UTC).replace(tzinfo=None), status=status,
               warning_count=warnings, error_count=1 if status == "rejected" else 0, reason=reason)
    return sid


def _write_rejection_report(settings: Settings, engine, submission_id: str) -> None:
    """The report a rejected file has, written by the real writer, its path recorded in the ledger."""
    from jianfu.ledger import set_fields
    from jianfu.problems import critical
    from jianfu.validate.report import write_report

    with engine.begin() as conn:
        row = dict(get(conn, submission_id))
        problem = critical("unknown_unit", "unit_code 421126999999 is not in reference",
                           "填报单位代码 421126999999 不在单位名录中", column="unit_code", row=3, value="421126999999")
        set_fields(conn, submission_id, report_path=str(write_report(settings.reports, row, [problem])))


@pytest.fixture
def ledger(jianfu_env):
    """The sample ledger; returns (settings factory, submission ids by name)."""
    base = Settings.from_env(dict(jianfu_env))
    write_reference(base)
    engine = connect(base.db_url)
    create_schema(engine)
    ids = {
        # 2025-12 (due 2026-01-05): HM sent on time and corrected later; QC 00:30 Beijing on the 6th
        "hm_dec_v1": receive(engine, "form_counts", HM, "2025-12", datetime(2026, 1, 4, 10, tzinfo=BJ), "superseded"),
        "hm_dec_v2": receive(engine, "form_counts", HM, "2025-12", datetime(2026, 1, 20, 10, tzinfo=BJ), "accepted"),
        "qc_dec": receive(engine, "form_counts", QC, "2025-12", datetime(2026, 1, 6, 0, 30, tzinfo=BJ), "accepted"),
        # 2026-01 (due 2026-02-05): QC at 23:30 Beijing on the due day (15:30 UTC): on time
        "hm_jan": receive(engine, "form_counts", HM, "2026-01", datetime(2026, 2, 3, 9, tzinfo=BJ), "accepted"),
        "qc_jan": receive(engine, "form_counts", QC, "2026-01", datetime(2026, 2, 5, 23, 30, tzinfo=BJ),
                          "accepted_with_warnings", warnings=2),
        "qc_jan_dup": receive(engine, "form_counts", QC, "2026-01", datetime(2026, 2, 6, 9, tzinfo=BJ), "duplicate"),
        # 2026-02 (due 2026-03-05): QC sent a bad file; HM sends late, after the first board
        "qc_feb": receive(engine, "form_counts", QC, "2026-02", datetime(2026, 3, 2, 9, tzinfo=BJ), "rejected",
                          reason="unit_code 421126999999 is not in reference"),
        "hm_feb": receive(engine, "form_counts", HM, "2026-02", datetime(2026, 3, 10, 9, tzinfo=BJ), "accepted"),
        # inspections 2026 (plan due 2026-01-31)
        "hm_plan": receive(engine, "inspections", HM, "2026", datetime(2026, 1, 15, 9, tzinfo=BJ), "accepted"),
        "qc_plan_bad": receive(engine, "inspections", QC, "2026", datetime(2026, 1, 30, 9, tzinfo=BJ), "rejected"),
        "qc_plan": receive(engine, "inspections", QC, "2026", datetime(2026, 2, 10, 9, tzinfo=BJ), "accepted"),
        "hm_undecided": receive(engine, "form_counts", HM, "2026-03", datetime(2026, 3, 2, tzinfo=BJ), "received"),
    }
    _write_rejection_report(base, engine, ids["qc_feb"])
    engine.dispose()

    def make(now: datetime, smtp_port: int | None = None) -> Settings:
        env = dict(jianfu_env, JIANFU_NOW=now.isoformat(), JIANFU_ALERT_EMAILS="office@jianfu.example")
        if smtp_port:
            env["JIANFU_SMTP_URL"] = f"smtp://127.0.0.1:{smtp_port}"
        return Settings.from_env(env)

    return make, ids


def cells(board) -> dict[tuple[str, str, str], tuple[str, str | None]]:
    return {(c.kind, c.county_code, c.period): (c.status, c.submission_id) for c in board.rows}


def test_board_statuses_as_of(ledger):
    make, ids = ledger
    settings = make(datetime(2026, 3, 3, 2, tzinfo=UTC))
    board = status_board(settings, as_of=date(2026, 3, 3), send_reminders=False)
    got = cells(board)
    assert {k: v for k, v in got.items() if k[0] == "form_counts"} == {
        ("form_counts", HM, "2025-12"): ("accepted", ids["hm_dec_v2"]),  # first accepted on time
        ("form_counts", HM, "2026-01"): ("accepted", ids["hm_jan"]),
        ("form_counts", HM, "2026-02"): ("pending", None),  # due 03-05; its late file came on 03-10
        ("form_counts", HM, "2026-03"): ("pending", None),  # in progress; an undecided receipt is nothing
        ("form_counts", QC, "2025-12"): ("late", ids["qc_dec"]),  # 00:30 Beijing on the 6th
        ("form_counts", QC, "2026-01"): ("accepted_with_warnings", ids["qc_jan"]),  # 23:30 on the 5th
        ("form_counts", QC, "2026-02"): ("rejected", ids["qc_feb"]),
        ("form_counts", QC, "2026-03"): ("pending", None),
        ("form_counts", WX, "2025-12"): ("missing", None),
        ("form_counts", WX, "2026-01"): ("missing", None),
        ("form_counts", WX, "2026-02"): ("pending", None),
        ("form_counts", WX, "2026-03"): ("pending", None),
    }
    # inspections: one cell per county per year, from the first year received
    assert {k: v for k, v in got.items() if k[0] == "inspections"} == {
        ("inspections", HM, "2026"): ("accepted", ids["hm_plan"]),
        ("inspections", QC, "2026"): ("late", ids["qc_plan"]),  # rejected on time, accepted after 01-31
        ("inspections", WX, "2026"): ("missing", None),
    }
    # nobody sent work_groups: the board starts at the earliest month of any kind
    assert {v for k, v in got.items() if k[0] == "work_groups" and k[2] in ("2025-12", "2026-01")} == {("missing", None)}
    assert len([k for k in got if k[0] == "work_groups"]) == 3 * 4

    rejected = next(c for c in board.rows if c.submission_id == ids["qc_feb"])
    assert rejected.due_date == date(2026, 3, 5) and rejected.reason.startswith("unit_code")
    text = board.describe()
    assert "as of 2026-03-03" in text and "MISSING" in text and "REJECTED" in text and "武穴市" in text
    assert "reminders: none sent" in text

    # the exported table, as analysts see it
    con = views(settings.warehouse, tables=["collection_status"])
    rows = con.execute("SELECT county_code, kind, period, due_date, status, submission_id, received_at "
                       "FROM collection_status WHERE kind = 'form_counts' AND county_code = ? AND period = '2026-01'",
                       [QC]).fetchall()
    assert rows == [(QC, "form_counts", "2026-01", date(2026, 2, 5), "accepted_with_warnings", ids["qc_jan"],
                     datetime(2026, 2, 5, 15, 30, tzinfo=UTC))]


def test_later_as_of_sees_later_receipts(ledger):
    make, ids = ledger
    board = status_board(make(datetime(2026, 3, 12, tzinfo=UTC)), as_of=date(2026, 3, 12),
                         send_reminders=False)
    got = cells(board)
    assert got[("form_counts", HM, "2026-02")] == ("late", ids["hm_feb"])
    assert got[("form_counts", WX, "2026-02")] == ("missing", None)
    assert got[("form_counts", QC, "2026-02")] == ("rejected", ids["qc_feb"])
    # before anything was received for 2025-12, the same cell was pending
    early = status_board(make(datetime(2026, 1, 2, tzinfo=UTC)), as_of=date(2026, 1, 2),
                         send_reminders=False)
    assert cells(early)[("form_counts", HM, "2025-12")] == ("pending", None)


def test_reminders_once_per_interval(ledger):
    make, ids = ledger
    port = free_port()
    first_day = datetime(2026, 3, 3, 2, tzinfo=UTC)
    with SmtpServer(port) as smtp:
        board = status_board(make(first_day, port), as_of=date(2026, 3, 3), send_reminders=True)
        assert sorted(r.county_code for r in board.reminders) == sorted([QC, HM, WX])
        assert all(r.delivered and r.action == "new" for r in board.reminders)
        wx = next(r for r in board.reminders if r.county_code == WX)
        board_cells_wx = [("form_counts", "2025-12"), ("form_counts", "2026-01"), ("inspections", "2026"),
                          ("work_groups", "2025-12"), ("work_groups", "2026-01")]
        assert wx.cells == board_cells_wx
        qc = next(r for r in board.reminders if r.county_code == QC)
        assert ("form_counts", "2026-02") not in qc.cells  # rejected, but not yet past due
        assert len(smtp.inbox.envelopes) == 3
        wx_mail = next(m for m, e in zip(smtp.inbox.messages(), smtp.inbox.envelopes, strict=False)
                       if "wx@county.example" in e.rcpt_tos)
        assert set(next(e for e in smtp.inbox.envelopes if "wx@county.example" in e.rcpt_tos).rcpt_tos) == {
            "wx@county.example", "office@jianfu.example"}
        body = wx_mail.get_body(("plain",)).get_content()
        assert "武穴市" in body and "报表填报统计" in body and "截止日期 2026-01-05" in body and "due 2026-01-05" in body

        # same day: nothing again
        assert status_board(make(first_day, port), as_of=date(2026, 3, 3), send_reminders=True).reminders == []
        # six days later: only the cells that fell due on 03-05 (the others were reminded 6 days ago)
        six = first_day + timedelta(days=6)
        mid = {r.county_code: r.cells for r in status_board(make(six, port), as_of=date(2026, 3, 9), send_reminders=True).reminders}
        assert mid == {QC: [("form_counts", "2026-02"), ("work_groups", "2026-02")],  # QC: rejected
                       HM: [("form_counts", "2026-02"), ("work_groups", "2026-02")],  # its file comes 03-10
                       WX: [("form_counts", "2026-02"), ("work_groups", "2026-02")]}
        assert len(smtp.inbox.envelopes) == 6
        qc_mail = [m for m, e in zip(smtp.inbox.messages(), smtp.inbox.envelopes, strict=False) if "qc@county.example" in e.rcpt_tos][-1]
        body = qc_mail.get_body(("plain",)).get_content()
        zh, en = body.split("-" * 60)
        reason_zh = zh.split("退回原因：", 1)[1].splitlines()[0]
        assert "421126999999" in reason_zh and "is not in reference" not in reason_zh  # the county reads Chinese
        assert "rejected because: unit_code 421126999999 is not in reference" in en

        # eight days after the first: the first cells again, not those reminded two days ago
        eight = first_day + timedelta(days=8)
        later = {r.county_code: r.cells for r in status_board(make(eight, port), as_of=date(2026, 3, 11), send_reminders=True).reminders}
        assert later[WX] == board_cells_wx
        assert all(p != "2026-02" for cells in later.values() for _, p in cells)
        assert len(smtp.inbox.envelopes) == 9

    engine = connect(make(eight).db_url)
    with engine.connect() as conn:
        per_cell = conn.execute(select(reminders.c.county_code, reminders.c.kind, reminders.c.period)).all()
    engine.dispose()
    assert per_cell.count((WX, "form_counts", "2025-12")) == 2
    assert per_cell.count((WX, "form_counts", "2026-02")) == 1
    emls = list(make(eight).outbox.glob("*.eml"))
    assert len(emls) == 9
    assert all("报送提醒" in email.message_from_bytes(p.read_bytes(), policy=email.policy.default)["Subject"]
               for p in emls)


def test_failed_reminder_is_retried_or_withdrawn(ledger):
    make, ids = ledger
    port = free_port()
    now = datetime(2026, 3, 3, 2, tzinfo=UTC)
    down = status_board(make(now, port), as_of=date(2026, 3, 3), send_reminders=True)
    assert len(down.reminders) == 3 and not any(r.delivered for r in down.reminders)
    assert "NOT delivered" in down.describe()
    # HM's only overdue cells were work_groups: it sends them before the retry
    engine = connect(make(now).db_url)
    for period in ("2025-12", "2026-01", "2026-02"):
        receive(engine, "work_groups", HM, period, datetime(2026, 3, 3, 12, tzinfo=BJ), "accepted")
    with SmtpServer(port) as smtp:
        retry = status_board(make(now + timedelta(hours=12), port), as_of=date(2026, 3, 3), send_reminders=True)
        assert sorted((r.county_code, r.action, r.delivered) for r in retry.reminders) == [
            (QC, "retry", True), (WX, "retry", True)]
        assert len(smtp.inbox.envelopes) == 2
        assert status_board(make(now + timedelta(hours=13), port), as_of=date(2026, 3, 3), send_reminders=True).reminders == []
        assert len(smtp.inbox.envelopes) == 2
    with engine.connect() as conn:
        states = sorted(r[0] for r in conn.execute(select(notifications.c.state)).all())
    engine.dispose()
    assert states == ["delivered", "delivered", "withdrawn"]


def test_start_and_schedule_from_collection_yaml(jianfu_env):
    settings = Settings.from_env(dict(jianfu_env))
    write_reference(settings, "start: 2026-01\nkinds:\n  form_counts: {due_day: 10}\n"
                              "  inspections: {plan_due: '03-31'}\nreminder_interval_days: 3\n")
    schedule = load_schedule(settings)
    assert schedule.reminder_interval_days == 3
    board = status_board(settings, as_of=date(2026, 2, 8), send_reminders=False)  # empty ledger
    got = cells(board)
    assert got[("form_counts", WX, "2026-01")] == ("pending", None)  # due 02-10
    assert got[("work_groups", WX, "2026-01")] == ("missing", None)  # due 02-05
    assert got[("inspections", WX, "2026")] == ("pending", None)  # due 03-31
    assert len(got) == 3 * (2 + 2 + 1)


def test_empty_ledger_and_bad_config(jianfu_env):
    settings = Settings.from_env(dict(jianfu_env))
    write_reference(settings)
    board = status_board(settings, as_of=date(2026, 3, 3))
    assert board.rows == [] and "nothing received yet" in board.describe()
    write_reference(settings, "kinds:\n  form_counts: {cadence: weekly}\n")
    with pytest.raises(ConfigError, match="cadence"):
        status_board(settings, as_of=date(2026, 3, 3))
    write_reference(settings, "kinds:\n  forms: {cadence: monthly}\n")
    with pytest.raises(ConfigError, match="unknown kind"):
        status_board(settings, as_of=date(2026, 3, 3))


def test_today_is_the_office_day(jianfu_env):
    late_evening_utc = Settings.from_env(dict(jianfu_env, JIANFU_NOW="2026-03-04T17:00:00+00:00"))
    assert today(late_evening_utc) == date(2026, 3, 5)
