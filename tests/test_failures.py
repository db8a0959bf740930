"""When jobs fail: clear errors, stopped slices, nothing half-finished, no process left."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from processes import alive, pids_in

from accnb import JobError, runner
from accnb.job import FAILED


def test_a_failing_slice_raises_job_error_pointing_at_the_method_line(wd, write_method):
    path = write_method(
        "fails",
        """
        def analysis(sliceno):
            if sliceno == 1:
                values = {}
                return values["missing"]
    """,
    )
    with pytest.raises(JobError) as err:
        wd.build("fails", relay=lambda part, text: None)
    e = err.value
    assert e.part == "analysis(1)" and e.sliceno == 1
    assert e.exc_type == "KeyError" and "missing" in e.exc_message
    assert f'File "{path}", line 5, in analysis' in e.method_traceback
    assert "accnb/runner.py" not in e.method_traceback


def test_a_failure_in_prepare_or_synthesis_names_the_part(wd, write_method):
    write_method("p", "def prepare():\n    raise RuntimeError('no data')\n")
    write_method("s", "def synthesis():\n    1 / 0\n")
    with pytest.raises(JobError, match="failed in prepare: RuntimeError: no data"):
        wd.build("p")
    with pytest.raises(JobError, match="failed in synthesis: ZeroDivisionError"):
        wd.build("s")


def test_a_failed_job_is_kept_marked_failed_and_never_reused(wd, write_method, tmp_path):
    marker = tmp_path / "fail"
    marker.touch()
    write_method(
        "flaky",
        f"""
        import os
        def synthesis():
            if os.path.exists({str(marker)!r}):
                raise RuntimeError("flaky")
            return "ok"
    """,
    )
    with pytest.raises(JobError):
        wd.build("flaky")
    failed = wd.jobs()[0]
    assert not failed.finished and (failed.path / FAILED).exists()
    marker.unlink()
    job = wd.build("flaky")
    assert job != failed and job.load() == "ok" and not job.reused


def test_the_other_slices_are_stopped_when_one_fails(wd, write_method, tmp_path):
    pids = tmp_path / "pids"
    pids.mkdir()
    write_method(
        "stuck",
        f"""
        import os, time
        def analysis(sliceno):
            open(os.path.join({str(pids)!r}, str(os.getpid())), "w").close()
            if sliceno == 0:
                time.sleep(60)
            while len(os.listdir({str(pids)!r})) < 2:
                time.sleep(0.01)
            raise ValueError("slice 1 gives up")
    """,
    )
    started = time.monotonic()
    with pytest.raises(JobError, match="analysis\\(1\\)"):
        wd.build("stuck")
    assert time.monotonic() - started < 30  # did not wait for the sleeping slice
    assert not any(alive(pid) for pid in pids_in(pids))


def test_a_slice_killed_by_a_signal_is_reported_with_the_signal(wd, write_method):
    write_method(
        "oom",
        """
        import os, signal
        def analysis(sliceno):
            if sliceno == 0:
                os.kill(os.getpid(), signal.SIGKILL)
    """,
    )
    with pytest.raises(JobError, match="slice 0 was killed by SIGKILL") as err:
        wd.build("oom")
    assert err.value.part == "analysis(0)"


def test_an_unpicklable_exception_still_reports(wd, write_method):
    write_method(
        "odd",
        """
        class Odd(Exception):
            def __init__(self, a, b):
                super().__init__(f"{a}+{b}")
        def synthesis():
            raise Odd(1, 2)
    """,
    )
    with pytest.raises(JobError, match="Odd: 1\\+2"):
        wd.build("odd")


def test_keyboard_interrupt_stops_every_child_and_reraises(
    wd, write_method, tmp_path, interruptible
):
    pids = tmp_path / "pids"
    pids.mkdir()
    write_method(
        "long",
        f"""
        import os, time
        def prepare():
            open(os.path.join({str(pids)!r}, str(os.getpid())), "w").close()
        def analysis(sliceno):
            open(os.path.join({str(pids)!r}, str(os.getpid())), "w").close()
            time.sleep(60)
    """,
    )

    def interrupt_when_running():
        deadline = time.monotonic() + 20
        while len(list(pids.iterdir())) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt_when_running, daemon=True).start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        wd.build("long")
    assert time.monotonic() - started < 15
    assert len(pids_in(pids)) == 3
    assert not any(alive(pid) for pid in pids_in(pids))
    job = wd.jobs()[0]
    assert not job.finished and "interrupted" in (job.path / FAILED).read_text()


@pytest.mark.parametrize("where", ["saving the result", "marking it finished"])
def test_an_interrupt_after_the_job_reported_waits_until_it_is_marked_finished(
    wd, monkeypatch, interruptible, where
):
    wd.method("quick", "def synthesis():\n    return 42\n")
    owner, name = (
        (runner, "write_pending") if where == "saving the result" else (wd.store, "commit")
    )
    real = getattr(owner, name)

    def interrupted(*args):
        os.kill(os.getpid(), signal.SIGINT)
        return real(*args)

    monkeypatch.setattr(owner, name, interrupted)
    with pytest.raises(KeyboardInterrupt):
        wd.build("quick")
    monkeypatch.undo()
    job = wd.jobs()[0]
    assert job.finished and job.load() == 42
    again = wd.build("quick")
    assert again.reused and str(again) == str(job)


def _build_in_another_process(wd_path, methods_dir, results):
    import accnb

    wd = accnb.Workdir(wd_path, slices=2, methods=[methods_dir])
    job = wd.build("slow", relay=lambda part, text: None)
    results.put((str(job), job.reused))


def test_two_processes_building_the_same_job_run_it_once(wd, write_method, methods_dir, tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    write_method(
        "slow",
        f"""
        import os, time
        def synthesis():
            open(os.path.join({str(runs)!r}, str(os.getpid())), "w").close()
            time.sleep(1)
            return 42
    """,
    )
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_build_in_another_process, args=(wd.path, methods_dir, results))
        for _ in range(2)
    ]
    for p in procs:
        p.start()
    got = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(10)
    assert len(list(runs.iterdir())) == 1
    assert got[0][0] == got[1][0]
    assert sorted(reused for _, reused in got) == [False, True]
    assert wd.build("slow").load() == 42


def test_a_failure_is_shown_once_but_stored_in_the_output(wd, write_method):
    write_method(
        "fails", "def synthesis():\n    print('before')\n    raise ValueError('shown once')\n"
    )
    relayed = []
    with pytest.raises(JobError):
        wd.build("fails", relay=lambda part, text: relayed.append(text))
    assert "".join(relayed) == "before\n"
    output = wd.jobs()[0].output("synthesis")
    assert output.startswith("before\nTraceback") and output.endswith("ValueError: shown once\n")


def test_a_killed_builder_takes_its_children_along_and_the_next_build_proceeds(
    wd, write_method, methods_dir, tmp_path
):
    pids = tmp_path / "pids"
    pids.mkdir()
    write_method(
        "orphan",
        f"""
        import os, time
        options = dict(wait=True)
        def prepare():
            open(os.path.join({str(pids)!r}, str(os.getpid())), "w").close()
        def analysis(sliceno, options):
            open(os.path.join({str(pids)!r}, str(os.getpid())), "w").close()
            if options.wait:
                time.sleep(120)
        def synthesis():
            return "done"
    """,
    )
    builder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import accnb, sys; "
            f"accnb.Workdir({str(wd.path)!r}, slices=2, methods=[{str(methods_dir)!r}]).build('orphan')",
        ]
    )
    deadline = time.monotonic() + 30
    while len(list(pids.iterdir())) < 3:
        assert time.monotonic() < deadline and builder.poll() is None, "the build did not start"
        time.sleep(0.02)
    builder.kill()
    builder.wait()
    killed = time.monotonic()
    children = pids_in(pids)
    while any(alive(pid) for pid in children):
        assert time.monotonic() - killed < 2, "a child outlived its builder by 2 s"
        time.sleep(0.02)
    unfinished = wd.jobs()[0]
    assert not unfinished.finished
    job = wd.build("orphan", wait=False, relay=lambda part, text: None)
    assert job.load() == "done" and job != unfinished
    assert wd.why_build("orphan").reuses is None  # the unfinished job is never reused


def test_a_slice_that_cannot_be_forked_fails_the_job_and_stops_the_others(
    wd, write_method, tmp_path, monkeypatch
):
    """The job process forks slice 0, then forking slice 1 fails (as when the system is
    out of processes): slice 0 is stopped, and the job fails naming the error."""
    from accnb import runner

    pids = tmp_path / "pids"
    pids.mkdir()
    write_method(
        "waits",
        f"""
        import os, time
        def analysis(sliceno):
            open(os.path.join({str(pids)!r}, str(os.getpid())), "w").close()
            time.sleep(60)
    """,
    )
    forks = []
    real_fork = runner.fork

    def fork():
        forks.append(None)  # the caller's fork of the job process is the first
        if len(forks) == 3:
            while not list(pids.iterdir()):  # slice 0 has started
                time.sleep(0.01)
            raise OSError(11, "Resource temporarily unavailable")
        return real_fork()

    monkeypatch.setattr(runner, "fork", fork)
    started = time.monotonic()
    with pytest.raises(JobError, match="Resource temporarily unavailable"):
        wd.build("waits")
    assert time.monotonic() - started < 30
    assert len(pids_in(pids)) == 1 and not any(alive(pid) for pid in pids_in(pids))
