"""SharedRows: a slice that has computed its own rows computes the last ones of a slice still
busy, and the results come back to that slice's writer in row order."""

from __future__ import annotations

import pytest

from accnb import JobError

ROWS = 12  # per slice

SOURCE = """
options = dict(rows=0)

def prepare(job):
    dw = job.datasetwriter()
    dw.add("x", "int64")
    dw.add("label", "unicode")
    return dw

def analysis(sliceno, prepare_res, options):
    for i in range(options.rows):
        x = sliceno * 100 + i
        prepare_res.write(x, f"r{x}")
"""

# Slice 0's rows are slow and slice 1's instant, so slice 1 soon helps slice 0. Each row
# records which slice's process computed it.
SHARED = """
import pickle
import time

from accnb import current
from accnb.dataset import SharedRows

datasets = ("source",)
options = dict(
    columns=["x", "label"], slow=0.05, fail_x=-1, odd_x=-1, unpicklable_x=-1,
    pickled=False, catch=False, twice=False,
)

def prepare(job, datasets, options):
    dw = job.datasetwriter(parent=datasets.source)
    dw.add("double", "int64")
    dw.add("label_seen", "unicode", none_support=True)
    dw.add("by", "int32")
    columns = options.columns[0] if len(options.columns) == 1 else options.columns
    return dw, SharedRows(datasets.source, columns)

COMPUTED = []  # the rows this process computed

class Odd(Exception):  # pickles, but does not load back: __init__ takes two arguments
    def __init__(self, x, why):
        super().__init__(f"row {x} is {why}")

def compute(row):
    x, label = row if isinstance(row, tuple) else (row, None)
    if x == options.fail_x:
        raise ValueError(f"row {x} is bad")
    if x == options.odd_x:
        raise Odd(x, "odd")
    if x < 100:
        time.sleep(options.slow)
    COMPUTED.append(x)
    if x == options.unpicklable_x:
        return lambda: x
    return x * 2, label, current.sliceno

def analysis(sliceno, prepare_res, options):
    dw, rows = prepare_res
    if options.pickled:
        rows = pickle.loads(pickle.dumps(rows))
    got = []
    try:
        for result in rows.map(sliceno, compute):
            dw.write(*result)
            got.append(result[0] // 2)
    except ValueError as e:  # a slice may tolerate a row that fails
        if not options.catch:
            raise
        dw.write(-1, str(e), sliceno)  # the failed row, and no more: it was the last
        return got, str(e), getattr(e, "__notes__", [])
    if options.twice:  # a second map of the slice gives every row again
        return got, [result[0] // 2 for result in rows.map(sliceno, compute)]
    return COMPUTED

def synthesis(analysis_res):
    return list(analysis_res)
"""


@pytest.fixture
def source(wd):
    wd.method("source", SOURCE)
    wd.method("shared", SHARED)
    return wd.build("source", rows=ROWS).dataset()


def _built(wd, source, **options):
    ds = wd.build("shared", source=source, **options).dataset()
    return [list(ds.iterate(s, ("x", "double", "label_seen", "by"))) for s in range(2)]


@pytest.mark.parametrize("columns", [["x", "label"], ["x"]])
def test_a_free_slice_computes_a_busy_slices_last_rows_which_come_back_in_order(
    wd, source, columns
):
    slices = _built(wd, source, columns=columns)
    for rows in slices:
        assert [double for _, double, _, _ in rows] == [x * 2 for x, _, _, _ in rows]
        labels = [f"r{x}" if len(columns) == 2 else None for x, _, _, _ in rows]
        assert [label for _, _, label, _ in rows] == labels
    slow_by = [by for *_, by in slices[0]]
    helped = slow_by.count(1)
    assert 0 < helped < ROWS, slow_by  # slice 1 helped, and slice 0 did its first rows
    assert slow_by == [0] * (ROWS - helped) + [1] * helped  # the helper took the last ones
    assert [by for *_, by in slices[1]] == [1] * ROWS  # nothing of slice 1's was left to help


def test_pickled_it_shares_nothing_and_each_slice_computes_its_own_rows(wd, source):
    slices = _built(wd, source, pickled=True)
    for sliceno, rows in enumerate(slices):
        assert [by for *_, by in rows] == [sliceno] * ROWS
        assert [double for _, double, _, _ in rows] == [x * 2 for x, _, _, _ in rows]


def test_a_debug_build_computes_only_the_slice_it_runs(wd, source):
    job = wd.build("shared", source=source, debug=1)
    assert job.debug_result == [list(range(100, 100 + ROWS))]


def test_a_row_failing_in_the_helping_slice_fails_the_slice_whose_row_it_is(wd, source):
    # Slice 0's last row is the first one slice 1 takes: the error comes back to slice 0,
    # with where it happened, so that debug=0 is where to look.
    with pytest.raises(JobError) as err:
        wd.build("shared", source=source, fail_x=ROWS - 1, relay=lambda part, text: None)
    assert err.value.sliceno == 0 and err.value.exc_message == "row 11 is bad"
    assert "row 11 of slice 0 was computed in slice 1's process" in err.value.method_traceback
    assert 'raise ValueError(f"row {x} is bad")' in err.value.method_traceback


def test_an_exception_that_does_not_load_back_comes_back_as_accnb_error(wd, source):
    with pytest.raises(JobError) as err:
        wd.build("shared", source=source, odd_x=ROWS - 1, relay=lambda part, text: None)
    e = err.value
    assert e.sliceno == 0 and e.exc_type == "AccnbError"
    assert e.exc_message.startswith("Odd: row 11 is odd (row 11 of slice 0 was computed in slice 1")


def test_a_slice_that_catches_the_error_gets_it_at_its_row_and_nobody_waits(wd, source):
    job = wd.build("shared", source=source, fail_x=ROWS - 1, catch=True)
    (got, error, notes), helper = job.load()
    assert got == list(range(ROWS - 1)) and error == "row 11 is bad"
    assert "computed in slice 1's process" in notes[0]
    assert helper[:ROWS] == list(range(100, 100 + ROWS))  # and then it helped slice 0


@pytest.mark.parametrize("x", [0, ROWS - 1])  # computed by its own slice, or by the helper
def test_a_result_that_does_not_pickle_fails_wherever_it_was_computed(wd, source, x):
    with pytest.raises(JobError, match=f"the result for row {x} of slice 0 does not pickle"):
        wd.build("shared", source=source, unpicklable_x=x, relay=lambda part, text: None)


def test_a_second_map_of_a_slice_gives_every_row(wd, source):
    first, second = zip(*wd.build("shared", source=source, twice=True).load(), strict=True)
    for sliceno in range(2):
        rows = list(range(sliceno * 100, sliceno * 100 + ROWS))
        assert first[sliceno] == second[sliceno] == rows


def test_it_is_made_in_prepare(wd, source):
    late = """
from accnb.dataset import SharedRows
datasets = ("source",)
def analysis(sliceno, datasets):
    SharedRows(datasets.source, "x")
"""
    wd.method("late", late)
    with pytest.raises(JobError, match="SharedRows is made in prepare"):
        wd.build("late", source=source, relay=lambda part, text: None)


def test_without_columns_it_gives_every_column_as_iterate_does(wd, source):
    whole = """
from accnb.dataset import SharedRows
datasets = ("source",)
def prepare(datasets):
    return SharedRows(datasets.source)
def analysis(sliceno, prepare_res):
    return list(prepare_res.map(sliceno, lambda row: row))
def synthesis(analysis_res):
    return list(analysis_res)
"""
    wd.method("whole", whole)
    got = wd.build("whole", source=source).load()
    assert got == [list(source.iterate(s, None)) for s in range(2)]
    assert got[1][0] == ("r100", 100)


def test_it_takes_one_dataset(wd, source):
    chained = """
from accnb.dataset import SharedRows
datasets = ("source",)
def prepare(datasets):
    SharedRows(datasets.source.chain(), "x")
"""
    wd.method("chained", chained)
    with pytest.raises(JobError, match="the rows of one Dataset, not a DatasetChain"):
        wd.build("chained", source=source, relay=lambda part, text: None)


def test_rows_of_slices_the_job_does_not_have_are_left_alone(wd, tmp_path):
    """A dataset of four slices, opened by path in a job of two: only the rows of slices
    0 and 1 are anyone's to compute."""
    import accnb

    with accnb.Workdir(tmp_path / "four", slices=4) as four:
        four.method("source", SOURCE)
        path = four.build("source", rows=ROWS).dataset().path
    wide = """
import time
from accnb.dataset import Dataset, SharedRows
options = dict(path="")
COMPUTED = []
def compute(x):
    time.sleep(0.01 if x < 100 else 0)
    COMPUTED.append(x)
def prepare():
    return SharedRows(Dataset(path=options.path), "x")
def analysis(sliceno, prepare_res):
    list(prepare_res.map(sliceno, compute))
    return COMPUTED
def synthesis(analysis_res):
    return sorted(x for computed in analysis_res for x in computed)
"""
    wd.method("wide", wide)
    assert wd.build("wide", path=str(path)).load() == [*range(ROWS), *range(100, 100 + ROWS)]
