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
options = dict(columns=["x", "label"], slow=0.05, fail_x=-1, pickled=False)

def prepare(job, datasets, options):
    dw = job.datasetwriter(parent=datasets.source)
    dw.add("double", "int64")
    dw.add("label_seen", "unicode", none_support=True)
    dw.add("by", "int32")
    columns = options.columns[0] if len(options.columns) == 1 else options.columns
    return dw, SharedRows(datasets.source, columns)

COMPUTED = []  # the rows this process computed

def compute(row):
    x, label = row if isinstance(row, tuple) else (row, None)
    if x == options.fail_x:
        raise ValueError(f"row {x} is bad")
    if x < 100:
        time.sleep(options.slow)
    COMPUTED.append(x)
    return x * 2, label, current.sliceno

def analysis(sliceno, prepare_res, options):
    dw, rows = prepare_res
    if options.pickled:
        rows = pickle.loads(pickle.dumps(rows))
    for result in rows.map(sliceno, compute):
        dw.write(*result)
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


def test_a_row_failing_in_the_helping_slice_fails_the_job_without_a_wait(wd, source):
    # Slice 0's last row is the first one slice 1 takes; slice 0 would wait for it forever.
    with pytest.raises(JobError) as err:
        wd.build("shared", source=source, fail_x=ROWS - 1, relay=lambda part, text: None)
    assert err.value.sliceno == 1 and "row 11 is bad" in err.value.exc_message


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
