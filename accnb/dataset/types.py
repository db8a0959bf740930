"""The 16 column types: which Python values each accepts and how a chunk of them is encoded."""

from __future__ import annotations

import json
import pickle
import struct
import sys
from array import array
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from operator import attrgetter
from typing import Any

import numpy as np

NONE = 1  # flag bit: the row is None
FOLD = 2  # flag bit: datetime/time with fold=1

# Number kinds, one byte a row in a number column.
N_NONE, N_INT, N_FLOAT, N_BIG = 0, 1, 2, 3
NUMBER_MAX_BITS = 1007  # as the Accelerator: integers up to +-(2**1007 - 1)
WRITEV_VALUES, WRITEV_BYTES = 256, 1 << 20  # a bytes chunk this short and big is not joined
GATHER_BYTES = 4 << 20  # values gathered by a numpy index (8 bytes a byte) up to this size,
JOIN_VALUE_BYTES = 192  # unless they are this long on average: then a join of slices is
# faster (2 MiB of values: a gather 9 ms; a join 5.5 ms of 256-byte ones, 0.3 ms of 20 kB)

_EPOCH = datetime(1970, 1, 1)
_EPOCH_DATE = date(1970, 1, 1)
_EPOCH_ORDINAL = _EPOCH_DATE.toordinal()
_MICROSECOND = timedelta(microseconds=1)
_EPOCH64 = np.datetime64("1970-01-01T00:00:00", "us")
_time_parts = attrgetter("hour", "minute", "second", "microsecond")
_get_fold = attrgetter("fold")
_get_tzinfo = attrgetter("tzinfo")


class BadValue(Exception):
    """A value at `index` of a chunk does not fit its column; the writer adds the context."""

    def __init__(self, index: int, value: Any, reason: str) -> None:
        super().__init__(index, value, reason)
        self.index = index
        self.value = value
        self.reason = reason


class Fixed:
    """A chunk of a fixed-width column: values as a little-endian array, flags or None."""

    __slots__ = ("values", "flags")

    def __init__(self, values: np.ndarray, flags: np.ndarray | None) -> None:
        self.values = values
        self.flags = flags

    def __len__(self) -> int:
        return len(self.values)

    def take(self, rows: np.ndarray) -> Fixed:
        return Fixed(self.values[rows], _flags_at(self.flags, rows))


class Var:
    """A chunk of a variable-width column: the values with NUL terminators (`data`: joined,
    or for a few large bytes values a list of the parts, written in order), and where each
    value ends (the int64 offset just past its NUL: the file's offsets, less the start of
    the chunk)."""

    __slots__ = ("data", "ends", "flags")

    def __init__(self, data: bytes, ends: np.ndarray, flags: np.ndarray | None) -> None:
        self.data = data
        self.ends = ends
        self.flags = flags

    def __len__(self) -> int:
        return len(self.ends)

    def take(self, rows: np.ndarray) -> Var:
        """The chunk of rows `rows` (in order): their bytes gathered by numpy."""
        flags = _flags_at(self.flags, rows)
        if isinstance(self.data, list):  # value, NUL, value, NUL, ...
            parts = [p for r in rows.tolist() for p in self.data[2 * r : 2 * r + 2]]
            return Var(parts, np.cumsum(_sizes(self.ends, rows)), flags)
        return Var(*_gathered(self.data, self.ends, rows), flags)


def _flags_at(flags: np.ndarray | None, rows: np.ndarray) -> np.ndarray | None:
    """The rows' flags, or None when none is set (no flags file for a slice without)."""
    if flags is None:
        return None
    flags = flags[rows]
    return flags if flags.any() else None


def _sizes(ends: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The byte sizes (NUL included) of the values at `rows`: the cost of the rows asked
    for, not of every value (a sorted slice is taken a chunk of rows at a time)."""
    return ends[rows] - np.where(rows > 0, ends[rows - 1], 0)


def _gathered(data: Any, ends: np.ndarray, rows: np.ndarray) -> tuple[Any, np.ndarray]:
    """(bytes, ends) of the values at `rows` of NUL-terminated values `data` ending at
    `ends`, in that order."""
    stops = ends[rows] - 1  # each value's NUL
    packed = Packed.of_ranges(data, stops - (_sizes(ends, rows) - 1), stops)
    return packed.data, packed.ends


class Numbers:
    """A chunk of a number column: kind per row, 8 payload bytes per row, big integers apart."""

    __slots__ = ("kinds", "payload", "big")

    def __init__(self, kinds: np.ndarray, payload: np.ndarray, big: Var | None) -> None:
        self.kinds = kinds
        self.payload = payload
        self.big = big

    def __len__(self) -> int:
        return len(self.kinds)


def _split_nones(values: list, none_support: bool, filler: Any) -> tuple[list, np.ndarray | None]:
    """Replace None by filler; None rows are flagged, and an error without none_support."""
    if None not in values:
        return values, None
    flags = np.array([v is None for v in values], dtype=np.uint8)
    if not none_support:
        ix = int(np.argmax(flags))
        raise BadValue(ix, None, "None is not allowed (the column has none_support=False)")
    return [filler if v is None else v for v in values], flags


def is_masked(arr: Any) -> bool:
    """isinstance(arr, np.ma.MaskedArray), without importing numpy.ma (lazy in numpy 2,
    and 17 ms a process) when nobody has: then arr cannot be one."""
    ma = sys.modules.get("numpy.ma")
    return ma is not None and isinstance(arr, ma.MaskedArray)


def _first_bad(values: list, check) -> BadValue:
    for ix, v in enumerate(values):
        try:
            check(v)
        except (TypeError, ValueError, OverflowError) as e:
            return BadValue(ix, v, str(e) or type(e).__name__)
    raise AssertionError("a chunk failed but no value in it does")


class Packed:
    """Values for a bytes, ascii or unicode column, packed end to end for write_columns:
    `data` holds them (UTF-8 for unicode), each followed by a NUL byte, and `ends[i]` is
    the offset just past value i's NUL. They are written as they are, with no Python
    object per value: what numpy can make of raw text, as csvimport makes its columns."""

    __slots__ = ("data", "ends")

    def __init__(self, data: Any, ends: Any) -> None:
        self.data = data
        self.ends = np.asarray(ends)
        if not self.ends.size:  # [] is float64 to numpy
            self.ends = self.ends.astype(np.int64)

    def __len__(self) -> int:
        return len(self.ends)

    @classmethod
    def of_ranges(cls, data: Any, starts: Any, stops: Any) -> Packed:
        """data[starts[i]:stops[i]] for each i, end to end, each followed by a NUL: one
        numpy gather of short values, a join of slices for long ones or past GATHER_BYTES
        (the gather's index is 8 bytes a byte). `data` is bytes-like; a NUL slot may point
        one byte past its end."""
        starts = np.asarray(starts, np.int64)
        stops = np.asarray(stops, np.int64)
        sizes = stops - starts + 1
        ends = np.cumsum(sizes)
        total = int(ends[-1]) if len(ends) else 0
        raw = np.frombuffer(data, np.uint8)
        long_values = total >= JOIN_VALUE_BYTES * len(sizes)
        if total > GATHER_BYTES or long_values or not len(raw):
            view = memoryview(raw)
            pairs = zip(starts.tolist(), stops.tolist(), strict=True)
            return cls(b"".join(part for a, b in pairs for part in (view[a:b], b"\0")), ends)
        index = np.arange(total, dtype=np.int64)
        index += np.repeat(starts - ends + sizes, sizes)  # each value's source offset
        out = raw.take(index, mode="clip")
        out[ends - 1] = 0
        return cls(out, ends)

    def take(self, rows: Any) -> Packed:
        """The values at `rows` (indexes, any order, repeats allowed), gathered by numpy."""
        return Packed(*_gathered(self.data, self.ends, np.asarray(rows, np.int64)))

    def values(self, column_type: str = "bytes") -> list:
        """The values as Python objects, bytes or (for ascii and unicode) str."""
        ends = self.ends.astype("<i8")
        starts = np.concatenate([np.zeros(1, "<i8"), ends[:-1]])
        return TYPES[column_type].decode(bytes(self.data), starts, ends - 1)

    def __repr__(self) -> str:
        return f"<Packed: {len(self.ends)} values>"


class ColumnType:
    """How one type stores values; subclasses per storage layout."""

    name: str
    layout: str  # "fixed", "var" or "number"
    has_minmax = False
    none_is_value = False  # json and pickle store None as an ordinary value

    def __repr__(self) -> str:
        return f"<column type {self.name}>"


class FixedType(ColumnType):
    """Fixed-width values: one little-endian array element per row."""

    layout = "fixed"

    def __init__(self, name: str, dtype: str, numpy_dtype: str | None = None) -> None:
        self.name = name
        self.dtype = np.dtype(dtype)
        self.itemsize = self.dtype.itemsize
        self.numpy_dtype = np.dtype(numpy_dtype or dtype)
        # memoryview format for iterating a plain slice without numpy (fastest)
        self.mv_format: str | None = None

    def encode(self, values: list, none_support: bool) -> Fixed:
        values, flags = _split_nones(values, none_support, self._filler)
        return Fixed(self._convert(values), flags)

    def from_numpy(self, arr: np.ndarray, none_support: bool) -> Fixed:
        """Convert an array given to write_columns; masked rows and NaT are None."""
        mask = None
        if is_masked(arr):
            mask = np.ma.getmaskarray(arr)
            arr = arr.data
        arr = np.asarray(arr)
        if arr.ndim != 1:
            raise BadValue(0, arr.shape, "only one-dimensional arrays can be written")
        if arr.dtype.kind in "mM":
            nat = np.isnat(arr)
            mask = nat if mask is None else mask | nat
        flags = None
        if mask is not None and mask.any():
            if not none_support:
                ix = int(np.argmax(mask))
                raise BadValue(ix, None, "None is not allowed (the column has none_support=False)")
            arr = arr.copy()
            arr[mask] = np.zeros(1, arr.dtype)[0]
            flags = mask.astype(np.uint8)
        return Fixed(self._convert_array(arr), flags)

    def to_python(self, arr: np.ndarray) -> list:
        return arr.tolist()

    def to_numpy(self, arr: np.ndarray) -> np.ndarray:
        return arr.view(self.numpy_dtype)

    def apply_fold(self, values: list, flags: np.ndarray) -> None:
        """Only datetime and time have a fold."""

    _filler: Any = 0


@lru_cache(maxsize=64)
def _packer(code: str, n: int) -> struct.Struct:
    return struct.Struct(f"<{n}{code}")


class _ArrayType(FixedType):
    """int64, int32, float64, float32 and bool: converted and checked by array.array in C."""

    has_minmax = True

    def __init__(self, name: str, dtype: str, code: str, mv_format: str) -> None:
        super().__init__(name, dtype)
        self.code = code
        # float32 goes through array(), which rounds huge values to inf as the Accelerator
        self.struct_code = code if code in "qid" else None
        self.mv_format = mv_format
        self._is_float = self.dtype.kind == "f"

    def encode(self, values: list, none_support: bool) -> Fixed:
        try:  # the hot path: struct/array convert and check in C, and reject None
            if self.struct_code:  # struct is faster than array
                arr = np.frombuffer(
                    _packer(self.struct_code, len(values)).pack(*values), self.dtype
                )
            else:
                arr = np.frombuffer(array(self.code, values), self.dtype.newbyteorder("="))
                arr = arr.astype(self.dtype, copy=False)
        except (TypeError, ValueError, OverflowError, struct.error):
            return super().encode(values, none_support)
        if self.name == "bool" and len(arr) and arr.max() > 1:
            return super().encode(values, none_support)
        return Fixed(arr, None)

    def _convert(self, values: list) -> np.ndarray:
        try:
            arr = np.frombuffer(array(self.code, values), self.dtype.newbyteorder("="))
        except (TypeError, ValueError, OverflowError):
            raise _first_bad(values, self._check_one) from None
        if self.name == "bool" and len(arr) and arr.max() > 1:
            ix = int(np.argmax(arr > 1))
            raise BadValue(ix, values[ix], "only True, False, 0 and 1 are accepted")
        return arr.astype(self.dtype, copy=False)

    def _check_one(self, v: Any) -> None:
        array(self.code, [v])
        if self.name == "bool" and v not in (0, 1):
            raise ValueError("only True, False, 0 and 1 are accepted")

    def _convert_array(self, arr: np.ndarray) -> np.ndarray:
        kind = arr.dtype.kind
        if self._is_float:
            if kind not in "biuf":
                raise BadValue(0, arr.dtype, f"an array of {arr.dtype} cannot be {self.name}")
            return arr.astype(self.dtype, copy=False)
        if kind not in "biu":
            raise BadValue(0, arr.dtype, f"an array of {arr.dtype} cannot be {self.name}")
        if len(arr) and kind != "b" and not np.can_cast(arr.dtype, self.dtype):
            info = np.iinfo(self.dtype) if self.name != "bool" else None
            lo, hi = (0, 1) if info is None else (info.min, info.max)
            bad = (arr < lo) | (arr > hi)
            if bad.any():
                ix = int(np.argmax(bad))
                raise BadValue(ix, arr[ix].item(), f"does not fit in {self.name}")
        return arr.astype(self.dtype, copy=False)

    def minmax(self, arr: np.ndarray) -> tuple[Any, Any]:
        if self._is_float:
            lo, hi = np.fmin.reduce(arr), np.fmax.reduce(arr)  # NaN only when all are NaN
            return float(lo), float(hi)
        if self.name == "bool":
            return bool(arr.min()), bool(arr.max())
        return int(arr.min()), int(arr.max())

    def to_python(self, arr: np.ndarray) -> list:
        if self.name == "bool":
            return arr.view(np.bool_).tolist()
        return arr.tolist()

    def to_numpy(self, arr: np.ndarray) -> np.ndarray:
        return arr.view(np.bool_) if self.name == "bool" else arr


class _ComplexType(FixedType):
    """complex64 (two float64) and complex32 (two float32), as in the Accelerator."""

    def _convert(self, values: list) -> np.ndarray:
        if set(map(type, values)) <= {complex, float, int}:
            try:
                return np.array(values, dtype=self.dtype)
            except (TypeError, ValueError, OverflowError):
                raise _first_bad(values, self._check_one) from None
        bad = _first_bad_or_none(values, self._check_one)
        if bad is not None:
            raise bad
        return np.array([complex(v) for v in values], dtype=self.dtype)

    @staticmethod
    def _check_one(v: Any) -> None:
        if isinstance(v, str | bytes | bytearray):
            raise TypeError(f"{type(v).__name__} is not a number")
        np.array([complex(v)], dtype=np.complex128)

    def _convert_array(self, arr: np.ndarray) -> np.ndarray:
        if arr.dtype.kind not in "biufc":
            raise BadValue(0, arr.dtype, f"an array of {arr.dtype} cannot be {self.name}")
        return arr.astype(self.dtype, copy=False)


def _first_bad_or_none(values: list, check) -> BadValue | None:
    try:
        return _first_bad(values, check)
    except AssertionError:
        return None


class _DateTimeType(FixedType):
    """datetime and time as int64 microseconds (since 1970 / since midnight), date as int64 days."""

    has_minmax = True

    def __init__(self, name: str, dtype: str, numpy_dtype: str, pytype: type) -> None:
        super().__init__(name, dtype, numpy_dtype)
        self.pytype = pytype
        self._filler = {"datetime": _EPOCH, "date": _EPOCH_DATE, "time": time()}[name]

    def encode(self, values: list, none_support: bool) -> Fixed:
        values, flags = _split_nones(values, none_support, self._filler)
        if set(map(type, values)) - {self.pytype}:
            bad = _first_bad_or_none(values, self._check_one)
            if bad is not None:
                raise bad
        if self.name != "date" and any(map(_get_fold, values)):
            folds = np.fromiter(map(_get_fold, values), np.uint8, len(values)) * FOLD
            flags = folds if flags is None else flags | folds
        return Fixed(self._convert(values), flags)

    def _check_one(self, v: Any) -> None:
        if not isinstance(v, self.pytype):
            raise TypeError(f"{type(v).__name__} is not a {self.name}")

    def _convert(self, values: list) -> np.ndarray:
        if self.name == "datetime":
            if any(map(_get_tzinfo, values)):
                values = [v.replace(tzinfo=None) for v in values]
            if set(map(type, values)) != {datetime}:
                values = [datetime.combine(v.date(), v.time()) for v in values]
            # timedelta arithmetic, not np.array(values, "datetime64[us]"): 0.5 against 2.7 µs
            micros = [(v - _EPOCH) // _MICROSECOND for v in values]
            return np.fromiter(micros, np.int64, len(values)).astype(self.dtype)
        if self.name == "date":
            values = [date(v.year, v.month, v.day) if type(v) is not date else v for v in values]
            # ordinals, not np.array(values, "datetime64[D]"): 0.08 against 2.1 µs a value
            days = np.fromiter(map(date.toordinal, values), np.int64, len(values))
            return (days - _EPOCH_ORDINAL).astype(self.dtype)
        parts = np.array(list(map(_time_parts, values)), dtype=np.int64).reshape(-1, 4)
        return parts @ np.array([3600_000_000, 60_000_000, 1_000_000, 1], dtype=np.int64)

    def _convert_array(self, arr: np.ndarray) -> np.ndarray:
        want = {"datetime": "M", "date": "M", "time": "m"}[self.name]
        if arr.dtype.kind != want:
            raise BadValue(0, arr.dtype, f"an array of {arr.dtype} cannot be {self.name}")
        return arr.astype(self.numpy_dtype).view(np.int64).astype(self.dtype)

    def to_python(self, arr: np.ndarray) -> list:
        if self.name == "time":
            return list(map(datetime.time, (arr.view("m8[us]") + _EPOCH64).tolist()))
        return arr.view(self.numpy_dtype).tolist()

    def apply_fold(self, values: list, flags: np.ndarray) -> None:
        for ix in np.flatnonzero(flags & FOLD).tolist():
            if values[ix] is not None:
                values[ix] = values[ix].replace(fold=1)

    def minmax(self, arr: np.ndarray) -> tuple[Any, Any]:
        return tuple(self.to_python(np.array([arr.min(), arr.max()], dtype=arr.dtype)))


class BlobType(ColumnType):
    """Variable-width values: bytes, ascii, unicode, json and pickle."""

    layout = "var"

    def __init__(self, name: str) -> None:
        self.name = name
        self.none_is_value = name in ("json", "pickle")

    def encode(self, values: list, none_support: bool) -> Var:
        enc = getattr(self, "_enc_" + self.name)
        if self.none_is_value:
            return Var(*enc(values), None)
        try:  # most chunks hold no None: looking for one costs more than the encoding
            return Var(*enc(values), None)
        except BadValue as e:
            if e.value is not None:
                raise
        values, flags = _split_nones(values, none_support, self._empty)
        return Var(*enc(values), flags)

    @property
    def _empty(self) -> Any:
        return b"" if self.name == "bytes" else ""

    def from_packed(self, packed: Packed) -> Var:
        """Packed values as they are, once checked: a NUL at each end and nothing past the
        last, and for ascii and unicode, text that decodes (BadValue names the first value
        that does not). ValueError when they are not packed as Packed says."""
        if self.name not in ("bytes", "ascii", "unicode"):
            raise ValueError(
                f"Packed values are for bytes, ascii and unicode columns, not {self.name}"
            )
        try:
            raw = np.frombuffer(packed.data, np.uint8)
        except (TypeError, ValueError):
            raise ValueError(
                "Packed data must be bytes-like (bytes, bytearray, a contiguous uint8 array), "
                f"not {type(packed.data).__name__}"
            ) from None
        ends = packed.ends
        if ends.ndim != 1 or ends.dtype.kind not in "iu":
            raise ValueError(
                f"Packed ends must be one-dimensional integers, not {ends.dtype} of shape {ends.shape}"
            )
        ends = ends.astype("<i8")
        if len(ends) and (
            ends[0] < 1
            or (ends[1:] <= ends[:-1]).any()
            or ends[-1] != len(raw)
            or raw[ends - 1].any()
        ):
            raise ValueError(
                "Packed data must be the values end to end, each followed by a NUL byte, and "
                "ends the offset just past each NUL"
            )
        if not len(ends) and len(raw):
            raise ValueError("Packed data holds bytes, but ends names no value")
        if self.name != "bytes":
            encoding = "ascii" if self.name == "ascii" else "utf-8"
            try:
                str(packed.data, encoding)
            except UnicodeDecodeError as e:
                ix = int(np.searchsorted(ends, e.start, "right"))
                start = int(ends[ix - 1]) if ix else 0
                value = bytes(raw[start : ends[ix] - 1])
                raise BadValue(ix, value, f"not {encoding.upper()} text ({e.reason})") from None
        return Var(packed.data, ends, None)

    def _enc_bytes(self, values: list) -> tuple[bytes | list[bytes], np.ndarray]:
        if set(map(type, values)) != {bytes}:
            bad = _first_bad_or_none(values, _check_bytes)
            if bad is not None:
                raise bad
            values = [bytes(v) for v in values]
        if len(values) <= WRITEV_VALUES:
            lengths = np.fromiter(map(len, values), np.int64, len(values))
            if lengths.sum() >= WRITEV_BYTES:
                # Few large values (images): the writer hands them to os.writev as they
                # are. Joining them would copy the whole chunk once more, a sixth of the
                # time import_images takes.
                return [part for v in values for part in (v, b"\0")], _ends(lengths)
        data = b"\0".join([*values, b""])
        return data, _nul_ends(data, values, lambda: map(len, values))

    def _enc_ascii(self, values: list) -> tuple[bytes, np.ndarray]:
        try:
            text = "\0".join(values)
        except TypeError:
            text = None
        if text is None or not text.isascii():
            bad = _first_bad_or_none(values, _check_ascii)
            if bad is not None:
                raise bad
            values = [v.decode("ascii") if isinstance(v, bytes) else str(v) for v in values]
            text = "\0".join(values)
        data = text.encode("ascii") + b"\0"
        return data, _terminated_ends(data, values)

    def _enc_unicode(self, values: list) -> tuple[bytes, np.ndarray]:
        # No per-value Python work when all is well: join refuses a non-str value (None
        # included), encode a lone surrogate, and the ends are the terminators found.
        try:
            data = "\0".join(values).encode("utf-8") + b"\0"
        except (TypeError, UnicodeEncodeError):
            bad = _first_bad_or_none(values, _check_str)
            if bad is not None:
                raise bad from None
            values = [str(v) for v in values]
            data = "\0".join(values).encode("utf-8") + b"\0"
        return data, _terminated_ends(data, values)

    def _enc_json(self, values: list) -> tuple[bytes, np.ndarray]:
        try:
            texts = list(map(_json_encode, values))
        except (TypeError, ValueError):
            raise _first_bad(values, _json_encode) from None
        return self._enc_unicode(texts)

    def _enc_pickle(self, values: list) -> tuple[bytes, np.ndarray]:
        try:
            blobs = [pickle.dumps(v, 5) for v in values]
        except Exception:
            raise _first_bad(values, _pickle_check) from None
        return self._enc_bytes(blobs)

    def decode_split(self, chunk: bytes, n: int) -> list | None:
        """The chunk's n values by one C-level split at the NULs, when it splits into exactly
        n NUL-terminated parts (small values holding no NUL); else None."""
        if self.name in ("bytes", "pickle"):
            values = _split(chunk, b"\0", n)
        else:
            values = _split(chunk.decode("ascii" if self.name == "ascii" else "utf-8"), "\0", n)
        return None if values is None else self._finish(values)

    def decode(self, chunk: bytes, starts: np.ndarray, ends: np.ndarray) -> list:
        """Values of one chunk: `chunk` holds them all, value i is chunk[starts[i]:ends[i]]."""
        values = self.decode_split(chunk, len(starts))
        if values is not None:
            return values
        parts = list(map(chunk.__getitem__, map(slice, starts.tolist(), ends.tolist())))
        if self.name not in ("bytes", "pickle"):
            encoding = "ascii" if self.name == "ascii" else "utf-8"
            parts = [p.decode(encoding) for p in parts]
        return self._finish(parts)

    def _finish(self, values: list) -> list:
        if self.name == "pickle":
            return list(map(pickle.loads, values))
        if self.name == "json":
            return json.loads("[" + ",".join(values) + "]") if values else []
        return values


def _terminated_ends(data: bytes, values: list) -> np.ndarray:
    """Var.ends of str values encoded into `data`, each followed by a NUL: found in one
    vectorised pass over the bytes, unless a value holds a NUL itself."""
    return _nul_ends(data, values, lambda: map(len, map(str.encode, values)))


def _nul_ends(data: bytes, values: list, lengths: Callable[[], Iterator[int]]) -> np.ndarray:
    """Var.ends of `values` joined into `data`, each followed by a NUL: one vectorised
    pass over the bytes, or from their byte `lengths` when a value holds a NUL itself."""
    nuls = np.flatnonzero(np.frombuffer(data, np.uint8) == 0)
    if len(nuls) == len(values):
        nuls += 1
        return nuls
    return _ends(np.fromiter(lengths(), np.int64, len(values)))


def _ends(lengths: np.ndarray) -> np.ndarray:
    """Var.ends of values of these byte lengths, each followed by its NUL."""
    ends = np.cumsum(lengths)
    ends += np.arange(1, len(lengths) + 1)
    return ends


def _split(data: Any, sep: Any, n: int) -> list | None:
    """One C-level split into n parts, each ended by `sep`; None when that is not what the
    data is (a value holding the separator), or when values are too big to be worth it."""
    if not n or len(data) > 256 * n:
        return None
    values = data.split(sep)
    if len(values) != n + 1 or values[-1]:
        return None
    values.pop()
    return values


_json_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _pickle_check(v: Any) -> None:
    try:
        pickle.dumps(v, 5)
    except Exception as e:
        raise TypeError(f"cannot be pickled: {e}") from None


def _check_bytes(v: Any) -> None:
    if not isinstance(v, bytes):
        raise TypeError(f"only bytes are accepted, not {type(v).__name__}")


def _check_str(v: Any) -> None:
    if not isinstance(v, str):
        raise TypeError(f"only str is accepted, not {type(v).__name__}")
    v.encode("utf-8")


def _check_ascii(v: Any) -> None:
    if not isinstance(v, str | bytes):
        raise TypeError(f"only str or bytes are accepted, not {type(v).__name__}")
    if not v.isascii():
        raise ValueError("not ASCII")


class NumberType(ColumnType):
    """number: any int up to 1007 bits or any float, each read back as the type it was."""

    name = "number"
    layout = "number"
    has_minmax = True

    def encode(self, values: list, none_support: bool) -> Numbers:
        n = len(values)
        types = set(map(type, values))
        if types == {int}:
            try:
                payload = np.frombuffer(array("q", values), np.int64)
                return Numbers(np.full(n, N_INT, np.uint8), payload.astype("<i8"), None)
            except OverflowError:
                pass
        elif types == {float}:
            payload = np.frombuffer(array("d", values), np.float64).astype("<f8").view("<i8")
            return Numbers(np.full(n, N_FLOAT, np.uint8), payload, None)
        return self._encode_mixed(values, none_support)

    def _encode_mixed(self, values: list, none_support: bool) -> Numbers:
        n = len(values)
        kinds = np.empty(n, np.uint8)
        payload = np.zeros(n, "<i8")
        floats = payload.view("<f8")
        big: list[bytes] = []
        for ix, v in enumerate(values):
            if v is None:
                if not none_support:
                    raise BadValue(ix, v, "None is not allowed (the column has none_support=False)")
                kinds[ix] = N_NONE
            elif isinstance(v, float):
                kinds[ix] = N_FLOAT
                floats[ix] = v
            elif isinstance(v, int):
                v = int(v)
                if -(2**63) <= v < 2**63:
                    kinds[ix] = N_INT
                    payload[ix] = v
                elif v.bit_length() > NUMBER_MAX_BITS:
                    raise BadValue(ix, v, f"does not fit in {NUMBER_MAX_BITS} bits")
                else:
                    kinds[ix] = N_BIG
                    big.append(big_to_bytes(v))
            else:
                raise BadValue(ix, v, f"only int and float are accepted, not {type(v).__name__}")
        big_var = None
        if big:
            lengths = np.fromiter(map(len, big), np.int64, len(big))
            big_var = Var(b"\0".join(big) + b"\0", _ends(lengths), None)
        return Numbers(kinds, payload, big_var)

    def decode(self, kinds: np.ndarray, payload: np.ndarray, big: list[int]) -> list:
        if len(kinds) == 0:
            return []
        k0 = int(kinds[0])
        if k0 != N_BIG and (kinds == k0).all():
            if k0 == N_INT:
                return payload.tolist()
            if k0 == N_FLOAT:
                return payload.view("<f8").tolist()
            return [None] * len(kinds)
        out = payload.astype(object)
        is_float = kinds == N_FLOAT
        out[is_float] = payload.view("<f8")[is_float].tolist()
        out[kinds == N_NONE] = None
        big_rows = np.flatnonzero(kinds == N_BIG)
        if len(big_rows):
            out[big_rows] = np.array(big, dtype=object)
        return out.tolist()

    def minmax(self, kinds: np.ndarray, payload: np.ndarray, big: list[int]) -> tuple[Any, Any]:
        candidates: list[Any] = list(big)
        ints = payload[kinds == N_INT]
        if len(ints):
            candidates += [int(ints.min()), int(ints.max())]
        floats = payload.view("<f8")[kinds == N_FLOAT]
        if len(floats):
            candidates += [float(np.fmin.reduce(floats)), float(np.fmax.reduce(floats))]
        return minmax_merge([(v, v) for v in candidates])


def big_to_bytes(v: int) -> bytes:
    """The minimal signed little-endian bytes of an int (number's big integers, their hash)."""
    return v.to_bytes(v.bit_length() // 8 + 1, "little", signed=True)


def minmax_merge(pairs: list[tuple[Any, Any]]) -> tuple[Any, Any]:
    """Combine (min, max) pairs, ignoring None and NaN unless nothing else is there."""
    lo = hi = None
    for a, b in pairs:
        if a is None:
            continue
        if lo is None or _nan(lo) or (a < lo and not _nan(a)):
            lo = a
        if hi is None or _nan(hi) or (b > hi and not _nan(b)):
            hi = b
    return lo, hi


def _nan(v: Any) -> bool:
    return isinstance(v, float) and v != v


TYPES: dict[str, ColumnType] = {
    t.name: t
    for t in (
        NumberType(),
        _ComplexType("complex64", "<c16"),
        _ComplexType("complex32", "<c8"),
        _ArrayType("float64", "<f8", "d", "d"),
        _ArrayType("float32", "<f4", "f", "f"),
        _ArrayType("int64", "<i8", "q", "q"),
        _ArrayType("int32", "<i4", "i", "i"),
        _ArrayType("bool", "u1", "B", "?"),
        _DateTimeType("datetime", "<i8", "datetime64[us]", datetime),
        _DateTimeType("date", "<i8", "datetime64[D]", date),
        _DateTimeType("time", "<i8", "timedelta64[us]", time),
        BlobType("bytes"),
        BlobType("ascii"),
        BlobType("unicode"),
        BlobType("json"),
        BlobType("pickle"),
    )
}


def minmax_to_json(typename: str, v: Any) -> Any:
    """min/max as stored in dataset.json: dates and times as ISO text."""
    if v is None:
        return None
    if typename in ("datetime", "date", "time"):
        return v.isoformat()
    return v


def minmax_from_json(typename: str, v: Any) -> Any:
    if v is None:
        return None
    if typename == "datetime":
        return datetime.fromisoformat(v)
    if typename == "date":
        return date.fromisoformat(v)
    if typename == "time":
        return time.fromisoformat(v)
    return v
