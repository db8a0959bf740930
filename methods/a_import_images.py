import heapq
import os
import stat
import warnings
from io import BytesIO
from pathlib import PurePath

from PIL import ExifTags, Image, UnidentifiedImageError

from accnb import OptionString

description = r"""
Import image files into a dataset, one row per image, as they are: nothing is decoded or
recompressed.

Columns of the default dataset:
  image        bytes    the file's bytes, unchanged
  filename     unicode  the path relative to `directory`, '/' between folders
  width        int32    from the header
  height       int32    from the header
  format       ascii    Pillow's name of the file format: JPEG, PNG, GIF, WEBP, ...
  mode         ascii    Pillow's mode as stored: RGB, L, P, CMYK, I;16, RGBA, ...
  orientation  int32    the EXIF orientation tag (1-8), 1 when absent

(The shape is two int columns rather than one json [width, height]: they read as numpy
arrays, carry min and max, and `ds.iterate(None, ("width", "height"))` gives the tuples.)

Which files: every file below `directory` whose name ends with one of `extensions` (in
any case), in subfolders too unless recursive=False (symlinked folders are not entered);
or, when `files` is given, exactly those, relative to `directory` or absolute inside it.

Files that are not usable images never fail the job; they go to the dataset "rejected"
(columns filename and reason): empty files, files Pillow does not recognise, truncated
JPEG, PNG and WebP files (checked without decoding: the end marker or the sizes the file
declares), unreadable files and folders, names that are not UTF-8, and images with more
pixels than Pillow's MAX_IMAGE_PIXELS (decompression bombs). Other damage inside the
compressed pixels shows when they are decoded: see thumbnailer's thumb_error column.

Slices: prepare deals the files so that every slice gets about the same number of bytes
(largest first, each to the slice with the fewest bytes so far); within a slice rows are
in filename order, so iterate(None, ...) is not in filename order across slices.

Reuse: `input_directories` asks accnb to make `directory` absolute (relative to where the
build runs) and to add its listing (names, sizes, modification times) to the reuse key, so
a build over a changed folder runs again.

Result: dict(imported=N, rejected=M, directory=<the absolute directory>).
"""

options = dict(
    directory=OptionString("photos"),
    files=[str],
    extensions=[".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff"],
    recursive=True,
)

# Options naming folders whose listing enters the reuse key (see the description).
input_directories = ("directory",)

SHOWN_REJECTIONS = 20  # synthesis prints this many rejected files, then a count
JPEG_STANDALONE_MARKERS = frozenset([0x01, *range(0xD0, 0xD8)])  # markers without a length


def prepare(job, options, slices):
    root = options.directory  # absolute: accnb resolves input_directories where the build runs
    if not os.path.isdir(root):
        raise NotADirectoryError(f"import_images: directory {root!r} is not a folder")
    if options.files:
        found = _given_files(root, options.files)
    else:
        found = _listing(root, _extensions(options.extensions), options.recursive)
    images = job.datasetwriter()
    images.add("image", "bytes")
    images.add("filename", "unicode")
    images.add("width", "int32")
    images.add("height", "int32")
    images.add("format", "ascii")
    images.add("mode", "ascii")
    images.add("orientation", "int32")
    rejected = job.datasetwriter(name="rejected")
    rejected.add("filename", "unicode")
    rejected.add("reason", "unicode")
    entries = [_entry(root, name, problem) for name, problem in found]
    return images, rejected, root, _deal(entries, slices)


def analysis(sliceno, prepare_res):
    images, rejected, root, dealt = prepare_res
    write, reject = images.write, rejected.write
    imported = 0
    rejections = []
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that: refuse those too.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        for name, _, problem in dealt[sliceno]:
            row = problem or _read(root, name)
            if isinstance(row, str):
                reject(name, row)
                rejections.append((name, row))
            else:
                write(*row)
                imported += 1
    return imported, rejections


def synthesis(analysis_res, prepare_res):
    root = prepare_res[2]
    imported, rejections = analysis_res.merge_auto()
    print(f"imported {imported} images from {root}, rejected {len(rejections)}")
    for name, reason in sorted(rejections)[:SHOWN_REJECTIONS]:
        print(f"  rejected {name}: {reason}")
    if len(rejections) > SHOWN_REJECTIONS:
        print(f"  ... and {len(rejections) - SHOWN_REJECTIONS} more (the dataset 'rejected')")
    return dict(imported=imported, rejected=len(rejections), directory=root)


# --- finding and dealing the files (prepare)


def _extensions(extensions):
    return tuple(e.lower() if e.startswith(".") else "." + e.lower() for e in extensions)


def _listing(root, extensions, recursive):
    """(relative name, problem) of every matching file; an unreadable folder is a problem."""
    found = []

    def unreadable(error):
        found.append((_relative(root, error.filename), f"unreadable folder: {error.strerror}"))

    for folder, dirs, names in os.walk(root, onerror=unreadable):
        if not recursive:
            dirs.clear()
        for name in names:
            if name.lower().endswith(extensions):
                found.append((_relative(root, os.path.join(folder, name)), None))
    return found


def _given_files(root, files):
    found = set()
    for given in files:
        path = os.path.normpath(os.path.join(root, given))
        if path == root or os.path.commonpath([root, path]) != root:
            raise ValueError(
                f"import_images: file {given!r} is not inside directory {root!r}; filenames "
                "are stored relative to the directory, so choose one that holds them all"
            )
        found.add((_relative(root, path), None))
    return sorted(found)


def _relative(root, path):
    return PurePath(os.path.relpath(path, root)).as_posix()


def _entry(root, name, problem):
    """(name, size, problem): what prepare knows of a file before it is read."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # a name in another encoding: show its bytes escaped
        shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        return shown, 0, problem or "the file name is not valid UTF-8"
    if problem is not None:
        return name, 0, problem
    try:
        st = os.stat(os.path.join(root, name))
    except OSError as e:
        return name, 0, f"unreadable: {e.strerror}"
    if not stat.S_ISREG(st.st_mode):  # a fifo would block the slice forever
        return name, 0, "not a regular file"
    return name, st.st_size, None


def _deal(entries, slices):
    """Each slice's entries in name order, with about equal bytes per slice.

    Largest first, each to the slice holding the fewest bytes so far (ties to the lowest
    slice), so no slice ends up more than the largest file above another.
    """
    totals = [(0, sliceno) for sliceno in range(slices)]
    dealt = [[] for _ in range(slices)]
    for entry in sorted(entries, key=lambda e: (-e[1], e[0])):
        total, sliceno = heapq.heappop(totals)
        dealt[sliceno].append(entry)
        heapq.heappush(totals, (total + entry[1], sliceno))
    for part in dealt:
        part.sort()
    return dealt


# --- reading one file (analysis)


def _read(root, name):
    """The file's row (image, filename, width, height, format, mode, orientation), or why
    it is rejected."""
    try:
        with open(os.path.join(root, name), "rb") as fh:
            data = fh.read()
    except OSError as e:
        return f"unreadable: {e.strerror or e}"
    if not data:
        return "empty file"
    try:
        im = Image.open(BytesIO(data))
        row = (data, name, *im.size, im.format, im.mode, _orientation(im))
        damage = _damage(im, data)
    except UnidentifiedImageError:
        return "not an image: Pillow recognises no image format in it"
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        return f"possible decompression bomb: {e}"
    except Exception as e:  # noqa: BLE001 - Pillow's parsers raise many kinds on bad headers
        return f"damaged header: {type(e).__name__}: {e}"
    return damage or row


def _orientation(im):
    # A PNG's eXIf chunk may follow the pixels, and reaching it would mean decoding them.
    if im.format == "PNG" and "exif" not in im.info:
        return 1
    try:
        value = im.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:  # noqa: BLE001 - a damaged EXIF block leaves the image usable
        return 1
    return value if value in range(1, 9) else 1


def _damage(im, data):
    """Why a file whose header reads is not whole, as far as can be told without decoding."""
    if im.format in ("JPEG", "MPO"):
        scan = _jpeg_scan_start(data)
        if scan is None or data.rfind(b"\xff\xd9") < scan:
            return "truncated: the JPEG data ends before its end-of-image marker"
    elif im.format == "PNG":
        try:
            im.verify()  # every chunk's length and CRC, up to IEND; no decompression
        except Exception as e:  # noqa: BLE001 - verify raises OSError, SyntaxError, ...
            return f"truncated or damaged PNG: {e}"
    elif im.format == "WEBP":
        declared = 8 + int.from_bytes(data[4:8], "little")
        if len(data) < declared:
            return f"truncated: the WebP file declares {declared} bytes but has {len(data)}"
    return None


def _jpeg_scan_start(data):
    """Where the main image's first scan starts (an EXIF thumbnail's markers lie inside
    the APP1 segment, which is skipped whole), or None if the headers end before it."""
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xDA:
            return pos
        if marker == 0xFF:
            pos += 1
        elif marker in JPEG_STANDALONE_MARKERS:
            pos += 2
        else:
            pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return None
