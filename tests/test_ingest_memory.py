"""Ingest's peak memory follows its batch of rows, not the number of files received (issue 21).

Each ingest runs in a process of its own so that its peak resident size (ru_maxrss) is its own.
The same small batch (about 20,000 rows) is used for both runs: one month of N files and one of 4N files. Held
all at once, the 4N files' tables would add several times the batch's memory; streamed, the peaks
differ by little. The margin is generous (the machine is shared), yet well below what holding
every table costs at these sizes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from builders import COUNTY, FORM_HEADER, TOWNSHIP, VILLAGE, write_csv, write_reference
from conftest import NOW
from jianfu.config import Settings

ROWS_PER_FILE = 2_000
FILES_PER_BATCH = 10
MIB = 2**20

_INGEST = """
import json, resource, sys
from jianfu.config import Settings
from jianfu.ingest.pipeline import ingest
settings = Settings.from_env({"JIANFU_HOME": sys.argv[1], "JIANFU_NOW": sys.argv[2]})
summary = ingest(settings, batch_bytes=int(sys.argv[3]))
print(json.dumps({"accepted": summary.accepted, "decided": len(summary.outcomes),
                  "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def _month(home: Path, files: int) -> Settings:
    """`files` distinct form_counts files of one county, each ROWS_PER_FILE rows."""
    settings = Settings.from_env({"JIANFU_HOME": str(home), "JIANFU_NOW": NOW.isoformat()})
    write_reference(settings.reference)
    for n in range(files):
        rows = [[COUNTY, "2026-09", (TOWNSHIP, VILLAGE)[r % 2], f"F{n:04d}-{r:05d}", f"报表{n}-{r}",
                 "421127-AGRI", "monthly", 1 + r % 5, 10, 1.5, "system", "人口;耕地面积"]
                for r in range(ROWS_PER_FILE)]
        write_csv(settings.landing / "form_counts" / f"{COUNTY}_2026-09_{n:04d}.csv", FORM_HEADER, rows,
                  mtime=1_794_268_800 + n)
    return settings


def _ingest_peak(settings: Settings) -> dict:
    one_file = next((settings.landing / "form_counts").iterdir()).stat().st_size
    batch_bytes = FILES_PER_BATCH * one_file
    run = subprocess.run([sys.executable, "-c", _INGEST, str(settings.home), NOW.isoformat(), str(batch_bytes)],
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_ingest_peak_memory_does_not_grow_with_the_number_of_files(tmp_path):
    few, many = _month(tmp_path / "few", 40), _month(tmp_path / "many", 160)

    small = _ingest_peak(few)
    large = _ingest_peak(many)

    assert (small["decided"], large["decided"]) == (40, 160)
    assert (small["accepted"], large["accepted"]) == (40, 160)
    # 120 more files are 240,000 more rows: held at once, well over 100 MiB more.
    grown = (large["peak_kib"] - small["peak_kib"]) * 1024
    assert grown < 60 * MIB, f"peak grew by {grown / MIB:.0f} MiB from 40 to 160 files"
