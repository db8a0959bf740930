"""Fingerprints of input files and folders, so that a build over changed files runs again.

A method names the options that hold paths it reads (`input_directories = ("directory",)`);
the reuse key then includes every file under them: relative name, size and modification
time. Adding, removing, rewriting or touching a file changes the key; reading contents
is not needed, so fingerprinting a folder of large images costs one directory walk.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from . import hashing


def fingerprint(value: Any) -> str | None:
    """The fingerprint of a path option's value: a path, a list of paths, or empty."""
    if not value:
        return None
    paths = [value] if isinstance(value, str | os.PathLike) else list(value)
    entries: list[tuple[str, int, int]] = []
    for path in map(Path, paths):
        if path.is_dir():
            entries.extend(_walk(path))
        elif path.exists():
            st = path.stat()
            entries.append((str(path), st.st_size, st.st_mtime_ns))
        else:
            entries.append((str(path), -1, -1))  # missing now; may appear later
    return hashing.json_digest(entries)


def _walk(root: Path) -> list[tuple[str, int, int]]:
    found = []
    stack = [root]
    while stack:
        folder = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir():
                    stack.append(Path(entry.path))
                else:
                    st = entry.stat()
                    found.append((os.path.relpath(entry.path, root), st.st_size, st.st_mtime_ns))
    found.sort()
    return found
