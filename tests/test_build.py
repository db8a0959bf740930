"""Building jobs: the parts run in order, results come back, and unchanged builds reuse."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import textwrap
import time

import pytest

import accnb
import accnb.output
from accnb import JobError, MethodError, OptionError, WorkdirError, runner
from accnb.job import WORKDIRS

SUMS = """
options = dict(n=10)

def prepare(options):
    return options.n

def analysis(sliceno, slices, prepare_res):
    return sum(range(sliceno, prepare_res, slices))

def synthesis(analysis_res):
    return analysis_res.merge_auto()
"""


def test_parts_run_in_slices_and_synthesis_gets_their_results(wd, write_method):
    write_method("sums", SUMS)
    job = wd.build("sums", n=100)
    assert job.load() == sum(range(100))
    assert job.reused is False
    assert job.params.options == {"n": 100}


def test_an_unchanged_build_reuses_the_finished_job(wd, write_method):
    write_method("sums", SUMS)
    first = wd.build("sums", n=7)
    again = wd.build("sums", options=dict(n=7))
    assert again == first
    assert again.reused is True
    assert len(wd.jobs()) == 1


def test_default_options_and_explicit_defaults_share_a_job(wd, write_method):
    write_method("sums", SUMS)
    assert wd.build("sums") == wd.build("sums", n=10)


def test_reuse_survives_a_new_workdir_object_as_after_a_kernel_restart(
    wd, write_method, methods_dir
):
    write_method("sums", SUMS)
    first = wd.build("sums", n=5)
    WORKDIRS.pop(wd.store.name)
    reopened = accnb.Workdir(wd.path, slices=2, methods=[methods_dir])
    again = reopened.build("sums", n=5)
    assert again == first and again.reused


def test_an_edit_rebuilds_and_reverting_it_reuses_the_older_job(wd, write_method):
    write_method("sums", SUMS)
    original = wd.build("sums")
    write_method(
        "sums",
        SUMS.replace("return analysis_res.merge_auto()", "return -analysis_res.merge_auto()"),
    )
    edited = wd.build("sums")
    assert edited != original and edited.load() == -original.load()
    write_method("sums", SUMS)
    assert wd.build("sums") == original


def test_a_comment_only_edit_reuses_the_job(wd, write_method):
    write_method("sums", SUMS)
    original = wd.build("sums")
    write_method(
        "sums",
        "# explains the sums\n" + SUMS.replace("return options.n", "return options.n  # the limit"),
    )
    assert wd.build("sums") == original


def test_prepare_res_reaches_the_slices_without_pickling(wd, write_method):
    write_method(
        "closure",
        """
        def prepare():
            offset = 1000
            return lambda x: x + offset   # a lambda does not pickle

        def analysis(sliceno, prepare_res):
            return prepare_res(sliceno)

        def synthesis(analysis_res):
            return list(analysis_res)
    """,
    )
    assert wd.build("closure").load() == [1000, 1001]


def test_large_and_small_slice_results_reach_synthesis_in_slice_order(wd, write_method):
    # a result over 1 MiB pickled goes through the slice's file, a small one through its
    # report pipe; analysis_res mixes them and keeps the slice order
    write_method(
        "sizes",
        """
        def analysis(sliceno):
            return bytes([sliceno]) * (3_000_000 if sliceno == 1 else 10)

        def synthesis(analysis_res):
            return [(len(r), r[:1]) for r in analysis_res]
    """,
    )
    job = wd.build("sizes")
    assert job.load() == [(10, b"\x00"), (3_000_000, b"\x01")]
    assert (job.path / ".analysis.1.pickle").exists()
    assert not (job.path / ".analysis.0.pickle").exists()


@pytest.mark.parametrize("size", [10, 3_000_000])
def test_a_result_of_any_size_is_kept(wd, write_method, size):
    # small results reach the caller on the report pipe, large ones are saved by the job
    write_method("big", f"def synthesis():\n    return b'x' * {size}\n")
    assert wd.build("big").load() == b"x" * size
    assert wd.build("big").reused


def test_every_slice_is_done_with_its_rows_before_the_build_returns(wd, write_method, monkeypatch):
    # A slice that lingers after reporting success (tearing down a large process takes a
    # while) must already have closed its output: the caller counts the slice done, with
    # the rows it wrote, when that pipe ends, and a job's parts may all be done before.
    write_method(
        "rows",
        """
        from accnb.dataset import DatasetWriter

        def prepare():
            dw = DatasetWriter()
            dw.add("x", "int64")
            return dw

        def analysis(sliceno, prepare_res):
            for i in range(10 + sliceno):
                prepare_res.write(i)
    """,
    )
    report_success = runner._report_success

    def linger(fd, body):
        report_success(fd, body)
        if accnb.current.sliceno is not None:
            time.sleep(0.5)

    monkeypatch.setattr(runner, "_report_success", linger)
    done = []

    class Counting(accnb.output.Reporter):
        def part_done(self, part, rows=None):
            done.append((part, rows))

    monkeypatch.setattr(accnb.output, "reporter_factory", Counting)
    wd.build("rows")
    assert sorted(p for p in done if p[0].isdigit()) == [("0", 10), ("1", 11)]
    assert ("synthesis", None) in done


def test_why_a_job_ran_is_kept_with_its_outcome_finished_or_failed(wd, write_method):
    write_method(
        "picky",
        """
        options = dict(n=0)

        def synthesis(options):
            if options.n == 2:
                raise ValueError("not two")
            return options.n
    """,
    )
    first = wd.build("picky", n=1)
    assert first.why == ["no job of method 'picky' has been built in this workdir"]
    again = wd.build("picky", n=3)
    assert again.why == ["option n: 1 -> 3"] and again.post["why"] == again.why
    with pytest.raises(JobError) as failed:
        wd.build("picky", n=2)
    why = wd.job(failed.value.jobid).why
    assert len(why) == 1 and why[0].startswith("option n: ") and why[0].endswith(" -> 2")


def test_output_is_stored_per_part(wd, write_method):
    write_method(
        "talk",
        """
        def prepare():
            print("getting ready")

        def analysis(sliceno):
            print("slice", sliceno, "working")

        def synthesis():
            import sys
            print("all done", file=sys.stderr)
    """,
    )
    job = wd.build("talk", relay=lambda part, text: None)
    assert job.output("prepare") == "getting ready\n"
    assert job.output(1) == "slice 1 working\n"
    assert job.output("analysis") == "slice 0 working\nslice 1 working\n"
    assert job.output() == "getting ready\nslice 0 working\nslice 1 working\nall done\n"


def test_output_is_relayed_while_the_job_runs(wd, write_method, tmp_path):
    flag = tmp_path / "seen"
    write_method(
        "waits",
        f"""
        import os, time
        def analysis(sliceno):
            print("started", sliceno, flush=True)
            deadline = time.monotonic() + 20
            while not os.path.exists({str(flag)!r}):
                assert time.monotonic() < deadline, "the relay did not see the output in time"
                time.sleep(0.01)
    """,
    )
    seen = []

    def relay(part, text):
        seen.append((part, text))
        flag.touch()  # the slices only finish once output reached us

    wd.build("waits", relay=relay)
    assert ("0", "started 0\n") in seen and ("1", "started 1\n") in seen


def test_the_default_relay_prints_lines_tagged_by_part(wd, write_method, capsys):
    write_method(
        "hello",
        """
        def analysis(sliceno):
            print("hello from", sliceno)
        def synthesis():
            print("bye")
    """,
    )
    wd.build("hello")
    out = capsys.readouterr().out.splitlines()
    assert sorted(out) == ["[slice 0] hello from 0", "[slice 1] hello from 1", "[synthesis] bye"]


def test_no_synthesis_means_no_result_and_load_says_so(wd, write_method):
    write_method("quiet", "def analysis(sliceno):\n    return sliceno\n")
    job = wd.build("quiet")
    with pytest.raises(WorkdirError, match="has no result"):
        job.load()


def test_files_written_by_a_job_are_listed_and_readable(wd, write_method):
    write_method(
        "files",
        """
        def analysis(sliceno, job):
            with job.open("part", "w", sliceno=sliceno) as fh:
                fh.write(str(sliceno))
        def synthesis(job):
            job.save({"a": 1}, "extra.pickle")
            with job.open("notes/summary.txt", "w") as fh:
                fh.write("ok")
    """,
    )
    job = wd.build("files")
    assert job.files() == ["extra.pickle", "notes/summary.txt", "part.0", "part.1"]
    assert job.open("part", sliceno=1).read() == "1"
    assert job.load("extra.pickle") == {"a": 1}
    jwf = job.withfile("notes/summary.txt")
    assert (jwf.job, jwf.name, jwf.sliced) == (job, "notes/summary.txt", False)


def test_finish_early_skips_the_later_parts(wd, write_method):
    write_method(
        "early",
        """
        def prepare(job):
            job.finish_early("from prepare")
        def analysis(sliceno):
            raise AssertionError("analysis must not run")
    """,
    )
    assert wd.build("early").load() == "from prepare"


def test_subjobs_are_built_and_reused_by_the_same_rules(wd, write_method):
    write_method("sums", SUMS)
    write_method(
        "parent",
        """
        from accnb import subjobs
        def synthesis():
            child = subjobs.build("sums", n=4)
            return str(child), child.load()
    """,
    )
    parent = wd.build("parent")
    child_id, value = parent.load()
    assert value == 6
    assert wd.build("sums", n=4) == child_id
    assert parent.post["subjobs"] == [child_id]


# --- inputs


def test_jobs_bind_by_name_and_reach_the_method_as_jobs(wd, write_method):
    write_method("sums", SUMS)
    write_method(
        "double",
        """
        jobs = ("source",)
        def synthesis(jobs):
            return jobs.source.load() * 2
    """,
    )
    source = wd.build("sums", n=4)
    assert wd.build("double", source=source).load() == 12
    assert wd.build("double", jobs=dict(source=str(source))).reused


def test_a_different_input_job_is_a_different_build(wd, write_method):
    write_method("sums", SUMS)
    write_method(
        "double", "jobs = ('source',)\ndef synthesis(jobs):\n    return jobs.source.load() * 2\n"
    )
    a = wd.build("double", source=wd.build("sums", n=4))
    b = wd.build("double", source=wd.build("sums", n=5))
    assert a != b and b.load() == 20


def test_an_unknown_input_name_is_refused(wd, write_method):
    write_method("sums", SUMS)
    with pytest.raises(OptionError, match="unknown job input 'source'"):
        wd.build("sums", jobs=dict(source="x"))


def test_an_input_job_that_does_not_exist_is_refused_before_running(wd, write_method):
    write_method("double", "jobs = ('source',)\ndef synthesis(jobs):\n    return 1\n")
    with pytest.raises(OptionError, match="input 'source': job 'wd-77' does not exist"):
        wd.build("double", source="wd-77")
    assert wd.jobs() == []


# --- options


def test_an_unknown_option_is_refused_before_any_process_starts(wd, write_method):
    write_method("sums", SUMS)
    with pytest.raises(OptionError, match="'m'"):
        wd.build("sums", m=3)
    assert wd.jobs() == []


def test_a_wrong_option_type_names_the_option(wd, write_method):
    write_method("sums", SUMS)
    with pytest.raises(OptionError, match="'n'"):
        wd.build("sums", n="many")


# --- methods


def test_an_unknown_method_suggests_close_names(wd, write_method):
    write_method("sums", SUMS)
    with pytest.raises(MethodError, match="did you mean sums"):
        wd.build("sumz")


def test_a_syntax_error_names_file_and_line(wd, write_method):
    path = write_method("broken", "def analysis(sliceno):\n    return (\n")
    with pytest.raises(MethodError, match=f"{path}:2"):
        wd.build("broken")


def test_an_unknown_argument_name_is_refused(wd, write_method):
    write_method("asks", "def analysis(sliceno, slice_count):\n    pass\n")
    with pytest.raises(MethodError, match="'slice_count'"):
        wd.build("asks")


def test_a_method_registered_from_a_string_builds_and_shadows_files(wd, write_method):
    write_method("sums", SUMS)
    wd.method("sums", "def synthesis():\n    return 'from a string'\n")
    assert wd.build("sums").load() == "from a string"


def test_registered_source_is_kept_so_tracebacks_show_its_lines(wd):
    wd.method("fails", "def synthesis():\n    x = 1\n    raise ValueError('bad value')\n")
    with pytest.raises(JobError) as err:
        wd.build("fails")
    assert "raise ValueError('bad value')" in err.value.method_traceback


def test_depend_extra_files_count_in_the_hash(wd, write_method, methods_dir):
    (methods_dir / "table.txt").write_text("1 2 3")
    write_method(
        "reads",
        """
        import os
        depend_extra = ("table.txt",)
        def synthesis():
            return open(os.path.join(os.path.dirname(__file__), "table.txt")).read()
    """,
    )
    first = wd.build("reads")
    (methods_dir / "table.txt").write_text("4 5 6 7")
    second = wd.build("reads")
    assert second != first and second.load() == "4 5 6 7"


def test_equivalent_hashes_reuse_jobs_of_the_old_hash(wd, write_method):
    write_method("eq", "def synthesis():\n    return 1\n")
    old = wd.build("eq")
    new_source = "def synthesis():\n    return 1 + 0\n"
    verifier = accnb.method.load("eq", new_source, "<check>").hash
    write_method(
        "eq", new_source + f"\nequivalent_hashes = {{{verifier!r}: ({old.params.hash!r},)}}\n"
    )
    assert wd.build("eq") == old


def test_a_job_runs_in_its_own_folder_so_relative_files_land_there(wd, write_method):
    write_method(
        "relative",
        """
        def synthesis():
            with open("note.txt", "w") as fh:
                fh.write("inside")
    """,
    )
    job = wd.build("relative")
    assert job.files() == ["note.txt"] and job.open("note.txt").read() == "inside"


LISTS = """
import os
import textwrap
options = dict(directory="")
input_directories = ("directory",)

def synthesis(options):
    return sorted(os.listdir(options.directory))
"""


def test_a_changed_input_folder_is_built_again(wd, write_method, tmp_path, monkeypatch):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(b"1")
    write_method("lists", LISTS)
    monkeypatch.chdir(tmp_path)
    first = wd.build("lists", directory="photos")
    assert first.load() == ["a.jpg"] and first.params.options["directory"] == str(folder)
    assert wd.build("lists", directory=str(folder)).reused
    (folder / "b.jpg").write_bytes(b"2")
    plan = wd.why_build("lists", directory="photos")
    assert "files under option directory changed" in str(plan)
    second = wd.build("lists", directory="photos")
    assert second != first and second.load() == ["a.jpg", "b.jpg"]
    (folder / "b.jpg").unlink()
    assert wd.build("lists", directory="photos") == first


def test_why_build_names_the_source_lines_options_and_inputs_that_differ(wd, write_method):
    write_method("sums", SUMS)
    write_method(
        "double", "jobs = ('source',)\noptions = dict(k=2)\ndef synthesis(jobs):\n    return 1\n"
    )
    a, b = wd.build("sums", n=1), wd.build("sums", n=2)
    wd.build("double", source=a)
    assert (
        str(wd.why_build("double", source=a))
        == f"double: reuses {wd.latest('double')}, built with the same source, options and inputs"
    )
    plan = wd.why_build("double", source=b, k=3)
    assert plan.reuses is None
    assert plan.reasons == ["option k: 2 -> 3", f"input source: job {a} -> job {b}"]
    write_method(
        "double",
        "jobs = ('source',)\noptions = dict(k=2)\ndef synthesis(jobs):\n    x = 1\n    return x\n",
    )
    assert wd.why_build("double", source=a).reasons == ["source changed (lines 4-5)"]


def test_why_build_with_no_earlier_job_says_so(wd, write_method):
    write_method("sums", SUMS)
    assert wd.why_build("sums").reasons == [
        "no job of method 'sums' has been built in this workdir"
    ]


def test_a_job_with_file_option_reaches_the_file_of_another_job(wd, write_method):
    write_method(
        "saves",
        """
        def analysis(sliceno, job):
            job.save({"slice": sliceno}, "part.pickle", sliceno=sliceno)
        def synthesis(job):
            job.save([1, 2, 3], "whole.pickle")
    """,
    )
    write_method(
        "reads",
        """
        from accnb import JobWithFile
        options = dict(whole=JobWithFile, parts=JobWithFile)
        def synthesis(options):
            return options.whole.load(), options.parts.load(sliceno=1), options.whole.jobid
    """,
    )
    saved = wd.build("saves")
    job = wd.build(
        "reads",
        whole=saved.withfile("whole.pickle"),
        parts=saved.withfile("part.pickle", sliced=True),
    )
    assert job.load() == ([1, 2, 3], {"slice": 1}, str(saved))


def test_a_debug_build_runs_one_slice_in_this_process_and_is_never_finished(wd, write_method):
    debug_source = (
        SUMS
        + "import os\nPIDS = []\ndef prepare(options):\n    PIDS.append(os.getpid())\n    return options.n\n"
    )
    write_method("sums", debug_source)
    cwd = os.getcwd()
    job = wd.build("sums", n=10, debug=1)
    assert wd.get_method("sums").module.PIDS == [os.getpid()]  # prepare ran here, unforked
    assert job.debug_result == sum(range(1, 10, 2))  # slice 1 only
    assert not job.finished and os.getcwd() == cwd
    assert wd.build("sums", n=10, relay=lambda part, text: None).load() == sum(range(10))


def test_an_exception_in_a_debug_build_arrives_as_raised(wd, write_method):
    write_method("fails", "def analysis(sliceno):\n    raise KeyError('original')\n")
    with pytest.raises(KeyError, match="original") as err:
        wd.build("fails", debug=True)
    assert err.traceback[-1].frame.code.name == "analysis"


def test_a_changed_helper_beside_a_method_is_imported_afresh(wd, write_method, methods_dir):
    (methods_dir / "helper.py").write_text("def value():\n    return 1\n")
    write_method(
        "uses_helper",
        """
        from . import helper
        depend_extra = ("helper.py",)
        def synthesis():
            return helper.value()
    """,
    )
    first = wd.build("uses_helper")
    (methods_dir / "helper.py").write_text("def value():\n    return 2\n")
    second = wd.build("uses_helper")
    assert (first.load(), second.load()) == (1, 2)


def test_a_closed_workdir_lets_another_folder_of_its_name_open(tmp_path):
    with accnb.Workdir(tmp_path / "a" / "workdir") as first:
        pass
    second = accnb.Workdir(tmp_path / "b" / "workdir")
    assert second.path != first.path
    with pytest.raises(WorkdirError, match="already open"):
        accnb.Workdir(tmp_path / "c" / "workdir")
    second.close()


def test_why_build_says_when_only_comments_changed(wd, write_method):
    write_method("sums", SUMS)
    first = wd.build("sums")
    write_method(
        "sums", SUMS.replace("def prepare(options):", "def prepare(options):  # the limit")
    )
    plan = wd.why_build("sums")
    assert plan.reuses == first
    assert (
        str(plan) == f"sums: reuses {first}: only comments or formatting changed since it was built"
    )


def test_a_job_shows_the_exact_source_that_made_it_after_the_file_changed(wd, write_method):
    write_method("sums", SUMS)
    job = wd.build("sums")
    write_method("sums", SUMS.replace("sum(range", "sum(list(range"))
    assert job.source == textwrap.dedent(SUMS)


FREED_MEMORY = """
import resource

def analysis():
    def faults_of(make):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        make()
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

    def photos():  # 128 MB in values of 2 MB, each written whole, then all freed
        return [b"x" * (2 << 20) for _ in range(64)]

    return faults_of(photos), faults_of(photos)

def synthesis(analysis_res):
    return list(analysis_res)
"""


@pytest.mark.skipif(runner._MALLOPT is None, reason="glibc's mallopt is not there")
def test_a_slice_reuses_memory_it_freed_instead_of_faulting_it_in_again(wd, write_method):
    # glibc's default hands big freed blocks back to the system, and the next ones are
    # faulted in again a page at a time: for a slice reading photos, the cost of a copy.
    write_method("freed", FREED_MEMORY)
    for first, again in wd.build("freed").load():
        assert first > 10_000  # 128 MB of fresh pages, so faults are counted here
        assert again < first / 20


DATED = """
from datetime import date

options = dict(n=1, day=date(2020, 1, 1))

def synthesis(options):
    return options.n
"""


def test_params_give_options_as_the_method_saw_them_with_or_without_a_pickle(wd, write_method):
    write_method("sums", SUMS)
    plain = wd.build("sums", n=3)
    assert not (plain.path / ".options.pickle").exists()  # setup.json's form reads back
    assert plain.params.options.n == 3 and type(plain.params.options.n) is int
    write_method("dated", DATED)
    dated = wd.build("dated", day="2021-02-03")
    assert (dated.path / ".options.pickle").exists()
    assert dated.params.options.day == datetime.date(2021, 2, 3)


RESULT_OF_SIZE = """
options = dict(size=0, fail=False)

def synthesis(options):
    if options.fail:
        raise ValueError("asked to fail")
    return None if options.size < 0 else b"r" * options.size
"""


@pytest.mark.parametrize("size", [-1, 10, 2 << 20])  # None, sent to the caller, saved by the job
def test_a_finished_job_holds_its_result_and_no_file_waiting_to_be_written(wd, write_method, size):
    write_method("sized", RESULT_OF_SIZE)
    job = wd.build("sized", size=size)
    names = sorted(os.listdir(job.path))
    assert names == (
        ["post.json", "setup.json"] if size < 0 else ["post.json", "result.pickle", "setup.json"]
    )
    if size >= 0:
        assert job.load() == b"r" * size


def test_a_failed_job_holds_no_file_waiting_to_be_written(wd, write_method):
    write_method("sized", RESULT_OF_SIZE)
    with pytest.raises(JobError):
        wd.build("sized", size=1, fail=True)
    (failed,) = [p for p in wd.path.iterdir() if (p / "FAILED.json").exists()]
    assert [n for n in os.listdir(failed) if n.startswith(".")] == []


def test_the_files_of_a_job_leave_out_accnbs_own_and_hidden_ones_at_the_top(tmp_path):
    from accnb.job import list_files

    for name in ["setup.json", "post.json", "result.pickle", ".hidden", "kept.txt",
                 "sub/.kept_below", "sub/deeper/x", "datasets/d/col", "OUTPUT/0",
                 "FAILED.json/inside", "target/in_link"]:  # fmt: skip
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    (tmp_path / "linked").symlink_to(tmp_path / "target")  # a folder link is not entered
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    assert list_files(tmp_path) == [
        "dangling", "kept.txt", "result.pickle", "sub/.kept_below", "sub/deeper/x",
        "target/in_link",
    ]  # fmt: skip


def _spares(path):
    return sorted((path / ".accnb" / "spare").iterdir())


def test_the_next_jobs_directory_is_made_while_a_job_runs_and_removed_on_close(
    wd, write_method, methods_dir
):
    write_method("sums", SUMS)
    wd.build("sums", n=1)
    (spare,) = _spares(wd.path)
    assert [p.name for p in spare.iterdir()] == ["setup.json"]
    (spare / ".marked").touch()
    second = wd.build("sums", n=2)
    assert (second.path / ".marked").exists()  # the spare became the job's directory
    assert second.params.options.n == 2 and second.finished
    again = accnb.Workdir(wd.path, slices=2, methods=[methods_dir])  # a cell run again
    again.build("sums", n=3)
    assert len(_spares(wd.path)) == 1  # one spare a workdir
    wd.close()
    assert _spares(wd.path) == []
    assert not [p for p in wd.path.iterdir() if p.name.startswith(".new-")]


def test_gc_keeps_the_spare_of_a_living_process_and_removes_one_left_behind(wd, write_method):
    from accnb import gc

    write_method("sums", SUMS)
    wd.build("sums", n=1)
    (held,) = _spares(wd.path)
    left = wd.path / ".accnb" / "spare" / "1-dead"  # as a killed process leaves it
    left.mkdir()
    (left / "setup.json").touch()
    removed, _ = gc.collect(wd.store)
    assert [r.name for r in removed if r.state == "spare"] == ["spare 1-dead"]
    assert _spares(wd.path) == [held]
    assert wd.build("sums", n=2).finished


def test_job_processes_and_ended_processes_leave_no_spare_directory(
    wd, write_method, methods_dir, tmp_path
):
    write_method("sums", SUMS)
    write_method(
        "parent",
        """
        from accnb import subjobs
        def synthesis():
            return [subjobs.build("sums", n=n).load() for n in (4, 5, 6)]
    """,
    )
    assert wd.build("parent").load() == [6, 10, 15]
    assert len(_spares(wd.path)) == 1  # the caller's own
    other = tmp_path / "other"
    program = (
        "import accnb, sys\n"
        f"wd = accnb.Workdir({str(other)!r}, slices=2, methods=[{str(methods_dir)!r}])\n"
        "wd.build('sums', n=3)\n"
        "wd.build('sums', n=4)\n"
    )
    subprocess.run([sys.executable, "-c", program], check=True)
    assert len([p for p in other.iterdir() if p.name.startswith("other-")]) == 2
    assert _spares(other) == []
