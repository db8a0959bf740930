"""Running one job: a forked job process, one forked process per slice, output relayed live.

The caller (a kernel, a script, the CLI) forks a job process, which runs prepare, forks
one process per slice for analysis, waits for them all and runs synthesis. Every process
writes its stdout and stderr to a pipe of its own; the caller reads the pipes, stores
what it reads in the job's OUTPUT/ folder and hands it to a relay, so a notebook cell
shows it as it happens. Forking is what lets prepare_res and notebook-defined objects
reach the slices without pickling.

A process that succeeds (a job process, a slice) closes its output and reports on a pipe
of its own before it exits, sending its result with the report when it is small:
tearing down a forked address space takes about half a millisecond, which its parent
spends going on (synthesis; finishing the job) before it reaps the process. A process
that fails, or dies, reports nothing: its parent learns that from the process's exit (a
pidfd), even while a child of the method's holds the pipe open.

A forked child copies each page it writes, at a few µs a page; that was most of a
trivial job's time. So what the children need is made in the caller before the fork
where it can be, and their own code avoids modules that touch many objects (see
docs/ARCHITECTURE.md, "Forking from a kernel").

Forking a multi-threaded process (a Jupyter kernel always is) is safe here because the
children never use the parent's threads, locks or sockets: they get stdout/stderr
objects of their own on their pipes, never return into the caller's code and leave with
os._exit. Python 3.12+ warns about every such fork; accnb silences that warning for its
own forks only.
"""

from __future__ import annotations

import _signal
import codecs
import ctypes
import gc
import logging
import marshal
import os
import pickle
import select
import signal
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TextIO

from . import current, output, threadpools
from .dataset import writer as dataset_writer
from .errors import JobError, MethodError
from .job import FAILED, OUTPUT, RESULT, CurrentJob
from .method import Method
from .output import Reporter
from .results import AnalysisResults, slice_result_name
from .store import (
    FINISHED,
    make_pending,
    pending,
    read_json,
    write_all,
    write_direct,
    write_json,
    write_pending,
)

_PACKAGE_DIR = str(Path(__file__).resolve().parent) + os.sep


def _load_libc() -> ctypes.CDLL | None:
    """The C library, for prctl and fflush; loaded once, before any fork."""
    try:
        return ctypes.CDLL(None)
    except OSError:
        return None


def _c_function(name: str) -> Callable[..., int] | None:
    """A libc function resolved here, once: resolving it in each child costs that child
    page copies (a forked child copies every page it writes, at a few µs each)."""
    return getattr(_LIBC, name, None)


_LIBC = _load_libc()
_PRCTL = _c_function("prctl")
_FFLUSH = _c_function("fflush")
_MALLOPT = _c_function("mallopt")
_PR_SET_PDEATHSIG = 1
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_SIGKILL, _SIGINT, _SIGTERM, _SIG_DFL = map(
    int, (signal.SIGKILL, signal.SIGINT, signal.SIGTERM, signal.SIG_DFL)
)
_TERM_GRACE = 1.0  # seconds between SIGTERM and SIGKILL when a build is interrupted
_PRIVATE_FDS: set[int] = set()  # fds that no forked child may hold: a job's report pipe
_exiting: list[int] = []  # children that reported success and may still be exiting
_SEND_LIMIT = 1 << 20  # a pickled result up to this size goes with its report
_ARGS = {
    "prepare": {"job", "slices", "params", "options", "datasets", "jobs"},
    "analysis": {
        "job",
        "slices",
        "params",
        "options",
        "datasets",
        "jobs",
        "sliceno",
        "prepare_res",
    },
    "synthesis": {
        "job",
        "slices",
        "params",
        "options",
        "datasets",
        "jobs",
        "prepare_res",
        "analysis_res",
    },
}


class FinishEarly(Exception):  # noqa: N818 - it is control flow, not an error
    """Raised by job.finish_early(): end the job successfully, skipping later parts."""

    def __init__(self, result: Any = None) -> None:
        super().__init__()
        self.result = result


@dataclass
class JobSpec:
    """Everything a job process needs, handed over by fork (never pickled)."""

    method: Method
    jobid: str
    path: Path
    slices: int
    params: Any  # DotDict: method, hash, options, datasets, jobs, slices
    workdir: Any  # the Workdir, for subjobs
    executor: Any = None  # runs the analysis slices: a ForkExecutor unless the Workdir has another

    def __post_init__(self) -> None:
        if self.executor is None:
            self.executor = ForkExecutor()
        # Made here, in the caller: made in the job process, it would cost 50 page copies.
        self.job = CurrentJob(self.jobid, self.path)


def check_arguments(method: Method) -> None:
    """Refuse, before anything runs, a method function that asks for an unknown argument."""
    for part, names in method.arguments.items():
        allowed = _ARGS[part]
        for name in names:
            if name not in allowed:
                raise MethodError(
                    f"method {method.name!r}: {part}() asks for {name!r}, which is not one of "
                    f"{', '.join(sorted(allowed))}"
                )


def run(spec: JobSpec, reporter: Reporter, while_starting: Callable[[], None]) -> dict[str, Any]:
    """Run a job to the end and return its timings, or raise JobError (KeyboardInterrupt).

    `while_starting` runs here once the job process is forked: work the job needs not
    wait for.
    """
    parts = ["prepare", *map(str, range(spec.slices)), "synthesis"]
    pipes = {part: os.pipe() for part in parts}
    report_read, report_write = os.pipe()
    started = time.time()
    threadpools.find_before_fork()
    pid = fork()
    if pid == 0:
        os.close(report_read)
        for read_end, _ in pipes.values():
            os.close(read_end)
        _PRIVATE_FDS.add(report_write)
        outputs = {p: w for p, (_, w) in pipes.items()}
        child_main(lambda: _job_process(spec, outputs, report_write))
    os.close(report_write)
    for _, write_end in pipes.values():
        os.close(write_end)
    try:
        make_pending(spec.path / RESULT, spec.path / FINISHED)
        while_starting()
        report = _relay_until_reported(
            pid, {p: r for p, (r, _) in pipes.items()}, report_read, spec.path, reporter
        )
        if report:
            hold_interrupts()
    except BaseException as e:  # an interrupt, or a reporter that failed: stop the job
        _kill_job(pid)
        _remove_pending(spec.path)
        interrupted = isinstance(e, KeyboardInterrupt)
        why = "the build was interrupted" if interrupted else f"the caller failed: {e}"
        record_failure(
            spec.path, "build", type(e).__name__, f"{why}; every job process was stopped"
        )
        raise
    if not report:
        _remove_pending(spec.path)
        _, status = os.waitpid(pid, 0)
        raise _job_error(spec, os.waitstatus_to_exitcode(status))
    _exiting.append(pid)
    try:
        timings, result = marshal.loads(_report_body(report))
        if result:
            write_pending(spec.path / RESULT, result)
        else:  # None, or saved by the job process (large)
            pending(spec.path / RESULT).unlink(missing_ok=True)
    except BaseException:
        release_interrupts()
        raise
    timings["total"] = time.time() - started
    return timings


_held: list[tuple[Any, list]] = []  # the SIGINT handlers hold_interrupts replaced, and what came


def hold_interrupts() -> None:
    """Keep SIGINT from the moment a job reports success until release_interrupts (after
    its commit), so that an interrupt there leaves a finished job rather than one that ran
    to the end and was never marked finished. Only the main thread receives signals."""
    came: list = []
    previous = _signal.getsignal(_SIGINT)
    try:
        if previous is not None:  # None: set outside Python, and it could not be put back
            _signal.signal(_SIGINT, lambda signum, frame: came.append(frame))
    except ValueError:  # not the main thread: no signal arrives here
        previous = None
    _held.append((previous, came))


def release_interrupts() -> None:
    """Put the SIGINT handler back, and deliver an interrupt that came meanwhile."""
    previous, came = _held.pop()
    if previous is None:
        return
    _signal.signal(_SIGINT, previous)
    if came and callable(previous):
        previous(_SIGINT, came[0])  # Python's own handler raises KeyboardInterrupt
    elif came and previous == _SIG_DFL:
        os.kill(os.getpid(), _SIGINT)


# --- the caller's side


def _remove_pending(job_path: Path) -> None:
    """A failed job keeps no empty result or post.json waiting to be written."""
    for name in (RESULT, FINISHED):
        pending(job_path / name).unlink(missing_ok=True)


def fork() -> int:
    """os.fork, for children that only run accnb's code and a method, then os._exit."""
    sys.stdout.flush()
    sys.stderr.flush()
    child_streams()
    if sys.version_info < (3, 12):
        pid = os.fork()
    else:
        # "This process is multi-threaded, use of fork() may lead to deadlocks in the
        # child." Our children touch none of the parent's threads. (Not on 3.11, which
        # does not warn: leaving catch_warnings costs a child 13 page copies.)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
    if pid == 0:
        # What the parent made is never collected here: a full collection would touch,
        # and so copy, every page of the parent's heap (37 ms for a million objects).
        gc.freeze()
        for fd in _PRIVATE_FDS:
            os.close(fd)
        _PRIVATE_FDS.clear()
        _exiting.clear()
    return pid


def reap_exited() -> None:
    """Reap the children that reported success: they are exiting, or gone."""
    while _exiting:
        try:
            os.waitpid(_exiting.pop(), 0)
        except ChildProcessError:  # reaped by someone else's os.wait()
            pass


def _read_report(fd: int, report: bytearray) -> bool | None:
    """Read what there is of a report (a line with the body's length, then the body):
    True when it is whole, None when the pipe closed without it, False when more may come."""
    while not _whole(report):
        try:
            data = os.read(fd, 1 << 20)
        except BlockingIOError:
            return False
        if not data:
            return None
        report += data
    return True


def _whole(report: bytearray) -> bool:
    end = report.find(b"\n")
    return end >= 0 and len(report) > end + int(report[:end])


def _report_body(report: bytearray) -> bytes:
    return bytes(report[report.index(b"\n") + 1 :])


def _report_success(fd: int, body: bytes) -> None:
    write_all(fd, b"%d\n%s" % (len(body), body))
    os.close(fd)


def _relay_until_reported(
    pid: int, pipes: dict[str, int], report_fd: int, job_path: Path, reporter: Reporter
) -> bytes:
    """Relay output until the job process reports success or exits; return its report,
    empty when it ended without one."""
    out_dir = job_path / OUTPUT  # made when something is printed: most parts print nothing
    files: dict[str, Any] = {}
    decoders = {part: codecs.getincrementaldecoder("utf-8")("replace") for part in pipes}
    poller = select.poll()
    tags: dict[int, str] = {}  # fd -> its part, "report" or "exit"
    for part, fd in pipes.items():
        os.set_blocking(fd, False)
        poller.register(fd, select.POLLIN)
        tags[fd] = part
    os.set_blocking(report_fd, False)
    poller.register(report_fd, select.POLLIN)
    tags[report_fd] = "report"
    pidfd = os.pidfd_open(pid)
    poller.register(pidfd, select.POLLIN)
    tags[pidfd] = "exit"
    report = bytearray()

    def drain(fd: int, part: str) -> None:
        while True:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                return
            if not data:
                poller.unregister(fd)
                os.close(fd)
                del pipes[part]
                rows = dataset_writer.slice_rows(job_path, int(part)) if part.isdigit() else None
                reporter.part_done(part, rows)
                return
            if part not in files:
                out_dir.mkdir(exist_ok=True)
                files[part] = open(out_dir / part, "ab")
            files[part].write(data)
            files[part].flush()
            text = decoders[part].decode(data)
            if text:
                reporter.output(part, text)

    try:
        reported = exited = False
        while not (reported or exited):
            for fd, _ in poller.poll():
                tag = tags[fd]
                if tag == "exit":
                    exited = True
                elif tag == "report":
                    reported = _read_report(report_fd, report)
                    if reported is None:  # closed: its exit will say why
                        poller.unregister(report_fd)
                elif fd in pipes.values():
                    drain(fd, tag)
        reported = reported or _read_report(report_fd, report) is True  # just before the exit
        for part, fd in list(pipes.items()):  # what was written just before the end
            drain(fd, part)
        return bytes(report) if reported else b""
    finally:
        os.close(report_fd)
        os.close(pidfd)
        for fd in pipes.values():
            os.close(fd)
        for fh in files.values():
            fh.close()


def _kill_job(pid: int) -> None:
    """Stop the job process group: SIGTERM, then SIGKILL after a short grace."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + _TERM_GRACE
    while time.monotonic() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.01)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
    # The slices are not our children: wait until the kernel has torn them down too (a
    # loaded machine takes a moment), so that no process of the job outlives the build.
    deadline = time.monotonic() + _TERM_GRACE
    while _group_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.01)


def _group_alive(pgid: int) -> bool:
    """Whether a process of group `pgid` is still running (zombies do not count)."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                state, _, pgrp = fh.read().rsplit(b")", 1)[1].split()[:3]
        except OSError:
            continue
        if int(pgrp) == pgid and state not in (b"Z", b"X"):
            return True
    return False


def _job_error(spec: JobSpec, status: int) -> JobError:
    try:
        failure = read_json(spec.path / FAILED)
    except (FileNotFoundError, ValueError):
        failure = record_failure(
            spec.path,
            "job",
            "Killed" if status < 0 else "Exit",
            exit_description("the job process", status),
        )
    # The stored output ends with the traceback, as a terminal would have shown it; it is
    # not relayed live, since the caller shows it once, with the JobError.
    part_file = str(failure["sliceno"]) if failure.get("sliceno") is not None else failure["part"]
    if part_file in ("prepare", "synthesis") or part_file.isdigit():
        (spec.path / OUTPUT).mkdir(exist_ok=True)
        with open(spec.path / OUTPUT / part_file, "a", encoding="utf-8") as fh:
            fh.write(
                failure.get("traceback") or f"{failure['exc_type']}: {failure['exc_message']}\n"
            )
    return JobError(
        spec.jobid,
        spec.method.name,
        failure["part"],
        failure["exc_type"],
        failure["exc_message"],
        failure.get("traceback", ""),
        failure.get("sliceno"),
    )


def exit_description(who: str, status: int) -> str:
    """What an exit status says, for a process that left no report of its own."""
    if status < 0:
        name = signal.Signals(-status).name
        hint = " (out of memory?)" if name == "SIGKILL" else ""
        return f"{who} was killed by {name}{hint}"
    return f"{who} exited with status {status} without reporting an error"


def record_failure(
    job_path: Path,
    part: str,
    exc_type: str,
    message: str,
    tb: str = "",
    sliceno: int | None = None,
    name: str = FAILED,
) -> dict:
    """Write a failure record (FAILED.json, or a slice's own file) and return it."""
    failure = {
        "part": part,
        "sliceno": sliceno,
        "exc_type": exc_type,
        "exc_message": message,
        "traceback": tb,
        "time": time.time(),
    }
    write_json(job_path / name, failure)
    return failure


# --- the children's side


def child_main(body: Callable[[], int]) -> None:
    """Run `body` in a forked child and leave with os._exit: never return to the caller's code."""
    status = 1
    try:
        status = body()
    except BaseException:  # noqa: BLE001 - anything left here is a bug; report and exit
        try:
            traceback.print_exc()
        except BaseException:  # noqa: BLE001
            pass
    finally:
        os._exit(status)


def become_child(output_fd: int, leader: bool) -> None:
    """Cut a fresh child loose from the caller: output, signals, parent death."""
    if leader:
        os.setpgid(0, 0)  # the caller stops the whole job by killing this group
    _die_with_parent()
    # _signal, not signal.signal: that one turns the old handler into an enum member and,
    # for Python's own SIGINT handler, makes and catches a ValueError doing so (150 µs).
    _signal.signal(_SIGINT, _SIG_DFL)
    _signal.signal(_SIGTERM, _SIG_DFL)
    _redirect_output(output_fd)
    if not leader:  # the job process waits through analysis: what prepare freed goes back
        _keep_freed_memory()


def _keep_freed_memory() -> None:
    """glibc only: a slice reuses the memory it frees instead of handing it back at once.

    By default glibc unmaps a freed block of a few MB, or trims it off the heap, and the
    next one is faulted in again a zeroed page at a time: a slice of the thumbnailer
    reading 2.5 MB photos took 25,000 page faults and 0.12-0.23 s outside Pillow, against
    7,000 and 0.08-0.10 s this way. A slice ends with its analysis, and what it keeps is
    no more than its peak."""
    if _MALLOPT is not None:
        _MALLOPT(_M_MMAP_THRESHOLD, 32 << 20)  # glibc's largest: bigger blocks still map
        _MALLOPT(_M_TRIM_THRESHOLD, 1 << 30)


def _die_with_parent() -> None:
    """Linux only: SIGKILL this process when the process that forked it dies."""
    if _PRCTL is None:
        return
    parent = os.getppid()
    _PRCTL(_PR_SET_PDEATHSIG, _SIGKILL)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _redirect_output(fd: int) -> None:
    """Point fd 1 and 2, and sys.stdout and sys.stderr, at `fd`.

    The old sys.stdout may be a kernel's stream that talks to its sockets; it must not be
    used here, so logging handlers that wrote to it are moved to the new streams too.
    """
    old = (sys.stdout, sys.stderr)
    try:
        old[0].flush()
    except Exception:  # noqa: BLE001 - a kernel stream may refuse in a child
        pass
    placeholder, out, err = child_streams()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.dup2(fd, placeholder, inheritable=False)
    if fd > 2:
        os.close(fd)
    sys.stdout, sys.stderr = out, err
    for handler in logging.root.handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream in old:
            handler.stream = sys.stderr


def _output_fds() -> tuple[int, int, int]:
    """Every fd of this child on its output pipe: the caller sees the pipe end when all
    are closed (a part counts as done then), so a child closes them all before reporting."""
    return 1, 2, child_streams()[0]


_child_streams: tuple[int, TextIO, TextIO] | None = None


def child_streams() -> tuple[int, TextIO, TextIO]:
    """The sys.stdout and sys.stderr of forked children, made once, in the caller.

    Making a text stream costs a forked child about 40 page copies (150 µs). These two
    write to a placeholder fd, a pipe of the caller's that nobody reads (so never seekable,
    whatever the caller's own stdout is); a child points the placeholder at its own pipe.
    The caller never writes to them.
    """
    global _child_streams
    if _child_streams is None:
        read_end, placeholder = os.pipe()
        os.close(read_end)

        def stream() -> TextIO:
            return open(  # noqa: SIM115 - lives as long as the process
                placeholder,
                "w",
                buffering=1,
                encoding="utf-8",
                errors="backslashreplace",
                closefd=False,
            )

        _child_streams = (placeholder, stream(), stream())
    return _child_streams


def _switch_output(fd: int) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    flush_c_stdio()
    _redirect_output(fd)


def flush_c_stdio() -> None:
    """C libraries buffer their own stdout; flush it before the fd changes or we exit."""
    if _FFLUSH is not None:
        _FFLUSH(None)


def _enter_job(spec: JobSpec) -> dict[str, Any]:
    """Make this process the job's: accnb.current, the method's module globals (as the
    Accelerator sets them), and the values its functions' arguments are injected from."""
    job = spec.job
    current.job, current.workdir, current.slices = job, spec.workdir, spec.slices
    params = spec.params
    module = spec.method.module
    module.options, module.datasets, module.jobs = params.options, params.datasets, params.jobs
    return {
        "job": job,
        "slices": spec.slices,
        "params": params,
        "options": params.options,
        "datasets": params.datasets,
        "jobs": params.jobs,
    }


def _job_process(spec: JobSpec, outputs: dict[str, int], report_fd: int) -> int:
    """Run the job's parts; `outputs` holds the write ends not yet handed on (popped when
    closed); on success, report the timings on `report_fd`."""
    become_child(outputs.pop("prepare"), leader=True)
    threadpools.one_thread_in_child()
    output.reporter_factory = Reporter  # subjobs print to our pipe, never to a kernel display
    os.chdir(spec.path)  # as in the Accelerator: relative file names land in the job
    values = _enter_job(spec)
    timings: dict[str, Any] = {}
    part = "prepare"
    try:
        t = time.monotonic()
        current.part = "prepare"
        finished_early = False
        try:
            values["prepare_res"] = _call(spec.method, "prepare", values)
        except FinishEarly as finish:
            finished_early = True
            result = _result_to_send(spec.path, finish.result)
        dataset_writer._finish_all()
        timings["prepare"] = time.monotonic() - t
        if finished_early:
            return _job_done(timings, result, outputs, report_fd)
        part = "analysis"
        t = time.monotonic()
        wanted = "analysis_res" in spec.method.arguments.get("synthesis", ())
        results: dict[int, bytes] | None = {} if wanted else None
        if spec.method.function("analysis") is not None:
            timings["per_slice"] = spec.executor.run_slices(spec, values, outputs, results)
        else:
            for n in range(spec.slices):
                os.close(outputs.pop(str(n)))
        timings["analysis"] = time.monotonic() - t
        part = "synthesis"
        _switch_output(outputs.pop("synthesis"))
        current.part = "synthesis"
        t = time.monotonic()
        if results is not None:
            values["analysis_res"] = AnalysisResults(spec.path, spec.slices, results)
        try:
            result = _call(spec.method, "synthesis", values)
        except FinishEarly as finish:
            result = finish.result
        result = _result_to_send(spec.path, result)
        dataset_writer._finish_all()
        timings["synthesis"] = time.monotonic() - t
        return _job_done(timings, result, outputs, report_fd)
    except SliceFailed:
        dataset_writer._discard_all()
        return 1
    except BaseException as e:  # noqa: BLE001 - reported to the caller as JobError
        dataset_writer._discard_all()
        _report(spec.path, part, e)
        return 1


def _result_to_send(job_path: Path, result: Any) -> bytes:
    """The job's result pickled, for the caller to save; b"" when there is none, or when
    it is large and saved here."""
    return b"" if result is None else _small_or_saved(result, job_path, RESULT)


def _small_or_saved(value: Any, job_path: Path, name: str) -> bytes:
    """`value` pickled, to send on a report pipe; when that is large, it is saved in the
    job as `name` instead and b"" returned (a pipe would hold it all in the receiver's
    memory). The path is made only then: pathlib costs a forked child 40 page copies."""
    data = _pickle(value)
    if len(data) <= _SEND_LIMIT:
        return data
    write_direct(job_path / name, data)
    return b""


def _pickle(value: Any) -> bytes:
    return pickle.dumps(value, pickle.HIGHEST_PROTOCOL)


def debug_run(spec: JobSpec, sliceno: int) -> Any:
    """Run prepare, slice `sliceno` and synthesis here, in the calling process, and return
    what synthesis returned: nothing is forked, so breakpoint() and %debug reach the
    method's own lines, and exceptions arrive as they were raised. The job is never
    marked finished and its datasets are discarded (only one slice of them was written);
    synthesis sees that one slice's result in analysis_res.
    """
    if not 0 <= sliceno < spec.slices:
        raise ValueError(f"debug slice must be in 0..{spec.slices - 1}, got {sliceno}")
    saved_cwd = os.getcwd()
    saved = (current.job, current.workdir, current.slices, current.sliceno, current.part)
    values = _enter_job(spec)
    os.chdir(spec.path)
    try:
        current.part = "prepare"
        values["prepare_res"] = _call(spec.method, "prepare", values)
        dataset_writer._finish_all()
        current.part, current.sliceno = "analysis", sliceno
        dataset_writer._start_slice(sliceno)
        result = _call(spec.method, "analysis", dict(values, sliceno=sliceno))
        dataset_writer._end_slice(sliceno)
        current.part, current.sliceno = "synthesis", None
        values["analysis_res"] = AnalysisResults(spec.path, [sliceno], {sliceno: _pickle(result)})
        return _call(spec.method, "synthesis", values)
    finally:
        dataset_writer._discard_all()
        os.chdir(saved_cwd)
        current.job, current.workdir, current.slices, current.sliceno, current.part = saved


def _job_done(timings: dict, result: bytes, outputs: dict[str, int], report_fd: int) -> int:
    """Close every output pipe, then report the timings and the pickled result (if it was
    not saved here): the caller has all the output once it reads the report, and needs not
    wait for this process to be torn down."""
    sys.stdout.flush()
    sys.stderr.flush()
    flush_c_stdio()
    for fd in [*_output_fds(), *outputs.values()]:
        os.close(fd)
    # marshal, not json: json's encoder would cost this process 60 page copies (0.3 ms)
    _report_success(report_fd, marshal.dumps((timings, result)))
    reap_exited()  # the slices, still exiting
    return 0


class ForkExecutor:
    """Runs each analysis slice in a process forked from the job process (the default).

    An executor's `run_slices` runs every slice, each through `run_slice`, writes what a
    slice prints to `outputs[str(sliceno)]` (a pipe the caller relays), and returns the
    slices' durations; when a slice fails it stops the others, makes the failure the
    job's with `promote_slice_failure`, and raises SliceFailed. When synthesis wants
    the slices' results, `results` is a dict: an executor puts there the pickled results
    it received; any other a slice saves in its file (`results.slice_result_path`). Here,
    a slice sends its result with its report unless it is large.
    """

    def run_slices(
        self, spec: JobSpec, values: dict, outputs: dict[str, int], results: dict | None
    ) -> list[float]:
        started = time.monotonic()
        # Every pipe first, then the forks back to back: a fork makes this process's pages
        # shared, and each page written after it is copied, so nothing is done between them.
        owns = [outputs.pop(str(n)) for n in range(spec.slices)]
        reports = [os.pipe() for _ in owns]
        pids = []
        try:
            for n, own in enumerate(owns):
                pid = fork()
                if pid == 0:
                    report_write = reports[n][1]
                    others = [*owns, *(fd for pipe in reports for fd in pipe), *outputs.values()]
                    for fd in others:
                        if fd not in (own, report_write):
                            os.close(fd)
                    keep = results is not None
                    child_main(
                        partial(self._slice_process, spec, n, values, own, report_write, keep)
                    )
                pids.append(pid)
        except BaseException:  # a fork failed: no slice runs on, no pipe stays open
            _stop(pids)
            for fd in [*owns, *(fd for pipe in reports for fd in pipe)]:
                os.close(fd)
            raise
        slices = []
        for n, pid in enumerate(pids):
            os.close(owns[n])
            os.close(reports[n][1])
            slices.append(_Slice(n, pid, reports[n][0]))
        try:
            return self._wait_for_reports(spec, slices, started, results)
        finally:
            for s in slices:
                for fd in s.fds:
                    os.close(fd)

    @staticmethod
    def _wait_for_reports(
        spec: JobSpec, slices: list[_Slice], started: float, results: dict | None
    ) -> list[float]:
        """Wait until every slice reported success (each is left to exit on its own), or
        one exits without a report: then stop the others and raise SliceFailed."""
        durations = [0.0] * spec.slices
        pending = {s.sliceno: s for s in slices}
        poller = select.poll()  # not selectors: that would cost 50 page copies (0.3 ms) here
        owners = {}
        for s in slices:
            for fd in s.fds:
                poller.register(fd, select.POLLIN)
                owners[fd] = s
        while pending:
            for fd, _ in poller.poll():
                s = owners[fd]
                if s.sliceno not in pending:
                    continue
                reported = _read_report(s.report_fd, s.report)
                if reported:
                    del pending[s.sliceno]
                    durations[s.sliceno] = time.monotonic() - started
                    body = _report_body(s.report)
                    if results is not None and body:
                        results[s.sliceno] = body
                    _exiting.append(s.pid)
                    for own in s.fds:
                        poller.unregister(own)
                elif fd == s.pidfd:  # it exited without a report
                    _, status = os.waitpid(s.pid, 0)
                    del pending[s.sliceno]
                    _stop([p.pid for p in pending.values()])
                    code = os.waitstatus_to_exitcode(status)
                    description = exit_description(f"slice {s.sliceno}", code)
                    promote_slice_failure(spec.path, s.sliceno, description, code < 0)
                    raise SliceFailed()
                elif reported is None:  # closed: its exit will say why
                    poller.unregister(s.report_fd)
        return durations

    @staticmethod
    def _slice_process(
        spec: JobSpec,
        sliceno: int,
        values: dict,
        output_fd: int,
        report_fd: int,
        keep_result: bool,
    ) -> int:
        become_child(output_fd, leader=False)
        sent = []  # the pickled result, when wanted and small

        def keep(result: Any) -> None:
            sent.append(_small_or_saved(result, spec.path, slice_result_name(sliceno)))

        ok = run_slice(spec, sliceno, values, keep if keep_result else None)
        sys.stdout.flush()
        sys.stderr.flush()
        flush_c_stdio()
        if not ok:
            return 1
        for fd in _output_fds():
            os.close(fd)
        _report_success(report_fd, sent[0] if sent else b"")
        return 0


class _Slice:
    """A forked slice as the job process watches it: its report pipe and its pidfd."""

    def __init__(self, sliceno: int, pid: int, report_fd: int) -> None:
        self.sliceno, self.pid, self.report_fd = sliceno, pid, report_fd
        os.set_blocking(report_fd, False)
        self.pidfd = os.pidfd_open(pid)
        self.report = bytearray()

    @property
    def fds(self) -> tuple[int, int]:
        return self.report_fd, self.pidfd


def _stop(pids: list[int]) -> None:
    """A slice failed, or could not be forked: kill these slices, and reap them and the
    ones that finished."""
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    for pid in pids:
        os.waitpid(pid, 0)
    reap_exited()


class SliceFailed(Exception):  # noqa: N818 - control flow: the failure is already recorded
    """A slice failed and the failure is recorded; the job process only has to stop."""


def run_slice(
    spec: JobSpec, sliceno: int, values: dict, keep: Callable[[Any], None] | None
) -> bool:
    """Run one slice's analysis where we are, handing its result to `keep` (when synthesis
    wants it); on failure record it and return False."""
    current.sliceno, current.part = sliceno, "analysis"
    try:
        dataset_writer._start_slice(sliceno)
        result = _call(spec.method, "analysis", dict(values, sliceno=sliceno))
        if keep is not None:
            keep(result)
        dataset_writer._end_slice(sliceno)
    except BaseException as e:  # noqa: BLE001 - reported to the job process by file
        record_slice_failure(
            spec.path, sliceno, type(e).__name__, str(e), format_method_traceback(e)
        )
        return False
    return True


def slice_failure_file(sliceno: int) -> str:
    """Where a slice records its own failure, for the job process to make it the job's."""
    return f".failed.{sliceno}.json"


def record_slice_failure(
    job_path: Path, sliceno: int, exc_type: str, message: str, tb: str = ""
) -> None:
    record_failure(
        job_path,
        f"analysis({sliceno})",
        exc_type,
        message,
        tb,
        sliceno,
        slice_failure_file(sliceno),
    )


def promote_slice_failure(job_path: Path, sliceno: int, description: str, killed: bool) -> None:
    """Make a slice's failure the job's: its own report, or `description` when it left none."""
    report = job_path / slice_failure_file(sliceno)
    try:
        report.rename(job_path / FAILED)
    except FileNotFoundError:
        record_failure(
            job_path,
            f"analysis({sliceno})",
            "Killed" if killed else "Exit",
            description,
            sliceno=sliceno,
        )


def _call(method: Method, part: str, values: dict) -> Any:
    func = method.function(part)
    if func is None:
        return None
    return func(**{name: values[name] for name in method.arguments[part]})


def _report(job_path: Path, part: str, exc: BaseException) -> None:
    """Make an exception in prepare or synthesis the job's failure."""
    record_failure(job_path, part, type(exc).__name__, str(exc), format_method_traceback(exc))


def format_method_traceback(exc: BaseException) -> str:
    """The traceback of `exc` as the method's author needs it: accnb's own frames left out.

    ACCNB_FULL_TRACEBACK=1 keeps them, for debugging accnb itself.
    """
    te = traceback.TracebackException.from_exception(exc)
    if not os.environ.get("ACCNB_FULL_TRACEBACK"):
        _drop_internal_frames(te)
    return "".join(te.format())


def _drop_internal_frames(te: traceback.TracebackException) -> None:
    seen = set()
    while te is not None and id(te) not in seen:
        seen.add(id(te))
        te.stack = traceback.StackSummary.from_list(
            [frame for frame in te.stack if not frame.filename.startswith(_PACKAGE_DIR)]
        )
        te = te.__cause__ or te.__context__
