"""The `accnb` command, run as a user runs it: in a project folder, output and exit codes."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

SUMS = """
description = "Sums the numbers below n, in slices."
options = dict(n=10, label=str, tags=[str])

def prepare(options):
    print("summing below", options.n)
    return options.n

def analysis(sliceno, slices, prepare_res):
    return sum(range(sliceno, prepare_res, slices))

def synthesis(analysis_res, job):
    with job.open("total.txt", "w") as fh:
        fh.write("done")
    return analysis_res.merge_auto()
"""

TABLE = """
jobs = ("source",)

def synthesis(job, jobs):
    dw = job.datasetwriter()
    dw.add("n", "int64")
    dw.set_slice(0)
    dw.write(jobs.source.load())
    dw.set_slice(1)
    dw.write(3)
"""

FAILS = """
def analysis(sliceno):
    if sliceno == 1:
        return {}["missing"]
"""


@pytest.fixture
def project(tmp_path: Path, write_method) -> Path:
    """A project folder: methods sums, table and fails, and a build.py of sums and table."""
    write_method("sums", SUMS)
    write_method("table", TABLE)
    write_method("fails", FAILS)
    script(tmp_path, "build.py", 's = urd.build("sums", n=100)\nurd.build("table", source=s)')
    return tmp_path


def script(folder: Path, name: str, body: str) -> Path:
    """A build script whose main(urd) runs `body`."""
    path = folder / name
    path.write_text("def main(urd):\n" + textwrap.indent(body, "    ") + "\n")
    return path


@contextlib.contextmanager
def being_built(workdir: Path, jobid: str) -> Iterator[Path]:
    """A job directory of sums whose reuse key is locked, as while its build runs."""
    path = workdir / jobid
    path.mkdir()
    (path / "setup.json").write_text(json.dumps({"method": "sums", "reuse_key": "k"}))
    fd = os.open(workdir / ".accnb" / "locks" / "k", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield path
    finally:
        os.close(fd)


def accnb(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    if args and args[0] == "run":
        args = (*args, "--slices", "2")
    return subprocess.run(
        [sys.executable, "-m", "accnb", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_one_line_error(result: subprocess.CompletedProcess, code: int) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


# --- accnb run


def test_run_builds_the_build_script_s_jobs_and_prints_a_line_per_build(project):
    out = ok(accnb(project, "run"))
    assert "[prepare] summing below 100" in out  # the job's own output, relayed live
    lines = [line.split() for line in out.splitlines() if not line.startswith("[")]
    assert [line[:3] for line in lines] == [
        ["workdir-0", "sums", "built"],
        ["workdir-1", "table", "built"],
    ]
    assert (project / "workdir" / "workdir-1" / "post.json").exists()


def test_a_second_run_reuses_the_finished_jobs(project):
    ok(accnb(project, "run"))
    out = ok(accnb(project, "run"))
    assert out.splitlines() == ["workdir-0 sums reused", "workdir-1 table reused"]


def test_run_name_finds_build_name_py_in_the_methods_folder(project):
    script(project / "methods", "build_small.py", 'urd.build("sums", n=3)')
    out = ok(accnb(project, "run", "small"))
    assert "workdir-0 sums built in" in out


def test_urd_has_the_workdir_and_why_build(project):
    script(project, "explain.py", 'print(urd.workdir.path.name)\nprint(urd.why_build("sums"))')
    out = ok(accnb(project, "run", "explain.py"))
    assert out.splitlines() == [
        "workdir",
        "sums: runs again: no job of method 'sums' has been built in this workdir",
    ]


def test_a_failed_job_exits_1_with_the_method_traceback_and_none_of_accnb(project):
    script(project, "build.py", 'urd.build("fails")')
    result = accnb(project, "run")
    assert result.returncode == 1
    assert result.stderr.startswith("fails (workdir-0) failed in analysis(1): KeyError: 'missing'")
    assert 'methods/a_fails.py", line 4, in analysis' in result.stderr
    assert "accnb/" not in result.stderr


def test_an_exception_in_the_build_script_shows_its_traceback_without_accnb_frames(project):
    script(project, "build.py", 'urd.build("sums")\nraise ValueError("the script is wrong")')
    result = accnb(project, "run")
    assert result.returncode == 1
    assert 'build.py", line 3, in main' in result.stderr
    assert result.stderr.endswith("ValueError: the script is wrong\n")
    assert "accnb/" not in result.stderr


# --- accnb jobs and accnb job


def test_jobs_lists_each_job_with_method_state_time_and_use_as_input(project):
    ok(accnb(project, "run"))
    script(project, "build.py", 'urd.build("fails")')
    accnb(project, "run")
    table = ok(accnb(project, "jobs")).split("\n\n")[0].splitlines()
    assert table[0].split() == ["job", "method", "state", "time", "used", "by"]
    rows = [line.split() for line in table[1:]]
    assert [(r[0], r[1], r[2], r[-1]) for r in rows] == [
        ("workdir-0", "sums", "finished", "1"),
        ("workdir-1", "table", "finished", "0"),
        ("workdir-2", "fails", "failed", "0"),
    ]
    assert rows[0][4] == "s" and float(rows[0][3]) >= 0
    assert rows[2][3] == "-"


def test_jobs_says_building_for_a_job_whose_build_holds_its_lock(project):
    ok(accnb(project, "run"))
    with being_built(project / "workdir", "workdir-2"):
        out = ok(accnb(project, "jobs"))
    assert "workdir-2  sums    building" in out


def test_jobs_method_lists_only_that_method_s_jobs(project):
    ok(accnb(project, "run"))
    out = ok(accnb(project, "jobs", "--method", "table"))
    assert "workdir-1" in out and "workdir-0" not in out


def test_jobs_ends_with_the_space_used_per_method(project):
    ok(accnb(project, "run"))
    out = ok(accnb(project, "jobs"))
    space = out.split("space used:\n")[1].splitlines()
    assert [line.split()[0] for line in space] == ["sums", "table", ".accnb", "total"]
    assert space[0].split()[2:] == ["KiB", "1", "job"]


def test_du_shows_the_space_per_method_then_failed_jobs_then_accnb(project):
    ok(accnb(project, "run"))
    script(project, "build.py", 'urd.build("fails")')
    accnb(project, "run")
    rows = [line.split() for line in ok(accnb(project, "du")).splitlines()]
    assert rows[0] == ["space", "used:"]
    assert [(row[0], row[3:]) for row in rows[1:]] == [
        ("sums", ["1", "job"]),
        ("table", ["1", "job"]),
        ("(failed)", ["1", "job"]),
        (".accnb", []),
        ("total", []),
    ]
    sizes = [float(row[1]) * {"B": 1 / 1024, "KiB": 1, "MiB": 1024}[row[2]] for row in rows[1:]]
    assert all(size > 0 for size in sizes)
    assert sum(sizes[:-1]) == pytest.approx(sizes[-1], abs=0.2)


def test_job_shows_options_inputs_result_files_and_output(project):
    ok(accnb(project, "run"))
    out = ok(accnb(project, "job", "workdir-0"))
    assert out.splitlines()[0] == "workdir-0  sums  finished"
    assert "options    label = None, n = 100, tags = []\n" in out
    assert "result     4950\n" in out
    assert "files      result.pickle, total.txt\n" in out
    assert out.endswith("output:\n[prepare] summing below 100\n")
    assert "inputs     source = workdir-0\n" in ok(accnb(project, "job", "workdir-1"))


def test_job_shows_datasets_with_their_columns_and_lines(project):
    ok(accnb(project, "run"))
    out = ok(accnb(project, "job", "workdir-1"))
    assert "datasets:\n  default: 2 lines, columns n (int64)\n" in out


def test_job_shows_where_a_failed_job_failed(project):
    script(project, "build.py", 'urd.build("fails")')
    accnb(project, "run")
    out = ok(accnb(project, "job", "workdir-0"))
    assert out.splitlines()[0] == "workdir-0  fails  failed"
    assert "failed     in analysis(1): KeyError: 'missing'\n" in out


# --- accnb method


def test_method_shows_source_description_options_and_inputs(project):
    out = ok(accnb(project, "method", "sums"))
    assert f"source     {project / 'methods' / 'a_sums.py'}\n" in out
    assert "description:\n  Sums the numbers below n, in slices.\n" in out
    options = out.split("options:\n")[1].splitlines()[:3]
    assert [line.split() for line in options] == [
        ["label", "str", "default", "None"],
        ["n", "int", "default", "10"],
        ["tags", "list", "of", "str", "default", "[]"],
    ]
    assert "jobs       source\n" in ok(accnb(project, "method", "table"))


# --- accnb gc


def test_gc_removes_failed_jobs_and_keeps_finished_ones(project):
    ok(accnb(project, "run"))
    (project / "build.py").rename(project / "again.py")
    script(project, "build.py", 'urd.build("fails")')
    assert accnb(project, "run").returncode == 1
    out = ok(accnb(project, "gc"))
    assert out.splitlines()[0].startswith("removed workdir-2 (fails, failed, ")
    assert "freed " in out
    workdir = project / "workdir"
    assert sorted(p.name for p in workdir.iterdir()) == [".accnb", "workdir-0", "workdir-1"]
    assert "workdir-0 sums reused" in ok(accnb(project, "run", "again.py"))


def test_gc_counts_the_lock_files_and_spare_folders_it_removes(project):
    ok(accnb(project, "run"))
    spares = project / "workdir" / ".accnb" / "spare"
    assert list(spares.iterdir()) == []  # the run's own went when it ended
    (spares / "1-left-by-a-killed-kernel").mkdir()
    out = ok(accnb(project, "gc"))
    assert "removed 1 unused spare job folder\n" in out
    assert re.search(r"^removed \d+ unused lock files?$", out, re.M)
    assert list(spares.iterdir()) == []


def test_gc_dry_run_says_what_it_would_remove_and_removes_nothing(project):
    script(project, "build.py", 'urd.build("fails")')
    accnb(project, "run")
    out = ok(accnb(project, "gc", "--dry-run"))
    assert out.startswith("would remove workdir-0 (fails, failed, ")
    assert (project / "workdir" / "workdir-0").is_dir()


def test_gc_leaves_a_job_that_is_being_built(project):
    ok(accnb(project, "run"))
    with being_built(project / "workdir", "workdir-2") as building:
        out = ok(accnb(project, "gc"))
    assert "kept workdir-2: being built" in out
    assert building.is_dir()
    assert "removed workdir-2 (sums, unfinished, " in ok(accnb(project, "gc"))


# --- errors: one line, no traceback


def test_an_unknown_method_is_one_line_suggesting_close_names(project):
    err = assert_one_line_error(accnb(project, "method", "sum"), 2)
    assert "unknown method 'sum'" in err and "did you mean sums" in err


def test_a_syntax_error_in_a_method_is_one_line_naming_the_build_line_and_the_method_line(
    project, write_method
):
    write_method("broken", "def analysis(:\n    pass\n")
    script(project, "build.py", 'urd.build("broken")')
    err = assert_one_line_error(accnb(project, "run"), 1)
    assert err.startswith("accnb: build.py:2: method 'broken' has a syntax error at ")
    assert "a_broken.py:1" in err


def test_an_error_in_a_build_call_is_one_line_naming_the_script_line(project):
    script(project, "build.py", 'urd.build("sums", m=3)')
    err = assert_one_line_error(accnb(project, "run"), 1)
    assert err.startswith("accnb: build.py:2: sums: unknown option 'm'")


@pytest.mark.parametrize("command", [["jobs"], ["job", "workdir-0"], ["gc"], ["du"]])
def test_a_missing_workdir_is_one_line_and_is_not_created(project, command):
    err = assert_one_line_error(accnb(project, *command, "--workdir", "elsewhere"), 2)
    assert "workdir 'elsewhere' does not exist" in err
    assert not (project / "elsewhere").exists()


def test_an_unknown_job_id_is_one_line(project):
    ok(accnb(project, "run"))
    err = assert_one_line_error(accnb(project, "job", "workdir-7"), 2)
    assert "no job 'workdir-7'" in err


def test_a_missing_build_script_is_one_line(project):
    err = assert_one_line_error(accnb(project, "run", "nightly"), 2)
    assert "no build script 'nightly'" in err and "build_nightly.py" in err
    (project / "build.py").unlink()
    assert "no build.py here" in assert_one_line_error(accnb(project, "run"), 2)


def test_no_command_prints_usage_and_exits_2(project):
    result = accnb(project)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: accnb")


def test_demo_runs_the_image_pipeline_from_the_command_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "accnb", "demo", "here"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "17 imported, 4 rejected" in result.stdout
    assert len(list((tmp_path / "here" / "workdir").glob("workdir-3/export/**/*.jpg"))) == 17


# --- accnb urd


def test_urd_shows_lists_sessions_and_one_session_as_ax_urd_does(project):
    script(
        project,
        "sessions.py",
        "for ts in (1, 2):\n"
        '    urd.begin("me/sums", ts, caption=f"run {ts}")\n'
        '    urd.build("sums", n=10 * ts)\n'
        '    urd.finish("me/sums")',
    )
    ok(accnb(project, "run", "sessions.py"))
    assert ok(accnb(project, "urd")).split() == ["me/sums", "2", "sessions"]
    assert ok(accnb(project, "urd", "me/sums")).splitlines() == [
        "1  1 job  run 1",
        "2  1 job  run 2",
    ]
    assert ok(accnb(project, "urd", "me/sums/since/1")).splitlines() == ["2  1 job  run 2"]
    latest = ok(accnb(project, "urd", "me/sums/latest"))
    assert "run 2" in latest and "timestamp" in latest
    jobs = latest.split("jobs\n")[1].split()
    assert jobs[0] == "sums" and jobs[1].startswith("workdir-")
    first = ok(accnb(project, "urd", "me/sums/1"))
    assert "run 1" in first and jobs[1] not in first  # another job: n differed


def test_urd_shows_a_session_whose_job_folder_is_gone(project):
    # a session names jobs by id and name: showing it needs none of their folders
    script(
        project,
        "one.py",
        'urd.begin("me/sums", 1)\nurd.build("sums", name="total")\nurd.finish("me/sums")',
    )
    ok(accnb(project, "run", "one.py"))
    [folder] = (project / "workdir").glob("workdir-*")
    shutil.rmtree(folder)
    shown = ok(accnb(project, "urd", "me/sums/1"))
    assert shown.split("jobs\n")[1].split() == ["total", folder.name]


def test_urd_names_what_is_missing_in_one_line(project):
    ok(accnb(project, "run"))  # a workdir whose build script records no session
    assert "no Urd lists" in ok(accnb(project, "urd"))
    assert "no Urd list 'me/nothing'" in assert_one_line_error(
        accnb(project, "urd", "me/nothing"), 2
    )
    script(project, "one.py", 'urd.begin("mine", 1)\nurd.build("sums")\nurd.finish("mine")')
    ok(accnb(project, "run", "one.py"))
    own = os.environ.get("USER") or "accnb"
    assert f"{own}/mine" in ok(accnb(project, "urd"))
    assert "timestamp" in ok(accnb(project, "urd", "mine/1"))  # NAME/TS: a list of your own
    missing = assert_one_line_error(accnb(project, "urd", "mine/2"), 2)
    assert f"no session 2 in Urd list '{own}/mine'" in missing
