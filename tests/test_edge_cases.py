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


def test_forking_with_a_blas_pool_and_a_busy_thread_does_not_deadlock_a_slice(tmp_path):
    """The BLAS pool exists (idle) and another thread holds a lock at every fork; the slices
    use BLAS themselves. (A thread *inside* a multi-threaded OpenBLAS call at the moment of
    a fork hangs OpenBLAS's own fork handler: see docs/ARCHITECTURE.md.)"""
    import threading
    import time

    import numpy as np

    a = np.random.default_rng(0).random((300, 300))
    a @ a  # starts OpenBLAS's threads
    lock, stop = threading.Lock(), threading.Event()

    def busy():
        while not stop.is_set():
            with lock:
                sum(range(1000))

    thread = threading.Thread(target=busy, daemon=True)
    thread.start()
    wd = accnb.Workdir(tmp_path / "wd", slices=2)
    wd.method(
        "dots",
        (
            "import numpy as np\noptions = dict(n=0)\n"
            "def analysis(sliceno, options):\n"
            "    a = np.ones((200, 200))\n    return float((a @ a).sum()) + options.n\n"
            "def synthesis(analysis_res):\n    return sum(analysis_res)\n"
        ),
    )
    try:
        for n in range(8):
            started = time.monotonic()
            assert wd.build("dots", n=n, relay=quiet).load() == 2 * (200.0**3 + n)
            assert time.monotonic() - started < 30
    finally:
        stop.set()
        thread.join()
        wd.close()
