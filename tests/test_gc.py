"""`accnb gc` on finished jobs: by age and count, never what a staying job uses, and the index."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

import accnb
from accnb.gc import parse_age

DAY = 86400

STEP = """
options = dict(n=0)
jobs = ("source",)
def synthesis(options, jobs):
    return options.n if jobs.source is None else jobs.source.load() + 1
"""

ROWS = """
options = dict(n=1, parent=str, previous=str)
def synthesis(job, options):
    dw = job.datasetwriter(parent=options.parent, previous=options.previous)
    dw.add(f"c{options.n}", "int64")
    for sliceno in (0, 1):
        dw.set_slice(sliceno)
        dw.write(options.n)
"""

SAVES = """
options = dict(n=0)
def synthesis(job, options):
    job.save(options.n, "saved.pickle")
"""

READS = """
from accnb import JobWithFile
options = dict(file=JobWithFile)
def synthesis(options):
    return options.file.load()
"""

PARENT = """
from accnb import subjobs
def synthesis():
    return subjobs.build("step", n=4).load()
"""


@pytest.fixture
def wd(wd):
    """The test's workdir with the methods above registered."""
    return with_methods(wd)


def with_methods(workdir: accnb.Workdir) -> accnb.Workdir:
    for name, source in (
        ("step", STEP),
        ("rows", ROWS),
        ("saves", SAVES),
        ("reads", READS),
        ("parent", PARENT),
    ):
        workdir.method(name, source)
    return workdir


def finished_ago(job: accnb.Job, seconds: float) -> None:
    """Pretend the job finished `seconds` ago."""
    post = json.loads((job.path / "post.json").read_text())
    post["finished"] = time.time() - seconds
    (job.path / "post.json").write_text(json.dumps(post))


def run_gc(wd: accnb.Workdir, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "accnb", "gc", "--workdir", str(wd.path), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def gc(wd: accnb.Workdir, *args: str) -> str:
    result = run_gc(wd, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def remaining(wd: accnb.Workdir) -> list[str]:
    names = [p.name for p in wd.path.iterdir() if p.name.startswith(f"{wd.path.name}-")]
    return sorted(names, key=lambda name: int(name.rpartition("-")[2]))


def indexed(wd: accnb.Workdir) -> list[str]:
    """Job ids in the reuse index, in its order."""
    return [line.split()[1] for line in (wd.path / ".accnb" / "index").read_text().splitlines()]


# --- which finished jobs go


def test_ages_are_a_number_and_a_unit():
    assert [parse_age(t) for t in ("45s", "90m", "12h", "30d", "2w", "1.5h")] == [
        45,
        5400,
        43200,
        30 * DAY,
        14 * DAY,
        5400,
    ]
    with pytest.raises(ValueError, match="such as 30d"):
        parse_age("30")


def test_a_bad_age_is_a_usage_error(wd):
    result = run_gc(wd, "--older-than", "30 days")
    assert result.returncode == 2
    assert "--older-than: expected a number and a unit" in result.stderr


def test_without_a_rule_finished_jobs_stay_however_old(wd):
    old = wd.build("step", n=1)
    finished_ago(old, 400 * DAY)
    out = gc(wd)
    assert remaining(wd) == [old]
    assert old not in out


def test_older_than_removes_finished_jobs_that_finished_longer_ago(wd):
    old = wd.build("step", n=1)
    recent = wd.build("step", n=2)
    finished_ago(old, 31 * DAY)
    finished_ago(recent, 29 * DAY)
    out = gc(wd, "--older-than", "30d")
    assert out.startswith(f"removed {old} (step, finished 31 days ago, ")
    assert remaining(wd) == [recent]


def test_keep_latest_keeps_the_last_finished_jobs_of_each_method_by_finish_time(wd):
    first, second, third = (wd.build("step", n=n) for n in (1, 2, 3))
    only_save = wd.build("saves")
    for job, days in ((first, 1), (second, 3), (third, 5), (only_save, 50)):
        finished_ago(job, days * DAY)
    gc(wd, "--keep-latest", "2")
    assert remaining(wd) == [first, second, only_save]  # third has the highest id, but is oldest


def test_with_both_rules_only_jobs_both_would_remove_go(wd):
    oldest, old_but_latest, recent = (wd.build("step", n=n) for n in (1, 2, 3))
    finished_ago(oldest, 10 * DAY)
    finished_ago(old_but_latest, 5 * DAY)
    finished_ago(recent, 3600)
    gc(wd, "--older-than", "1d", "--keep-latest", "2")
    assert remaining(wd) == [old_but_latest, recent]


# --- what a staying job uses stays


def test_inputs_of_a_kept_job_stay_transitively(wd):
    unused = wd.build("step", n=9)
    first = wd.build("step")
    second = wd.build("step", source=first)
    third = wd.build("step", source=second)
    out = gc(wd, "--keep-latest", "1")
    assert remaining(wd) == [first, second, third]
    assert f"kept {second}: used by {third} (input)\n" in out
    assert f"kept {first}: used by {second} (input)\n" in out
    assert f"removed {unused} (step, " in out


def test_jobs_recorded_in_an_urd_session_stay_with_what_they_use(wd):
    from accnb.urd import Urd

    urd = Urd(wd, user="me")
    unrecorded = wd.build("step", n=9)
    urd.begin("chain", 1)
    first = urd.build("step", n=1)
    recorded = urd.build("step", n=2, source=first)
    urd.finish("chain")
    newest = wd.build("step", n=3)
    out = gc(wd, "--keep-latest", "1")
    assert remaining(wd) == [first, recorded, newest]
    assert f"kept {recorded}: recorded in Urd list me/chain at 1\n" in out
    assert f"removed {unrecorded} (step, " in out
    urd.truncate("chain", 0)  # a session Urd no longer has keeps nothing
    gc(wd, "--keep-latest", "1")
    assert remaining(wd) == [newest]


def test_dataset_parents_and_previous_datasets_of_a_kept_job_stay(wd):
    unused = wd.build("rows", n=9)
    base = wd.build("rows", n=1)
    extended = wd.build("rows", n=2, parent=f"{base}/default")
    following = wd.build("rows", n=3, previous=f"{extended}/default")
    out = gc(wd, "--keep-latest", "1")
    assert remaining(wd) == [base, extended, following]
    assert f"kept {extended}: used by {following} (dataset previous)\n" in out
    assert f"kept {base}: used by {extended} (dataset parent)\n" in out
    assert f"removed {unused} (rows, " in out
    chain = following.dataset().chain()
    assert [sorted(ds.columns) for ds in chain] == [["c1", "c2"], ["c3"]]


def test_the_job_of_a_jobwithfile_option_of_a_kept_job_stays(wd):
    unused = wd.build("saves", n=1)
    saved = wd.build("saves", n=7)
    reader = wd.build("reads", file=saved.withfile("saved.pickle"))
    for job in (unused, saved):
        finished_ago(job, 2 * DAY)
    out = gc(wd, "--older-than", "1d")
    assert remaining(wd) == [saved, reader]
    assert f"kept {saved}: used by {reader} (JobWithFile option)\n" in out


def test_subjobs_of_a_kept_job_stay(wd):
    unused = wd.build("step", n=1)
    parent = wd.build("parent")
    (subjob,) = parent.post["subjobs"]
    for job in (unused, wd.job(subjob)):
        finished_ago(job, 2 * DAY)
    out = gc(wd, "--older-than", "1d")
    assert remaining(wd) == [parent, subjob]
    assert f"kept {subjob}: used by {parent} (subjob)\n" in out


@contextlib.contextmanager
def being_built(wd: accnb.Workdir, jobid: str, inputs: dict) -> Iterator[None]:
    """A job directory whose reuse key is locked, as while its build runs."""
    (wd.path / jobid).mkdir()
    setup = {"method": "step", "reuse_key": "k", "inputs": inputs}
    (wd.path / jobid / "setup.json").write_text(json.dumps(setup))
    fd = os.open(wd.path / ".accnb" / "locks" / "k", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def test_inputs_of_a_job_being_built_stay(wd):
    source = wd.build("step", n=1)
    finished_ago(source, 2 * DAY)
    with being_built(wd, "wd-1", {"source": str(source)}):
        out = gc(wd, "--older-than", "1d")
    assert f"kept {source}: used by wd-1 (input)\n" in out
    assert remaining(wd) == [source, "wd-1"]


# --- dry run


def test_a_dry_run_prints_what_would_go_and_the_space_and_changes_nothing(wd):
    jobs = [wd.build("step", n=n) for n in (1, 2)]
    for job in jobs:
        finished_ago(job, 10 * DAY)
    index = (wd.path / ".accnb" / "index").read_bytes()
    out = gc(wd, "--dry-run", "--older-than", "1d").splitlines()
    pattern = r"would remove (\S+) \(step, finished 10 days ago, (\d+\.\d) KiB\)"
    listed = [re.fullmatch(pattern, line) for line in out if line.startswith("would remove wd-")]
    assert [m.group(1) for m in listed] == jobs
    freed = re.fullmatch(r"would free (\d+\.\d) KiB", out[-1])
    assert float(freed.group(1)) == pytest.approx(sum(float(m.group(2)) for m in listed), abs=0.1)
    assert float(freed.group(1)) > 0
    assert remaining(wd) == jobs
    assert all(job.finished for job in jobs)
    assert (wd.path / ".accnb" / "index").read_bytes() == index


# --- the reuse index


def test_a_removed_job_is_built_again_by_a_new_workdir_and_kept_ones_are_reused(wd):
    old = wd.build("step", n=1)
    recent = wd.build("step", n=2)
    finished_ago(old, 2 * DAY)
    gc(wd, "--older-than", "1d")
    again = with_methods(accnb.Workdir(wd.path, slices=2))
    assert [str(job) for job in again.jobs("step")] == [recent]
    kept = again.build("step", n=2)
    assert kept.reused and kept == recent
    rebuilt = again.build("step", n=1)
    assert not rebuilt.reused and rebuilt not in (old, recent)


def test_a_workdir_open_during_gc_builds_a_removed_job_again(wd):
    old = wd.build("step", n=1)
    finished_ago(old, 2 * DAY)
    gc(wd, "--older-than", "1d")
    rebuilt = wd.build("step", n=1)
    assert not rebuilt.reused and rebuilt != old


def test_the_index_is_replaced_by_a_new_file_without_the_removed_jobs(wd):
    jobs = [wd.build("step", n=n) for n in (1, 2, 3)]
    finished_ago(jobs[1], 2 * DAY)
    inode = (wd.path / ".accnb" / "index").stat().st_ino
    gc(wd, "--older-than", "1d")
    assert indexed(wd) == [jobs[0], jobs[2]]
    assert (wd.path / ".accnb" / "index").stat().st_ino != inode  # readers see it is new


def test_a_job_a_crashed_gc_left_unfinished_is_removed_and_leaves_the_index(wd):
    job = wd.build("step", n=1)
    (job.path / "post.json").unlink()  # as gc leaves it if it dies before deleting the folder
    out = gc(wd)
    assert out.startswith(f"removed {job} (step, unfinished, ")
    assert remaining(wd) == []
    assert indexed(wd) == []


def test_a_job_directory_left_half_made_by_a_crashed_build_is_removed(tmp_path):
    import os
    import subprocess
    import sys

    import accnb

    wd = accnb.Workdir(tmp_path / "wd", slices=2)
    wd.close()
    stale = wd.path / ".new-123-abcd"
    stale.mkdir()
    (stale / "setup.json").write_text("{}")
    os.utime(stale, (0, 0))
    fresh = wd.path / ".new-456-ef01"
    fresh.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "accnb", "gc", "--workdir", str(wd.path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert not stale.exists() and fresh.exists()
    assert ".new-123-abcd" in result.stdout
