"""The pilot sample through the real commands: `jianfu query` answers on reduction and
form_catalog, both equal the plain-Python oracle over the warehouse's own submission tables (read
with pyarrow alone, no jianfu code), and the sample holds a case of every column."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import reduction_oracle as oracle  # noqa: E402
from conftest import NOW  # noqa: E402

JIANFU = str(Path(sys.executable).with_name("jianfu"))


@pytest.fixture(scope="module")
def pilot(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("pilot") / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIANFU_")}
    env.update(JIANFU_HOME=str(home), JIANFU_NOW=NOW.isoformat())
    for command in (["init"], ["sample", "--scale", "pilot"], ["ingest"], ["build"]):
        run = subprocess.run([JIANFU, *command], env=env, capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, (command, run.stdout[-2000:], run.stderr[-2000:])
    return env


def query(env: dict[str, str], sql: str) -> list[dict]:
    run = subprocess.run([JIANFU, "query", "--format", "json", sql], env=env, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout)


def tree(env: dict[str, str], table: str) -> list[dict]:
    """A submission table read from the Parquet tree by pyarrow alone."""
    root = Path(env["JIANFU_HOME"]) / "warehouse" / table
    key = "year" if table == "inspections" else "period"
    part = ds.partitioning(pa.schema([("county_code", pa.string()),
                                      (key, pa.int32() if key == "year" else pa.string())]), flavor="hive")
    return ds.dataset(str(root), format="parquet", partitioning=part).to_table().to_pylist()


def rules(env: dict[str, str]) -> dict:
    from jianfu.config import load_rules

    return load_rules(Path(env["JIANFU_HOME"]) / "reference")


def test_reduction_answers_and_equals_the_oracle(pilot):
    got = query(pilot, "SELECT * FROM reduction ORDER BY county_code, period")

    expected = oracle.reduction(tree(pilot, "form_counts"), tree(pilot, "work_groups"), tree(pilot, "inspections"),
                                rules(pilot)["zombie_days"])

    assert len(got) == len(expected) > 0
    for row, want in zip(got, expected, strict=True):
        assert row == pytest.approx(want), want


def test_form_catalog_answers_and_equals_the_oracle(pilot):
    got = query(pilot, "SELECT * FROM form_catalog ORDER BY dept_code, form_id")

    expected = oracle.catalog(tree(pilot, "form_counts"), rules(pilot)["form_similarity_min"])

    assert len(got) == len(expected) > 0
    for row, want in zip(got, expected, strict=True):
        oracle.assert_same_catalog_row(row, want)


def test_the_sample_plants_a_case_of_every_column(pilot):
    reduction = query(pilot, "SELECT * FROM reduction")
    catalog = query(pilot, "SELECT * FROM form_catalog")

    for column in ("forms_cancelled", "forms_added", "forms_less_frequent", "groups_dissolved", "groups_created",
                   "zombie_groups", "visits", "fills_yoy"):
        assert any(r[column] for r in reduction), f"no month with {column} > 0"
    for column in ("forms_prev", "forms_cancelled", "fills_yoy", "groups", "groups_prev", "visits"):
        assert any(r[column] is None for r in reduction), f"no month with {column} null"
    assert any(r["hours_per_response"] is None for r in catalog) and any(r["hours_per_response"] for r in catalog)
    assert any(not r["active"] for r in catalog) and any(r["active"] for r in catalog)
    assert any(r["overlap_group"] is None for r in catalog) and any(r["overlap_group"] for r in catalog)
    assert any(r["counties"] > 1 for r in catalog)
