"""Datasets written by real jobs: forked slices, several parts, failures, other jobs' datasets."""

from __future__ import annotations

import pytest

from accnb import JobError
from accnb.dataset import Dataset

WRITE_IN_ANALYSIS = """
from accnb.dataset import DatasetWriter

def prepare():
    dw = DatasetWriter(hashlabel="key")
    dw.add("key", "int64")
    dw.add("name", "unicode")
    DatasetWriter(name="rows", columns={"sliceno": "int32"})
    return dw

def analysis(sliceno, slices, prepare_res):
    for key in range(100):
        if prepare_res.hashcheck(key):
            prepare_res.write(key, f"k{key}")
    DatasetWriter(name="rows").write(sliceno)
"""


def test_writer_from_prepare_is_written_by_forked_slices(wd, write_method):
    write_method("writer", WRITE_IN_ANALYSIS)
    job = wd.build("writer")
    ds = Dataset(path=job.path / "datasets" / "default")
    assert sorted(ds.iterate(None, "key")) == list(range(100))
    assert ds.hashlabel == "key" and all(ds.lines)
    rows = Dataset(path=job.path / "datasets" / "rows")
    assert [list(rows.iterate(s, "sliceno")) for s in range(2)] == [[0], [1]]
    assert not list(ds.path.glob("slice.*.json"))


def test_a_failing_slice_leaves_no_dataset(wd, write_method):
    write_method(
        "fails",
        WRITE_IN_ANALYSIS.replace('DatasetWriter(name="rows").write(sliceno)', "1 / sliceno"),
    )
    with pytest.raises(JobError):
        wd.build("fails")
    assert not list(wd.path.glob("*/datasets/*/dataset.json"))


def test_a_later_job_reads_and_extends_an_earlier_jobs_dataset(wd, write_method):
    write_method("writer", WRITE_IN_ANALYSIS)
    write_method(
        "extend",
        """
from accnb.dataset import Dataset, DatasetWriter

options = dict(source="")

def synthesis(options):
    source = Dataset(options.source)
    dw = DatasetWriter(columns={"double": "int64"}, parent=source)
    for sliceno in range(len(source.lines)):
        dw.set_slice(sliceno)
        for key in source.iterate(sliceno, "key"):
            dw.write(key * 2)
    return str(dw.finish())
""",
    )
    first = wd.build("writer")
    second = wd.build("extend", source=first.jobid)
    ds = Dataset(path=second.path / "datasets" / "default")
    assert second.load() == f"{second.jobid}/default"
    assert sorted(ds.iterate(None, ("key", "double"))) == [(k, 2 * k) for k in range(100)]
