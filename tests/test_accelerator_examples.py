"""The Accelerator's own examples run in accnb with only their imports changed.

The methods and build scripts in `accelerator_examples/` are copies of the Accelerator's
`accelerator/examples`. Each test builds one example in a fresh workdir and checks what the
example shows. Where accnb differs from the Accelerator the test is a strict xfail that says how
(none do now).
"""

from __future__ import annotations

import datetime
import importlib.util
import re
import shutil
import sys
import types
from pathlib import Path

import pytest

import accnb
import accnb.method
from accnb import MethodError
from accnb.job import WORKDIRS
from accnb.urd import Urd

EXAMPLES = Path(__file__).parent / "accelerator_examples"
PACKAGE = "accelerator_examples"
# The examples assume at least three slices (build_example-files shows slice 2's output).
SLICES = 3


@pytest.fixture
def examples_copy(tmp_path: Path) -> Path:
    """The examples in a folder of the test's own, for tests that edit them."""
    folder = tmp_path / PACKAGE
    shutil.copytree(EXAMPLES, folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


@pytest.fixture
def make_wd(tmp_path: Path):
    """make_wd(folder): a fresh workdir whose methods are the examples in `folder`."""
    made = []

    def make(folder: Path = EXAMPLES) -> accnb.Workdir:
        wd = accnb.Workdir(tmp_path / "wd", slices=SLICES, methods=[folder])
        made.append(wd)
        return wd

    yield make
    for wd in made:
        WORKDIRS.pop(wd.store.name, None)


@pytest.fixture
def wd(make_wd) -> accnb.Workdir:
    return make_wd()


@pytest.fixture
def run_build_script():
    """run_build_script(name, urd, folder): import build_<name>.py as the Accelerator does, as a
    module of its method package (so `from .printer import prt` works), and call main(urd)."""

    def run(name: str, urd: Urd, folder: Path = EXAMPLES) -> None:
        package = types.ModuleType(PACKAGE)
        package.__path__ = [str(folder)]
        sys.modules[PACKAGE] = package
        spec = importlib.util.spec_from_file_location(
            f"{PACKAGE}.build_{name}", folder / f"build_{name}.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.main(urd)

    yield run
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
        del sys.modules[name]


def _printed_options(job: accnb.Job) -> dict:
    """What a_example_options printed (pprint of its options), read back."""
    return eval(job.output("synthesis"), {"datetime": datetime})


# --- the examples folder


def test_helper_modules_beside_the_methods_are_not_methods(wd):
    with pytest.raises(MethodError, match="unknown method 'printer'"):
        wd.build("printer")


# --- a_example_returninprepanasyn


def test_returninprepanasyn_returns_prepare_res_and_every_slices_analysis_res(wd):
    job = wd.build("example_returninprepanasyn")
    analyses = [f"this is analysis {n} with prepare_res=this is prepare" for n in range(SLICES)]
    assert job.load() == "this is prepare   " + "\n".join(analyses)


def test_returninprepanasyn_synthesis_prints_what_it_got(wd):
    job = wd.build("example_returninprepanasyn")
    analyses = [f"this is analysis {n} with prepare_res=this is prepare" for n in range(SLICES)]
    assert job.output("synthesis") == (
        "analysis_res: " + "\n".join(analyses) + "\nprepare_res: this is prepare\n"
    )


def test_returninprepanasyn_second_build_reuses_the_job(wd):
    first = wd.build("example_returninprepanasyn")
    again = wd.build("example_returninprepanasyn")
    assert again == first and again.reused
    assert len(wd.jobs()) == 1


# --- build_example-files: a_example_writeslicedfile, a_example_readjobwithfile


def test_writeslicedfile_saves_a_file_per_slice_and_one_in_synthesis(wd):
    job = wd.build("example_writeslicedfile")
    for sliceno in range(SLICES):
        assert job.load("myfile1", sliceno=sliceno) == (
            f"This is job {job} analysis slice {sliceno}."
        )
    assert job.load("myfile2") == f"this is job {job} synthesis"


def test_writeslicedfile_returns_a_value(wd):
    job = wd.build("example_writeslicedfile")
    assert job.load() == f"this is job {job} return value"


def test_a_jobs_file_opens_for_reading_and_unpickles(wd):
    import pickle

    job = wd.build("example_writeslicedfile")
    with job.open("myfile2", "rb") as fh:
        assert pickle.load(fh) == f"this is job {job} synthesis"


def test_writeslicedfile_files_are_the_slices_files_the_single_file_and_the_result(wd):
    job = wd.build("example_writeslicedfile")
    assert set(job.files()) == {
        *(f"myfile1.{n}" for n in range(SLICES)),
        "myfile2",
        "result.pickle",
    }


def test_jobwithfile_loads_the_sliced_or_single_file_it_names(wd):
    job = wd.build("example_writeslicedfile")
    assert job.withfile("myfile1", sliced=True).load(sliceno=1) == (
        f"This is job {job} analysis slice 1."
    )
    assert job.withfile("myfile2").load() == f"this is job {job} synthesis"


def test_readjobwithfile_prints_each_slices_file_and_the_single_file(wd):
    source = wd.build("example_writeslicedfile")
    job = wd.build(
        "example_readjobwithfile",
        firstfile=source.withfile("myfile1", sliced=True),
        secondfile=source.withfile("myfile2"),
    )
    for sliceno in range(SLICES):
        assert job.output(sliceno) == f"This is job {source} analysis slice {sliceno}.\n"
    assert job.output("synthesis") == f"this is job {source} synthesis\n"


def test_files_build_script_shows_the_output_stored_by_the_reading_job(
    wd, run_build_script, capsys
):
    urd = Urd(wd)
    run_build_script("example-files", urd)
    source = urd.joblist.get("example_writeslicedfile")
    shown = capsys.readouterr().out
    assert f"  This is job {source} analysis slice 2.\n" in shown  # job2.output(2)
    assert shown.count(f"  this is job {source} synthesis\n") == 3  # 2 outputs, the pickle


# --- build_example-options: a_example_options


GIVEN_OPTIONS = {
    "day1": datetime.date(2021, 10, 14),
    "day2": datetime.date(2021, 10, 14),
    "something": 3.14,
    "text": "hello",
    "number": 42,
    "seq": [1, 2, 3, 4],
    "cplx": {"a": {"b": "c"}},
}


def test_options_example_method_sees_the_given_options_typed(wd):
    job = wd.build("example_options", **GIVEN_OPTIONS)
    assert _printed_options(job) == GIVEN_OPTIONS


def test_options_example_options_not_given_take_their_declared_defaults(wd):
    job = wd.build("example_options", text="world")
    assert _printed_options(job) == {
        "day1": datetime.date(1970, 1, 1),
        "day2": None,
        "something": None,
        "text": "world",
        "number": None,
        "seq": [],
        "cplx": {"str": {}},  # the spec is dict(str=dict(str=str)): a key named "str"
    }


def test_options_example_job_params_hold_the_options_as_the_method_saw_them(wd):
    job = wd.build("example_options", **GIVEN_OPTIONS)
    assert job.params.options == GIVEN_OPTIONS


def test_options_example_short_and_long_forms_are_the_same_job(wd):
    short = wd.build("example_options", text="world")
    long = wd.build("example_options", options=dict(text="world"))
    assert long == short and long.reused


def test_options_build_script_builds_two_jobs_and_reuses_the_second(wd, run_build_script, capsys):
    urd = Urd(wd)
    run_build_script("example-options", urd)
    first, short, long = urd.joblist
    assert first != short and long == short and long.reused
    assert len(wd.jobs()) == 2
    assert "The job will print its options to stdout." in capsys.readouterr().out


# --- build_example-depend_extra: a_example_dependextra, mydependency.py, mydependencyfile.txt


def test_depend_extra_build_script_reuses_the_job_when_nothing_changed(wd, run_build_script):
    urd = Urd(wd)
    run_build_script("example-depend_extra", urd)
    run_build_script("example-depend_extra", urd)
    first, again = urd.joblist
    assert again == first and again.reused


def test_depend_extra_rebuilds_when_the_text_file_changes(make_wd, examples_copy, run_build_script):
    urd = Urd(make_wd(examples_copy))
    run_build_script("example-depend_extra", urd, examples_copy)
    with open(examples_copy / "mydependencyfile.txt", "a") as fh:
        fh.write("A change.\n")
    run_build_script("example-depend_extra", urd, examples_copy)
    before, after = urd.joblist
    assert after != before and not after.reused


def test_depend_extra_rebuilds_when_the_python_module_changes(
    make_wd, examples_copy, run_build_script
):
    urd = Urd(make_wd(examples_copy))
    run_build_script("example-depend_extra", urd, examples_copy)
    with open(examples_copy / "mydependency.py", "a") as fh:
        fh.write("changed = True\n")
    run_build_script("example-depend_extra", urd, examples_copy)
    before, after = urd.joblist
    assert after != before and not after.reused


# --- build_example-equiv_hashes: a_example_equivalenthashes
#
# The Accelerator's hashes (sha1 of the file) are not accnb's (blake2b-160 of the parsed code,
# comments aside), so the verifier here is computed the accnb way: the hash of the method
# without its equivalent_hashes statement, which is also what accnb's warning names.

EQUIVALENT_HASHES_TEMPLATE = "# equivalent_hashes = {'<verifier>': ('<hash>',)}"


def _edited_equivalenthashes(source: str, verifier: str, old_hash: str) -> str:
    """The method edited as the example says: equivalent_hashes added, and another change."""
    assert EQUIVALENT_HASHES_TEMPLATE in source
    statement = f"equivalent_hashes = {{{verifier!r}: ({old_hash!r},)}}"
    return source.replace(EQUIVALENT_HASHES_TEMPLATE, statement).replace(
        "description = 'equivalent_hashes example method'",
        "description = 'equivalent_hashes example method, now changed'",
    )


def _accnb_verifier(source: str) -> str:
    """The hash of the method without its equivalent_hashes statement."""
    without = re.sub(r"(?m)^equivalent_hashes = .*$", "", source)
    assert without != source
    return accnb.method.load("example_equivalenthashes", without, "<verifier>").hash


def test_equiv_hashes_build_script_shows_the_hash_of_the_built_job(wd, run_build_script, capsys):
    urd = Urd(wd)
    run_build_script("example-equiv_hashes", urd)
    job = urd.joblist.get("example_equivalenthashes")
    source = (EXAMPLES / "a_example_equivalenthashes.py").read_text()
    assert job.params.hash == accnb.method.load("example_equivalenthashes", source, "<x>").hash
    shown = capsys.readouterr().out
    assert f"\"equivalent_hashes = {{'whatever': ('{job.params.hash}',)}}\"" in shown


def test_equivalent_hashes_with_a_wrong_verifier_warn_with_the_right_one_and_rebuild(
    make_wd, examples_copy, run_build_script
):
    wd = make_wd(examples_copy)
    urd = Urd(wd)
    run_build_script("example-equiv_hashes", urd, examples_copy)
    old = urd.joblist.get("example_equivalenthashes")
    method_file = examples_copy / "a_example_equivalenthashes.py"
    edited = _edited_equivalenthashes(method_file.read_text(), "whatever", old.params.hash)
    method_file.write_text(edited)
    with pytest.warns(UserWarning, match=_accnb_verifier(edited)):
        new = wd.build("example_equivalenthashes")
    assert new != old and not new.reused


def test_equivalent_hashes_with_the_verifier_reuse_the_job_of_the_old_hash(
    make_wd, examples_copy, run_build_script
):
    wd = make_wd(examples_copy)
    urd = Urd(wd)
    run_build_script("example-equiv_hashes", urd, examples_copy)
    old = urd.joblist.get("example_equivalenthashes")
    method_file = examples_copy / "a_example_equivalenthashes.py"
    original = method_file.read_text()
    verifier = _accnb_verifier(_edited_equivalenthashes(original, "whatever", old.params.hash))
    method_file.write_text(_edited_equivalenthashes(original, verifier, old.params.hash))
    again = wd.build("example_equivalenthashes")
    assert again == old and again.reused


# --- dataset examples: build_dsexample-*


def test_dsexample_create_writes_one_typed_line_per_slice(wd, run_build_script):
    urd = Urd(wd)
    run_build_script("dsexample-create", urd)
    ds = urd.joblist.get("dsexample_createdataset").dataset()
    assert {name: column.type for name, column in ds.columns.items()} == {
        "Numbercolumn": "number",
        "Stringcolumn": "ascii",
        "Jsoncolumn": "json",
    }
    assert ds.lines == [1] * SLICES
    assert list(ds.iterate(None, ["Numbercolumn", "Stringcolumn", "Jsoncolumn"])) == [
        (1000 + n, f"{1000 + n}-foo", {"n": 1000 + n, "s": str(1000 + n)}) for n in range(SLICES)
    ]


def test_dsexample_many_ds_shows_each_datasets_lines_and_column_types(wd, run_build_script, capsys):
    urd = Urd(wd)
    run_build_script("dsexample-many_ds", urd)
    job = urd.joblist.get("dsexample_multipledatasets")
    shown = capsys.readouterr().out
    assert f"{job}/first {SLICES} {{'col1': 'int64'}}\n" in shown
    assert f"{job}/second {SLICES} {{'col1': 'json'}}\n" in shown
    assert f"{job}/third {SLICES} {{'col1': 'number', 'col2': 'ascii', 'col3': 'bool'}}\n" in shown
    assert list(job.dataset("third").iterate(None)) == [
        (n, str(n), n % 2 == 0) for n in range(SLICES)
    ]


# --- tutorials and examples built on the Accelerator's standard methods

ALL_ROWS = [
    (1, "a"),
    (2, "bb"),
    (3, "bb"),
    (4, "a"),
    (5, "bb"),
    (6, "ccc"),
    (7, "foo"),
    (8, "bar"),
    (9, "baz"),
]


def test_dsexample_chain_iterates_the_whole_csvimport_chain(wd, run_build_script):
    urd = Urd(wd)
    run_build_script("dsexample-chain", urd)
    imp = urd.joblist.get("csvimport")
    assert len(imp.dataset().chain()) == 3
    job = urd.joblist.get("dsexample_iteratechain")
    # csvimport's columns are bytes: typing them is dataset_type's job
    assert sorted(job.load()) == sorted((str(n).encode(), s.encode()) for n, s in ALL_ROWS)


def test_tutorial01_imports_the_csv_file(wd, run_build_script):
    urd = Urd(wd)
    run_build_script("tutorial01", urd)
    ds = urd.joblist.get("csvimport").dataset()
    assert sorted(ds.columns) == ["Date", "Float", "Int", "String"]
    assert {column.type for column in ds.columns.values()} == {"bytes"}
    assert sorted(ds.iterate(None, ["Date", "Float"])) == [
        (b"2020-01-01", b"3.142"),
        (b"2020-01-02", b"2.718"),
        (b"2020-01-03", b"1.414"),
    ]


def test_tutorial02_types_sorts_and_hash_partitions_the_import(wd, run_build_script):
    urd = Urd(wd)
    run_build_script("tutorial02", urd)
    assert [job.method for job in urd.joblist] == [
        "csvimport",
        "dataset_type",
        "dataset_sort",
        "dataset_hashpart",
    ]
    # the script prints imp.params.datasets.source: the job's input, as in the Accelerator
    assert urd.joblist[-1].params.datasets.source == f"{urd.joblist[-2]}/default"
    ds = urd.joblist[-1].dataset()
    assert ds.hashlabel == "String"
    assert {name: column.type for name, column in ds.columns.items()} == {
        "Date": "date",
        "String": "unicode",
        "Int": "number",
        "Float": "float64",
    }
    assert sorted(ds.iterate(None, ["Int", "String", "Float"])) == [
        (1, "a", 3.142),
        (2, "bb", 2.718),
        (3, "bb", 1.414),
    ]
    # hashed on String: both "bb" rows in one slice, sorted by Date there
    (bb_slice,) = [n for n in range(SLICES) if "bb" in ds.iterate(n, "String")]
    assert list(ds.iterate(bb_slice, "Date")) == sorted(ds.iterate(bb_slice, "Date"))
    assert [d for d, s in ds.iterate(bb_slice, ["Date", "String"]) if s == "bb"] == [
        datetime.date(2020, 1, 2),
        datetime.date(2020, 1, 3),
    ]


def test_tutorial03_chains_the_three_imports(wd, run_build_script):
    urd = Urd(wd)
    run_build_script("tutorial03", urd)
    ds = urd.joblist[-1].dataset()
    assert len(ds.chain()) == 3
    assert sorted(ds.iterate_chain(None, ["Int", "String"])) == ALL_ROWS
    # every step chains to its own previous job, not to the import
    assert [d.jobid for d in ds.chain()] == [job for job in urd.joblist.find("dataset_hashpart")]


def test_tutorial04_iterates_the_whole_chain_in_a_method(wd, run_build_script):
    urd = Urd(wd)
    run_build_script("tutorial04", urd)
    job = urd.joblist.get("dsexample_iteratechain")
    assert sorted(job.load()) == ALL_ROWS


def test_tutorial05_records_each_import_in_an_urd_session(wd, run_build_script):
    urd = Urd(wd)
    run_build_script("tutorial05", urd)
    key = "example_tutorial05"
    assert urd.since(key, 0) == [1, 2, 3]
    captions = [Path(urd.peek(key, ts).caption).name for ts in urd.since(key, 0)]
    assert captions == ["data.csv", "data2.csv", "data3.csv"]
    assert sorted(urd.joblist[-1].dataset().iterate_chain(None, ["Int", "String"])) == ALL_ROWS
    assert f"{urd.user}/{key}" in urd.list()
    # each session records its four jobs and the session it read (the one before)
    third = Urd(wd).peek(key, 3)  # a new Urd reads the same sessions from the workdir
    assert third.joblist.names() == [
        "csvimport",
        "dataset_type",
        "dataset_sort",
        "dataset_hashpart",
    ]
    assert third.joblist == urd.joblist
    assert third.deps[f"{urd.user}/{key}"].timestamp == 2
    assert not urd.peek(key, 1).deps


def test_tutorial05_run_again_reuses_every_job_and_records_the_same_sessions(wd, run_build_script):
    run_build_script("tutorial05", Urd(wd))
    before = [job.jobid for job in wd.jobs()]
    urd = Urd(wd)
    run_build_script("tutorial05", urd)
    assert [job.jobid for job in wd.jobs()] == before
    assert all(job.reused for job in urd.joblist)
    assert urd.since("example_tutorial05", 0) == [1, 2, 3]
