"""The Accelerator's standard methods for CSV data, accnb's against the Accelerator's, in one run.

    python bench/csv_methods.py [--lines 500000] [--reps 3] [--no-accelerator]

A generated CSV file (an int, a text, a float, a date and a yes/no column) goes through
csvimport, dataset_type (int64_10, unicode:utf-8, float64, date:%Y-%m-%d), dataset_hashpart
on the int, dataset_type with that hashlabel, and dataset_sort on the float, with 2 slices.
Each rep builds accnb's chain in a fresh workdir, then the Accelerator's in its own project
(bench/accelerator.py's AcceleratorSession, when its venv is there). The figure of a job is
its own total time (accnb's timings, the Accelerator's exectime), the median over the reps;
a ratio above 1 means accnb is faster.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.accelerator import AcceleratorRun, AcceleratorSession  # noqa: E402
from bench.table import Figure, Target, fmt  # noqa: E402

JOBS = ("csvimport", "dataset_type", "dataset_hashpart", "dataset_type_hashlabel", "dataset_sort")
LABELS = {
    "csvimport": "csvimport",
    "dataset_type": "dataset_type (int, text, float, date)",
    "dataset_hashpart": "dataset_hashpart on the int",
    "dataset_type_hashlabel": "dataset_type with that hashlabel",
    "dataset_sort": "dataset_sort on the float",
}
TYPES = dict(id="int64_10", name="unicode:utf-8", value="float64", date="date:%Y-%m-%d")

# `ax run csvbench` in the Accelerator's project: the same chain, exectimes to TIMES_JSON.
AX_BUILD = """
import json
import os


def main(urd):
    TYPES = json.loads(os.environ['CSV_TYPES'])
    imp = urd.build('csvimport', filename=os.environ['CSV_FILE'])
    typed = urd.build('dataset_type', source=imp, column2type=TYPES)
    jobs = dict(
        csvimport=imp,
        dataset_type=typed,
        dataset_hashpart=urd.build('dataset_hashpart', source=typed, hashlabel='id'),
        dataset_type_hashlabel=urd.build(
            'dataset_type', source=imp, column2type=TYPES, hashlabel='id'),
        dataset_sort=urd.build('dataset_sort', source=typed, sort_columns='value'),
    )
    with open(os.environ['TIMES_JSON'], 'w') as fh:
        json.dump({name: j.post.exectime.total for name, j in jobs.items()}, fh)
"""


def make_csv(path: Path, lines: int) -> None:
    rnd = random.Random(1)
    with open(path, "w") as fh:
        fh.write("id,name,value,date,flag\n")
        for i in range(lines):
            fh.write(
                f"{i},name{rnd.randrange(10000)},{rnd.random():.6f},"
                f"2024-{1 + i % 12:02d}-{1 + i % 28:02d},{'yes' if i % 3 else 'no'}\n"
            )


def accnb_rep(csv: Path) -> dict[str, float]:
    """Each job's total time, s, in a fresh workdir of 2 slices."""
    import accnb

    quiet = lambda part, text: None  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp, accnb.Workdir(Path(tmp) / "wd", slices=2) as wd:

        def build(method: str, **kw) -> accnb.Job:
            return wd.build(method, relay=quiet, **kw)

        imp = build("csvimport", filename=str(csv))
        typed = build("dataset_type", source=imp, column2type=TYPES)
        jobs = dict(
            csvimport=imp,
            dataset_type=typed,
            dataset_hashpart=build("dataset_hashpart", source=typed, hashlabel="id"),
            dataset_type_hashlabel=build(
                "dataset_type", source=imp, column2type=TYPES, hashlabel="id"
            ),
            dataset_sort=build("dataset_sort", source=typed, sort_columns="value"),
        )
        return {name: job.post["timings"]["total"] for name, job in jobs.items()}


def accelerator_rep(acc: AcceleratorSession, csv: Path, rep: int) -> dict[str, float] | None:
    """The same chain in the Accelerator's project; a new file name each rep, so that
    nothing is reused."""
    if acc.res.skipped:
        return None
    script = acc.proj / "dev" / "build_csvbench.py"
    if not script.exists():
        script.write_text(AX_BUILD)
    named = acc.base / f"rep{rep}.csv"
    named.symlink_to(csv)
    out = acc.base / "csvbench.json"
    env = dict(os.environ, CSV_FILE=str(named), CSV_TYPES=json.dumps(TYPES), TIMES_JSON=str(out))
    done = subprocess.run(
        [str(acc.venv / "bin" / "ax"), "run", "csvbench"],
        cwd=acc.proj, env=env, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode:  # logged: the run's other figures of the Accelerator still count
        tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
        acc.res.log.append(f"ax run csvbench failed: {' / '.join(tail)}")
        return None
    return json.loads(out.read_text())


def measure(reps: int, lines: int, session: AcceleratorSession) -> tuple[list, list, int]:
    """(accnb's job times per rep, the Accelerator's per rep, the CSV's size), the reps
    interleaved."""
    ours: list[dict[str, float]] = []
    theirs: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "data.csv"
        make_csv(csv, lines)
        for rep in range(reps):
            ours.append(accnb_rep(csv))
            got = accelerator_rep(session, csv, rep)
            if got is not None:
                theirs.append(got)
        return ours, theirs, csv.stat().st_size


def figures(
    reps: int, accelerator: AcceleratorRun, session: AcceleratorSession, lines: int = 500_000
) -> list[Figure]:
    """One figure a job for `python -m bench`: accnb's median job time against the
    Accelerator's in the same run, each the median of its reps that ran (no baseline when
    it is skipped or every rep of it failed)."""
    ours, theirs, size = measure(reps, lines, session)
    caption = f"{lines:,} CSV lines ({size / 1e6:.1f} MB)"
    res = []
    for name in JOBS:
        mine = statistics.median(r[name] for r in ours)
        other = statistics.median(r[name] for r in theirs) if theirs else None
        res.append(
            Figure(
                f"{LABELS[name]}, {caption}", mine, "s", other,
                "the Accelerator's exectime, this run"
                if theirs
                else accelerator.skipped or "the Accelerator's csvbench failed: see its log",
                [Target("as fast as the Accelerator's method", min_ratio=1.0)],
                lower_is_better=True,
                accelerator=f"{fmt(other)} s" if theirs else "-",
            )
        )  # fmt: skip
    res[0].extra["details"] = details(ours, theirs)
    return res


def details(ours: list[dict[str, float]], theirs: list[dict[str, float]]) -> str:
    rows = [f"- {name}: accnb {_cell(r[name] for r in ours)} s" + (
        f", the Accelerator {_cell(r[name] for r in theirs)} s" if theirs else ""
    ) for name in JOBS]  # fmt: skip
    return (
        "CSV methods (bench/csv_methods.py), job time per rep, median (min..max):\n\n"
        + "\n".join(rows)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=500_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--no-accelerator", action="store_true")
    args = parser.parse_args()
    res = AcceleratorRun(skipped="skipped (--no-accelerator)" if args.no_accelerator else None)
    with AcceleratorSession(res) as acc:
        ours, theirs, size = measure(args.reps, args.lines, acc)
    print(f"{args.lines:,} lines ({size / 1e6:.1f} MB), 2 slices, {args.reps} reps;")
    print("median job time, s (min..max); a ratio above 1: accnb is faster")
    print(f"{'job':24} {'accnb':>20} {'the Accelerator':>20} {'ratio':>7}")
    for name in JOBS:
        mine = [r[name] for r in ours]
        line = f"{name:24} {_cell(mine):>20}"
        if theirs:
            other = [r[name] for r in theirs]
            ratio = statistics.median(other) / statistics.median(mine)
            line += f" {_cell(other):>20} {ratio:6.2f}x"
        print(line)
    if not theirs:
        print(f"the Accelerator: {res.skipped or ' / '.join(res.log) or 'no reps'}")


def _cell(times) -> str:
    times = list(times)
    return f"{statistics.median(times):.3f} ({min(times):.2f}..{max(times):.2f})"


if __name__ == "__main__":
    main()
