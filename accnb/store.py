"""Job directories on disk: ids, the finished marker, the reuse index, and locks.

A workdir is a folder of job directories named `<workdir name>-<n>`, plus `.accnb/`:
`index` (one line per finished job: reuse key, job id, method; append-only, so other
processes' jobs are found by reading what was appended), `locks/` (one flock file per
reuse key, so two processes never run the same job at once), `sources/` (method
sources by digest, so a job can always show the code that made it) and `spare/` (the
next job's directory, made by a building process while a job runs, under its flock).
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import os
import pickle
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import NoSuchJobError

FINISHED = "post.json"
SETUP = "setup.json"


# The next job directory of each workdir this process builds in (JobStore.make_spare):
# workdir path -> (the directory, an fd of it holding its flock). Forked processes inherit
# the dict, and leave it alone.
_spares: dict[Path, tuple[Path, int]] = {}
_OWNER = os.getpid()


def _discard(spare: tuple[Path, int]) -> None:
    shutil.rmtree(spare[0], ignore_errors=True)
    os.close(spare[1])


@atexit.register
def _discard_spares() -> None:
    """A process that ends leaves no spare behind."""
    if os.getpid() == _OWNER:
        while _spares:
            _discard(_spares.popitem()[1])


class JobStore:
    """The jobs of one workdir folder, with an in-memory reuse index kept in step with disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._root = str(path)  # for the reuse path, where pathlib's joins cost more than the stat
        self.name = path.name
        self.meta = path / ".accnb"
        for sub in ("locks", "sources", "spare"):
            (self.meta / sub).mkdir(parents=True, exist_ok=True)
        self._index_path = self.meta / "index"
        self._index_path.touch()
        self._by_key: dict[str, str] = {}
        self._by_method: dict[str, list[str]] = {}
        self._index_ident: tuple[int, int] = (0, 0)  # (inode, bytes read)
        self._next_number: int | None = None
        self._id_pattern = re.compile(re.escape(self.name) + r"-(\d+)")

    # --- the reuse index

    def lookup(self, key: str) -> str | None:
        """The id of a finished job with this reuse key, or None."""
        jobid = self._by_key.get(key)
        if jobid is None:
            self.refresh()
            jobid = self._by_key.get(key)
        if jobid is not None and not os.path.exists(f"{self._root}/{jobid}/{FINISHED}"):
            self._forget(jobid)  # removed behind our back (gc in another process)
            return None
        return jobid

    def jobs_of(self, method: str) -> list[str]:
        """Finished jobs of a method, oldest first."""
        self.refresh()
        return list(self._by_method.get(method, ()))

    def refresh(self) -> None:
        """Read index lines other processes appended since we last looked."""
        try:
            st = self._index_path.stat()
        except FileNotFoundError:
            self._index_path.touch()
            st = self._index_path.stat()
        inode, seen = self._index_ident
        if st.st_ino != inode:  # rewritten (gc): read it all again
            self._by_key.clear()
            self._by_method.clear()
            seen = 0
        if st.st_size == seen:
            self._index_ident = (st.st_ino, seen)
            return
        with open(self._index_path, "rb") as fh:
            fh.seek(seen)
            data = fh.read()
        complete = data.rfind(b"\n") + 1  # a line still being written waits for next time
        for line in data[:complete].decode("utf-8").splitlines():
            key, jobid, method = line.split(" ", 2)
            self._by_key[key] = jobid
            self._by_method.setdefault(method, []).append(jobid)
        self._index_ident = (st.st_ino, seen + complete)

    def _forget(self, jobid: str) -> None:
        for key in [k for k, v in self._by_key.items() if v == jobid]:
            del self._by_key[key]
        for jobs in self._by_method.values():
            if jobid in jobs:
                jobs.remove(jobid)

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Hold the lock of one reuse key: a second builder of the same job waits here.

        `accnb gc` deletes lock files (holding their lock); a file deleted between our open
        and our flock would lock nothing, so we check we hold the file that is there.
        """
        fd = flock_current(self.meta / "locks" / key, os.O_RDWR | os.O_CREAT)
        try:
            yield
        finally:
            os.close(fd)  # releases the lock

    # --- job directories

    def new_job(self, setup: dict[str, Any], files: dict[str, bytes]) -> tuple[str, Path]:
        """Create the next job directory with its setup.json and `files` already inside.

        The directory is made under a temporary name and renamed to its id, which fails
        if another process took that id: so ids are unique across processes, and a job
        directory never exists without its setup (whose reuse key `accnb gc` needs).
        """
        if self._next_number is None:
            self._next_number = self._highest_number() + 1
        spare = _spares.pop(self.path, None) if os.getpid() == _OWNER else None
        if spare is not None and not spare[0].is_dir():  # removed by hand
            os.close(spare[1])
            spare = None
        tmp = self._new_directory() if spare is None else spare[0]
        try:
            for name, data in files.items():
                write_direct(tmp / name, data)
            while True:
                jobid = f"{self.name}-{self._next_number}"
                self._next_number += 1
                write_direct(tmp / SETUP, json_bytes(dict(setup, jobid=jobid)))
                path = self.path / jobid
                try:
                    os.rename(tmp, path)  # refuses an existing non-empty directory
                except OSError as e:
                    if path.exists():
                        continue
                    raise e
                return jobid, path
        finally:
            if spare is not None:
                os.close(spare[1])  # its flock: renamed, or removed below
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    def make_spare(self) -> None:
        """Make the next job's directory, with an empty setup.json, while a job runs:
        creating the two took 1.2-1.5 ms of a trivial build's 10 ms before its fork (ext4,
        measured), filling them takes 0.2 ms. The spare waits in .accnb/spare/ under an
        flock that `accnb gc` respects; one per workdir in a process, and none in job
        processes (they end with os._exit and would leave it behind). A failure here is
        left for the next build to meet: it makes its own directory."""
        if self.path in _spares or os.getpid() != _OWNER:
            return
        spare = self.meta / "spare" / f"{os.getpid()}-{secrets.token_hex(4)}"
        fd = -1
        try:
            spare.mkdir()
            fd = os.open(spare, os.O_RDONLY | os.O_DIRECTORY)
            fcntl.flock(fd, fcntl.LOCK_EX)
            write_direct(spare / SETUP, b"")
        except OSError:
            if fd >= 0:
                os.close(fd)
            shutil.rmtree(spare, ignore_errors=True)
            return
        _spares[self.path] = (spare, fd)

    def discard_spare(self) -> None:
        if os.getpid() == _OWNER and self.path in _spares:
            _discard(_spares.pop(self.path))

    def _new_directory(self) -> Path:
        path = self.path / f".new-{os.getpid()}-{secrets.token_hex(4)}"
        path.mkdir()
        return path

    def _highest_number(self) -> int:
        highest = -1
        with os.scandir(self.path) as entries:
            for entry in entries:
                m = self._id_pattern.fullmatch(entry.name)
                if m:
                    highest = max(highest, int(m.group(1)))
        return highest

    def job_path(self, jobid: str) -> Path:
        path = self.path / jobid
        if not self._id_pattern.fullmatch(jobid) or not path.is_dir():
            raise NoSuchJobError(f"no job {jobid!r} in workdir {str(self.path)!r}")
        return path

    def all_jobs(self) -> list[str]:
        """Every job directory, finished or not, in id order."""
        found = []
        with os.scandir(self.path) as entries:
            for entry in entries:
                m = self._id_pattern.fullmatch(entry.name)
                if m and entry.is_dir():
                    found.append((int(m.group(1)), entry.name))
        return [name for _, name in sorted(found)]

    def commit(self, jobid: str, key: str, method: str, post: dict[str, Any]) -> None:
        """Mark a job finished (post.json, by atomic rename) and publish it in the index."""
        write_pending(self.path / jobid / FINISHED, json_bytes(post))
        # `accnb gc` replaces the index under its flock: append to the one that is there.
        fd = flock_current(self._index_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, f"{key} {jobid} {method}\n".encode())
        finally:
            os.close(fd)
        self._by_key[key] = jobid
        self._by_method.setdefault(method, []).append(jobid)

    def store_source(self, digest: str, source: str) -> Path:
        """Keep a method's source by digest; returns its path (the same text, the same file)."""
        path = self.meta / "sources" / f"{digest}.py"
        if not path.exists():
            write_text(path, source)
        return path


def flock_current(path: Path, flags: int) -> int:
    """Open `path` and hold an exclusive flock on it; returns the fd (closing it unlocks).

    Lock files and the index are replaced or removed (by gc) while their lock is held, so
    after the flock we check that we hold the file that is at the path now, else retry.
    """
    while True:
        fd = os.open(path, flags, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


def json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=1, sort_keys=True, default=str) + "\n").encode()


def write_json(path: Path, data: Any) -> None:
    write_bytes(path, json_bytes(data))


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_pickle(path: Path, obj: Any) -> None:
    write_bytes(path, pickle.dumps(obj, pickle.HIGHEST_PROTOCOL))


def write_bytes(path: Path, data: bytes) -> None:
    """Write a file so that readers see the old version or the new one, never a part."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    tmp.write_bytes(data)
    tmp.rename(path)


def write_direct(path: Path | str, data: bytes) -> None:
    """Write a file in place, for files nobody reads before the job that writes them has
    reported (a slice's result, a new job's setup): a temporary and a rename would cost a
    forked child some 80 page copies (0.7 ms)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        write_all(fd, data)
    finally:
        os.close(fd)


def pending(path: Path) -> Path:
    """The hidden name a job's result or post.json is written under, then renamed from."""
    return path.with_name(f".{path.name}.pending")


def make_pending(*paths: Path) -> None:
    """Create these files, empty, under their pending names, while the job runs: creating a
    file in a new job directory costs 0.15-0.3 ms, which finishing the job then saves."""
    for path in paths:
        write_direct(pending(path), b"")


def write_pending(path: Path, data: bytes) -> None:
    """Write `path` through its pending file (made before, or now) and a rename, so that
    readers see all of it or nothing."""
    staged = pending(path)
    write_direct(staged, data)
    os.rename(staged, path)


def write_all(fd: int, data: bytes) -> None:
    """os.write until all of `data` is written (a pipe or file may take less at a time)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)
