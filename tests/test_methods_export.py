"""export_images: one file per row under its relative name, and never a file out of place."""

from __future__ import annotations

import os
from io import BytesIO
from pathlib import Path

import images
import pytest
from PIL import Image

from accnb import JobError

# A dataset of the rows a test gives: (filename, hex of the thumb bytes or None), in slice 0.
ROWS = """
options = dict(rows=[])

def prepare(job, options):
    dw = job.datasetwriter(allow_missing_slices=True)
    dw.add("filename", "unicode")
    dw.add("thumb", "bytes", none_support=True)
    dw.set_slice(0)
    for filename, data in options.rows:
        dw.write(filename, None if data is None else bytes.fromhex(data))
"""


def quiet(part: str, text: str) -> None:
    pass


def jpeg_hex() -> str:
    out = BytesIO()
    images.noise(8, 8).save(out, "JPEG")
    return out.getvalue().hex()


@pytest.fixture
def rows(wd):
    """rows(*(filename, hex or None)): a dataset of those rows."""
    wd.method("rows", ROWS)
    return lambda *given: wd.build("rows", rows=[list(r) for r in given], relay=quiet)


@pytest.fixture
def thumbs(wd, tmp_path):
    images.sample_folder(tmp_path / "photos")
    imported = wd.build("import_images", directory=str(tmp_path / "photos"), relay=quiet)
    return wd.build("thumbnailer", source=imported, relay=quiet)


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_each_row_is_written_under_its_filename_with_the_new_extension(wd, thumbs):
    job = wd.build("export_images", source=thumbs, relay=quiet)
    folder = Path(job.load()["directory"])
    expected = {
        name.rsplit(".", 1)[0] + ".jpg": thumb
        for name, thumb in thumbs.dataset().iterate(None, ("filename", "thumb"))
        if thumb is not None
    }
    assert "trips/2024/wide photo.jpg" in expected and "trips/café ☕.jpg" in expected
    assert files_under(folder) == set(expected)
    for name, thumb in expected.items():
        assert (folder / name).read_bytes() == thumb


def test_the_default_folder_is_export_inside_the_job(wd, thumbs):
    job = wd.build("export_images", source=thumbs, relay=quiet)
    result = job.load()
    assert result["directory"] == str(job.path / "export")
    assert result["files"] == len(files_under(job.path / "export")) > 0
    assert set(job.files("export/*")) == {f"export/{n}" for n in files_under(job.path / "export")}


def test_the_extension_comes_from_the_bytes(wd, thumbs):
    imported = thumbs.dataset().parent
    png_thumbs = wd.build("thumbnailer", source=imported, format="PNG", relay=quiet)
    job = wd.build("export_images", source=png_thumbs, relay=quiet)
    names = files_under(job.path / "export")
    assert "photo.png" in names and all(name.endswith(".png") for name in names)


def test_an_explicit_extension_is_used_with_or_without_its_dot(wd, thumbs):
    for extension in ("jpeg", ".jpeg"):
        job = wd.build("export_images", source=thumbs, extension=extension, relay=quiet)
        assert "photo.jpeg" in files_under(job.path / "export")


def test_an_absolute_directory_is_written_there(wd, thumbs, tmp_path):
    job = wd.build("export_images", source=thumbs, directory=str(tmp_path / "out"), relay=quiet)
    assert job.load()["directory"] == str(tmp_path / "out")
    assert "photo.jpg" in files_under(tmp_path / "out")


def test_rows_without_an_image_are_skipped_and_counted(wd, rows):
    source = rows(("a.jpg", jpeg_hex()), ("b.jpg", None), ("c.jpg", None))
    job = wd.build("export_images", source=source, relay=quiet)
    assert job.load()["files"] == 1 and job.load()["skipped"] == 2
    assert files_under(job.path / "export") == {"a.jpg"}


@pytest.mark.parametrize("name", ["../evil.jpg", "sub/../../evil.jpg"])
def test_a_filename_climbing_out_is_refused_naming_the_row(wd, rows, tmp_path, name):
    source = rows(("fine.jpg", jpeg_hex()), (name, jpeg_hex()))
    out = tmp_path / "out" / "inner"
    with pytest.raises(JobError, match=rf"slice 0 line 1 \(filename '{name}'\).*'\.\.'"):
        wd.build("export_images", source=source, directory=str(out), relay=quiet)
    assert not (tmp_path / "out" / "evil.jpg").exists() and not out.exists()


def test_an_absolute_filename_is_refused_naming_the_row(wd, rows, tmp_path):
    target = tmp_path / "abs.jpg"
    source = rows((str(target), jpeg_hex()))
    with pytest.raises(JobError, match=rf"line 0 \(filename '{target}'\): an absolute"):
        wd.build("export_images", source=source, relay=quiet)
    assert not target.exists()


def test_a_symlink_in_the_folder_leading_out_is_refused(wd, rows, tmp_path):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "link").symlink_to(elsewhere)
    source = rows(("link/a.jpg", jpeg_hex()), ("link/deeper/b.jpg", jpeg_hex()))
    with pytest.raises(JobError, match=r"line 0 \(filename 'link/a.jpg'\).*through a symlink"):
        wd.build("export_images", source=source, directory=str(out), relay=quiet)
    assert list(elsewhere.iterdir()) == []


def test_a_symlink_staying_inside_the_folder_is_followed(wd, rows, tmp_path):
    out = tmp_path / "out"
    (out / "real").mkdir(parents=True)
    (out / "alias").symlink_to(out / "real")
    source = rows(("alias/a.jpg", jpeg_hex()))
    wd.build("export_images", source=source, directory=str(out), relay=quiet)
    assert (out / "real" / "a.jpg").is_file()


def test_an_existing_file_is_not_overwritten(wd, rows, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "b.jpg").write_bytes(b"mine")
    source = rows(("a.jpg", jpeg_hex()), ("b.jpg", jpeg_hex()))
    with pytest.raises(JobError, match=r"line 1 \(filename 'b.jpg'\).*already exists"):
        wd.build("export_images", source=source, directory=str(out), relay=quiet)
    assert (out / "b.jpg").read_bytes() == b"mine"
    assert not (out / "a.jpg").exists()  # refused before anything was written


def test_an_existing_symlink_at_the_target_is_not_written_through(wd, rows, tmp_path):
    out, victim = tmp_path / "out", tmp_path / "victim.jpg"
    out.mkdir()
    victim.write_bytes(b"precious")
    (out / "a.jpg").symlink_to(victim)
    with pytest.raises(JobError, match="already exists"):
        source = rows(("a.jpg", jpeg_hex()))
        wd.build("export_images", source=source, directory=str(out), relay=quiet)
    assert victim.read_bytes() == b"precious"


def test_two_rows_writing_one_file_are_refused_naming_both(wd, rows, tmp_path):
    source = rows(("x.jpg", jpeg_hex()), ("a.png", jpeg_hex()), ("a.jpg", jpeg_hex()))
    with pytest.raises(JobError) as refused:
        wd.build("export_images", source=source, directory=str(tmp_path / "out"), relay=quiet)
    message = refused.value.exc_message
    assert "line 1 (filename 'a.png')" in message and "line 2 (filename 'a.jpg')" in message
    assert "'a.jpg'" in message
    assert not (tmp_path / "out" / "x.jpg").exists()


def test_an_empty_filename_is_refused(wd, rows):
    with pytest.raises(JobError, match="the filename is empty"):
        wd.build("export_images", source=rows(("", jpeg_hex())), relay=quiet)


def test_a_column_that_is_not_bytes_is_refused(wd, rows):
    with pytest.raises(JobError, match="'filename' .* is unicode, not bytes"):
        wd.build("export_images", source=rows(("a.jpg", None)), column="filename", relay=quiet)


def test_exported_thumbnails_decode_as_the_thumbnailer_made_them(wd, thumbs):
    job = wd.build("export_images", source=thumbs, relay=quiet)
    with Image.open(job.path / "export" / "rotated.jpg") as im:
        assert im.format == "JPEG" and im.size == (40, 80)
    assert os.path.getsize(job.path / "export" / "photo.jpg") > 0
