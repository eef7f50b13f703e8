"""`jianfu build`: the warehouse tables, incrementality, and reading with no jianfu code.

The helpers at the top (`WarehouseHome`) arrange a real home: reference CSVs, a SQLite ledger with
rows in force, and staged Parquet files exactly as the ingest stage leaves them. The other warehouse
test modules import them from here.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from jianfu import ledger
from jianfu.config import Settings
from jianfu.schema import FLAG_RULES, KINDS
from jianfu.warehouse.build import build
from jianfu.warehouse.kinds import stage_partition_file
from jianfu.warehouse.publish import Warehouse
from jianfu.warehouse.views import PARTITIONS, connect, partitioning, register

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
CITY = "421100"


# ---------------------------------------------------------------------------------------- helpers
def county_units(county: str, townships: int = 2, villages: int = 2) -> list[tuple[str, str, str, str]]:
    """unit_code, unit_name, level, parent_code of a small county."""
    out = [(f"{county}000000", f"县{county}", "county", "")]
    for t in range(townships):
        town = f"{county}{100 + t:03d}000"
        out.append((town, f"镇{t}", "township", f"{county}000000"))
        for v in range(villages):
            out.append((f"{county}{100 + t:03d}{201 + v:03d}", f"村{t}-{v}", "village", town))
    return out


class WarehouseHome:
    """A JIANFU_HOME with reference data, a ledger and staged files, built by hand for tests."""

    def __init__(self, root: Path, counties: tuple[str, ...] = ("421127", "421182"), warehouse: str | None = None,
                 townships: int = 2, villages: int = 2):
        self.size = (townships, villages)
        env = {"JIANFU_HOME": str(root), "JIANFU_NOW": NOW.isoformat()}
        if warehouse:
            env["JIANFU_WAREHOUSE"] = warehouse
        self.env = env
        self.settings = Settings.from_env(env)
        self.counties = counties
        self.canonical_staging = False
        self.clock = datetime(2026, 10, 1, tzinfo=UTC)
        self.count = 0
        self.write_reference()
        self.settings.home.mkdir(parents=True, exist_ok=True)
        self.engine = ledger.connect(self.settings.db_url)
        ledger.create_schema(self.engine)

    # reference ------------------------------------------------------------------------------
    def write_reference(self, quota: int = 3) -> None:
        ref = self.settings.reference
        ref.mkdir(parents=True, exist_ok=True)
        with (ref / "units.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["unit_code", "unit_name", "level", "parent_code"])
            for county in self.counties:
                w.writerows(county_units(county, *self.size))
        with (ref / "departments.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["dept_code", "dept_name"])
            w.writerow([f"{CITY}-HEALTH", "市卫健委"])
            for county in self.counties:
                w.writerow([f"{county}-AGRI", f"{county}农业农村局"])
                w.writerow([f"{county}-EDU", f"{county}教育局"])
        (ref / "quotas.csv").write_text(f"dept_code,year,max_inspection_items\n{CITY}-HEALTH,2026,{quota}\n",
                                        encoding="utf-8")

    # submissions ----------------------------------------------------------------------------
    def rows(self, kind: str, county: str, period: str, seed: int = 0) -> list[dict]:
        units = [u for u in county_units(county, *self.size) if u[2] != "county"]
        if kind == "form_counts":
            return [{"county_code": county, "period": period, "unit_code": u[0], "form_id": f"F{f}",
                     "form_name": f"报表{f}", "dept_code": f"{county}-AGRI" if f % 2 else f"{county}-EDU",
                     "frequency": "monthly", "fill_count": 1 + (seed + f) % 3, "field_count": 10 + f,
                     "hours_spent": 1.5, "channel": "system", "data_items": "人口;耕地面积"}
                    for u in units for f in range(4)]
        if kind == "work_groups":
            year, month = map(int, period.split("-"))
            return [{"county_code": county, "period": period, "unit_code": u[0], "group_id": f"G{g}",
                     "group_name": f"工作群{g}", "platform": "wechat", "owner_dept_code": f"{county}-AGRI",
                     "purpose": "permanent", "created_date": date(2025, 1, 1),
                     "last_active_date": date(year, month, 1) - timedelta(days=100 * g + seed),
                     "member_count": 20, "messages_30d": 5, "task_end_date": None}
                    for u in units for g in range(2)]
        year = int(period)
        return [{"county_code": county, "year": year, "item_id": f"I{i}", "dept_code": f"{CITY}-HEALTH",
                 "category": "inspection", "topic": f"检查{i}", "target_unit_code": u[0],
                 "planned_date": date(year, 3 + i, 10), "actual_date": date(year, 3 + i, 12 + seed % 5) if i % 2 else None,
                 "status": "done" if i % 2 else "planned", "in_plan": True, "joint_depts": None, "approval_ref": None}
                for u in units[:3] for i in range(3 + seed % 2)]

    def submit(self, kind: str, county: str, period: str, seed: int = 0, rows: list[dict] | None = None) -> str:
        """Put a new version in force, as ingest would: staged Parquet, then the ledger."""
        self.count += 1
        self.clock += timedelta(minutes=1)
        table = pa.Table.from_pylist(rows if rows is not None else self.rows(kind, county, period, seed),
                                     schema=KINDS[kind].arrow_schema)
        sha = hashlib.sha256(f"{kind}{county}{period}{seed}{self.count}".encode()).hexdigest()
        sid = sha[:16]
        staged = self.settings.staging / kind / f"{sid}.parquet"
        staged.parent.mkdir(parents=True, exist_ok=True)
        if self.canonical_staging:  # as ingest staged before files took their partition's shape
            pq.write_table(table, staged)
        else:
            stage_partition_file(kind, table, sid, county, period, str(staged))
        with self.engine.begin() as conn:
            with ledger.versions_lock(conn):
                ledger.insert(conn, submission_id=sid, kind=kind, county_code=county, period=period,
                              file_name=f"{kind}_{county}_{period}.csv", source_path=f"/landing/{sid}",
                              sha256=sha, size_bytes=100, archive_path=f"/raw/{sha}", received_at=self.clock,
                              status=ledger.RECEIVED, row_count=table.num_rows, error_count=0,
                              warning_count=0, staged_path=str(staged))
                ledger.accept(conn, sid, ledger.ACCEPTED)
        return sid

    def reject(self, kind: str, county: str, period: str) -> str:
        self.count += 1
        self.clock += timedelta(minutes=1)
        sid = hashlib.sha256(f"rej{self.count}".encode()).hexdigest()[:16]
        with self.engine.begin() as conn:
            ledger.insert(conn, submission_id=sid, kind=kind, county_code=county, period=period,
                          file_name="bad.csv", source_path=f"/landing/{sid}", sha256=sid * 4, size_bytes=1,
                          archive_path="/raw/x", received_at=self.clock, status=ledger.REJECTED,
                          error_count=3, warning_count=0)
        return sid

    def populate(self, months: tuple[str, ...] = ("2026-08", "2026-09")) -> None:
        for county in self.counties:
            for month in months:
                self.submit("form_counts", county, month)
                self.submit("work_groups", county, month)
            self.submit("inspections", county, "2026")

    def build(self, **kwargs):
        return build(self.settings, **kwargs)

    @property
    def warehouse(self) -> Warehouse:
        return Warehouse(self.settings.warehouse)


def file_state(root: str | Path) -> dict[str, tuple[int, int]]:
    """Every visible Parquet file of the warehouse (through the table links) -> (inode, mtime_ns)."""
    out = {}
    root = Path(root)
    for table in sorted(p for p in root.iterdir() if not p.name.startswith((".", "_"))):
        for path in sorted(table.rglob("*.parquet")):
            st = path.stat()
            out[str(path.relative_to(root))] = (st.st_ino, st.st_mtime_ns)
    return out


def table_contents(root: str, table: str) -> list[tuple]:
    """A table's rows, sorted, read through the jianfu views (for comparing whole states)."""
    con = connect(root)
    try:
        return sorted(con.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
    finally:
        con.close()


ALL_TABLES = ("form_counts", "work_groups", "inspections", "units", "departments", "submissions",
              "flags", "burden", "quota_usage", "reduction", "form_catalog")


def snapshot(root: str) -> dict[str, list[tuple]]:
    return {t: table_contents(root, t) for t in ALL_TABLES}


@pytest.fixture
def home(tmp_path: Path) -> WarehouseHome:
    h = WarehouseHome(tmp_path / "home")
    h.populate()
    return h


# ---------------------------------------------------------------------------------------- tests
def test_build_writes_every_table_with_spec_columns(home: WarehouseHome):
    result = home.build()
    root = home.settings.warehouse
    assert result.tables["form_counts"].written == 4  # 2 counties x 2 months
    assert result.tables["inspections"].written == 2
    files = home.warehouse.files("form_counts")
    assert sorted(files) == [f"county_code={c}/period={m}" for c in home.counties for m in ("2026-08", "2026-09")]
    assert home.warehouse.files("inspections").keys() == {"county_code=421127/year=2026", "county_code=421182/year=2026"}
    con = connect(root)
    cols = lambda t: [r[0] for r in con.execute(f"DESCRIBE {t}").fetchall()]  # noqa: E731
    assert cols("form_counts") == KINDS["form_counts"].column_names + ["submission_id"]
    assert cols("inspections") == KINDS["inspections"].column_names + ["submission_id", "eff_date"]
    assert cols("units") == ["unit_code", "unit_name", "level", "parent_code", "county_code", "township_code"]
    assert cols("departments") == ["dept_code", "dept_name", "gov_code"]
    assert cols("submissions") == ["submission_id", "kind", "county_code", "period", "file_name", "sha256",
                                   "received_at", "status", "version", "row_count", "error_count", "warning_count"]
    assert set(cols("flags")) >= {"flag_id", "rule", "severity", "county_code", "period", "subject"}
    assert cols("quota_usage") == ["dept_code", "year", "quota", "used", "ratio", "status"]
    types = dict((r[0], r[1]) for r in con.execute("DESCRIBE inspections").fetchall())
    assert types["county_code"] == "VARCHAR" and types["year"] == "INTEGER" and types["eff_date"] == "DATE"
    # eff_date: actual_date when done, else planned_date
    bad = con.execute("""SELECT count(*) FROM inspections WHERE eff_date IS DISTINCT FROM
                         CASE WHEN status = 'done' THEN actual_date ELSE planned_date END""").fetchone()[0]
    assert bad == 0
    # submission_id is the version in force, and only versions in force are there
    in_force = con.execute("SELECT count(DISTINCT submission_id) FROM form_counts").fetchone()[0]
    assert in_force == 4
    assert con.execute("SELECT township_code FROM units WHERE unit_code = '421127100201'").fetchone() == ("421127100000",)
    assert con.execute("SELECT gov_code FROM departments WHERE dept_code = '421100-HEALTH'").fetchone() == ("421100",)
    assert con.execute("SELECT count(*) FROM burden").fetchone()[0] > 0
    assert con.execute("SELECT used FROM quota_usage WHERE dept_code = '421100-HEALTH'").fetchone() == (3,)
    # one file per province (both pilot counties are in 42 湖北省), the quota flags apart
    assert home.warehouse.files("flags")[""] == ["42.parquet", "quota.parquet"]
    for table in ("burden", "reduction", "form_usage", "form_catalog"):
        assert home.warehouse.files(table)[""] == ["42.parquet"], table


def test_only_versions_in_force_and_rejections_change_nothing(home: WarehouseHome):
    home.build()
    new = home.submit("form_counts", "421127", "2026-09", seed=5)
    home.reject("form_counts", "421127", "2026-08")
    home.build()
    con = connect(home.settings.warehouse)
    ids = con.execute("""SELECT DISTINCT submission_id FROM form_counts
                         WHERE county_code = '421127' AND period = '2026-09'""").fetchall()
    assert ids == [(new,)]
    statuses = dict(con.execute("SELECT status, count(*) FROM submissions GROUP BY ALL").fetchall())
    assert statuses == {"accepted": 10, "superseded": 1, "rejected": 1}


def test_a_rejection_alone_rewrites_only_the_submissions_table(home: WarehouseHome):
    """The ledger changed but no version in force did: the submissions table (stamped with a hash
    of the ledger's rows) is the one file written, and the build after it writes nothing."""
    home.build()
    home.reject("form_counts", "421127", "2026-08")
    result = home.build()
    assert {name for name, stats in result.tables.items() if stats.written or stats.removed} == {"submissions"}
    con = connect(home.settings.warehouse)
    assert con.execute("SELECT count(*) FROM submissions WHERE status = 'rejected'").fetchall() == [(1,)]
    assert home.build().written == 0


def test_second_build_without_change_writes_nothing(home: WarehouseHome):
    home.build()
    before = file_state(home.settings.warehouse)
    links = {t: os.readlink(Path(home.settings.warehouse) / t) for t in ALL_TABLES}
    result = home.build()
    assert result.written == 0 and result.removed == 0, result.describe()
    assert "up to date" in result.describe()
    assert file_state(home.settings.warehouse) == before
    assert {t: os.readlink(Path(home.settings.warehouse) / t) for t in ALL_TABLES} == links


def province_tables(home: WarehouseHome) -> dict[str, pa.Table]:
    """The derived per-county tables' province file 42 as pyarrow reads it (metadata included)."""
    return {t: pq.read_table(Path(home.settings.warehouse) / t / "42.parquet")
            for t in ("flags", "burden", "reduction", "form_usage")}


def county_rows(tables: dict[str, pa.Table], county: str) -> dict[str, tuple[list, str]]:
    """One county's rows of each table, in file order, and the fingerprint stamped for it."""
    return {t: (table.filter(pc.equal(table.column("county_code"), county)).to_pylist(),
                json.loads(table.schema.metadata[b"jianfu.inputs"])[county]) for t, table in tables.items()}


def test_one_county_resubmission_rewrites_only_that_county(home: WarehouseHome):
    home.build()
    before = file_state(home.settings.warehouse)
    before_tables = province_tables(home)
    home.submit("form_counts", "421182", "2026-09", seed=2)
    result = home.build()
    after = file_state(home.settings.warehouse)
    changed = {p for p in set(before) | set(after) if before.get(p) != after.get(p)}
    kind_changes = {p for p in changed if p.startswith(("form_counts", "work_groups", "inspections"))}
    assert {p.rsplit("/", 1)[0] for p in kind_changes} == {"form_counts/county_code=421182/period=2026-09"}
    assert result.changed_counties == ["421182"]
    assert result.recomputed_counties == ["421182"]
    # The other county's submission partitions are untouched; its derived rows, in the province
    # file the two share, are carried over as they were, with the fingerprint they were made from.
    assert all("421127" not in p for p in changed), changed
    for table in ("flags", "burden", "reduction", "form_usage"):
        assert f"{table}/42.parquet" in changed
    assert county_rows(before_tables, "421127") == county_rows(province_tables(home), "421127")
    assert "submissions/part-0.parquet" in changed
    assert "units/part-0.parquet" not in changed and "departments/part-0.parquet" not in changed
    # Nothing about inspections changed, so neither did the quota tables.
    assert "quota_usage/part-0.parquet" not in changed and "flags/quota.parquet" not in changed


def test_incremental_build_equals_clean_build(home: WarehouseHome, tmp_path: Path):
    home.build()
    home.submit("form_counts", "421182", "2026-09", seed=2)
    home.submit("inspections", "421127", "2026", seed=1)
    home.submit("work_groups", "421127", "2026-10", seed=1)
    home.build()
    incremental = snapshot(home.settings.warehouse)
    clean = tmp_path / "clean"
    full = build(Settings.from_env({**home.env, "JIANFU_WAREHOUSE": str(clean)}), full=True)
    assert full.written > 0
    assert snapshot(str(clean)) == incremental
    # and file for file: same rows in the same order, same fingerprints (so neither is rewritten)
    for table in ("flags", "burden", "reduction", "form_usage", "form_catalog"):
        for name in home.warehouse.files(table)[""]:
            mine, theirs = (pq.read_table(Path(root) / table / name) for root in (home.settings.warehouse, clean))
            assert mine.equals(theirs) and mine.schema.metadata == theirs.schema.metadata, (table, name)


def _flag_rows(root: str | Path, county: str, kind: str) -> list[dict]:
    """A county's flags of the rules reading `kind`, in file order, from province file 42."""
    flags = pq.read_table(Path(root) / "flags" / "42.parquet").to_pylist()
    return [r for r in flags if r["county_code"] == county and FLAG_RULES[r["rule"]].reads == kind]


def test_a_county_resending_one_kind_runs_only_the_rules_that_read_it(home: WarehouseHome, tmp_path: Path):
    """SPEC 7: a build's cost follows what changed. A county that resends its work groups gets its
    group flags, burden and reduction again; its form and inspection flags are carried as stored
    (a stored form flag marked by hand survives), and its form usage and the form catalog are not
    touched. Resending its form counts then runs the form rules, and the marked flag is gone."""
    home.build()
    root = Path(home.settings.warehouse)
    stored = pq.read_table(root / "flags" / "42.parquet")
    kinds = {FLAG_RULES[r].reads for r in stored.column("rule").to_pylist()}
    assert {"form_counts", "work_groups"} <= kinds  # the fixture's data raise both kinds of flags
    marked = [r | {"detail": "marked by hand"} if r["county_code"] == "421182" and FLAG_RULES[r["rule"]].reads
              == "form_counts" else r for r in stored.to_pylist()]
    path = os.path.realpath(root / "flags") + "/42.parquet"
    pq.write_table(pa.Table.from_pylist(marked, schema=stored.schema), path + ".tmp")
    os.replace(path + ".tmp", path)
    usage_before = file_state(root)["form_usage/42.parquet"]
    groups_before = _flag_rows(root, "421182", "work_groups")

    home.submit("work_groups", "421182", "2026-09", seed=7)
    said: list[str] = []
    home.build(progress=said.append)

    clean = tmp_path / "clean"
    build(Settings.from_env({**home.env, "JIANFU_WAREHOUSE": str(clean)}), full=True)
    assert {r["detail"] for r in _flag_rows(root, "421182", "form_counts")} == {"marked by hand"}
    assert _flag_rows(root, "421182", "work_groups") == _flag_rows(clean, "421182", "work_groups") != groups_before
    assert _flag_rows(root, "421182", "inspections") == _flag_rows(clean, "421182", "inspections")
    assert _flag_rows(root, "421127", "form_counts") == _flag_rows(clean, "421127", "form_counts")
    for table in ("burden", "reduction"):
        assert pq.read_table(root / table / "42.parquet").equals(pq.read_table(clean / table / "42.parquet")), table
    assert file_state(root)["form_usage/42.parquet"] == usage_before
    assert not [m for m in said if m.startswith("form catalog")], said

    home.submit("form_counts", "421182", "2026-09", seed=2)
    home.build()

    build(Settings.from_env({**home.env, "JIANFU_WAREHOUSE": str(clean)}), full=True)
    mine, theirs = (pq.read_table(Path(r) / "flags" / "42.parquet") for r in (root, clean))
    assert mine.equals(theirs) and mine.schema.metadata == theirs.schema.metadata


def test_a_table_is_walked_only_when_its_versions_in_force_changed(home: WarehouseHome):
    """Each snapshot records the files it was published with: a build whose versions in force are
    those leaves the table's directories unwalked. A file put into a partition by hand shows to
    readers at once and is set right by the next build that changes that table."""
    home.build()
    root = Path(home.settings.warehouse)
    partition = "county_code=421127/period=2026-09"
    live = Path(os.path.realpath(root / "work_groups")) / partition
    (version,) = os.listdir(live)
    os.link(live / version, live / "by-hand.parquet")

    home.submit("form_counts", "421182", "2026-09", seed=2)
    result = home.build()

    assert result.tables["form_counts"].written == 1 and result.tables["work_groups"].written == 0
    assert home.warehouse.files("work_groups")[partition] == sorted(["by-hand.parquet", version])

    home.submit("work_groups", "421182", "2026-09", seed=3)
    home.build()

    assert home.warehouse.files("work_groups")[partition] == [version]


def test_rules_change_recomputes_every_county(home: WarehouseHome):
    home.build()
    (home.settings.reference / "rules.yaml").write_text("zombie_days: 30\n", encoding="utf-8")
    result = home.build()
    assert result.recomputed_counties == ["421127", "421182"]
    assert result.tables["form_counts"].written == 0
    again = home.build()
    assert again.written == 0


def test_reference_change_rewrites_units_only_when_content_changes(home: WarehouseHome):
    home.build()
    before = file_state(home.settings.warehouse)
    # Same content, rewritten file: nothing changes.
    units = home.settings.reference / "units.csv"
    units.write_bytes(units.read_bytes())
    assert home.build().written == 0
    with units.open("a", encoding="utf-8") as fh:
        fh.write("421127100209,新村,village,421127100000\n")
    result = home.build()
    assert result.tables["units"].written == 1
    assert result.tables["departments"].written == 0
    assert file_state(home.settings.warehouse)["departments/part-0.parquet"] == before["departments/part-0.parquet"]


def test_full_build_rewrites_everything(home: WarehouseHome):
    home.build()
    before = file_state(home.settings.warehouse)
    home.build(full=True)
    after = file_state(home.settings.warehouse)
    assert before.keys() == after.keys()
    # Partition files are the staged files themselves (linked): a full build links them again;
    # every other file is written anew.
    staged = {p.stat().st_ino for p in home.settings.staging.rglob("*.parquet")}
    partitions = {p for p in before if p.startswith(tuple(PARTITIONS))}
    assert partitions and all(after[p][0] in staged for p in partitions)
    assert all(before[p] != after[p] for p in before if p not in partitions)


def test_partition_without_version_in_force_is_removed(home: WarehouseHome):
    home.build()
    with home.engine.begin() as conn:
        row = ledger.in_force_row(conn, "work_groups", "421127", "2026-08")
        ledger.set_fields(conn, row["submission_id"], status=ledger.SUPERSEDED)
    result = home.build()
    assert result.tables["work_groups"].removed == 1
    assert "county_code=421127/period=2026-08" not in home.warehouse.files("work_groups")


def test_empty_ledger_builds_empty_queryable_tables(tmp_path: Path):
    h = WarehouseHome(tmp_path / "home")
    h.build()
    con = connect(h.settings.warehouse)
    for table in ("form_counts", "work_groups", "inspections", "submissions"):
        assert con.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM units").fetchone()[0] == 14


def test_missing_staged_file_fails_with_a_clear_reason(home: WarehouseHome):
    sid = home.submit("form_counts", "421127", "2026-10")
    (home.settings.staging / "form_counts" / f"{sid}.parquet").unlink()
    from jianfu.warehouse.build import BuildError

    with pytest.raises(BuildError, match=f"staged file of submission {sid}"):
        home.build()


def test_a_staged_file_of_another_county_is_refused(home: WarehouseHome):
    """The build checks that a staged file holds its ledger entry's county and period (a file staged
    in its kind's canonical columns; one in its partition's shape cannot be staged so at all)."""
    with pytest.raises(ValueError, match="cannot be staged as 421127"):
        home.submit("form_counts", "421127", "2026-10", rows=home.rows("form_counts", "421182", "2026-10"))
    home.canonical_staging = True
    home.submit("form_counts", "421127", "2026-10", rows=home.rows("form_counts", "421182", "2026-10"))
    from jianfu.warehouse.build import BuildError

    with pytest.raises(BuildError, match="holds rows of another county_code than its ledger entry"):
        home.build()


def test_readable_by_pyarrow_duckdb_and_pandas_without_jianfu(home: WarehouseHome):
    home.build()
    root = home.settings.warehouse
    expected = {t: table_contents(root, t) for t in PARTITIONS}
    for table, parts in PARTITIONS.items():
        path = f"{root}/{table}"
        n = len(expected[table])
        # pyarrow.dataset, plain hive discovery: county codes come back as integers by inference,
        # with the same values; with the partition types given, exactly as strings.
        plain = ds.dataset(path, partitioning="hive").to_table()
        assert plain.num_rows == n
        assert set(plain.column_names) == set(KINDS[table].column_names) | {"submission_id"} | (
            {"eff_date"} if table == "inspections" else set())
        typed = ds.dataset(path, partitioning=partitioning(table)).to_table()
        assert typed.schema.field("county_code").type == pa.string()
        assert sorted(typed.column("county_code").to_pylist()) == sorted(str(c) for c in plain.column("county_code").to_pylist())
        # DuckDB, hive_partitioning
        glob = "/".join([path] + ["*"] * len(parts) + ["*.parquet"])
        assert duckdb.sql(f"SELECT count(*) FROM read_parquet('{glob}', hive_partitioning = true)").fetchall()[0][0] == n
        # pandas on the table directory
        frame = pd.read_parquet(path)
        assert len(frame) == n and "county_code" in frame.columns
    for table in ("units", "departments", "submissions", "flags", "burden", "quota_usage"):
        frame = pd.read_parquet(f"{root}/{table}")
        assert len(frame) == len(table_contents(root, table))


def test_snapshots_do_not_show_to_readers(home: WarehouseHome):
    home.build()
    home.submit("form_counts", "421127", "2026-09", seed=3)
    home.build()
    root = Path(home.settings.warehouse)
    # The previous snapshot of form_counts is kept (a reader may still be on it), hidden.
    assert len(list((root / ".snapshots" / "form_counts").iterdir())) == 2
    assert ds.dataset(str(root / "form_counts"), partitioning="hive").count_rows() == len(
        table_contents(str(root), "form_counts"))
    assert ds.dataset(str(root), partitioning=None, exclude_invalid_files=True).files  # no crash on root


# ------------------------------------------------------------------- docs/WAREHOUSE.md queries
DOC = Path(__file__).resolve().parent.parent / "docs" / "WAREHOUSE.md"


def doc_queries() -> list[str]:
    import re

    return re.findall(r"```sql\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_doc_has_at_least_five_example_queries():
    assert len(doc_queries()) >= 5


@pytest.mark.parametrize("index", range(len(doc_queries())))
def test_doc_queries_run_through_jianfu_query(home: WarehouseHome, index: int):
    from jianfu.warehouse.query import run_query

    home.build()
    out = run_query(home.settings, doc_queries()[index], "json")
    import json

    rows = json.loads(out)
    assert rows, f"example query {index + 1} found nothing in the test warehouse"


def test_doc_documents_every_column(home: WarehouseHome):
    """Every column of every view appears in docs/WAREHOUSE.md."""
    home.build()
    text = DOC.read_text(encoding="utf-8")
    con = connect(home.settings.warehouse)
    for table in ALL_TABLES:
        assert f"### {table}" in text, table
        for (column,) in con.execute(f"SELECT column_name FROM (DESCRIBE {table})").fetchall():
            assert column in text, f"{table}.{column} is not documented"


@pytest.mark.slow
def test_doc_queries_on_the_pilot_sample(tmp_path: Path):
    """The same queries against the pilot sample, ingested by the real pipeline."""
    from jianfu.ingest.pipeline import ingest
    from jianfu.sample import generate
    from jianfu.warehouse.query import run_query

    home = tmp_path / "home"
    settings = Settings.from_env({"JIANFU_HOME": str(home), "JIANFU_NOW": NOW.isoformat()})
    generate(home, seed=7, scale="pilot", now=NOW)
    ledger.create_schema(ledger.connect(settings.db_url))
    ingest(settings)
    result = build(settings)
    assert result.tables["form_counts"].written > 0
    for sql in doc_queries():
        run_query(settings, sql, "csv")
    assert build(settings).written == 0


def test_a_pathological_form_counts_file_builds_with_the_duplicate_cap_and_says_what_was_cut(tmp_path: Path):
    """2,000 forms of two departments all listing the same items, all filled by one township:
    a million similar pairs. The build compares only forms that share items, keeps the
    form_duplicate_max_pairs (5,000) most similar, and says how many it cut."""
    home = WarehouseHome(tmp_path / "home", counties=("421127",))
    town = "421127100000"
    rows = [{"county_code": "421127", "period": "2026-09", "unit_code": town, "form_id": f"F{n:04d}",
             "form_name": f"报表{n}", "dept_code": "421127-AGRI" if n % 2 else "421127-EDU", "frequency": "adhoc",
             "fill_count": 1, "field_count": 3, "hours_spent": None, "channel": None, "data_items": "人口;耕地;收入"}
            for n in range(2000)]
    home.submit("form_counts", "421127", "2026-09", rows=rows)

    result = home.build()

    con = connect(home.settings.warehouse)
    (flagged,) = con.execute("SELECT count(*) FROM flags WHERE rule = 'FORM_DUPLICATE_ACROSS_DEPTS'").fetchone()
    assert flagged == 5000
    assert result.pairs_cut == {("421127", "2026-09"): 1000 * 1000 - 5000}
    assert "995000 similar pair(s) over form_duplicate_max_pairs not flagged" in result.describe()
    (groups,) = con.execute("SELECT count(DISTINCT overlap_group) FROM form_catalog").fetchone()
    assert groups == 1  # every form linked to every form of the other department: one overlap group


# ------------------------------------------------------------------- views read the snapshot's files
def _sneak_in(table_dir: str, source: str, target: str) -> None:
    """Copy a file into a live snapshot behind the Warehouse's back (no publish)."""
    os.makedirs(os.path.dirname(f"{table_dir}/{target}"), exist_ok=True)
    pq.write_table(pq.read_table(f"{table_dir}/{source}"), f"{table_dir}/{target}")


@pytest.mark.parametrize("arrow", [False, True])
def test_views_read_exactly_the_published_files_and_filter_counties_right(home: WarehouseHome, arrow: bool):
    home.build()
    wh = home.warehouse
    con = duckdb.connect()
    register(con, wh, arrow=arrow)
    # County filters give each county's own rows: a submission table by its Hive partitions, a
    # derived table (burden, flags) by its rows' county, flags' quota file by its NULL county.
    for county in home.counties:
        fc = ds.dataset(f"{wh.resolved_path('form_counts')}/county_code={county}").count_rows()
        assert con.execute("SELECT count(*) FROM form_counts WHERE county_code = ?", [county]).fetchall()[0][0] == fc
    for table in ("burden", "flags"):
        stored = pq.read_table(wh.resolved_path(table)).select(["county_code"]).to_pylist()
        for county in (*home.counties, None):
            expected = sum(1 for r in stored if r["county_code"] == county)
            found = con.execute(f"SELECT count(*) FROM {table} WHERE county_code IS NOT DISTINCT FROM ?",
                                [county]).fetchall()[0][0]
            assert found == expected
        assert sorted(con.execute(f"SELECT county_code, count(*) FROM {table} GROUP BY 1").fetchall(), key=repr) == \
            sorted(con.execute(f"SELECT county_code, count(*) FROM read_parquet('{wh.resolved_path(table)}/*.parquet') "
                               "GROUP BY 1").fetchall(), key=repr)
    before = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in ("form_counts", "burden")}

    # Files put into the live snapshots after the views were made: a glob would read them, the views do not.
    fc_dir, burden_dir = wh.resolved_path("form_counts"), wh.resolved_path("burden")
    _sneak_in(fc_dir, "county_code=421127/period=2026-09/" + wh.files("form_counts")["county_code=421127/period=2026-09"][0],
              "county_code=421999/period=2026-09/part-0.parquet")
    _sneak_in(burden_dir, "42.parquet", "99.parquet")
    assert duckdb.sql(f"SELECT count(*) FROM read_parquet('{fc_dir}/*/*/*.parquet', hive_partitioning = true) "
                      "WHERE county_code = 421999").fetchall()[0][0] > 0
    assert con.execute("SELECT count(*) FROM form_counts WHERE county_code = '421999'").fetchall()[0][0] == 0
    assert con.execute("SELECT count(*) FROM burden WHERE county_code = '421999'").fetchall()[0][0] == 0
    assert {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in before} == before

    # A publish makes a new snapshot from the live one's files (the one put in behind its back
    # included); re-registering reads that snapshot, whole.
    sneaked = con.execute("SELECT count(*) FROM form_counts WHERE county_code = '421127' AND period = '2026-09'"
                          ).fetchall()[0][0]
    rows = home.rows("form_counts", "421182", "2026-10")
    new = pa.Table.from_pylist(rows, schema=KINDS["form_counts"].arrow_schema).drop_columns(["county_code", "period"])
    new = new.append_column("submission_id", pa.array(["x"] * new.num_rows, pa.string()))
    wh.publish("form_counts", {"county_code=421182/period=2026-10": {"part-0.parquet": new}})
    register(con, wh, arrow=arrow)
    assert con.execute("SELECT count(*) FROM form_counts WHERE county_code = '421182' AND period = '2026-10'"
                       ).fetchall()[0][0] == len(rows)
    assert con.execute("SELECT count(*) FROM form_counts WHERE county_code = '421999'").fetchall()[0][0] == sneaked
    assert con.execute("SELECT count(*) FROM form_counts").fetchall()[0][0] == before["form_counts"] + len(rows) + sneaked
    con.close()


def test_a_staged_partition_file_is_linked_and_an_older_canonical_one_rewritten(home: WarehouseHome):
    """ingest stages a file in its partition's shape, marked with the partition: the build links
    it (same inode, no bytes rewritten). A file staged before that, with its kind's canonical
    columns, is still read and given the partition's shape. Both read back the same."""
    home.build()
    linked_sid = home.submit("form_counts", "421127", "2026-09", seed=3)
    home.canonical_staging = True
    rewritten_sid = home.submit("form_counts", "421182", "2026-09", seed=3)

    home.build()

    wh = home.warehouse
    linked = Path(wh.file_path("form_counts", "county_code=421127/period=2026-09", f"{linked_sid}.parquet"))
    rewritten = Path(wh.file_path("form_counts", "county_code=421182/period=2026-09", f"{rewritten_sid}.parquet"))
    staged = home.settings.staging / "form_counts"
    assert linked.stat().st_ino == (staged / f"{linked_sid}.parquet").stat().st_ino
    assert rewritten.stat().st_ino != (staged / f"{rewritten_sid}.parquet").stat().st_ino
    assert pq.read_table(linked).schema.remove_metadata() == pq.read_table(rewritten).schema.remove_metadata()
    con = connect(home.settings.warehouse)
    for county, sid in (("421127", linked_sid), ("421182", rewritten_sid)):
        got = con.execute("SELECT unit_code, fill_count, submission_id FROM form_counts WHERE county_code = ? "
                          "AND period = '2026-09' ORDER BY unit_code, form_id", [county]).fetchall()
        rows = sorted(home.rows("form_counts", county, "2026-09", seed=3), key=lambda r: (r["unit_code"], r["form_id"]))
        assert got == [(r["unit_code"], r["fill_count"], sid) for r in rows]


def test_counties_are_computed_a_province_at_a_time_into_one_file_per_province(tmp_path: Path):
    """The derived tables are computed on one connection per province (what bounds a national
    build's memory) and stored one file per province; a second province's county changing leaves
    the first province's files as they were."""
    home = WarehouseHome(tmp_path / "home", counties=("421127", "421182", "140404"))
    home.populate()
    said: list[str] = []

    home.build(progress=said.append)

    steps = [m for m in said if m.startswith("flags, burden, reduction, form usage")]
    assert steps == ["flags, burden, reduction, form usage: 1 county of province 14 (1 of 2)",
                     "flags, burden, reduction, form usage: 2 counties of province 42 (2 of 2)"]
    assert home.warehouse.files("flags")[""] == ["14.parquet", "42.parquet", "quota.parquet"]
    burden = pq.read_table(Path(home.settings.warehouse) / "burden" / "14.parquet")
    assert set(burden.column("county_code").to_pylist()) == {"140404"}
    before = file_state(home.settings.warehouse)

    home.submit("form_counts", "140404", "2026-09", seed=4)
    said.clear()
    home.build(progress=said.append)

    changed = {p for p in set(before) | set(file_state(home.settings.warehouse)) if before.get(p) !=
               file_state(home.settings.warehouse).get(p)}
    assert [m for m in said if m.startswith("flags, burden")] == [
        "flags, burden, reduction, form usage: 1 county of province 14 (1 of 1)"]
    assert not {p for p in changed if p.endswith("/42.parquet")}, changed


def test_a_derived_file_lost_alone_is_made_again_without_doubling_rows(home: WarehouseHome, tmp_path: Path):
    """Counties stale in one table only (their province's burden file deleted by hand) while
    another county resubmits: the step computes every table for the whole province, and the rows
    computed along for the fresh county replace its stored rows rather than doubling them."""
    home.build()
    root = Path(home.settings.warehouse)
    os.unlink(os.path.realpath(root / "burden") + "/42.parquet")
    home.submit("form_counts", "421182", "2026-09", seed=2)

    result = home.build()

    assert result.tables["burden"].written == 1
    clean = tmp_path / "clean"
    build(Settings.from_env({**home.env, "JIANFU_WAREHOUSE": str(clean)}), full=True)
    for table in ("flags", "burden", "reduction", "form_usage"):
        assert pq.read_table(root / table / "42.parquet").equals(pq.read_table(clean / table / "42.parquet")), table
    con = connect(home.settings.warehouse)
    for table in ("flags", "burden", "reduction", "form_usage"):
        assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == \
            con.execute(f"SELECT count(*) FROM (SELECT DISTINCT * FROM {table})").fetchone()[0], table
