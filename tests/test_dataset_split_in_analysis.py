"""A split writer in analysis: every slice rehashes its own rows at once, into parts that
finish joins into each slice's files."""

from __future__ import annotations

import pytest

from accnb import JobError
from accnb.dataset.partition import hash_value

SLICES = 2  # the wd fixture's

# Each slice makes rows of every column type that has files of its own for the join to get
# right: fixed width with None (flags), variable width, number with big integers (kinds,
# payload, big data and offsets), json. Some destination slices get nothing from a slice.
ROWS = """
from datetime import datetime

options = dict(where="analysis", hashlabel="k", rows=40)

COLUMNS = dict(
    k="int64", f=("float64", True), u=("unicode", True), n=("number", True),
    b="bytes", t="datetime", j="json",
)

def rows(sliceno, count):
    for i in range(count):
        k = sliceno * 1000 + i
        yield (
            k,
            None if sliceno and i % 7 == 3 else k / 4,  # no None in slice 0's parts
            None if i % 5 == 1 else f"{k}-\\xe5" * (i % 3),
            [None, k, k * 2.5, 10**30 + k][i % 4],
            bytes([i % 256]) * (i % 4),
            datetime(2020, 1, 1 + i % 28, i % 24),
            {"k": k, "l": [i]},
        )

def prepare(job, options):
    dw = job.datasetwriter(hashlabel=options.hashlabel or None)
    for name, t in COLUMNS.items():
        dw.add(name, *t) if isinstance(t, tuple) else dw.add(name, t)
    return dw

def analysis(sliceno, prepare_res, options):
    if options.where == "analysis":
        write = prepare_res.get_split_write()
        for row in rows(sliceno, options.rows * (sliceno + 1)):
            write(*row)

def synthesis(prepare_res, options, slices):
    if options.where == "synthesis":  # the same rows, split by the job process
        write = prepare_res.get_split_write()
        for sliceno in range(slices):
            for row in rows(sliceno, options.rows * (sliceno + 1)):
                write(*row)
"""


def contents(ds):
    names = sorted(ds.columns)
    return {
        "lines": ds.lines,
        "slices": [list(ds.iterate(s, names)) for s in range(len(ds.lines))],
        "minmax": {n: (ds.columns[n].min, ds.columns[n].max) for n in names},
        "hashlabel": ds.hashlabel,
    }


@pytest.mark.parametrize("hashlabel", ["k", "u"])
def test_rows_split_in_analysis_are_those_the_job_process_would_split(wd, hashlabel):
    wd.method("rows", ROWS)
    parallel = wd.build("rows", where="analysis", hashlabel=hashlabel).dataset()
    serial = wd.build("rows", where="synthesis", hashlabel=hashlabel).dataset()
    assert sum(parallel.lines) == 40 + 80
    assert contents(parallel) == contents(serial)
    for sliceno in range(SLICES):
        for value in parallel.iterate(sliceno, hashlabel):
            assert hash_value(value) % SLICES == sliceno
    # the parts are joined and gone: only the slices' own files are left
    assert not [p.name for p in parallel.path.iterdir() if ".from" in p.name or ".own" in p.name]


def test_without_a_hashlabel_each_slice_deals_round_robin_from_its_own_number(wd):
    """So slices writing a row or two each do not all fill slice 0."""
    wd.method("rows", ROWS)
    ds = wd.build("rows", where="analysis", hashlabel="").dataset()
    # slice 0 wrote k 0..39 starting at slice 0, slice 1 wrote k 1000..1079 starting at 1
    assert list(ds.iterate(0, "k")) == [*range(0, 40, 2), *range(1001, 1080, 2)]
    assert list(ds.iterate(1, "k")) == [*range(1, 40, 2), *range(1000, 1080, 2)]


def test_numpy_reads_a_joined_column(wd):
    wd.method("rows", ROWS)
    ds = wd.build("rows", where="analysis").dataset()
    for sliceno in range(SLICES):
        assert ds.column("k").numpy(sliceno).tolist() == list(ds.iterate(sliceno, "k"))


MIXED = """
def prepare(job):
    dw = job.datasetwriter()
    dw.add("x", "unicode")
    return dw

def analysis(sliceno, prepare_res):
    if sliceno == 0:  # its own rows, the usual way
        for i in range(3):
            prepare_res.write(f"own{i}")
    else:  # round robin over the slices, from its own
        write = prepare_res.get_split_write()
        for i in range(5):
            write(f"split{i}")
"""


def test_a_slice_writing_its_own_rows_keeps_them_first_in_its_slice(wd):
    wd.method("mixed", MIXED)
    ds = wd.build("mixed").dataset()
    assert list(ds.iterate(0, "x")) == ["own0", "own1", "own2", "split1", "split3"]
    assert list(ds.iterate(1, "x")) == ["split0", "split2", "split4"]


ONE_INT_COLUMN = """
def prepare(job):
    dw = job.datasetwriter()
    dw.add("x", "int64")
    return dw
"""

BOTH_IN_ONE_SLICE = (
    ONE_INT_COLUMN
    + """
def analysis(sliceno, prepare_res):
    prepare_res.write(sliceno)
    prepare_res.get_split_write()
"""
)


def test_a_slice_cannot_write_its_own_rows_and_then_split(wd):
    wd.method("both", BOTH_IN_ONE_SLICE)
    with pytest.raises(JobError, match="wrote rows to .* before asking for a split writer"):
        wd.build("both")
    assert not list((wd.path).glob("*/datasets/default"))


AGAIN_IN_SYNTHESIS = (
    ONE_INT_COLUMN
    + """
def analysis(sliceno, prepare_res):
    prepare_res.write(sliceno)

def synthesis(prepare_res):
    prepare_res.get_split_write()(7)
"""
)


SPLIT_THEN_SET_SLICE = (
    ONE_INT_COLUMN
    + """
def analysis(sliceno, prepare_res):
    if sliceno == 1:
        prepare_res.get_split_write()(1)  # to slice 1; slice 0 gets nothing from anyone

def synthesis(prepare_res):
    prepare_res.set_slice(0)
    prepare_res.write(0)
"""
)


def test_the_job_process_cannot_write_a_dataset_slices_split_wrote(wd):
    """Slice 0's own record says 0 lines, but other slices' parts may go there."""
    wd.method("split_then_set", SPLIT_THEN_SET_SLICE)
    with pytest.raises(JobError, match="split-wrote .* in analysis: it can't be written again"):
        wd.build("split_then_set")


def test_the_job_process_cannot_split_write_slices_written_in_analysis(wd):
    """It would append to their files as if they were empty, and corrupt them."""
    wd.method("again", AGAIN_IN_SYNTHESIS)
    with pytest.raises(JobError, match="Slice 0 of .* was already written in analysis"):
        wd.build("again")


FAILING = ROWS.replace(
    "            write(*row)\n\ndef synthesis",
    "            write(*row)\n    if sliceno == 1:\n        raise ValueError('slice 1 broke')\n\n"
    "def synthesis",
)


def test_a_failing_split_writing_slice_leaves_no_dataset_and_no_parts(wd):
    wd.method("failing", FAILING)
    with pytest.raises(JobError, match="slice 1 broke"):
        wd.build("failing", rows=20_000)  # more than a chunk: parts are on disk
    assert not list(wd.path.glob("*/datasets/*"))


ONE_ROW = """
def prepare(job):
    dw = job.datasetwriter()
    dw.add("x", "unicode")
    dw.add("n", "number")
    return dw

def analysis(sliceno, prepare_res):
    if sliceno == 1:  # round robin from slice 1: nothing goes to slice 0
        prepare_res.get_split_write()("only", 10**30)
"""


def test_a_slice_no_part_has_rows_for_has_no_files(wd):
    wd.method("one_row", ONE_ROW)
    ds = wd.build("one_row").dataset()
    assert ds.lines == [0, 1]
    assert list(ds.iterate(None, ["x", "n"])) == [("only", 10**30)]
    assert sorted(p.name for p in ds.path.iterdir() if p.name.startswith("c")) == [
        "c0.1",
        "c0.1.offsets",
        "c1.1",
        "c1.1.big",
        "c1.1.big.offsets",
        "c1.1.kinds",
    ]
