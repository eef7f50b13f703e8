"""Three proposed new forms for the admission check (准入), one for each verdict.

Written next to the pilot sample as `proposals/proposed_forms.csv`, in the columns the admission
check reads. Each proposal is built against the sample's own form catalogue, so its verdict is
known in advance: one asks exactly what an existing form asks (reuse), one shares a third of its
items with another (review), one asks nothing anyone asks yet (admit).
"""

from __future__ import annotations

import csv
from pathlib import Path

from .catalog import COUNTY_FORMS

#: (proposed_form name, proposing department abbreviation, frequency, data items, expected verdict,
#: the catalogue form it overlaps: (department abbreviation, form code) or None)
PROPOSALS = (
    ("食品安全监管情况统计表", "HEALTH", "monthly", None, "reuse", ("MARKET", "01")),
    ("企业安全执法检查月报", "MARKET", "monthly", "检查企业数;隐患数;执法人员数;罚款金额", "review", ("EMERG", "01")),
    ("数字乡村建设进展表", "AGRI", "quarterly", "光纤入户数;5G基站数;电商服务站数;益农信息社数", "admit", None),
)


def _catalogue_items(dept: str, code: str) -> str:
    spec = next(f for f in COUNTY_FORMS[dept] if f.code == code)
    return ";".join(spec.items)


def write_proposals(out: Path, county_code: str) -> Path:
    """Write proposals/proposed_forms.csv (UTF-8 with BOM, Chinese headers, as an office would)."""
    folder = out / "proposals"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "proposed_forms.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["下发部门代码", "报表名称", "填报频次", "指标清单"])
        for name, dept, frequency, items, _verdict, overlaps in PROPOSALS:
            if items is None:  # the reuse case asks exactly what the overlapped form asks
                items = _catalogue_items(*overlaps)
            writer.writerow([f"{county_code}-{dept}", name, frequency, items])
    return path
