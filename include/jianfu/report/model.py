"""What a bulletin is, independent of how it is printed: sections of numbers, a table and a chart."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    total: bool = False  # summed in the table's total line


@dataclass
class Section:
    """One part of SPEC.md section 17: its headline figures, its table (per county or department) and its chart."""

    key: str  # sheet name in the XLSX, anchor in the HTML
    title_zh: str
    title_en: str
    headline: list[tuple[str, Any]] = field(default_factory=list)  # (bilingual label, value)
    columns: list[Column] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    chart: Any = None  # an altair chart (jianfu.charts), drawn as SVG
    notes: list[str] = field(default_factory=list)  # what is missing and why
    print_rows: int | None = None  # rows the PDF/HTML list (the XLSX has them all); None: every row

    def totals(self) -> dict[str, Any]:
        return {c.key: sum(r.get(c.key) or 0 for r in self.rows) for c in self.columns if c.total}


@dataclass
class Bulletin:
    period: str  # YYYY-MM
    county_code: str | None
    scope_name: str  # 全部县 / the county's name
    office_name: str
    office_contact: str
    generated_at: str  # office time, for the cover
    sections: list[Section] = field(default_factory=list)

    @property
    def year(self) -> int:
        return int(self.period[:4])

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)
