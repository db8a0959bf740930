"""DatasetWriter: typed rows into per-slice column files, and the hooks the runner calls."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from itertools import compress
from keyword import iskeyword
from pathlib import Path
from typing import Any

import numpy as np

from .. import current
from ..errors import DatasetError
from . import layout, parts
from .partition import UNHASHABLE, hash_encoded
from .types import (
    N_BIG,
    NONE,
    TYPES,
    BadValue,
    ColumnType,
    Fixed,
    Numbers,
    Packed,
    Var,
    minmax_merge,
    minmax_to_json,
)

# Rows buffered per column before they are converted and written. The buffered values are
# Python objects: 65536 rows of them (4 MB of short str or int) emptied pymalloc arenas at
# each flush, which were unmapped and faulted in again (a page fault per 50 rows); 8192
# rows stay in the arenas and caches already there, and the per-chunk cost is still small.
CHUNK = 8192
# ... or this many bytes buffered in bytes columns. A chunk of photos larger than the CPU
# caches is slow to write: each value read lands in fresh memory, faulted in and cold when
# written. import_images of 363 MB of JPEGs took 0.29-0.53 s with 16 MB chunks, 0.18-0.30 s
# with 1 MB.
CHUNK_BYTES = 1 << 20

# Unfinished writers of this process, by name. Forked slice processes inherit them.
_writers: dict[str, DatasetWriter] = {}


class _Missing:
    """Default of write()'s parameters: a value not given, which no column type accepts."""

    def __repr__(self) -> str:
        return "<missing>"

    def __reduce__(self) -> Any:
        raise TypeError("a missing value")


_MISSING = _Missing()


def _clean_name(name: str, used: set[str]) -> str:
    """A Python identifier for a column name, so write() can take it as a keyword."""
    n = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    if not n or n[0].isdigit():
        n = "_" + n
    while n in used or iskeyword(n):
        n += "_"
    used.add(n)
    return n


class _ColumnOut:
    """What has been written of one column in one slice."""

    __slots__ = ("data_end", "big_end", "big_rows", "flags_on", "minmax")

    def __init__(self) -> None:
        self.data_end = 0
        self.big_end = 0
        self.big_rows = 0
        self.flags_on = False
        self.minmax: list[tuple[Any, Any]] = []


class _SliceOut:
    """One slice being written by this process: line count and per-column state."""

    def __init__(self, ncols: int) -> None:
        self.lines = 0
        self.cols = [_ColumnOut() for _ in range(ncols)]


class DatasetWriter:
    """Writes one dataset of the running job, as the Accelerator's DatasetWriter.

    Made in prepare and written per slice in analysis (each slice its own rows, or with a
    split writer to every slice), or written with set_slice() or a split writer in prepare
    or synthesis. Values are buffered per column and converted in chunks, so a bad value is
    reported (naming column, type and value) when its chunk is written: at a later write,
    at the end of the slice or at finish().
    """

    def __new__(
        cls,
        name: str = "default",
        columns: Mapping[str, Any] | None = None,
        parent: Any = None,
        previous: Any = None,
        hashlabel: str | None = None,
        caption: str | None = None,
        allow_missing_slices: bool = False,
        filename: str | None = None,
        hashlabel_override: bool = False,
    ) -> DatasetWriter:
        """`filename` is recorded as the dataset's (where its data came from, as in the
        Accelerator). `hashlabel_override=True` takes `hashlabel` as given, None for none:
        it need not be the parent's, and rows written to a slice are not checked against it."""
        name = layout.check_name(name)
        if current.sliceno is not None:
            given = (columns, parent, previous, hashlabel, caption, allow_missing_slices, filename)
            if any(given) or hashlabel_override:
                raise DatasetError("In analysis, get a writer made in prepare by name only")
            if name not in _writers:
                raise DatasetError(f"No dataset writer {name!r} was made in prepare")
            return _writers[name]
        job = current.job
        if job is None or not current.slices:
            raise DatasetError("A DatasetWriter can only be made inside a running job")
        ds_dir = Path(job.path) / "datasets" / name
        if name in _writers or ds_dir.exists():
            raise DatasetError(f"Duplicate dataset name {name!r} in job {job.jobid}")
        self = object.__new__(cls)
        self.name = name
        self.jobid = str(job.jobid)
        self.dir = ds_dir
        self.slices = int(current.slices)
        self.caption = caption
        self.filename = filename or None
        self.allow_missing_slices = allow_missing_slices
        self.previous = _dsid(previous)
        self._types: list[ColumnType] = []
        self._none: list[bool] = []
        self._order: list[str] = []
        self._mode: str | None = None  # "slice" or "split" once writing
        self._sliceno: int | None = None
        self._part: int | None = None  # the slice number of a slice process split-writing
        self._outs: dict[int, _SliceOut] = {}
        self._paths: dict[tuple[str, int, str], str] = {}
        self._buf: list[list] = []
        self._rr = 0
        self._rows = 0
        self._discard_wrong = False
        self._check_hashlabel = not hashlabel_override
        self._failed: str | None = None  # why a chunk could not be written
        self._written_here = False
        self._analysis_records: dict[int, dict] | None = None  # slice processes' records
        self.parent = None
        columns = dict(columns or {})
        self._discard_cols: set[str] = {k for k, v in columns.items() if v is None}
        if parent is not None:
            from .reader import Dataset

            self.parent = parent if isinstance(parent, Dataset) else Dataset(parent)
            unknown = self._discard_cols - set(self.parent.columns)
            if unknown:
                raise DatasetError(f"Cannot discard columns {sorted(unknown)}: not in {parent}")
            if not hashlabel_override:
                if hashlabel is not None and hashlabel != self.parent.hashlabel:
                    raise DatasetError(
                        f"Hashlabel mismatch: {hashlabel!r} here, {self.parent.hashlabel!r} in "
                        f"parent {self.parent}"
                    )
                if hashlabel is None and self.parent.hashlabel in columns:
                    hashlabel = self.parent.hashlabel
        elif self._discard_cols:
            raise DatasetError("Columns can only be discarded (type None) from a parent")
        self.hashlabel = hashlabel
        ds_dir.mkdir(parents=True)
        _writers[name] = self
        for colname, coltype in sorted(columns.items()):
            if coltype is not None:
                self.add(colname, coltype)
        self._disable("Call set_slice(sliceno) or use a split writer before writing")
        return self

    # -- declaring columns

    def add(self, name: str, type: Any, none_support: bool | None = None) -> None:
        """Add a column; `type` is a type name, (name, none_support) or a dataset column."""
        if self._mode is not None:
            raise DatasetError("Add all columns before writing")
        if hasattr(type, "none_support") and hasattr(type, "type"):
            type, fallback = type.type, type.none_support
        elif isinstance(type, tuple):
            type, fallback = type
        else:
            fallback = False
        if none_support is None:
            none_support = fallback
        if not isinstance(name, str):
            raise DatasetError(f"Column names are str, not {name!r}")
        if name in self._order:
            raise DatasetError(f"Column {name!r} already exists in {self}")
        if type not in TYPES:
            raise DatasetError(
                f"Unknown type {type!r} for column {name!r}: use one of {sorted(TYPES)}"
            )
        self._order.append(name)
        self._types.append(TYPES[type])
        self._none.append(bool(none_support))

    @property
    def columns(self) -> dict[str, tuple[str, bool]]:
        """{name: (type, none_support)} in write order."""
        return {
            n: (t.name, ns) for n, t, ns in zip(self._order, self._types, self._none, strict=True)
        }

    def __str__(self) -> str:
        return f"{self.jobid}/{self.name}"

    def __repr__(self) -> str:
        return f"<DatasetWriter {self}>"

    # -- choosing where rows go

    def set_slice(self, sliceno: int) -> None:
        """Write the following rows to slice `sliceno` (in prepare or synthesis)."""
        if current.sliceno is not None:
            raise DatasetError("Don't use set_slice in analysis: each slice writes its own")
        if self._mode == "split":
            raise DatasetError("Don't use both set_slice and a split writer")
        if not isinstance(sliceno, int) or not 0 <= sliceno < self.slices:
            raise DatasetError(f"sliceno must be an int in range({self.slices}), not {sliceno!r}")
        self._check_startable()
        self._flush()
        self._refuse_written_in_analysis([sliceno])
        self._written_here = True
        self._begin("slice", sliceno)

    def get_split_write(self) -> Callable[..., None]:
        """A write function putting each row in the slice its hashlabel value hashes to
        (round robin without a hashlabel)."""
        return self._split()[0]

    def get_split_write_list(self) -> Callable[[Any], None]:
        return self._split()[1]

    def get_split_write_dict(self) -> Callable[[Mapping[str, Any]], None]:
        return self._split()[2]

    def _split(self) -> tuple[Callable, Callable, Callable]:
        in_analysis = current.sliceno is not None
        if self._mode == "slice" and not in_analysis:
            raise DatasetError("Don't use both a split writer and set_slice")
        if self.allow_missing_slices:
            raise DatasetError("Don't use a split writer with allow_missing_slices")
        unhashed_child = self.parent is not None and self.parent.hashlabel is not None
        if unhashed_child and self.hashlabel is None and self._check_hashlabel:
            raise DatasetError(
                f"Can't split-write {self}: parent {self.parent} is hashed on "
                f"{self.parent.hashlabel!r}, which this writer does not write"
            )
        if in_analysis and self._part is None:
            self._split_this_slice(current.sliceno)
        elif self._mode is None:
            self._check_startable()
            self._refuse_written_in_analysis(range(self.slices))
            self._written_here = True
            self._begin("split", None)
        return self._funcs

    def _split_this_slice(self, sliceno: int) -> None:
        """In a slice process: this slice's rows go to every slice, into part files that
        finish joins (parts.py), so a dataset is rehashed by all slices at once."""
        if self._rows or (self._buf and self._buf[0]):
            raise DatasetError(
                f"Slice {sliceno} wrote rows to {self} before asking for a split writer: "
                "in one slice, use one or the other"
            )
        self._part = sliceno
        self._rr = sliceno  # round robin starts at a different slice in each
        self._outs.clear()
        self._paths.clear()
        self._begin("split", None)

    def _refuse_written_in_analysis(self, slices: Iterable[int]) -> None:
        """The job process must not write again a slice that a slice process wrote, nor
        any slice of a dataset that slices split-wrote (their parts go to every slice)."""
        if self._analysis_records is None:  # read once: set_slice comes once per slice
            # (The first write here is after analysis, or before it and then no slice
            # process writes this dataset: so no record comes after this reading.)
            self._analysis_records = {}
            for sliceno in range(self.slices):
                path = self._slice_meta_path(sliceno)
                if sliceno not in self._outs and path.exists():
                    self._analysis_records[sliceno] = json.loads(path.read_text())
        if any("parts" in record for record in self._analysis_records.values()):
            raise DatasetError(
                f"Slices split-wrote {self} in analysis: it can't be written again in "
                f"{current.part or 'this process'}"
            )
        for sliceno in slices:
            record = self._analysis_records.get(sliceno)
            if record is not None:
                if record["lines"]:
                    raise DatasetError(f"Slice {sliceno} of {self} was already written in analysis")
                del self._analysis_records[sliceno]
                self._slice_meta_path(sliceno).unlink()

    def _check_startable(self) -> None:
        if not self._order:
            raise DatasetError(f"No columns in {self}")
        if self.hashlabel is not None:
            if self.hashlabel not in self._order:
                raise DatasetError(f"Hashlabel column {self.hashlabel!r} is not written in {self}")
            if self._types[self._order.index(self.hashlabel)].name in UNHASHABLE:
                raise DatasetError(f"Can't hash on {self.hashlabel!r}: json/pickle are unhashable")

    def _begin(self, mode: str, sliceno: int | None) -> None:
        self._mode = mode
        self._sliceno = sliceno
        for s in range(self.slices) if mode == "split" else (sliceno,):
            if s not in self._outs:
                self._outs[s] = _SliceOut(len(self._order))
        if not self._buf:
            self._buf = [[] for _ in self._order]
            self._funcs = self._make_write_functions()
        self.write, self.write_list, self.write_dict = self._funcs

    def hashcheck(self, value: Any) -> bool:
        """Does a row with this hashlabel value belong in the current slice?"""
        if self.hashlabel is None:
            raise DatasetError(f"{self} has no hashlabel")
        if self._sliceno is None:
            if self._part is not None:
                raise DatasetError(
                    f"{self}: a split writer puts each row in the slice it hashes to; "
                    "there is no current slice to check against"
                )
            raise DatasetError("hashcheck needs a current slice (analysis or set_slice)")
        ix = self._order.index(self.hashlabel)
        ct = self._types[ix]
        try:
            enc = ct.encode([value], True)
        except BadValue as e:
            raise self._bad_value(ix, e, 0) from None
        return int(hash_encoded(ct.name, enc, [value])[0] % self.slices) == self._sliceno

    def enable_hash_discard(self) -> None:
        """Silently drop rows that hash to another slice instead of failing."""
        if self.hashlabel is None:
            raise DatasetError(f"Can't enable hash discard on {self}: it has no hashlabel")
        self._discard_wrong = True

    # -- the hot path

    def _make_write_functions(self) -> tuple[Callable, Callable, Callable]:
        used: set[str] = set()
        names = [_clean_name(n, used) for n in self._order]
        bufs = [_clean_name(f"b{ix}", used) for ix in range(len(names))]
        appends = [_clean_name(f"ap{ix}", used) for ix in range(len(names))]
        m, bad, flush, extra, size = (
            _clean_name(n, used) for n in ("M", "bad", "flush", "extra", "size")
        )
        n = len(names)
        src = [f"def make({', '.join(bufs)}, {m}, {bad}, {flush}):"]
        src.append(f" {size} = 0")
        # Bound appends, looked up once: a fifth of the per-row cost of a one-column write.
        src += [f" {ap} = {b}.append" for ap, b in zip(appends, bufs, strict=True)]
        # The hot path. A missing value is written as the default _MISSING, which no type
        # accepts, so it is reported with the chunk; `extra` catches one value too many
        # (more than that is Python's TypeError). Cheaper than *args and checks per value.
        src.append(f" def write({', '.join(f'{a}={m}' for a in names)}, {extra}={m}):")
        src.append(f"  nonlocal {size}")
        src.append(f"  if {extra} is not {m}:")
        src.append(f"   {bad}(({', '.join(names)}, {extra}))")
        src += [f"  {ap}({a})" for a, ap in zip(names, appends, strict=True)]
        src += self._flush_check(names, bufs, flush, size)
        src.append(" def write_list(values):")
        src.append(f"  nonlocal {size}")
        src.append(f"  if len(values) != {n}: {bad}(values)")
        src += [f"  {ap}(values[{ix}])" for ix, ap in enumerate(appends)]
        src += self._flush_check([f"values[{ix}]" for ix in range(n)], bufs, flush, size)
        src.append(" def write_dict(d):")
        src.append("  try:")
        src.append(f"   values = [d[k] for k in {tuple(self._order)!r}]")
        src.append("  except KeyError as e:")
        src.append(f"   {bad}(d, e)")
        src.append("  write_list(values)")
        src.append(" return write, write_list, write_dict")
        ns: dict[str, Any] = {}
        exec(compile("\n".join(src), f"<DatasetWriter {self} write functions>", "exec"), ns)
        return ns["make"](*self._buf, _MISSING, self._wrong_count, self._flush)

    def _flush_check(self, values: list[str], bufs: list[str], flush: str, size: str) -> list[str]:
        """Source lines that flush a full buffer: CHUNK rows, or CHUNK_BYTES in bytes columns
        (counted only when there are any, so numeric writers stay as fast as they were)."""
        blobs = [v for v, t in zip(values, self._types, strict=True) if t.name == "bytes"]
        if not blobs:
            return [f"  if len({bufs[0]}) == {CHUNK}: {flush}()"]
        counted = " + ".join(f"(len({v}) if {v}.__class__ is bytes else 0)" for v in blobs)
        return [
            f"  {size} += {counted}",
            f"  if len({bufs[0]}) == {CHUNK} or {size} > {CHUNK_BYTES}:",
            f"   {size} = 0",
            f"   {flush}()",
        ]

    def _wrong_count(self, values: Any, missing: KeyError | None = None) -> None:
        if missing is not None:
            raise DatasetError(f"write_dict to {self} lacks column {missing.args[0]!r}: {values!r}")
        values = [v for v in values if v is not _MISSING]
        raise DatasetError(
            f"{self} has {len(self._order)} columns {self._order}, "
            f"but {len(values)} values were written: {values!r}"
        )

    def _disable(self, why: str) -> None:
        def refuse(*args: Any, **kwargs: Any) -> None:
            raise DatasetError(f"{self}: {why}")

        self.write = self.write_list = self.write_dict = refuse

    # -- converting and writing chunks

    def _flush(self) -> None:
        if self._failed is not None:
            # Its chunk is gone, maybe half written: finishing would lose rows unseen.
            raise DatasetError(f"{self} can't be written or finished: {self._failed}")
        if not self._buf or not self._buf[0]:
            return
        lists = self._buf
        try:
            if self._mode == "split":
                self._flush_split(lists)
            else:
                self._flush_slice(self._sliceno, lists)
        except BaseException as e:
            self._failed = f"an earlier chunk failed ({type(e).__name__}: {e})"
            raise
        finally:
            self._rows += len(lists[0])
            for lst in lists:
                lst.clear()

    def _encode(self, lists: list[list], rows: np.ndarray | None = None) -> list:
        encs = []
        for ix, (ct, lst) in enumerate(zip(self._types, lists, strict=True)):
            try:
                encs.append(ct.encode(lst, self._none[ix]))
            except BadValue as e:
                row = e.index if rows is None else int(rows[e.index])
                raise self._bad_value(ix, e, row) from None
        return encs

    def _bad_value(self, ix: int, e: BadValue, row: int) -> DatasetError:
        if e.value is _MISSING:
            return DatasetError(
                f"No value for column {self._order[ix]!r} in row {self._rows + row} written to "
                f"{self}: write() takes {len(self._order)} values, for columns {self._order}"
            )
        return DatasetError(
            f"Bad value {e.value!r} for column {self._order[ix]!r} (type {self._types[ix].name}) "
            f"in dataset {self}, row {self._rows + row} written: {e.reason}"
        )

    def _target_slices(self, lists: list, encs: list | None) -> np.ndarray:
        """Each row's slice: where its hashlabel value hashes to, else round robin. A Packed
        hashlabel column in `lists` is replaced by its values (to hash, and to name)."""
        n = len(lists[0])
        if self.hashlabel is None:
            ids = (np.arange(n) + self._rr) % self.slices
            self._rr = (self._rr + n) % self.slices
            return ids
        ix = self._order.index(self.hashlabel)
        ct = self._types[ix]
        if isinstance(lists[ix], Packed):  # (checked when encoded) its values, to hash
            lists[ix] = lists[ix].values(ct.name)
        if encs is None:
            try:
                enc = ct.encode(lists[ix], self._none[ix])
            except BadValue as e:
                raise self._bad_value(ix, e, e.index) from None
        else:
            enc = encs[ix]
        return (hash_encoded(ct.name, enc, lists[ix]) % np.uint64(self.slices)).astype(np.int64)

    def _flush_slice(self, sliceno: int, lists: list[list]) -> None:
        self._append(sliceno, *self._own_rows(sliceno, self._encode(lists), lists))

    def _own_rows(self, sliceno: int, encs: list, lists: list) -> tuple[list, list]:
        """The chunk, when it is written to slice `sliceno` and has a hashlabel: refused if a
        row belongs in another slice, or cut to the rows that do not with hash discard."""
        if self.hashlabel is None or not self._check_hashlabel:
            return encs, lists
        ids = self._target_slices(lists, encs)
        wrong = ids != sliceno
        if not wrong.any():
            return encs, lists
        if self._discard_wrong:
            return self._take(encs, lists, np.flatnonzero(~wrong))
        r = int(np.argmax(wrong))
        value = lists[self._order.index(self.hashlabel)][r]
        raise DatasetError(
            f"Row {self._rows + r} of {self} has hashlabel {self.hashlabel!r} = {value!r}, "
            f"which belongs in slice {ids[r]}, not {sliceno}: write it there, or call "
            "enable_hash_discard() to drop such rows"
        )

    def _flush_split(self, lists: list[list]) -> None:
        ids = self._target_slices(lists, None)
        for sliceno in range(self.slices):
            rows = np.flatnonzero(ids == sliceno)
            if not len(rows):
                continue
            if len(rows) == len(ids):
                sub = lists
            else:
                keep = (ids == sliceno).tolist()
                sub = [list(compress(lst, keep)) for lst in lists]
            self._append(sliceno, self._encode(sub, rows), sub)

    def _append(self, sliceno: int, encs: list, lists: list) -> None:
        """Append encoded chunks of equal length to slice `sliceno`; `lists` holds the values
        of number columns (for their minmax and big integers)."""
        out = self._outs[sliceno]
        n = len(encs[0])
        if not n:
            return
        for ix, enc in enumerate(encs):
            file = f"c{ix}"
            col = out.cols[ix]
            ct = self._types[ix]
            if isinstance(enc, Fixed):
                _append_file(self._path(file, sliceno), enc.values)
                if ct.has_minmax:
                    vals = enc.values
                    if enc.flags is not None:
                        vals = vals[(enc.flags & NONE) == 0]
                    if len(vals):
                        col.minmax.append(ct.minmax(vals))
            elif isinstance(enc, Var):
                col.data_end = self._append_var(file, sliceno, "", enc, out.lines, col.data_end)
            else:
                self._append_numbers(file, sliceno, enc, lists[ix], out, col)
            flags = getattr(enc, "flags", None)
            if flags is not None or col.flags_on:
                if not col.flags_on:
                    _append_file(self._path(file, sliceno, ".flags"), np.zeros(out.lines, np.uint8))
                    col.flags_on = True
                if flags is None:
                    flags = np.zeros(n, np.uint8)
                _append_file(self._path(file, sliceno, ".flags"), flags)
        out.lines += n

    def _append_var(
        self, file: str, sliceno: int, suffix: str, enc: Var, done: int, end: int
    ) -> int:
        offsets = enc.ends.astype("<i8")  # a new array: the chunk's ends are not changed
        offsets += end
        if done == 0:
            offsets = np.concatenate([np.zeros(1, "<i8"), offsets])
        _append_file(self._path(file, sliceno, suffix), enc.data)
        _append_file(self._path(file, sliceno, suffix + ".offsets"), offsets)
        return int(offsets[-1])

    def _append_numbers(
        self, file: str, sliceno: int, enc: Numbers, values: list, out: _SliceOut, col: _ColumnOut
    ) -> None:
        _append_file(self._path(file, sliceno, ".kinds"), enc.kinds)
        _append_file(self._path(file, sliceno), enc.payload)
        big = [values[i] for i in np.flatnonzero(enc.kinds == N_BIG).tolist()]
        if enc.big is not None:
            col.big_end = self._append_var(
                file, sliceno, ".big", enc.big, col.big_rows, col.big_end
            )
            col.big_rows += len(big)
        lo, hi = TYPES["number"].minmax(enc.kinds, enc.payload, big)
        if lo is not None:
            col.minmax.append((lo, hi))

    def _path(self, file: str, sliceno: int, suffix: str = "") -> str:
        key = (file, sliceno, suffix)
        path = self._paths.get(key)
        if path is None:  # made once: a Path join costs as much as a small chunk's write
            path = str(layout.column_file(self.dir, file, sliceno, suffix))
            if self._part is not None:
                path += f".from{self._part}"
            self._paths[key] = path
        return path

    def write_columns(self, columns: Mapping[str, Any]) -> None:
        """Write whole numpy arrays (one per column, equal lengths) to the current slice,
        or after asking for a split writer, each row to the slice it hashes to.

        Fixed-width columns are converted without a per-value Python loop; a masked array
        (or NaT) gives None rows. Other column types accept any sequence, and bytes, ascii
        and unicode columns a Packed: their stored form, written as it is.
        """
        if self._mode not in ("slice", "split"):
            raise DatasetError(
                "write_columns writes the current slice, or splits after get_split_write(): "
                "use it in analysis, after set_slice or after asking for a split writer"
            )
        if set(columns) != set(self._order):
            raise DatasetError(
                f"write_columns needs exactly the columns {self._order}, got {sorted(columns)}"
            )
        arrays = [columns[name] for name in self._order]
        n = {len(a) for a in arrays}
        if len(n) != 1:
            raise DatasetError(
                f"write_columns got columns of different lengths {sorted(n)} for {self}"
            )
        self._flush()  # rows write() buffered go first
        encs, lists = self._encode_columns(arrays)
        if self._mode == "split":
            self._append_split(encs, lists)
            return
        self._append(self._sliceno, *self._own_rows(self._sliceno, encs, lists))
        self._rows += n.pop()

    def _encode_columns(self, arrays: list) -> tuple[list, list]:
        """(encoded chunks, the values as given) of write_columns' columns: numpy arrays of
        fixed-width columns and Packed text as they are, other values through encode."""
        encs = []
        lists: list[Any] = []
        for ix, (ct, arr) in enumerate(zip(self._types, arrays, strict=True)):
            try:
                if ct.layout == "fixed" and isinstance(arr, np.ndarray):
                    encs.append(ct.from_numpy(arr, self._none[ix]))
                    lists.append(arr)
                elif isinstance(arr, Packed):
                    encs.append(self._from_packed(ix, arr))
                    lists.append(arr)
                else:
                    lst = arr.tolist() if isinstance(arr, np.ndarray) else list(arr)
                    encs.append(ct.encode(lst, self._none[ix]))
                    lists.append(lst)
            except BadValue as e:
                raise self._bad_value(ix, e, e.index) from None
        return encs, lists

    def _append_split(self, encs: list, lists: list) -> None:
        """Each row of an encoded chunk to the slice it hashes to (without a hashlabel, round
        robin): the chunks are cut by numpy, and only number columns' values by Python."""
        n = len(encs[0])
        ids = self._target_slices(lists, encs)
        try:
            for sliceno in range(self.slices):
                rows = np.flatnonzero(ids == sliceno)
                if len(rows) == n:
                    self._append(sliceno, encs, lists)
                elif len(rows):
                    self._append(sliceno, *self._take(encs, lists, rows))
        except BaseException as e:
            self._failed = f"an earlier chunk failed ({type(e).__name__}: {e})"
            raise
        finally:
            self._rows += n

    def _take(self, encs: list, lists: list, rows: np.ndarray) -> tuple[list, list]:
        """The chunk's rows `rows`: a number column's values for its minmax, and its chunk
        encoded again where it holds big integers."""
        sub_encs, sub_lists = [], []
        for ix, (enc, values) in enumerate(zip(encs, lists, strict=True)):
            if isinstance(enc, Numbers):
                values = [values[r] for r in rows.tolist()]
                sub_lists.append(values)
                if enc.big is None:
                    sub_encs.append(Numbers(enc.kinds[rows], enc.payload[rows], None))
                else:
                    sub_encs.append(self._types[ix].encode(values, self._none[ix]))
            else:
                sub_encs.append(enc.take(rows))
                sub_lists.append(None)  # only number columns' values are used
        return sub_encs, sub_lists

    def _from_packed(self, ix: int, packed: Packed) -> Var:
        ct = self._types[ix]
        if ct.layout != "var":
            raise DatasetError(
                f"Packed values for column {self._order[ix]!r} of {self}, which is {ct.name}: "
                "they are for bytes, ascii and unicode columns"
            )
        try:
            return ct.from_packed(packed)
        except BadValue as e:
            raise self._bad_value(ix, e, e.index) from None
        except ValueError as e:
            raise DatasetError(f"Column {self._order[ix]!r} of {self}: {e}") from None

    # -- ending slices and finishing

    def _slice_meta_path(self, sliceno: int) -> Path:
        return self.dir / f"slice.{sliceno}.json"

    def _slice_meta(self, sliceno: int) -> dict:
        out = self._outs.get(sliceno) or _SliceOut(len(self._order))
        cols = {}
        for name, ct, col in zip(self._order, self._types, out.cols, strict=True):
            lo, hi = minmax_merge(col.minmax) if ct.has_minmax else (None, None)
            cols[name] = {
                "min": minmax_to_json(ct.name, lo),
                "max": minmax_to_json(ct.name, hi),
                "flags": col.flags_on,
                "big": col.big_rows > 0,
            }
        return {"lines": out.lines, "columns": cols}

    def _start_slice(self, sliceno: int) -> None:
        self._check_startable()
        self._begin("slice", sliceno)

    def _end_slice(self, sliceno: int) -> None:
        self._flush()
        if self._part is None:
            meta = self._slice_meta(sliceno)
        else:
            records = [self._slice_meta(dest) for dest in range(self.slices)]
            meta = {"lines": sum(r["lines"] for r in records), "parts": records}
        layout.save_json_atomic(self._slice_meta_path(sliceno), meta)
        self._outs.clear()  # the job process reads it from the file
        if self._part is not None:  # debug_run goes on in this process, as the job process
            self._paths.clear()
        self._mode = self._sliceno = self._part = None
        self._disable("this slice has ended")

    def finish(self) -> Any:
        """Write the metadata that makes the dataset exist; returns the Dataset."""
        from .reader import Dataset

        if current.sliceno is not None:
            raise DatasetError("Finish datasets in prepare or synthesis, not in analysis")
        if _writers.get(self.name) is not self:
            raise DatasetError(f"{self} is already finished or discarded")
        self._flush()
        self._disable("it is finished")
        per_slice = []
        missing = []
        for sliceno in range(self.slices):
            path = self._slice_meta_path(sliceno)
            if sliceno in self._outs:
                per_slice.append(self._slice_meta(sliceno))
            elif path.exists():
                per_slice.append(json.loads(path.read_text(encoding="utf-8")))
            elif self.allow_missing_slices:
                per_slice.append(self._slice_meta(sliceno))
            else:
                missing.append(sliceno)
        if missing:
            raise DatasetError(f"Not all slices of {self} were written, missing {missing}")
        if any("parts" in record for record in per_slice):
            columns = list(zip(self._order, self._types, strict=True))
            per_slice = parts.join(self.dir, columns, per_slice)
        meta = self._meta(per_slice)
        layout.save_json_atomic(self.dir / layout.META, meta)
        for sliceno in range(self.slices):
            self._slice_meta_path(sliceno).unlink(missing_ok=True)
        del _writers[self.name]
        return Dataset(path=self.dir)

    def _meta(self, per_slice: list[dict]) -> dict:
        from .reader import Dataset

        lines = [s["lines"] for s in per_slice]
        columns = {}
        parent_id = None
        hashlabel = self.hashlabel
        caption = self.caption
        filename = self.filename
        if self.parent is not None:
            if self.parent.lines != lines:
                raise DatasetError(
                    f"{self} has {lines} lines per slice but its parent {self.parent} has "
                    f"{self.parent.lines}: a child must have the same lines in each slice"
                )
            for name, col in self.parent.columns.items():
                if name not in self._discard_cols:
                    columns[name] = col._info
            parent_id = str(self.parent)
            if self._check_hashlabel:  # (with hashlabel_override, as given)
                hashlabel = hashlabel or self.parent.hashlabel
            caption = caption or self.parent.caption
            filename = filename or self.parent.filename
        if self.previous is not None:
            try:
                Dataset(self.previous)
            except DatasetError as e:
                raise DatasetError(f"previous of {self}: {e} (finish it first)") from None
        for ix, (name, ct) in enumerate(zip(self._order, self._types, strict=True)):
            cols = [s["columns"][name] for s in per_slice]
            lo, hi = (
                minmax_merge([(c["min"], c["max"]) for c in cols])
                if ct.has_minmax
                else (None, None)
            )
            columns[name] = {
                "type": ct.name,
                "none_support": self._none[ix],
                "location": str(self),
                "file": f"c{ix}",
                "min": lo,
                "max": hi,
                "flags": [s for s, c in enumerate(cols) if c["flags"]],
                "big": [s for s, c in enumerate(cols) if c.get("big")],
            }
        if hashlabel is not None and hashlabel not in columns:
            hashlabel = None
        return {
            "format": layout.FORMAT,
            "jobid": self.jobid,
            "name": self.name,
            "caption": caption if caption is not None else self.jobid,
            "filename": filename,
            "hashlabel": hashlabel,
            "parent": parent_id,
            "previous": self.previous,
            "lines": lines,
            "columns": dict(sorted(columns.items())),
        }

    def discard(self) -> None:
        """Throw away this writer and everything it wrote."""
        _writers.pop(self.name, None)
        self._disable("it was discarded")
        shutil.rmtree(self.dir, ignore_errors=True)


def _append_file(path: str, data: Any) -> None:
    """Append a chunk's bytes (bytes, a contiguous array, or a list of bytes to write one
    after the other) to a file, creating it."""
    parts = data if isinstance(data, list) else [data]
    views = [memoryview(p).cast("B") if isinstance(p, np.ndarray) else memoryview(p) for p in parts]
    # os-level: opening a buffered file object costs more than writing a small chunk.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        while views:
            written = os.writev(fd, views)
            while views and written >= len(views[0]):
                written -= len(views.pop(0))
            if views:
                views[0] = views[0][written:]
    finally:
        os.close(fd)


def _dsid(ds: Any) -> str | None:
    """A dataset id from a Dataset, a finished writer, 'jobid[/name]' or (jobid, name)."""
    if ds is None:
        return None
    if isinstance(ds, DatasetWriter):
        if _writers.get(ds.name) is ds:
            raise DatasetError(f"{ds} must be finished before it can be used as previous")
        return str(ds)
    if isinstance(ds, tuple | list):
        jobid, name = ds
        return layout.normalize_id(f"{getattr(jobid, 'jobid', jobid)}/{name or 'default'}")
    return layout.normalize_id(str(ds))


# -- the runner's hooks (see docs/ARCHITECTURE.md)


def slice_rows(job_path: Path, sliceno: int) -> int:
    """Rows a finished slice process wrote into the job's datasets (for progress displays)."""
    rows = 0
    datasets = Path(job_path) / "datasets"
    if not datasets.is_dir():
        return 0
    for meta in datasets.glob(f"*/slice.{sliceno}.json"):
        try:
            rows += json.loads(meta.read_text())["lines"]
        except (OSError, ValueError, KeyError):
            continue  # a dataset being discarded; progress is not worth an error
    return rows


def _start_slice(sliceno: int) -> None:
    """In a slice process, before analysis: writers made in prepare write this slice."""
    for w in list(_writers.values()):
        if not w._written_here:
            w._start_slice(sliceno)


def _end_slice(sliceno: int) -> None:
    """In a slice process, after analysis: flush and record this slice of each writer."""
    for w in list(_writers.values()):
        if sliceno in (w._sliceno, w._part) and not w._written_here:
            w._end_slice(sliceno)


def _finish_all() -> None:
    """In the job process: finish the writers written here; after synthesis, all of them."""
    final = current.part != "prepare"
    for w in list(_writers.values()):
        if final or w._written_here:
            w.finish()


def _discard_all() -> None:
    """After a failure: no unfinished writer may leave a dataset behind."""
    for w in list(_writers.values()):
        w.discard()
    _writers.clear()
