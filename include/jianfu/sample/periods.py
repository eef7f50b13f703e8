"""Period arithmetic and the shape of a planted flag, shared by the generators and the planted cases."""

from __future__ import annotations

import calendar
from datetime import date

#: (rule, period, subject, county_code) of a flag a planted case must (or must not) raise; county_code
#: is '' for the department quota rules.
FlagRow = tuple[str, str, str, str]


def period_end(period: str) -> date:
    """Last day of a 'YYYY-MM' period."""
    year, month = int(period[:4]), int(period[5:7])
    return date(year, month, calendar.monthrange(year, month)[1])
