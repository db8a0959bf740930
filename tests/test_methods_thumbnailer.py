"""thumbnailer: a thumb column appended to the import's dataset, right way up, in any mode."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import images
import pytest
from PIL import Image

from accnb import JobError, OptionError


def quiet(part: str, text: str) -> None:
    pass


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    return tmp_path / "photos"


@pytest.fixture
def imported(wd, photos):
    images.sample_folder(photos)
    return wd.build("import_images", directory=str(photos), relay=quiet)


def thumbs_of(job) -> dict[str, tuple[Image.Image | None, str | None]]:
    """filename -> (the decoded thumbnail or None, thumb_error)."""
    rows = job.dataset().iterate(None, ("filename", "thumb", "thumb_error"))
    return {
        name: (Image.open(BytesIO(thumb)) if thumb is not None else None, error)
        for name, thumb, error in rows
    }


def close(colour, expected, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected, strict=True))


def build_one(wd, photos, make, name="one.jpg", **options):
    """Import a folder holding one image made by `make`, thumbnail it, and decode the thumb."""
    make(photos / name)
    imported = wd.build("import_images", directory=str(photos), relay=quiet)
    job = wd.build("thumbnailer", source=imported, relay=quiet, **options)
    return thumbs_of(job)[name][0]


def test_a_thumbnail_fits_the_size_and_keeps_the_aspect_ratio(wd, photos):
    thumb = build_one(wd, photos, lambda p: images.jpeg(p, 2000, 1500, quality=60))
    assert thumb.size == (256, 192)


def test_a_thumbnail_fits_a_box_that_is_not_square(wd, photos):
    thumb = build_one(wd, photos, lambda p: images.jpeg(p, 600, 600), size=(120, 40))
    assert thumb.size == (40, 40)


def test_an_image_smaller_than_the_size_is_not_enlarged(wd, photos):
    thumb = build_one(wd, photos, lambda p: images.jpeg(p, 64, 48))
    assert thumb.size == (64, 48)


def test_a_colour_block_keeps_its_colour_through_draft_decoding(wd, photos):
    def make(path):
        path.parent.mkdir(parents=True)
        im = images.with_block(images.noise(1600, 1200, 7), images.BLUE, (0, 0, 800, 1200))
        im.save(path, "JPEG", quality=90)

    thumb = build_one(wd, photos, make)
    assert thumb.size == (256, 192)
    assert close(thumb.getpixel((64, 96)), images.BLUE)


def test_the_exif_orientation_turns_the_thumbnail_upright(wd, photos):
    # Stored 80x40, red in its stored top-left; orientation 6 shows it turned a quarter
    # clockwise: 40x80, red in the top-right.
    thumb = build_one(wd, photos, images.rotated_jpeg, size=(20, 20))
    assert thumb.size == (10, 20)
    assert close(thumb.getpixel((7, 2)), images.RED)
    assert not close(thumb.getpixel((2, 2)), images.RED)
    assert not thumb.getexif()  # no orientation left to apply a second time


def test_the_orientation_decides_which_side_fits_the_box(wd, photos):
    make = lambda p: images.rotated_jpeg(p, 400, 100)  # noqa: E731
    thumb = build_one(wd, photos, make, size=(100, 400))
    assert thumb.size == (100, 400)


def test_a_cmyk_jpeg_becomes_rgb_of_the_same_colour(wd, photos):
    thumb = build_one(wd, photos, images.cmyk_jpeg)
    assert thumb.mode == "RGB"
    assert close(thumb.getpixel((10, 20)), images.RED)


def test_16_bit_greyscale_is_scaled_to_8_bits_not_clipped(wd, photos):
    thumb = build_one(wd, photos, images.png16, name="grey.png")
    assert thumb.mode == "L"
    assert abs(thumb.getpixel((5, 5)) - 128) <= 2


def test_a_transparent_palette_png_keeps_its_alpha_in_png(wd, photos):
    thumb = build_one(wd, photos, images.palette_png, name="p.png", format="PNG")
    assert thumb.mode == "RGBA"
    assert thumb.getpixel((4, 16))[3] == 0
    assert thumb.getpixel((28, 16)) == (*images.BLUE, 255)


def test_transparency_keeps_its_alpha_in_webp(wd, photos):
    thumb = build_one(wd, photos, images.rgba_png, name="a.png", format="WEBP")
    assert thumb.format == "WEBP" and thumb.mode == "RGBA"
    assert thumb.getpixel((5, 10))[3] == 0


@pytest.mark.parametrize("fmt", ["JPEG", "BMP"])
def test_transparency_is_flattened_on_white_where_the_format_has_no_alpha(wd, photos, fmt):
    thumb = build_one(wd, photos, images.rgba_png, name="a.png", format=fmt)
    assert thumb.mode == "RGB"
    assert close(thumb.getpixel((5, 10)), (255, 255, 255), 8)
    assert close(thumb.getpixel((35, 10)), images.RED, 8)


def test_an_animated_gif_gives_its_first_frame(wd, photos):
    thumb = build_one(wd, photos, images.animated_gif, name="a.gif")
    assert close(thumb.getpixel((12, 12)), images.RED)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP"])
def test_every_format_gives_thumbnails_in_that_format(wd, imported, fmt):
    job = wd.build("thumbnailer", source=imported, format=fmt, relay=quiet)
    decoded = [im for im, _ in thumbs_of(job).values() if im is not None]
    assert len(decoded) == job.load()["thumbnails"] > 0
    assert {im.format for im in decoded} == {fmt}


def test_a_format_not_offered_is_refused(wd, imported):
    with pytest.raises(OptionError, match="'format'"):
        wd.build("thumbnailer", source=imported, format="GIF")


def test_a_size_that_is_not_two_positive_numbers_fails_the_build(wd, imported):
    with pytest.raises(JobError, match="size must be"):
        wd.build("thumbnailer", source=imported, size=[0, 10], relay=quiet)


def test_quality_reaches_the_jpeg_encoder(wd, photos):
    images.jpeg(photos / "noisy.jpg", 400, 300)
    imported = wd.build("import_images", directory=str(photos), relay=quiet)
    sizes = {}
    for quality in (20, 95):
        job = wd.build("thumbnailer", source=imported, quality=quality, relay=quiet)
        sizes[quality] = len(next(job.dataset().iterate(None, "thumb")))
    assert sizes[20] < sizes[95] / 2


def test_resample_chooses_pillows_filter_bicubic_by_default(wd, photos):
    path = images.jpeg(photos / "noisy.jpg", 600, 450)
    imported = wd.build("import_images", directory=str(photos), relay=quiet)
    made = {}
    for resample in (None, "BICUBIC", "LANCZOS"):
        chosen = {} if resample is None else {"resample": resample}
        job = wd.build("thumbnailer", source=imported, format="PNG", relay=quiet, **chosen)
        made[resample] = Image.open(BytesIO(next(job.dataset().iterate(None, "thumb"))))
    for resample in ("BICUBIC", "LANCZOS"):
        expected = Image.open(path)
        expected.draft("RGB", (256, 192))
        expected.thumbnail((256, 256), Image.Resampling[resample])
        assert made[resample].tobytes() == expected.tobytes()
    assert made[None].tobytes() == made["BICUBIC"].tobytes()
    assert made["LANCZOS"].tobytes() != made["BICUBIC"].tobytes()


def test_an_image_that_fails_to_decode_gets_none_and_a_reason(wd, imported):
    job = wd.build("thumbnailer", source=imported, relay=quiet)
    thumb, error = thumbs_of(job)["damaged pixels.png"]
    assert thumb is None and "OSError" in error
    assert job.load()["failed"] == 1
    assert "failed damaged pixels.png: OSError" in job.output("synthesis")


def test_rows_that_decode_have_no_error(wd, imported):
    job = wd.build("thumbnailer", source=imported, relay=quiet)
    fine = {name: error for name, (thumb, error) in thumbs_of(job).items() if thumb is not None}
    assert len(fine) == job.load()["thumbnails"] == len(imported.dataset()) - 1
    assert set(fine.values()) == {None}


def test_the_thumb_column_extends_the_import_dataset(wd, imported):
    job = wd.build("thumbnailer", source=imported, relay=quiet)
    ds, source = job.dataset(), imported.dataset()
    assert ds.parent == source
    assert set(ds.columns) == set(source.columns) | {"thumb", "thumb_error"}
    assert ds.lines == source.lines
    assert list(ds.iterate(None, "image")) == list(source.iterate(None, "image"))


def test_the_source_columns_are_shared_not_copied(wd, photos):
    for n in range(4):
        images.jpeg(photos / f"{n}.jpg", 400, 300, seed=n)
    imported = wd.build("import_images", directory=str(photos), relay=quiet)
    job = wd.build("thumbnailer", source=imported, size=(32, 32), relay=quiet)
    image_bytes = sum(map(len, imported.dataset().iterate(None, "image")))
    stored = sum(f.stat().st_size for f in (job.path / "datasets").rglob("*") if f.is_file())
    assert stored < image_bytes / 10
