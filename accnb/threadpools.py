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
after new modules were imported, and the child only calls their setters.
"""

from __future__ import annotations

import sys

from threadpoolctl import ThreadpoolController

_pools: ThreadpoolController | None = None
_modules_seen = 0


def find_before_fork() -> None:
    """In the caller: know the loaded thread pools (again if imports may have added some)."""
    global _pools, _modules_seen
    if _pools is None or len(sys.modules) != _modules_seen:
        _pools = ThreadpoolController()
        _modules_seen = len(sys.modules)


def one_thread_in_child() -> None:
    """In a fresh job process: every pool the caller found runs on one thread from now on."""
    if _pools is None:
        return
    for pool in _pools.lib_controllers:
        pool.set_num_threads(1)
