"""A problem found in a submission, shared by ingestion (structural checks) and validation (GX).

Each problem belongs to a rule with a severity (SPEC.md 6.1 critical, 6.2 warning) and carries what
a county clerk needs to fix it: column, row number as seen in the clerk's own file, the value, and
a message in Chinese and English.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

CRITICAL = "critical"
WARNING = "warning"
INFO = "info"


@dataclass(frozen=True)
class Problem:
    rule: str
    severity: str
    message_en: str
    message_zh: str
    column: str | None = None
    row: int | None = None  # 1-based row in the county's own file, title and header rows counted
    value: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


class RejectFile(Exception):
    """A structural problem found while reading: the whole file is rejected with this problem."""

    def __init__(self, problem: Problem, county_code: str | None = None, period: str | None = None):
        super().__init__(problem.message_en)
        self.problem = problem
        # Best guesses, when the header could be read: they let the status board show the county
        # as having sent something (rejected) rather than nothing (missing).
        self.county_code = county_code
        self.period = period


def critical(rule: str, en: str, zh: str, column: str | None = None, row: int | None = None,
             value: str | None = None) -> Problem:
    return Problem(rule, CRITICAL, en, zh, column, row, value)


def warning(rule: str, en: str, zh: str, column: str | None = None, row: int | None = None,
            value: str | None = None) -> Problem:
    return Problem(rule, WARNING, en, zh, column, row, value)
