"""Small, readable builders for tests: a reference directory and county files in real formats."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

COUNTY = "421127"
OTHER_COUNTY = "140404"
TOWNSHIP = "421127100000"
TOWNSHIP_2 = "421127101000"
VILLAGE = "421127100201"
OTHER_VILLAGE = "140404100201"

UNITS = [
    ("421127000000", "黄梅县", "county", "", "jfb@421127.example.cn"),
    (TOWNSHIP, "黄梅镇", "township", "421127000000", ""),
    (TOWNSHIP_2, "孔垄镇", "township", "421127000000", ""),
    (VILLAGE, "东门社区", "village", TOWNSHIP, ""),
    ("140404000000", "上党区", "county", "", ""),
    ("140404100000", "韩店街道", "township", "140404000000", ""),
    (OTHER_VILLAGE, "韩店村", "village", "140404100000", ""),
]
DEPARTMENTS = [
    ("421127-AGRI", "黄梅县农业农村局", "agri@421127.example.cn"),
    ("421127-EDU", "黄梅县教育局", ""),
    ("421100-HEALTH", "黄冈市卫生健康委员会", ""),
    ("140404-AGRI", "上党区农业农村局", ""),
]

FORM_HEADER = ["county_code", "period", "unit_code", "form_id", "form_name", "dept_code", "frequency",
               "fill_count", "field_count", "hours_spent", "channel", "data_items"]


def write_reference(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "units.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["unit_code", "unit_name", "level", "parent_code", "contact_email"])
        w.writerows(UNITS)
    with (folder / "departments.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["dept_code", "dept_name", "contact_email"])
        w.writerows(DEPARTMENTS)
    (folder / "quotas.csv").write_text("dept_code,year,max_inspection_items\n421127-AGRI,2026,3\n", encoding="utf-8")
    return folder


def form_rows(period: str = "2026-09", county: str = COUNTY, fill: int = 1, n_forms: int = 2) -> list[list]:
    units = [TOWNSHIP, VILLAGE] if county == COUNTY else [OTHER_VILLAGE]
    dept = "421127-AGRI" if county == COUNTY else "140404-AGRI"
    rows = []
    for unit in units:
        for f in range(n_forms):
            rows.append([county, period, unit, f"F{f:03d}", f"报表{f}", dept, "monthly", fill, 10, 1.5,
                         "system", "人口;耕地面积"])
    return rows


def write_csv(path: Path, header: list[str], rows: list[list], encoding: str = "utf-8", mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    w = csv.writer(buffer, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path
