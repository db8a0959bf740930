"""The notebook the browser tests open: 10,000 rows of known colours, a gallery linked to a
histogram, a dataset browser and a job view.

Row k (dealt to the two slices in turn, so slice 0 holds k = 0, 2, 4, ...) is coloured
PALETTE[k % 6]: its thumbnail is a 128x96 JPEG with a solid centre on noise (thumbnail
sized bytes), its image a 320x240 PNG of that colour. Row k = 4 (the third tile of the
first page) is named EVIL.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

NAME = "widgets.ipynb"
ROWS = 10_000
PAGE_SIZE = 24
EVIL = "<img src=x onerror=alert(1)>.jpg"
PALETTE = {
    "red": (220, 50, 47),
    "green": (40, 160, 40),
    "blue": (38, 110, 210),
    "yellow": (230, 190, 0),
    "magenta": (200, 50, 160),
    "cyan": (40, 170, 170),
}
COLOUR_NAMES = list(PALETTE)

METHOD = f"""
from io import BytesIO

import numpy as np
from PIL import Image

options = dict(n={ROWS})
PALETTE = {PALETTE!r}
EVIL = {EVIL!r}


def encode(im, fmt, **kw):
    out = BytesIO()
    im.save(out, fmt, **kw)
    return out.getvalue()


def prepare(job):
    dw = job.datasetwriter()
    dw.add("image", "bytes")
    dw.add("thumb", "bytes")
    dw.add("filename", "unicode")
    dw.add("colour", "ascii")
    dw.add("k", "int64")
    return dw


def analysis(sliceno, slices, options, prepare_res):
    rng = np.random.default_rng(sliceno)
    names = list(PALETTE)
    thumbs, images = {{}}, {{}}
    for name, rgb in PALETTE.items():
        for variant in range(4):
            noise = rng.integers(-40, 40, (96, 128, 3)) + np.array(rgb)
            pixels = np.clip(noise, 0, 255).astype(np.uint8)
            pixels[28:68, 44:84] = rgb
            thumbs[name, variant] = encode(Image.fromarray(pixels), "JPEG", quality=85)
        images[name] = encode(Image.new("RGB", (320, 240), rgb), "PNG")
    for k in range(sliceno, options.n, slices):
        name = names[k % len(names)]
        filename = EVIL if k == 4 else f"img{{k:05d}}.jpg"
        prepare_res.write(images[name], thumbs[name, k // 6 % 4], filename, name, k)
"""

CELLS = [
    # 0: the dataset
    "import time\n"
    "import accnb\n"
    "from accnb.widgets import DatasetBrowser, Gallery, Histogram, JobView\n"
    "wd = accnb.Workdir('workdir-e2e', slices=2)\n"
    f"wd.method('tiles', {METHOD!r})\n"
    "job = wd.build('tiles', relay=lambda part, text: None)\n"
    "ds = job.dataset()\n"
    "print('rows', len(ds))",
    # 1: the histogram
    "hist = Histogram(ds, 'colour')\nhist",
    # 2: the gallery, linked to it
    "started = time.perf_counter()\n"
    f"gallery = Gallery(ds, page_size={PAGE_SIZE}).link(hist)\n"
    "print(f'gallery built in {time.perf_counter() - started:.3f} s')\n"
    "gallery",
    # 3: the dataset browser and the job view
    "DatasetBrowser(ds, page_size=5)",
    "JobView(job)",
]


def colour_of(k: int) -> tuple[int, int, int]:
    return PALETTE[COLOUR_NAMES[k % len(COLOUR_NAMES)]]


def write_notebook(folder: Path) -> Path:
    nb = new_notebook(cells=[new_code_cell(src) for src in CELLS])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = folder / NAME
    nbformat.write(nb, path)
    return path
