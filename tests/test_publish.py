"""The publish layer: atomic table snapshots, hard-linked unchanged files, crash leftovers, and
the per-file fallback for object stores."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import duckdb
import fsspec
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
from jianfu.config import Settings  # noqa: E402
from jianfu.warehouse import views  # noqa: E402
from jianfu.warehouse.build import build  # noqa: E402
from jianfu.warehouse.publish import SNAPSHOTS, Warehouse  # noqa: E402
from test_warehouse import WarehouseHome, snapshot  # noqa: E402


def t(*values: int) -> pa.Table:
    return pa.table({"v": pa.array(values, pa.int64())})


def rows(wh: Warehouse, table: str) -> list[int]:
    dataset = ds.dataset(wh.table_path(table), filesystem=wh.fs, partitioning="hive")
    return sorted(dataset.to_table().column("v").to_pylist())


def inode(path: Path) -> int:
    return path.stat().st_ino


def test_publish_swaps_a_link_to_a_hidden_snapshot(tmp_path: Path):
    wh = Warehouse(str(tmp_path / "wh"))
    result = wh.publish("t", {"k=1": {"a.parquet": t(1)}, "k=2": {"a.parquet": t(2)}})
    link = tmp_path / "wh" / "t"
    assert link.is_symlink() and os.readlink(link).startswith(f"{SNAPSHOTS}/t/")
    assert result.written == ["k=1/a.parquet", "k=2/a.parquet"]
    assert rows(wh, "t") == [1, 2]
    assert wh.files("t") == {"k=1": ["a.parquet"], "k=2": ["a.parquet"]}


def test_unchanged_partitions_are_hard_linked_not_rewritten(tmp_path: Path):
    wh = Warehouse(str(tmp_path / "wh"))
    wh.publish("t", {"k=1": {"a.parquet": t(1)}, "k=2": {"a.parquet": t(2)}})
    kept = tmp_path / "wh" / "t" / "k=1" / "a.parquet"
    before = (inode(kept), kept.stat().st_mtime_ns)
    result = wh.publish("t", {"k=2": {"b.parquet": t(20)}})
    assert result.linked == 1 and result.written == ["k=2/b.parquet"]
    assert (inode(kept), kept.stat().st_mtime_ns) == before
    assert wh.files("t") == {"k=1": ["a.parquet"], "k=2": ["b.parquet"]}
    assert rows(wh, "t") == [1, 20]


def test_nothing_to_change_writes_nothing(tmp_path: Path):
    wh = Warehouse(str(tmp_path / "wh"))
    wh.publish("t", {"k=1": {"a.parquet": t(1)}})
    target = os.readlink(tmp_path / "wh" / "t")
    result = wh.publish("t", {"k=9": None})  # removing a partition that is not there
    assert not result.changed and result.snapshot is None
    assert os.readlink(tmp_path / "wh" / "t") == target


def test_only_removes_partitions_not_named(tmp_path: Path):
    wh = Warehouse(str(tmp_path / "wh"))
    wh.publish("t", {"k=1": {"a.parquet": t(1)}, "k=2": {"a.parquet": t(2)}, "k=3": {"a.parquet": t(3)}})
    result = wh.publish("t", {"k=2": {"a.parquet": t(22)}}, only={"k=1"})
    assert result.removed == ["k=3"]
    assert rows(wh, "t") == [1, 22]


def test_publish_table_and_merge_of_single_files(tmp_path: Path):
    wh = Warehouse(str(tmp_path / "wh"))
    wh.publish("flags", {"": {"a.parquet": t(1), "b.parquet": t(2), "c.parquet": t(3)}})
    kept = tmp_path / "wh" / "flags" / "a.parquet"
    ino = inode(kept)
    result = wh.publish("flags", {"": {"b.parquet": t(20), "c.parquet": None, "zz.parquet": None}}, merge=True)
    assert result.written == ["b.parquet"] and result.removed == ["c.parquet"] and result.linked == 1
    assert inode(kept) == ino
    assert rows(wh, "flags") == [1, 20]
    wh.publish_table("flags", t(7))
    assert wh.files("flags") == {"": ["part-0.parquet"]} and rows(wh, "flags") == [7]


def test_deferred_contents_are_called_once_when_written(tmp_path: Path):
    wh = Warehouse(str(tmp_path / "wh"))
    calls = []

    def make() -> pa.Table:
        calls.append(1)
        return t(5)

    wh.publish("t", {"k=1": {"a.parquet": make}})
    assert calls == [1] and rows(wh, "t") == [5]


def test_previous_snapshot_kept_older_ones_removed(tmp_path: Path):
    wh = Warehouse(str(tmp_path / "wh"))
    for n in range(4):
        wh.publish("t", {"k=1": {"a.parquet": t(n)}})
    snaps = sorted(p.name for p in (tmp_path / "wh" / SNAPSHOTS / "t").iterdir())
    assert snaps == ["00000003", "00000004"]
    assert os.readlink(tmp_path / "wh" / "t").endswith("00000004")


def test_crash_leftovers_are_invisible_and_recovered(tmp_path: Path):
    wh = Warehouse(str(tmp_path / "wh"))
    wh.publish("t", {"k=1": {"a.parquet": t(1)}})
    wh.publish("t", {"k=1": {"a.parquet": t(2)}})
    root = tmp_path / "wh"
    # What a publish killed before its rename leaves: an unfinished snapshot and a temporary link.
    unfinished = root / SNAPSHOTS / "t" / "00000007" / "k=1"
    unfinished.mkdir(parents=True)
    (unfinished / "a.parquet").write_bytes(b"PAR1 half a file")
    os.symlink(f"{SNAPSHOTS}/t/00000007", root / ".t.link-99999")
    assert rows(wh, "t") == [2]
    assert duckdb.sql(f"SELECT v FROM read_parquet('{root}/t/*/*.parquet', hive_partitioning = true)").fetchall() == [(2,)]
    with wh.lock():
        removed = wh.recover()
    assert ".t.link-99999" in removed and f"{SNAPSHOTS}/t/00000007" in removed
    assert sorted(p.name for p in (root / SNAPSHOTS / "t").iterdir()) == ["00000001", "00000002"]
    # The next publish numbers past everything and completes.
    wh.publish("t", {"k=1": {"a.parquet": t(3)}})
    assert rows(wh, "t") == [3]


def test_plain_directory_in_the_way_is_refused(tmp_path: Path):
    (tmp_path / "wh" / "t").mkdir(parents=True)
    with pytest.raises(RuntimeError, match="plain directory"):
        Warehouse(str(tmp_path / "wh")).publish("t", {"k=1": {"a.parquet": t(1)}})


def test_lock_is_reentrant(tmp_path: Path):
    wh = Warehouse(str(tmp_path / "wh"))
    with wh.lock():
        with wh.lock():
            wh.publish("t", {"k=1": {"a.parquet": t(1)}})
    assert rows(wh, "t") == [1]


def _tree_state(root: Path) -> dict[str, int]:
    """Every file under a snapshot that engines read (no name starting with '.' or '_'), relative
    path -> the value it holds."""
    return {str(f.relative_to(root)): pq.read_table(f).column("v")[0].as_py()
            for f in sorted(root.rglob("*"))
            if f.is_file() and not any(part.startswith((".", "_")) for part in f.relative_to(root).parts)}


def _model_apply(model: dict[str, dict[str, int]], change: dict[str, dict[str, int] | None],
                 merge: bool) -> None:
    for partition, files in change.items():
        if files is None:
            model.pop(partition, None)
        elif merge:
            merged = {**model.get(partition, {}), **{n: v for n, v in files.items() if v is not None}}
            for name in [n for n, v in files.items() if v is None]:
                merged.pop(name, None)
            if merged:
                model[partition] = merged
            else:
                model.pop(partition, None)
        else:
            model[partition] = dict(files)


_partitions = st.sampled_from(["c=1/p=1", "c=1/p=2", "c=2/p=1", "c=3/p=9", ""])
#: a file's value, or None: with merge=True that one file goes (without merge, None values are dropped)
_files = st.dictionaries(st.sampled_from(["a.parquet", "b.parquet"]), st.one_of(st.integers(0, 3), st.none()),
                         min_size=1, max_size=2)
#: Between publishes, a hand may put a file into a live partition or take the first file out
#: (the tree is the truth: the next publish carries what it finds).
_hands = st.one_of(st.none(), st.tuples(st.just("add"), _partitions), st.just(("drop", "")))
_changes = st.lists(st.tuples(st.dictionaries(_partitions, st.one_of(st.none(), _files), max_size=3),
                              st.booleans(), _hands), min_size=1, max_size=7)


def _by_hand(root: Path, model: dict[str, dict[str, int]], hand: tuple[str, str] | None) -> None:
    """Apply a hand edit to the live snapshot of table t, and to the model."""
    if hand is None or not (root / "t").exists():
        return
    action, partition = hand
    if action == "add" and partition in model:
        pq.write_table(t(7), root / "t" / _rel_path(partition, "z.parquet"))
        model[partition]["z.parquet"] = 7
    elif action == "drop" and (crowded := [p for p, files in model.items() if len(files) > 1]):
        partition = min(crowded)  # one with a file left: no empty directory is made by hand
        name = min(model[partition])
        (root / "t" / _rel_path(partition, name)).unlink()
        del model[partition][name]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=_changes)
def test_every_publish_leaves_exactly_the_tables_state_and_the_one_before_untouched(tmp_path: Path, changes):
    """Whatever sequence of publishes (the snapshot before last is reused for the next one, by its
    record or, after a hand edit of the live files, by walking it), the live snapshot holds exactly
    the model's files, unchanged files keep their inode, and the snapshot a reader may still be on
    is as it was."""
    root = Path(tempfile.mkdtemp(dir=tmp_path))  # one per example: hypothesis runs many in one test
    wh = Warehouse(str(root))
    model: dict[str, dict[str, int]] = {}
    for change, merge, hand in changes:
        if not merge:  # a whole partition's contents: files only (an empty one would be an empty directory)
            change = {p: (None if files is None else {n: v for n, v in files.items() if v is not None} or {"a.parquet": 0})
                      for p, files in change.items()}
        _by_hand(root, model, hand)
        before = _tree_state(root / "t") if (root / "t").exists() else {}
        inodes = {p: inode(root / "t" / p) for p in before}
        previous = os.path.realpath(root / "t") if (root / "t").exists() else None
        wh.publish("t", {p: (None if files is None else {n: None if v is None else t(v) for n, v in files.items()})
                         for p, files in change.items()}, merge=merge)
        _model_apply(model, {p: (None if f is None else dict(f)) for p, f in change.items()}, merge)
        expected = {_rel_path(p, n): v for p, files in model.items() for n, v in files.items()}
        if (root / "t").exists():
            assert _tree_state(root / "t") == expected
            assert not [d for d in (root / "t").rglob("*") if d.is_dir() and not any(d.iterdir())]
            rewritten = {_rel_path(p, n) for p, files in change.items() if files for n in files}
            for path, ino in inodes.items():
                if path in expected and path not in rewritten:
                    assert inode(root / "t" / path) == ino, path
        if previous is not None and os.path.realpath(root / "t") != previous:
            assert _tree_state(Path(previous)) == before


def _rel_path(partition: str, name: str) -> str:
    return f"{partition}/{name}" if partition else name


# ------------------------------------------------------------------------------ object stores
@pytest.fixture
def memory_fs():
    fs = fsspec.filesystem("memory")
    fs.store.clear()
    fs.pseudo_dirs.clear()
    fs.pseudo_dirs.append("")
    yield fs
    fs.store.clear()


def test_object_store_fallback_writes_file_by_file(memory_fs):
    wh = Warehouse("memory://wh")
    assert not wh.local
    wh.publish("t", {"k=1": {"a.parquet": t(1)}, "k=2": {"a.parquet": t(2)}})
    assert wh.files("t") == {"k=1": ["a.parquet"], "k=2": ["a.parquet"]}
    result = wh.publish("t", {"k=2": {"b.parquet": t(20)}, "k=1": None})
    assert result.written == ["k=2/b.parquet"] and result.removed == ["k=1"]
    assert wh.files("t") == {"k=2": ["b.parquet"]}
    assert rows(wh, "t") == [20]
    wh.publish("f", {"": {"x.parquet": t(1), "y.parquet": t(2)}})
    wh.publish("f", {"": {"y.parquet": None}}, merge=True)
    assert wh.files("f") == {"": ["x.parquet"]}
    assert not any(".snapshots" in p for p in memory_fs.find("/"))


def test_subtree_filesystem_over_a_directory(tmp_path: Path):
    fs = pafs.SubTreeFileSystem(str(tmp_path), pafs.LocalFileSystem())
    wh = Warehouse.on_filesystem(fs, "wh")
    wh.publish("t", {"k=1": {"a.parquet": t(1)}})
    assert (tmp_path / "wh" / "t" / "k=1" / "a.parquet").is_file()
    con = duckdb.connect()
    views.register(con, wh, ["t"])
    assert con.execute("SELECT v FROM t").fetchall() == [(1,)]


def test_build_to_an_object_store_url_equals_a_local_build(tmp_path: Path, memory_fs):
    home = WarehouseHome(tmp_path / "home")
    home.populate()
    build(Settings.from_env({**home.env, "JIANFU_WAREHOUSE": "memory://wh"}))
    home.build()
    remote = Warehouse("memory://wh")
    for table in ("form_counts", "inspections", "flags", "submissions"):
        assert remote.files(table) == home.warehouse.files(table)
    local = snapshot(home.settings.warehouse)
    con = duckdb.connect()
    views.register(con, remote)
    for table in ("form_counts", "work_groups", "inspections", "units", "flags", "burden", "quota_usage"):
        assert sorted(con.execute(f"SELECT * FROM {table}").fetchall(), key=repr) == local[table], table
    # Incremental on the object store too: nothing changed, nothing written.
    again = build(Settings.from_env({**home.env, "JIANFU_WAREHOUSE": "memory://wh"}))
    assert again.written == 0, again.describe()


def test_publish_keeps_the_snapshot_it_replaced_even_with_leftovers_above(tmp_path: Path):
    wh = Warehouse(str(tmp_path / "wh"))
    wh.publish("t", {"k=1": {"a.parquet": t(1)}})
    wh.publish("t", {"k=1": {"a.parquet": t(2)}})
    (tmp_path / "wh" / SNAPSHOTS / "t" / "00000005").mkdir()  # a killed publish's leftover
    wh.publish("t", {"k=1": {"a.parquet": t(3)}})  # no recover() first
    assert sorted(p.name for p in (tmp_path / "wh" / SNAPSHOTS / "t").iterdir()) == ["00000002", "00000006"]
