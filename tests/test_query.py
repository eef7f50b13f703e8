"""`jianfu query`: SQL over the warehouse views, three output formats, and nothing but reading."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from jianfu.cli import main  # noqa: E402
from jianfu.config import Settings  # noqa: E402
from jianfu.warehouse.query import QueryError, render_table, run_query  # noqa: E402
from test_warehouse import WarehouseHome  # noqa: E402


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> WarehouseHome:
    home = WarehouseHome(tmp_path_factory.mktemp("q") / "home")
    home.populate()
    home.build()
    return home


SQL = """SELECT county_code, period, count(*) AS n, sum(fill_count) AS fills
         FROM form_counts GROUP BY ALL ORDER BY ALL"""


def test_table_format(built: WarehouseHome):
    out = run_query(built.settings, SQL)
    lines = out.splitlines()
    assert lines[0].split(" | ")[0].strip() == "county_code"
    assert set(lines[1]) <= {"-", "+"}
    assert lines[2].startswith("421127      | 2026-08 |")
    assert lines[-1] == "(4 rows)"


def test_csv_format(built: WarehouseHome):
    out = run_query(built.settings, SQL, "csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["county_code", "period", "n", "fills"]
    assert rows[1][:3] == ["421127", "2026-08", "24"]
    assert len(rows) == 5


def test_json_format_keeps_text_and_dates(built: WarehouseHome):
    out = run_query(built.settings, "SELECT unit_name, eff_date FROM inspections JOIN units "
                                    "ON unit_code = target_unit_code ORDER BY eff_date LIMIT 1", "json")
    data = json.loads(out)
    assert data == [{"unit_name": data[0]["unit_name"], "eff_date": "2026-03-10"}]
    assert "\\u" not in out  # Chinese stays readable


def test_every_table_has_a_view(built: WarehouseHome):
    """Every table answers under its name: a view, or for the reference tables an in-memory copy
    (so DuckDB knows their statistics when a county's query joins them)."""
    out = run_query(built.settings, "SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY 1", "csv")
    names = out.splitlines()[1:]
    for table in ("form_counts", "work_groups", "inspections", "submissions", "flags", "burden", "quota_usage",
                  "reduction", "form_catalog", "form_usage"):
        assert table in names
    out = run_query(built.settings, "SELECT table_name FROM duckdb_tables() ORDER BY 1", "csv")
    assert out.splitlines()[1:] == ["departments", "units"]
    units = run_query(built.settings, "SELECT count(*) AS n FROM units", "csv").splitlines()[1]
    assert int(units) == len(built.warehouse.read_file("units", "", "part-0.parquet"))


@pytest.mark.parametrize("sql, word", [
    ("COPY (SELECT 1) TO '{dir}/out.csv'", "COPY"),
    ("COPY form_counts TO '{dir}/out.parquet' (FORMAT parquet)", "COPY"),
    ("ATTACH '{dir}/other.duckdb' AS other", "ATTACH"),
    ("EXPORT DATABASE '{dir}/export'", "EXPORT"),
    ("INSTALL httpfs", "LOAD"),
    ("SET enable_external_access = true", "SET"),
    ("CREATE TABLE x AS SELECT 1", "CREATE"),
    ("DROP VIEW form_counts", "DROP"),
])
def test_writing_statements_are_refused_in_one_line(built: WarehouseHome, tmp_path: Path, sql: str, word: str):
    with pytest.raises(QueryError) as caught:
        run_query(built.settings, sql.format(dir=tmp_path))
    message = str(caught.value)
    assert "\n" not in message and "read-only" in message and word in message
    assert list(tmp_path.iterdir()) == []


def test_no_file_access_from_inside_a_select(built: WarehouseHome, tmp_path: Path):
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n", encoding="utf-8")
    for sql in (f"SELECT * FROM read_csv('{secret}')", f"SELECT * FROM glob('{tmp_path}/*')",
                f"SELECT * FROM read_parquet('{built.settings.warehouse}/form_counts/*/*/*.parquet')"):
        with pytest.raises(QueryError, match="(?i)permission|disabled"):
            run_query(built.settings, sql)


def test_one_statement_only(built: WarehouseHome):
    with pytest.raises(QueryError, match="exactly one SQL statement"):
        run_query(built.settings, "SELECT 1; SELECT 2")


def test_sql_errors_are_one_line(built: WarehouseHome):
    with pytest.raises(QueryError) as caught:
        run_query(built.settings, "SELECT nope FROM form_counts")
    assert "\n" not in str(caught.value) and "nope" in str(caught.value)
    with pytest.raises(QueryError, match="unknown format"):
        run_query(built.settings, "SELECT 1", "xml")


def test_queries_run_on_a_warehouse_never_built(tmp_path: Path):
    settings = Settings.from_env({"JIANFU_HOME": str(tmp_path / "empty")})
    Path(settings.warehouse).mkdir(parents=True)  # what `jianfu init` leaves
    assert run_query(settings, "SELECT count(*) AS n FROM form_counts", "csv") == "n\n0"
    assert run_query(settings, "SELECT count(*) AS n FROM flags", "csv") == "n\n0"


def test_a_warehouse_that_is_not_there_is_an_error_not_an_empty_answer(tmp_path: Path):
    settings = Settings.from_env({"JIANFU_HOME": str(tmp_path / "nowhere")})

    with pytest.raises(QueryError, match="does not exist"):
        run_query(settings, "SELECT count(*) AS n FROM flags", "csv")


def test_cli_query_exit_codes(built: WarehouseHome, monkeypatch: pytest.MonkeyPatch, capsys, tmp_path: Path):
    for key, value in built.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("JIANFU_WAREHOUSE", raising=False)
    assert main(["query", "SELECT count(*) AS n FROM units", "--format", "csv"]) == 0
    assert capsys.readouterr().out.strip() == "n\n14"
    assert main(["query", f"COPY (SELECT 1) TO '{tmp_path}/x.csv'"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "read-only" in err
    assert not (tmp_path / "x.csv").exists()


def test_table_rendering_aligns_chinese_and_cuts_long_results():
    out = render_table(["name", "n"], [("黄梅县", 1), ("abc", 10)])
    lines = out.splitlines()
    assert lines[2] == "黄梅县 |  1" and lines[3] == "abc    | 10"
    many = render_table(["n"], [(i,) for i in range(1500)])
    assert many.splitlines()[-1].startswith("(showing 1000 of 1500 rows")
