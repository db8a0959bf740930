"""DaskExecutor against the fork executor: the thumbnail pipeline and the overhead per job and slice.

    python bench/dask.py [--images DIR] [-n 100] [--samples] [--reps 3] [--jobs 10]

Starts a LocalCluster of 2 worker processes of 1 thread (so as many slices run at once as
the fork executor runs with 2 slices) and measures, on both executors:

- the thumbnail pipeline (import_images, then thumbnailer) on the same files: the images
  of ../shared/anchor-bench/make_images.py (-n 100 --seed 1, made into --images unless
  there; or --samples: accnb.demo's 20 sample files), each rep in fresh workdirs, and
  whether both executors wrote byte-identical datasets;
- new trivial jobs with 2 and with 16 slices: the per-job cost, and the per-slice cost
  (the difference over 14 more slices, run 2 at a time);
- what the job process spends connecting a Client to the scheduler and closing it (a
  fork connects and closes, as a job process does).

Needs `pip install 'accnb[dask]'`. Prints a markdown table; figures are medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Run as a script, this file's folder comes first on sys.path, where this file would be
# imported as `dask`: put the repository there instead.
sys.path[:] = [str(HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

import distributed  # noqa: E402

import accnb  # noqa: E402
from accnb.dask_executor import DaskExecutor  # noqa: E402
from accnb.demo import make_samples  # noqa: E402
from bench.overhead import TRIVIAL  # noqa: E402

MAKE_IMAGES = Path(__file__).resolve().parents[2] / "shared" / "anchor-bench" / "make_images.py"


def quiet(part: str, text: str) -> None:
    pass


def images(args: argparse.Namespace, tmp: Path) -> Path:
    if args.samples:
        folder = tmp / "samples"
        make_samples(folder)
        return folder
    folder = Path(args.images) if args.images else tmp / "images"
    if not (folder.is_dir() and any(folder.iterdir())):
        print(f"making {args.n} images in {folder} ...", file=sys.stderr)
        subprocess.run(
            [sys.executable, str(MAKE_IMAGES), str(folder), "-n", str(args.n), "--seed", "1"],
            check=True,
        )
    return folder


def pipeline(base: Path, folder: Path, executor) -> tuple[float, float, dict[str, bytes]]:
    """Seconds for import_images and thumbnailer in a fresh workdir, and the dataset files."""
    with accnb.Workdir(base / "wd", slices=2, executor=executor) as wd:
        t = time.perf_counter()
        imported = wd.build("import_images", directory=str(folder), relay=quiet)
        t_import = time.perf_counter() - t
        t = time.perf_counter()
        thumbs = wd.build("thumbnailer", source=imported, relay=quiet)
        t_thumbs = time.perf_counter() - t
        files = {}
        for job in (imported, thumbs):
            root = job.path / "datasets"
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    files[f"{job.method}/{path.relative_to(root)}"] = path.read_bytes()
    return t_import, t_thumbs, files


def trivial_jobs(base: Path, executor, slices: int, jobs: int, start: int) -> float:
    """Seconds per new trivial job."""
    with accnb.Workdir(base / f"trivial{slices}", slices=slices, executor=executor) as wd:
        wd.method("trivial", TRIVIAL)
        wd.build("trivial", n=start - 1, relay=quiet)  # loads the method on the workers
        t = time.perf_counter()
        for k in range(jobs):
            wd.build("trivial", n=start + k, relay=quiet)
        return (time.perf_counter() - t) / jobs


def connect_and_close(address: str) -> float:
    """Seconds a forked process (as a job process is) takes to connect a Client and close it."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            t = time.perf_counter()
            distributed.Client(address, set_as_default=False).close()
            os.write(write_end, repr(time.perf_counter() - t).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    took = float(os.read(read_end, 100))
    os.close(read_end)
    os.waitpid(pid, 0)
    return took


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", help="folder of images (made there when missing)")
    parser.add_argument("-n", type=int, default=100, help="images to make (default 100)")
    parser.add_argument("--samples", action="store_true", help="accnb.demo's sample files")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=10, help="trivial jobs per rep")
    args = parser.parse_args()
    load_before = os.getloadavg()
    with (
        tempfile.TemporaryDirectory() as tmp_name,
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
        ) as cluster,
    ):
        tmp = Path(tmp_name)
        folder = images(args, tmp)
        count = sum(1 for p in folder.rglob("*") if p.is_file())
        executors = {"fork": None, "dask": DaskExecutor(cluster)}
        times: dict[str, dict[str, list[float]]] = {
            name: {"import": [], "thumbs": [], "job2": [], "job16": []} for name in executors
        }
        identical = True
        connects = []
        for rep in range(args.reps):
            files = {}
            for name, executor in executors.items():  # interleaved: both see the same load
                t_import, t_thumbs, files[name] = pipeline(tmp / f"{name}{rep}", folder, executor)
                times[name]["import"].append(t_import)
                times[name]["thumbs"].append(t_thumbs)
                for slices in (2, 16):
                    per_job = trivial_jobs(tmp / f"{name}{rep}", executor, slices, args.jobs, 1000)
                    times[name][f"job{slices}"].append(per_job)
            identical = identical and files["fork"] == files["dask"]
            connects += [connect_and_close(cluster.scheduler_address) for _ in range(args.jobs)]
    med = {name: {k: statistics.median(v) for k, v in t.items()} for name, t in times.items()}
    print(f"images: {count} files in {folder}; reps: {args.reps} (medians)")
    print(
        f"load average before: {' '.join(f'{x:.2f}' for x in load_before)}, after: "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores"
    )
    print()
    print("| figure | fork executor | DaskExecutor, LocalCluster 2x1 | dask / fork |")
    print("| --- | ---: | ---: | ---: |")
    rows = [
        ("import_images build", "import", lambda s: f"{s:.2f} s"),
        ("thumbnailer build", "thumbs", lambda s: f"{s:.2f} s"),
        ("new trivial job, 2 slices", "job2", ms),
        ("new trivial job, 16 slices", "job16", ms),
    ]
    for label, key, fmt in rows:
        fork, dask = med["fork"][key], med["dask"][key]
        print(f"| {label} | {fmt(fork)} | {fmt(dask)} | {dask / fork:.2f}x |")
    per_slice = {n: (med[n]["job16"] - med[n]["job2"]) / 14 for n in med}
    print(
        f"| per extra slice ((16-slice job - 2-slice job) / 14, 2 at a time) | "
        f"{ms(per_slice['fork'])} | {ms(per_slice['dask'])} | "
        f"{per_slice['dask'] / per_slice['fork']:.2f}x |"
    )
    print(f"| job process: Client connect + close | - | {ms(statistics.median(connects))} | - |")
    print()
    print(f"datasets byte-identical on both executors: {'yes' if identical else 'NO'}")


if __name__ == "__main__":
    main()
