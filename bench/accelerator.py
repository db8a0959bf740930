"""The Accelerator's own dataset, trivial-job and thumbnail benchmarks, run beside accnb's.

    python bench/accelerator.py [--build] [--reps 5] [--images DIR]

Uses ../shared/anchor-bench (its methods and bench_ax.py, unchanged) and a venv outside the
repository holding the `accelerator` package: `$SCRATCH/acc-venv` (SCRATCH defaults to the
system temp dir; ACCNB_ACCELERATOR_VENV names another). `--build` (or `python -m bench
--with-accelerator`) makes that venv with pip when it is missing, about 15 s. Each run makes a
fresh project with `ax init --slices 2`, starts `ax server` on it, runs `bench_ax.py --only
trivial` and `--only ds`, stops the server and removes the project. For the thumbnail
pipeline, `AcceleratorSession.thumbs_rep(images)` runs the JPEG case of `bench_ax.py --only
thumbs` once: its full build `ax run thumbs` (import_images, shapehist, thumbnailer,
export_images) with a new NONCE, through bench_ax.py's own `ax_run`, without the BMP and
draft cases and the no-op rebuilds (which accnb's figures do not use, and which take three
times as long).

Without the venv (or the anchor-bench folder) nothing runs, and the figures measured on this
machine kind in ../shared/anchor-bench/RESULTS-accelerator.md stand in as the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ANCHOR = Path(os.environ.get("ACCNB_ANCHOR_BENCH", REPO.parent / "shared" / "anchor-bench"))
SCRATCH = Path(os.environ.get("SCRATCH") or tempfile.gettempdir())
VENV = Path(os.environ.get("ACCNB_ACCELERATOR_VENV", SCRATCH / "acc-venv"))

# RESULTS-accelerator.md (accelerator 2025.11.11, Python 3.11, 2 cores): rows/s of the dataset
# jobs (job exectime), and ms per trivial job: new = 20 new jobs' wall minus an empty build's,
# over 20 (28 ms); reused = the no-op rerun of those 20 minus the empty build, over 20
# ((0.40 - 0.30) s / 20 = 5 ms).
FIXED = {
    "write_numeric": 3_929_350.0,
    "write_strings": 3_542_274.0,
    "read_numeric_percol": 32_353_553.0,
    "read_numeric_tuple": 20_020_407.0,
    "read_strings": 13_417_950.0,
    "new_job_ms": 28.0,
    "reused_job_ms": 5.0,
    # Thumbnail pipeline, 400 JPEGs, thumbs JPEG: job exectime of import_images (s), and
    # images / the wall of the whole `ax run thumbs` full build (8.36 s).
    "thumbs_import_s": 4.012,
    "thumbs_pipeline_ips": 47.9,
}
FIXED_SOURCE = "the Accelerator, RESULTS-accelerator.md"
RUN_SOURCE = "the Accelerator, this run"
NO_VENV = "skipped (no venv; run with --with-accelerator to build it)"

# The first full build of bench_ax.py's bench_thumbs (JPEG, no draft), with its ax_run:
# argv ANCHOR PROJ IMG_DIR OUT_JSON. Run by the venv's python (ax_run finds `ax` beside it).
THUMBS_JPEG = """
import json, sys
sys.path.insert(0, sys.argv[1])
import bench_ax
proj, imgdir, out = sys.argv[2:5]
env = dict(IMG_DIR=imgdir, THUMB_FMT='JPEG', THUMB_DRAFT=0, NONCE=bench_ax.new_nonce())
wall, times = bench_ax.ax_run(proj, 'thumbs', env)
with open(out, 'w') as fh:
    json.dump(dict(full_build_wall=wall, times=times), fh)
"""


@dataclass
class AcceleratorRun:
    """The Accelerator's figures from this run (one bench_ax.py json a rep), or why there are none."""

    skipped: str | None = None
    reps: dict[str, list[dict]] = field(default_factory=dict)  # "ds"/"trivial"/"thumbs" -> jsons
    versions: dict[str, str] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    @property
    def measured(self) -> dict[str, float]:
        return figures(self.reps)

    def baseline(self, key: str) -> tuple[float, str]:
        """This run's figure when there is one, else the fixed one, and where it came from."""
        measured = self.measured
        if key in measured:
            return measured[key], RUN_SOURCE
        return FIXED[key], FIXED_SOURCE

    def cell(self, key: str, scale: float = 1.0, unit: str = "") -> str:
        """The table cell for this run's figure: the value, or why it was skipped."""
        measured = self.measured
        if key in measured:
            from bench.table import fmt

            return f"{fmt(measured[key] * scale)} {unit}".strip()
        return self.skipped or "not measured"

    def ds_exectimes(self) -> dict[str, list[float]]:
        """Per dataset job, the job exectime of each rep (seconds)."""
        got: dict[str, list[float]] = {}
        for raw in self.reps.get("ds", []):
            for name, e in raw["dsbench"]["job_exectime"].items():
                got.setdefault(name, []).append(e["median"])
        return got

    def thumbs_details(self) -> str:
        """Per rep of the thumbs JPEG full build: its wall and import_images' exectime."""
        reps = self.reps.get("thumbs", [])
        if not reps:
            return ""
        walls = ", ".join(f"{t['full_build_wall']:.2f}" for t in reps)
        imports = ", ".join(f"{t['times']['import_images']['total']:.3f}" for t in reps)
        thumbs = ", ".join(f"{t['times']['thumbnailer']['total']:.3f}" for t in reps)
        return (
            f"the Accelerator's `ax run thumbs` (JPEG), per rep, s: full build (wall) {walls}; "
            f"job exectime import_images {imports}, thumbnailer {thumbs}"
        )


def venv_ready(venv: Path = VENV) -> bool:
    return (venv / "bin" / "ax").exists() and (venv / "bin" / "python").exists()


def build_venv(venv: Path = VENV, say: Callable[[str], None] = print) -> None:
    """A fresh venv with the Accelerator, as ../shared/anchor-bench/README.md says."""
    say(f"making the Accelerator's venv in {venv} (pip install accelerator pillow numpy)")
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "accelerator", "pillow", "numpy"],
        check=True,
    )


def _versions(venv: Path) -> dict[str, str]:
    py = str(venv / "bin" / "python")
    code = (
        "import sys, accelerator, numpy, PIL; "
        "print(sys.version.split()[0], accelerator.__version__, numpy.__version__, PIL.__version__)"
    )
    out = subprocess.run([py, "-c", code], capture_output=True, text=True, check=True).stdout
    names = ("python", "accelerator", "numpy", "pillow")
    return dict(zip(names, out.split(), strict=True))


def _wait_for_server(ax: str, proj: Path, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(
                f"ax server exited with {server.returncode}: {proj.parent}/server.log"
            )
        if subprocess.run([ax, "status"], cwd=proj, capture_output=True).returncode == 0:
            return
        time.sleep(0.5)
    raise RuntimeError(f"ax server in {proj} did not answer within {timeout:.0f} s")


def _stop(server: subprocess.Popen) -> None:
    """Stop the server and the processes it started: its own process group, made for it."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


class AcceleratorSession:
    """A fresh Accelerator project with its server running, for one run of reps.

    `with AcceleratorSession(res, build) as acc:` fills `res.skipped` instead of raising when
    the Accelerator cannot run; `acc.rep("ds")` then does nothing.
    """

    def __init__(
        self, res: AcceleratorRun, build: bool = False, venv: Path = VENV,
        say: Callable[[str], None] = print,
    ) -> None:  # fmt: skip
        self.res, self.build, self.venv, self.say = res, build, venv, say
        self.server: subprocess.Popen | None = None
        self.base: Path | None = None

    def __enter__(self) -> AcceleratorSession:
        res = self.res
        if res.skipped:
            return self
        if not (ANCHOR / "bench_ax.py").exists():
            res.skipped = f"skipped (no {ANCHOR}/bench_ax.py)"
            return self
        if not venv_ready(self.venv):
            if not self.build:
                res.skipped = NO_VENV
                return self
            try:
                t = time.perf_counter()
                build_venv(self.venv, self.say)
                res.log.append(f"made {self.venv} in {time.perf_counter() - t:.1f} s")
            except (OSError, subprocess.CalledProcessError) as e:
                res.skipped = f"skipped (making the venv failed: {e})"
                return self
        try:
            res.versions = _versions(self.venv)
            self.base = Path(tempfile.mkdtemp(prefix="acc-bench-", dir=SCRATCH))
            self.proj = self.base / "proj"
            ax = str(self.venv / "bin" / "ax")
            subprocess.run(
                [ax, "init", "--slices", "2", str(self.proj)], check=True, capture_output=True
            )
            for method in sorted((ANCHOR / "accmethods").glob("*.py")):
                shutil.copy(method, self.proj / "dev" / method.name)
            with open(self.base / "server.log", "wb") as log:
                self.server = subprocess.Popen(
                    [ax, "server"], cwd=self.proj, stdout=log, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, start_new_session=True,
                )  # fmt: skip
            _wait_for_server(ax, self.proj, self.server)
        except (OSError, RuntimeError, subprocess.CalledProcessError) as e:
            self._failed(e)
        return self

    def rep(self, only: str, *args: str) -> None:
        """One rep of `bench_ax.py --only ONLY [ARGS]` (trivial or ds), kept in the run's reps."""
        if self.res.skipped:
            return
        out = self.base / f"ax-{only}.json"
        out.unlink(missing_ok=True)
        python = str(self.venv / "bin" / "python")
        cmd = [python, str(ANCHOR / "bench_ax.py"), str(self.proj), str(self.proj), str(out),
               "--reps", "1", "--only", only, *args]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode:
            tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
            self._failed(RuntimeError(f"bench_ax.py --only {only} failed: {' / '.join(tail)}"))
            return
        self.res.reps.setdefault(only, []).append(json.loads(out.read_text()))

    def thumbs_rep(self, images: Path) -> None:
        """One full `ax run thumbs` (JPEG) over the images (THUMBS_JPEG), kept in the run's reps.
        A failure is logged and leaves the other figures of the run alone."""
        if self.res.skipped:
            return
        out = self.base / "ax-thumbs.json"
        out.unlink(missing_ok=True)
        cmd = [str(self.venv / "bin" / "python"), "-c", THUMBS_JPEG, str(ANCHOR), str(self.proj),
               str(images), str(out)]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode:
            tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
            self.res.log.append(f"ax run thumbs (JPEG) failed: {' / '.join(tail)}")
            return
        self.res.reps.setdefault("thumbs", []).append(json.loads(out.read_text()))

    def _failed(self, e: BaseException) -> None:
        self.res.skipped = f"skipped (the run failed: {e})"
        self.res.reps.clear()
        log = self.base / "server.log" if self.base else None
        if log is not None and log.exists():
            self.res.log += ["server.log:", *log.read_text(errors="replace").splitlines()[-20:]]

    def __exit__(self, *exc: object) -> None:
        if self.server is not None:
            _stop(self.server)
        if self.base is not None:
            shutil.rmtree(self.base, ignore_errors=True)


def figures(reps: dict[str, list[dict]]) -> dict[str, float]:
    """bench_ax.py's jsons (one a rep) as the figures accnb compares with: rows/s of the
    dataset jobs (rows / the fastest rep's exectime, as accnb's), ms per new and per reused
    trivial job (median over the reps of: 20 new jobs' `ax run`, or their no-op rerun, minus
    an empty build's, over 20); of the thumbs JPEG full build, the median over the reps of
    import_images' job exectime (s) and of images / the whole `ax run`'s wall."""
    got: dict[str, float] = {}
    ds = [raw["dsbench"] for raw in reps.get("ds", [])]
    if ds:
        for name in ds[0]["job_exectime"]:
            rows = ds[0]["rows"] if "numeric" in name else ds[0]["strrows"]
            got[name] = rows / min(d["job_exectime"][name]["median"] for d in ds)
    trivial = [raw["trivial_trivial"] for raw in reps.get("trivial", [])]
    if trivial:
        # Differences within a rep, whose `ax run`s ran seconds apart under the same load.
        per_job = {
            key: statistics.median(
                (t[key]["median"] - t["empty_build_wall"]["median"]) / t["njobs"] * 1000
                for t in trivial
            )
            for key in ("wall", "noop_wall")
        }
        got["new_job_ms"] = per_job["wall"]
        if per_job["noop_wall"] > 0:  # else below what whole `ax run`s resolve: keep the fixed
            got["reused_job_ms"] = per_job["noop_wall"]
    thumbs = reps.get("thumbs", [])
    if thumbs:
        got["thumbs_import_s"] = statistics.median(
            t["times"]["import_images"]["total"] for t in thumbs
        )
        got["thumbs_pipeline_ips"] = statistics.median(
            t["times"]["export_result"]["files"] / t["full_build_wall"] for t in thumbs
        )
    return got


def run(
    reps: int = 5, build: bool = False, say: Callable[[str], None] = print,
    images: Path | None = None,
) -> AcceleratorRun:  # fmt: skip
    """The Accelerator's benchmarks on their own, `reps` reps of each (thumbs with `images`)."""
    res = AcceleratorRun()
    with AcceleratorSession(res, build, say=say) as acc:
        for _ in range(reps):
            acc.rep("trivial")
            acc.rep("ds")
            if images is not None:
                acc.thumbs_rep(images)
    return res


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--build", action="store_true", help="make the venv when it is missing")
    parser.add_argument("--images", type=Path, help="a folder of JPEGs: run `ax run thumbs` too")
    args = parser.parse_args()
    res = run(args.reps, args.build, images=args.images)
    print(json.dumps(dict(skipped=res.skipped, versions=res.versions, measured=res.measured,
                          log=res.log, exectimes=res.ds_exectimes()), indent=1))  # fmt: skip


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
