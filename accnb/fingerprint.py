"""Fingerprints of input files and folders, so that a build over changed files runs again.

A method names the options that hold paths it reads (`input_directories = ("directory",)`);
the reuse key then includes every file under them: relative name, size and modification
time. Adding, removing, rewriting or touching a file changes the key; reading contents
is not needed, so fingerprinting a folder of large images costs one directory walk.
"""

from __future__ import annotations

import os
from typing import Any

from . import hashing


def fingerprint(value: Any) -> str | None:
    """The fingerprint of a path option's value: a path, a list of paths, or empty.

    Never fails on what it finds: odd names, dangling symlinks, loops and unreadable
    folders are entries too (the method decides what to make of them).
    """
    if not value:
        return None
    paths = [value] if isinstance(value, str | os.PathLike) else list(value)
    entries: list[tuple[str, int, int]] = []
    for path in map(os.fsencode, paths):
        if os.path.isdir(path):
            entries.extend(_walk(path))
        else:
            entries.append((_name(path), *_stamp(path)))
    return hashing.json_digest(entries)


def _walk(root: bytes) -> list[tuple[str, int, int]]:
    """Every entry below `root` (symlinks are not followed into, so no loops)."""
    found = []
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    else:
                        found.append(
                            (_name(os.path.relpath(entry.path, root)), *_stamp(entry.path))
                        )
        except OSError as e:
            found.append((_name(os.path.relpath(folder, root)), -2, e.errno or 0))
    found.sort()
    return found


def _stamp(path: bytes) -> tuple[int, int]:
    """(size, mtime) of what a path leads to; of the link itself when that is dangling."""
    try:
        st = os.stat(path)
    except OSError:
        try:
            st = os.lstat(path)
        except OSError:
            return (-1, -1)  # missing now; may appear later
    return (st.st_size, st.st_mtime_ns)


def _name(path: bytes) -> str:
    """A file name as JSON can hold it, whatever bytes it is made of."""
    return os.fsdecode(path).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
