"""import_images: files into a dataset as they are, broken ones into "rejected", balanced slices."""

from __future__ import annotations

import os
from pathlib import Path

import images
import pytest
from PIL import Image

from accnb import JobError


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    return tmp_path / "photos"


@pytest.fixture
def samples(photos: Path) -> dict[str, images.Sample]:
    return images.sample_folder(photos)


def quiet(part: str, text: str) -> None:
    pass


def imported_rows(job, columns):
    return {row[0]: row[1:] for row in job.dataset().iterate(None, ("filename", *columns))}


def rejected_rows(job) -> dict[str, str]:
    return dict(job.dataset("rejected").iterate(None, ("filename", "reason")))


def good(samples: dict[str, images.Sample]) -> dict[str, images.Sample]:
    return {name: s for name, s in samples.items() if s.rejected is None}


def test_each_image_is_imported_with_its_bytes_unchanged(wd, photos, samples):
    job = wd.build("import_images", directory=str(photos), relay=quiet)
    rows = imported_rows(job, ("image",))
    assert set(rows) == set(good(samples))
    for name, (data,) in rows.items():
        assert data == (photos / name).read_bytes(), name


def test_filenames_are_relative_with_slashes_spaces_and_non_ascii_kept(wd, photos, samples):
    job = wd.build("import_images", directory=str(photos), relay=quiet)
    names = set(job.dataset().iterate(None, "filename"))
    assert {"trips/2024/wide photo.jpg", "trips/café ☕.png", "photo.jpg"} <= names
    assert not any(name.startswith(("/", ".")) for name in names)


def test_width_and_height_are_what_pillow_reads_from_the_file(wd, photos, samples):
    job = wd.build("import_images", directory=str(photos), relay=quiet)
    for name, (width, height) in imported_rows(job, ("width", "height")).items():
        assert (width, height) == Image.open(photos / name).size == samples[name].size, name


def test_format_mode_and_orientation_come_from_the_header(wd, photos, samples):
    job = wd.build("import_images", directory=str(photos), relay=quiet)
    rows = imported_rows(job, ("format", "mode", "orientation"))
    assert rows == {n: (s.format, s.mode, s.orientation) for n, s in good(samples).items()}
    assert rows["rotated.jpg"][2] == 6


def test_each_broken_file_is_rejected_with_its_reason(wd, photos, samples):
    job = wd.build("import_images", directory=str(photos), relay=quiet)
    rejected = rejected_rows(job)
    expected = {name: s.rejected for name, s in samples.items() if s.rejected}
    assert set(rejected) == set(expected)
    for name, word in expected.items():
        assert word in rejected[name], (name, rejected[name])


def test_the_result_counts_imported_and_rejected_files(wd, photos, samples):
    result = wd.build("import_images", directory=str(photos), relay=quiet).load()
    assert result == dict(
        imported=len(good(samples)),
        rejected=len(samples) - len(good(samples)),
        directory=str(photos),
    )


def test_synthesis_prints_the_counts_and_each_rejected_file(wd, photos, samples):
    job = wd.build("import_images", directory=str(photos), relay=quiet)
    out = job.output("synthesis")
    assert f"imported {len(good(samples))} images from {photos}" in out
    assert "rejected broken/empty.jpg: empty file" in out


def test_a_file_matching_no_extension_is_neither_imported_nor_rejected(wd, photos, samples):
    job = wd.build("import_images", directory=str(photos), relay=quiet)
    assert (photos / "notes.txt").exists()
    assert "notes.txt" not in imported_rows(job, ()) and "notes.txt" not in rejected_rows(job)


def test_pixels_between_the_limit_and_twice_it_are_rejected_too(wd, photos):
    # Pillow only warns there (DecompressionBombWarning); 10000x10000 is 1e8 > 89478485.
    pixels = 10_000 * 10_000
    assert Image.MAX_IMAGE_PIXELS < pixels < 2 * Image.MAX_IMAGE_PIXELS
    images.bomb_png(photos / "big.png", 10_000, 10_000)
    job = wd.build("import_images", directory=str(photos), relay=quiet)
    assert "decompression bomb" in rejected_rows(job)["big.png"]


def test_extensions_choose_the_files_in_any_case(wd, photos):
    images.jpeg(photos / "upper.JPG", 8, 8)
    images.png(photos / "small.png", 8, 8)
    job = wd.build("import_images", directory=str(photos), extensions=["png"], relay=quiet)
    assert set(imported_rows(job, ())) == {"small.png"}
    job = wd.build("import_images", directory=str(photos), relay=quiet)
    assert set(imported_rows(job, ())) == {"upper.JPG", "small.png"}


def test_recursive_false_imports_only_the_top_folder(wd, photos):
    images.jpeg(photos / "top.jpg", 8, 8)
    images.jpeg(photos / "sub" / "below.jpg", 8, 8)
    job = wd.build("import_images", directory=str(photos), recursive=False, relay=quiet)
    assert set(imported_rows(job, ())) == {"top.jpg"}


def test_files_imports_exactly_the_files_listed_relative_or_absolute(wd, photos, samples):
    files = ["photo.jpg", str(photos / "trips" / "café ☕.png")]
    job = wd.build("import_images", directory=str(photos), files=files, relay=quiet)
    assert set(imported_rows(job, ())) == {"photo.jpg", "trips/café ☕.png"}
    assert rejected_rows(job) == {}


def test_a_listed_file_that_does_not_exist_is_rejected_as_unreadable(wd, photos, samples):
    job = wd.build("import_images", directory=str(photos), files=["gone.jpg"], relay=quiet)
    assert rejected_rows(job)["gone.jpg"].startswith("unreadable")


def test_a_listed_file_outside_the_directory_fails_the_build(wd, photos, samples, tmp_path):
    outside = images.jpeg(tmp_path / "elsewhere.jpg", 8, 8)
    for given in (str(outside), "../elsewhere.jpg"):
        with pytest.raises(JobError, match="is not inside directory"):
            wd.build("import_images", directory=str(photos), files=[given], relay=quiet)


def test_a_missing_directory_fails_the_build(wd, tmp_path):
    with pytest.raises(JobError, match="is not a folder"):
        wd.build("import_images", directory=str(tmp_path / "nowhere"), relay=quiet)


def test_a_file_name_that_is_not_utf8_is_rejected_not_fatal(wd, photos):
    images.jpeg(photos / "fine.jpg", 8, 8)
    images.jpeg(Path(os.fsdecode(bytes(photos) + b"/latin1-\xe9t\xe9.jpg")), 8, 8)
    job = wd.build("import_images", directory=str(photos), relay=quiet)
    assert set(imported_rows(job, ())) == {"fine.jpg"}
    assert rejected_rows(job) == {"latin1-\\xe9t\\xe9.jpg": "the file name is not valid UTF-8"}


def test_a_dangling_symlink_is_rejected_as_unreadable(wd, photos):
    images.jpeg(photos / "fine.jpg", 8, 8)
    (photos / "gone.jpg").symlink_to(photos / "nothing.jpg")
    job = wd.build("import_images", directory=str(photos), relay=quiet)
    assert set(imported_rows(job, ())) == {"fine.jpg"}
    assert rejected_rows(job)["gone.jpg"].startswith("unreadable")


def test_a_symlinked_folder_is_not_entered(wd, photos):
    images.jpeg(photos / "sub" / "fine.jpg", 8, 8)
    (photos / "sub" / "loop").symlink_to(photos)
    job = wd.build("import_images", directory=str(photos), relay=quiet)
    assert set(imported_rows(job, ())) == {"sub/fine.jpg"}


def test_an_empty_folder_gives_empty_datasets(wd, photos):
    photos.mkdir()
    job = wd.build("import_images", directory=str(photos), relay=quiet)
    assert job.dataset().lines == [0, 0] and job.dataset("rejected").lines == [0, 0]
    assert job.load()["imported"] == 0


def test_slices_get_similar_bytes_and_keep_names_sorted(wd, photos):
    # In name order big and small files alternate, so dealing them round robin would put
    # every big file in slice 0.
    for n in range(12):
        side = 160 if n % 2 == 0 else 24
        images.jpeg(photos / f"{n:02}.jpg", side, side, seed=n)
    job = wd.build("import_images", directory=str(photos), relay=quiet)
    ds = job.dataset()
    sizes = [[len(data) for data in ds.iterate(s, "image")] for s in range(2)]
    largest = max(map(max, sizes))
    assert abs(sum(sizes[0]) - sum(sizes[1])) <= largest
    for s in range(2):
        names = list(ds.iterate(s, "filename"))
        assert names == sorted(names)
    assert sorted(ds.iterate(None, "filename")) == [f"{n:02}.jpg" for n in range(12)]


def test_an_unchanged_folder_reuses_the_import(wd, photos, samples):
    first = wd.build("import_images", directory=str(photos), relay=quiet)
    again = wd.build("import_images", directory=str(photos), relay=quiet)
    assert again == first and again.reused


@pytest.mark.parametrize("change", ["added", "removed", "rewritten"])
def test_a_changed_folder_imports_again(wd, photos, change):
    images.jpeg(photos / "a.jpg", 16, 16, seed=1)
    images.jpeg(photos / "b.jpg", 16, 16, seed=2)
    first = wd.build("import_images", directory=str(photos), relay=quiet)
    if change == "added":
        images.jpeg(photos / "c.jpg", 16, 16, seed=3)
    elif change == "removed":
        (photos / "b.jpg").unlink()
    else:
        images.jpeg(photos / "b.jpg", 24, 24, seed=4)
    again = wd.build("import_images", directory=str(photos), relay=quiet)
    assert again != first
    names = {"added": ["a.jpg", "b.jpg", "c.jpg"], "removed": ["a.jpg"]}.get(change)
    assert sorted(again.dataset().iterate(None, "filename")) == (names or ["a.jpg", "b.jpg"])
    if change == "rewritten":
        assert (24, 24) in set(again.dataset().iterate(None, ("width", "height")))
