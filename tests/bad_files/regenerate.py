"""Write the corpus of bad county files in this directory (run it after changing a case).

Each file is what a county could really send: wrong encodings, junk, broken Excel files, every
row-level mistake of SPEC.md sections 4 and 6, hostile workbooks (a zip bomb, a stray cell at row
2,000,000,000, an oversized cell), and the formats offices save (.xls, WPS .et, .ods, XLSX written
by LibreOffice, UTF-16 "Unicode text"). `cases.yaml` says what each must end as. The files are
committed so the corpus is there to open and look at, and so the tests never need LibreOffice;
this script, which does (`apt-get install libreoffice-calc-nogui`), only saves typing.

    .venv/bin/python tests/bad_files/regenerate.py
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import struct
import subprocess
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).parent
C, P = "421127", "2026-09"
T1, T2, V1 = "421127100000", "421127101000", "421127100201"
FORM = ["county_code", "period", "unit_code", "form_id", "form_name", "dept_code", "frequency",
        "fill_count", "field_count", "hours_spent", "channel", "data_items"]
GROUP = ["county_code", "period", "unit_code", "group_id", "group_name", "platform", "owner_dept_code",
         "purpose", "created_date", "last_active_date", "member_count", "messages_30d", "task_end_date"]
INSPECTION = ["county_code", "year", "item_id", "dept_code", "category", "topic", "target_unit_code",
              "planned_date", "actual_date", "status", "in_plan", "joint_depts", "approval_ref"]


def form(unit_code=T1, form_id="F001", **over):
    row = dict(county_code=C, period=P, unit_code=unit_code, form_id=form_id, form_name="农业生产情况统计表",
               dept_code="421127-AGRI", frequency="monthly", fill_count="1", field_count="12",
               hours_spent="2", channel="system", data_items="播种面积;产量")
    row.update(over)
    return [row[c] for c in FORM]


def forms(period=P, **over):
    """A small good file's rows; `over` changes the SECOND row (file row 3)."""
    rows = [form(T1, "F001", period=period), form(T2, "F001", period=period), form(V1, "F002", period=period)]
    rows[1] = form(**{"unit_code": T2, "form_id": "F001", "period": period, **over})
    return rows


def group(**over):
    row = dict(county_code=C, period=P, unit_code=T1, group_id="G1", group_name="春耕工作群", platform="wechat",
               owner_dept_code="421127-AGRI", purpose="permanent", created_date="2025-03-01",
               last_active_date="2026-09-20", member_count="35", messages_30d="120", task_end_date="")
    row.update(over)
    return [row[c] for c in GROUP]


def inspection(**over):
    row = dict(county_code=C, year="2026", item_id="AG-01", dept_code="421127-AGRI", category="inspection",
               topic="春耕生产检查", target_unit_code=T1, planned_date="2026-04-10", actual_date="2026-04-12",
               status="done", in_plan="yes", joint_depts="", approval_ref="")
    row.update(over)
    return [row[c] for c in INSPECTION]


def csv_bytes(header, rows, encoding="utf-8"):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(header, rows, titles=()):
    wb = Workbook()
    wb.properties.created = wb.properties.modified = datetime(2026, 10, 3)
    ws = wb.active
    for title in titles:
        ws.append([title])
    ws.append(header)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def corpus() -> dict[str, bytes]:
    """file name (under a kind directory) -> bytes."""
    good_xlsx = xlsx_bytes(FORM, forms(), titles=("黄梅县2026年9月报表填报统计",))
    many_bad = [form(T1, f"F{i:04d}", fill_count="-5") for i in range(1200)]
    return {
        # --- unreadable (6.1) ---
        "form_counts/undecodable.csv": b"county_code,period\r\n421127,\xff\xfe\x80\x80\xff\r\n",
        "form_counts/binary_junk.csv": bytes(range(256)) * 16,
        "form_counts/png_named_csv.csv": b"\x89PNG\r\n\x1a\n" + bytes(200),
        "form_counts/empty.csv": b"",
        "form_counts/header_only.csv": csv_bytes(FORM, []),
        "form_counts/truncated.xlsx": good_xlsx[: len(good_xlsx) // 2],
        "form_counts/old_excel.xls": bytes.fromhex("D0CF11E0A1B11AE1") + bytes(504),
        "form_counts/zip_not_excel.xlsx": _zip_with_text(),
        "form_counts/no_header_row.csv": csv_bytes(["说明", "备注"], [["本表", "无"]] * 14),
        # --- structure (6.1) ---
        "form_counts/two_headers_one_column.csv": csv_bytes(FORM + ["填报次数"], [r + ["1"] for r in forms()]),
        "form_counts/missing_required_column.csv": csv_bytes(FORM[:7] + FORM[8:], [r[:7] + r[8:] for r in forms()]),
        "form_counts/mixed_county.csv": csv_bytes(FORM, forms(county_code="140404")),
        "form_counts/mixed_period.csv": csv_bytes(FORM, [forms()[0], forms("2026-08")[1], forms()[2]]),
        "form_counts/county_not_in_reference.csv": csv_bytes(
            FORM, [[*(["999999"] + r[1:2]), r[2].replace("421127", "999999"), *r[3:]] for r in forms()]),
        # --- row values (6.1) ---
        "form_counts/foreign_unit.csv": csv_bytes(FORM, forms(unit_code="140404100201")),
        "form_counts/unknown_unit.csv": csv_bytes(FORM, forms(unit_code="421127999999")),
        "form_counts/county_level_unit.csv": csv_bytes(FORM, forms(unit_code="421127000000")),
        "form_counts/malformed_unit_code.csv": csv_bytes(FORM, forms(unit_code="42112710000")),
        "form_counts/unknown_department.csv": csv_bytes(FORM, forms(dept_code="421127-MAGIC")),
        "form_counts/malformed_department.csv": csv_bytes(FORM, forms(dept_code="agri")),
        "form_counts/negative_count.csv": csv_bytes(FORM, forms(fill_count="-1")),
        "form_counts/non_numeric_count.csv": csv_bytes(FORM, forms(fill_count="三次")),
        "form_counts/fill_count_over_1000.csv": csv_bytes(FORM, forms(fill_count="1001")),
        "form_counts/field_count_zero.csv": csv_bytes(FORM, forms(field_count="0")),
        "form_counts/hours_out_of_range.csv": csv_bytes(FORM, forms(hours_spent="10001")),
        "form_counts/unknown_enum.csv": csv_bytes(FORM, forms(frequency="hourly")),
        "form_counts/unknown_channel.csv": csv_bytes(FORM, forms(channel="fax")),
        "form_counts/duplicate_key.csv": csv_bytes(FORM, forms(unit_code=T1)),
        "form_counts/future_period.csv": csv_bytes(FORM, [r[:1] + ["2026-12"] + r[2:] for r in forms()]),
        "form_counts/malformed_period.csv": csv_bytes(FORM, [r[:1] + ["Sept 2026"] + r[2:] for r in forms()]),
        "form_counts/missing_form_name.csv": csv_bytes(FORM, forms(form_name="")),
        "form_counts/form_id_too_long.csv": csv_bytes(FORM, forms(form_id="F" * 65)),
        "form_counts/formula_injection.csv": csv_bytes(FORM, forms(fill_count="=1+1", form_name="=HYPERLINK(\"x\")")),
        "form_counts/many_errors_capped.csv": csv_bytes(FORM, many_bad),
        "work_groups/last_active_before_created.csv": csv_bytes(GROUP, [group(), group(group_id="G2", last_active_date="2025-01-01")]),
        "work_groups/created_after_period.csv": csv_bytes(GROUP, [group(), group(group_id="G2", created_date="2026-10-02", last_active_date="2026-10-02")]),
        "work_groups/member_count_zero.csv": csv_bytes(GROUP, [group(), group(group_id="G2", member_count="0")]),
        "work_groups/task_end_before_created.csv": csv_bytes(GROUP, [group(), group(group_id="G2", purpose="temporary", task_end_date="2024-12-31")]),
        "work_groups/impossible_date.csv": csv_bytes(GROUP, [group(), group(group_id="G2", created_date="2026-02-30")]),
        "work_groups/unknown_platform.csv": csv_bytes(GROUP, [group(), group(group_id="G2", platform="QQ")]),
        "inspections/done_without_actual_date.csv": csv_bytes(INSPECTION, [inspection(), inspection(target_unit_code=T2, actual_date="")]),
        "inspections/planned_outside_year.csv": csv_bytes(INSPECTION, [inspection(), inspection(target_unit_code=T2, planned_date="2025-12-30")]),
        "inspections/future_year.csv": csv_bytes(INSPECTION, [inspection(year="2027", planned_date="2027-03-01", actual_date="", status="planned")]),
        "inspections/bad_boolean.csv": csv_bytes(INSPECTION, [inspection(), inspection(target_unit_code=T2, in_plan="maybe")]),
        "inspections/unknown_status.csv": csv_bytes(INSPECTION, [inspection(), inspection(target_unit_code=T2, status="postponed")]),
        "inspections/unknown_lead_department.csv": csv_bytes(INSPECTION, [inspection(), inspection(target_unit_code=T2, dept_code="420000-NOPE")]),
        # --- warnings only (6.2): accepted_with_warnings ---
        "form_counts/warn_fill_count_over_100.csv": csv_bytes(FORM, forms("2026-05", fill_count="150")),
        "form_counts/warn_unknown_column.csv": csv_bytes(FORM + ["备注"], [r + ["无"] for r in forms("2026-06")]),
        "form_counts/warn_optional_absent.csv": csv_bytes(FORM[:9], [r[:9] for r in forms("2026-07")]),
        "form_counts/warn_note_row.csv": csv_bytes(FORM, forms("2026-08") + [["", "", "", "", "填表人：张三", "", "审核人：李四", "", "", "", "", ""]]),
        "form_counts/warn_old_period.csv": csv_bytes(FORM, [r[:1] + ["2024-06"] + r[2:] for r in forms()]),
        "work_groups/warn_member_count_over_2000.csv": csv_bytes(GROUP, [group(), group(group_id="G2", member_count="2500")]),
        # --- good, in GB18030 with Chinese headers, for contrast ---
        "form_counts/good_gb18030.csv": csv_bytes(
            ["县级代码", "统计期", "填报单位代码", "报表编号", "报表名称", "下发部门代码", "填报频次", "填报次数",
             "指标项数", "耗时(小时)", "报送渠道", "指标清单"],
            [r[:6] + ["每月"] + r[7:10] + ["业务系统"] + r[11:] for r in forms("2026-04")], encoding="gb18030"),
    }


def _rezip(xlsx: bytes, change) -> bytes:
    """The workbook with its first sheet's XML passed through `change` (bytes -> bytes)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = change(data)
            dst.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return out.getvalue()


def _before_sheet_end(extra: bytes):
    return lambda xml: xml.replace(b"</sheetData>", extra + b"</sheetData>")


def _claiming(xlsx: bytes, size: int) -> bytes:
    """The workbook with its sheet's declared (uncompressed) size set to `size` in the central
    directory: a few KB that claims gigabytes."""
    data = bytearray(xlsx)
    name = b"xl/worksheets/sheet1.xml"
    at = data.find(b"PK\x01\x02" + b"\x00" * 0)  # first central directory entry
    while at >= 0:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46: at + 46 + name_len] == name:
            struct.pack_into("<I", data, at + 24, size)
        at = data.find(b"PK\x01\x02", at + 4)
    return bytes(data)


def hostile_workbooks() -> dict[str, bytes]:
    good = xlsx_bytes(FORM, forms())
    padding = b"<!--" + b" " * (20 << 20) + b"-->"  # 20 MB of spaces: deflates about a thousand times
    long_cell = "长" * 40_000
    return {
        "form_counts/bomb_claims_gigabytes.xlsx": _claiming(good, 0xF000_0000),
        "form_counts/bomb_inflates_1000x.xlsx": _rezip(good, _before_sheet_end(padding)),
        "form_counts/stray_cell_row_2e9.xlsx": _rezip(good, _before_sheet_end(
            b'<row r="2000000000"><c r="A2000000000" t="inlineStr"><is><t>x</t></is></c></row>')),
        "form_counts/cell_beyond_xfd.xlsx": _rezip(good, lambda xml: re.sub(
            rb'<c r="A3"', b'<c r="XFE3" t="inlineStr"><is><t>x</t></is></c><c r="A3"', xml, count=1)),
        "form_counts/cell_over_32767_chars.xlsx": _rezip(good, _before_sheet_end(
            b'<row r="9"><c r="A9" t="inlineStr"><is><t>' + long_cell.encode() + b"</t></is></c></row>")),
        "form_counts/repeated_long_value.xlsx": _shared_string_workbook(),
    }


def _shared_string_workbook() -> bytes:
    """3,000 rows whose fill_count is one shared string of 5,000 characters: a small file that,
    quoted whole on every row of a report, would make a report of tens of megabytes."""
    def cell(ref, text):
        return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'
    column = "ABCDEFGHIJKL"
    rows = ["<row r=\"1\">" + "".join(cell(f"{column[i]}1", h) for i, h in enumerate(FORM)) + "</row>"]
    for n in range(2, 3002):
        values = form(T1, f"F{n:04d}")
        cells = [cell(f"{column[i]}{n}", v) if FORM[i] != "fill_count" else f'<c r="H{n}" t="s"><v>0</v></c>'
                 for i, v in enumerate(values)]
        rows.append(f'<row r="{n}">' + "".join(cells) + "</row>")
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    parts = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        "_rels/.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{rel}"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        "xl/sharedStrings.xml": f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{main}" count="3000" uniqueCount="1"><si><t>{"很长的说明" * 1000}</t></si></sst>',
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}"><sheetData>{"".join(rows)}</sheetData></worksheet>',
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        for name, text in parts.items():
            book.writestr(zipfile.ZipInfo(name, (2026, 10, 3, 0, 0, 0)), text.encode(), zipfile.ZIP_DEFLATED)
    return out.getvalue()


def office_formats(tmp: Path) -> dict[str, bytes]:
    """The same good rows saved by LibreOffice as .xls, .ods and (BIFF8, as WPS writes it) .et, and
    work groups saved as XLSX by LibreOffice (numbers, dates and 12-digit codes as typed cells)."""
    sources = {"form_counts/good_xls": ("2026-01", "xls"), "form_counts/good_ods": ("2026-02", "ods"),
               "form_counts/good_et": ("2026-03", "xls")}
    made = {}
    for name, (period, target) in sources.items():
        source = tmp / f"{Path(name).name}.csv"
        source.write_bytes(csv_bytes(FORM, forms(period)))
        made[name] = (source, target)
    groups = tmp / "good_libreoffice.csv"
    groups.write_bytes(csv_bytes(GROUP, [group(period="2026-04", last_active_date="2026-04-20"),
                                         group(period="2026-04", group_id="G2", unit_code=V1,
                                               last_active_date="2026-04-21")]))
    made["work_groups/good_libreoffice"] = (groups, "xlsx")
    out = {}
    for name, (source, target) in made.items():
        filters = {"xls": "xls:MS Excel 97", "ods": "ods", "xlsx": "xlsx:Calc MS Excel 2007 XML"}
        subprocess.run(["soffice", "--headless", "--infilter=CSV:44,34,76,1", "--convert-to", filters[target],
                        "--outdir", str(tmp), str(source)], check=True, capture_output=True, timeout=300)
        suffix = {"good_et": ".et"}.get(Path(name).name, f".{target}")
        out[f"{name}{suffix}"] = (tmp / f"{source.stem}.{target}").read_bytes()
    return out


def instruction_sheet_first() -> bytes:
    wb = Workbook()
    wb.properties.created = wb.properties.modified = datetime(2026, 10, 3)
    notes = wb.active
    notes.title = "填表说明"
    for line in ("1. 每个填报单位每张报表一行。", "2. 填报次数为本月实际填报次数。", "3. 请勿修改表头。"):
        notes.append([line])
    data = wb.create_sheet("报表填报统计")
    data.append(FORM)
    for row in forms("2025-11"):
        data.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def encodings() -> dict[str, bytes]:
    utf8 = csv_bytes(FORM, forms("2026-07")[:2])
    gbk_line = ",".join(forms("2026-07")[2]).encode("gbk") + b"\r\n"
    with_nul = bytearray(csv_bytes(FORM, [form(T1, f"F{n:04d}") for n in range(300)]))
    with_nul[12_000] = 0
    unicode_text = "\r\n".join("\t".join(r) for r in [FORM, *forms("2025-12")]) + "\r\n"
    return {
        "form_counts/mixed_utf8_and_gbk_lines.csv": utf8 + gbk_line,
        "form_counts/nul_byte_past_8k.csv": bytes(with_nul),
        "form_counts/good_unicode_text_utf16.txt": unicode_text.encode("utf-16"),
    }


def _zip_with_text() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("readme.txt", "not a workbook")
    return buffer.getvalue()


def main() -> None:
    files = {**corpus(), **hostile_workbooks(), **encodings(),
             "form_counts/instruction_sheet_first.xlsx": instruction_sheet_first()}
    with tempfile.TemporaryDirectory() as tmp:
        if shutil.which("soffice"):
            files.update(office_formats(Path(tmp)))
        else:
            print("soffice not found: the .xls, .et, .ods and LibreOffice XLSX files are left as they are")
    for name, data in files.items():
        path = HERE / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    print(f"wrote {len(files)} files under {HERE}")


if __name__ == "__main__":
    main()
