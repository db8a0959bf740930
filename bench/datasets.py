"""Dataset throughput through real accnb jobs (2 slices): per-row writes, iterate, numpy, in one run.

    python bench/datasets.py [--reps 5] [--rows 10000000] [--strrows 2000000]

Each figure is rows / job time, the job time being prepare + analysis + synthesis from the
job's post["timings"] (the Accelerator's exectime.total is the same sum), the fastest of the
reps: on a shared machine other work only ever slows a rep down (medians are in the details).
The numpy figures are timed inside analysis instead, against np.fromfile / ndarray.tofile of
the same bytes in the same slice process, since a whole job's fork and bookkeeping would
hide a 20 ms read. The Accelerator's figures are from bench/accelerator.py when it ran in
this run, else the fixed ones of ../shared/anchor-bench/RESULTS-accelerator.md.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import accnb  # noqa: E402
from accnb.job import WORKDIRS  # noqa: E402
from bench.accelerator import FIXED, AcceleratorRun  # noqa: E402
from bench.table import Figure, Target, markdown, spread  # noqa: E402

DSWRITE = """
options = dict(kind="numeric", rows=10_000_000, nonce=0)

def prepare(job, options):
    dw = job.datasetwriter()
    if options.kind == "numeric":
        dw.add("a", "int64")
        dw.add("b", "float64")
    else:
        dw.add("u", "unicode")
    return dw

def analysis(sliceno, slices, prepare_res, options):
    write = prepare_res.write
    lo = options.rows * sliceno // slices
    hi = options.rows * (sliceno + 1) // slices
    if options.kind == "numeric":
        for i in range(lo, hi):
            write(i, i * 0.5)
    else:
        tails = ("-x", "-yy", "-zzz", "")
        for i in range(lo, hi):
            write("\\xf6%07d%s" % (i, tails[i & 3]))
"""

DSREAD = """
datasets = ("source",)
options = dict(mode="percol")

def analysis(sliceno, datasets, options):
    ds = datasets.source
    if options.mode == "percol":
        return [sum(ds.iterate(sliceno, "a")), sum(ds.iterate(sliceno, "b"))]
    if options.mode == "tuple":
        ta = tb = 0
        for a, b in ds.iterate(sliceno, ("a", "b")):
            ta += a
            tb += b
        return [ta, tb]
    return [sum(map(len, ds.iterate(sliceno, "u")))]

def synthesis(analysis_res):
    return [sum(x) for x in zip(*analysis_res)]
"""

# ds.column(c).numpy(sliceno) against np.fromfile of the column's own file, each followed by
# .sum() so that every byte is read (a memory map alone reads nothing); the order alternates.
NUMPY_READ = """
import time
import numpy as np

datasets = ("source",)
options = dict(reps=5)

def analysis(sliceno, datasets, options):
    ds = datasets.source
    cols = [ds.column("a"), ds.column("b")]
    # the column's file in this slice (docs/FORMAT.md): the same bytes numpy() maps
    files = [(c._path(sliceno), np.dtype(c.type).newbyteorder("<")) for c in cols]
    ours, plain, sums = [], [], set()
    for rep in range(options.reps):
        for which in ((0, 1) if rep % 2 else (1, 0)):
            t = time.perf_counter()
            if which:
                s = tuple(float(c.numpy(sliceno).sum()) for c in cols)
            else:
                s = tuple(float(np.fromfile(p, d).sum()) for p, d in files)
            (ours if which else plain).append(time.perf_counter() - t)
            sums.add(s)
    assert len(sums) == 1, sums
    return ours, plain

def synthesis(analysis_res):
    return list(analysis_res)
"""

NUMPY_WRITE = """
import os
import time
import numpy as np

options = dict(rows=10_000_000, nonce=0)

def prepare(job):
    dw = job.datasetwriter()
    dw.add("a", "int64")
    dw.add("b", "float64")
    return dw

def analysis(sliceno, slices, prepare_res, job, options):
    lo = options.rows * sliceno // slices
    hi = options.rows * (sliceno + 1) // slices
    a = np.arange(lo, hi, dtype=np.int64)
    b = a * 0.5
    paths = [job.path / f"tofile-{c}.{sliceno}" for c in "ab"]
    times = {}
    for which in ((0, 1) if options.nonce % 2 else (1, 0)):
        t = time.perf_counter()
        if which:
            prepare_res.write_columns({"a": a, "b": b})
        else:
            a.tofile(paths[0])
            b.tofile(paths[1])
        times[which] = time.perf_counter() - t
    for p in paths:
        os.unlink(p)
    return times[1], times[0]

def synthesis(analysis_res):
    return list(analysis_res)
"""


@dataclass
class DatasetRun:
    """What one run measured: per job kind, the reps' job times and wall times (seconds)."""

    rows: int
    strrows: int
    job_time: dict[str, list[float]] = field(default_factory=dict)
    wall: dict[str, list[float]] = field(default_factory=dict)
    parts: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    numpy_read: list[tuple[float, float]] = field(default_factory=list)  # (ours, fromfile) s
    numpy_write: list[tuple[float, float]] = field(default_factory=list)  # (ours, tofile) s

    def rows_of(self, name: str) -> int:
        return self.strrows if "strings" in name else self.rows

    def rate(self, name: str) -> float:
        """Rows per second in the fastest rep."""
        return self.rows_of(name) / min(self.job_time[name])


class DatasetBench:
    """A temporary workdir with the benchmark's methods; each rep() builds every job anew.

    Used as a context manager, so that `python -m bench` can run the Accelerator's reps
    between accnb's and both sides see the same load.
    """

    def __init__(self, rows: int = 10_000_000, strrows: int = 2_000_000) -> None:
        self.run = DatasetRun(rows, strrows)

    def __enter__(self) -> DatasetBench:
        self._tmp = tempfile.TemporaryDirectory(prefix="accnb-bench-")
        self.wd = accnb.Workdir(Path(self._tmp.name) / "dsbench", slices=2)
        for name, source in (
            ("dswrite", DSWRITE),
            ("dsread", DSREAD),
            ("dsnumpy_read", NUMPY_READ),
            ("dsnumpy_write", NUMPY_WRITE),
        ):
            self.wd.method(name, source)
        return self

    def __exit__(self, *exc: object) -> None:
        WORKDIRS.pop(self.wd.store.name, None)
        self._tmp.cleanup()

    def _build(self, name: str, method: str, **kw) -> accnb.Job:
        t = time.perf_counter()
        job = self.wd.build(method, relay=lambda part, text: None, **kw)
        wall = time.perf_counter() - t
        assert not job.reused, f"{name} was reused: a new nonce should make it new"
        run = self.run
        timings = job.post["timings"]
        parts = ("prepare", "analysis", "synthesis")
        run.job_time.setdefault(name, []).append(sum(timings.get(p, 0.0) for p in parts))
        run.wall.setdefault(name, []).append(wall)
        for part in (*parts, "total"):
            run.parts.setdefault(name, {}).setdefault(part, []).append(timings.get(part, 0.0))
        return job

    def rep(self) -> None:
        """Write, read back and check each dataset once; the last job of each kind is removed."""
        rows, strrows, build = self.run.rows, self.run.strrows, self._build
        nonce = time.time_ns()
        wn = build("write_numeric", "dswrite", kind="numeric", rows=rows, nonce=nonce)
        ws = build("write_strings", "dswrite", kind="strings", rows=strrows, nonce=nonce)
        want = [sum(range(rows)), sum(range(rows)) * 0.5]
        got = build("read_numeric_percol", "dsread", source=wn, mode="percol").load()
        assert got == want, got
        got = build("read_numeric_tuple", "dsread", source=wn, mode="tuple").load()
        assert got == want, got
        got = build("read_strings", "dsread", source=ws, mode="unicode").load()
        assert got == [8 * strrows + sum((2, 3, 4, 0)[i & 3] for i in range(strrows))], got
        per_slice = build("numpy_read", "dsnumpy_read", source=wn).load()
        self.run.numpy_read.append(tuple(max(min(s[side]) for s in per_slice) for side in (0, 1)))
        nw = build("numpy_write", "dsnumpy_write", rows=rows, nonce=nonce)
        assert len(nw.dataset()) == rows
        self.run.numpy_write.append(tuple(max(s[side] for s in nw.load()) for side in (0, 1)))
        for job in (wn, ws, nw):  # keep the disk and page cache as small as one rep's
            shutil.rmtree(job.path / "datasets")


def measure(reps: int = 5, rows: int = 10_000_000, strrows: int = 2_000_000) -> DatasetRun:
    """Build every dataset job `reps` times with fresh options, in a temporary workdir."""
    with DatasetBench(rows, strrows) as bench:
        for _ in range(reps):
            bench.rep()
    return bench.run


def figures(run: DatasetRun, acc: AcceleratorRun) -> list[Figure]:
    """The dataset figures against the Accelerator (this run's or the fixed ones) and numpy."""
    m = 1e6
    # issue 10's 1.5x is for the per-row write of int64 + float64 and for iterate loops
    both = Target("issue 4", 1.0), Target("issue 10", 1.5)
    res = []
    for key, name, targets in (
        (
            "write_numeric",
            f"write int64 + float64, `dw.write(i, f)` per row ({run.rows / m:g} M rows)",
            both,
        ),
        (
            "write_strings",
            f"write unicode, `dw.write(s)` per row ({run.strrows / m:g} M rows)",
            both[:1],
        ),
        (
            "read_numeric_percol",
            "`sum(ds.iterate(sliceno, col))` per column, int64 + float64",
            both,
        ),
        ("read_numeric_tuple", '`for a, b in ds.iterate(sliceno, ("a", "b"))`', both),
        ("read_strings", '`sum(map(len, ds.iterate(sliceno, "u")))`', both),
    ):
        baseline, source = acc.baseline(key)
        res.append(Figure(
            name, run.rate(key) / m, "M rows/s", baseline / m, source, targets,
            accelerator=acc.cell(key, 1 / m, "M rows/s"),
        ))  # fmt: skip
    read_ours = run.rows / min(t for t, _ in run.numpy_read) / m
    read_np = run.rows / min(t for _, t in run.numpy_read) / m
    write_ours = run.rows / min(t for t, _ in run.numpy_write) / m
    write_np = run.rows / min(t for _, t in run.numpy_write) / m
    iterate, iterate_source = acc.baseline("read_numeric_percol")
    per_row, per_row_source = acc.baseline("write_numeric")
    read = "numpy read: `ds.column(c).numpy(sliceno).sum()`, int64 + float64"
    write = 'numpy write: `dw.write_columns({"a": a, "b": b})` in analysis'
    res += [
        Figure(
            f"{read}, vs the Accelerator's iterate", read_ours, "M rows/s", iterate / m,
            f"{iterate_source}, sum(iterate)", [Target("issue 4", 10.0)],
            accelerator=acc.cell("read_numeric_percol", 1 / m, "M rows/s"),
        ),
        Figure(
            f"{read}, vs numpy", read_ours, "M rows/s", read_np,
            "`np.fromfile(file).sum()` of the same files, this run", [Target("issue 10", 0.5)],
        ),
        Figure(
            f"{write}, vs the Accelerator's per-row write", write_ours, "M rows/s", per_row / m,
            f"{per_row_source}, dw.write per row", [Target("issue 4", 50.0)],
            accelerator=acc.cell("write_numeric", 1 / m, "M rows/s"),
        ),
        Figure(
            f"{write}, vs numpy", write_ours, "M rows/s", write_np,
            "`a.tofile(); b.tofile()` of the same arrays, this run", [Target("issue 10", 0.5)],
        ),
    ]  # fmt: skip
    return res


def details(run: DatasetRun, acc: AcceleratorRun) -> str:
    """Per job: accnb's parts, its runner total and build wall, and the Accelerator's exectime."""
    ax = acc.ds_exectimes()
    lines = [
        "| job | rows | accnb prepare + analysis + synthesis, s | accnb post total, s "
        "| accnb build wall, s | the Accelerator exectime, s "
        "| the Accelerator in RESULTS-accelerator.md, s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, times in run.job_time.items():
        rows = run.rows_of(name)
        theirs = spread(ax[name]) if name in ax else "-"
        fixed = f"{rows / FIXED[name]:.3f}" if name in FIXED else "-"
        lines.append(
            f"| {name} | {rows:,} | {spread(times)} | {spread(run.parts[name]['total'])} "
            f"| {spread(run.wall[name])} | {theirs} | {fixed} |"
        )
    lines += [
        "",
        "numpy, timed inside analysis (the slower slice's fastest try in each job; median "
        "(min..max) of the reps, ms):",
        "",
        "| what | accnb | numpy |",
        "| --- | ---: | ---: |",
        f"| read int64 + float64 columns and .sum() them | {spread([t for t, _ in run.numpy_read], 1000, 1)} "
        f"| np.fromfile: {spread([t for _, t in run.numpy_read], 1000, 1)} |",
        f"| write them (`write_columns`) | {spread([t for t, _ in run.numpy_write], 1000, 1)} "
        f"| ndarray.tofile: {spread([t for _, t in run.numpy_write], 1000, 1)} |",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--strrows", type=int, default=2_000_000)
    args = parser.parse_args()
    run = measure(args.reps, args.rows, args.strrows)
    acc = AcceleratorRun(skipped="not run (python -m bench runs it)")
    print(markdown(figures(run, acc)))
    print()
    print(details(run, acc))


if __name__ == "__main__":
    main()
