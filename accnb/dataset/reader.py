"""Dataset: reading columns chunk by chunk (iterate) or as numpy arrays, chains, merge and links."""

from __future__ import annotations

import builtins
import mmap
import operator
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from itertools import chain as ichain
from itertools import compress, islice, pairwise, zip_longest
from pathlib import Path
from typing import Any

import numpy as np

from .. import current
from ..errors import DatasetError
from . import layout
from .partition import hash_encoded, hash_value
from .types import (
    FOLD,
    N_BIG,
    NONE,
    TYPES,
    ColumnType,
    Fixed,
    Numbers,
    NumberType,
    Packed,
    is_masked,
    minmax_from_json,
)

# Rows made into Python objects at a time: small enough that each chunk's objects reuse the
# memory the last one freed (at 65536, 4 MB of str a chunk faulted fresh pages in).
CHUNK_ROWS = 8192
CHUNK_BYTES = 4 << 20  # a variable-width chunk is at most this big (or one value)
RELEASE_BYTES = 1 << 20  # pages read past are unmapped this many bytes at a time
HASH_CHUNK_ROWS = 1 << 16  # rows hashed at a time by numpy (512 kB of uint64 hashes)
_LITTLE = sys.byteorder == "little"
_no_override = object()


def _check_rows(rows: Any) -> None:
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
        raise ValueError(f"chunks: rows must be a whole number above 0, not {rows!r}")


def _even_ends(lines: int, rows: int) -> list[int]:
    return [*range(rows, lines, rows), lines] if lines else []


def _bounded_ends(lines: int, rows: int, value_ends: list[np.ndarray | None]) -> list[int]:
    """Where chunks of at most `rows` rows end, cut sooner where a chunk would hold more than
    CHUNK_BYTES of a text column's values (`value_ends`: each such column's offsets)."""
    texts = [ends for ends in value_ends if ends is not None]
    if not texts or all(int(ends[-1] - ends[0]) <= CHUNK_BYTES for ends in texts):
        return _even_ends(lines, rows)
    cut, a = [], 0
    while a < lines:
        b = min(lines, a + rows)
        for ends in texts:  # b only moves down, so columns checked before still fit
            if ends[b] - ends[a] > CHUNK_BYTES:
                b = max(a + 1, int(np.searchsorted(ends, ends[a] + CHUNK_BYTES, "right")) - 1)
        cut.append(b)
        a = b
    return cut


def _open_path(path: str) -> Dataset:
    return Dataset(path=path)


def _map(path: Path, size: int) -> mmap.mmap:
    with open(path, "rb") as fh:
        return mmap.mmap(fh.fileno(), size, access=mmap.ACCESS_READ)


def _release(data: Any, start: int, end: int) -> None:
    """Unmap pages of a mapped file we have read past: they would otherwise stay in this
    process's RSS, so reading a column of photos would look (and be counted) as big as the
    column. They stay in the page cache; reading them again just maps them again."""
    if isinstance(data, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED"):
        first = start - start % mmap.PAGESIZE
        if end - first >= mmap.PAGESIZE:
            data.madvise(mmap.MADV_DONTNEED, first, end - first - (end - first) % mmap.PAGESIZE)


class Column:
    """One column of a dataset: its type, None support, min and max, and its values."""

    def __init__(self, ds: Dataset, name: str, info: dict) -> None:
        self.dataset = ds
        self.name = name
        self._info = info
        self.type: str = info["type"]
        self.none_support: bool = info["none_support"]
        self.min = minmax_from_json(self.type, info["min"])
        self.max = minmax_from_json(self.type, info["max"])
        self._ct: ColumnType = TYPES[self.type]
        self._dir = layout.dataset_dir(ds._root, info["location"])
        self._file = info["file"]
        self._flags = set(info["flags"])
        self._big = set(info.get("big", ()))

    def __repr__(self) -> str:
        return f"<Column {self.name!r} ({self.type}) of {self.dataset}>"

    # -- files, checked against the metadata before any value is read

    def _path(self, sliceno: int, suffix: str = "") -> Path:
        return layout.column_file(self._dir, self._file, sliceno, suffix)

    def _corrupt(self, sliceno: int, what: str) -> DatasetError:
        return DatasetError(
            f"Dataset {self.dataset}, column {self.name!r} ({self.type}), slice {sliceno}: "
            f"{what}; the dataset is damaged, rebuild the job that made it"
        )

    def _mapped(self, sliceno: int, suffix: str, size: int) -> mmap.mmap | bytes:
        if not size:  # empty slices have no files
            return b""
        path = self._path(sliceno, suffix)
        try:
            got = os.path.getsize(path)
        except OSError:
            raise self._corrupt(sliceno, f"{path.name} is missing") from None
        if got != size:
            raise self._corrupt(sliceno, f"{path.name} has {got} bytes, expected {size}")
        return _map(path, size)

    def _array(self, sliceno: int, suffix: str, dtype: Any, count: int) -> np.ndarray:
        dtype = np.dtype(dtype)
        return np.frombuffer(self._mapped(sliceno, suffix, count * dtype.itemsize), dtype)

    def _flags_of(self, sliceno: int, lines: int) -> np.ndarray | None:
        if sliceno not in self._flags:
            return None
        return self._array(sliceno, ".flags", np.uint8, lines)

    def _offsets(self, sliceno: int, lines: int, suffix: str) -> tuple[np.ndarray, Any]:
        offsets = self._array(sliceno, suffix + ".offsets", "<i8", lines + 1)
        if offsets[0] != 0:
            raise self._corrupt(sliceno, "offsets do not start at 0")
        data = self._mapped(sliceno, suffix, int(offsets[-1]))
        return offsets, data

    # -- values

    def _slice_iter(self, sliceno: int) -> Iterator:
        lines = self.dataset.lines[sliceno]
        if not lines:
            return iter(())
        ct = self._ct
        if ct.layout == "fixed":
            mm = self._mapped(sliceno, "", lines * ct.itemsize)
            flags = self._flags_of(sliceno, lines)
            if flags is None and ct.mv_format and _LITTLE:
                return iter(memoryview(mm).cast(ct.mv_format))
            return ichain.from_iterable(self._fixed_chunks(np.frombuffer(mm, ct.dtype), flags))
        if ct.layout == "var":
            offsets, data = self._offsets(sliceno, lines, "")
            flags = self._flags_of(sliceno, lines)
            chunks = self._var_chunks(sliceno, offsets, data, flags, ct)
            return ichain.from_iterable(chunks)
        return ichain.from_iterable(self._number_chunks(sliceno, lines))

    def _fixed_chunks(self, arr: np.ndarray, flags: np.ndarray | None) -> Iterator[list]:
        ct = self._ct
        for a in range(0, len(arr), CHUNK_ROWS):
            values = ct.to_python(arr[a : a + CHUNK_ROWS])
            if flags is not None:
                f = flags[a : a + CHUNK_ROWS]
                for ix in np.flatnonzero(f & NONE).tolist():
                    values[ix] = None
                if (f & FOLD).any():
                    ct.apply_fold(values, f)
            yield values

    def _var_chunks(
        self,
        sliceno: int,
        offsets: np.ndarray,
        data: Any,
        flags: np.ndarray | None,
        ct: Any,
    ) -> Iterator[list]:
        released = 0
        for a, b in pairwise([0, *_bounded_ends(len(offsets) - 1, CHUNK_ROWS, [offsets])]):
            start, stop = int(offsets[a]), int(offsets[b])
            chunk = data[start:stop]
            o = offsets[a : b + 1] - start
            self._check_offsets(sliceno, chunk, o)
            try:
                values = ct.decode(chunk, o[:-1], o[1:] - 1)
            except (UnicodeDecodeError, ValueError) as e:
                raise self._corrupt(sliceno, f"undecodable value ({e})") from None
            if flags is not None:
                for ix in np.flatnonzero(flags[a:b] & NONE).tolist():
                    values[ix] = None
            yield values
            if stop - released >= RELEASE_BYTES:
                _release(data, released, stop)
                released = stop

    def _check_offsets(self, sliceno: int, chunk: Any, offsets: np.ndarray) -> None:
        """A chunk's offsets (less its start) must increase, with a NUL before each: a
        damaged file (a value holding a NUL can hide a shifted offset from a split) is an
        error, never shifted values."""
        ends = offsets[1:]
        if (ends <= offsets[:-1]).any() or np.frombuffer(chunk, np.uint8).take(ends - 1).any():
            raise self._corrupt(sliceno, "values and offsets do not agree")

    def _big_ints(self, sliceno: int, kinds: np.ndarray) -> list[int]:
        count = int((kinds == N_BIG).sum())
        if not count:
            return []
        if sliceno not in self._big:
            raise self._corrupt(sliceno, "big numbers without their file")
        offsets, data = self._offsets(sliceno, count, ".big")
        blobs: list = []
        for chunk in self._var_chunks(sliceno, offsets, data, None, TYPES["bytes"]):
            blobs += chunk
        return [int.from_bytes(b, "little", signed=True) for b in blobs]

    def _number_chunks(self, sliceno: int, lines: int) -> Iterator[list]:
        kinds = self._array(sliceno, ".kinds", np.uint8, lines)
        payload = self._array(sliceno, "", "<i8", lines)
        if len(kinds) and kinds.max() > N_BIG:
            raise self._corrupt(sliceno, "unknown number kind")
        big = self._big_ints(sliceno, kinds)
        ct: NumberType = self._ct  # type: ignore[assignment]
        used = 0
        for a in range(0, lines, CHUNK_ROWS):
            k = kinds[a : a + CHUNK_ROWS]
            nbig = int((k == N_BIG).sum()) if big else 0
            yield ct.decode(k, payload[a : a + CHUNK_ROWS], big[used : used + nbig])
            used += nbig

    def iterate(self, sliceno: int | None = None) -> Iterator:
        """Values of this column in one slice, or all slices in order."""
        if sliceno is None:
            return ichain.from_iterable(map(self._slice_iter, range(len(self.dataset.lines))))
        return self._slice_iter(sliceno)

    def chunks(self, sliceno: int, rows: int, packed: bool = False) -> Iterator[Any]:
        """The values of slice `sliceno`, `rows` at a time (the last chunk may hold fewer):
        lists, so that chunks of several columns line up. With packed=True, chunks come as
        stored where write_columns takes that form back, with no Python object per value:
        numpy arrays for fixed-width columns (masked where None; a datetime chunk with a
        fold stays a list), and Packed for bytes, ascii and unicode chunks without None.
        (Dataset.chunks gives several columns at once, and bounds the bytes of a chunk.)"""
        _check_rows(rows)
        return self._chunks(sliceno, _even_ends(self.dataset.lines[sliceno], rows), packed)

    def _chunks(self, sliceno: int, ends: list[int], packed: bool) -> Iterator[Any]:
        """Chunks as chunks() gives them, ending at the rows `ends` (ascending, the last
        one the slice's length)."""
        lines = self.dataset.lines[sliceno]
        bounds = list(pairwise([0, *ends]))
        if packed and lines and self._ct.layout == "fixed":
            yield from self._array_chunks(sliceno, bounds)
            return
        if not (packed and lines and self.type in ("bytes", "ascii", "unicode")):
            values = self._slice_iter(sliceno)
            for a, b in bounds:
                yield list(islice(values, b - a))
            return
        offsets, data = self._offsets(sliceno, lines, "")
        flags = self._flags_of(sliceno, lines)
        for a, b in bounds:
            start, stop = int(offsets[a]), int(offsets[b])
            if flags is not None and (flags[a:b] & NONE).any():
                rebased = offsets[a : b + 1] - start
                parts = self._var_chunks(sliceno, rebased, data[start:stop], flags[a:b], self._ct)
                yield list(ichain.from_iterable(parts))
                continue
            chunk = data[start:stop]
            o = offsets[a : b + 1] - start
            self._check_offsets(sliceno, chunk, o)
            yield Packed(chunk, o[1:])
            _release(data, start, stop)

    def _value_ends(self, sliceno: int) -> np.ndarray | None:
        """Where each value of a text column ends in its file (None for other columns, whose
        values are a few bytes each)."""
        lines = self.dataset.lines[sliceno]
        if self._ct.layout != "var" or not lines:
            return None
        return self._array(sliceno, ".offsets", "<i8", lines + 1)

    def _array_chunks(self, sliceno: int, bounds: list[tuple[int, int]]) -> Iterator[Any]:
        ct = self._ct
        lines = self.dataset.lines[sliceno]
        stored = np.frombuffer(self._mapped(sliceno, "", lines * ct.itemsize), ct.dtype)
        arr = ct.to_numpy(stored)
        flags = self._flags_of(sliceno, lines)
        for a, b in bounds:
            f = None if flags is None else flags[a:b]
            if f is not None and (f & FOLD).any():
                yield list(ichain.from_iterable(self._fixed_chunks(stored[a:b], f)))
            elif f is not None and (f & NONE).any():
                yield np.ma.MaskedArray(arr[a:b], mask=(f & NONE).astype(bool))
            else:
                yield arr[a:b]

    def hash_chunks(self, sliceno: int) -> Iterator[np.ndarray]:
        """The hashlabel hash (partition.py) of each row of slice `sliceno`, a chunk at a
        time: from the column's own bytes, as the writer hashes them, for fixed-width and
        number columns; a value at a time for the others (and for big numbers)."""
        lines = self.dataset.lines[sliceno]
        ct = self._ct
        if ct.layout == "fixed" and lines:
            arr = np.frombuffer(self._mapped(sliceno, "", lines * ct.itemsize), ct.dtype)
            flags = self._flags_of(sliceno, lines)
            for a in range(0, lines, HASH_CHUNK_ROWS):
                b = a + HASH_CHUNK_ROWS
                yield hash_encoded(
                    ct.name, Fixed(arr[a:b], None if flags is None else flags[a:b]), []
                )
            return
        if ct.layout == "number" and lines:
            kinds = self._array(sliceno, ".kinds", np.uint8, lines)
            if not (kinds == N_BIG).any():
                payload = self._array(sliceno, "", "<i8", lines)
                for a in range(0, lines, HASH_CHUNK_ROWS):
                    b = a + HASH_CHUNK_ROWS
                    yield hash_encoded(ct.name, Numbers(kinds[a:b], payload[a:b], None), [])
                return
        ends = _bounded_ends(lines, CHUNK_ROWS, [self._value_ends(sliceno)])
        for chunk in self._chunks(sliceno, ends, False):
            yield np.fromiter(map(hash_value, chunk), np.uint64, len(chunk))

    def take(self, sliceno: int, rows: Sequence[int] | np.ndarray) -> list:
        """Values of rows `rows` (indices in slice `sliceno`, any order, repeats allowed),
        reading only those rows: the cost is that of the rows asked for, not of the slice."""
        lines = self.dataset.lines[sliceno]
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows):
            return []
        if rows.min() < 0 or rows.max() >= lines:
            bad = int(rows[(rows < 0) | (rows >= lines)][0])
            raise DatasetError(
                f"Dataset {self.dataset}, slice {sliceno} has {lines} rows: there is no row {bad}"
            )
        ct = self._ct
        flags = self._flags_of(sliceno, lines)
        if ct.layout == "fixed":
            arr = np.frombuffer(self._mapped(sliceno, "", lines * ct.itemsize), ct.dtype)
            values = ct.to_python(arr[rows])
            if flags is not None:
                f = flags[rows]
                for ix in np.flatnonzero(f & NONE).tolist():
                    values[ix] = None
                if (f & FOLD).any():
                    ct.apply_fold(values, f)
            return values
        if ct.layout == "var":
            offsets, data = self._offsets(sliceno, lines, "")
            starts, stops = offsets[rows], offsets[rows + 1]  # each value with its NUL
            raw = np.frombuffer(data, np.uint8)
            # Each value ends at a NUL and starts right after one (or at 0): a shifted offset
            # shows as one of these, not as a value missing its first bytes.
            shifted = raw[starts[starts > 0] - 1].any()
            if (stops <= starts).any() or raw[stops - 1].any() or shifted:
                raise self._corrupt(sliceno, "values and offsets do not agree")
            chunk = b"".join(
                data[a:b] for a, b in zip(starts.tolist(), stops.tolist(), strict=True)
            )
            o = np.concatenate([[0], np.cumsum(stops - starts)])
            try:
                values = ct.decode(chunk, o[:-1], o[1:] - 1)
            except (UnicodeDecodeError, ValueError) as e:
                raise self._corrupt(sliceno, f"undecodable value ({e})") from None
            if flags is not None:
                for ix in np.flatnonzero(flags[rows] & NONE).tolist():
                    values[ix] = None
            return values
        # number: kinds and payload index directly; big integers live apart, in row order
        kinds = self._array(sliceno, ".kinds", np.uint8, lines)[rows]
        if (kinds == N_BIG).any():
            values = list(self._slice_iter(sliceno))
            return [values[r] for r in rows.tolist()]
        payload = self._array(sliceno, "", "<i8", lines)[rows]
        return ct.decode(kinds, payload, [])

    def numpy(self, sliceno: int | None = None) -> np.ndarray:
        """The column as one array: memory-mapped for a fixed-width slice, no Python loop.

        datetime, date and time give datetime64[us], datetime64[D] and timedelta64[us]
        (time since midnight); None rows give a numpy.ma.MaskedArray; a number column
        gives int64 or float64 when its values allow, object otherwise; text and other
        variable-width types give an object array.
        """
        if sliceno is None:
            parts = [self.numpy(s) for s in range(len(self.dataset.lines))]
            parts = [p for p in parts if len(p)] or parts[:1]
            if any(map(is_masked, parts)):
                return np.ma.concatenate(parts)
            if len({p.dtype for p in parts}) > 1:
                parts = [p.astype(object) for p in parts]
            return np.concatenate(parts) if parts else np.array([])
        lines = self.dataset.lines[sliceno]
        ct = self._ct
        if ct.layout == "fixed":
            arr = ct.to_numpy(
                np.frombuffer(self._mapped(sliceno, "", lines * ct.itemsize), ct.dtype)
            )
            flags = self._flags_of(sliceno, lines) if lines else None
            if flags is not None and (flags & NONE).any():
                return np.ma.MaskedArray(arr, mask=(flags & NONE).astype(bool))
            return arr
        if ct.layout == "number" and lines:
            kinds = self._array(sliceno, ".kinds", np.uint8, lines)
            payload = self._array(sliceno, "", "<i8", lines)
            for kind, dtype in ((1, "<i8"), (2, "<f8")):
                if (kinds == kind).all():
                    return payload.view(dtype)
        values = list(self._slice_iter(sliceno))
        arr = np.empty(len(values), dtype=object)
        arr[:] = values
        return arr


class Dataset:
    """A finished dataset: `Dataset("jobid/name")` inside a job, `Dataset(path=...)` anywhere.

    Equal to other datasets (and ids) with the same id; pickles as its path.
    """

    def __init__(self, dsid: Any = None, name: str | None = None, *, path: Any = None) -> None:
        if path is None:
            if isinstance(dsid, Dataset):
                path = dsid._dir
            elif hasattr(dsid, "path") and hasattr(dsid, "jobid"):  # a job
                path = Path(dsid.path) / "datasets" / layout.check_name(name or "default")
            elif hasattr(dsid, "jobid") and hasattr(dsid, "name"):  # a finished DatasetWriter
                path = layout.dataset_dir(layout.workdir_root(), f"{dsid.jobid}/{dsid.name}")
            else:
                if isinstance(dsid, tuple | list):
                    dsid, name = dsid
                    dsid = getattr(dsid, "jobid", dsid)
                if not isinstance(dsid, str):
                    raise DatasetError(f"Not a dataset id: {dsid!r}")
                if name is not None:
                    if "/" in dsid:
                        raise DatasetError("Give the name in the id or as name=, not both")
                    dsid = f"{dsid}/{name}"
                path = layout.dataset_dir(layout.workdir_root(), dsid)
        self._dir = Path(path).absolute()
        self._root = self._dir.parent.parent.parent
        fallback = f"{self._dir.parent.parent.name}/{self._dir.name}"
        meta = layout.load_meta(self._dir, fallback)
        self._meta = meta
        self.jobid: str = meta["jobid"]
        self.name: str = meta["name"]
        self.id = f"{self.jobid}/{self.name}"
        self.columns: dict[str, Column] = {
            k: Column(self, k, info) for k, info in meta["columns"].items()
        }

    @classmethod
    def from_path(cls, path: str | os.PathLike) -> Dataset:
        return cls(path=path)

    # -- identity

    def __str__(self) -> str:
        return self.id

    def __repr__(self) -> str:
        return f"Dataset({self.id!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Dataset):
            return self.id == other.id
        if isinstance(other, str):
            try:
                return self.id == layout.normalize_id(other)
            except DatasetError:
                return False
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.id)

    def __reduce__(self) -> tuple:
        return _open_path, (str(self._dir),)

    def __len__(self) -> int:
        return sum(self.lines)

    # -- metadata

    @property
    def path(self) -> Path:
        return self._dir

    @property
    def lines(self) -> list[int]:
        return list(self._meta["lines"])

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.columns), len(self)

    @property
    def hashlabel(self) -> str | None:
        return self._meta["hashlabel"]

    @property
    def caption(self) -> str:
        return self._meta["caption"]

    @property
    def filename(self) -> str | None:
        """Where the data came from, when its writer said (`filename=`), else None."""
        return self._meta.get("filename")

    @property
    def parent(self) -> Dataset | tuple[Dataset, ...] | None:
        p = self._meta["parent"]
        if p is None:
            return None
        if isinstance(p, list):
            return tuple(self._other(x) for x in p)
        return self._other(p)

    @property
    def previous(self) -> Dataset | None:
        p = self._meta["previous"]
        return None if p is None else self._other(p)

    def _other(self, dsid: str) -> Dataset:
        return Dataset(path=layout.dataset_dir(self._root, dsid))

    def column(self, name: str) -> Column:
        try:
            return self.columns[name]
        except KeyError:
            raise DatasetError(
                f"No column {name!r} in {self}: it has {sorted(self.columns)}"
            ) from None

    def min(self, column: str) -> Any:
        c = self.columns.get(column)
        return c.min if c else None

    def max(self, column: str) -> Any:
        c = self.columns.get(column)
        return c.max if c else None

    # -- iterating

    def chunks(
        self,
        sliceno: int,
        columns: str | Sequence[str] | None = None,
        rows: int = CHUNK_ROWS,
        packed: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """The columns of slice `sliceno` a chunk of rows at a time, as dicts of column name
        to chunk (in Column.chunks' forms), which write_columns takes as they are. A chunk
        holds at most `rows` rows, and fewer where text values are large: at most about
        CHUNK_BYTES of any column's values (or one row), so 8192 photos are never one chunk."""
        _check_rows(rows)
        if columns is None:
            names = list(self.columns)
        else:
            names = [columns] if isinstance(columns, str) else list(columns)
        cols = [self.column(name) for name in names]
        ends = _bounded_ends(self.lines[sliceno], rows, [c._value_ends(sliceno) for c in cols])
        for parts in zip(*(c._chunks(sliceno, ends, packed) for c in cols), strict=True):
            yield dict(zip(names, parts, strict=True))

    def iterate(
        self,
        sliceno: int | str | None,
        columns: str | Sequence[str] | None = None,
        hashlabel: str | None = None,
        range: dict | None = None,
        sloppy_range: bool = False,
        filters: Any = None,
        translators: Any = None,
        rehash: bool = False,
        slice: Any = None,
    ) -> Iterator:
        """Iterate this dataset: see iterate_list."""
        return iterate_list(
            sliceno, columns, [self], hashlabel=hashlabel, range=range,
            sloppy_range=sloppy_range, filters=filters, translators=translators,
            rehash=rehash, slice=slice,
        )  # fmt: skip

    def iterate_chain(
        self,
        sliceno: int | str | None,
        columns: str | Sequence[str] | None = None,
        length: int = -1,
        range: dict | None = None,
        sloppy_range: bool = False,
        reverse: bool = False,
        hashlabel: str | None = None,
        stop_ds: Any = None,
        filters: Any = None,
        translators: Any = None,
        rehash: bool = False,
        slice: Any = None,
    ) -> Iterator:
        """Iterate the chain ending here (see chain), oldest first unless reverse."""
        return self.chain(length, reverse, stop_ds).iterate(
            sliceno, columns, range=range, sloppy_range=sloppy_range, hashlabel=hashlabel,
            filters=filters, translators=translators, rehash=rehash, slice=slice,
        )  # fmt: skip

    def chain(self, length: int = -1, reverse: bool = False, stop_ds: Any = None) -> DatasetChain:
        """This dataset and its previous ones, at most `length`, stopping before stop_ds: a
        dataset, or the Accelerator's {job: input name}, the dataset that job took as that
        input (nothing stops the chain when the job, or its input, is None)."""
        if isinstance(stop_ds, dict):
            stop_ds = self._input_of(stop_ds)
        if stop_ds is not None and not isinstance(stop_ds, Dataset):
            stop_ds = layout.normalize_id(str(stop_ds))
        res = DatasetChain()
        ds: Dataset | None = self
        while ds is not None and length != len(res) and ds != stop_ds:
            res.append(ds)
            ds = ds.previous
        if not reverse:
            res.reverse()
        return res

    def _input_of(self, job_and_name: dict) -> str | None:
        """The id of the dataset a job (a Job, a job id, or one of its datasets) took as its
        input `name` (the job's params.datasets)."""
        from ..job import Job  # the one place a dataset looks at a job (ARCHITECTURE.md)

        if len(job_and_name) != 1:
            raise DatasetError(f"stop_ds={{job: input name}} names one job, not {job_and_name!r}")
        ((job, name),) = job_and_name.items()
        if not job:
            return None
        if isinstance(job, Dataset):
            job = Job(job.jobid, job._dir.parent.parent)
        elif not isinstance(job, Job):
            jobid = str(job).partition("/")[0]
            job = Job(jobid, self._root / jobid)
        inputs = job.params.get("datasets") or {}
        if name in inputs and not isinstance(inputs[name], str | None):
            raise DatasetError(f"stop_ds: input {name!r} of {job} is a list, not one dataset")
        return inputs.get(name)

    # -- numpy and pandas

    def to_pandas(self, columns: Sequence[str] | None = None, sliceno: int | None = None) -> Any:
        """A pandas DataFrame of the columns (all by default); needs pandas installed."""
        try:
            import pandas as pd
        except ImportError:
            raise DatasetError("to_pandas needs pandas: pip install pandas") from None
        names = list(columns) if columns is not None else list(self.columns)
        data = {}
        for name in names:
            arr = self.column(name).numpy(sliceno)
            if is_masked(arr):
                arr = arr.astype(object).filled(None)
            data[name] = arr
        return pd.DataFrame(data, columns=names)

    # -- new datasets from this one (inside a job)

    def link_to_here(
        self,
        name: str = "default",
        column_filter: Iterable[str] | None = None,
        override_previous: Any = _no_override,
        rename: dict[str, str | None] | None = None,
        filename: str | None = None,
    ) -> Dataset:
        """Expose this dataset (e.g. a subjob's) as a dataset of the running job, no copying.

        As in the Accelerator: rename={old: new} renames columns ({old: None} leaves one
        out), column_filter (after rename) keeps only the columns it names,
        override_previous rechains, and filename replaces the filename ('' clears it).
        """
        meta = dict(self._meta)
        columns = dict(meta["columns"])
        if rename:
            columns, meta["hashlabel"] = _renamed(self, columns, meta["hashlabel"], rename)
        if column_filter is not None:
            wanted = set(column_filter)
            unknown = wanted - set(columns)
            if unknown:
                raise DatasetError(f"Columns {sorted(unknown)} in column_filter are not in {self}")
            columns = {k: v for k, v in columns.items() if k in wanted}
        if not columns:
            raise DatasetError(f"No columns of {self} are left to link")
        meta["columns"] = dict(sorted(columns.items()))
        if meta["hashlabel"] not in columns:
            meta["hashlabel"] = None
        if override_previous is not _no_override:
            meta["previous"] = None if override_previous is None else Dataset(override_previous).id
        if filename is not None:
            meta["filename"] = filename or None
        meta["parent"] = self.id
        return _save_new(meta, name)

    def merge(
        self, other: Any, name: str = "default", previous: Any = None, allow_unrelated: bool = False
    ) -> Dataset:
        """A dataset with the columns of both (other's win), in the running job, no copying."""
        other = other if isinstance(other, Dataset) else Dataset(other)
        if self == other:
            raise DatasetError(f"Can't merge {self} with itself")
        if self.lines != other.lines:
            raise DatasetError(
                f"{self} and {other} don't have the same lines per slice ({self.lines} vs {other.lines})"
            )
        hashlabels = {self.hashlabel, other.hashlabel} - {None}
        if len(hashlabels) > 1:
            raise DatasetError(
                f"Hashlabel mismatch: {self} has {self.hashlabel!r}, {other} has {other.hashlabel!r}"
            )
        if not allow_unrelated and not (_roots(self) & _roots(other)):
            raise DatasetError(
                f"{self} and {other} have no common ancestor: pass allow_unrelated=True to merge them"
            )
        meta = dict(self._meta)
        meta["columns"] = {**self._meta["columns"], **other._meta["columns"]}
        meta["columns"] = dict(sorted(meta["columns"].items()))
        meta["hashlabel"] = hashlabels.pop() if hashlabels else None
        meta["previous"] = None if previous is None else Dataset(previous).id
        meta["parent"] = [self.id, other.id]
        meta["caption"] = None
        meta["filename"] = None
        return _save_new(meta, name)


def _renamed(
    ds: Dataset, columns: dict, hashlabel: str | None, rename: dict[str, str | None]
) -> tuple[dict, str | None]:
    """link_to_here's columns and hashlabel after rename (the Accelerator's rules: a column
    renamed over another replaces it; the hashlabel follows its column, or is dropped)."""
    unknown = set(rename) - set(columns)
    if unknown:
        raise DatasetError(f"Columns {sorted(unknown)} in rename are not in {ds}")
    targets: dict[str, str] = {}
    for old, new in rename.items():
        if new is not None and new in targets:
            raise DatasetError(f"Both {targets[new]!r} and {old!r} are renamed to {new!r}")
        if new is not None:
            targets[new] = old
    kept = {k: v for k, v in columns.items() if k not in rename}
    kept.update((new, columns[old]) for new, old in targets.items())
    if hashlabel in rename:
        hashlabel = rename[hashlabel]
    elif hashlabel in targets:  # another column took its name
        hashlabel = None
    return kept, hashlabel


def _roots(ds: Dataset) -> set[str]:
    """The datasets without a parent that `ds` descends from."""
    p = ds.parent
    if p is None:
        return {ds.id}
    res: set[str] = set()
    for x in p if isinstance(p, tuple) else (p,):
        res |= _roots(x)
    return res


def _save_new(meta: dict, name: str) -> Dataset:
    job = current.job
    if job is None:
        raise DatasetError("New datasets can only be made inside a running job")
    from .writer import _writers

    name = layout.check_name(name)
    ds_dir = Path(job.path) / "datasets" / name
    if name in _writers or ds_dir.exists():
        raise DatasetError(f"Duplicate dataset name {name!r} in job {job.jobid}")
    ds_dir.mkdir(parents=True)
    meta["jobid"] = str(job.jobid)
    meta["name"] = name
    if meta.get("caption") is None:
        meta["caption"] = meta["jobid"]
    layout.save_json_atomic(ds_dir / layout.META, meta)
    return Dataset(path=ds_dir)


class DatasetChain(list):
    """Datasets linked by previous, oldest first (from Dataset.chain)."""

    def _minmax(self, column: str, which: str) -> Any:
        values = [getattr(ds.columns[column], which) for ds in self if column in ds.columns]
        good = [v for v in values if v is not None and not (isinstance(v, float) and v != v)]
        if good:
            return getattr(builtins, which)(good)
        return next((v for v in values if v is not None), None)

    def min(self, column: str) -> Any:
        return self._minmax(column, "min")

    def max(self, column: str) -> Any:
        return self._minmax(column, "max")

    def lines(self, sliceno: int | None = None) -> int:
        if sliceno is None:
            return sum(len(ds) for ds in self)
        return sum(ds.lines[sliceno] for ds in self)

    def column_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for ds in self:
            for name in ds.columns:
                counts[name] = counts.get(name, 0) + 1
        return counts

    def column_count(self, column: str) -> int:
        return sum(column in ds.columns for ds in self)

    def with_column(self, column: str) -> DatasetChain:
        return DatasetChain(ds for ds in self if column in ds.columns)

    def none_support(self, column: str) -> bool:
        return any(ds.columns[column].none_support for ds in self if column in ds.columns)

    def iterate(self, sliceno: int | str | None, columns: Any = None, **kw: Any) -> Iterator:
        """Iterate the datasets of this chain in order: see iterate_list."""
        return iterate_list(sliceno, columns, self, **kw)


def iterate_list(
    sliceno: int | str | None,
    columns: str | Sequence[str] | None,
    datasets: Sequence[Any],
    range: dict | None = None,
    sloppy_range: bool = False,
    hashlabel: str | None = None,
    filters: Any = None,
    translators: Any = None,
    rehash: bool = False,
    slice: Any = None,
) -> Iterator:
    """Values of `columns` from `datasets` in order, as the Accelerator's iterate_list.

    sliceno: a slice, None for all slices in order, "roundrobin" for one row from each
    slice in turn. columns: one name gives values, a list or tuple gives tuples, None
    gives tuples of all columns in name order. range={col: (start, stop)} keeps rows with
    start <= value < stop (either may be None), skipping whole datasets by their min/max;
    sloppy_range only does the skipping. filters: a callable on the row, or {col: callable
    or None (truth of the value)}. translators: a callable on the row or {col: callable or
    dict}; they run before filters. hashlabel: fail unless each dataset is hashed on it,
    or with rehash=True filter the rows of slice `sliceno` by hashing it here. slice: an
    int or slice() of the rows, negative offsets allowed without filters or range.
    """
    datasets = [d if isinstance(d, Dataset) else Dataset(d) for d in datasets]
    if not datasets:
        return iter(())
    if columns is None:
        names = list(datasets[0].columns)
        want_tuple = True
    elif isinstance(columns, str):
        names = [columns]
        want_tuple = False
    else:
        names = list(columns)
        want_tuple = True
    for d in datasets:
        missing = [c for c in names if c not in d.columns]
        if missing:
            raise DatasetError(f"Columns {missing} not in {d}: it has {sorted(d.columns)}")
    slices = len(datasets[0].lines)
    if isinstance(sliceno, int) and not 0 <= sliceno < slices:
        raise DatasetError(f"sliceno {sliceno} out of range({slices})")
    if range:
        if len(range) != 1:
            raise DatasetError("Give range for exactly one column")
        range_col, (low, high) = next(iter(range.items()))
        if range_col not in datasets[0].columns:
            raise DatasetError(f"range column {range_col!r} not in {datasets[0]}")
        if low is None and high is None:
            range = None
    if slice is not None:
        if isinstance(slice, int):
            negative = slice < 0
        else:
            negative = (slice.start or 0) < 0 or (slice.stop or 0) < 0
        if negative and (filters or range or rehash):
            raise DatasetError(
                "slice with a negative index can't be used with filters, range or rehash"
            )
        slice = _resolve_slice(slice, datasets, sliceno)
    todo = []
    for d in datasets:
        if range:
            c = d.columns[range_col]
            if c.min is not None and (
                (high is not None and c.min >= high) or (low is not None and c.max < low)
            ):
                continue
        rehash_on = None
        if hashlabel is not None and d.hashlabel != hashlabel:
            if not rehash:
                raise DatasetError(f"{d} has hashlabel {d.hashlabel!r}, not {hashlabel!r}")
            if hashlabel not in d.columns:
                raise DatasetError(f"Can't rehash {d} on {hashlabel!r}: no such column")
            if isinstance(sliceno, int):
                rehash_on = hashlabel
        todo.append((d, rehash_on))
    row_range = range if range and not sloppy_range else None

    def part(item: tuple[Dataset, str | None]) -> Iterator:
        d, rehash_on = item
        return _one_dataset(
            d, sliceno, names, want_tuple, rehash_on, slices, row_range, translators
        )

    # One dataset needs no extra layer; a chain opens its files one dataset at a time.
    res = part(todo[0]) if len(todo) == 1 else ichain.from_iterable(map(part, todo))
    if filters:
        res = filter(_resolve_filters(names, filters, want_tuple), res)
    if slice is not None:
        res = islice(res, slice.start, slice.stop, slice.step)
    return res


def _resolve_slice(s: Any, datasets: list[Dataset], sliceno: Any) -> builtins.slice:
    if isinstance(s, int):
        s = builtins.slice(s, None)
    start, stop, step = s.start or 0, s.stop, s.step or 1
    if step <= 0:
        raise DatasetError("only positive slice steps are supported")
    total = sum(d.lines[sliceno] if isinstance(sliceno, int) else len(d) for d in datasets)
    if start < 0:
        if -start > total:
            raise DatasetError(f"Wanted the last {-start} lines, but only {total} are there")
        start += total
    if stop is not None and stop < 0:
        if -stop > total:
            raise DatasetError(f"Wanted to stop {-stop} lines before the end of {total}")
        stop += total
    if start > total or (stop or 0) > total:
        raise DatasetError(f"slice {s} goes past the {total} lines there are")
    return builtins.slice(start, stop, step)


def _one_dataset(
    d: Dataset,
    sliceno: Any,
    names: list[str],
    want_tuple: bool,
    rehash_on: str | None,
    slices: int,
    range: dict | None,
    translators: Any,
) -> Iterator:
    def columns_of(which: Any) -> list[Iterator]:
        its = []
        for name in names:
            col = d.columns[name]
            if which == "roundrobin":
                its.append(_roundrobin([col.iterate(s) for s in builtins.range(slices)]))
            else:
                its.append(col.iterate(which))
            if isinstance(translators, dict) and name in translators:
                t = translators[name]
                its[-1] = map(t if callable(t) else t.get, its[-1])
        return its

    its = columns_of(None if rehash_on else sliceno)
    it: Iterator = zip(*its, strict=False) if want_tuple else its[0]
    if rehash_on is not None:
        it = compress(it, _hashing_here(d.columns[rehash_on], slices, sliceno))
    if callable(translators):
        it = map(translators, it)
    if range:
        col, (low, high) = next(iter(range.items()))
        check = _range_check(low, high)
        c = d.columns[col]
        if not (c.min is not None and check(c.min) and check(c.max)):
            if col in names and not translators:
                ix = names.index(col)
                it = filter((lambda t: check(t[ix])) if want_tuple else check, it)
            else:
                if sliceno == "roundrobin":
                    values = _roundrobin([c.iterate(s) for s in builtins.range(slices)])
                else:
                    values = c.iterate(None if rehash_on else sliceno)
                if rehash_on is not None:
                    values = compress(values, _hashing_here(d.columns[rehash_on], slices, sliceno))
                it = compress(it, map(check, values))
    return it


def _hashing_here(col: Column, slices: int, sliceno: int) -> Iterator[bool]:
    """For each row of every slice in turn: does its value of `col` hash to `sliceno`?"""
    every = builtins.range(len(col.dataset.lines))
    hashes = ichain.from_iterable(map(col.hash_chunks, every))
    return ichain.from_iterable((h % np.uint64(slices) == sliceno).tolist() for h in hashes)


def _roundrobin(iterators: list[Iterator]) -> Iterator:
    marker = object()
    return (
        v
        for v in ichain.from_iterable(zip_longest(*iterators, fillvalue=marker))
        if v is not marker
    )


def _range_check(low: Any, high: Any) -> Callable[[Any], bool]:
    if high is None:
        return partial(operator.le, low)
    if low is None:
        return partial(operator.gt, high)
    return lambda v: v is not None and low <= v < high


def _resolve_filters(names: list[str], filters: Any, want_tuple: bool) -> Callable:
    if callable(filters):
        return filters
    for name in filters:
        if name not in names:
            raise DatasetError(f"filter on {name!r}, which is not iterated ({names})")
    if not want_tuple:
        f = next(iter(filters.values()))
        return f or bool
    checks = [(names.index(k), f or bool) for k, f in filters.items()]
    return lambda t: all(f(t[ix]) for ix, f in checks)
