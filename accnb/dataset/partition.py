"""Which slice a hashlabel value belongs to: a fixed 64-bit hash, the same in every process."""

from __future__ import annotations

from datetime import date, datetime, time
from hashlib import blake2b
from typing import Any

import numpy as np

from .types import N_BIG, N_FLOAT, N_INT, N_NONE, NONE, Numbers, big_to_bytes

_M64 = (1 << 64) - 1
_C1 = 0xBF58476D1CE4E5B9
_C2 = 0x94D049BB133111EB
_NAN_BITS = 0x7FF8000000000000
_EPOCH = datetime(1970, 1, 1)
_DAY_US = 86_400_000_000
UNHASHABLE = frozenset({"json", "pickle"})


def mix(z: int) -> int:
    """splitmix64's finalizer: a bijection of 64-bit integers with mix(0) == 0."""
    z = ((z ^ (z >> 30)) * _C1) & _M64
    z = ((z ^ (z >> 27)) * _C2) & _M64
    return z ^ (z >> 31)


def _mix_array(z: np.ndarray) -> np.ndarray:
    z = z.astype(np.uint64, copy=True)
    z ^= z >> np.uint64(30)
    z *= np.uint64(_C1)
    z ^= z >> np.uint64(27)
    z *= np.uint64(_C2)
    z ^= z >> np.uint64(31)
    return z


def _float_bits(v: float) -> int:
    if v != v:
        return _NAN_BITS
    return int(np.float64(v).view(np.uint64))


def _blob(data: bytes) -> int:
    if not data:
        return 0
    return int.from_bytes(blake2b(data, digest_size=8).digest(), "little")


def hash_value(v: Any) -> int:
    """The hash of one value; equal numbers hash alike whatever their column type."""
    if v is None:
        return 0
    if isinstance(v, bool):
        return mix(int(v))
    if isinstance(v, int):
        if -(2**63) <= v < 2**63:
            return mix(v & _M64)
        return _blob(big_to_bytes(v))
    if isinstance(v, float):
        if v == v and abs(v) < 2**63 and v == int(v):
            return mix(int(v) & _M64)
        return mix(_float_bits(v))
    if isinstance(v, complex):
        if v.imag == 0:
            return hash_value(v.real)
        return mix(_float_bits(v.real + 0.0) ^ mix(_float_bits(v.imag)))
    if isinstance(v, str):
        return _blob(v.encode("utf-8"))
    if isinstance(v, bytes):
        return _blob(v)
    if isinstance(v, datetime):
        return hash_value((v.replace(tzinfo=None, fold=0) - _EPOCH) // _micro)
    if isinstance(v, date):
        return hash_value((v - _EPOCH.date()).days * _DAY_US)
    if isinstance(v, time):
        return hash_value(((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000 + v.microsecond)
    raise TypeError(f"cannot hash {type(v).__name__} values")


_micro = datetime(1970, 1, 1, 0, 0, 0, 1) - _EPOCH


def _hash_int64(a: np.ndarray) -> np.ndarray:
    return _mix_array(a.astype(np.int64).view(np.uint64))


def _hash_float64(a: np.ndarray) -> np.ndarray:
    a = a.astype(np.float64)
    with np.errstate(invalid="ignore"):
        integral = np.isfinite(a) & (np.abs(a) < 2.0**63) & (a == np.trunc(a))
    bits = a.view(np.uint64).copy()
    bits[np.isnan(a)] = _NAN_BITS
    bits[integral] = a[integral].astype(np.int64).view(np.uint64)
    return _mix_array(bits)


def hash_encoded(typename: str, enc: Any, values: list) -> np.ndarray:
    """Hashes of a chunk as uint64, vectorised for numeric types; `values` are the originals."""
    if typename in ("int64", "int32", "bool"):
        h = _hash_int64(enc.values)
    elif typename in ("float64", "float32"):
        h = _hash_float64(enc.values)
    elif typename in ("complex64", "complex32"):
        c = enc.values.astype(np.complex128)
        h = _hash_float64(c.real)
        im = c.imag != 0
        if im.any():
            h[im] = [hash_value(complex(v)) for v in c[im].tolist()]
    elif typename in ("datetime", "time"):
        h = _hash_int64(enc.values)
    elif typename == "date":
        h = _hash_int64(enc.values.astype(np.int64) * _DAY_US)
    elif typename == "number":
        h = _hash_number(enc, values)
    else:
        h = np.fromiter((hash_value(v) for v in values), np.uint64, len(values))
    flags = getattr(enc, "flags", None)
    if flags is not None:
        h[(flags & NONE).astype(bool)] = 0
    return h


def _hash_number(enc: Numbers, values: list) -> np.ndarray:
    h = np.zeros(len(enc.kinds), np.uint64)
    ints = enc.kinds == N_INT
    h[ints] = _hash_int64(enc.payload[ints])
    floats = enc.kinds == N_FLOAT
    h[floats] = _hash_float64(enc.payload.view("<f8")[floats])
    for ix in np.flatnonzero(enc.kinds == N_BIG).tolist():
        h[ix] = hash_value(values[ix])
    h[enc.kinds == N_NONE] = 0
    return h


def slice_of(v: Any, slices: int) -> int:
    """The slice a hashlabel value belongs in."""
    return hash_value(v) % slices
