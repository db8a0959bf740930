"""Joining what slices split-wrote in analysis (a split writer used in a slice process).

Each such slice writes its rows for every slice into part files, named as the slice's own
files plus `.from<its slice number>`. At finish the job process joins, for each slice, the
parts in the order of the slices that wrote them (a slice that wrote its own rows the usual
way counts as its own part): byte copies, with offsets shifted, never a row in Python.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from .layout import column_file
from .types import minmax_merge

OFFSETS_BLOCK = 1 << 20  # offsets shifted at a time (8 MB)


def join(ds_dir: Path, columns: list[tuple[str, Any]], per_slice: list[dict]) -> list[dict]:
    """The record of each slice of the dataset in `ds_dir` once its parts are joined into
    its files. `columns` are (name, column type) in write order; `per_slice` holds each
    slice process's record: a split-writing one has "parts", one per destination slice."""
    joined = []
    for dest in range(len(per_slice)):
        parts = []  # (file name tag, record) of each part with rows, in writing slice order
        for src, meta in enumerate(per_slice):
            if "parts" in meta:
                parts.append((f".from{src}", meta["parts"][dest]))
            elif src == dest:
                parts.append(("", meta))
        parts = [(tag, meta) for tag, meta in parts if meta["lines"]]
        joined.append(_join_slice(ds_dir, columns, dest, parts))
    return joined


def _join_slice(
    ds_dir: Path, columns: list[tuple[str, Any]], dest: int, parts: list[tuple[str, dict]]
) -> dict:
    tags = [tag for tag, _ in parts]
    lines = [meta["lines"] for _, meta in parts]
    joined = {}
    for ix, (name, ct) in enumerate(columns):
        cols = [meta["columns"][name] for _, meta in parts]
        if parts:  # (a slice without rows has no files)
            _join_files(str(column_file(ds_dir, f"c{ix}", dest)), ct, tags, lines, cols)
        lo, hi = minmax_merge([(col["min"], col["max"]) for col in cols])
        joined[name] = {
            "min": lo,
            "max": hi,
            "flags": any(col["flags"] for col in cols),
            "big": any(col["big"] for col in cols),
        }
    return {"lines": sum(lines), "columns": joined}


def _join_files(base: str, ct: Any, tags: list[str], lines: list[int], cols: list[dict]) -> None:
    """One column's files of one slice, from the parts' (`cols`: their records)."""
    if ct.layout == "var":
        _join_var(base, tags)
    else:
        _cat(base, tags)
        if ct.layout == "number":
            _cat(base + ".kinds", tags)
            big_tags = [tag for tag, col in zip(tags, cols, strict=True) if col["big"]]
            if big_tags:
                _join_var(base + ".big", big_tags)
    has_flags = [col["flags"] for col in cols]
    if any(has_flags):
        _join_flags(base + ".flags", tags, lines, has_flags)


def _inputs(out: str, tags: list[str]) -> list[str] | None:
    """The part files of `out`, or None when `out` alone is all of them. A part that is
    `out` itself (a slice's own rows) is moved aside first, as `out` is written anew."""
    if tags == [""]:
        return None
    if "" in tags:
        os.replace(out, out + ".own")
    return [out + (tag or ".own") for tag in tags]


def _cat(out: str, tags: list[str]) -> None:
    inputs = _inputs(out, tags)
    if inputs is None:
        return
    if len(inputs) == 1:
        os.replace(inputs[0], out)
        return
    with open(out, "xb") as fh:
        for path in inputs:
            with open(path, "rb") as part:
                shutil.copyfileobj(part, fh, 1 << 20)
            os.unlink(path)


def _join_var(data: str, tags: list[str]) -> None:
    """Variable-width data and its offsets: each part's offsets start at 0, so they are
    shifted by the size of the data before them (a block at a time: a slice's offsets
    may be far bigger than memory should hold)."""
    inputs = _inputs(data + ".offsets", tags)
    if inputs is None:
        return
    _cat(data, tags)
    with open(data + ".offsets", "xb") as fh:
        base = 0  # the data before this part
        for n, path in enumerate(inputs):
            end = base
            with open(path, "rb") as part:
                skip = n > 0  # a later part's leading 0 is where the one before ended
                while len(block := np.fromfile(part, "<i8", OFFSETS_BLOCK)):
                    if skip:
                        block, skip = block[1:], False
                    block += base
                    fh.write(block.tobytes())
                    end = int(block[-1]) if len(block) else end
            base = end
            os.unlink(path)


def _join_flags(out: str, tags: list[str], lines: list[int], present: list[bool]) -> None:
    """A part without a flags file (no None or fold in it) contributes zeros."""
    if tags == [""]:
        return
    if "" in tags and present[tags.index("")]:
        os.replace(out, out + ".own")
    with open(out, "xb") as fh:
        for tag, count, has in zip(tags, lines, present, strict=True):
            if not has:
                fh.write(bytes(count))
                continue
            path = out + (tag or ".own")
            with open(path, "rb") as part:
                shutil.copyfileobj(part, fh, 1 << 20)
            os.unlink(path)
