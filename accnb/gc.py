"""What a workdir no longer needs: unfinished and failed job directories, and unused locks.

A job directory without `post.json` is garbage unless a process is building it right now.
A build holds the flock of `.accnb/locks/<reuse key>` from before its directory exists until
after its last write, so a lock we can take means nobody builds that key; gc takes it and
removes the directory (or lock file) while holding it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .job import FAILED
from .store import FINISHED, SETUP, JobStore, read_json

# A build writes setup.json right after creating its directory; one without it for this
# long was left by a build that died in between.
ABANDONED_AFTER = 60.0


@dataclass
class Removal:
    """One thing gc removed, or would remove in a dry run."""

    name: str  # a job id, or "lock <key>"
    method: str
    state: str  # "failed", "unfinished" or "lock"
    size: int  # bytes on disk


@dataclass
class Kept:
    """A job directory gc left alone, and why."""

    name: str
    reason: str


def job_state(path: Path, locks: Path) -> str:
    """finished, failed, building (its reuse key is locked) or unfinished."""
    if (path / FINISHED).exists():
        return "finished"
    if (path / FAILED).exists():
        return "failed"
    key = read_setup(path).get("reuse_key")
    if key is None:
        return "unfinished"
    with claim(locks / key) as free:
        return "unfinished" if free else "building"


def read_setup(path: Path) -> dict:
    """A job's setup.json, or {} while it is not written (or unreadable)."""
    try:
        return read_json(path / SETUP)
    except (OSError, ValueError):
        return {}


@contextlib.contextmanager
def claim(lock_path: Path) -> Iterator[bool]:
    """Take the lock of a reuse key without waiting: True (held in the body) when no build
    holds it, False when one does. A missing lock file is free: nobody is building."""
    try:
        fd = os.open(lock_path, os.O_RDWR)
    except FileNotFoundError:
        yield True
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
            yield False
            return
        yield True
    finally:
        os.close(fd)  # releases the lock


def disk_usage(path: Path) -> int:
    """Bytes a file or folder takes on disk, as du counts them (each inode once)."""
    seen: set[tuple[int, int]] = set()
    total = 0

    def add(p: str) -> None:
        nonlocal total
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            return
        if (st.st_dev, st.st_ino) not in seen:
            seen.add((st.st_dev, st.st_ino))
            total += st.st_blocks * 512

    add(str(path))
    for root, dirs, files in os.walk(path):
        for name in (*dirs, *files):
            add(os.path.join(root, name))
    return total


def collect(store: JobStore, dry_run: bool = False) -> tuple[list[Removal], list[Kept]]:
    """Remove every unfinished or failed job directory no process is building, then every
    lock file no build holds. Finished jobs are never touched."""
    removed: list[Removal] = []
    kept: list[Kept] = []
    locks = store.meta / "locks"
    for jobid in store.all_jobs():
        path = store.path / jobid
        if (path / FINISHED).exists():
            continue
        setup = read_setup(path)
        state = "failed" if (path / FAILED).exists() else "unfinished"
        key = setup.get("reuse_key")
        if key is None:
            if time.time() - path.stat().st_mtime < ABANDONED_AFTER:
                kept.append(Kept(jobid, "no setup.json yet: a build may be creating it"))
                continue
            lock = contextlib.nullcontext(True)
        else:
            lock = claim(locks / key)
        with lock as free:
            if not free:
                kept.append(Kept(jobid, "being built"))
                continue
            if (path / FINISHED).exists() or not path.is_dir():  # changed while we looked
                continue
            removed.append(Removal(jobid, setup.get("method", "?"), state, disk_usage(path)))
            if not dry_run:
                shutil.rmtree(path)
    for lock_path in sorted(locks.iterdir()):
        with claim(lock_path) as free:
            if free:
                removed.append(Removal(f"lock {lock_path.name}", "", "lock", disk_usage(lock_path)))
                if not dry_run:
                    lock_path.unlink(missing_ok=True)
    return removed, kept
