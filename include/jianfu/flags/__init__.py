"""Flags, burden index, quota usage and reduction tracking of the warehouse (SPEC.md 7, 8, 14).

Each rule and table is one readable SQL file in sql/, headed by what it computes in plain words;
DuckDB runs them over the warehouse relations (form_counts, work_groups, inspections, units,
departments, quotas) on a connection the caller owns. This module is the API the warehouse builder
calls:

- `county_flags(con, rules, counties)`: the per-county rules. Every one of them only looks at
  rows of one county, so the flags of each county computed alone, concatenated, equal the flags of
  all counties computed together — which is what lets the builder recompute only the counties whose
  submissions changed.
- `quota_usage(con, rules)` and `quota_flags(con, rules)`: department quotas, across all counties
  (a city department's item seen in two counties counts once).
- `burden(con, rules, counties)` and `reduction(con, rules, counties)`: per county too.
- `form_usage(con, rules, counties)`: per county, what the form catalog is computed from.
- `form_facts(con, rules, forms)` and `form_catalog(con, rules, facts)`: the inventory of forms
  (SPEC 15), each form's own columns from the relation `form_usage` on `con` (the warehouse's
  table of that name, the only relation they need), of every form or of some, then the overlap
  groups across all of them.

`rules` is the mapping of config.load_rules (thresholds of rules.yaml; missing keys take the
defaults of config.RULE_DEFAULTS).
"""

from __future__ import annotations

from collections.abc import Collection

import pyarrow as pa

from ..schema import (
    BURDEN_SCHEMA,
    FLAG_RULES,
    FORM_CATALOG_SCHEMA,
    FORM_USAGE_SCHEMA,
    KINDS,
    QUOTA_USAGE_SCHEMA,
    REDUCTION_SCHEMA,
)
from .normalize import norm_group_name, norm_name
from .runner import materialise_quota_usage, prepare, rows, run, run_rules

__all__ = [
    "COUNTY_TABLES",
    "READS",
    "burden",
    "county_flags",
    "county_tables",
    "form_catalog",
    "form_facts",
    "form_usage",
    "norm_group_name",
    "norm_name",
    "quota_flags",
    "quota_usage",
    "reduction",
]

COUNTY_RULES = [r.name for r in FLAG_RULES.values() if r.per_county]
QUOTA_RULES = [r.name for r in FLAG_RULES.values() if not r.per_county]


#: The key of a form: which forms form_facts computes.
FORM_KEYS = pa.schema([pa.field("dept_code", pa.string()), pa.field("form_id", pa.string())])
#: A catalog row but its overlap group.
FORM_FACTS_SCHEMA = FORM_CATALOG_SCHEMA.remove(FORM_CATALOG_SCHEMA.get_field_index("overlap_group"))


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """The columns of `schema`, in its order and types (SQL NULL columns come back typed NULL)."""
    return table.select(schema.names).cast(schema)


#: The tables computed per county, with their schemas (the flags' is FLAGS_SCHEMA).
COUNTY_TABLES = {"burden": BURDEN_SCHEMA, "reduction": REDUCTION_SCHEMA, "form_usage": FORM_USAGE_SCHEMA}
#: The submission tables each per-county table is computed from: a build recomputes a county's
#: rows of a table only when one of them changed (each flag rule reads one: FlagRule.reads).
READS = {"flags": tuple(KINDS), "burden": tuple(KINDS), "reduction": tuple(KINDS), "form_usage": ("form_counts",)}


def county_tables(con, rules: dict, counties: list[str] | None, tables: list[str],
                  cut: dict[tuple[str, str], int] | None = None,
                  kinds: Collection[str] | None = None) -> dict[str, pa.Table]:
    """Several per-county tables ("flags" and those of COUNTY_TABLES) of `counties` (None: all),
    computed on one preparation of `con` (the builder's step: preparing reads the counties' unit
    labels). The flags are those of the rules reading one of `kinds` (None: every rule); `cut` as
    for county_flags."""
    prepare(con, rules, counties)
    chosen = [name for name in COUNTY_RULES if kinds is None or FLAG_RULES[name].reads in kinds]
    return {name: run_rules(con, chosen, cut) if name == "flags"
            else _conform(run(con, name), COUNTY_TABLES[name]) for name in tables}


def county_flags(con, rules: dict, counties: list[str] | None = None,
                 cut: dict[tuple[str, str], int] | None = None) -> pa.Table:
    """Flags of every per-county rule (all but DEPT_QUOTA_*), for `counties` or for all of them.

    Sorted by rule (SPEC order), county, period and subject, so equal inputs give equal tables.
    `cut` receives, per (county, period), the FORM_DUPLICATE_ACROSS_DEPTS pairs left out by the
    cap `form_duplicate_max_pairs`.
    """
    return county_tables(con, rules, counties, ["flags"], cut)["flags"]


def quota_usage(con, rules: dict) -> pa.Table:
    """dept_code, year, quota, used, ratio, status of every department-year, across all counties."""
    prepare(con, rules, None, unit_labels=False)
    materialise_quota_usage(con)
    return _conform(rows(con, "SELECT * FROM jf_quota_usage ORDER BY dept_code, year"), QUOTA_USAGE_SCHEMA)


def quota_flags(con, rules: dict) -> pa.Table:
    """DEPT_QUOTA_WARNING and DEPT_QUOTA_EXCEEDED flags (county_code NULL)."""
    prepare(con, rules, None, unit_labels=False)
    materialise_quota_usage(con)
    return run_rules(con, QUOTA_RULES)


def burden(con, rules: dict, counties: list[str] | None = None) -> pa.Table:
    """Burden index per unit per month (SPEC.md section 7), for `counties` or for all of them."""
    return county_tables(con, rules, counties, ["burden"])["burden"]


def reduction(con, rules: dict, counties: list[str] | None = None) -> pa.Table:
    """Reduction tracking per county per month (SPEC.md section 14), for `counties` or all."""
    return county_tables(con, rules, counties, ["reduction"])["reduction"]


def form_usage(con, rules: dict, counties: list[str] | None = None) -> pa.Table:
    """Each county's use of each form per month (flags/sql/form_usage.sql), for `counties` or all."""
    return county_tables(con, rules, counties, ["form_usage"])["form_usage"]


def form_facts(con, rules: dict, forms: pa.Table | None = None) -> pa.Table:
    """Each form's catalog row but its overlap group (flags/sql/form_facts.sql), from the relation
    form_usage on `con`: of every form, or of the forms (dept_code, form_id) of `forms` only."""
    prepare(con, rules, None, relations=False)
    con.execute("SET VARIABLE all_forms = ?", [forms is None])
    con.register("catalog_scope", forms if forms is not None else FORM_KEYS.empty_table())
    try:
        return _conform(run(con, "form_facts"), FORM_FACTS_SCHEMA)
    finally:
        con.unregister("catalog_scope")


def form_catalog(con, rules: dict, facts: pa.Table) -> pa.Table:
    """The form catalog (SPEC.md section 15): the rows of form_facts with each form's overlap group,
    found across all of them."""
    prepare(con, rules, None, relations=False)
    con.register("form_facts", facts)
    try:
        return _conform(run(con, "form_catalog"), FORM_CATALOG_SCHEMA)
    finally:
        con.unregister("form_facts")
