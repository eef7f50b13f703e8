"""Flags, burden index and quota usage of the warehouse (SPEC.md sections 7 and 8).

Each of the 13 rules is one readable SQL file in sql/, headed by the rule in plain words; DuckDB
runs them over the warehouse relations (form_counts, work_groups, inspections, units,
departments, quotas) on a connection the caller owns. This module is the API the warehouse builder
calls:

- `county_flags(con, rules, counties)`: the 11 per-county rules. Every one of them only looks at
  rows of one county, so the flags of each county computed alone, concatenated, equal the flags of
  all counties computed together — which is what lets the builder recompute only the counties whose
  submissions changed.
- `quota_usage(con, rules)` and `quota_flags(con, rules)`: department quotas, across all counties
  (a city department's item seen in two counties counts once).
- `burden(con, rules, counties)`: the burden index per unit per month.

`rules` is the mapping of config.load_rules (thresholds of rules.yaml; missing keys take the
defaults of config.RULE_DEFAULTS).
"""

from __future__ import annotations

import pyarrow as pa

from ..arrow_values import empty_table
from .normalize import norm_group_name, norm_name
from .runner import (
    ALL_RULES,
    COUNTY_RULES,
    QUOTA_RULES,
    flag_id,
    materialise_quota_usage,
    prepare,
    rows,
    run,
    run_rules,
)

__all__ = [
    "ALL_RULES",
    "BURDEN_SCHEMA",
    "COUNTY_RULES",
    "FLAG_SCHEMA",
    "QUOTA_RULES",
    "QUOTA_USAGE_SCHEMA",
    "burden",
    "county_flags",
    "flag_id",
    "norm_group_name",
    "norm_name",
    "quota_flags",
    "quota_usage",
]

FLAG_SCHEMA = pa.schema(
    [
        pa.field("flag_id", pa.string(), nullable=False),
        pa.field("rule", pa.string(), nullable=False),
        pa.field("severity", pa.string(), nullable=False),
        pa.field("county_code", pa.string()),  # NULL for department quota flags
        pa.field("period", pa.string(), nullable=False),  # YYYY-MM, YYYY-Qn or YYYY
        pa.field("unit_code", pa.string()),
        pa.field("dept_code", pa.string()),
        pa.field("subject", pa.string(), nullable=False),
        pa.field("metric", pa.float64()),
        pa.field("threshold", pa.float64()),
        pa.field("detail", pa.string()),
    ]
)

BURDEN_SCHEMA = pa.schema(
    [
        pa.field("unit_code", pa.string(), nullable=False),
        pa.field("county_code", pa.string(), nullable=False),
        pa.field("period", pa.string(), nullable=False),
        pa.field("forms_filled", pa.int64(), nullable=False),
        pa.field("fills", pa.int64(), nullable=False),
        pa.field("field_entries", pa.int64(), nullable=False),
        pa.field("hours", pa.float64(), nullable=False),
        pa.field("groups", pa.int64(), nullable=False),
        pa.field("zombie_groups", pa.int64(), nullable=False),
        pa.field("inspections", pa.int64(), nullable=False),
    ]
)

QUOTA_USAGE_SCHEMA = pa.schema(
    [
        pa.field("dept_code", pa.string(), nullable=False),
        pa.field("year", pa.int32(), nullable=False),
        pa.field("quota", pa.int64(), nullable=False),
        pa.field("used", pa.int64(), nullable=False),
        pa.field("ratio", pa.float64()),  # NULL when the quota is 0
        pa.field("status", pa.string(), nullable=False),  # ok | warning | exceeded
    ]
)


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """The columns of `schema`, in its order and types (SQL NULL columns come back typed NULL).

    Only a column of another type is cast: the SQL gives the schema's types, and a cast, even
    to the same type, imports pyarrow.compute, which a one-county rebuild does without.
    """
    return pa.Table.from_arrays(
        [column if column.type == f.type else column.cast(f.type)
         for f in schema for column in (table.column(f.name),)],
        schema=schema,
    )


def _rules(con, stems) -> pa.Table:
    """Flags of the rule files `stems`, in that order, with FLAG_SCHEMA's columns and types."""
    stems = list(stems)
    if not stems:
        return empty_table(FLAG_SCHEMA)  # not FLAG_SCHEMA.empty_table(): that imports pandas
    return _conform(run_rules(con, stems), FLAG_SCHEMA)


def county_flags(con, rules: dict, counties: list[str] | None = None) -> pa.Table:
    """Flags of every per-county rule (all but DEPT_QUOTA_*), for `counties` or for all of them.

    Sorted by rule (SPEC order), county, period and subject, so equal inputs give equal tables.
    """
    prepare(con, rules, counties)
    return _rules(con, COUNTY_RULES.values())


def quota_usage(con, rules: dict) -> pa.Table:
    """dept_code, year, quota, used, ratio, status of every department-year, across all counties."""
    prepare(con, rules, None, labels=False)
    materialise_quota_usage(con)
    table = rows(con, "SELECT * FROM jf_quota_usage ORDER BY dept_code, year")
    return _conform(table, QUOTA_USAGE_SCHEMA)


def quota_flags(con, rules: dict) -> pa.Table:
    """DEPT_QUOTA_WARNING and DEPT_QUOTA_EXCEEDED flags (county_code NULL)."""
    prepare(con, rules, None)
    materialise_quota_usage(con)
    return _rules(con, QUOTA_RULES.values())


def burden(con, rules: dict, counties: list[str] | None = None) -> pa.Table:
    """Burden index per unit per month (SPEC.md section 7), for `counties` or for all of them."""
    prepare(con, rules, counties, labels=False)
    return _conform(run(con, "burden"), BURDEN_SCHEMA)
