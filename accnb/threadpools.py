"""One thread for BLAS and OpenMP in job processes, so that a fork never inherits a held lock.

A kernel thread may be inside a multi-threaded matrix product when a build forks. The
job process then inherits OpenBLAS's level-3 lock held by a thread it does not have, and
its own first threaded product waits for that lock forever (libgomp's pool has the same
trouble). BLAS on one thread never takes the lock, and slices are the parallelism anyway,
one per core. So every job process sets its native thread pools to one thread as it
starts, and its slices inherit that. A method that wants threaded BLAS in synthesis can
raise it with threadpoolctl.threadpool_limits, knowing the hazard.

threadpoolctl finds the pools (OpenBLAS under any symbol prefix, MKL, BLIS, OpenMP);
finding them costs a millisecond, so the caller finds them before it forks and again only
after new modules were imported. The caller also resolves each pool's C setter: the child
only calls them, since running threadpoolctl's Python there would cost the child some 60
page copies (a forked child copies every page it writes).
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from functools import partial

from threadpoolctl import ThreadpoolController

_SETTERS = {  # the C function threadpoolctl's set_num_threads calls, by internal_api
    "openblas": "openblas_set_num_threads",
    "blis": "bli_thread_set_num_threads",
    "flexiblas": "flexiblas_set_num_threads",
    "mkl": "MKL_Set_Num_Threads_Local",
    "openmp": "omp_set_num_threads",
}
_setters: list[Callable[[int], object]] = []
_modules_seen = -1


def find_before_fork() -> None:
    """In the caller: know the loaded thread pools (again if imports may have added some)."""
    global _setters, _modules_seen
    if len(sys.modules) != _modules_seen:
        _setters = [_setter(pool) for pool in ThreadpoolController().lib_controllers]
        _modules_seen = len(sys.modules)


def _setter(pool) -> Callable[[int], object]:
    """The C function that sets `pool`'s thread count, or threadpoolctl's own method where
    we cannot name it (a library or a threadpoolctl we do not know). For OpenBLAS on
    pthreads, a write of its count instead: right for lowering it, all we ever do."""
    if pool.internal_api == "openblas" and getattr(pool, "threading_layer", "") == "pthreads":
        count = _openblas_thread_count(pool)
        if count is not None:
            return partial(setattr, count, "value")
    name = _SETTERS.get(pool.internal_api)
    if pool.internal_api == "openblas" and getattr(pool, "threading_layer", "") == "openmp":
        name = "omp_set_num_threads"  # as threadpoolctl does for OpenBLAS built on OpenMP
    find = getattr(pool, "_get_symbol", None)  # threadpoolctl's lookup, with symbol affixes
    function = find(name) if name and find else None
    return function if function is not None else pool.set_num_threads


def _openblas_thread_count(pool) -> ctypes.c_int | None:
    """OpenBLAS's own count of the threads a call may use, `blas_cpu_number`, where the
    library exports it. In a forked child, openblas_set_num_threads first restarts the
    worker threads that fork stopped: 2 ms, a thread the next fork must stop again, and a
    lock a kernel thread may have held at the fork. With the count at 1, OpenBLAS runs
    every call on the calling thread and never starts them."""
    try:
        return ctypes.c_int.in_dll(pool.dynlib, "blas_cpu_number")
    except (AttributeError, ValueError):
        return None


def one_thread_in_child() -> None:
    """In a fresh job process: every pool the caller found runs on one thread from now on."""
    for set_num_threads in _setters:
        set_num_threads(1)
