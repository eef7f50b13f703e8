"""Server time of each console page on a province month (SPEC.md section 16: under 300 ms).

    .venv/bin/python bench/console_pages.py [HOME]      (make bench-console)

HOME is a JIANFU_HOME with a built warehouse; without one, a province month is made first in
bench/out/console_home (`jianfu sample --scale province`, ingest, build, alerts; reused while it
exists). Each page is requested through the app in this process (FastAPI's TestClient: no network,
so what is timed is the page's own work: queries, charts, template), once to warm up and then
BENCH_CONSOLE_REPEATS times (20): `warm`, as an office's people see a month between two builds
(query results kept), and `cold`, each request after the query cache is emptied (as the first view
after a publish). Prints p50 / p95 / max per page and writes bench/out/console_pages.json.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
NOW = "2026-11-21T12:00:00+00:00"
TARGET_MS = 300.0


def province_home(home: Path) -> Path:
    """A JIANFU_HOME holding the province sample, ingested and built (made once)."""
    from jianfu.alerts.run import run_alerts
    from jianfu.config import Settings
    from jianfu.home import init_home
    from jianfu.ingest.pipeline import ingest
    from jianfu.sample import generate
    from jianfu.warehouse.build import build

    settings = Settings.from_env({"JIANFU_HOME": str(home), "JIANFU_NOW": NOW})
    if (home / "warehouse" / "form_counts").exists():
        return home
    print(f"making a province month in {home} (once)", flush=True)
    generate(home, seed=7, scale="province", now=datetime.fromisoformat(NOW))
    init_home(settings)
    ingest(settings)
    build(settings)
    run_alerts(settings)
    return home


def pages(settings) -> list[str]:
    """One address per page, each with the parameters that make it do the most work."""
    from jianfu.console.pages.board import cells
    from jianfu.console.store import Store

    store = Store(settings)
    some = next((c for c in cells(store, settings.office_today()) if c.submission_id), None)
    township = store.rows("SELECT unit_code FROM units WHERE level = 'township' ORDER BY unit_code LIMIT 1")
    return [
        "/overview", "/board", "/flags", "/quota", "/burden",
        f"/burden?unit={township[0]['unit_code']}" if township else "/burden",
        f"/cell?county={some.county_code}&kind={some.kind}&period={some.period}" if some else "/board",
        "/admission", "/flags?format=xlsx",
    ]


def main() -> int:
    from fastapi.testclient import TestClient

    from jianfu.config import Settings
    from jianfu.console import create_app

    home = Path(sys.argv[1]) if len(sys.argv) > 1 else province_home(OUT / "console_home")
    settings = Settings.from_env({"JIANFU_HOME": str(home.absolute()), "JIANFU_NOW": NOW})
    repeats = int(os.environ.get("BENCH_CONSOLE_REPEATS", "20"))
    app = create_app(settings)
    client = TestClient(app)
    results = {}
    print(f"{'page':<60} {'warm p50':>9} {'warm p95':>9} {'cold p50':>9} {'cold p95':>9}   ms")
    for path in pages(settings):
        assert client.get(path).status_code == 200, path  # imports, views, the Vega bundle
        results[path] = {}
        for mode in ("warm", "cold"):
            times = []
            for _ in range(repeats):
                if mode == "cold":
                    app.state.store.forget()
                started = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, path
            times.sort()
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            results[path][mode] = {"p50_ms": statistics.median(times), "p95_ms": p95, "max_ms": times[-1]}
        r = results[path]
        print(f"{path:<60} {r['warm']['p50_ms']:>9.1f} {r['warm']['p95_ms']:>9.1f} "
              f"{r['cold']['p50_ms']:>9.1f} {r['cold']['p95_ms']:>9.1f}")
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} on {os.cpu_count()} CPU(s)")
    for mode in ("warm", "cold"):
        worst = max(r[mode]["p95_ms"] for r in results.values())
        print(f"{mode}: slowest p95 {worst:.1f} ms: {'meets' if worst <= TARGET_MS else 'MISSES'} "
              f"the {TARGET_MS:.0f} ms target")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "console_pages.json").write_text(json.dumps({"home": str(home), "repeats": repeats, "pages": results,
                                                         "target_ms": TARGET_MS, "load_average": load},
                                                        indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
