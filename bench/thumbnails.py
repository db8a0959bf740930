"""The thumbnail pipeline (import_images + thumbnailer) against plain Pillow on the same files.

    python bench/thumbnails.py [--images DIR] [--reps 3] [--no-accelerator]

The corpus is ../shared/anchor-bench/make_images.py's 400 JPEGs (made into DIR when it is
missing: about 3 minutes). In one run, per rep: the Pool bound (Pillow `draft` + `thumbnail`
+ save in `multiprocessing.Pool(2)`, as anchor-bench/bench_pil.py's thumb_draft mode), then
accnb's import_images and thumbnailer in a fresh workdir with 2 slices, then, when its venv
is there (bench/accelerator.py), the Accelerator's full `ax run thumbs` (JPEG) on the same
files: its import_images job exectime is the baseline of "import_images alone" and its
images / the build's wall the Accelerator's figure of the pipeline. Without the venv those
are the fixed ones of RESULTS-accelerator.md (import 4.012 s, pipeline 47.9 images/s), and
the row says which. Memory: the peak RSS of the thumbnailer's processes above what a fork
inherits, measured in a small caller process, against the largest decoded image.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from multiprocessing import Pool
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.accelerator import RUN_SOURCE, AcceleratorRun, AcceleratorSession  # noqa: E402
from bench.table import Figure, Target, fmt, markdown  # noqa: E402

ANCHOR = HERE.parent.parent / "shared" / "anchor-bench"
DEFAULT_IMAGES = Path(
    os.environ.get("ACCNB_BENCH_IMAGES", Path(tempfile.gettempdir()) / "accnb-corpus")
)
SIZE = (256, 256)


def ensure_corpus(folder: Path, n: int = 400) -> list[Path]:
    files = sorted(folder.glob("*.jpg")) if folder.is_dir() else []
    if len(files) < n:
        print(f"making {n} images in {folder} (once)", file=sys.stderr)
        maker = ANCHOR / "make_images.py"
        subprocess.run(
            [sys.executable, str(maker), str(folder), "-n", str(n), "--seed", "1"], check=True
        )
        files = sorted(folder.glob("*.jpg"))
    return files


def _pil_thumb(path: str) -> int:
    im = Image.open(path)
    im.draft("RGB", SIZE)
    im.thumbnail(SIZE)
    out = io.BytesIO()
    im.save(out, "JPEG", quality=90)
    return out.tell()


def pool_bound(files: list[Path]) -> float:
    """Seconds for plain Pillow to make every thumbnail in a Pool(2), start-up included."""
    started = time.perf_counter()
    with Pool(2) as pool:
        sum(pool.imap_unordered(_pil_thumb, map(str, files), chunksize=1))
    return time.perf_counter() - started


def pipeline(images: Path) -> dict[str, float]:
    """import_images and thumbnailer in a fresh workdir: their job times and the wall time."""
    import accnb

    quiet = lambda part, text: None  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp, accnb.Workdir(Path(tmp) / "bench", slices=2) as wd:
        started = time.perf_counter()
        imported = wd.build("import_images", directory=str(images), relay=quiet)
        thumbs = wd.build("thumbnailer", source=imported, size=SIZE, relay=quiet)
        wall = time.perf_counter() - started
        assert imported.load()["imported"] == len(list(images.glob("*.jpg")))
        return {
            "wall": wall,
            "import": imported.post["timings"]["total"],
            "thumbnailer": thumbs.post["timings"]["total"],
        }


MEMORY_PROBE = """
import resource, sys
import accnb
quiet = lambda part, text: None
with accnb.Workdir(sys.argv[1], slices=2) as wd:
    imported = wd.build("import_images", directory=sys.argv[2], relay=quiet)
    if sys.argv[3] == "thumbnailer":  # import_images is reused: no process of its own here
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        wd.build("thumbnailer", source=imported, relay=quiet)
        print((resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss - own) * 1024)
"""


def thumbnailer_peak_rss(images: Path) -> int:
    """Peak RSS of the thumbnailer's job and slice processes above their caller's (bytes):
    a fork starts with its parent's pages, so that is what the thumbnailer itself adds."""
    with tempfile.TemporaryDirectory() as tmp:
        for step in ("import_images", "thumbnailer"):  # one process each: maxrss is a maximum
            done = subprocess.run(
                [sys.executable, "-c", MEMORY_PROBE, str(Path(tmp) / "m"), str(images), step],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
    return int(done.stdout)


CALLER_PROBE = """
import os, resource, sys
import accnb
quiet = lambda part, text: None
names = sorted(os.listdir(sys.argv[2]))
with accnb.Workdir(sys.argv[1], slices=2) as wd:
    imported = wd.build("import_images", directory=sys.argv[2],
                        files=names[: int(sys.argv[3])], relay=quiet)
    wd.build("thumbnailer", source=imported, relay=quiet)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def caller_peak_rss(images: Path, count: int) -> int:
    """The peak RSS (bytes) of a process that builds import_images and thumbnailer on
    `count` of the images: the caller's own, which the jobs' data should never enter."""
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [sys.executable, "-c", CALLER_PROBE, str(Path(tmp) / "c"), str(images), str(count)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    return int(done.stdout)


def mb(files: list[Path]) -> int:
    return round(sum(f.stat().st_size for f in files) / 2**20)


def largest_decoded(files: list[Path]) -> int:
    return max(w * h * 3 for w, h in (Image.open(f).size for f in files))


def figures(
    reps: int = 3, images: Path = DEFAULT_IMAGES, accelerator: AcceleratorRun | None = None,
    session: AcceleratorSession | None = None,
) -> list[Figure]:  # fmt: skip
    """The figures; with `session` (a running AcceleratorSession filling `accelerator`) each
    rep also runs the Accelerator's thumbs build, right after accnb's pipeline."""
    acc = accelerator if accelerator is not None else AcceleratorRun(skipped="not run")
    files = ensure_corpus(images)
    for f in files:  # the page cache, for both sides
        f.read_bytes()
    bound, runs = [], []
    for _ in range(reps):
        bound.append(pool_bound(files))
        runs.append(pipeline(images))
        if session is not None:
            session.thumbs_rep(images)
    n = len(files)
    pool_ips = n / statistics.median(bound)
    pipeline_ips = n / statistics.median(r["wall"] for r in runs)
    thumb_ips = n / statistics.median(r["thumbnailer"] for r in runs)
    import_s = statistics.median(r["import"] for r in runs)
    peak, decoded = thumbnailer_peak_rss(images), largest_decoded(files)
    caller_small, caller = caller_peak_rss(images, n // 4), caller_peak_rss(images, n)
    pool_source = "Pillow draft + thumbnail in Pool(2), this run"
    import_base, import_source = acc.baseline("thumbs_import_s")
    pipe_ips, pipe_source = acc.baseline("thumbs_pipeline_ips")
    where, pipe_where = (
        "this run" if source == RUN_SOURCE else "RESULTS-accelerator.md"
        for source in (import_source, pipe_source)
    )
    listed = lambda xs, digits: ", ".join(f"{x:.{digits}f}" for x in xs)  # noqa: E731
    details = (
        f"Thumbnails, per rep, s: Pool bound {listed(bound, 2)}; accnb's pipeline (wall) "
        f"{listed((r['wall'] for r in runs), 2)}, import_images "
        f"{listed((r['import'] for r in runs), 3)}; "
        + (acc.thumbs_details() or f"the Accelerator's: {acc.skipped or 'not measured'}")
        + "."
    )
    return [
        Figure(
            f"thumbnail pipeline, import + thumbnailer, {n} JPEGs",
            pipeline_ips,
            "images/s",
            pool_ips,
            pool_source,
            [Target("issue 6", min_ratio=0.85), Target("issue 10", min_ratio=1.0)],
            accelerator=f"{fmt(pipe_ips)} images/s (full `ax run thumbs`, {pipe_where})",
            extra={"details": details},
        ),
        Figure(
            "thumbnailer alone",
            thumb_ips,
            "images/s",
            pool_ips,
            pool_source,
            [Target("issue 6", min_ratio=1.0)],
        ),
        Figure(
            "import_images alone",
            import_s,
            "s",
            import_base,
            f"the Accelerator's import_images job exectime, {where}",
            [Target("issue 6", min_ratio=5), Target("issue 10", min_ratio=10)],
            lower_is_better=True,
            accelerator=f"{fmt(import_base)} s ({where})",
        ),
        Figure(
            "thumbnailer peak RSS per process, above what a fork inherits",
            peak / 2**20,
            "MB",
            decoded / 2**20,
            "the largest decoded image (w x h x 3)",
            [Target("issue 10", max_value=3 * decoded / 2**20)],
            lower_is_better=True,
        ),
        Figure(
            f"the caller's peak RSS, import + thumbnailer of {n} JPEGs ({mb(files)} MB)",
            caller / 2**20,
            "MB",
            caller_small / 2**20,
            f"the same for {n // 4} of them, a dataset a quarter the size",
            [Target("issue 10: not growing with the dataset", max_value=caller_small / 2**20 + 2)],
            lower_is_better=True,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, default=DEFAULT_IMAGES)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--no-accelerator", action="store_true", help="use its fixed figures")
    args = parser.parse_args()
    acc = AcceleratorRun(skipped="skipped (--no-accelerator)" if args.no_accelerator else None)
    say = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    with AcceleratorSession(acc, say=say) as session:
        got = figures(args.reps, args.images, acc, session)
    print(markdown(got))
    print()
    print(got[0].extra["details"])


if __name__ == "__main__":
    main()
