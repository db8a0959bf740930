"""shapehist: a Counter of (width, height), counted per slice and merged."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import images
import pytest


def quiet(part: str, text: str) -> None:
    pass


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    return tmp_path / "photos"


def test_the_histogram_counts_each_shape(wd, photos):
    shapes = [(64, 48)] * 3 + [(32, 32)] * 2 + [(90, 30)]
    for n, (width, height) in enumerate(shapes):
        images.jpeg(photos / f"{n}.jpg", width, height, seed=n)
    imported = wd.build("import_images", directory=str(photos), relay=quiet)
    hist = wd.build("shapehist", source=imported, relay=quiet).load()
    assert type(hist) is Counter
    assert hist == Counter(shapes)


def test_shapes_from_every_slice_are_merged(wd, photos):
    for n in range(6):
        images.jpeg(photos / f"{n}.jpg", 40 + n, 30, seed=n)
    imported = wd.build("import_images", directory=str(photos), relay=quiet)
    assert all(imported.dataset().lines)  # both slices hold images
    hist = wd.build("shapehist", source=imported, relay=quiet).load()
    assert hist == Counter((40 + n, 30) for n in range(6))


def test_rejected_files_are_not_counted(wd, photos):
    images.jpeg(photos / "fine.jpg", 20, 10)
    images.truncated_jpeg(photos / "cut.jpg")
    imported = wd.build("import_images", directory=str(photos), relay=quiet)
    assert wd.build("shapehist", source=imported, relay=quiet).load() == Counter({(20, 10): 1})


def test_no_images_give_an_empty_counter(wd, photos):
    photos.mkdir()
    imported = wd.build("import_images", directory=str(photos), relay=quiet)
    hist = wd.build("shapehist", source=imported, relay=quiet).load()
    assert hist == Counter() and type(hist) is Counter


def test_a_json_shape_column_is_counted_too(wd):
    wd.method(
        "shapes",
        """
        def prepare(job):
            dw = job.datasetwriter()
            dw.add("shape", "json")
            return dw

        def analysis(sliceno, prepare_res):
            for shape in ([640, 480], [640, 480], [10, 20 + sliceno]):
                prepare_res.write(shape)
        """.replace("\n        ", "\n"),
    )
    hist = wd.build("shapehist", source=wd.build("shapes"), relay=quiet).load()
    assert hist == Counter({(640, 480): 4, (10, 20): 1, (10, 21): 1})


def test_the_histogram_is_printed_most_common_first(wd, photos):
    for n, side in enumerate([16, 16, 8]):
        images.jpeg(photos / f"{n}.jpg", side, side, seed=n)
    imported = wd.build("import_images", directory=str(photos), relay=quiet)
    out = wd.build("shapehist", source=imported, relay=quiet).output("synthesis").split()
    assert out == ["16x16", "2", "8x8", "1"]
