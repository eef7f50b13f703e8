"""The reader: every accepted county file format, normalised to the validation frame (SPEC.md 4, 6.1, 6.2).

Every test writes a real file into tmp_path, reads it with read_submission, and checks what the
validation step (or the county, through a rejection report) would see.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pytest

from jianfu.ingest import read as read_module
from jianfu.ingest.read import read_submission, to_arrow
from jianfu.problems import CRITICAL, WARNING, RejectFile
from jianfu.schema import FORM_COUNTS, INSPECTIONS, WORK_GROUPS
from jianfu.submission import ROW, raw

FC_EN = [c.name for c in FORM_COUNTS.columns]
FC_ZH = [c.zh for c in FORM_COUNTS.columns]
WG_EN = [c.name for c in WORK_GROUPS.columns]
IN_EN = [c.name for c in INSPECTIONS.columns]


def fc_row(n: int = 1, county: str = "421127", period: str = "2026-05", **over: str) -> list[str]:
    """One valid form_counts row (English header order)."""
    row = {
        "county_code": county, "period": period, "unit_code": f"421127001{n:03d}", "form_id": f"F{n:03d}",
        "form_name": f"报表{n}", "dept_code": "421127-agri", "frequency": "monthly", "fill_count": "3",
        "field_count": "20", "hours_spent": "1.5", "channel": "system", "data_items": "人口;耕地",
    }
    row.update(over)
    return [row[c] for c in FC_EN]


def wg_row(n: int = 1, **over: str) -> list[str]:
    row = {
        "county_code": "421127", "period": "2026-05", "unit_code": f"421127001{n:03d}", "group_id": f"G{n}",
        "group_name": f"工作群{n}", "platform": "wechat", "owner_dept_code": "421127-AGRI",
        "purpose": "permanent", "created_date": "2025-01-02", "last_active_date": "2026-05-20",
        "member_count": "30", "messages_30d": "12", "task_end_date": "",
    }
    row.update(over)
    return [row[c] for c in WG_EN]


def in_row(n: int = 1, **over: str) -> list[str]:
    row = {
        "county_code": "421127", "year": "2026", "item_id": f"I{n}", "dept_code": "421127-AGRI",
        "category": "inspection", "topic": f"检查{n}", "target_unit_code": f"421127001{n:03d}",
        "planned_date": "2026-03-01", "actual_date": "", "status": "planned", "in_plan": "yes",
        "joint_depts": "", "approval_ref": "",
    }
    row.update(over)
    return [row[c] for c in IN_EN]


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[object]], merge_title: bool = False) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r, values in enumerate(rows, start=1):
        for c, value in enumerate(values, start=1):
            if value is not None and value != "":
                ws.cell(row=r, column=c, value=value)
    if merge_title:
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(rows[-1]))
    wb.save(path)
    return path


def rejected(path: Path, kind=FORM_COUNTS) -> RejectFile:
    with pytest.raises(RejectFile) as info:
        read_submission(path, kind)
    assert info.value.problem.severity == CRITICAL
    assert info.value.problem.message_en and info.value.problem.message_zh
    return info.value


def rules(result) -> list[str]:
    return [p.rule for p in result.problems]


# ------------------------------------------------------------------------------------------ formats


def test_utf8_csv_with_english_headers_gives_the_typed_frame(tmp_path):
    path = write_csv(tmp_path / "fc.csv", [FC_EN, fc_row(1), fc_row(2)])

    result = read_submission(path, FORM_COUNTS)

    frame = result.frame
    assert (result.county_code, result.period, result.header_row) == ("421127", "2026-05", 1)
    assert result.problems == []
    assert list(frame[ROW]) == [2, 3]
    assert list(frame["unit_code"]) == ["421127001001", "421127001002"]
    assert list(frame["dept_code"]) == ["421127-AGRI", "421127-AGRI"]  # upper-cased
    assert list(frame[raw("dept_code")]) == ["421127-agri", "421127-agri"]  # as sent
    assert str(frame["fill_count"].dtype) == "Int64"
    assert str(frame["hours_spent"].dtype) == "Float64"
    assert isinstance(frame["form_name"].dtype, pd.StringDtype)
    assert {c for c in frame.columns} == {ROW, *FC_EN, *(raw(c) for c in FC_EN)}


def test_utf8_csv_with_bom_reads_its_first_header(tmp_path):
    path = write_csv(tmp_path / "fc.csv", [FC_EN, fc_row(1)], encoding="utf-8-sig")

    result = read_submission(path, FORM_COUNTS)

    assert result.frame["county_code"].tolist() == ["421127"]
    assert result.problems == []


def test_gb18030_csv_with_chinese_headers_and_enum_words(tmp_path):
    rows = [FC_ZH, fc_row(1, frequency="每月", channel="纸质"), fc_row(2, frequency="不定期", channel="APP")]
    path = write_csv(tmp_path / "fc.csv", rows, encoding="gb18030")

    result = read_submission(path, FORM_COUNTS)

    frame = result.frame
    assert frame["frequency"].tolist() == ["monthly", "adhoc"]
    assert frame["channel"].tolist() == ["paper", "app"]
    assert frame[raw("frequency")].tolist() == ["每月", "不定期"]
    assert frame["form_name"].tolist() == ["报表1", "报表2"]


def test_unknown_enum_word_is_kept_as_sent_for_the_in_set_check(tmp_path):
    path = write_csv(tmp_path / "fc.csv", [FC_EN, fc_row(1, frequency=" 每旬 "), fc_row(2, frequency="WEEKLY")])

    frame = read_submission(path, FORM_COUNTS).frame

    assert frame["frequency"].tolist() == ["每旬", "weekly"]


def test_xlsx_with_merged_title_rows_excel_dates_and_numeric_codes(tmp_path):
    header = [c.zh for c in WORK_GROUPS.columns]
    row = [421127, datetime(2026, 5, 1), 421127001001.0, "G1", "村务群", "微信", "421127-AGRI", "长期",
           datetime(2025, 1, 2), datetime(2026, 5, 20, 0, 0), 30.0, 12, None]
    row2 = [421127.0, "2026-05", 421127001002, "G2", "防汛群", "钉钉", "421127-AGRI", "临时",
            "2025/1/3", "2026年5月9日", 8, None, datetime(2026, 6, 30)]
    path = write_xlsx(tmp_path / "wg.xlsx", [["黄梅县2026年5月政务工作群统计表"], ["填报单位：黄梅县减负办"], [],
                                              header, row, row2], merge_title=True)

    result = read_submission(path, WORK_GROUPS)

    frame = result.frame
    assert result.header_row == 4
    assert (result.county_code, result.period) == ("421127", "2026-05")
    assert frame[ROW].tolist() == [5, 6]
    assert frame["county_code"].tolist() == ["421127", "421127"]
    assert frame["unit_code"].tolist() == ["421127001001", "421127001002"]
    assert frame["created_date"].tolist() == [pd.Timestamp("2025-01-02"), pd.Timestamp("2025-01-03")]
    assert frame["last_active_date"].tolist() == [pd.Timestamp("2026-05-20"), pd.Timestamp("2026-05-09")]
    assert frame[raw("created_date")].tolist() == ["2025-01-02", "2025/1/3"]
    assert frame[raw("period")].tolist() == ["2026-05-01", "2026-05"]
    assert frame["member_count"].tolist() == [30, 8]
    assert frame["messages_30d"].isna().tolist() == [False, True]
    assert frame["task_end_date"].isna().tolist() == [True, False]
    assert frame["platform"].tolist() == ["wechat", "dingtalk"]
    assert pd.api.types.is_datetime64_any_dtype(frame["created_date"])


def test_xlsx_table_starting_at_b3_keeps_sheet_row_numbers(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    for r, values in ((3, FC_EN), (4, fc_row(1)), (6, fc_row(2))):
        for c, value in enumerate(values, start=2):
            ws.cell(row=r, column=c, value=value)
    wb.save(tmp_path / "fc.xlsx")

    result = read_submission(tmp_path / "fc.xlsx", FORM_COUNTS)

    assert result.header_row == 3
    assert result.frame[ROW].tolist() == [4, 6]
    assert result.problems == []


def test_xlsx_content_is_recognised_whatever_the_extension(tmp_path):
    path = write_xlsx(tmp_path / "fc.csv", [FC_EN, fc_row(1)])

    result = read_submission(path, FORM_COUNTS)

    assert result.frame["form_id"].tolist() == ["F001"]


def test_csv_content_named_xlsx_is_read_as_csv(tmp_path):
    path = write_csv(tmp_path / "fc.xlsx", [FC_EN, fc_row(1)])

    assert read_submission(path, FORM_COUNTS).frame["form_id"].tolist() == ["F001"]


def test_gbk_body_below_an_ascii_header_falls_back_to_gb18030(tmp_path):
    lines = [FC_EN] + [fc_row(n, form_name="x") for n in range(1, 3000)] + [fc_row(3000, form_name="村级报表")]
    path = write_csv(tmp_path / "fc.csv", lines, encoding="gb18030")

    frame = read_submission(path, FORM_COUNTS).frame

    assert frame["form_name"].iloc[-1] == "村级报表"


# ------------------------------------------------------------------------------------------ headers


def test_full_width_padded_starred_and_upper_case_headers_are_recognised(tmp_path):
    header = ["＊县级代码", " 统计期 ", "填报单位代码\u3000", "ＦＯＲＭ＿ＩＤ", "Form Name", "下发部门代码", "FREQUENCY",
              "填报次数", "指标项数", "耗时（小时）", "报送\n渠道", "data_items"]
    path = write_csv(tmp_path / "fc.csv", [header, fc_row(1)])

    result = read_submission(path, FORM_COUNTS)

    assert result.problems == []
    assert result.frame["hours_spent"].tolist() == [1.5]
    assert result.frame["channel"].tolist() == ["system"]


def test_short_alias_of_hours_spent_is_accepted(tmp_path):
    header = FC_ZH[:9] + ["耗时", "报送渠道", "指标清单"]
    path = write_csv(tmp_path / "fc.csv", [header, fc_row(1)])

    assert read_submission(path, FORM_COUNTS).frame["hours_spent"].tolist() == [1.5]


def test_csv_title_rows_are_skipped_and_counted_in_row_numbers(tmp_path):
    rows = [["黄梅县2026年5月报表填报统计"], ["单位：黄梅县", "", "制表日期：2026-06-01"], [], FC_EN, fc_row(1), fc_row(2)]
    path = write_csv(tmp_path / "fc.csv", rows)

    result = read_submission(path, FORM_COUNTS)

    assert result.header_row == 4
    assert result.frame[ROW].tolist() == [5, 6]


def test_quoted_multi_line_cell_counts_as_one_row(tmp_path):
    rows = [FC_EN, fc_row(1, form_name="第一行\n第二行"), fc_row(2), fc_row(3, data_items="a\r\nb\r\nc")]
    path = write_csv(tmp_path / "fc.csv", rows)

    frame = read_submission(path, FORM_COUNTS).frame

    assert frame[ROW].tolist() == [2, 3, 4]
    assert frame["form_name"].iloc[0] == "第一行\n第二行"


# ------------------------------------------------------------------------------------ rows, notes


def test_blank_rows_are_skipped_silently_and_note_rows_with_a_warning(tmp_path):
    width = len(FC_EN)
    rows = [FC_EN, fc_row(1), [""] * width, fc_row(2), ["  "] * width,
            ["填表人：张三", "审核人：李四"] + [""] * (width - 2), ["", "", "", "", "注 本表口径同上月"] + [""] * 7]
    path = write_csv(tmp_path / "fc.csv", rows)

    result = read_submission(path, FORM_COUNTS)

    assert result.frame[ROW].tolist() == [2, 4]
    notes = [p for p in result.problems if p.rule == "note_row_skipped"]
    assert [(p.row, p.severity) for p in notes] == [(6, WARNING), (7, WARNING)]
    assert "填表人：张三" in notes[0].message_zh and "审核人：李四" in notes[0].value


def test_ragged_csv_rows_keep_their_row_numbers(tmp_path):
    text = "\r\n".join([",".join(FC_EN), ",".join(fc_row(1)), "", "填表人：张三 审核人：李四",
                        ",".join(fc_row(2)) + ",extra", ",".join(fc_row(3))]) + "\r\n"
    path = tmp_path / "fc.csv"
    path.write_text(text, encoding="utf-8")

    result = read_submission(path, FORM_COUNTS)

    assert result.frame[ROW].tolist() == [2, 5, 6]
    assert [(p.rule, p.row) for p in result.problems] == [("note_row_skipped", 4), ("cells_outside_header", 5)]


def test_xlsx_note_and_blank_rows_below_the_table(tmp_path):
    rows = [["标题"], FC_EN, fc_row(1), [], fc_row(2), [], ["填表人：王丽", "审核人：陈建国", "", "", "", "", "", "", "", ""]]
    path = write_xlsx(tmp_path / "fc.xlsx", rows)

    result = read_submission(path, FORM_COUNTS)

    assert result.frame[ROW].tolist() == [3, 5]
    assert [(p.rule, p.row) for p in result.problems] == [("note_row_skipped", 7)]


# ------------------------------------------------------------------------------------------- values


@pytest.mark.parametrize("text", ["2026-05", "202605", "2026年5月", "2026年05月", "2026-5", "２０２６－０５"])
def test_period_spellings(tmp_path, text):
    path = write_csv(tmp_path / "fc.csv", [FC_EN, fc_row(1, period=text)])

    result = read_submission(path, FORM_COUNTS)

    assert result.period == "2026-05"
    assert result.frame["period"].tolist() == ["2026-05"]
    assert result.frame[raw("period")].tolist() == [text]


def test_mixed_period_spellings_of_one_month_are_uniform(tmp_path):
    path = write_csv(tmp_path / "fc.csv", [FC_EN, fc_row(1, period="2026-05"), fc_row(2, period="2026年5月")])

    assert read_submission(path, FORM_COUNTS).period == "2026-05"


def test_an_unreadable_period_in_one_row_is_left_to_validation(tmp_path):
    path = write_csv(tmp_path / "fc.csv", [FC_EN, fc_row(1), fc_row(2, period="2026-13")])

    result = read_submission(path, FORM_COUNTS)

    assert result.frame["period"].isna().tolist() == [False, True]
    assert result.frame[raw("period")].tolist() == ["2026-05", "2026-13"]


def test_date_spellings(tmp_path):
    spellings = {
        "2025-01-02": date(2025, 1, 2), "2025/01/02": date(2025, 1, 2), "2025年1月2日": date(2025, 1, 2),
        "2026-9-3": date(2026, 9, 3), "2026/9/3": date(2026, 9, 3), "2026年09月03日": date(2026, 9, 3),
        "2026/5/3 0:00": date(2026, 5, 3), "２０２６－０５－０３": date(2026, 5, 3),
        "2026-02-30": None, "2026-13-01": None, "yesterday": None, "": None,
    }
    rows = [WG_EN] + [wg_row(n, created_date=text) for n, text in enumerate(spellings, start=1)]
    path = write_csv(tmp_path / "wg.csv", rows)

    frame = read_submission(path, WORK_GROUPS).frame

    got = [None if pd.isna(v) else v.date() for v in frame["created_date"]]
    assert got == list(spellings.values())
    assert frame[raw("created_date")].tolist()[-1] is pd.NA


@pytest.mark.parametrize("text,expected", [
    ("yes", True), ("No", False), ("是", True), ("否", False), ("TRUE", True), ("false", False), ("1", True),
    ("0", False), ("Y", True), ("n", False), ("Ｙｅｓ", True), ("maybe", None), ("", None),
])
def test_bool_spellings(tmp_path, text, expected):
    path = write_csv(tmp_path / "in.csv", [IN_EN, in_row(1, in_plan=text)])

    value = read_submission(path, INSPECTIONS).frame["in_plan"].iloc[0]

    assert (None if pd.isna(value) else bool(value)) == expected


@pytest.mark.parametrize("text", ["2026", "2026年", "2026.0", "２０２６"])
def test_year_spellings(tmp_path, text):
    path = write_csv(tmp_path / "in.csv", [IN_EN, in_row(1, year=text)])

    result = read_submission(path, INSPECTIONS)

    assert result.period == "2026"
    assert result.frame["year"].tolist() == [2026]
    assert str(result.frame["year"].dtype) == "Int64"


def test_xlsx_year_typed_as_a_number(tmp_path):
    row = in_row(1)
    row[1] = 2026.0
    row[6] = 421127001001
    path = write_xlsx(tmp_path / "in.xlsx", [IN_EN, row])

    result = read_submission(path, INSPECTIONS)

    assert result.period == "2026"
    assert result.frame["target_unit_code"].tolist() == ["421127001001"]


@pytest.mark.parametrize("text,expected", [
    ("12", 12), ("12.0", 12), (" 7 ", 7), ("１２", 12), ("+3", 3), ("12.5", None), ("abc", None), ("", None),
    ("99999999999", None),
])
def test_int_spellings(tmp_path, text, expected):
    path = write_csv(tmp_path / "fc.csv", [FC_EN, fc_row(1, fill_count=text), fc_row(2)])

    value = read_submission(path, FORM_COUNTS).frame["fill_count"].iloc[0]

    assert (None if pd.isna(value) else int(value)) == expected


@pytest.mark.parametrize("text,expected", [("1.5", 1.5), ("2", 2.0), (".5", 0.5), ("1e2", 100.0), ("一点五", None),
                                           ("nan", None)])
def test_number_spellings(tmp_path, text, expected):
    path = write_csv(tmp_path / "fc.csv", [FC_EN, fc_row(1, hours_spent=text), fc_row(2)])

    value = read_submission(path, FORM_COUNTS).frame["hours_spent"].iloc[0]

    assert (None if pd.isna(value) else float(value)) == expected


def test_codes_typed_as_decimals_lose_the_trailing_zero(tmp_path):
    path = write_csv(tmp_path / "fc.csv", [FC_EN, fc_row(1, county="421127.0", unit_code="421127001001.0")])

    result = read_submission(path, FORM_COUNTS)

    assert result.county_code == "421127"
    assert result.frame["unit_code"].tolist() == ["421127001001"]
    assert result.frame[raw("unit_code")].tolist() == ["421127001001.0"]


def test_full_width_text_is_folded_and_raw_keeps_it(tmp_path):
    path = write_csv(tmp_path / "fc.csv", [FC_EN, fc_row(1, form_id="\u3000Ｆ００１ ")])

    frame = read_submission(path, FORM_COUNTS).frame

    assert frame["form_id"].tolist() == ["F001"]
    assert frame[raw("form_id")].tolist() == ["Ｆ００１"]


# ----------------------------------------------------------------------------------------- warnings


def test_unknown_and_absent_optional_columns_are_warnings(tmp_path):
    header = [c for c in FC_EN if c not in ("channel", "data_items")] + ["序号", ""]
    rows = [header, fc_row(1)[:10] + ["1", "核实"]]
    path = write_csv(tmp_path / "fc.csv", rows)

    result = read_submission(path, FORM_COUNTS)

    got = [(p.rule, p.column, p.severity) for p in result.problems]
    assert got == [("unknown_column", "序号", WARNING), ("unknown_column", None, WARNING),
                   ("optional_column_absent", "channel", WARNING), ("optional_column_absent", "data_items", WARNING)]
    assert "L" in result.problems[1].message_en  # the column letter of the values under no header
    assert result.frame["channel"].isna().all() and result.frame[raw("channel")].isna().all()
    assert "序号" not in result.frame.columns


# ------------------------------------------------------------------------------------------ rejects


def test_binary_junk_named_csv_is_rejected(tmp_path):
    path = tmp_path / "fc.csv"
    path.write_bytes(bytes(range(256)) * 40)

    assert rejected(path).problem.rule == "unreadable_file"


def test_empty_file_is_rejected(tmp_path):
    path = tmp_path / "fc.csv"
    path.write_bytes(b"")

    assert rejected(path).problem.rule == "empty_file"


def test_header_only_is_rejected_with_the_county_guess_unknown(tmp_path):
    path = write_csv(tmp_path / "fc.csv", [["报表统计"], FC_EN, [""] * len(FC_EN)])

    reject = rejected(path)

    assert reject.problem.rule == "no_data_rows"
    assert reject.problem.row == 2


def test_only_note_rows_is_no_data(tmp_path):
    path = write_csv(tmp_path / "fc.csv", [FC_EN, ["填表人：张三"] + [""] * 11])

    assert rejected(path).problem.rule == "no_data_rows"


def test_truncated_xlsx_is_rejected(tmp_path):
    whole = write_xlsx(tmp_path / "whole.xlsx", [FC_EN] + [fc_row(n) for n in range(1, 200)]).read_bytes()
    path = tmp_path / "fc.xlsx"
    path.write_bytes(whole[: len(whole) // 2])

    reject = rejected(path)

    assert reject.problem.rule == "unreadable_file"
    assert "damaged" in reject.problem.message_en


def test_zip_that_is_not_a_workbook_is_rejected(tmp_path):
    path = tmp_path / "fc.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "hello")

    assert rejected(path).problem.rule == "unreadable_file"


def test_damaged_or_encrypted_old_workbook_is_rejected(tmp_path):
    path = tmp_path / "fc.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4096)

    reject = rejected(path)

    assert reject.problem.rule == "unreadable_file"
    assert ".xlsx" in reject.problem.message_en and "加密" in reject.problem.message_zh


def test_undecodable_text_is_rejected(tmp_path):
    path = tmp_path / "fc.csv"
    path.write_bytes(",".join(FC_EN).encode() + b"\r\n421127,\x80\x80\xff\xfe,abc\r\n")

    reject = rejected(path)

    assert reject.problem.rule == "unreadable_file"
    assert "GB18030" in reject.problem.message_en


def _same_rows(a, b) -> None:
    assert (a.county_code, a.period, a.problems) == (b.county_code, b.period, b.problems)
    assert a.table.equals(b.table)


def test_utf16_unicode_text_with_tabs_reads_as_the_csv(tmp_path):
    """Excel's "Unicode text": UTF-16 with BOM, tab-separated."""
    rows = [FC_ZH, fc_row(1), fc_row(2, form_name="报表, 含逗号")]
    text = "\r\n".join("\t".join(r) for r in rows) + "\r\n"
    path = tmp_path / "fc.txt"
    path.write_bytes(text.encode("utf-16"))  # BOM + native order

    result = read_submission(path, FORM_COUNTS)

    _same_rows(result, read_submission(write_csv(tmp_path / "fc.csv", rows), FORM_COUNTS))
    assert list(result.frame["form_name"]) == ["报表1", "报表, 含逗号"]


def test_tab_separated_gb18030_reads_as_the_csv(tmp_path):
    rows = [FC_ZH, fc_row(1), fc_row(2)]
    path = tmp_path / "fc.csv"
    path.write_bytes(("\n".join("\t".join(r) for r in rows) + "\n").encode("gb18030"))

    _same_rows(read_submission(path, FORM_COUNTS), read_submission(write_csv(tmp_path / "c.csv", rows), FORM_COUNTS))


def test_utf8_and_gbk_lines_in_one_file_are_rejected_not_guessed(tmp_path):
    path = tmp_path / "fc.csv"
    utf8 = (",".join(FC_EN) + "\r\n" + ",".join(fc_row(1)) + "\r\n").encode()
    path.write_bytes(utf8 + ",".join(fc_row(2)).encode("gbk") + b"\r\n")

    reject = rejected(path)

    assert reject.problem.rule == "mixed_encoding"
    assert "CSV UTF-8" in reject.problem.message_en and "UTF-8" in reject.problem.message_zh


def test_a_nul_byte_far_into_the_file_is_rejected(tmp_path):
    rows = [FC_EN] + [fc_row(n) for n in range(1, 400)]
    path = write_csv(tmp_path / "fc.csv", rows)
    data = bytearray(path.read_bytes())
    data[20_000] = 0
    path.write_bytes(bytes(data))

    reject = rejected(path)

    assert reject.problem.rule == "nul_byte" and "NUL" in reject.problem.message_en


def test_no_header_row_in_the_first_eleven_rows(tmp_path):
    rows = [[f"说明第{n}行"] for n in range(11)] + [FC_EN, fc_row(1)]
    path = write_csv(tmp_path / "fc.csv", rows)

    reject = rejected(path)

    assert reject.problem.rule == "no_header_row"
    assert "11" in reject.problem.message_en


def test_header_on_row_eleven_is_found(tmp_path):
    rows = [[f"说明第{n}行"] for n in range(10)] + [FC_EN, fc_row(1)]
    path = write_csv(tmp_path / "fc.csv", rows)

    assert read_submission(path, FORM_COUNTS).frame[ROW].tolist() == [12]


def test_two_columns_mapping_to_one_are_rejected(tmp_path):
    header = FC_EN[:-1] + ["指标项数"]
    path = write_csv(tmp_path / "fc.csv", [header, fc_row(1)])

    reject = rejected(path)

    assert (reject.problem.rule, reject.problem.column) == ("duplicate_column", "field_count")
    assert (reject.county_code, reject.period) == ("421127", "2026-05")


def test_missing_required_column_is_named_in_english_and_chinese(tmp_path):
    header = [c if c != "fill_count" else "次数" for c in FC_EN]
    path = write_csv(tmp_path / "fc.csv", [header, fc_row(1)])

    reject = rejected(path)

    assert (reject.problem.rule, reject.problem.column) == ("missing_required_column", "fill_count")
    assert "fill_count" in reject.problem.message_en and "填报次数" in reject.problem.message_en
    assert "「填报次数」(fill_count)" in reject.problem.message_zh
    assert reject.county_code == "421127"


def test_mixed_county_is_rejected_naming_values_and_rows(tmp_path):
    rows = [FC_EN] + [fc_row(n) for n in range(1, 8)] + [fc_row(8, county="421128")]
    path = write_csv(tmp_path / "fc.csv", rows)

    reject = rejected(path)

    assert (reject.problem.rule, reject.problem.column, reject.problem.row) == ("not_uniform", "county_code", 9)
    assert "421128" in reject.problem.message_en and "421127" in reject.problem.message_en
    assert "9" in reject.problem.message_zh
    assert (reject.county_code, reject.period) == ("421127", "2026-05")


def test_mixed_period_is_rejected(tmp_path):
    rows = [FC_EN, fc_row(1, period="2026-05"), fc_row(2, period="2026-04"), fc_row(3, period="202605")]
    path = write_csv(tmp_path / "fc.csv", rows)

    reject = rejected(path)

    assert (reject.problem.rule, reject.problem.column, reject.problem.row) == ("not_uniform", "period", 3)
    assert "2026-04" in reject.problem.message_en
    assert reject.period == "2026-05"


def test_mixed_year_of_inspections_is_rejected(tmp_path):
    path = write_csv(tmp_path / "in.csv", [IN_EN, in_row(1, year="2026"), in_row(2, year="2025")])

    reject = rejected(path, INSPECTIONS)

    assert (reject.problem.rule, reject.problem.column) == ("not_uniform", "year")


def test_county_malformed_in_every_row_is_rejected(tmp_path):
    path = write_csv(tmp_path / "fc.csv", [FC_EN, fc_row(1, county="黄梅县"), fc_row(2, county="黄梅县")])

    reject = rejected(path)

    assert (reject.problem.rule, reject.problem.row, reject.problem.value) == ("county_code_unreadable", 2, "黄梅县")
    assert reject.county_code is None


def test_period_empty_in_every_row_is_rejected(tmp_path):
    path = write_csv(tmp_path / "fc.csv", [FC_EN, fc_row(1, period=""), fc_row(2, period="")])

    assert rejected(path).problem.rule == "period_unreadable"


def test_too_large_is_rejected_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(read_module, "MAX_BYTES", 100)
    path = write_csv(tmp_path / "fc.csv", [FC_EN, fc_row(1), fc_row(2)])

    assert rejected(path).problem.rule == "too_large"


def test_too_many_rows_is_rejected(tmp_path, monkeypatch):
    monkeypatch.setattr(read_module, "MAX_ROWS", 2)
    path = write_csv(tmp_path / "fc.csv", [FC_EN, fc_row(1), fc_row(2), fc_row(3)])

    reject = rejected(path)

    assert reject.problem.rule == "too_many_rows"
    assert reject.county_code == "421127"


def test_too_many_xlsx_rows_stops_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(read_module, "MAX_ROWS", 2)
    path = write_xlsx(tmp_path / "fc.xlsx", [FC_EN] + [fc_row(n) for n in range(1, 30)])

    assert rejected(path).problem.rule == "too_many_rows"


# ------------------------------------------------------------------------------------------ to_arrow


def test_to_arrow_types_canonical_columns_and_tolerates_null_optionals(tmp_path):
    path = write_csv(tmp_path / "wg.csv", [WG_EN, wg_row(1), wg_row(2, messages_30d="", task_end_date="2026-06-30")])
    frame = read_submission(path, WORK_GROUPS).frame

    table = to_arrow(frame, WORK_GROUPS)

    assert table.schema == WORK_GROUPS.arrow_schema
    assert table.column("created_date").to_pylist() == [date(2025, 1, 2), date(2025, 1, 2)]
    assert table.column("messages_30d").to_pylist() == [12, None]
    assert table.column("task_end_date").to_pylist() == [None, date(2026, 6, 30)]
    assert table.column("member_count").type == pa.int32()


def test_to_arrow_of_inspections(tmp_path):
    path = write_csv(tmp_path / "in.csv", [IN_EN, in_row(1, in_plan="否", status="已完成", actual_date="2026/4/1")])
    frame = read_submission(path, INSPECTIONS).frame

    table = to_arrow(frame, INSPECTIONS)

    assert table.schema == INSPECTIONS.arrow_schema
    row = table.to_pylist()[0]
    assert (row["year"], row["in_plan"], row["status"], row["actual_date"]) == (2026, False, "done", date(2026, 4, 1))


def test_to_arrow_of_a_read_file_equals_the_conversion_of_its_frame(tmp_path):
    """Staging writes the reader's own Arrow table; converting its pandas frame must give the same."""
    path = write_csv(tmp_path / "wg.csv", [WG_EN, wg_row(1), wg_row(2, messages_30d="", task_end_date="2026-06-30")])
    result = read_submission(path, WORK_GROUPS)

    assert result.table is not None and result.table.num_rows == result.row_count == len(result.frame)
    assert to_arrow(result, WORK_GROUPS).equals(to_arrow(result.frame, WORK_GROUPS))


def test_the_frame_is_built_only_when_asked_for(tmp_path):
    path = write_csv(tmp_path / "wg.csv", [WG_EN, wg_row(1), wg_row(2)])
    result = read_submission(path, WORK_GROUPS)

    assert result._frame is None
    assert result.frame is result.frame
    assert result.frame["group_id"].tolist() == ["G1", "G2"]
