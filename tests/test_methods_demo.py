"""`accnb demo`: deterministic sample images, the whole pipeline, a readable report, exit 0."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from accnb import demo
from accnb.job import WORKDIRS


@pytest.fixture
def run_demo(tmp_path: Path, capsys):
    """run_demo(): main(tmp_path / "demo") -> (exit code, what it printed)."""

    def run() -> tuple[int, str]:
        code = demo.main(str(tmp_path / "demo"))
        return code, capsys.readouterr().out

    yield run
    WORKDIRS.pop("workdir", None)


def test_the_demo_exits_0_and_exports_every_imported_image(run_demo, tmp_path):
    code, out = run_demo()
    assert code == 0
    exported = list((tmp_path / "demo" / "workdir").glob("workdir-*/export/**/*.jpg"))
    good = len(demo.PHOTOS) + 1  # the photos and the logo
    assert len(exported) == good
    assert f"{good} imported, {len(demo.BROKEN)} rejected" in out
    assert f"{good} files in " in out


def test_the_demo_names_each_rejected_file_with_its_reason(run_demo):
    _, out = run_demo()
    assert "rejected broken/empty.jpg: empty file" in out
    assert "rejected broken/half a photo.jpg: truncated" in out
    assert "rejected broken/notes.jpg: not an image" in out
    assert "rejected broken/huge.png: possible decompression bomb" in out


def test_the_demo_says_where_the_results_are_and_how_long_it_took(run_demo, tmp_path):
    _, out = run_demo()
    workdir = tmp_path / "demo" / "workdir"
    for method in ("import_images", "shapehist", "thumbnailer", "export_images"):
        assert f"{method}" in out
    assert f"{workdir}/workdir-" in out and "/export" in out
    assert "images/s" in out and "total" in out


def test_a_second_run_reuses_every_job(run_demo, tmp_path):
    run_demo()
    jobs = sorted((tmp_path / "demo" / "workdir").glob("workdir-*"))
    code, out = run_demo()
    assert code == 0 and out.count("(reused)") == 4
    assert sorted((tmp_path / "demo" / "workdir").glob("workdir-*")) == jobs
    assert f"0 written, {len(demo.PHOTOS) + 1 + len(demo.BROKEN)} already there" in out


def test_the_sample_images_are_byte_identical_on_every_run(tmp_path):
    demo.make_samples(tmp_path / "a")
    demo.make_samples(tmp_path / "b")
    a = {p.relative_to(tmp_path / "a"): p.read_bytes() for p in (tmp_path / "a").rglob("*.*")}
    b = {p.relative_to(tmp_path / "b"): p.read_bytes() for p in (tmp_path / "b").rglob("*.*")}
    assert a == b and len(a) == len(demo.PHOTOS) + 1 + len(demo.BROKEN)


def test_the_samples_range_from_320x240_to_2000x1500_and_include_the_special_cases(tmp_path):
    demo.make_samples(tmp_path)
    sizes, orientations, modes = set(), Counter(), set()
    for name, *_ in demo.PHOTOS:
        with Image.open(tmp_path / name) as im:
            sizes.add(im.size)
            orientations[im.getexif().get(0x0112, 1)] += 1
    with Image.open(tmp_path / "logo.png") as im:
        modes.add(im.mode)
    assert min(sizes, key=lambda s: s[0] * s[1]) == (320, 240)
    assert max(sizes, key=lambda s: s[0] * s[1]) == (2000, 1500)
    assert orientations[6] == orientations[8] == 1
    assert modes == {"RGBA"}
    assert any("/" in name for name, *_ in demo.PHOTOS)
