"""Atomic, incremental publication of warehouse tables (SPEC.md section 7).

The tree is the truth: `<root>/<table>/` holds exactly the table's current Parquet files, in
Hive-partitioned directories, so any engine reads it with no jianfu code. To make a publish atomic
for a whole table, `<root>/<table>` is a symbolic link to a snapshot directory
`<root>/.snapshots/<table>/<NNNNNNNN>/` (hidden: engines skip names starting with `.`).

A publish builds the next snapshot beside the current one — hard links for every file that did
not change (no bytes copied, no file rewritten: inode and mtime are kept), new files for those that
did — makes the new files durable (fsync), and then swaps the link with one rename(2). A reader
resolves the link once and sees wholly the old or wholly the new table; a crash at any moment
leaves the old link in place, and the next publish (or `recover()`) clears the unfinished
snapshot. The previous snapshot is kept so a reader that resolved the old link just before the
swap can finish; at the publish after, it is renamed to be the next snapshot and brought to the
new state by the differences alone, rather than deleted while a new tree of thousands of
partition directories is made (a mkdir each). Each snapshot carries a hidden record (RECORD): the
snapshot it was made from, the partitions that publish changed, and a digest of its files. It
tells the publish after next what that reused snapshot holds without walking it, and a build
that a table holds exactly the versions in force (`published_as`); a digest that no longer
matches the files (someone put one in by hand) falls back to walking.

Object-store URLs have no links or renames: there, `publish` writes each new file under its final
name (an object PUT is atomic per file) and then deletes the files it replaces — readers may see a
table half old, half new for the length of a publish. That weaker promise is stated in
docs/WAREHOUSE.md.

Test hook: a Warehouse made with `pause_after_write` (config.Settings.publish_pause, from the
environment variable JIANFU_TEST_SLOW_PUBLISH) follows every file written by a publish with a line
`jianfu-test-publish: wrote <table>/<file>` on stderr and a sleep of that many seconds, and writes
one file at a time, so tests/test_build_kill.py can SIGKILL a build at known moments. It is never
set in production.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

SNAPSHOTS = ".snapshots"
NOTES = ".inputs"
#: Hidden file in each local snapshot: what the publish that made it changed (see _spare_state).
RECORD = ".published.json"
#: Parquet writer settings used for every warehouse file.
PARQUET_OPTIONS = {"compression": "zstd", "compression_level": 1}

@dataclass(frozen=True)
class ExistingFile:
    """A Parquet file already written in the table's shape (a staged submission): carried into a
    local snapshot by hard link (a copy across file systems), read and written on an object store."""

    path: str


#: The contents of one file: an Arrow table, or a function producing one or an ExistingFile. A
#: function is called only when the file is written, so a publish of many partitions never holds
#: them all in memory.
FileContents = pa.Table | Callable[[], pa.Table | ExistingFile]
#: Files of one partition, by name. With `merge=True`, None removes that one file.
PartitionContents = Mapping[str, FileContents | None]


@dataclass
class PublishResult:
    table: str
    written: list[str] = field(default_factory=list)  # relative paths of files written
    removed: list[str] = field(default_factory=list)  # partitions (or, merging, files) removed
    linked: int = 0  # unchanged files carried over by hard link
    snapshot: str | None = None

    @property
    def changed(self) -> bool:
        return bool(self.written or self.removed)


def write_parquet(table: pa.Table, path: str, filesystem: pafs.FileSystem | None = None,
                  *, durable: bool = False) -> None:
    """Write one warehouse file; `durable` fsyncs it (local files) before returning."""
    if filesystem is None and durable:
        with open(path, "wb") as handle:
            pq.write_table(table, handle, **PARQUET_OPTIONS)
            handle.flush()
            os.fsync(handle.fileno())
        return
    pq.write_table(table, path, filesystem=filesystem, **PARQUET_OPTIONS)


def _materialise(data: FileContents) -> pa.Table | ExistingFile:
    return data() if callable(data) else data


def _write_local(data: FileContents, path: str) -> None:
    """Write one file of a local snapshot, durably: a new file, or a link to an existing one."""
    contents = _materialise(data)
    if isinstance(contents, ExistingFile):
        try:
            os.link(contents.path, path)
        except OSError:  # another file system, or one without hard links
            shutil.copyfile(contents.path, path)
        fd = os.open(path, os.O_RDONLY)  # durable before the link swap, as a written file is
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        return
    write_parquet(contents, path, durable=True)


def _test_hook(pause: float | None, table: str, rel: str) -> None:
    """Kill-test hook (module docstring): announce the file written, then pause."""
    if pause is not None:
        print(f"jianfu-test-publish: wrote {table}/{rel}", file=sys.stderr, flush=True)
        time.sleep(pause)


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _rel(partition: str, name: str) -> str:
    return f"{partition}/{name}" if partition else name


class Warehouse:
    """A warehouse root: local directory (atomic snapshots) or object-store URL (per-file writes)."""

    #: Threads writing files of one publish (Parquet encoding and zstd release the GIL).
    workers = min(4, os.cpu_count() or 1)

    def __init__(self, root: str, *, pause_after_write: float | None = None):
        self.root_uri = root
        self.pause_after_write = pause_after_write
        if "://" in root and not root.startswith("file://"):
            self.fs, self.root = _filesystem(root)
            self.local = False
        else:
            self.fs = pafs.LocalFileSystem()
            self.root = str(Path(root.removeprefix("file://")).absolute())
            self.local = True
        self._lock_depth = 0

    @classmethod
    def on_filesystem(cls, filesystem: pafs.FileSystem, root: str) -> Warehouse:
        """A warehouse on any pyarrow filesystem (an fsspec one wrapped in PyFileSystem, S3, ...).

        Always published file by file: only a local directory offers links and atomic renames.
        """
        wh = cls.__new__(cls)
        wh.root_uri, wh.fs, wh.root, wh.local, wh._lock_depth = root, filesystem, root.rstrip("/"), False, 0
        wh.pause_after_write = None
        return wh

    # ------------------------------------------------------------------ reading the current state
    def table_path(self, table: str) -> str:
        return f"{self.root}/{table}"

    def resolved_path(self, table: str) -> str:
        """The directory a reader should scan: the live snapshot itself for a local warehouse.

        Resolving the link once pins a reader to one snapshot, so a publish that swaps the link
        while the reader lists and reads files cannot mix two versions of the table.
        """
        path = self.table_path(table)
        return os.path.realpath(path) if self.local else path

    def exists(self, table: str) -> bool:
        if self.local:
            return os.path.exists(self.table_path(table))
        return self.fs.get_file_info(self.table_path(table)).type != pafs.FileType.NotFound

    def tables(self) -> list[str]:
        """Names of the tables present (visible directories or links under the root)."""
        if self.local:
            if not os.path.isdir(self.root):
                return []
            return sorted(n for n in os.listdir(self.root) if not n.startswith(("_", "."))
                          and os.path.isdir(os.path.join(self.root, n)))
        infos = self.fs.get_file_info(pafs.FileSelector(self.root, allow_not_found=True))
        return sorted(i.base_name for i in infos
                      if i.type == pafs.FileType.Directory and not i.base_name.startswith(("_", ".")))

    def files(self, table: str, under: str = "") -> dict[str, list[str]]:
        """Current files of a table: partition directory (relative; '' at the top) -> file names.

        `under` lists only the partitions below one directory (e.g. 'county_code=421127'), for a
        reader that needs a few counties of a table of hundreds of partitions.
        """
        base = self.table_path(table)
        out: dict[str, list[str]] = {}
        if not self.exists(table):
            return out
        if self.local:
            # A build lists every table (thousands of partitions) to decide what changed.
            top = os.path.realpath(base)
            if under:
                top = os.path.join(top, under)
                if not os.path.isdir(top):
                    return out
            for rel, held in _tree(top, visible=True)[0].items():
                names = sorted(name for name in held if name.endswith(".parquet"))
                if names:
                    out["/".join(p for p in (under, rel) if p)] = names
            return dict(sorted(out.items()))
        top = f"{base}/{under}" if under else base
        for info in self.fs.get_file_info(pafs.FileSelector(top, recursive=True, allow_not_found=True)):
            if info.type != pafs.FileType.File or not info.path.endswith(".parquet"):
                continue
            rel = info.path[len(base) + 1:]
            parts = rel.split("/")
            if any(p.startswith(("_", ".")) for p in parts):
                continue
            out.setdefault("/".join(parts[:-1]), []).append(parts[-1])
        return {k: sorted(v) for k, v in sorted(out.items())}

    def published_as(self, table: str, listing: Mapping[str, Iterable[str]]) -> bool:
        """Whether the table's live snapshot was published holding exactly the files of `listing`
        (partition -> file names), by the record it carries: how a build tells a table of thousands
        of partitions is current without walking it. False without a record (an object store, a
        table last published by an older jianfu) or when the record says otherwise."""
        if not self.local or not os.path.islink(self.table_path(table)):
            return False
        try:
            with open(os.path.join(self.resolved_path(table), RECORD), encoding="utf-8") as handle:
                return json.load(handle).get("files") == _listing_digest(listing)
        except (OSError, ValueError, AttributeError):
            return False

    def file_path(self, table: str, partition: str, name: str) -> str:
        """Path of one current file, inside the live snapshot for a local warehouse."""
        return f"{self.resolved_path(table)}/{_rel(partition, name)}"

    def read_file(self, table: str, partition: str, name: str) -> pa.Table:
        with self.fs.open_input_file(self.file_path(table, partition, name)) as handle:
            return pq.ParquetFile(handle).read()

    def read_metadata(self, table: str, partition: str, name: str) -> dict[bytes, bytes]:
        """Key-value metadata of one current file (footer only: cheap)."""
        path = self.file_path(table, partition, name)
        with self.fs.open_input_file(path) as handle:
            return dict(pq.read_metadata(handle).metadata or {})

    def read_all_metadata(self, table: str, partition: str = "") -> dict[str, dict[bytes, bytes] | None]:
        """Key-value metadata of every current file of one partition, by file name (None when a
        file cannot be read), all from the one snapshot the table's link points at when called.

        Locally the footers are read one after the other from a path resolved once; on an object
        store each read is a round trip, so they overlap in threads.
        """
        base = self.resolved_path(table)
        names = self.files(table).get(partition, [])

        def read(name: str) -> dict[bytes, bytes] | None:
            try:
                with self.fs.open_input_file(f"{base}/{_rel(partition, name)}") as handle:
                    return dict(pq.read_metadata(handle).metadata or {})
            except (OSError, pa.ArrowInvalid):
                return None

        if self.local:
            return {name: read(name) for name in names}
        with ThreadPoolExecutor(8) as pool:
            return dict(zip(names, pool.map(read, names), strict=True))

    # ------------------------------------------------------------------ notes
    # A note is a line of text kept in the hidden directory `<root>/.inputs/`, which engines skip:
    # what a table whose files are not each stamped with their inputs was last built from.
    def read_note(self, name: str) -> str | None:
        try:
            with self.fs.open_input_stream(f"{self.root}/{NOTES}/{name}") as handle:
                return handle.read().decode()
        except (FileNotFoundError, OSError):
            return None

    def write_note(self, name: str, text: str) -> None:
        """Replace a note in one step (a rename locally, one PUT on an object store)."""
        directory = f"{self.root}/{NOTES}"
        if self.local:
            os.makedirs(directory, exist_ok=True)
            temporary = f"{directory}/.{name}.{os.getpid()}"
            with open(temporary, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, f"{directory}/{name}")
            return
        with self.fs.open_output_stream(f"{directory}/{name}") as handle:
            handle.write(text.encode())

    # ------------------------------------------------------------------ publishing
    @contextmanager
    def lock(self) -> Iterator[None]:
        """One writer at a time per local warehouse (two builds would race for the next snapshot).

        Re-entrant within one Warehouse object, so a build can hold it around several publishes.
        """
        if not self.local or self._lock_depth:
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        os.makedirs(self.root, exist_ok=True)
        with open(os.path.join(self.root, ".lock"), "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
                fcntl.flock(handle, fcntl.LOCK_UN)

    def recover(self) -> list[str]:
        """Remove what a killed publish left behind; returns what was removed. Call under lock().

        Leftovers are temporary links `.<table>.link-<pid>` and snapshot directories that are
        neither live nor the one before it (a killed publish's unfinished snapshot is numbered
        above the live one). None of them is visible to readers; this only reclaims space.
        """
        if not self.local or not os.path.isdir(self.root):
            return []
        removed = []
        for name in os.listdir(self.root):
            if name.startswith(".") and ".link-" in name:
                os.unlink(os.path.join(self.root, name))
                removed.append(name)
        snapshots = os.path.join(self.root, SNAPSHOTS)
        if os.path.isdir(snapshots):
            for table in os.listdir(snapshots):
                link = self.table_path(table)
                live = os.path.realpath(link) if os.path.islink(link) else None
                before = len(removed)
                # Keep the live snapshot and the newest one below it (a reader may be on it);
                # those numbered above the live one are unfinished.
                numbers = sorted(_snapshot_number(n) for n in os.listdir(os.path.join(snapshots, table)))
                keep: set[int] = set()
                if live is not None:
                    keep.add(_snapshot_number(live))
                    keep.update([n for n in numbers if n < _snapshot_number(live)][-1:])
                self._collect_garbage(os.path.join(snapshots, table), keep, removed)
                if live is None and len(removed) > before and not os.listdir(os.path.join(snapshots, table)):
                    os.rmdir(os.path.join(snapshots, table))
        return removed

    def publish(
        self,
        table: str,
        replace: Mapping[str, PartitionContents | None],
        *,
        only: set[str] | None = None,
        merge: bool = False,
        listing: dict[str, list[str]] | None = None,
    ) -> PublishResult:
        """Replace the contents of some partitions of `table` in one atomic step.

        `replace` maps a partition directory ('' for an unpartitioned table, else e.g.
        'county_code=421127/period=2026-09') to its complete new contents {file name: Arrow table
        (or a function returning one)}, or to None to remove the partition. Partitions not named
        are kept as they are, unless `only` is given: then partitions outside `only` and outside
        `replace` are removed (used by a full rebuild). With `merge=True` a partition's contents
        are merged into its current files instead: the files named are replaced (or removed when
        mapped to None), the others kept — for tables stored as one file per province. With nothing
        to change, nothing is written. `listing` is `files(table)` as the caller read it under this
        warehouse's lock (a build lists a year's 36,000 partitions once, to plan and to publish).
        """
        current = self.files(table) if listing is None else listing
        dropped: list[str] = []
        if merge:
            replace, dropped = _merge(current, replace)
        doomed = set()
        if only is not None:
            doomed = {p for p in current if p not in only and p not in replace}
        effective = {p: c for p, c in replace.items() if not (c is None and p not in current)}
        if not effective and not doomed and self.exists(table):
            return PublishResult(table)
        if self.local:
            result = self._publish_snapshot(table, current, effective, doomed)
        else:
            result = self._publish_in_place(table, current, effective, doomed)
        result.removed.extend(dropped)
        return result

    def publish_table(self, table: str, data: pa.Table, file_name: str = "part-0.parquet") -> PublishResult:
        """Publish an unpartitioned table as one file, replacing whatever it held."""
        return self.publish(table, {"": {file_name: data}}, only={""})

    def _publish_snapshot(self, table, current, replace, doomed) -> PublishResult:
        result = PublishResult(table)
        snap_root = os.path.join(self.root, SNAPSHOTS, table)
        os.makedirs(snap_root, exist_ok=True)
        link = self.table_path(table)
        if os.path.isdir(link) and not os.path.islink(link):
            raise RuntimeError(f"{link} is a plain directory, not a jianfu table; move it away first")
        live = os.path.realpath(link) if os.path.islink(link) else None
        previous = _snapshot_number(live) if live else 0
        numbers = [_snapshot_number(p) for p in os.listdir(snap_root)]
        number = max([previous, *numbers]) + 1
        target = os.path.join(snap_root, f"{number:08d}")
        # The snapshot before last, which this publish would delete, becomes the new one: renamed
        # (a reader still on it fails as it would on a deleted one) and brought to the new state
        # by the differences alone. A national table has thousands of partition directories, and
        # making them anew for every publish costs a mkdir each, however little changed.
        spare = max((n for n in numbers if 0 < n < previous), default=0)
        if spare:
            os.rename(os.path.join(snap_root, f"{spare:08d}"), target)
            held, dirs = _spare_state(target, live, spare, current)
        else:
            os.mkdir(target)
            held, dirs = {}, {""}

        # What the new snapshot holds: partition -> file name -> a live file to link, or contents.
        wanted: dict[str, dict[str, str | FileContents]] = {}
        for partition, names in current.items():
            if partition not in replace and partition not in doomed:
                wanted[partition] = {name: os.path.join(live, partition, name) for name in names}
        for partition, contents in replace.items():
            if contents is None:
                result.removed.append(partition)
                continue
            wanted[partition] = {name: os.path.join(live, partition, name) if isinstance(data, _Keep) else data
                                 for name, data in contents.items()}

        touched = {snap_root} if spare else set()  # directories whose entries changed
        needed = {""} | {"/".join(p.split("/")[:i]) for p in wanted for i in range(1, p.count("/") + 2)}
        for directory in sorted(dirs - needed):  # partitions no longer in the table
            if directory in dirs:
                shutil.rmtree(os.path.join(target, directory))
                dirs -= {d for d in dirs if d == directory or d.startswith(f"{directory}/")}
                touched.add(os.path.dirname(os.path.join(target, directory)))

        def directory_of(partition: str) -> str:
            path = os.path.join(target, partition) if partition else target
            if partition not in dirs:
                directory_of(os.path.dirname(partition))
                os.mkdir(path)
                dirs.add(partition)
            return path

        jobs: list[tuple[str, FileContents]] = []
        for partition in sorted(set(held) - set(wanted)):  # files of the spare beside the partitions
            if partition in dirs:
                for name in held[partition]:
                    os.unlink(os.path.join(target, partition, name))
                touched.add(os.path.join(target, partition) if partition else target)
        for partition, files in sorted(wanted.items()):
            directory = directory_of(partition)
            present = held.get(partition, {})
            in_place = {name for name, inode in present.items() if isinstance(files.get(name), str)
                        and (inode == _LIVE or os.stat(files[name]).st_ino == inode)}
            for name in present.keys() - in_place:  # the spare's files that are not the new ones
                os.unlink(os.path.join(directory, name))
                touched.add(directory)
            for name, source in files.items():
                if not isinstance(source, str):
                    jobs.append((_rel(partition, name), source))
                    touched.add(directory)
                elif name not in in_place:  # carried over by hard link: inode and mtime kept
                    os.link(source, os.path.join(directory, name))
            result.linked += sum(1 for source in files.values() if isinstance(source, str))

        def write(job: tuple[str, FileContents]) -> str:
            rel, data = job
            _write_local(data, os.path.join(target, rel))
            _test_hook(self.pause_after_write, table, rel)
            return rel

        if len(jobs) > 1 and self.workers > 1 and self.pause_after_write is None:
            with ThreadPoolExecutor(self.workers) as pool:
                result.written.extend(pool.map(write, jobs))
        else:
            result.written.extend(write(job) for job in jobs)
        result.removed.extend(sorted(doomed))
        _write_record(target, previous, sorted({*replace, *doomed}), wanted)
        # New directory entries must be durable before the link points at them.
        synced: set[str] = set()
        for directory in touched | {target}:
            while directory.startswith(target) and directory not in synced:
                synced.add(directory)
                directory = os.path.dirname(directory)
        synced |= touched
        # Independent fsyncs: let the disk take them together rather than one at a time.
        if len(synced) > 1 and self.workers > 1:
            with ThreadPoolExecutor(self.workers) as pool:
                list(pool.map(_fsync_dir, sorted(synced)))
        else:
            for directory in sorted(synced):
                _fsync_dir(directory)
        # The one atomic step: point the table's name at the new snapshot.
        tmp_link = os.path.join(self.root, f".{table}.link-{os.getpid()}")
        if os.path.lexists(tmp_link):
            os.unlink(tmp_link)
        os.symlink(os.path.relpath(target, self.root), tmp_link)
        os.replace(tmp_link, link)
        _fsync_dir(self.root)
        result.snapshot = target
        # Keep the new snapshot and the one just replaced (a reader may have resolved the link
        # to it a moment ago); everything else — crash leftovers, mostly — goes.
        keep = {number, previous} if live else {number}
        self._collect_garbage(snap_root, keep)
        return result

    @staticmethod
    def _collect_garbage(snap_root: str, keep: set[int], removed: list[str] | None = None) -> None:
        """Remove every snapshot of a table whose number is not in `keep`."""
        for name in os.listdir(snap_root):
            if _snapshot_number(name) not in keep:
                shutil.rmtree(os.path.join(snap_root, name), ignore_errors=True)
                if removed is not None:
                    removed.append(os.path.join(SNAPSHOTS, os.path.basename(snap_root), name))

    def _publish_in_place(self, table, current, replace, doomed) -> PublishResult:
        result = PublishResult(table)
        base = self.table_path(table)
        self.fs.create_dir(base, recursive=True)
        for partition, contents in sorted(replace.items()):
            old = set(current.get(partition, []))
            if contents is not None:
                self.fs.create_dir(f"{base}/{partition}" if partition else base, recursive=True)
                for name, data in contents.items():
                    rel = _rel(partition, name)
                    old.discard(name)
                    if isinstance(data, _Keep):
                        continue
                    contents = _materialise(data)
                    if isinstance(contents, ExistingFile):
                        contents = pq.read_table(contents.path)
                    write_parquet(contents, f"{base}/{rel}", self.fs)
                    _test_hook(self.pause_after_write, table, rel)
                    result.written.append(rel)
            else:
                result.removed.append(partition)
            for name in sorted(old):
                self.fs.delete_file(f"{base}/{_rel(partition, name)}")
        for partition in sorted(doomed):
            if partition:
                self.fs.delete_dir(f"{base}/{partition}")
            else:
                for name in current[partition]:
                    self.fs.delete_file(f"{base}/{name}")
            result.removed.append(partition)
        return result


#: In a spare snapshot's state: this file is the live snapshot's file of the same name (a hard link).
_LIVE = -1


def _listing_digest(listing: Mapping[str, Iterable[str]]) -> str:
    """A hash of a table's visible Parquet files (Warehouse.files' answer), partition by partition."""
    parts = []
    for partition, names in listing.items():
        kept = sorted(n for n in names if n.endswith(".parquet"))
        if kept:
            parts.append((partition, kept))
    return hashlib.sha256(json.dumps(sorted(parts)).encode()).hexdigest()


def _write_record(target: str, previous: int, changed: list[str], wanted: Mapping[str, Mapping]) -> None:
    """Record in the new snapshot which snapshot it was made from, the partitions whose files it
    changed, and a digest of its files, so that the publish after next, which reuses that older
    snapshot as its spare, knows the spare's state without walking it."""
    record = {"from": previous, "changed": changed, "files": _listing_digest(wanted)}
    with open(os.path.join(target, RECORD), "w", encoding="utf-8") as handle:
        json.dump(record, handle)
        handle.flush()
        os.fsync(handle.fileno())


def _spare_state(target: str, live: str | None, spare: int, current: Mapping[str, list[str]]
                 ) -> tuple[dict[str, dict[str, int]], set[str]]:
    """What the renamed spare snapshot at `target` holds, as _tree gives it (a file known to be
    the live one's file of the same name marked _LIVE), and its directories.

    The live snapshot was made from the spare by the last publish, which recorded the partitions it
    changed. When its record names the spare and its digest of the files still matches the live
    files (`current`, as listed for this publish: nothing was put in or taken out by hand since),
    the spare holds exactly the live files outside those partitions, by hard link: only those
    partitions are read from disk, not a national table's thousands of directories. Otherwise
    the spare is walked."""
    try:
        with open(os.path.join(live or "", RECORD), encoding="utf-8") as handle:
            record = json.load(handle)
        trusted = record["from"] == spare and record["files"] == _listing_digest(current)
        changed = set(record["changed"])
    except (OSError, ValueError, KeyError, TypeError):
        trusted = False
    if not trusted:
        return _tree(target)
    held: dict[str, dict[str, int]] = {}
    dirs = {""}
    for partition, names in current.items():
        if partition not in changed:
            held[partition] = dict.fromkeys(names, _LIVE)
            dirs.update(_ancestors(partition))
    for partition in changed:
        for directory in _ancestors(partition):
            if directory not in dirs and os.path.isdir(os.path.join(target, directory)):
                dirs.add(directory)
        path = os.path.join(target, partition) if partition else target
        if partition in dirs:
            with os.scandir(path) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):  # a table's partitions are its leaves
                        return _tree(target)
                    held.setdefault(partition, {})[entry.name] = entry.inode()
    return held, dirs


def _ancestors(partition: str) -> list[str]:
    """'c=1/p=2' -> ['c=1', 'c=1/p=2'] (and '' -> [])."""
    parts = partition.split("/") if partition else []
    return ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _tree(top: str, *, visible: bool = False) -> tuple[dict[str, dict[str, int]], set[str]]:
    """Everything under `top`: files by directory (relative; '' for top) with their inodes, and
    every directory; with `visible`, what engines read only (no name starting with '_' or '.').
    Read with scandir alone, one syscall per directory: a directory entry carries its inode."""
    files: dict[str, dict[str, int]] = {}
    dirs = {""}
    stack = [("", top)]
    while stack:
        rel, path = stack.pop()
        with os.scandir(path) as entries:
            for entry in entries:
                if visible and entry.name.startswith(("_", ".")):
                    continue
                child = f"{rel}/{entry.name}" if rel else entry.name
                if entry.is_dir(follow_symlinks=False):
                    dirs.add(child)
                    stack.append((child, entry.path))
                else:
                    files.setdefault(rel, {})[entry.name] = entry.inode()
    return files, dirs


def _filesystem(uri: str) -> tuple[pafs.FileSystem, str]:
    """pyarrow's own filesystem for the URI (s3://, gs://, hdfs://, ...), else fsspec's (any
    scheme an installed fsspec implementation knows: abfs://, oss://, memory://, ...)."""
    try:
        return pafs.FileSystem.from_uri(uri)
    except pa.ArrowInvalid as exc:
        if "Unrecognized filesystem type" not in str(exc):
            raise
    import fsspec

    fs, path = fsspec.core.url_to_fs(uri)
    return pafs.PyFileSystem(pafs.FSSpecHandler(fs)), path.rstrip("/")


def _merge(current: dict[str, list[str]], replace: Mapping[str, PartitionContents | None]
           ) -> tuple[dict[str, PartitionContents | None], list[str]]:
    """Turn per-file changes into complete partition contents (see `publish(merge=True)`).

    Returns the contents and the files removed (relative paths) for the result.
    """
    out: dict[str, PartitionContents | None] = {}
    dropped: list[str] = []
    for partition, contents in replace.items():
        if contents is None:
            out[partition] = None
            continue
        names = set(current.get(partition, []))
        changes = {n: d for n, d in contents.items() if d is not None or n in names}
        if not changes:
            continue
        kept = {n: _Keep() for n in names if n not in changes}
        merged = {**kept, **{n: d for n, d in changes.items() if d is not None}}
        out[partition] = merged if merged else None  # no file left: the partition goes
        if merged:
            dropped.extend(_rel(partition, n) for n in sorted(changes) if changes[n] is None)
    return out, dropped


class _Keep:
    """Marker: carry this file over unchanged (resolved by `_publish_*` as a link or a no-op)."""

    def __call__(self) -> pa.Table:  # pragma: no cover - never materialised
        raise AssertionError("a kept file is linked, not rewritten")


def _snapshot_number(path: str | None) -> int:
    try:
        return int(os.path.basename(path or ""))
    except ValueError:
        return 0
