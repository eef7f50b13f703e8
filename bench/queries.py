"""Five county-year analyst queries, each repeated, p50/p95 — the target is p50 <= 100 ms
(<= 50 ms on a national month).

They are the questions a county's analyst asks of one county over one year: how the burden of its
townships moves month by month, which townships are inspected most, what one department inspects,
which flags the county has by rule, and how many forms each unit fills. The county is the largest
in the warehouse (most form_counts rows: the slowest case) and the department the one with the
most inspection visits there, both chosen by an untimed query.

Three ways in through jianfu, timed separately, because an analyst meets all three:
- `native`: `jianfu.warehouse.views.connect` (the live snapshot's files as pyarrow datasets, the
  reference tables in memory), one open connection as in a notebook or the console;
- `readonly`: the read-only connection `jianfu query` uses (pyarrow datasets registered on a
  DuckDB connection with no file access), also open once;
- `run_query`: `jianfu.warehouse.query.run_query` end to end (connect, register, query, render),
  i.e. one `jianfu query` minus interpreter start.

Beside them, `plain`: the same SQL over the plain tree with no jianfu code — a DuckDB connection
with one view per table written here, globbing the table's directory as anyone reading the
warehouse without jianfu would — so a figure says what jianfu's views add or save.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

#: name -> (what it answers, SQL template). Values substituted are digit codes chosen by the bench.
QUERIES: dict[str, tuple[str, str]] = {
    "township_burden_by_month": (
        "burden of the county's townships, month by month",
        """
        SELECT u.township_code, any_value(t.unit_name) AS township, b.period,
               sum(b.forms_filled) AS forms_filled, sum(b.fills) AS fills, sum(b.hours) AS hours,
               sum(b.groups) AS groups, sum(b.inspections) AS inspections
        FROM burden b JOIN units u ON u.unit_code = b.unit_code
        LEFT JOIN units t ON t.unit_code = u.township_code
        WHERE b.county_code = '{county}' AND b.period LIKE '{year}-%'
        GROUP BY u.township_code, b.period ORDER BY u.township_code, b.period
        """,
    ),
    "most_inspected_townships": (
        "the ten townships of the county with the most inspection visits in the year",
        """
        SELECT u.township_code, any_value(t.unit_name) AS township, count(*) AS visits,
               count(DISTINCT i.dept_code) AS departments
        FROM inspections i JOIN units u ON u.unit_code = i.target_unit_code
        LEFT JOIN units t ON t.unit_code = u.township_code
        WHERE i.county_code = '{county}' AND i.year = {year} AND i.status <> 'cancelled'
          AND u.township_code IS NOT NULL
        GROUP BY u.township_code ORDER BY visits DESC, u.township_code LIMIT 10
        """,
    ),
    "department_items": (
        "one department's inspection items in the county",
        """
        SELECT item_id, any_value(topic) AS topic, any_value(category) AS category, count(*) AS visits,
               count(DISTINCT target_unit_code) AS targets, min(eff_date) AS first, max(eff_date) AS last
        FROM inspections
        WHERE county_code = '{county}' AND year = {year} AND dept_code = '{dept}'
        GROUP BY item_id ORDER BY visits DESC, item_id
        """,
    ),
    "flags_by_rule": (
        "the county's flags by rule",
        """
        SELECT rule, severity, count(*) AS flags, count(DISTINCT unit_code) AS units
        FROM flags WHERE county_code = '{county}' AND left(period, 4) = '{year}'
        GROUP BY rule, severity ORDER BY flags DESC, rule
        """,
    ),
    "forms_per_unit": (
        "forms filled per unit in the county",
        """
        SELECT unit_code, count(DISTINCT form_id) AS forms, sum(fill_count) AS fills,
               sum(hours_spent) AS hours
        FROM form_counts WHERE county_code = '{county}' AND period LIKE '{year}-%'
        GROUP BY unit_code ORDER BY fills DESC, unit_code
        """,
    ),
}


#: The plain tree's views: what someone with DuckDB and no jianfu code writes ({w}: the warehouse).
PLAIN_VIEWS: dict[str, str] = {
    "form_counts": "read_parquet('{w}/form_counts/**/*.parquet', hive_partitioning = true)",
    "work_groups": "read_parquet('{w}/work_groups/**/*.parquet', hive_partitioning = true)",
    "inspections": "read_parquet('{w}/inspections/**/*.parquet', hive_partitioning = true)",
    "flags": "read_parquet('{w}/flags/*.parquet')",
    "burden": "read_parquet('{w}/burden/*.parquet')",
    "units": "read_parquet('{w}/units/*.parquet')",
}


def plain_connection(warehouse: str):
    """A DuckDB connection over the plain tree, with no jianfu code (PLAIN_VIEWS)."""
    import duckdb

    con = duckdb.connect(":memory:")
    for name, reader in PLAIN_VIEWS.items():
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM {reader.format(w=warehouse)}")
    return con


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(q) - 1]


def _timed(fn: Callable[[], Any], repeats: int) -> dict:
    fn()  # first run warms DuckDB's metadata cache; analysts run many queries per session
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return {"p50_ms": _percentile(times, 50) * 1000, "p95_ms": _percentile(times, 95) * 1000,
            "min_ms": min(times) * 1000, "repeats": repeats}


def choose_subject(con, county: str | None) -> dict[str, str]:
    """The county (largest unless given), its year and its busiest department; untimed."""
    if county is None:
        county = con.execute("SELECT county_code FROM form_counts GROUP BY 1 ORDER BY count(*) DESC, 1 "
                             "LIMIT 1").fetchone()[0]
    period = con.execute(f"SELECT max(period) FROM form_counts WHERE county_code = '{county}'").fetchone()[0]
    year = (period or "2026")[:4]
    dept = con.execute(f"SELECT dept_code FROM inspections WHERE county_code = '{county}' AND year = {year} "
                       "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").fetchone()
    return {"county": county, "year": year, "dept": dept[0] if dept else "000000-NONE"}


def run(settings, repeats: int = 20, county: str | None = None) -> dict:
    """Time every query through every route; returns figures and the row count of each answer."""
    from jianfu.warehouse import query as query_mod
    from jianfu.warehouse import views

    t0 = time.perf_counter()
    native = views.connect(settings.warehouse)
    connect_native = time.perf_counter() - t0
    t0 = time.perf_counter()
    readonly = query_mod.read_only_connection(settings.warehouse)
    connect_readonly = time.perf_counter() - t0
    plain = plain_connection(settings.warehouse)

    subject = choose_subject(native, county)
    tables = {}
    for name in ("form_counts", "work_groups", "inspections", "flags", "burden", "quota_usage", "units"):
        try:
            tables[name] = native.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
        except Exception:  # a table the build did not write: reported as absent
            tables[name] = None
    out: dict[str, Any] = {"subject": subject, "tables": tables, "connect_ms": {"native": connect_native * 1000,
                                                              "readonly": connect_readonly * 1000},
                           "queries": {}}
    for name, (question, template) in QUERIES.items():
        sql = template.format(**subject)
        rows = len(native.execute(sql).fetchall())
        entry = {"question": question, "rows": rows, "plain_rows": len(plain.execute(sql).fetchall()),
                 "native": _timed(lambda sql=sql: native.execute(sql).fetchall(), repeats),
                 "readonly": _timed(lambda sql=sql: readonly.execute(sql).fetchall(), repeats),
                 "plain": _timed(lambda sql=sql: plain.execute(sql).fetchall(), repeats),
                 "run_query": _timed(lambda sql=sql: query_mod.run_query(settings, sql, "csv"),
                                     max(3, repeats // 4))}
        out["queries"][name] = entry
    native.close()
    readonly.close()
    plain.close()
    return out
