"""`jianfu sample`: determinism, layout, realism of the files, and the truth of the planted cases."""

from __future__ import annotations

import csv
import os
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pytest

from jianfu.config import COLLECTION_DEFAULTS, RULE_DEFAULTS, load_collection, load_rules
from jianfu.reference import Reference
from jianfu.sample import generate
from jianfu.sample.pilot import Built, build, in_force_rows, months_before
from jianfu.schema import kind as kind_of
from jianfu.schema import split_list
from sample_helpers.reader import read
from sample_helpers.truth import RULES, expected_flag_rows, expected_flags, normalise_name
from sample_helpers.truth_files import expected_flags_of, write_truth

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def pilot(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Built]:
    out = tmp_path_factory.mktemp("pilot")
    built = build(out, 7, NOW)
    write_truth(out, built)
    return out, built


@pytest.fixture(scope="module")
def read_back(pilot) -> dict[str, tuple[list[dict], dict[str, int]]]:
    """Every file that was ever accepted, read back by the SPEC's rules (tests/sample_helpers/reader.py)."""
    _out, built = pilot
    return {s.relpath: read(s.data, kind_of(s.kind)) for s in built.submissions
            if s.status in ("accepted", "accepted_with_warnings", "superseded")}


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def tree(root: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(root)): (p.read_bytes(), int(p.stat().st_mtime))
            for p in sorted(root.rglob("*")) if p.is_file()}


# --- determinism and layout ----------------------------------------------------------------------

def test_same_seed_and_now_give_identical_bytes_and_mtimes(pilot, tmp_path: Path) -> None:
    out, built = pilot
    summary = generate(tmp_path / "again", seed=7, now=NOW)
    assert {k: v for k, v in tree(out).items() if not k.startswith("truth/")} == tree(tmp_path / "again")
    assert summary.files == len(built.submissions) == len(read_csv(out / "truth" / "ledger.csv"))
    assert "form_counts" in summary.describe()


def test_the_sample_writes_data_not_answers(tmp_path: Path) -> None:
    summary = generate(tmp_path, seed=7, now=NOW)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["landing", "proposals", "reference"]
    assert "truth" not in summary.describe() and "planted:" in summary.describe()


def test_another_seed_gives_other_data(pilot, tmp_path: Path) -> None:
    _out, built = pilot
    other = {s.relpath: s.data for s in build(tmp_path / "other", 8, NOW).submissions}
    same = [s.relpath for s in built.submissions if other.get(s.relpath) == s.data and s.data]
    assert len(same) <= 1  # at most the junk file's fixed header... which is random too


def test_pilot_months_are_the_three_before_now() -> None:
    assert months_before(NOW, 3) == ["2026-08", "2026-09", "2026-10"]
    assert months_before(datetime(2027, 2, 1, tzinfo=UTC), 3) == ["2026-11", "2026-12", "2027-01"]


def test_ledger_lists_every_landing_file_in_receipt_order(pilot) -> None:
    out, _built = pilot
    ledger = read_csv(out / "truth" / "ledger.csv")
    landing = out / "landing"
    on_disk = {str(p.relative_to(landing)) for p in landing.rglob("*") if p.is_file()}
    assert {r["relative_path"] for r in ledger} == on_disk
    order = sorted(on_disk, key=lambda rel: ((landing / rel).stat().st_mtime, rel))
    assert [r["relative_path"] for r in ledger] == order
    assert {r["kind"] for r in ledger} == {"form_counts", "work_groups", "inspections"}
    assert all(r["relative_path"].split("/")[0] == r["kind"] for r in ledger)
    assert all(os.stat(landing / rel).st_mtime < NOW.timestamp() for rel in on_disk)


def test_statuses_follow_the_planted_story(pilot) -> None:
    out, _built = pilot
    ledger = read_csv(out / "truth" / "ledger.csv")
    statuses = {r["expected_status"] for r in ledger}
    assert statuses == {"accepted", "accepted_with_warnings", "rejected", "duplicate", "superseded"}
    by_key: dict[tuple[str, str, str], list[str]] = {}
    for r in ledger:
        by_key.setdefault((r["kind"], r["county_code"], r["period"]), []).append(r["expected_status"])
    in_force = [k for k, v in by_key.items() if sum(s.startswith("accepted") for s in v) == 1]
    # every county x kind x period has one version in force, except 山丹县's rejected-only month
    # and the future month 黄梅县 sent too early.
    expected_keys = {(k, c, p) for c in ("140404", "140427", "140429", "350627", "421127", "431126", "620725")
                     for k in ("form_counts", "work_groups") for p in ("2026-08", "2026-09", "2026-10")}
    expected_keys |= {("inspections", c, "2026") for _k, c, _p in expected_keys}
    expected_keys |= {("form_counts", "620725", "2025-10")}  # a year-ago month (planted.py, reduction)
    assert set(in_force) == expected_keys - {("work_groups", "620725", "2026-10")}
    assert by_key[("work_groups", "620725", "2026-10")] == ["rejected"]
    assert by_key[("form_counts", "421127", "2026-12")] == ["rejected"]
    assert by_key[("form_counts", "350627", "2026-09")] == ["accepted", "rejected"]  # original stays
    assert by_key[("form_counts", "421127", "2026-08")] == ["superseded", "accepted"]
    assert by_key[("work_groups", "350627", "2026-08")] == ["accepted", "duplicate"]
    assert by_key[("inspections", "350627", "2026")] == ["superseded", "accepted", "rejected"]
    unreadable = by_key[("form_counts", "", "")] + by_key[("work_groups", "", "")]
    assert unreadable == ["rejected", "rejected"]
    assert sum(s == "accepted_with_warnings" for s in (r["expected_status"] for r in ledger)) >= 5


def test_reference_files_load(pilot) -> None:
    out, built = pilot
    ref = Reference.load(out / "reference")
    assert len(ref.county_codes) == 7
    assert len(ref.units) == built.units == 2097
    county = ref.units["421127000000"]
    assert county.contact_email == "jfb@421127.gov.example.cn"
    assert all(u.contact_email is None for u in ref.units.values() if u.level != "county")
    assert ref.departments["421127-AGRI"].dept_name == "黄梅县农业农村局"
    assert ref.departments["421100-EDU"].dept_name == "黄冈市教育局"
    assert ref.departments["420000-HEALTH"].dept_name == "湖北省卫生健康委员会"
    for c in ref.county_codes:
        assert 14 <= sum(1 for d in ref.departments if d.startswith(c + "-")) <= 16
    assert ref.quotas[("431126-MARKET", 2026)] == 5
    assert ("421127-CULTOUR", 2026) not in ref.quotas  # falls back to the default quota
    assert load_rules(out / "reference") == RULE_DEFAULTS
    # the board starts at the sample's first month: the year-ago file (planted.py) is history
    assert load_collection(out / "reference") == {**COLLECTION_DEFAULTS, "start": "2026-08"}
    assert "#" in (out / "reference" / "rules.yaml").read_text(encoding="utf-8")


# --- truth ---------------------------------------------------------------------------------------

def test_every_rule_is_in_the_truth(pilot) -> None:
    out, _built = pilot
    flags = read_csv(out / "truth" / "flags.csv")
    assert {f["rule"] for f in flags} == set(RULES)
    assert all(f["county_code"] == "" for f in flags if f["rule"].startswith("DEPT_QUOTA"))
    assert all(len(f["county_code"]) == 6 for f in flags if not f["rule"].startswith("DEPT_QUOTA"))


def test_truth_is_exactly_the_planted_cases(pilot) -> None:
    """Background data fires nothing; every planted case fires; no near miss does."""
    _out, built = pilot
    fires = {f for c in built.cases for f in c.fires}
    misses = {f for c in built.cases for f in c.misses}
    flags = expected_flags_of(built)
    assert flags == fires
    assert not misses & flags
    assert {c.rule for c in built.cases} == set(RULES)
    assert sum(1 for c in built.cases if c.misses) >= 25


@pytest.mark.parametrize("now", [datetime(2027, 2, 10, 9, tzinfo=UTC),
                                 datetime(2026, 7, 31, 23, tzinfo=UTC)])
def test_planted_cases_hold_for_another_now_and_seed(tmp_path: Path, now: datetime) -> None:
    built = build(tmp_path, 3, now)
    flags = expected_flags_of(built)
    assert flags == {f for c in built.cases for f in c.fires}
    assert not {f for c in built.cases for f in c.misses} & flags
    assert max(s.sent for s in built.submissions) < now


def test_flags_csv_matches_the_oracle_on_rows_read_back(pilot, read_back) -> None:
    """Read every in-force file back by the SPEC's rules: the oracle gives the same flags."""
    out, built = pilot
    ledger = read_csv(out / "truth" / "ledger.csv")
    rows: dict[str, list[dict]] = {"form_counts": [], "work_groups": [], "inspections": []}
    for r in ledger:
        if r["expected_status"].startswith("accepted"):
            rows[r["kind"]] += read_back[r["relative_path"]][0]
    ref = Reference.load(out / "reference")
    flags = expected_flag_rows(rows["form_counts"], rows["work_groups"], rows["inspections"], ref.quotas)
    assert flags == {(f["rule"], f["period"], f["subject"], f["county_code"])
                     for f in read_csv(out / "truth" / "flags.csv")}


def test_files_read_back_to_the_rows_in_force(pilot, read_back) -> None:
    _out, built = pilot
    for sub in built.submissions:
        if sub.status not in ("accepted", "accepted_with_warnings", "superseded"):
            continue
        rows, skipped = read_back[sub.relpath]
        expected = in_force_rows([sub], sub.kind) if sub.status != "superseded" else sub.rows
        assert len(rows) == len(expected), sub.relpath
        for got, want in zip(rows, expected, strict=True):
            for col in kind_of(sub.kind).columns:
                w, g = want.get(col.name), got[col.name]
                if col.name in sub.style.drop_columns:
                    assert g is None
                elif col.name in ("data_items", "joint_depts"):
                    assert split_list(g) == split_list(w), (sub.relpath, col.name)
                elif col.type == "number" and w is not None:
                    assert g == pytest.approx(w), (sub.relpath, col.name)
                else:
                    assert g == (w if w != "" else None), (sub.relpath, col.name, g, w)
        assert skipped["note"] == (1 if sub.style.note_row else 0)
        assert skipped["extra"] == len(sub.style.extra_columns)
        assert skipped["title"] == sub.style.title_rows


def test_rejected_files_break_what_they_say(pilot) -> None:
    out, built = pilot
    ref = Reference.load(out / "reference")
    rejected = {s.relpath: s for s in built.submissions if s.status == "rejected"}
    reasons = " ".join(" ".join(s.why) for s in rejected.values())
    for word in ("not in reference", "another county", "not a known value", "duplicate key", "is after the month",
                 "required column", "binary junk", "empty file", "before created_date", "not a number"):
        assert word in reasons
    for sub in rejected.values():
        text = " ".join(sub.why)
        if "empty file" in text:
            assert sub.data == b""
        elif "binary junk" in text:
            with pytest.raises(UnicodeDecodeError):
                sub.data.decode("utf-8")
        elif "required column" in text:
            rows, _ = read(sub.data, kind_of(sub.kind))
            assert all(r["owner_dept_code"] is None for r in rows)
        elif "not in reference" in text:
            rows, _ = read(sub.data, kind_of(sub.kind))
            assert any(r["dept_code"] not in ref.departments for r in rows)
        elif "another county" in text:
            rows, _ = read(sub.data, kind_of(sub.kind))
            assert any(r["unit_code"][:6] != sub.county and r["unit_code"] in ref.units for r in rows)
        elif "not a known value" in text:
            rows, _ = read(sub.data, kind_of(sub.kind))
            assert any(r["frequency"] == "每两周" for r in rows)
        elif "duplicate key" in text:
            rows, _ = read(sub.data, kind_of(sub.kind))
            keys = [(r["dept_code"], r["item_id"], r["target_unit_code"]) for r in rows]
            assert len(keys) != len(set(keys))
        elif "is after the month" in text:
            rows, _ = read(sub.data, kind_of(sub.kind))
            assert {r["period"] for r in rows} == {"2026-12"}
        elif "before created_date" in text:
            rows, _ = read(sub.data, kind_of(sub.kind))
            assert any(r["last_active_date"] < r["created_date"] for r in rows)


# --- realism of the files ------------------------------------------------------------------------

def test_encodings_are_what_they_claim(pilot) -> None:
    _out, built = pilot
    seen = set()
    for sub in built.submissions:
        if sub.style.fmt != "csv" or sub.raw is not None:
            continue
        seen.add(sub.style.encoding)
        if sub.style.encoding == "gb18030":
            with pytest.raises(UnicodeDecodeError):
                sub.data.decode("utf-8")
            assert "县级代码" in sub.data.decode("gb18030") or "county_code" in sub.data.decode("gb18030").lower()
        elif sub.style.encoding == "utf-8-sig":
            assert sub.data.startswith(b"\xef\xbb\xbf")
            sub.data.decode("utf-8")
        else:
            assert not sub.data.startswith(b"\xef\xbb\xbf")
            sub.data.decode("utf-8")
    assert seen == {"utf-8", "utf-8-sig", "gb18030"}


def test_xlsx_files_have_title_rows_and_real_date_cells(pilot) -> None:
    out, built = pilot
    xlsx = [s for s in built.submissions if s.style.fmt == "xlsx" and s.raw is None and s.copy_of is None]
    assert len(xlsx) >= 15
    excel_dates = 0
    small = [s for s in xlsx if s.kind == "inspections"] + [s for s in xlsx if s.kind == "work_groups"][:3]
    assert {s.style.title_rows for s in small} == {1, 2, 3}
    for sub in small:
        path = out / "landing" / sub.relpath
        assert zipfile.is_zipfile(path)
        ws = openpyxl.load_workbook(path).worksheets[0]
        assert 1 <= sub.style.title_rows <= 3
        assert str(ws.cell(1, 1).value).startswith(sub.title[:3])
        assert any(str(r.coord).startswith("A1:") for r in ws.merged_cells.ranges)
        header = [c.value for c in ws[sub.style.title_rows + 1]]
        assert header[0] in ("county_code", "县级代码")
        if sub.style.dates == "excel":
            date_cols = [i for i, h in enumerate(header, start=1) if h in ("计划日期", "建群日期", "planned_date")]
            if date_cols:
                cell = ws.cell(sub.style.title_rows + 2, date_cols[0])
                assert cell.is_date and isinstance(cell.value, datetime)
                excel_dates += 1
    assert excel_dates >= 3
    assert datetime(2000, 1, 1) < openpyxl.load_workbook(out / "landing" / xlsx[0].relpath).properties.modified


def test_spellings_vary_across_files(pilot) -> None:
    _out, built = pilot
    texts = []
    for sub in built.submissions:
        if sub.style.fmt == "csv" and sub.raw is None and sub.data:
            texts.append(sub.data.decode("gb18030" if sub.style.encoding == "gb18030" else "utf-8-sig"))
    blob = "\n".join(texts)
    for word in ("2026年9月", "202609", "2026-09", "2026/09/", "年6月", "每周", "weekly", "已完成", "是",
                 "、", "|", "，", "ｕｎｉｔ＿ｃｏｄｅ", "填表人", "备注", "耗时（小时）"):
        assert word in blob, word
    assert any(s.style.blank_rows for s in built.submissions)


def test_a_county_month_is_a_few_thousand_rows(pilot) -> None:
    _out, built = pilot
    sizes = [len(s.rows) for s in built.submissions if s.kind == "form_counts" and s.status == "accepted"]
    assert 800 < min(sizes) and max(sizes) < 5000


# --- the oracle on hand-made boundaries ----------------------------------------------------------

def _form(unit: str, dept: str, form: str, freq: str, fills: int, items: str | None = None, name: str = "表",
          period: str = "2026-09") -> dict:
    return {"county_code": unit[:6], "period": period, "unit_code": unit, "dept_code": dept, "form_id": form,
            "form_name": name, "frequency": freq, "fill_count": fills, "data_items": items}


def test_oracle_form_boundaries() -> None:
    u = "421127101001"
    rows = [_form(u, "421127-A", "W5", "weekly", 5), _form(u, "421127-A", "D30", "daily", 30),
            _form("421127101002", "421127-A", "W6", "weekly", 6), _form("421127101002", "421127-A", "D31", "daily", 31),
            _form("421127101003", "421127-A", "H", "adhoc", 60)]
    flags = expected_flags(rows, [], [], {})
    assert flags == {("FORM_OVER_FREQUENCY", "2026-09", "421127101002|421127-A|W6"),
                     ("FORM_OVER_FREQUENCY", "2026-09", "421127101002|421127-A|D31")}
    rows.append(_form("421127101003", "421127-B", "M", "monthly", 1))
    assert ("UNIT_REPORTING_OVERLOAD", "2026-09", "421127101003") in expected_flags(rows, [], [], {})


def test_oracle_similarity_and_normalisation() -> None:
    assert normalise_name("【防汛】 应急值守群２", drop_digits=True) == "防汛应急值守群"
    assert normalise_name("第1批") != normalise_name("第2批")
    u = "421127101001"
    a = _form(u, "421127-A", "F1", "monthly", 1, "a；b、c|d")
    b = _form(u, "421127-B", "F2", "monthly", 1, "A ;b;c;e")
    c = _form(u, "421127-B", "F3", "monthly", 0, "a;b;c;d")
    assert expected_flags([a, b, c], [], [], {}) == {
        ("FORM_DUPLICATE_ACROSS_DEPTS", "2026-09", "421127-A:F1|421127-B:F2")}


def test_oracle_inspection_and_quota_boundaries() -> None:
    def visit(dept: str, item: str, target: str, day: date, status: str = "done", **kw) -> dict:
        return {"county_code": target[:6], "year": day.year, "item_id": item, "dept_code": dept,
                "topic": kw.get("topic", item), "target_unit_code": target, "planned_date": day,
                "actual_date": day if status == "done" else None, "status": status, "in_plan": kw.get("in_plan", True),
                "joint_depts": kw.get("joint"), "approval_ref": kw.get("ref")}

    t = "421127101001"
    rows = [visit("421127-A", "1", t, date(2026, 5, 6)), visit("421127-B", "2", t, date(2026, 6, 5))]
    assert ("INSPECTION_UNCOORDINATED", "2026", f"{t}|421127-A:1|421127-B:2") in expected_flags([], [], rows, {})
    rows[1] = visit("421127-B", "2", t, date(2026, 6, 6))
    assert not any(f[0] == "INSPECTION_UNCOORDINATED" for f in expected_flags([], [], rows, {}))
    quota = {("421127-A", 2026): 5}
    items = [visit("421127-A", str(k), f"42112710100{k}", date(2026, 3, k + 1)) for k in range(1, 5)]
    assert ("DEPT_QUOTA_WARNING", "2026", "421127-A") in expected_flags([], [], items, quota)
    items[3] = visit("421127-A", "4", "421127101004", date(2026, 3, 5), status="cancelled")
    assert not any(f[2] == "421127-A" for f in expected_flags([], [], items, quota))
    items[3] = visit("421127-A", "4", "421127101004", date(2026, 3, 5))
    items += [visit("421127-A", "5", "421127101005", date(2026, 3, 9)), visit("421127-A", "6", "421127101006", date(2026, 3, 9))]
    assert ("DEPT_QUOTA_EXCEEDED", "2026", "421127-A") in expected_flags([], [], items, quota)


# --- larger scales -------------------------------------------------------------------------------

def test_province_scale_smoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JIANFU_SAMPLE_PROVINCE", "64")  # 宁夏: 22 counties, quick
    summary = generate(tmp_path, scale="province", now=NOW)
    ref = Reference.load(tmp_path / "reference")
    assert len(ref.county_codes) == 22
    assert summary.by_kind["form_counts"]["files"] == summary.by_kind["work_groups"]["files"] == 22
    files = list((tmp_path / "landing").rglob("*.csv"))
    assert len(files) == summary.files
    assert not (tmp_path / "truth").exists()
    for path in files[:9]:
        rows, _ = read(path.read_bytes(), kind_of(path.parent.name))
        assert rows and all(r["county_code"] in ref.county_codes for r in rows)
        assert {r.get("period") or str(r.get("year")) for r in rows} <= {"2026-10", "2026"}


@pytest.mark.slow
def test_province_scale_default_is_hubei(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JIANFU_SAMPLE_PROVINCE", raising=False)
    summary = generate(tmp_path, scale="province", now=NOW)
    assert summary.files == 3 * 105
    assert summary.rows > 300_000
    assert summary.seconds < 60
