"""DaskExecutor: a job's analysis slices as tasks on a Dask distributed cluster (`accnb[dask]`).

The job process (a fork of the caller, after prepare) connects a Client of its own to the
scheduler, since a Client living in the caller is unusable in a fork, and submits one task
per slice. A task forks a slice process on its worker, as the fork executor forks one in
the job process, so a slice gets the same treatment wherever it runs: its own process
(killed when the job fails), its output caught at the file descriptors, `accnb.current`
set and `os._exit` at the end. The worker relays what the slice prints as events on the
job's topic; the job process writes them into the slice's pipe, which the caller relays.

What travels: the method's source, name, file name and hash with each task (workers load
it once per hash); prepare_res, options, datasets and jobs in one pickle the job process
writes into the job directory, which every worker must see (docs/CLUSTER.md). The dataset
writers made in prepare go in that pickle too, by their state, and are made again in the
slice process, so that prepare_res and `DatasetWriter(name)` find them there.
"""

from __future__ import annotations

import gc
import os
import pickle
import queue
import selectors
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import current, runner
from .dataset import writer as dataset_writer
from .dataset.types import TYPES
from .job import FAILED, WORKDIRS, workdir_name
from .method import Method, folder_package, load, load_helper_module
from .results import save_slice_result
from .runner import JobSpec, SliceFailed, promote_slice_failure, run_slice
from .store import write_pickle

PAYLOAD = ".dask-payload.pickle"  # in the job directory: writers and values, for the slices
_STOP_WAIT = 30.0  # seconds to wait for the other slices to stop after one failed
_POLL = 0.1  # seconds between a worker's looks for FAILED.json while its slice runs
_UNPICKLABLE_HINT = (
    "with DaskExecutor the slices run in other processes, perhaps on other machines, so "
    "prepare_res must pickle: return data (file names, lists, dicts, arrays) rather than "
    "open files, locks, generators or connections, or build this method on a Workdir "
    "without an executor (the fork executor hands prepare_res over without pickling)"
)


class DaskExecutor:
    """Runs each analysis slice as a Dask task, on the cluster behind a scheduler.

    `client_or_address` is a `distributed.Client`, a cluster (`LocalCluster`, ...) or a
    scheduler address ("tcp://host:8786"); only the address is kept. Workers need accnb
    and the methods' imports installed, and must see the workdir at the same path.
    """

    def __init__(self, client_or_address: Any) -> None:
        try:
            # Imported here, in the caller, so that every job process forked from it has it.
            import distributed  # noqa: F401
        except ImportError:
            raise ImportError(
                "DaskExecutor needs dask's distributed scheduler: pip install 'accnb[dask]'"
            ) from None
        self.address = _scheduler_address(client_or_address)

    def __repr__(self) -> str:
        return f"DaskExecutor({self.address!r})"

    def run_slices(
        self, spec: JobSpec, values: dict, outputs: dict[str, int], results: dict | None
    ) -> list[float]:
        _write_payload(spec, values)
        try:
            client = _connect(spec, self.address)
            try:
                return _SliceRun(client, spec, outputs, results is not None).wait()
            finally:
                client.close()
        finally:
            (spec.path / PAYLOAD).unlink(missing_ok=True)
            for n in range(spec.slices):
                _claim_path(spec.path, n).unlink(missing_ok=True)


def _scheduler_address(client_or_address: Any) -> str:
    if isinstance(client_or_address, str):
        return client_or_address
    address = getattr(client_or_address, "scheduler_address", None)  # a cluster
    if address is None:  # a Client
        address = getattr(getattr(client_or_address, "scheduler", None), "address", None)
    if not isinstance(address, str):
        raise TypeError(
            "DaskExecutor takes a distributed.Client, a cluster or a scheduler address "
            f"such as 'tcp://host:8786', not {client_or_address!r}"
        )
    return address


# --- the job process's side


@dataclass(frozen=True)
class MethodRef:
    """What a worker needs to load the method: its source, where it came from, its hash."""

    name: str
    source: str
    filename: str
    hash: str
    source_digest: str
    package_folder: str | None  # the folder a file method imports its neighbours from
    helpers: tuple[tuple[str, str], ...]  # (module name, stored source file) of %%accmodule

    @classmethod
    def of(cls, method: Method) -> MethodRef:
        folder = str(Path(method.filename).parent) if method.module.__package__ else None
        return cls(
            method.name,
            method.source,
            method.filename,
            method.hash,
            method.source_digest,
            folder,
            tuple((name, str(path)) for name, path in sorted(method.helpers.items())),
        )


class _SliceRun:
    """One job's slices on the cluster: submitted, their output relayed, their ends checked."""

    def __init__(self, client: Any, spec: JobSpec, outputs: dict[str, int], keep: bool) -> None:
        self.client = client
        self.spec = spec
        self.outputs = outputs
        self.events: queue.Queue = queue.Queue()
        # The topic is the client's id: the scheduler drops a client's events an hour after
        # it leaves, so the output of many jobs does not pile up there.
        self.topic = client.id
        client.subscribe_topic(self.topic, self._on_event)
        ref = MethodRef.of(spec.method)
        self.started = time.monotonic()
        self.futures: dict[int, Any] = {}
        for n in range(spec.slices):
            future = client.submit(
                _slice_task,
                ref,
                str(spec.path),
                spec.jobid,
                n,
                spec.slices,
                keep,
                self.topic,
                key=(f"accnb-analysis-{spec.method.name}", spec.jobid, n, client.id),
                pure=False,
            )
            future.add_done_callback(lambda f, n=n: self.events.put(("done", n, f)))
            self.futures[n] = future

    def _on_event(self, event: tuple[float, Any]) -> None:
        msg = event[1]
        if isinstance(msg, list | tuple) and len(msg) == 2 and isinstance(msg[0], int):
            self.events.put(("output", *msg))  # the scheduler's own events are dicts

    def wait(self) -> list[float]:
        """Relay output until every slice ended; on a failure stop the others and raise."""
        durations = [0.0] * self.spec.slices
        pending = set(self.futures)
        try:
            while pending:
                kind, n, what = self.events.get()
                if kind == "output":
                    self._write(n, what)
                    continue
                pending.discard(n)
                durations[n] = time.monotonic() - self.started
                if not self._failed(n, what):
                    os.close(self.outputs.pop(str(n)))  # the slice's output is complete
                    continue
                self._stop(pending)
                raise SliceFailed()
        finally:
            self.client.unsubscribe_topic(self.topic)
        return durations

    def _write(self, n: int, data: bytes) -> None:
        fd = self.outputs.get(str(n))
        if fd is not None:
            os.write(fd, data)

    def _failed(self, n: int, future: Any) -> bool:
        """Whether slice n failed; if so, make its failure the job's (once: FAILED.json)."""
        path = self.spec.path
        try:
            status, code = future.result()
        except BaseException as e:  # noqa: BLE001 - the task, its worker or the cluster failed
            runner.record_slice_failure(
                path, n, type(e).__name__, f"slice {n} failed on the Dask cluster: {e}"
            )
            status, code = "failed", 0
        if status == "ok":
            return False
        if status == "stopped":  # FAILED.json was there first: the job failed already
            return True
        if status == "lost":
            description = (
                f"slice {n} lost its Dask worker while it ran (killed? out of memory?); it is "
                "not run again, since it may have written part of its output"
            )
        else:
            description = runner.exit_description(f"slice {n}", code)
        promote_slice_failure(path, n, description, killed=status == "lost" or code < 0)
        return True

    def _stop(self, pending: set[int]) -> None:
        """Wait (a while) for the other slices: workers stop them on seeing FAILED.json."""
        deadline = time.monotonic() + _STOP_WAIT
        while pending:
            try:
                kind, n, what = self.events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if kind == "output":
                self._write(n, what)
            else:
                pending.discard(n)
        if pending:
            self.client.cancel([self.futures[n] for n in pending], force=True)


def _write_payload(spec: JobSpec, values: dict) -> None:
    """Pickle the writers and the values (prepare_res among them) into the job directory,
    or fail the job saying what in them does not pickle."""
    states = [_writer_state(w) for w in dataset_writer._writers.values()]
    try:
        blob = _dumps(values)
    except Exception as e:  # noqa: BLE001 - any pickling error: say where and why
        where, culprit, error = _find_unpicklable(values, e)
        kind = type(culprit)
        message = (
            f"{where} can not be sent to the Dask workers: it is a {kind.__module__}."
            f"{kind.__qualname__}, which does not pickle ({error}); {_UNPICKLABLE_HINT}"
        )
        runner.record_failure(spec.path, "analysis", type(error).__name__, message)
        raise SliceFailed() from None
    write_pickle(spec.path / PAYLOAD, (states, blob))


def _dumps(obj: Any) -> bytes:
    """Pickle as Dask does (cloudpickle: lambdas and closures too); a writer made in prepare
    pickles by name, to be found among the writers the slice process makes again."""
    import io

    import cloudpickle

    class Pickler(cloudpickle.Pickler):
        def reducer_override(self, obj: Any) -> Any:
            if isinstance(obj, dataset_writer.DatasetWriter):
                if dataset_writer._writers.get(obj.name) is obj:
                    return _registered_writer, (obj.name,)
                return _finished_writer, (_writer_state(obj),)
            return super().reducer_override(obj)

    out = io.BytesIO()
    Pickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return out.getvalue()


def _find_unpicklable(values: dict, error: Exception) -> tuple[str, Any, Exception]:
    """The innermost item of `values` (by containers and attributes) that does not pickle."""
    where, obj = "prepare_res", values.get("prepare_res")
    for name in dict.fromkeys(("prepare_res", *values)):
        try:
            _dumps(values.get(name))
        except Exception as e:  # noqa: BLE001
            where, obj, error = name, values.get(name), e
            break
    for _ in range(20):  # deep enough for any prepare_res a person reads
        for label, item in _parts(obj):
            try:
                _dumps(item)
            except Exception as e:  # noqa: BLE001
                where, obj, error = where + label, item, e
                break
        else:
            break
    return where, obj, error


def _parts(obj: Any) -> list[tuple[str, Any]]:
    if isinstance(obj, dict):
        return [(f"[{k!r}]", v) for k, v in obj.items()]
    if isinstance(obj, list | tuple):
        return [(f"[{i}]", v) for i, v in enumerate(obj)]
    if isinstance(obj, set | frozenset):
        return [(f" member {_short_repr(v)}", v) for v in obj]
    if type(obj).__module__ != "builtins" and isinstance(getattr(obj, "__dict__", None), dict):
        return [(f".{k}", v) for k, v in vars(obj).items()]
    return []


def _short_repr(obj: Any) -> str:
    text = repr(obj)
    return text if len(text) <= 80 else text[:77] + "..."


def _connect(spec: JobSpec, address: str) -> Any:
    from distributed import Client

    try:
        return Client(address, set_as_default=False)
    except Exception as e:  # noqa: BLE001 - timeouts, refused connections, bad addresses
        runner.record_failure(
            spec.path,
            "analysis",
            type(e).__name__,
            f"could not connect to the Dask scheduler at {address}: {e}",
        )
        raise SliceFailed() from None


def _claim_path(job_path: Path, sliceno: int) -> Path:
    return job_path / f".dask-slice.{sliceno}.claimed"


# --- the dataset writers made in prepare, sent by their state


_WRITE_FUNCTIONS = ("write", "write_list", "write_dict", "_funcs")


def _writer_state(w: dataset_writer.DatasetWriter) -> dict:
    """An unstarted writer as data (its write functions are made when its slice starts)."""
    state = {k: v for k, v in vars(w).items() if k not in _WRITE_FUNCTIONS}
    state["_types"] = [t.name for t in w._types]
    return state


def _writer_from_state(state: dict, why: str) -> dataset_writer.DatasetWriter:
    w = object.__new__(dataset_writer.DatasetWriter)
    vars(w).update(state)
    w._types = [TYPES[name] for name in state["_types"]]
    w._disable(why)
    return w


def _restore_writers(states: list[dict]) -> None:
    """In the slice process: the writers prepare left unfinished, registered as there."""
    dataset_writer._writers.clear()
    for state in states:
        w = _writer_from_state(
            state, "Call set_slice(sliceno) or use a split writer before writing"
        )
        dataset_writer._writers[w.name] = w


def _registered_writer(name: str) -> dataset_writer.DatasetWriter:
    return dataset_writer._writers[name]


def _finished_writer(state: dict) -> dataset_writer.DatasetWriter:
    """A writer prepare finished: good for naming its dataset, `Dataset(writer)`."""
    return _writer_from_state(state, "it is finished")


# --- the worker's side


_methods: dict[tuple[str, str, str], Method] = {}
_methods_lock = threading.Lock()


def _slice_task(
    ref: MethodRef,
    job_path: str,
    jobid: str,
    sliceno: int,
    slices: int,
    keep_results: bool,
    topic: str,
) -> tuple[str, int]:
    """A Dask task: run one slice in a process forked here, relaying its output as events.

    Returns ("ok", 0), ("failed", 0) with the failure reported in the job directory,
    ("exit", status) for a slice process that died without a report, ("lost", 0) for a
    slice that an earlier, lost worker had started, or ("stopped", 0) when the job had
    already failed.
    """
    from distributed import get_worker

    path = Path(job_path)
    if (path / FAILED).exists():
        return "stopped", 0
    try:
        os.close(os.open(_claim_path(path, sliceno), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return "lost", 0  # Dask runs a task again when its worker dies; a slice must not
    try:
        method = _worker_method(ref)
    except Exception as e:  # noqa: BLE001 - reported like a failure of the slice
        runner.record_slice_failure(
            path, sliceno, type(e).__name__, f"{e} (on the Dask worker {get_worker().address})"
        )
        return "failed", 0
    spec = JobSpec(method, jobid, path, slices, params=None, workdir=None)
    read_end, write_end = os.pipe()
    pid = runner.fork()
    if pid == 0:
        os.close(read_end)
        runner.child_main(lambda: _slice_process(spec, sliceno, keep_results, write_end))
    os.close(write_end)
    worker = get_worker()
    status = _relay_slice(
        pid,
        read_end,
        lambda data: worker.log_event(topic, [sliceno, data]),
        lambda: (path / FAILED).exists() or _cancelled(worker),
    )
    if status == 0:
        return "ok", 0
    if (path / runner.slice_failure_file(sliceno)).exists():
        return "failed", 0
    return "exit", status


def _worker_method(ref: MethodRef) -> Method:
    """The method, loaded once per version on this worker, as it was where the job began."""
    key = (ref.hash, ref.source_digest, ref.filename)
    with _methods_lock:
        method = _methods.get(key)
        if method is None:
            helpers = {}
            for name, stored in ref.helpers:
                if getattr(sys.modules.get(name), "__file__", None) != stored:
                    source = Path(stored).read_text(encoding="utf-8")
                    sys.modules[name] = load_helper_module(name, source, stored)
                helpers[name] = Path(stored)
            package = folder_package(Path(ref.package_folder)) if ref.package_folder else None
            method = load(ref.name, ref.source, ref.filename, (), helpers, package)
            if method.hash != ref.hash:
                raise RuntimeError(
                    f"method {ref.name!r} hashes to {method.hash} on this worker but to "
                    f"{ref.hash} where the job was built: its depend_extra files or helper "
                    "modules differ here; is the methods folder on the filesystem the "
                    "workers share, at the same path?"
                )
            _methods[key] = method
        return method


def _cancelled(worker: Any) -> bool:
    """Whether Dask gave up this task: its job process cancelled it, or left (killed with
    the kernel that forked it, say, when nobody writes FAILED.json)."""
    from distributed.worker import thread_state

    task = worker.state.tasks.get(getattr(thread_state, "key", None))
    return task is not None and task.state == "cancelled"


def _relay_slice(pid: int, fd: int, publish: Any, stopped: Any) -> int:
    """Publish what the slice process writes until it exits; kill it when `stopped()`."""
    selector = selectors.DefaultSelector()
    pidfd = os.pidfd_open(pid)
    selector.register(fd, selectors.EVENT_READ)
    selector.register(pidfd, selectors.EVENT_READ)
    os.set_blocking(fd, False)
    looked = time.monotonic()
    try:
        exited = False
        while not exited:
            for key, _ in selector.select(_POLL):
                if key.fd == pidfd:
                    exited = True
                elif not _drain(fd, publish):
                    selector.unregister(fd)
            if time.monotonic() - looked >= _POLL:
                looked = time.monotonic()
                if stopped():  # another slice failed, or the build was stopped
                    os.kill(pid, signal.SIGKILL)
        _drain(fd, publish)  # what was written just before the exit
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status)
    finally:
        selector.close()
        os.close(pidfd)
        os.close(fd)


def _drain(fd: int, publish: Any) -> bool:
    """Publish what can be read now; False at the end of the output."""
    while True:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return True
        if not data:
            return False
        publish(data)


def _slice_process(spec: JobSpec, sliceno: int, keep_results: bool, output_fd: int) -> int:
    """In the process forked on the worker: set up as the job process would have, then run."""
    gc.freeze()  # the worker's objects: collecting here would only copy their pages
    runner.become_child(output_fd, leader=False)
    os.chdir(spec.path)  # as in the job process: relative file names land in the job
    WORKDIRS[workdir_name(spec.jobid)] = spec.path.parent  # so that Job("name-3") works
    try:
        with open(spec.path / PAYLOAD, "rb") as fh:
            states, blob = pickle.load(fh)
        _restore_writers(states)
        values = pickle.loads(blob)
    except Exception as e:  # noqa: BLE001 - e.g. a module prepare_res needs is not installed here
        runner.record_slice_failure(
            spec.path,
            sliceno,
            type(e).__name__,
            f"prepare_res could not be unpickled on a Dask worker: {e}",
            runner.format_method_traceback(e),
        )
        return 1
    spec.params = values["params"]
    module = spec.method.module
    module.options, module.datasets, module.jobs = (
        spec.params.options,
        spec.params.datasets,
        spec.params.jobs,
    )
    current.job, current.workdir, current.slices = values["job"], None, spec.slices

    def keep(result: Any) -> None:
        save_slice_result(spec.path, sliceno, pickle.dumps(result, pickle.HIGHEST_PROTOCOL))

    ok = run_slice(spec, sliceno, values, keep if keep_results else None)
    sys.stdout.flush()
    sys.stderr.flush()
    runner.flush_c_stdio()
    return 0 if ok else 1
