"""Runs the flag, burden and quota SQL of sql/ on a DuckDB connection (SPEC.md sections 7 and 8).

The SQL files are the definition of each rule; this module only prepares the connection they run
on and collects their results:

- thresholds of rules.yaml become DuckDB variables named like their rules.yaml keys
  (`SET VARIABLE zombie_days = 90`), so a file reads `getvariable('zombie_days')` just as SPEC.md
  says `zombie_days`;
- the counties to compute become the variable `counties` (NULL for all), used through the
  `in_scope(county_code)` macro, which DuckDB folds into a partition filter;
- the name normalisers (normalize.py), `split_list` and the helpers of `_setup.sql` are registered
  as temporary functions, views and macros on the connection, and the labels of `_labels.sql`
  (names for the detail sentences) are materialised when the SQL to run writes sentences;
- `flag_id` is added here, in one place: the first 16 hex digits of sha256(`rule|period|subject`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import duckdb
import pyarrow as pa

from ..config import RULE_DEFAULTS
from ..schema import LIST_SEPARATORS
from . import normalize

SQL_DIR = Path(__file__).with_name("sql")

#: Per-county rules, in SPEC.md order: rule name -> SQL file stem.
COUNTY_RULES: dict[str, str] = {
    "FORM_OVER_FREQUENCY": "form_over_frequency",
    "FORM_DUPLICATE_ACROSS_DEPTS": "form_duplicate_across_depts",
    "UNIT_REPORTING_OVERLOAD": "unit_reporting_overload",
    "GROUP_ZOMBIE": "group_zombie",
    "GROUP_TEMPORARY_OVERDUE": "group_temporary_overdue",
    "GROUP_DUPLICATE": "group_duplicate",
    "UNIT_GROUP_OVERLOAD": "unit_group_overload",
    "INSPECTION_TARGET_OVERFREQUENT": "inspection_target_overfrequent",
    "INSPECTION_UNCOORDINATED": "inspection_uncoordinated",
    "INSPECTION_UNPLANNED": "inspection_unplanned",
    "INSPECTION_REPEATED_TOPIC": "inspection_repeated_topic",
}
#: Department-wide quota rules (across all counties).
QUOTA_RULES: dict[str, str] = {
    "DEPT_QUOTA_WARNING": "dept_quota_warning",
    "DEPT_QUOTA_EXCEEDED": "dept_quota_exceeded",
}
ALL_RULES: tuple[str, ...] = (*COUNTY_RULES, *QUOTA_RULES)

_RULE_KEY = re.compile(r"^[a-z][a-z0-9_]*$")


def flag_id(rule: str, period: str, subject: str) -> str:
    """Stable id of a flag: the first 16 hex digits of sha256 of `rule|period|subject`."""
    return hashlib.sha256(f"{rule}|{period}|{subject}".encode()).hexdigest()[:16]


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


#: DuckDB variable holding what `prepare` last made the connection ready for.
PREPARED_VARIABLE = "jf_prepared"


def prepare(con: duckdb.DuckDBPyConnection, rules: dict, counties: Iterable[str] | None = None, *,
            labels: bool = True) -> None:
    """Make `con` ready for the SQL files: thresholds, county scope, helper functions.

    Every rules.yaml key is set (missing keys take their defaults), so a file never meets an unset
    variable. Unknown keys are ignored here; config.load_rules rejects them where the file is read.
    `labels=False` skips the label tables of `_labels.sql`, which only the rule files join: they
    are most of what preparing costs (a join over every unit), and burden and quota usage, which
    write no sentences, do without them.

    Preparing again for the same rules and counties does nothing (but add the labels if they are
    asked for now): the builder prepares its connection while the submission tables are still
    being published, and the rule functions then prepare it as they always do. The labels are
    made from the units and departments on the connection, so whoever replaces those after
    preparing calls `forget` (relations.load does).
    """
    thresholds = {}
    for key, default in RULE_DEFAULTS.items():
        value = rules.get(key, default)
        if not _RULE_KEY.match(key):  # keys become SQL identifiers
            raise ValueError(f"rules key {key!r} is not a plain name")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"rules key {key} must be a number, got {value!r}")
        thresholds[key] = value
    scope = None if counties is None else sorted(set(counties))
    wanted = json.dumps([thresholds, scope], sort_keys=True)
    ((done,),) = con.execute(f"SELECT getvariable('{PREPARED_VARIABLE}')").fetchall()
    if done not in (f"{wanted} labels", f"{wanted} plain"):
        normalize.register(con)
        for key, value in thresholds.items():
            con.execute(f"SET VARIABLE {key} = ?", [value])
        if scope is None:
            con.execute("SET VARIABLE counties = NULL")
        else:
            con.execute("SET VARIABLE counties = CAST(? AS VARCHAR[])", [scope])
        con.execute(_split_list_macro())
        con.execute(sql_text("_setup"))
        done = f"{wanted} plain"
    if labels and done != f"{wanted} labels":
        con.execute(sql_text("_labels"))
        done = f"{wanted} labels"
    con.execute(f"SET VARIABLE {PREPARED_VARIABLE} = ?", [done])


def forget(con: duckdb.DuckDBPyConnection) -> None:
    """The next `prepare` on `con` does everything again (its units or departments changed)."""
    con.execute(f"RESET VARIABLE {PREPARED_VARIABLE}")


#: The temp table a query's rows pass through on their way to Arrow (see `rows`).
RESULT_TABLE = "jf_result"


def rows(con: duckdb.DuckDBPyConnection, query: str) -> pa.Table:
    """The rows of `query`, in its order, as an Arrow table.

    Why not `con.sql(query).to_arrow_table()`: in DuckDB 2.0 `con.sql` first parses and binds
    the query in its Python layer to describe the relation it returns, then the relation runs it
    again; for the flag SQL of one county that description cost 20 ms of a 75 ms statement,
    a twentieth of an everyday one-county rebuild. `con.execute` runs it once, and the rows come
    back through a temp table (DuckDB keeps the rows of CREATE TABLE AS in the order the
    query's ORDER BY gives, and reads a table back in that order) rather than through the DB-API
    result, whose Arrow output DuckDB warns makes an extra copy.
    """
    con.execute(f"CREATE OR REPLACE TEMP TABLE {RESULT_TABLE} AS {query}")
    try:
        return con.table(RESULT_TABLE).to_arrow_table()
    finally:
        con.execute(f"DROP TABLE IF EXISTS {RESULT_TABLE}")


def run(con: duckdb.DuckDBPyConnection, stem: str) -> pa.Table:
    """Run sql/<stem>.sql on a prepared connection and return its result as Arrow."""
    return rows(con, _query(stem))


def _query(stem: str) -> str:
    """The rule file's query, fit to nest in another statement."""
    return sql_text(stem).strip().rstrip(";")


def run_rule(con: duckdb.DuckDBPyConnection, stem: str) -> pa.Table:
    """Run one rule file and add flag_id; rows come back sorted by period and subject."""
    return rows(
        con,
        f"""
        SELECT left(sha256(rule || '|' || period || '|' || subject), 16) AS flag_id, *
        FROM ({_query(stem)})
        ORDER BY county_code, period, subject
        """,
    )


def run_rules(con: duckdb.DuckDBPyConnection, stems: Iterable[str]) -> pa.Table:
    """Run several rule files as one statement and add flag_id: the rows of `run_rule` for each
    file, in the order given, as if concatenated.

    One statement rather than one per file: for the county or two of an everyday rebuild, the
    fixed cost of a statement (parse, bind, plan, the hand-over to Arrow) was a third of the
    flags' time. The files are unchanged, each one a branch of a UNION ALL BY NAME, so columns
    meet by name; a column typed differently by two files (an integer metric and a fractional
    one) comes back in the wider type, and the caller imposes FLAG_SCHEMA as before. An error
    names the file it comes from: the branches are run alone to find it.
    """
    stems = list(stems)
    branches = "\nUNION ALL BY NAME\n".join(
        f"SELECT {order} AS jf_rule_order, * FROM ({_query(stem)})" for order, stem in enumerate(stems))
    try:
        return rows(
            con,
            f"""
            SELECT left(sha256(rule || '|' || period || '|' || subject), 16) AS flag_id,
                   * EXCLUDE (jf_rule_order)
            FROM ({branches})
            ORDER BY jf_rule_order, county_code, period, subject
            """,
        )
    except duckdb.Error:
        for stem in stems:
            try:
                run_rule(con, stem)
            except duckdb.Error as exc:
                raise type(exc)(f"sql/{stem}.sql: {exc}") from exc
        raise


def materialise_quota_usage(con: duckdb.DuckDBPyConnection) -> None:
    """quota_usage.sql into the temp table jf_quota_usage, read by the two quota rule files."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE jf_quota_usage AS {sql_text('quota_usage')}")
