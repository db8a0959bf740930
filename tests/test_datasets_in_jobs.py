"""Datasets between jobs: written in slices by one job, read by the next, parents and chains."""

from __future__ import annotations

import pytest

from accnb import JobError, OptionError

WRITE = """
from accnb.dataset import DatasetWriter
options = dict(n=10)

def prepare(options):
    dw = DatasetWriter()
    dw.add("i", "int64")
    dw.add("name", "unicode")
    return dw

def analysis(sliceno, slices, prepare_res, options):
    for i in range(sliceno, options.n, slices):
        prepare_res.write(i, f"row {i}")
"""

SUM = """
datasets = ("source",)

def analysis(sliceno, datasets):
    return sum(datasets.source.iterate(sliceno, "i"))

def synthesis(analysis_res):
    return analysis_res.merge_auto()
"""


def test_a_dataset_written_in_slices_is_read_by_the_next_job(wd, write_method):
    write_method("write", WRITE)
    write_method("total", SUM)
    source = wd.build("write", n=100)
    ds = source.dataset()
    assert ds.lines == [50, 50]
    assert sorted(ds.columns) == ["i", "name"]
    assert wd.build("total", source=source).load() == sum(range(100))
    assert list(ds.iterate(1, "name"))[:2] == ["row 1", "row 3"]


def test_a_dataset_input_given_as_dataset_or_job_is_the_same_build(wd, write_method):
    write_method("write", WRITE)
    write_method("total", SUM)
    source = wd.build("write")
    by_job = wd.build("total", source=source)
    assert wd.build("total", datasets=dict(source=source.dataset())) == by_job
    assert wd.build("total", source=f"{source}/default").reused


def test_a_missing_dataset_input_is_refused_naming_what_exists(wd, write_method):
    write_method("write", WRITE)
    write_method("total", SUM)
    source = wd.build("write")
    with pytest.raises(OptionError, match="has no dataset 'other'.*default"):
        wd.build("total", source=f"{source}/other")


def test_a_parent_dataset_gets_a_column_appended_without_copying(wd, write_method):
    write_method("write", WRITE)
    write_method(
        "square",
        """
        datasets = ("source",)
        def prepare(job, datasets):
            dw = job.datasetwriter(parent=datasets.source)
            dw.add("square", "int64")
            return dw
        def analysis(sliceno, prepare_res, datasets):
            for i in datasets.source.iterate(sliceno, "i"):
                prepare_res.write(i * i)
    """,
    )
    source = wd.build("write", n=6)
    squared = wd.build("square", source=source).dataset()
    assert squared.parent == source.dataset()
    assert sorted(squared.columns) == ["i", "name", "square"]
    assert sorted(squared.iterate(None, ("i", "square"))) == [(i, i * i) for i in range(6)]
    assert not (squared.path / "i").exists()


def test_a_failing_writer_leaves_no_finished_dataset(wd, write_method):
    write_method(
        "bad",
        """
        from accnb.dataset import DatasetWriter
        def prepare():
            dw = DatasetWriter()
            dw.add("x", "int32")
            return dw
        def analysis(sliceno, prepare_res):
            prepare_res.write(2 ** 40)
    """,
    )
    with pytest.raises(JobError, match="int32") as err:
        wd.build("bad")
    assert err.value.part.startswith("analysis")
    assert wd.jobs()[0].datasets == []


def test_numpy_reads_a_column_written_by_a_job(wd, write_method):
    write_method("write", WRITE)
    ds = wd.build("write", n=9).dataset()
    values = ds.column("i").numpy()
    assert values.dtype.name == "int64" and sorted(values.tolist()) == list(range(9))


CHAINED = """
from accnb.dataset import DatasetWriter
options = dict(n=1)
datasets = ("previous",)

def prepare(options, datasets):
    dw = DatasetWriter(previous=datasets.previous)
    dw.add("i", "int64")
    return dw

def analysis(sliceno, prepare_res, options):
    prepare_res.write(options.n)
"""


def test_a_chain_stops_at_the_dataset_a_job_took_as_an_input(wd, write_method):
    """The Accelerator's stop_ds={job: input name}: the job as a Job, an id or one of its
    datasets; a None job stops nothing."""
    write_method("chained", CHAINED)
    first = wd.build("chained", n=1)
    second = wd.build("chained", n=2, previous=first)
    third = wd.build("chained", n=3, previous=second)
    tip = third.dataset()
    since_second = [f"{second}/default", f"{third}/default"]  # second took first as previous
    assert tip.chain(stop_ds={second: "previous"}) == since_second
    assert tip.chain(stop_ds={str(second): "previous"}) == since_second
    assert tip.chain(stop_ds={second.dataset(): "previous"}) == since_second
    assert tip.chain(stop_ds={first: "previous"}) == tip.chain()  # first took no previous
    assert tip.chain(stop_ds={None: "previous"}) == tip.chain()
    assert len(tip.chain()) == 3
