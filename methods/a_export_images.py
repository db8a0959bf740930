import os
from pathlib import PurePosixPath

description = r"""
Write the images in a column of the source dataset as files, one per row, at
<directory>/<the row's filename with the extension replaced>, creating subfolders.

directory: '' (the default) is the folder export/ inside this job, so the files are part
of the job's result; a relative folder is inside the job too (jobs run in their own
folder); an absolute one is used as it is, though a rebuild that reuses this job will not
write it again.
extension: '' (the default) takes it from the bytes (JPEG .jpg, PNG .png, GIF .gif,
WebP .webp, BMP .bmp, TIFF .tif), keeping the filename's own when the bytes are none of
those.

Before anything is written, prepare reads every filename and refuses, naming the row
(slice, line and filename), an empty or absolute filename, a '..' component, a target
whose folder is, through a symlink, outside the directory, a file that already exists
there, and two rows that would write the same file. Files are opened with 'xb', so even
a file appearing since then is never overwritten. Rows whose column is None are skipped
and counted.

Result: dict(files=N, skipped=M, directory=<the absolute folder>).
"""

datasets = ("source",)

options = dict(
    column="thumb",
    directory="",
    extension="",
)

MAGIC = (  # leading bytes -> extension
    (b"\xff\xd8\xff", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", ".png"),
    (b"GIF87a", ".gif"),
    (b"GIF89a", ".gif"),
    (b"BM", ".bmp"),
    (b"II*\x00", ".tif"),
    (b"MM\x00*", ".tif"),
)


class ExportRefused(ValueError):
    """A row cannot be exported where it would go; nothing has been written."""


def prepare(job, options, datasets):
    root = os.path.abspath(options.directory) if options.directory else str(job.path / "export")
    extension = options.extension
    if extension and not extension.startswith("."):
        extension = "." + extension
    source = datasets.source
    column = source.column(options.column)
    if column.type != "bytes":
        raise ValueError(
            f"export_images: column {options.column!r} of {source} is {column.type}, not bytes"
        )
    inside = _Inside(root)
    seen = {}
    plan = []
    for sliceno in range(len(source.lines)):
        targets = []
        rows = source.iterate(sliceno, ("filename", options.column))
        for line, (filename, value) in enumerate(rows):
            if value is None:
                targets.append(None)
                continue
            row = f"slice {sliceno} line {line} (filename {filename!r})"
            name = _target_name(filename, extension or _extension_of(value, filename), row)
            if name in seen:
                raise ExportRefused(
                    f"export_images: {seen[name]} and {row} would both be written to {name!r}"
                )
            seen[name] = row
            inside.check(name, row)
            if os.path.lexists(os.path.join(root, name)):
                raise ExportRefused(
                    f"export_images: {row}: {os.path.join(root, name)!r} already exists, "
                    "and export never overwrites a file it did not write"
                )
            targets.append(name)
        plan.append(targets)
    os.makedirs(root, exist_ok=True)
    return root, plan


def analysis(sliceno, options, datasets, prepare_res):
    root, plan = prepare_res
    inside = _Inside(root)
    written = skipped = 0
    values = datasets.source.iterate(sliceno, options.column)
    for line, (value, name) in enumerate(zip(values, plan[sliceno], strict=True)):
        if name is None:
            skipped += 1
            continue
        row = f"slice {sliceno} line {line} ({name!r})"
        inside.make_folder(name, row)
        path = os.path.join(root, name)
        try:
            with open(path, "xb") as fh:
                fh.write(value)
        except FileExistsError:
            raise ExportRefused(
                f"export_images: {row}: {path!r} appeared since prepare checked, "
                "and export never overwrites a file it did not write"
            ) from None
        written += 1
    return written, skipped


def synthesis(analysis_res, prepare_res):
    written, skipped = analysis_res.merge_auto()
    root = prepare_res[0]
    print(
        f"wrote {written} files to {root}" + (f", skipped {skipped} empty rows" if skipped else "")
    )
    return dict(files=written, skipped=skipped, directory=root)


def _extension_of(value, filename):
    head = bytes(value[:12])
    for magic, extension in MAGIC:
        if head.startswith(magic):
            return extension
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ".webp"
    return PurePosixPath(filename or "").suffix


def _target_name(filename, extension, row):
    """The relative path a row is written to, or ExportRefused if it is not a safe one."""
    if not filename or "\0" in filename:
        raise ExportRefused(f"export_images: {row}: the filename is empty or holds a NUL")
    path = PurePosixPath(filename)
    if path.is_absolute():
        raise ExportRefused(f"export_images: {row}: an absolute filename would leave the folder")
    if ".." in path.parts:
        raise ExportRefused(f"export_images: {row}: a '..' in the filename would leave the folder")
    if path.name in ("", "."):
        raise ExportRefused(f"export_images: {row}: the filename names a folder, not a file")
    return str(path.with_suffix(extension)) if path.suffix else str(path) + extension


class _Inside:
    """Checks, once per folder, that a target's folder is really inside the root."""

    def __init__(self, root):
        self.root = root
        self.real_root = os.path.realpath(root)
        self.checked = set()

    def check(self, name, row):
        folder = os.path.dirname(name)
        if folder in self.checked:
            return
        real = os.path.realpath(os.path.join(self.root, folder))
        if os.path.commonpath([self.real_root, real]) != self.real_root:
            raise ExportRefused(
                f"export_images: {row}: its folder {folder!r} leads, through a symlink, "
                f"to {real!r}, outside {self.root!r}"
            )
        self.checked.add(folder)

    def make_folder(self, name, row):
        folder = os.path.dirname(name)
        if folder not in self.checked:
            self.check(name, row)  # again: the folders may have changed since prepare
            os.makedirs(os.path.join(self.root, folder), exist_ok=True)
