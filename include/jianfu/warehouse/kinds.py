"""The three submission tables: which partitions change, and what a partition file holds.

One staged file (one county x kind x period, in force) is exactly one warehouse partition,
`<table>/county_code=<c>/period=<p>/<submission_id>.parquet` (`year=<y>` for inspections). The file
is named after the submission it holds, so the tree itself says which version each partition
carries: a partition is rewritten only when the version in force is another submission than the
one its file names. No side state to drift from the tree, and deciding costs one directory walk
and one ledger query, not a read of any Parquet file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..config import JianfuError
from ..schema import KINDS
from .publish import ExistingFile, FileContents, write_parquet
from .views import PARTITIONS, file_schema


class BuildError(JianfuError):
    """The warehouse cannot be built from what the ledger and staging hold; the message says why."""


#: Parquet key-value metadata of a file staged in its warehouse partition's shape: the partition
#: directory it belongs in.
PARTITION_KEY = b"jianfu.partition"

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*$")


def partition_dir(kind_name: str, county_code: str, period: str) -> str:
    """Hive directory of one county x period (or year) of a submission table."""
    key = KINDS[kind_name].period_column
    return f"county_code={county_code}/{key}={period}"


def file_name(submission_id: str) -> str:
    """The partition file's name: the submission id, when it is a safe file name (it always is
    for ids the ingest stage makes); otherwise it is refused rather than mangled, because the
    name is how the next build recognises the version a partition holds."""
    if not _SAFE_NAME.match(submission_id):
        raise BuildError(f"submission id {submission_id!r} cannot name a warehouse file")
    return f"{submission_id}.parquet"


def county_of(partition: str) -> str:
    """County code of a partition directory 'county_code=C/...'."""
    return partition.split("/", 1)[0].removeprefix("county_code=")


@dataclass
class KindPlan:
    """What a build does to one submission table."""

    table: str
    replace: dict[str, dict[str, FileContents] | None] = field(default_factory=dict)
    keep: set[str] = field(default_factory=set)  # partitions in force (for a full rebuild's `only`)
    unchanged: int = 0
    changed_counties: set[str] = field(default_factory=set)


def expected_files(kind_name: str, in_force: list[Mapping]) -> dict[str, list[str]]:
    """The table's files when it holds exactly the versions in force: partition -> [file name]."""
    return {partition_dir(kind_name, row["county_code"], row["period"]): [file_name(row["submission_id"])]
            for row in in_force}


def plan(kind_name: str, in_force: list[Mapping], current: dict[str, list[str]], *, full: bool,
         home: Path) -> KindPlan:
    """Compare the versions in force with the partitions present; schedule the differences.

    `in_force` are ledger rows of this kind; `current` is Warehouse.files(table).
    """
    result = KindPlan(kind_name)
    for row in in_force:
        partition = partition_dir(kind_name, row["county_code"], row["period"])
        name = file_name(row["submission_id"])
        result.keep.add(partition)
        if not full and current.get(partition) == [name]:
            result.unchanged += 1
            continue
        result.replace[partition] = {name: _loader(kind_name, dict(row), home)}
        result.changed_counties.add(row["county_code"])
    for partition in current:
        if partition not in result.keep:  # no version in force any more
            result.replace[partition] = None
            result.changed_counties.add(county_of(partition))
    return result


def _loader(kind_name: str, row: dict, home: Path) -> Callable[[], pa.Table | ExistingFile]:
    return lambda: load_partition(kind_name, row, home)


def staged_location(row: Mapping, home: Path) -> str:
    path = row.get("staged_path")
    if not path:
        raise BuildError(f"submission {row['submission_id']} is in force but has no staged file; "
                         "re-run `jianfu ingest`")
    if "://" in path or Path(path).is_absolute():
        return path
    return str(home / path)


def load_partition(kind_name: str, row: Mapping, home: Path) -> pa.Table | ExistingFile:
    """The partition file of a submission in force, from its staged file.

    A file staged in the partition's own shape (stage_partition_file, as `jianfu ingest` writes
    them) and marked for this partition is carried into the snapshot as it is. An older staged
    file, with the canonical columns of its kind, is given that shape here: the partition columns
    are checked against the ledger and dropped (they live in the path); submission_id is added,
    and for inspections eff_date (actual_date when done, else planned_date).
    """
    kind = KINDS[kind_name]
    location = staged_location(row, home)
    expected = partition_dir(kind_name, row["county_code"], row["period"])
    try:
        staged = pq.ParquetFile(location)
        if (staged.schema_arrow.metadata or {}).get(PARTITION_KEY) == expected.encode() \
                and "://" not in location:
            return ExistingFile(location)
        staged = staged.read()
    except (FileNotFoundError, OSError) as exc:
        raise BuildError(f"cannot read the staged file of submission {row['submission_id']} "
                         f"({location}): {exc}; re-run `jianfu ingest`") from None
    for key in ("county_code", kind.period_column):
        if key not in staged.column_names:
            raise BuildError(f"staged file {location} has no {key} column")
    foreign = _foreign_rows(kind_name, staged, row["county_code"], row["period"])
    if foreign:
        raise BuildError(f"staged file {location} holds rows of another {foreign[0]} than its ledger entry "
                         f"({foreign[1]})")
    try:
        return partition_table(kind_name, staged, row["submission_id"])
    except KeyError as exc:
        raise BuildError(f"staged file {location} has no {exc.args[0]} column") from None


def partition_table(kind_name: str, table: pa.Table, submission_id: str) -> pa.Table:
    """A submission's rows (the canonical columns of its kind) in the shape of its partition file
    (`views.file_schema`): partition columns dropped, submission_id and (inspections) eff_date
    added. Raises KeyError naming a required column the table lacks."""
    schema = file_schema(kind_name)
    arrays = []
    for target in schema:
        if target.name == "submission_id":
            arrays.append(pa.repeat(pa.scalar(submission_id, pa.string()), table.num_rows))
        elif target.name == "eff_date":
            done = pc.fill_null(pc.equal(table.column("status"), "done"), False)
            actual = pc.coalesce(table.column("actual_date"), table.column("planned_date"))
            arrays.append(pc.if_else(done, actual, table.column("planned_date")).cast(target.type))
        elif target.name in table.column_names:
            arrays.append(table.column(target.name).cast(target.type))
        elif target.nullable:
            arrays.append(pa.nulls(table.num_rows, target.type))
        else:
            raise KeyError(target.name)
    return pa.Table.from_arrays(arrays, schema=schema)


def _foreign_rows(kind_name: str, table: pa.Table, county_code: str, period: str) -> tuple[str, str] | None:
    """(column, expected value) when `table` holds rows of another county or period than the
    partition's, else None."""
    key = KINDS[kind_name].period_column
    for column, expected in (("county_code", county_code), (key, period)):
        value = int(expected) if column == "year" else expected
        found = [v for v in pc.unique(table.column(column)).to_pylist() if v is not None]
        if table.num_rows and found != [value]:
            return column, expected
    return None


def stage_partition_file(kind_name: str, table: pa.Table, submission_id: str, county_code: str, period: str,
                         path: str) -> None:
    """Write an accepted submission (the canonical columns of its kind, every row of one county and
    period) as its warehouse partition file will be, marked with that partition: the build then
    links it into the snapshot rather than reading and rewriting it."""
    foreign = _foreign_rows(kind_name, table, county_code, period)
    if foreign:
        raise ValueError(f"rows of another {foreign[0]} cannot be staged as {foreign[1]}")
    data = partition_table(kind_name, table, submission_id)
    marked = data.replace_schema_metadata({PARTITION_KEY: partition_dir(kind_name, county_code, period).encode()})
    write_parquet(marked, path)


assert set(PARTITIONS) == set(KINDS)
