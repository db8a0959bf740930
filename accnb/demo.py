"""`accnb demo`: sample images, then the standard image pipeline on them, explained as it runs.

make_samples(folder) writes the same files, byte for byte, on every run: photo-like JPEGs
from 320x240 to 2000x1500, some in nested folders, two turned by their EXIF orientation, a
PNG with transparency, and four broken files that import_images rejects. main(directory)
writes them to <directory>/images and builds import_images, shapehist, thumbnailer and
export_images in the workdir <directory>/workdir; a second run reuses every job.
"""

from __future__ import annotations

import random
import struct
import sys
import time
import zlib
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from .errors import AccnbError
from .workdir import Workdir

SEED = 20240601
PHOTOS = [  # name, width, height, EXIF orientation
    ("harbour.jpg", 2000, 1500, 1),
    ("market.jpg", 1600, 1200, 1),
    ("old town.jpg", 1280, 720, 1),
    ("bridge.jpg", 1024, 768, 1),
    ("lighthouse.jpg", 800, 600, 1),
    ("ferry.jpg", 640, 480, 1),
    ("gull.jpg", 320, 240, 1),
    ("trips/2023/mountains.jpg", 1920, 1080, 1),
    ("trips/2023/lake.jpg", 1500, 1000, 1),
    ("trips/2023/cabin.jpg", 600, 800, 1),
    ("trips/2024/café on the corner.jpg", 1200, 900, 1),
    ("trips/2024/dunes.jpg", 1800, 1200, 1),
    ("trips/2024/beach/sunset.jpg", 1440, 1080, 1),
    ("trips/2024/beach/shells.jpg", 480, 320, 1),
    ("phone/tall tower.jpg", 1600, 1200, 6),  # held upright: stored landscape, shown portrait
    ("phone/upside.jpg", 1024, 768, 8),
]
BROKEN = ["broken/half a photo.jpg", "broken/empty.jpg", "broken/notes.jpg", "broken/huge.png"]


def main(directory: str = "demo") -> int:
    """Make the samples in DIR/images, run the pipeline in DIR/workdir, print what happened."""
    base = Path(directory).resolve()
    started = time.perf_counter()
    written, unchanged = make_samples(base / "images")
    print(f"accnb demo in {base}")
    print(
        f"  sample images  {base / 'images'}: {written + unchanged} files "
        f"({written} written, {unchanged} already there) in {time.perf_counter() - started:.2f} s"
    )
    with Workdir(base / "workdir") as wd:
        print(f"  workdir        {wd.path} ({wd.slices} slices)")
        try:
            jobs = _pipeline(wd, base / "images")
        except AccnbError as e:
            print(f"the demo failed: {e}", file=sys.stderr)
            return 1
        _report(*jobs)
    print(f"  total          {time.perf_counter() - started:.2f} s")
    return 0


def _pipeline(wd, images: Path) -> tuple:
    def quiet(part: str, text: str) -> None:
        """The demo prints its own summary; what the jobs print is in their OUTPUT/."""

    imported = wd.build("import_images", directory=str(images), relay=quiet)
    shapes = wd.build("shapehist", source=imported, relay=quiet)
    thumbs = wd.build("thumbnailer", source=imported, relay=quiet)
    exported = wd.build("export_images", source=thumbs, relay=quiet)
    return imported, shapes, thumbs, exported


def _report(imported, shapes, thumbs, exported) -> None:
    result = imported.load()
    print(f"  {_job(imported)} {result['imported']} imported, {result['rejected']} rejected")
    for filename, reason in sorted(
        imported.dataset("rejected").iterate(None, ("filename", "reason"))
    ):
        print(f"{'':19}rejected {filename}: {reason}")
    hist = shapes.load()
    print(f"  {_job(shapes)} {len(hist)} shapes, most common:")
    for (width, height), count in hist.most_common(3):
        print(f"{'':19}{width}x{height}: {count}")
    made = thumbs.load()
    print(f"  {_job(thumbs)} {made['thumbnails']} thumbnails, {made['failed']} failed", end="")
    if not thumbs.reused:
        print(f" ({made['thumbnails'] / thumbs.post['timings']['total']:.0f} images/s)", end="")
    print()
    files = exported.load()
    print(f"  {_job(exported)} {files['files']} files in {files['directory']}")


def _job(job) -> str:
    """The job's method and directory, and whether it ran (how long) or was reused."""
    how = "reused" if job.reused else f"built in {job.post['timings']['total']:.2f} s"
    return f"{job.method:<14} {job.path} ({how}):"


# --- the sample images


def make_samples(folder: str | Path) -> tuple[int, int]:
    """Write the sample images into `folder`; (files written, files already identical).

    A file already holding the same bytes is left alone, so its modification time stays
    and a second demo run reuses its jobs.
    """
    folder = Path(folder)
    files: dict[str, Callable[[], bytes]] = {}
    for index, (name, width, height, orientation) in enumerate(PHOTOS):
        files[name] = lambda i=index, w=width, h=height, o=orientation: _jpeg(
            _photo(w, h, SEED + i), o
        )
    files["logo.png"] = _logo
    files.update(zip(BROKEN, (_truncated_jpeg, _empty, _notes, _huge_png), strict=True))
    written = 0
    for name, make in files.items():
        path = folder / name
        data = make()
        if path.is_file() and path.read_bytes() == data:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written += 1
    return written, len(files) - written


def _photo(width: int, height: int, seed: int) -> Image.Image:
    """Photo-like content: a smooth colour field, shapes and sensor noise, so the JPEGs
    have realistic sizes and decoding costs."""
    rng = np.random.default_rng(seed)
    shapes = random.Random(seed)
    grid = rng.integers(0, 256, (shapes.randint(2, 5), shapes.randint(3, 6), 3), dtype=np.uint8)
    im = Image.fromarray(grid, "RGB").resize((width, height), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(im)
    scale = (width + height) / 2
    for _ in range(shapes.randint(6, 14)):
        x, y = shapes.uniform(-0.1, 1) * width, shapes.uniform(-0.1, 1) * height
        size = shapes.uniform(0.05, 0.35) * scale
        colour = tuple(shapes.randint(0, 255) for _ in range(3))
        box = (x, y, x + size * shapes.uniform(0.4, 1.6), y + size * shapes.uniform(0.4, 1.6))
        if shapes.random() < 0.5:
            draw.ellipse(box, fill=colour)
        else:
            draw.rectangle(box, fill=colour)
    pixels = np.asarray(im, dtype=np.int16) + rng.integers(-6, 7, (height, width, 1), np.int16)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def _jpeg(im: Image.Image, orientation: int = 1) -> bytes:
    out = BytesIO()
    extra = {}
    if orientation != 1:
        extra["exif"] = Image.Exif()
        extra["exif"][0x0112] = orientation
    im.save(out, "JPEG", quality=88, **extra)
    return out.getvalue()


def _logo() -> bytes:
    """A transparent PNG: a disc and a ring on nothing."""
    im = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    draw = ImageDraw.Draw(im)
    draw.ellipse((40, 40, 360, 360), fill=(230, 80, 40, 255))
    draw.ellipse((120, 120, 280, 280), fill=(0, 0, 0, 0))
    out = BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


def _truncated_jpeg() -> bytes:
    whole = _jpeg(_photo(800, 600, SEED - 1))
    return whole[: len(whole) * 2 // 3]


def _empty() -> bytes:
    return b""


def _notes() -> bytes:
    return b"Not a picture: these are notes someone saved as .jpg.\n" * 10


def _huge_png() -> bytes:
    """A few bytes whose header claims 60000x60000 pixels: a decompression bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2]))
