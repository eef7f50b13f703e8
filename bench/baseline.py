"""The yardstick: plain pyarrow reading every CSV and writing it as Parquet, nothing else.

This is the least any ingest has to do with the same bytes — parse the CSV, write Parquet — so
"ingest / baseline" says how much jianfu's receiving, validating, ledger and staging cost on top.
Encoding detection is the simplest that works for what counties send: UTF-8 (pyarrow skips a
BOM), and GB18030 when the bytes are not valid UTF-8.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq


@dataclass
class BaselineResult:
    files: int = 0
    rows: int = 0
    bytes_in: int = 0
    gb18030_files: int = 0
    skipped: list[str] = field(default_factory=list)  # files pyarrow cannot read at all (e.g. XLSX)
    seconds: float = 0.0
    per_file_seconds: list[float] = field(default_factory=list)


def read_csv(path: Path) -> tuple[pa.Table, str]:
    """The file as an Arrow table, and the encoding that read it.

    pyarrow does not reject GB18030 bytes on its own (headers are not checked, and undecodable
    values are inferred as binary), so the encoding is decided first: the bytes decode as UTF-8
    or they are read as GB18030 — the simplest detection that covers what Chinese Excel writes.
    """
    data = path.read_bytes()
    try:
        data.decode("utf-8")
        encoding = "utf-8"
    except UnicodeDecodeError:
        encoding = "gb18030"
    options = pacsv.ReadOptions(encoding=encoding) if encoding != "utf-8" else None
    return pacsv.read_csv(pa.BufferReader(data), read_options=options), encoding


def run(files: list[Path], out: Path) -> BaselineResult:
    """Read each CSV and write it to `out/<parent>/<stem>.parquet`; timed per file and in total."""
    result = BaselineResult()
    started = time.perf_counter()
    for path in files:
        if path.suffix.lower() != ".csv":
            result.skipped.append(path.name)
            continue
        t0 = time.perf_counter()
        table, encoding = read_csv(path)
        target = out / path.parent.name / f"{path.stem}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, target)
        result.per_file_seconds.append(time.perf_counter() - t0)
        result.files += 1
        result.rows += table.num_rows
        result.bytes_in += path.stat().st_size
        result.gb18030_files += encoding == "gb18030"
    result.seconds = time.perf_counter() - started
    return result
