"""Test images made on the fly: one function per case the standard methods must handle.

Pixels are random where sizes and compression matter (flat colours compress to nothing);
a solid block of known colour marks where a test looks after resizing or rotating.
`sample_folder` writes one of each case into a folder and says what importing each should give.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

RED = (255, 0, 0)
GREEN = (0, 255, 0)
BLUE = (0, 0, 255)
ORIENTATION = 0x0112  # the EXIF tag


def noise(width: int, height: int, seed: int = 0, mode: str = "RGB") -> Image.Image:
    """Random pixels: an image whose encoded size grows with its pixel count."""
    channels = len(mode)
    shape = (height, width, channels) if channels > 1 else (height, width)
    pixels = np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
    return Image.fromarray(pixels, mode)


def with_block(im: Image.Image, colour: tuple, box: tuple[int, int, int, int]) -> Image.Image:
    """`im` with the rectangle `box` (left, top, right, bottom) filled with `colour`."""
    im = im.copy()
    im.paste(colour, box)
    return im


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _save(path: Path, im: Image.Image, fmt: str, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, fmt, **kw)
    return path


def jpeg(path: Path, width: int, height: int, seed: int = 0, quality: int = 90) -> Path:
    return _save(path, noise(width, height, seed), "JPEG", quality=quality)


def png(path: Path, width: int, height: int, seed: int = 0) -> Path:
    return _save(path, noise(width, height, seed), "PNG")


def rotated_jpeg(path: Path, width: int = 80, height: int = 40, orientation: int = 6) -> Path:
    """A JPEG stored `width` x `height` with a red block in its stored top-left quarter,
    and an EXIF orientation tag saying how to turn it for display."""
    im = with_block(noise(width, height, 1), RED, (0, 0, width // 2, height // 2))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    return _save(path, im, "JPEG", quality=95, exif=exif)


def cmyk_jpeg(path: Path, width: int = 40, height: int = 40) -> Path:
    """A CMYK JPEG that is red (C=0, M=255, Y=255, K=0) in its left half."""
    im = with_block(noise(width, height, 2, "CMYK"), (0, 255, 255, 0), (0, 0, width // 2, height))
    return _save(path, im, "JPEG", quality=95)


def png16(path: Path, width: int = 30, height: int = 20, value: int = 0x8000) -> Path:
    """A 16-bit greyscale PNG (mode I;16), every pixel `value`."""
    return _save(path, Image.fromarray(np.full((height, width), value, np.uint16)), "PNG")


def palette_png(path: Path, width: int = 32, height: int = 32) -> Path:
    """A palette PNG: transparent (index 0) in its left half, blue (index 1) in its right."""
    im = Image.new("P", (width, height), 0)
    im.putpalette([255, 255, 0, *BLUE] + [0] * (3 * 254))
    im.paste(1, (width // 2, 0, width, height))
    return _save(path, im, "PNG", transparency=0)


def rgba_png(path: Path, width: int = 40, height: int = 20) -> Path:
    """An RGBA PNG: fully transparent in its left half, opaque red in its right."""
    im = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    im.paste((*RED, 255), (width // 2, 0, width, height))
    return _save(path, im, "PNG")


def animated_gif(path: Path, width: int = 24, height: int = 24) -> Path:
    """Two frames: red, then green."""
    frames = [Image.new("RGB", (width, height), c) for c in (RED, GREEN)]
    return _save(path, frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)


def truncated_jpeg(path: Path, width: int = 64, height: int = 48) -> Path:
    """The first half of a JPEG: its header is whole, its image data is cut."""
    return _first_half(_save(path, noise(width, height, 3), "JPEG"))


def truncated_png(path: Path, width: int = 64, height: int = 48) -> Path:
    return _first_half(png(path, width, height, seed=3))


def _first_half(path: Path) -> Path:
    data = path.read_bytes()
    return _write(path, data[: len(data) // 2])


def corrupt_png(path: Path, width: int = 16, height: int = 16) -> Path:
    """A PNG whose chunks and CRCs are sound but whose compressed pixels are garbage: the
    header reads fine, decoding fails."""
    garbage = np.random.default_rng(4).integers(0, 256, 200, dtype=np.uint8).tobytes()
    return _write(path, png_bytes(width, height, idat=garbage))


def bomb_png(path: Path, width: int = 100_000, height: int = 100_000) -> Path:
    """A tiny PNG whose header claims `width` x `height` pixels (a decompression bomb)."""
    return _write(path, png_bytes(width, height, idat=zlib.compress(b"\0" * 16)))


def png_bytes(width: int, height: int, idat: bytes) -> bytes:
    """A PNG written by hand: 8-bit RGB IHDR declaring the size, one IDAT, IEND."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND")


def _chunk(kind: bytes, body: bytes = b"") -> bytes:
    crc = zlib.crc32(kind + body)
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def empty(path: Path) -> Path:
    return _write(path, b"")


def text(path: Path) -> Path:
    return _write(path, b"These are my holiday notes, not a picture.\n" * 20)


@dataclass(frozen=True)
class Sample:
    """One file of a sample folder and what import_images should make of it."""

    name: str  # relative to the folder, '/' between folders
    size: tuple[int, int] | None = None  # (width, height) as stored; None if rejected
    format: str | None = None
    mode: str | None = None
    orientation: int = 1
    rejected: str | None = None  # a word the rejection reason contains


def sample_folder(root: Path) -> dict[str, Sample]:
    """One file of each case in `root` (nested folders, names with spaces and non-ASCII
    letters included), by relative name. Also writes notes.txt, which no default
    extension matches, so it is neither imported nor rejected."""
    samples = [
        (jpeg, dict(width=64, height=48), Sample("photo.jpg", (64, 48), "JPEG", "RGB")),
        (
            jpeg,
            dict(width=90, height=30, seed=5),
            Sample("trips/2024/wide photo.jpg", (90, 30), "JPEG", "RGB"),
        ),
        (png, dict(width=50, height=40), Sample("trips/café ☕.png", (50, 40), "PNG", "RGB")),
        (rotated_jpeg, {}, Sample("rotated.jpg", (80, 40), "JPEG", "RGB", orientation=6)),
        (cmyk_jpeg, {}, Sample("cmyk.jpg", (40, 40), "JPEG", "CMYK")),
        (png16, {}, Sample("grey16.png", (30, 20), "PNG", "I;16")),
        (palette_png, {}, Sample("palette.png", (32, 32), "PNG", "P")),
        (rgba_png, {}, Sample("alpha.png", (40, 20), "PNG", "RGBA")),
        (animated_gif, {}, Sample("animated.gif", (24, 24), "GIF", "P")),
        (corrupt_png, {}, Sample("damaged pixels.png", (16, 16), "PNG", "RGB")),
        (truncated_jpeg, {}, Sample("broken/truncated.jpg", rejected="truncated")),
        (truncated_png, {}, Sample("broken/truncated.png", rejected="truncated")),
        (empty, {}, Sample("broken/empty.jpg", rejected="empty")),
        (text, {}, Sample("broken/notes.jpg", rejected="not an image")),
        (bomb_png, {}, Sample("broken/bomb.png", rejected="decompression bomb")),
    ]
    for make, kw, sample in samples:
        make(root / sample.name, **kw)
    text(root / "notes.txt")
    return {sample.name: sample for _, _, sample in samples}
