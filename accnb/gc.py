"""What a workdir no longer needs: unfinished and failed jobs, unused locks, and on request
old finished jobs that nothing kept uses; and the space a workdir takes.

A job directory without `post.json` is garbage unless a process is building it right now.
A build holds the flock of `.accnb/locks/<reuse key>` from before its directory exists until
after its last write, so a lock we can take means nobody builds that key; gc takes it and
removes the directory (or lock file) while holding it.

Finished jobs go only when asked, by age (`older_than`) or by count per method
(`keep_latest`); with both, only a job both rules would remove. A job recorded in an Urd
session of the workdir always stays. A job that stays keeps every job it uses,
transitively: its inputs, its JobWithFile options, its subjobs, and the jobs holding its
datasets' parents, previous datasets and column files. A finished job is first
made unfinished (its post.json removed), then dropped from the reuse index, then deleted, so
a crash halfway leaves an unfinished job that the next gc removes, never a finished-looking
half job.

Jobs being built keep what they use too. A build that picks its inputs while gc runs may
still find one gone (it then fails naming the input): remove finished jobs while nothing
builds.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .dataset.layout import META
from .job import FAILED
from .store import FINISHED, SETUP, JobStore, flock_current, read_json, write_text
from .urd import recorded_jobs

# A build writes setup.json right after creating its directory; one without it for this
# long was left by a build that died in between.
ABANDONED_AFTER = 60.0

AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


@dataclass
class Removal:
    """One thing gc removed, or would remove in a dry run."""

    name: str  # a job id, or "lock <key>"
    method: str
    state: str  # "finished", "failed", "unfinished" or "lock"
    size: int  # bytes on disk
    finished: float | None = None  # when a finished job finished (time.time())


@dataclass
class Kept:
    """A job directory gc left alone, and why."""

    name: str
    reason: str


@dataclass
class Space:
    """Bytes on disk of one row of `accnb du`."""

    name: str  # a method (its finished jobs), "(failed)", "(unfinished)", "(building)" or ".accnb"
    jobs: int
    size: int


def parse_age(text: str) -> float:
    """Seconds in an age such as 45s, 90m, 12h, 30d or 2w."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([smhdw])", text.strip())
    if m is None:
        raise ValueError(
            f"expected a number and a unit (s, m, h, d or w), such as 30d or 12h; got {text!r}"
        )
    return float(m.group(1)) * AGE_UNITS[m.group(2)]


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
    return _read_json_or_none(path / SETUP) or {}


def _read_json_or_none(path: Path) -> Any:
    try:
        return read_json(path)
    except (OSError, ValueError):
        return None


@contextlib.contextmanager
def claim(lock_path: Path) -> Iterator[bool]:
    """Take the lock of a reuse key (or of a spare job directory) without waiting: True
    (held in the body) when nobody holds it, False when someone does. A missing lock file
    is free: nobody is building."""
    try:
        fd = os.open(lock_path, os.O_RDONLY)
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


# --- what a job uses


def _setup_uses(setup: dict) -> dict[str, str]:
    """The jobs a setup.json names: its job and dataset inputs and JobWithFile options."""
    found: dict[str, str] = {}
    for value in setup.get("inputs", {}).values():
        for ident in value if isinstance(value, list) else [value]:
            if isinstance(ident, str) and ident:
                found.setdefault(ident.partition("/")[0], "input")

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            tagged = value.get("$JobWithFile")  # options.canonical's form of a JobWithFile
            if isinstance(tagged, list) and tagged and isinstance(tagged[0], str):
                found.setdefault(tagged[0], "JobWithFile option")
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(setup.get("options", {}))
    return found


def uses(path: Path) -> dict[str, str]:
    """The jobs a job directory (finished, or still being built) needs, each with how:
    "input", "JobWithFile option", "subjob", "dataset parent", "dataset previous" or
    "dataset columns"."""
    found = _setup_uses(read_setup(path))
    post = _read_json_or_none(path / FINISHED)
    if isinstance(post, dict):
        subjobs = post.get("subjobs", [])
    else:  # still running: its subjobs so far
        try:
            subjobs = (path / ".subjobs").read_text().split()
        except OSError:
            subjobs = []
    for jobid in subjobs:
        found.setdefault(jobid, "subjob")
    for meta_path in sorted(path.glob(f"datasets/*/{META}")):
        meta = _read_json_or_none(meta_path)
        if not isinstance(meta, dict):
            continue
        parent = meta.get("parent")
        links = [(p, "dataset parent") for p in (parent if isinstance(parent, list) else [parent])]
        links.append((meta.get("previous"), "dataset previous"))
        links += [(c.get("location"), "dataset columns") for c in meta.get("columns", {}).values()]
        for dsid, how in links:
            if isinstance(dsid, str) and dsid:
                found.setdefault(dsid.partition("/")[0], how)
    found.pop(path.name, None)
    return found


# --- removing


def collect(
    store: JobStore,
    dry_run: bool = False,
    older_than: float | None = None,
    keep_latest: int | None = None,
    now: float | None = None,
) -> tuple[list[Removal], list[Kept]]:
    """Remove every unfinished or failed job directory no process is building, the finished
    jobs the rules select (`older_than` seconds, `keep_latest` per method; none without a
    rule) that no staying job uses, and every lock file no build holds."""
    removed: list[Removal] = []
    kept: list[Kept] = []
    locks = store.meta / "locks"
    # Read before the job directories: a job created meanwhile is then in all_jobs().
    creating = sorted(store.path.glob(".new-*"))
    finished: list[str] = []
    staying: list[tuple[str, Path]] = [("a job being created", p) for p in creating]
    for jobid in store.all_jobs():
        path = store.path / jobid
        if (path / FINISHED).exists():
            finished.append(jobid)
            continue
        setup = read_setup(path)
        state = "failed" if (path / FAILED).exists() else "unfinished"
        key = setup.get("reuse_key")
        if key is None:
            if time.time() - path.stat().st_mtime < ABANDONED_AFTER:
                kept.append(Kept(jobid, "no setup.json yet: a build may be creating it"))
                staying.append((jobid, path))
                continue
            lock = contextlib.nullcontext(True)
        else:
            lock = claim(locks / key)
        with lock as free:
            if not free:
                kept.append(Kept(jobid, "being built"))
                staying.append((jobid, path))
                continue
            if (path / FINISHED).exists() or not path.is_dir():  # changed while we looked
                continue
            removed.append(Removal(jobid, setup.get("method", "?"), state, disk_usage(path)))
            if not dry_run:
                shutil.rmtree(path)
    if older_than is not None or keep_latest is not None:
        going = _finished_to_remove(
            store, finished, staying, older_than, keep_latest, time.time() if now is None else now
        )
        for jobid, method, when, reason in going:
            if reason is not None:
                kept.append(Kept(jobid, reason))
            else:
                size = disk_usage(store.path / jobid)
                removed.append(Removal(jobid, method, "finished", size, when))
        if not dry_run:
            doomed = [item.name for item in removed if item.state == "finished"]
            for jobid in doomed:  # unfinished first: a crash now leaves no finished half job
                (store.path / jobid / FINISHED).unlink(missing_ok=True)
            rewrite_index(store)
            for jobid in doomed:
                shutil.rmtree(store.path / jobid, ignore_errors=True)
    elif not dry_run:
        rewrite_index(store)  # drops the lines of jobs a crashed gc left unfinished
    for path in creating:  # a build makes and renames these in milliseconds: old ones crashed
        if path.exists() and time.time() - path.stat().st_mtime > ABANDONED_AFTER:
            removed.append(Removal(path.name, "?", "abandoned", disk_usage(path)))
            if not dry_run:
                shutil.rmtree(path, ignore_errors=True)
    for lock_path in sorted(locks.iterdir()):
        with claim(lock_path) as free:
            if free:
                removed.append(Removal(f"lock {lock_path.name}", "", "lock", disk_usage(lock_path)))
                if not dry_run:
                    lock_path.unlink(missing_ok=True)
    for spare in sorted((store.meta / "spare").iterdir()):  # a process that made it is gone
        with claim(spare) as free:
            if free and spare.is_dir():
                removed.append(Removal(f"spare {spare.name}", "", "spare", disk_usage(spare)))
                if not dry_run:
                    shutil.rmtree(spare, ignore_errors=True)
    return removed, kept


def _finished_to_remove(
    store: JobStore,
    finished: list[str],
    staying: list[tuple[str, Path]],
    older_than: float | None,
    keep_latest: int | None,
    now: float,
) -> list[tuple[str, str, float, str | None]]:
    """The finished jobs the rules select, in id order, as (id, method, finish time, None),
    or with the reason it stays after all (a staying job uses it) instead of None."""
    method = {jobid: read_setup(store.path / jobid).get("method", "?") for jobid in finished}
    when = {jobid: _finish_time(store.path / jobid) for jobid in finished}
    selected = set(finished)
    if older_than is not None:
        selected = {jobid for jobid in selected if when[jobid] < now - older_than}
    if keep_latest is not None:
        by_method: dict[str, list[str]] = {}
        for jobid in reversed(finished):  # newest id first, so it wins a tie in finish time
            by_method.setdefault(method[jobid], []).append(jobid)
        for ids in by_method.values():
            newest_first = sorted(ids, key=lambda j: when[j], reverse=True)  # stable
            selected -= set(newest_first[:keep_latest])
    spared = {jobid: why for jobid, why in recorded_jobs(store.path).items() if jobid in selected}
    todo = [(jobid, store.path / jobid) for jobid in finished if jobid not in selected]
    todo += staying
    todo += [(jobid, store.path / jobid) for jobid in spared]
    while todo:
        user, path = todo.pop()
        for used, how in uses(path).items():
            if used in selected and used not in spared:
                spared[used] = f"used by {user} ({how})"
                todo.append((used, store.path / used))
    return [
        (jobid, method[jobid], when[jobid], spared.get(jobid))
        for jobid in finished
        if jobid in selected
    ]


def _finish_time(path: Path) -> float:
    post = _read_json_or_none(path / FINISHED)
    if isinstance(post, dict) and isinstance(post.get("finished"), int | float):
        return float(post["finished"])
    try:
        return (path / FINISHED).stat().st_mtime
    except FileNotFoundError:  # removed meanwhile (another gc): as old as can be
        return 0.0


def rewrite_index(store: JobStore) -> int:
    """Drop the reuse index lines of jobs that are no longer finished; returns how many.

    The index is append-only for builds (JobStore.commit appends under an exclusive flock),
    so gc writes the kept lines to a new file and renames it over the old one while holding
    that flock; readers see the new inode and read it all again. A commit always writes
    post.json before its line, so a line whose job has no post.json is one gc removed.
    """
    index = store.meta / "index"
    with open(flock_current(index, os.O_RDONLY), "rb") as fh:
        lines = fh.read().decode("utf-8").splitlines(keepends=True)
        kept = [line for line in lines if _line_is_finished(store, line)]
        if len(kept) < len(lines):
            write_text(index, "".join(kept))
    return len(lines) - len(kept)


def _line_is_finished(store: JobStore, line: str) -> bool:
    fields = line.split(" ", 2)
    if len(fields) < 3:
        return True  # not ours to judge
    return (store.path / fields[1] / FINISHED).exists()


# --- space


def space(store: JobStore) -> list[Space]:
    """Bytes on disk: per method (its finished jobs), then the failed, unfinished and
    building jobs, then `.accnb` (the index, locks and method sources)."""
    locks = store.meta / "locks"
    rows: dict[str, Space] = {}
    for jobid in store.all_jobs():
        path = store.path / jobid
        state = job_state(path, locks)
        name = read_setup(path).get("method", "?") if state == "finished" else f"({state})"
        row = rows.setdefault(name, Space(name, 0, 0))
        row.jobs += 1
        row.size += disk_usage(path)
    states = ["(failed)", "(unfinished)", "(building)"]
    methods = sorted(name for name in rows if name not in states)
    return [
        *(rows[name] for name in methods),
        *(rows[name] for name in states if name in rows),
        Space(".accnb", 0, disk_usage(store.meta)),
    ]
