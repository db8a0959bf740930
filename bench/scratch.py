"""Where the benchmarks make their workdirs (and the Accelerator's projects): bench/scratch/.

Not the system's temporary folder. On the machine of bench/RESULTS.md, making a directory
under /tmp takes about 0.5 ms, and 0.01 ms elsewhere on the same ext4 file system; every
new job makes one and creates files in it, so workdirs under /tmp measured that corner of
the disk as much as accnb. A project's workdir sits in the project, as this one does.
ACCNB_BENCH_SCRATCH names another folder; the report records what a mkdir costs in the
folder used and in the system's temporary folder.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path


def scratch_dir() -> Path:
    folder = Path(os.environ.get("ACCNB_BENCH_SCRATCH") or Path(__file__).parent / "scratch")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def mkdir_ms(folder: Path, n: int = 50) -> float:
    """Median milliseconds to make a directory in `folder` (each removed afterwards)."""
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        times = []
        for k in range(n):
            started = time.perf_counter()
            os.mkdir(os.path.join(tmp, str(k)))
            times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000
