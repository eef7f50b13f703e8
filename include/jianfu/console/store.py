"""What the console reads, opened once per process (SPEC.md section 16).

One DuckDB connection per process holds a view per warehouse table (jianfu.warehouse.views). A
publish swaps a table's snapshot link and later reuses the snapshot before last, so a view
resolved once would soon point at nothing: before each page the store compares every table's
resolved snapshot with the one its views were made from, and re-creates the views only when one
moved. Pages take the store's lock while they query: a DuckDB connection is not shared between
threads, and the console's pages are small enough to run one at a time.

Query results are kept until the next publish: between two builds the warehouse cannot change,
and an office's people open the same month's pages again and again. The cache is emptied whenever
a snapshot moves, and holds at most CACHE_ROWS rows in all (least recently used go first), so its
memory stays bounded whatever the warehouse's size.

The ledger is read through jianfu.ledger.read_submissions (receipts for the collection board, never cached:
a file may arrive at any moment); the counties' names from units.csv, reloaded when it changes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ..config import JianfuError, Settings
from ..reference import county_names
from ..schema import ALERTS_SCHEMA
from ..warehouse import views
from ..warehouse.publish import Warehouse
from ..warehouse.query import empty_schemas

#: Rows kept in the query cache, across all cached results.
CACHE_ROWS = 200_000


def _schemas() -> dict[str, pa.Schema]:
    return {**empty_schemas(), "alerts": ALERTS_SCHEMA}


@dataclass
class Store:
    """The console's one warehouse connection, its reference data and its settings."""

    settings: Settings
    _con: duckdb.DuckDBPyConnection | None = None
    _seen: dict[str, str] = field(default_factory=dict)
    _counties: dict[str, str] | None = None
    _counties_key: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _cache: OrderedDict = field(default_factory=OrderedDict)
    _cached_rows: int = 0

    def _snapshots(self, warehouse: Warehouse) -> dict[str, str]:
        return {t: warehouse.resolved_path(t) for t in warehouse.tables()}

    @contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The connection, with views on the warehouse's current snapshots, for one page."""
        if "://" not in self.settings.warehouse and not Path(self.settings.warehouse).is_dir():
            raise JianfuError(f"数据仓库 {self.settings.warehouse} 尚不存在，请先运行 jianfu build。 / "
                              f"warehouse {self.settings.warehouse} does not exist: run `jianfu build` first")
        with self._lock:
            warehouse = Warehouse(self.settings.warehouse)
            snapshots = self._snapshots(warehouse)
            if self._con is None:
                self._con = duckdb.connect(":memory:")
                # Pages run one at a time (the lock above) over a month's slice: one thread per
                # query keeps a page steady on a server whose cores the scheduler and workers share.
                self._con.execute("SET threads = 1")
                # A page answers or fails; DuckDB's bar would only scroll through the server's log.
                self._con.execute("SET enable_progress_bar = false")
            if snapshots != self._seen or not self._seen:
                views.register(self._con, warehouse, empty_schemas=_schemas(), in_memory=True)
                self._seen = snapshots
                self._cache.clear()  # the lock is held: forget() would wait for itself
                self._cached_rows = 0
            yield self._con

    def rows(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        """Rows of one query as dicts (column name -> value): fresh dicts, the caller may change them."""
        key = (sql, repr(params or []))
        with self.connection() as con:
            found = self._cache.get(key)
            if found is None:
                cursor = con.execute(sql, params or [])
                names = [d[0] for d in cursor.description]
                found = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
                self._remember(key, found)
            else:
                self._cache.move_to_end(key)
            return [dict(r) for r in found]

    def forget(self) -> None:
        """Empty the query cache (as a publish does): the next pages query the warehouse afresh."""
        with self._lock:
            self._cache.clear()
            self._cached_rows = 0

    def _remember(self, key: tuple, rows: list[dict[str, Any]]) -> None:
        if len(rows) > CACHE_ROWS // 4:
            return  # one huge answer would push out everything else
        self._cache[key] = rows
        self._cached_rows += len(rows)
        while self._cached_rows > CACHE_ROWS:
            _, dropped = self._cache.popitem(last=False)
            self._cached_rows -= len(dropped)

    @property
    def counties(self) -> dict[str, str]:
        """County code -> name from units.csv, reloaded when the file changes. Only the counties:
        the console names units and departments through the warehouse's tables, and a country's
        units as objects would hold 400 MB in the server."""
        units = self.settings.reference / "units.csv"
        key = units.stat().st_mtime_ns if units.exists() else None
        if self._counties is None or key != self._counties_key:
            self._counties = county_names(self.settings.reference)
            self._counties_key = key
        return self._counties

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
