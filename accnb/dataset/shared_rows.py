"""Per-row work that any slice process may do, while each slice still writes its own rows.

A dataset's slices are dealt before the work on them is known: import_images deals images
by bytes, but a PNG decodes slower than a JPEG of the same size, and a core may be slowed
by its neighbours for a while. With a fixed split one slice then waits for the other. Here
a slice that has computed its own rows takes the last untaken rows of the slice with the
most left and hands their results back; that slice yields them after its own, in order.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import pickle
import struct
import time
import traceback
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .. import current
from ..errors import AccnbError
from .reader import Dataset

# Per slice in the shared map: the next row its own process takes (from the front), the
# end of the rows nobody has taken yet (others take from there, backwards), and how many
# rows others have computed and handed back.
_CLAIM = struct.Struct("<qqq")
_RECORD = struct.Struct("<qqq")  # a handed-back row: its number, whether it raised, its size
_WAIT_S = 0.001  # how often a slice looks for results still being computed elsewhere


class SharedRows:
    """The rows of `dataset`'s `columns` (as iterate takes them), for each analysis slice to
    map a function over, with the work shared between the slices.

    Make it in prepare and return it in prepare_res. In analysis each slice calls
    `shared.map(sliceno, func)` once, for its own slice, and reads it to the end: it gives
    func(row) for every row of the slice, in row order. The last rows may be computed in
    another slice's process, which has run out of its own: so func must not depend on
    where it runs (what it prints shows in that slice's output), and what it returns must
    pickle, as it travels back that way (so every result is pickled once, to fail alike
    wherever it is computed). An exception func raises there is raised here, at that row.

    Worth it where a row costs far more than taking it (a few µs under a lock), as
    decoding an image does. Only processes forked after prepare share: in a debug build
    (one slice, in the caller) or pickled (a Dask executor's slices run elsewhere) each
    slice computes just its own rows, as it does on a second map of its slice.
    """

    def __init__(self, dataset: Dataset, columns: str | Sequence[str] | None = None) -> None:
        if current.job is None or current.part != "prepare":
            raise AccnbError(
                "SharedRows is made in prepare, so that the slices forked after it share it; "
                "make it there and return it in prepare_res"
            )
        if not isinstance(dataset, Dataset):
            raise AccnbError(
                f"SharedRows shares the rows of one Dataset, not a {type(dataset).__name__}: "
                "write the rows to work on into one dataset first"
            )
        self.dataset = dataset
        if columns is None:
            columns = list(dataset.columns)
        self.columns = columns if isinstance(columns, str) else tuple(columns)
        self._prepared_in = os.getpid()
        self._mapped = False  # in this process: a second map computes its rows itself
        owned = min(len(dataset.lines), current.slices)  # slices with a process of their own
        self._claims: mmap.mmap | None = mmap.mmap(-1, _CLAIM.size * owned)
        for sliceno in range(owned):
            self._set_claim(sliceno, 0, dataset.lines[sliceno], 0)
        # In memory, not in the job's folder: a lock or an append there may be a network
        # round trip (a cluster's shared filesystem).
        self._lock = os.memfd_create("accnb SharedRows lock")
        self._handed = [os.memfd_create(f"accnb SharedRows slice {n}") for n in range(owned)]
        for fd in self._handed:  # each record lands at the end, whoever writes it
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_APPEND)
        weakref.finalize(self, _close, [self._lock, *self._handed])

    def __reduce__(self) -> tuple:
        return _unshared, (self.dataset, self.columns)

    def map(self, sliceno: int, func: Callable[[Any], Any]) -> Iterator[Any]:
        """func(row) for every row of slice `sliceno`, in row order."""
        sharing = self._sharing(sliceno)
        if sharing:
            self._mapped = True
        for line, row in enumerate(self.dataset.iterate(sliceno, self.columns)):
            if sharing and not self._take_own(sliceno):
                break
            result = func(row)
            _pickled(result, sliceno, line)  # fails here as it would in another process
            yield result
        if sharing:
            self._help_others(func)
            yield from self._handed_back(sliceno)

    def _sharing(self, sliceno: int) -> bool:
        return (
            self._claims is not None
            and os.getpid() != self._prepared_in
            and sliceno == current.sliceno
            and sliceno < len(self._handed)
            and not self._mapped
        )

    def _claim(self, sliceno: int) -> tuple[int, int, int]:
        """Slice `sliceno`'s (front, end, handed) in the shared map: read it under _locked."""
        return _CLAIM.unpack_from(self._claims, _CLAIM.size * sliceno)

    def _set_claim(self, sliceno: int, front: int, end: int, handed: int) -> None:
        _CLAIM.pack_into(self._claims, _CLAIM.size * sliceno, front, end, handed)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """An exclusive POSIX lock: per process, and let go if its holder dies."""
        fcntl.lockf(self._lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.lockf(self._lock, fcntl.LOCK_UN)

    def _take_own(self, sliceno: int) -> bool:
        with self._locked():
            front, end, handed = self._claim(sliceno)
            if front == end:
                return False
            self._set_claim(sliceno, front + 1, end, handed)
            return True

    def _take_other(self) -> tuple[int, int] | None:
        """(slice, row): the last untaken row of the slice with the most rows untaken."""
        with self._locked():
            claims = [self._claim(s) for s in range(len(self._handed))]
            left, sliceno = max((end - front, s) for s, (front, end, _) in enumerate(claims))
            if not left:
                return None
            front, end, handed = claims[sliceno]
            self._set_claim(sliceno, front, end - 1, handed)
            return sliceno, end - 1

    def _help_others(self, func: Callable[[Any], Any]) -> None:
        """Compute other slices' last rows until none is left untaken. A row that raises is
        handed back raised: its own slice raises it, at that row, as if it had computed it."""
        while (taken := self._take_other()) is not None:
            sliceno, row = taken
            try:
                data, raised = _pickled(func(self._row(sliceno, row)), sliceno, row), 0
            except Exception as e:  # noqa: BLE001 - the row's own slice raises it
                data, raised = _pickled_exception(e, sliceno, row), 1
            record = memoryview(_RECORD.pack(row, raised, len(data)) + data)
            with self._locked():
                while record:
                    record = record[os.write(self._handed[sliceno], record) :]
                front, end, handed = self._claim(sliceno)
                self._set_claim(sliceno, front, end, handed + 1)

    def _row(self, sliceno: int, row: int) -> Any:
        if isinstance(self.columns, str):
            return self.dataset.column(self.columns).take(sliceno, [row])[0]
        return tuple(self.dataset.column(c).take(sliceno, [row])[0] for c in self.columns)

    def _handed_back(self, sliceno: int) -> Iterator[Any]:
        """The results others computed for this slice's last rows, once all are in."""
        lines = self.dataset.lines[sliceno]
        while True:
            with self._locked():
                front, _, handed = self._claim(sliceno)
            if front + handed == lines:
                break
            time.sleep(_WAIT_S)
        fd = self._handed[sliceno]
        where, pos, size = {}, 0, os.fstat(fd).st_size
        while pos < size:  # an index first: the results are read one at a time
            row, raised, length = _RECORD.unpack(_read(fd, _RECORD.size, pos))
            where[row] = (raised, pos + _RECORD.size, length)
            pos += _RECORD.size + length
        for row in range(front, lines):
            raised, at, length = where.pop(row)
            value = pickle.loads(_read(fd, length, at))
            if raised:
                raise value
            yield value


def _pickled(result: Any, sliceno: int, row: int) -> bytes:
    try:
        return pickle.dumps(result, pickle.HIGHEST_PROTOCOL)
    except Exception as e:
        raise AccnbError(
            f"SharedRows: the result for row {row} of slice {sliceno} does not pickle "
            f"({type(e).__name__}: {e}); results computed in another slice's process come "
            "back as pickles, so return data (bytes, numbers, str, tuples, arrays)"
        ) from None


def _pickled_exception(e: Exception, sliceno: int, row: int) -> bytes:
    """`e` for the row's own slice to raise, saying where it was raised, with the traceback
    from there (a pickled exception loses it); an exception that does not pickle and load
    back becomes an AccnbError telling it."""
    there = "".join(traceback.format_exception(e)).rstrip()
    where = f"row {row} of slice {sliceno} was computed in slice {current.sliceno}'s process"
    try:
        e.add_note(f"({where} (SharedRows); the traceback there:\n{there})")
        data = pickle.dumps(e, pickle.HIGHEST_PROTOCOL)
        pickle.loads(data)  # an exception class whose __init__ takes other arguments fails here
        return data
    except Exception:  # noqa: BLE001 - an exception that does not pickle, or refuses notes
        return pickle.dumps(AccnbError(f"{type(e).__name__}: {e} ({where}; there:\n{there})"))


def _read(fd: int, size: int, at: int) -> bytes:
    """`size` bytes from offset `at`: one pread returns at most about 2 GiB."""
    parts = []
    while size:
        part = os.pread(fd, size, at)
        if not part:
            raise AccnbError("SharedRows: the results handed back to this slice are cut short")
        parts.append(part)
        size -= len(part)
        at += len(part)
    return b"".join(parts)


def _close(fds: list[int]) -> None:
    for fd in fds:
        os.close(fd)


def _unshared(dataset: Dataset, columns: str | tuple[str, ...]) -> SharedRows:
    shared = SharedRows.__new__(SharedRows)
    shared.dataset, shared.columns, shared._claims = dataset, columns, None
    return shared
