"""Runs the flag, burden, quota and reduction SQL of sql/ on a DuckDB connection (SPEC.md 7, 8, 14, 15).

The SQL files are the definition of each rule and table; this module only prepares the connection
they run on and collects their results:

- thresholds of rules.yaml become DuckDB variables named like their rules.yaml keys
  (`SET VARIABLE zombie_days = 90`), so a file reads `getvariable('zombie_days')` just as SPEC.md
  says `zombie_days`;
- the counties to compute become the variable `counties` (NULL for all), used through the
  `in_scope(county_code)` macro;
- the name normalisers (normalize.py), `split_list` and `frequency_rank` are registered on the connection, then
  `_setup.sql` (macros, flag_id), `_staging.sql` (the views every rule reads: a visit, a form row,
  a group row, each written once) and `_labels.sql` (names for the detail sentences);
- each rule file selects its flags without `rule` and `severity`: those come from the registry
  jianfu.schema.FLAG_RULES, and `flag_id` from the `flag_id` macro of `_setup.sql`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import duckdb
import pyarrow as pa

from ..config import RULE_DEFAULTS
from ..schema import FLAG_RULES, FLAGS_SCHEMA, FREQUENCY_RANK, LIST_SEPARATORS
from . import normalize

SQL_DIR = Path(__file__).with_name("sql")
_RULE_KEY = re.compile(r"^[a-z][a-z0-9_]*$")


@cache
def sql_text(stem: str) -> str:
    """The text of sql/<stem>.sql."""
    return (SQL_DIR / f"{stem}.sql").read_text(encoding="utf-8")


def _split_list_macro() -> str:
    """`split_list(text)`: the SQL twin of jianfu.schema.split_list (same separators).

    Pieces are not trimmed here: every caller normalises them (which drops blanks) anyway.
    """
    pattern = "[" + "".join(re.escape(sep) for sep in LIST_SEPARATORS) + "]"
    return f"CREATE OR REPLACE TEMP MACRO split_list(s) AS regexp_split_to_array(s, '{pattern}')"


def _frequency_rank_macro() -> str:
    """`frequency_rank(frequency)`: jianfu.schema.FREQUENCY_RANK in SQL (NULL for adhoc)."""
    cases = " ".join(f"WHEN '{name}' THEN {rank}" for name, rank in FREQUENCY_RANK.items())
    return f"CREATE OR REPLACE TEMP MACRO frequency_rank(f) AS CASE f {cases} END"


def prepare(con: duckdb.DuckDBPyConnection, rules: dict, counties: Iterable[str] | None = None, *,
            unit_labels: bool = True, relations: bool = True) -> None:
    """Make `con` ready for the SQL files: thresholds, county scope, helpers, staging views, labels.

    Every rules.yaml key is set (missing keys take their defaults), so a file never meets an unset
    variable. Unknown keys are ignored here; config.load_rules rejects them where the file is read.
    The relations form_counts, work_groups, inspections, units, departments and quotas must be on
    `con` already: the labels are made from units and departments (units only if `unit_labels`:
    work that names no unit skips them). With `relations` False, the helpers alone, for SQL that
    reads none of them (the form catalog reads form_usage only).
    """
    normalize.register(con)
    for key, default in RULE_DEFAULTS.items():
        value = rules.get(key, default)
        if not _RULE_KEY.match(key):  # keys become SQL identifiers
            raise ValueError(f"rules key {key!r} is not a plain name")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"rules key {key} must be a number, got {value!r}")
        con.execute(f"SET VARIABLE {key} = ?", [value])
    if counties is None:
        con.execute("SET VARIABLE counties = NULL")
    else:
        con.execute("SET VARIABLE counties = CAST(? AS VARCHAR[])", [sorted(set(counties))])
    con.execute("SET VARIABLE label_units = ?", [unit_labels])
    con.execute(_split_list_macro())
    con.execute(_frequency_rank_macro())
    for stem in ("_setup", "_staging", "_labels") if relations else ("_setup",):
        con.execute(sql_text(stem))


def rows(con: duckdb.DuckDBPyConnection, query: str) -> pa.Table:
    """The rows of `query`, in its order, as an Arrow table."""
    return con.sql(query).to_arrow_table()


def run(con: duckdb.DuckDBPyConnection, stem: str) -> pa.Table:
    """Run sql/<stem>.sql on a prepared connection and return its result as Arrow."""
    return rows(con, _query(stem))


def _query(stem: str) -> str:
    """The file's query, fit to nest in another statement."""
    return sql_text(stem).strip().rstrip(";")


#: What a rule file may add beside the flag columns: the pairs it found before its cap (SPEC 8).
SIMILAR_PAIRS = "similar_pairs"


def run_rule(con: duckdb.DuckDBPyConnection, name: str,
             cut: dict[tuple[str, str], int] | None = None) -> pa.Table:
    """The flags of one rule of FLAG_RULES, in FLAGS_SCHEMA, sorted by county, period and subject.

    A rule file that caps its flags per county x month (FORM_DUPLICATE_ACROSS_DEPTS) adds a column
    `similar_pairs`; `cut` then receives, per (county, period), how many it left out. An error
    names the SQL file it comes from.
    """
    rule = FLAG_RULES[name]
    query = f"""
        SELECT flag_id('{rule.name}', county_code, period, subject) AS flag_id,
               '{rule.name}' AS rule, '{rule.severity}' AS severity, *
        FROM ({_query(rule.sql)})
        ORDER BY county_code, period, subject
    """
    try:
        table = rows(con, query)
    except duckdb.Error as exc:
        raise type(exc)(f"sql/{rule.sql}.sql: {exc}") from exc
    if cut is not None and SIMILAR_PAIRS in table.column_names:
        kept: dict[tuple[str, str], list[int]] = {}
        for row in table.select(["county_code", "period", SIMILAR_PAIRS]).to_pylist():
            found = kept.setdefault((row["county_code"], row["period"]), [0, row[SIMILAR_PAIRS]])
            found[0] += 1
        cut.update({key: total - flagged for key, (flagged, total) in kept.items() if total > flagged})
    return table.select(FLAGS_SCHEMA.names).cast(FLAGS_SCHEMA)


def run_rules(con: duckdb.DuckDBPyConnection, names: Iterable[str],
              cut: dict[tuple[str, str], int] | None = None) -> pa.Table:
    """The flags of several rules, in the order given (`cut` as for run_rule)."""
    return pa.concat_tables([FLAGS_SCHEMA.empty_table(), *(run_rule(con, name, cut) for name in names)])


def materialise_quota_usage(con: duckdb.DuckDBPyConnection) -> None:
    """quota_usage.sql into the temp table jf_quota_usage, read by the two quota rule files."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE jf_quota_usage AS {sql_text('quota_usage')}")
