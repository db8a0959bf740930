import warnings
from functools import partial
from io import BytesIO

import numpy as np
from PIL import ExifTags, Image

from accnb import OptionEnum
from accnb.dataset import SharedRows

description = r"""
Add a thumbnail of every row's `image` to the source dataset: a dataset with
parent=source and two new columns, so the source's columns are shared, not copied.

  thumb        bytes or None    the thumbnail, encoded as `format`
  thumb_error  unicode or None  why there is no thumbnail (the image does not decode)

A thumbnail fits inside `size` (width, height) as displayed, keeps the aspect ratio and
is never larger than the image. The EXIF orientation is applied (as
ImageOps.exif_transpose would), so thumbnails stand the right way up and carry no EXIF.
Multi-frame files (GIF, APNG, TIFF) give their first frame. Modes: CMYK, YCbCr and other
colour spaces become RGB, 16-bit greyscale is scaled to 8 bits, palette and 1-bit images
are converted before resampling; transparency is kept in PNG and WEBP and flattened on
white for JPEG and BMP.

Speed: a JPEG is decoded at 1/2, 1/4 or 1/8 scale (im.draft) when that is still at
least the thumbnail's size, then resampled with `resample`: BICUBIC, as Pillow's
thumbnail() and the Accelerator's thumbnailer do, or LANCZOS, a little sharper and about
5% slower. On 40 of anchor-bench's photos (640x480 to 4000x3000), median PSNR against a
Lanczos reduction of the full-resolution image: LANCZOS 48.3 dB, BICUBIC 44.1, BILINEAR
38.8. The slices share the work (accnb.dataset.SharedRows): one that has made its own
thumbnails makes the last ones of a slice still busy and hands them back, so every core
works to the end even where the bytes the slices hold do not foretell their decoding time.

Result: dict(thumbnails=N, failed=M, format=..., size=[w, h]).
"""

datasets = ("source",)

FORMATS = OptionEnum("JPEG PNG WEBP BMP")
RESAMPLING = OptionEnum("BICUBIC LANCZOS BILINEAR")
options = dict(
    size=(256, 256),
    format=FORMATS.JPEG,
    quality=90,
    resample=RESAMPLING.BICUBIC,
)

SHOWN_FAILURES = 20  # synthesis prints this many failed rows, then a count
TRANSPOSE = {  # EXIF orientation -> what turns the stored image upright (ImageOps' table)
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
SIXTEEN_BIT = frozenset(["I;16", "I;16L", "I;16B", "I;16N", "I"])
KEPT_MODES = {  # output format -> modes it stores as they are
    "JPEG": {"L", "RGB"},
    "BMP": {"L", "RGB"},
    "PNG": {"L", "LA", "RGB", "RGBA"},
    "WEBP": {"RGB", "RGBA"},
}


def prepare(job, options, datasets):
    size = options.size
    if len(size) != 2 or min(size) < 1:
        raise ValueError(f"thumbnailer: size must be [width, height], both >= 1, not {size!r}")
    if not 1 <= options.quality <= 100:
        raise ValueError(f"thumbnailer: quality must be 1 to 100, not {options.quality}")
    dw = job.datasetwriter(parent=datasets.source)
    dw.add("thumb", "bytes", none_support=True)
    dw.add("thumb_error", "unicode", none_support=True)
    source = datasets.source
    named = "filename" in source.columns
    return dw, SharedRows(source, ("image", "filename") if named else ("image",))


def analysis(sliceno, options, prepare_res):
    dw, rows = prepare_res
    make = partial(
        _row_thumbnail,
        box=tuple(options.size),
        fmt=options.format,
        save=dict(quality=options.quality) if options.format in ("JPEG", "WEBP") else {},
        resample=Image.Resampling[options.resample],
    )
    made = 0
    failures = []
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that: refuse those too.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        for line, (thumb, reason, name) in enumerate(rows.map(sliceno, make)):
            dw.write(thumb, reason)
            if reason is None:
                made += 1
            else:
                failures.append((name or f"slice {sliceno} line {line}", reason))
    return made, failures


def synthesis(analysis_res, options):
    made, failures = analysis_res.merge_auto()
    print(f"made {made} thumbnails ({options.format}, within {options.size[0]}x{options.size[1]})")
    for name, reason in sorted(failures)[:SHOWN_FAILURES]:
        print(f"  failed {name}: {reason}")
    if len(failures) > SHOWN_FAILURES:
        print(f"  ... and {len(failures) - SHOWN_FAILURES} more (the column thumb_error)")
    return dict(thumbnails=made, failed=len(failures), format=options.format, size=options.size)


def _row_thumbnail(row, box, fmt, save, resample):
    """(thumbnail, None, name) of a row (image, [filename]), or (None, why not, name)."""
    name = row[1] if len(row) > 1 else None
    try:
        return thumbnail(row[0], box, fmt, save, resample), None, name
    except Exception as e:  # noqa: BLE001 - a row that fails must not fail the job
        return None, f"{type(e).__name__}: {e}", name


def thumbnail(data, box, fmt, save, resample):
    """The encoded thumbnail of one image file's bytes, fitting `box` once turned upright."""
    if data is None:
        raise ValueError("the row has no image")
    im = Image.open(BytesIO(data))
    orientation = _orientation(im)
    if orientation >= 5:  # stored on its side: fit the turned box
        box = box[::-1]
    im.draft("RGB", _fitted(im.size, box))
    im = _before_resampling(im)
    im.thumbnail(box, resample)
    if orientation in TRANSPOSE:
        im = im.transpose(TRANSPOSE[orientation])
    im = _for_format(im, fmt)
    out = BytesIO()
    im.save(out, fmt, **save)
    return out.getvalue()


def _orientation(im):
    """As import_images reads it: a PNG's eXIf chunk counts only before the pixels (reading
    one after them would decode them here, where a decoding error must not be lost)."""
    if im.format == "PNG" and "exif" not in im.info:
        return 1
    try:
        value = im.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:  # noqa: BLE001 - a damaged EXIF block leaves the image usable
        return 1
    return value if value in TRANSPOSE else 1


def _fitted(size, box):
    scale = min(box[0] / size[0], box[1] / size[1], 1)
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _before_resampling(im):
    """An image resampling treats right: indices, bits and 16-bit values become colours."""
    transparent = "transparency" in im.info
    if im.mode in ("P", "PA"):
        return im.convert("RGBA" if transparent or im.mode == "PA" else "RGB")
    if im.mode == "1":
        return im.convert("L")
    if im.mode in SIXTEEN_BIT:
        eight = np.clip(np.asarray(im, dtype=np.int64) >> 8, 0, 255).astype(np.uint8)
        return Image.fromarray(eight, "L")
    if transparent and im.mode in ("L", "RGB"):  # a tRNS colour key
        return im.convert("LA" if im.mode == "L" else "RGBA")
    return im


def _for_format(im, fmt):
    """The thumbnail in a mode `fmt` stores: alpha flattened on white where it has none."""
    kept = KEPT_MODES[fmt]
    if im.mode in kept:
        return im
    if "A" not in im.mode:
        return im.convert("RGB")
    if "RGBA" in kept:
        return im.convert("RGBA")
    white = Image.new("RGBA", im.size, "white")
    return Image.alpha_composite(white, im.convert("RGBA")).convert("RGB")
