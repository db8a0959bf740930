"""Per-row work that any slice process may do, while each slice still writes its own rows.

A dataset's slices are dealt before the work on them is known: import_images deals images
by bytes, but a PNG decodes slower than a JPEG of the same size, and a core may be slowed
by its neighbours for a while. With a fixed split one slice then waits for the other. Here
a slice that has computed its own rows takes the last untaken rows of the slice with the
most left and hands their results back; that slice writes them after its own, in order.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import pickle
import struct
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .. import current
from ..errors import AccnbError

# Per slice in the shared map: the next row its own process takes (from the front), the
# end of the rows nobody has taken yet (others take from there, backwards), and how many
# rows others have computed and handed back.
_CLAIM = struct.Struct("<qqq")
_RECORD = struct.Struct("<qq")  # a handed-back result: its row, then its pickle's length
_WAIT_S = 0.001  # how often a slice looks for results still being computed elsewhere


class SharedRows:
    """The rows of `dataset`'s `columns` (a name, or a sequence of names as iterate takes),
    for analysis(sliceno) to map a function over with work shared between the slices.

    Make it in prepare and return it in prepare_res; in analysis,
    `for result in shared.map(sliceno, func): dw.write(...)` gives func(row) of every row
    of the slice, in row order, some of them computed by other slices' processes (a
    result then travels as a pickle). Worth it where a row costs far more than taking
    it (a few µs under a lock), as decoding an image does. Only processes forked after
    prepare share: in a debug build (one slice, in the caller) or pickled (a Dask
    executor's slices run elsewhere) each slice computes just its own rows.
    """

    def __init__(self, dataset: Any, columns: str | Sequence[str]) -> None:
        if current.job is None or current.part != "prepare":
            raise AccnbError(
                "SharedRows is made in prepare, so that the slices forked after it share it; "
                "make it there and return it in prepare_res"
            )
        self.dataset = dataset
        self.columns = columns if isinstance(columns, str) else tuple(columns)
        self._prepared_in = os.getpid()
        lines = dataset.lines
        self._claims: mmap.mmap | None = mmap.mmap(-1, _CLAIM.size * len(lines))
        for sliceno, count in enumerate(lines):
            _CLAIM.pack_into(self._claims, _CLAIM.size * sliceno, 0, count, 0)
        # Unnamed files in the job's folder (O_TMPFILE): nothing is left when a process dies.
        self._lock = tempfile.TemporaryFile(dir=current.job.path)
        self._handed = [tempfile.TemporaryFile(dir=current.job.path) for _ in lines]
        for handed in self._handed:  # every write lands at the end, whoever writes
            fcntl.fcntl(handed, fcntl.F_SETFL, fcntl.fcntl(handed, fcntl.F_GETFL) | os.O_APPEND)

    def __reduce__(self) -> tuple:
        return _unshared, (self.dataset, self.columns)

    def map(self, sliceno: int, func: Callable[[Any], Any]) -> Iterator[Any]:
        """func(row) for every row of slice `sliceno`, in row order."""
        rows = self.dataset.iterate(sliceno, self.columns)
        if self._claims is None or os.getpid() == self._prepared_in:
            yield from map(func, rows)
            return
        for row in rows:
            if not self._take_own(sliceno):
                break
            yield func(row)
        self._help_others(func)
        yield from self._handed_back(sliceno)

    def _slot(self, sliceno: int) -> int:
        return _CLAIM.size * sliceno

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """An exclusive POSIX lock: per process, and let go if its holder dies."""
        fcntl.lockf(self._lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.lockf(self._lock.fileno(), fcntl.LOCK_UN)

    def _take_own(self, sliceno: int) -> bool:
        with self._locked():
            front, end, handed = _CLAIM.unpack_from(self._claims, self._slot(sliceno))
            if front == end:
                return False
            _CLAIM.pack_into(self._claims, self._slot(sliceno), front + 1, end, handed)
            return True

    def _take_other(self) -> tuple[int, int] | None:
        """(slice, row): the last untaken row of the slice with the most rows untaken."""
        with self._locked():
            claims = [
                _CLAIM.unpack_from(self._claims, self._slot(s))
                for s in range(len(self.dataset.lines))
            ]
            left, sliceno = max((end - front, s) for s, (front, end, _) in enumerate(claims))
            if not left:
                return None
            front, end, handed = claims[sliceno]
            _CLAIM.pack_into(self._claims, self._slot(sliceno), front, end - 1, handed)
            return sliceno, end - 1

    def _help_others(self, func: Callable[[Any], Any]) -> None:
        while (taken := self._take_other()) is not None:
            sliceno, row = taken
            data = pickle.dumps(func(self._row(sliceno, row)), pickle.HIGHEST_PROTOCOL)
            record = memoryview(_RECORD.pack(row, len(data)) + data)
            with self._locked():
                while record:
                    record = record[os.write(self._handed[sliceno].fileno(), record) :]
                front, end, handed = _CLAIM.unpack_from(self._claims, self._slot(sliceno))
                _CLAIM.pack_into(self._claims, self._slot(sliceno), front, end, handed + 1)

    def _row(self, sliceno: int, row: int) -> Any:
        if isinstance(self.columns, str):
            return self.dataset.column(self.columns).take(sliceno, [row])[0]
        return tuple(self.dataset.column(c).take(sliceno, [row])[0] for c in self.columns)

    def _handed_back(self, sliceno: int) -> Iterator[Any]:
        """The results others computed for this slice's last rows, once all are in."""
        lines = self.dataset.lines[sliceno]
        while True:
            with self._locked():
                front, _, handed = _CLAIM.unpack_from(self._claims, self._slot(sliceno))
            if front + handed == lines:
                break
            time.sleep(_WAIT_S)
        fd = self._handed[sliceno].fileno()
        data = os.pread(fd, os.fstat(fd).st_size, 0)
        results, pos = {}, 0
        while pos < len(data):
            row, size = _RECORD.unpack_from(data, pos)
            pos += _RECORD.size
            results[row] = data[pos : pos + size]
            pos += size
        for row in range(front, lines):
            yield pickle.loads(results.pop(row))


def _unshared(dataset: Any, columns: str | tuple[str, ...]) -> SharedRows:
    shared = SharedRows.__new__(SharedRows)
    shared.dataset, shared.columns, shared._claims = dataset, columns, None
    return shared
