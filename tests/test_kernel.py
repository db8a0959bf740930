"""Builds inside a live Jupyter kernel: the interrupt button, and forking a threaded kernel."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from jupyter_client.manager import KernelManager
from processes import alive


@pytest.fixture
def kernel(tmp_path: Path):
    km = KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(tmp_path))
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    yield km, kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def execute(kc, code: str, timeout: float = 60) -> tuple[dict, str]:
    """Run code, return (the execute reply's content, everything it printed)."""
    msg_id = kc.execute(code)
    printed = []
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            printed.append(msg["content"]["text"])
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    return shell_reply(kc, msg_id, timeout)["content"], "".join(printed)


def shell_reply(kc, msg_id: str, timeout: float = 30) -> dict:
    """The reply to request msg_id: under load wait_for_ready may have asked more than
    once, and the extra kernel_info replies wait on the shell channel before it."""
    while True:
        reply = kc.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply


def test_the_interrupt_button_ends_every_child_within_two_seconds(kernel, tmp_path):
    km, kc = kernel
    pids = tmp_path / "pids"
    pids.mkdir()
    setup = """
%load_ext accnb
%accnb workdir wd --slices 2
"""
    method = f"""%%accmethod sleeper
import os, time
def prepare():
    open(os.path.join({str(pids)!r}, str(os.getpid())), "w").close()
def analysis(sliceno):
    open(os.path.join({str(pids)!r}, str(os.getpid())), "w").close()
    time.sleep(120)
"""
    assert execute(kc, setup)[0]["status"] == "ok"
    assert execute(kc, method)[0]["status"] == "ok"
    # stop_on_error=False: otherwise ipykernel aborts whatever request reaches it while it
    # handles the error, and the check below can race that (a Run All's later cells are
    # meant to be aborted; this is not about them).
    msg_id = kc.execute("build('sleeper')", stop_on_error=False)
    deadline = time.monotonic() + 30
    while len(list(pids.iterdir())) < 3:
        assert time.monotonic() < deadline, "the job did not start"
        time.sleep(0.02)
    km.interrupt_kernel()
    interrupted = time.monotonic()
    children = [int(p.name) for p in pids.iterdir()]
    while any(alive(pid) for pid in children):
        assert time.monotonic() - interrupted < 2, "a child outlived the interrupt by 2 s"
        time.sleep(0.02)
    reply = shell_reply(kc, msg_id)
    assert (
        reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
    )
    content, printed = execute(kc, "print(6 * 7)")
    assert content["status"] == "ok" and printed.strip() == "42"


def test_the_interrupt_button_during_the_commit_leaves_the_job_finished(kernel, tmp_path):
    """The job has run to the end when the button is pressed: the interrupt waits for the
    commit (slowed here to a second) and the next build reuses the job."""
    km, kc = kernel
    committing = tmp_path / "committing"
    setup = f"""
%load_ext accnb
%accnb workdir wd --slices 2
import time
import accnb
store = accnb.current_workdir().store
commit = store.commit
def slow_commit(*args):
    open({str(committing)!r}, "w").close()
    time.sleep(1)
    return commit(*args)
store.commit = slow_commit
"""
    method = "%%accmethod quick\ndef synthesis():\n    return 42\n"
    assert execute(kc, setup)[0]["status"] == "ok"
    assert execute(kc, method)[0]["status"] == "ok"
    msg_id = kc.execute("job = build('quick')", stop_on_error=False)
    deadline = time.monotonic() + 30
    while not committing.exists():
        assert time.monotonic() < deadline, "the job did not reach its commit"
        time.sleep(0.01)
    km.interrupt_kernel()
    reply = shell_reply(kc, msg_id)
    assert reply["content"]["ename"] == "KeyboardInterrupt"
    content, printed = execute(kc, "store.commit = commit\nprint(build('quick').reused)")
    assert content["status"] == "ok" and printed.strip().endswith("True")


def test_forking_from_a_kernel_with_busy_threads_does_not_deadlock(kernel):
    """A thread holding a lock while we fork: the children must not need that lock."""
    _, kc = kernel
    code = """
%load_ext accnb
%accnb workdir wd --slices 2
import logging, threading, time
logging.basicConfig()                       # a handler whose stream is the kernel's stderr
lock = threading.Lock()
def hold():
    while True:
        with lock:
            time.sleep(0.001)
threading.Thread(target=hold, daemon=True).start()
"""
    method = """%%accmethod logs
import logging, sys
options = dict(n=0)
def analysis(sliceno):
    logging.getLogger("m").warning("slice %d logs", sliceno)
    print("slice", sliceno, "prints", file=sys.stderr)
def synthesis(options):
    return options.n
"""
    assert execute(kc, code)[0]["status"] == "ok"
    assert execute(kc, method)[0]["status"] == "ok"
    build_ten = "print([build('logs', n=n).load() for n in range(10)])"
    content, printed = execute(kc, build_ten, timeout=60)
    assert content["status"] == "ok"
    assert printed.strip().splitlines()[-1] == str(list(range(10)))
    content, printed = execute(kc, "print(build('logs', n=3).output(1))")
    assert printed.strip().splitlines() == ["WARNING:m:slice 1 logs", "slice 1 prints"]
