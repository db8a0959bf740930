"""Every benchmark in one run, against the Accelerator: one table, written to bench/RESULTS.md.

    python -m bench [--reps 5] [--with-accelerator | --no-accelerator] [--no-write]
                    [--quiet-wait 20] [--nice N]

The reps interleave, so that accnb and the Accelerator see the same load on a shared
machine: in each, accnb's trivial jobs (bench/overhead.py's), the Accelerator's, accnb's
dataset jobs (bench/datasets.py), the Accelerator's. Each rep first waits (up to
--quiet-wait seconds) for a second in which other work uses under 0.3 cores, and the report
says what it found: on a busy 2-core machine every figure is slower, the ratios less so.
The Accelerator's side needs its own venv (bench/accelerator.py); `--with-accelerator`
makes it when missing. Without it, its fixed figures from
../shared/anchor-bench/RESULTS-accelerator.md are the baseline.

bench/thumbnails.py joins the run when it exists: with `figures(reps, accelerator, session)`
returning bench.table.Figure rows, those go into the table (each of its reps also runs the
Accelerator's `ax run thumbs` in the same AcceleratorSession, when the venv is there);
otherwise its command line's output is added below the table. bench/csv_methods.py's
chain of the Accelerator's CSV methods runs in the same session, a figure for each job
against the Accelerator's own. bench/gallery.py's page flip in a real browser joins the
same way (marked skipped, with the reason, when Playwright or Chromium is missing).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import inspect
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import numpy as np  # noqa: E402
import PIL  # noqa: E402

import accnb  # noqa: E402
from accnb.job import WORKDIRS  # noqa: E402
from bench import csv_methods, datasets  # noqa: E402
from bench.accelerator import AcceleratorRun, AcceleratorSession  # noqa: E402
from bench.overhead import (  # noqa: E402
    TARGET_NEW_MS,
    TARGET_REUSED_BIG_MS,
    TARGET_REUSED_MS,
    TRIVIAL,
    bare_forks,
    reused_in_a_big_workdir,
)
from bench.table import Figure, Target, markdown, median, spread  # noqa: E402

RESULTS = HERE / "RESULTS.md"
NOTES = "<!-- python -m bench rewrites everything above this line and keeps what follows -->"


class OverheadBench:
    """bench/overhead.py's measurement, one rep at a time: new, reused, bare forks (seconds)."""

    def __init__(self, jobs: int = 20) -> None:
        self.jobs = jobs
        self.new: list[float] = []
        self.reused: list[float] = []
        self.forks: list[float] = []

    def __enter__(self) -> OverheadBench:
        self._tmp = tempfile.TemporaryDirectory(prefix="accnb-bench-")
        self.wd = accnb.Workdir(Path(self._tmp.name) / "overhead", slices=2)
        self.wd.method("trivial", TRIVIAL)
        return self

    def __exit__(self, *exc: object) -> None:
        WORKDIRS.pop(self.wd.store.name, None)
        self._tmp.cleanup()

    def rep(self) -> None:
        quiet = lambda part, text: None  # noqa: E731
        base = len(self.new) * 1000
        t = time.perf_counter()
        for k in range(self.jobs):
            self.wd.build("trivial", n=base + k, relay=quiet)
        self.new.append((time.perf_counter() - t) / self.jobs)
        t = time.perf_counter()
        for k in range(self.jobs):
            assert self.wd.build("trivial", n=base + k, relay=quiet).reused
        self.reused.append((time.perf_counter() - t) / self.jobs)
        self.forks.append(median(bare_forks() for _ in range(self.jobs)))

    def figures(self, acc: AcceleratorRun) -> list[Figure]:
        new_ms, reused_ms = median(self.new) * 1000, median(self.reused) * 1000
        big_ms = reused_in_a_big_workdir() * 1000
        res = [
            Figure(
                "reused build, 10,000 jobs in the workdir", big_ms, "ms", reused_ms,
                "the reused build above, a 20-job workdir",
                [Target("issue 10", max_value=TARGET_REUSED_BIG_MS)], lower_is_better=True,
            )
        ]  # fmt: skip
        for key, name, value, target in (
            ("new_job_ms", "new trivial job, 2 slices (`wd.build`)", new_ms, TARGET_NEW_MS),
            ("reused_job_ms", "reused build", reused_ms, TARGET_REUSED_MS),
        ):
            baseline, source = acc.baseline(key)
            res.append(
                Figure(
                    name, value, "ms", baseline, source, [Target("bench/overhead.py", max_value=target)],
                    lower_is_better=True, accelerator=acc.cell(key, unit="ms"),
                )
            )  # fmt: skip
        forks_ms = median(self.forks) * 1000
        res.append(
            Figure(
                "new trivial job, 2 slices, vs forking 3 bare processes", new_ms, "ms", forks_ms,
                "3 bare forks of the bench process, this run",
                [Target("issue 10: the job <= 1.5x the forks", min_ratio=0.667)], lower_is_better=True,
            )
        )  # fmt: skip
        return res

    def details(self) -> str:
        return (
            f"accnb per job, median (min..max) of the reps of {self.jobs}: new "
            f"{spread(self.new, 1000, 2)} ms, reused {spread(self.reused, 1000, 4)} ms; "
            f"3 bare forks {spread(self.forks, 1000, 2)} ms."
        )


def machine() -> dict[str, str]:
    cpu = "unknown"
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as fh:
        kib = int(next(line for line in fh if line.startswith("MemTotal")).split()[1])
    return {
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "memory": f"{kib / 2**20:.1f} GiB",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "Pillow": PIL.__version__,
        "accnb": accnb.__version__,
    }


def commit() -> str:
    """The commit measured, and whether accnb/ had changes not in it."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=HERE.parent, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "accnb")
    return f"{head} (with uncommitted changes in accnb/)" if dirty else head


def load() -> str:
    with open("/proc/loadavg") as fh:
        return " ".join(fh.read().split()[:3])


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def busy_cores(seconds: float = 1.0) -> float:
    """How many cores something was using over the last `seconds` (this process is asleep)."""
    b0, t0 = _cpu_ticks()
    time.sleep(seconds)
    b1, t1 = _cpu_ticks()
    return (b1 - b0) / max(t1 - t0, 1) * (os.cpu_count() or 1)


def wait_for_quiet(limit: float, most: float = 0.3) -> tuple[float, float]:
    """Wait up to `limit` s for a second in which others use under `most` cores, since the
    machine may be shared. Returns (seconds waited, cores busy in the last second)."""
    started = time.monotonic()
    while True:
        busy = busy_cores()
        waited = time.monotonic() - started
        if busy < most or waited >= limit:
            return waited, busy


def thumbnails(
    reps: int, acc: AcceleratorRun, session: AcceleratorSession | None = None
) -> tuple[list[Figure], str]:
    """bench/thumbnails.py's figures and their details, or its printed output; nothing when
    it does not exist. `session` runs the Accelerator's side in its reps."""
    path = HERE / "thumbnails.py"
    if not path.exists():
        return [], ""
    # Imported only when it has figures(): a plain script would run, or exit, on import.
    if "\ndef figures(" in path.read_text():
        spec = importlib.util.spec_from_file_location("bench.thumbnails", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        given = {"reps": reps, "accelerator": acc, "session": session}
        params = inspect.signature(module.figures).parameters
        try:
            got = module.figures(**{k: v for k, v in given.items() if k in params})
        except Exception as e:  # noqa: BLE001 - the other figures of the run still count
            return [], f"bench/thumbnails.py figures() failed: {type(e).__name__}: {e}"
        if isinstance(got, str):
            return [], got
        got = list(got)
        return got, "\n\n".join(f.extra["details"] for f in got if "details" in f.extra)
    done = subprocess.run(
        [sys.executable, str(path)],
        cwd=HERE.parent, capture_output=True, text=True,
    )  # fmt: skip
    text = done.stdout.strip()
    if done.returncode:
        text += (
            f"\n\n(bench/thumbnails.py exited with {done.returncode}: {done.stderr.strip()[-500:]})"
        )
    return [], text


def csv_methods_figures(
    reps: int, acc: AcceleratorRun, session: AcceleratorSession
) -> tuple[list[Figure], str]:
    """bench/csv_methods.py's figures (the Accelerator's CSV methods against accnb's) and
    their details."""
    try:
        got = csv_methods.figures(reps, acc, session)
    except Exception as e:  # noqa: BLE001 - the other figures of the run still count
        return [], f"bench/csv_methods.py failed: {type(e).__name__}: {e}"
    return got, got[0].extra.get("details", "")


def gallery(reps: int, acc: AcceleratorRun, quiet_wait: float, say) -> tuple[list[Figure], str]:
    """bench/gallery.py's page-flip figure and its details (a skipped figure without a browser)."""
    from bench import gallery as gallery_bench

    waited, busy = wait_for_quiet(quiet_wait)
    try:
        got = gallery_bench.figures(reps=reps, accelerator=acc, say=say)
    except Exception as e:  # noqa: BLE001 - the other figures of the run still count
        return [gallery_bench.skipped(f"failed: {type(e).__name__}: {e}")], ""
    text = "\n\n".join(f.extra["details"] for f in got if "details" in f.extra)
    if text:
        text += f" (Waited {waited:.0f} s for a quiet second, then {busy:.2f} cores busy.)"
    return got, text


def report(
    figures: list[Figure], info: dict[str, str], acc: AcceleratorRun, sections: list[str]
) -> str:
    if acc.skipped:
        acc_line = f"The Accelerator: {acc.skipped}; its figures are the fixed ones of RESULTS-accelerator.md."
    else:
        acc_line = "The Accelerator: measured in this run, " + ", ".join(
            f"{k} {v}" for k, v in acc.versions.items()
        )
    lines = [
        "# Benchmark results",
        "",
        "Measured by `python -m bench` from the repository root (a few minutes; "
        "`--with-accelerator` first makes the Accelerator's venv outside the repository so "
        "its figures are measured beside accnb's, see bench/accelerator.py). Each figure has "
        "its own command too: `python bench/overhead.py`, `python bench/datasets.py`, "
        "`python bench/accelerator.py`, `python bench/csv_methods.py`, `python bench/gallery.py`. "
        "A ratio above 1 means "
        "accnb is better than the baseline.",
        "",
        f"- date: {info.pop('date')}",
        f"- machine: {info['cpu']}, {info['memory']} RAM, Linux {info['kernel']}",
        f"- versions: Python {info['python']}, numpy {info['numpy']}, Pillow {info['Pillow']}, "
        f"accnb {info['accnb']} at commit {info['commit']}",
        f"- load average (1, 5, 15 min) before: {info['load before']}, after: {info['load after']}; "
        f"nice {info['nice']}",
        f"- waited for a quiet second before each rep (up to --quiet-wait), then cores busy "
        f"with other work: {info['quiet']}",
        f"- {acc_line}",
        f"- reps: {info['reps']}, interleaved with the Accelerator's; dataset figures are the "
        "fastest rep of each side, job overhead figures the median",
        "",
        markdown(figures),
    ]
    for section in sections:
        if section:
            lines += ["", section]
    return "\n".join(lines) + "\n"


def write_results(text: str) -> None:
    """Rewrite RESULTS.md, keeping the hand-written notes after the NOTES line."""
    notes = ""
    if RESULTS.exists():
        old = RESULTS.read_text()
        if NOTES in old:
            notes = old[old.index(NOTES) + len(NOTES) :]
    RESULTS.write_text(f"{text}\n{NOTES}{notes or chr(10)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--strrows", type=int, default=2_000_000)
    parser.add_argument(
        "--with-accelerator", action="store_true",
        help="make the Accelerator's venv when it is missing, and run its benchmarks",
    )  # fmt: skip
    parser.add_argument("--no-accelerator", action="store_true", help="use its fixed figures")
    parser.add_argument("--no-write", action="store_true", help="don't rewrite bench/RESULTS.md")
    parser.add_argument(
        "--quiet-wait", type=float, default=20, metavar="S",
        help="before each rep, wait up to S seconds for the machine to be idle (default 20)",
    )  # fmt: skip
    parser.add_argument(
        "--nice", type=int, default=0, metavar="N",
        help="run at this nice value (negative needs root; shields the figures from other "
        "work on a shared machine, at that work's expense)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.nice:
        os.setpriority(os.PRIO_PROCESS, 0, args.nice)
    say = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    info = machine()
    info["date"] = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    info["commit"] = commit()
    info["load before"] = load()
    info["reps"] = str(args.reps)
    info["nice"] = str(os.getpriority(os.PRIO_PROCESS, 0))
    acc = AcceleratorRun(skipped="skipped (--no-accelerator)" if args.no_accelerator else None)
    started = time.perf_counter()
    quiet: list[str] = []
    with (
        AcceleratorSession(acc, args.with_accelerator, say=say) as ax,
        OverheadBench() as overhead,
        datasets.DatasetBench(args.rows, args.strrows) as ds,
    ):
        for rep in range(args.reps):
            waited, busy = wait_for_quiet(args.quiet_wait)
            quiet.append(f"{waited:.0f} s, then {busy:.2f}")
            say(f"rep {rep + 1}/{args.reps} ({time.perf_counter() - started:.0f} s, "
                f"waited {waited:.0f} s for quiet, {busy:.2f} cores busy)")  # fmt: skip
            overhead.rep()
            ax.rep("trivial")
            ds.rep()
            ax.rep("ds", "--rows", str(args.rows), "--strrows", str(args.strrows))
        say(f"thumbnails ({time.perf_counter() - started:.0f} s)")
        thumb_figures, thumb_text = thumbnails(args.reps, acc, ax)
        say(f"CSV methods ({time.perf_counter() - started:.0f} s)")
        csv_figures, csv_text = csv_methods_figures(args.reps, acc, ax)
    say(f"gallery page flips in a browser ({time.perf_counter() - started:.0f} s)")
    gallery_figures, gallery_text = gallery(args.reps, acc, args.quiet_wait, say)
    info["load after"] = load()
    info["quiet"] = "; ".join(quiet)
    figures = (
        overhead.figures(acc)
        + datasets.figures(ds.run, acc)
        + thumb_figures
        + csv_figures
        + gallery_figures
    )
    sections = [
        "## Details",
        overhead.details(),
        datasets.details(ds.run, acc),
        "\n".join(["The Accelerator's run:", "", *(f"    {x}" for x in acc.log)])
        if acc.log
        else "",
        f"## Thumbnails (bench/thumbnails.py)\n\n{thumb_text}" if thumb_text else "",
        f"## CSV methods (bench/csv_methods.py)\n\n{csv_text}" if csv_text else "",
        f"## Gallery (bench/gallery.py)\n\n{gallery_text}" if gallery_text else "",
        f"Whole run: {time.perf_counter() - started:.0f} s.",
    ]
    text = report(figures, info, acc, sections)
    print(text)
    if not args.no_write:
        write_results(text)
        say(f"written to {RESULTS}")
