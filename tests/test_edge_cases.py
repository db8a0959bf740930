"""Edge cases users meet: empty folders and datasets, fewer rows than slices, two kernels."""

from __future__ import annotations

from collections import Counter

import images
import pytest

import accnb
from accnb.job import WORKDIRS


def quiet(part: str, text: str) -> None:
    pass


@pytest.fixture
def wd3(tmp_path):
    workdir = accnb.Workdir(tmp_path / "wd", slices=3)
    yield workdir
    workdir.close()


def test_an_empty_folder_runs_the_whole_pipeline_and_says_so(wd3, tmp_path):
    empty = tmp_path / "nothing"
    empty.mkdir()
    printed = []
    imported = wd3.build(
        "import_images", directory=str(empty), relay=lambda p, t: printed.append(t)
    )
    assert imported.load()["imported"] == 0 and imported.dataset().lines == [0, 0, 0]
    assert "imported 0 images" in "".join(printed)
    thumbs = wd3.build("thumbnailer", source=imported, relay=quiet)
    assert len(thumbs.dataset()) == 0
    assert wd3.build("shapehist", source=imported, relay=quiet).load() == Counter()
    assert wd3.build("export_images", source=thumbs, relay=quiet).load()["files"] == 0


def test_fewer_images_than_slices_leaves_slices_empty_and_works(wd3, tmp_path):
    folder = tmp_path / "one"
    images.jpeg(folder / "only.jpg", 64, 48)
    imported = wd3.build("import_images", directory=str(folder), relay=quiet)
    assert sorted(imported.dataset().lines) == [0, 0, 1]
    thumbs = wd3.build("thumbnailer", source=imported, relay=quiet)
    assert [t is not None for t in thumbs.dataset().iterate(None, "thumb")] == [True]
    assert wd3.build("shapehist", source=imported, relay=quiet).load() == Counter({(64, 48): 1})


def test_widgets_show_an_empty_dataset(wd3, tmp_path):
    from accnb.widgets import DatasetBrowser, Gallery, Histogram

    empty = tmp_path / "nothing"
    empty.mkdir()
    imported = wd3.build("import_images", directory=str(empty), relay=quiet)
    ds = wd3.build("thumbnailer", source=imported, relay=quiet).dataset()
    assert "<div>No rows</div>" in Gallery(ds)._repr_mimebundle_()["text/html"]
    assert Histogram(ds, ("width", "height")).counts.tolist() == []
    assert "0 rows" in DatasetBrowser(ds)._repr_mimebundle_()["text/html"]


SOURCE_A = "def synthesis():\n    return 'a'\n"
SOURCE_B = "def synthesis():\n    return 'b'\n"


def test_two_kernels_with_one_method_name_get_their_own_results_or_share_the_same_source(tmp_path):
    first = accnb.Workdir(tmp_path / "wd", slices=2)
    first.method("m", SOURCE_A)
    a = first.build("m", relay=quiet)
    WORKDIRS.pop(first.store.name)
    second = accnb.Workdir(tmp_path / "wd", slices=2)  # another notebook on the same workdir
    second.method("m", SOURCE_B)
    b = second.build("m", relay=quiet)
    assert (a.load(), b.load()) == ("a", "b") and a != b
    second.method("m", SOURCE_A)
    assert second.build("m", relay=quiet) == a
    second.close()


BLAS_METHOD = """
import os
import numpy as np
from threadpoolctl import threadpool_info
options = dict(n=0)

def blas_threads():
    return max(pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas")

def prepare():
    return len(os.listdir("/proc/self/task"))  # before this process forks its slices

def analysis(sliceno, options):
    a = np.ones((300, 300))
    return float((a @ a).sum()) + options.n, blas_threads()

def synthesis(analysis_res, prepare_res):
    a = np.ones((300, 300))
    a @ a
    slices = list(analysis_res)
    threads = [threads for _, threads in slices]
    return sum(total for total, _ in slices), threads, blas_threads(), prepare_res
"""


def test_job_processes_run_blas_on_one_thread_and_leave_the_callers_pools_alone(tmp_path):
    """A fork made while a caller's thread is inside a threaded matrix product leaves the
    child OpenBLAS's level-3 lock held by a thread it does not have: its own first
    threaded product would wait forever. On one thread, BLAS never takes that lock."""
    import threading

    import numpy as np
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas_threads() -> int:
        return max(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas")

    a = np.random.default_rng(0).random((300, 300))
    lock, stop = threading.Lock(), threading.Event()

    def busy():
        while not stop.is_set():
            with lock:
                sum(range(1000))

    thread = threading.Thread(target=busy, daemon=True)
    thread.start()
    wd = accnb.Workdir(tmp_path / "wd", slices=2)
    wd.method("dots", BLAS_METHOD)
    try:
        with threadpool_limits(2, user_api="blas"):  # as on any machine of 2+ cores
            a @ a  # the pool's threads are running
            for n in range(4):
                job = wd.build("dots", n=n, relay=quiet)
                total, slice_threads, synthesis_threads, native_threads = job.load()
                assert total == 2 * (300.0**3 + n)
                assert slice_threads == [1, 1] and synthesis_threads == 1
                # OpenBLAS's workers, stopped by the fork, were not started again
                assert native_threads == 1
            assert blas_threads() == 2
    finally:
        stop.set()
        thread.join()
        wd.close()


def test_job_processes_never_collect_what_the_caller_made(tmp_path):
    """A full collection in a forked process touches every object it tracks, and so copies
    every page of them: in a kernel with a big heap, the whole heap per job process. What
    the caller made is frozen in each child instead (and what prepare made, in the slices)."""
    import gc

    wd = accnb.Workdir(tmp_path / "wd", slices=2)
    wd.method(
        "frozen",
        (
            "import gc\n"
            "def prepare():\n    return [[n] for n in range(50_000)], gc.get_freeze_count()\n"
            "def analysis(sliceno, prepare_res):\n    return gc.get_freeze_count()\n"
            "def synthesis(prepare_res, analysis_res):\n"
            "    return prepare_res[1], list(analysis_res)\n"
        ),
    )
    heap = [[n] for n in range(200_000)]
    tracked = len(gc.get_objects())
    in_job, in_slices = wd.build("frozen", relay=quiet).load()
    wd.close()
    assert in_job >= tracked - 1000
    assert all(n >= in_job + 50_000 for n in in_slices)  # prepare's lists too
    assert len(heap) == 200_000
