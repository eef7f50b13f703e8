"""County text made harmless for where it is shown (house rule: escape for the medium).

A spreadsheet runs a cell that starts with = + - @ (or a tab, CR or LF before one) as a formula:
`=HYPERLINK(...)` from a county file would become a live link in the office's Excel. Every CSV or
XLSX jianfu writes passes text cells through `neutralise_formula`.
"""

from __future__ import annotations

#: Leading characters a spreadsheet may read as the start of a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise_formula(value: object) -> object:
    """A text cell made inert in a spreadsheet: a leading formula character gets a quote mark."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
