"""DatasetWriter: the ways a job creates, passes and fills datasets, as in the Accelerator."""

from __future__ import annotations

import os
from datetime import date

import pytest
from test_dataset_support import SLICES, job_fixture, write_slices  # noqa: F401 - the job fixture

from accnb import current
from accnb.dataset import Dataset, DatasetWriter
from accnb.dataset import writer as writer_module
from accnb.errors import DatasetError


def test_writer_made_in_prepare_is_written_per_slice_in_analysis(job):
    dw = DatasetWriter()
    dw.add("a", "number")
    dw.add("b", "ascii")
    job.prepare_done()

    def analysis(sliceno):
        w = DatasetWriter()  # the same writer, found by name
        w.write(a=sliceno, b="a")
        w.write_list([42, str(sliceno)])

    job.analysis(analysis)
    job.synthesis_done()
    ds = Dataset("t-1")
    for sliceno in range(SLICES):
        assert list(ds.iterate(sliceno, "a")) == [sliceno, 42]
        assert list(ds.iterate(sliceno, "b")) == ["a", str(sliceno)]


def test_named_writer_with_write_dict(job):
    DatasetWriter(name="named", columns={"c": "bool", "d": "date"})
    job.prepare_done()

    def analysis(sliceno):
        w = DatasetWriter(name="named")
        w.write(True, date(1536, 12, sliceno + 1))
        w.write_dict({"c": False, "d": date(2236, 5, sliceno + 1)})

    job.analysis(analysis)
    job.synthesis_done()
    ds = Dataset("t-1/named")
    assert list(ds.iterate(2)) == [(True, date(1536, 12, 3)), (False, date(2236, 5, 3))]


def test_set_slice_in_synthesis_writes_each_slice(job):
    dw = DatasetWriter(name="manual", columns={"sliceno": "int32"})
    for sliceno in range(SLICES):
        dw.set_slice(sliceno)
        dw.write(sliceno)
    ds = dw.finish()
    assert [list(ds.iterate(s, "sliceno")) for s in range(SLICES)] == [[0], [1], [2]]


def test_slice_left_empty_in_analysis_can_be_written_in_synthesis(job):
    dw = DatasetWriter(name="passed", columns={"x": "int64"})
    job.prepare_done()

    def analysis(sliceno):
        if sliceno:
            dw.write(sliceno * 10)

    job.analysis(analysis)
    dw.set_slice(0)
    dw.write(-1)
    job.synthesis_done()
    assert list(Dataset("t-1/passed").iterate(None, "x")) == [-1, 10, 20]


def test_set_slice_refuses_a_slice_written_in_analysis(job):
    dw = DatasetWriter(columns={"x": "int64"})
    job.prepare_done()
    job.analysis(lambda sliceno: dw.write(sliceno))
    for _ in range(2):  # and again when asked again
        with pytest.raises(DatasetError, match="already written in analysis"):
            dw.set_slice(1)


def test_writer_written_in_prepare_is_finished_after_prepare(job):
    dw = DatasetWriter(name="early", columns={"x": "int64"})
    write_slices(dw, [[(1,)], [(2,)], [(3,)]])
    DatasetWriter(name="later", columns={"x": "int64"})
    job.prepare_done()
    assert list(Dataset("t-1/early").iterate(None, "x")) == [1, 2, 3]
    with pytest.raises(DatasetError, match="not finished"):
        Dataset("t-1/later")


def test_split_write_without_hashlabel_is_round_robin(job):
    dw = DatasetWriter(columns={"x": "int32"})
    write = dw.get_split_write()
    for v in range(7):
        write(v)
    ds = dw.finish()
    assert [list(ds.iterate(s, "x")) for s in range(SLICES)] == [[0, 3, 6], [1, 4], [2, 5]]


def test_split_write_list_and_dict_agree_with_split_write(job):
    dws = [DatasetWriter(name=n, columns={"a": "int32", "b": "unicode"}) for n in "xyz"]
    dws[0].get_split_write()(1, "a")
    dws[1].get_split_write_list()([1, "a"])
    dws[2].get_split_write_dict()({"a": 1, "b": "a"})
    results = [list(dw.finish().iterate(0)) for dw in dws]
    assert results == [[(1, "a")]] * 3


def test_large_bytes_values_round_trip_beside_small_ones_and_none(job, monkeypatch):
    # A chunk of a few large values goes to the file with os.writev, unjoined; the
    # values must come back byte for byte, NULs, empty values and None included, even
    # when the system writes less than asked each time.
    parts_given = []

    def short_writev(fd, views):
        parts_given.append(len(views))
        return os.write(fd, views[0][:100_000])

    monkeypatch.setattr(writer_module.os, "writev", short_writev)
    big = [bytes(range(256)) * 3000, b"\0" * 700_000, b"", None, b"tail\0"]
    small = [b"a", b"", None, b"\0b"]
    dw = DatasetWriter()
    dw.add("blob", "bytes", none_support=True)
    dw.set_slice(0)
    for value in big:
        dw.write(value)
    dw.set_slice(1)
    for value in small:
        dw.write(value)
    dw.set_slice(2)
    dw.finish()
    ds = Dataset("t-1")
    assert list(ds.iterate(0, "blob")) == big
    assert list(ds.iterate(1, "blob")) == small
    assert list(ds.iterate(2, "blob")) == []
    # The chunk flushed once past CHUNK_BYTES holds the two big values, not joined.
    assert parts_given[0] == 2 * 2


def test_write_takes_keywords_named_after_columns(job):
    dw = DatasetWriter()
    dw.add("first value", "int64")
    dw.add("2nd", "unicode")
    dw.set_slice(0)
    dw.write(first_value=5, _2nd="five")
    for sliceno in range(1, SLICES):
        dw.set_slice(sliceno)
    assert list(dw.finish().iterate(0)) == [("five", 5)]


def test_too_many_values_is_a_dataset_error(job):
    dw = DatasetWriter(columns={"a": "int64", "b": "ascii"})
    dw.set_slice(0)
    with pytest.raises(DatasetError, match="2 columns"):
        dw.write(1, "a", 2)


@pytest.mark.parametrize(
    ("args", "kwargs", "column"),
    [((1,), {}, "b"), ((), {"b": "x"}, "a")],
    ids=["positional", "keyword"],
)
def test_missing_value_is_a_dataset_error_naming_the_column(job, args, kwargs, column):
    dw = DatasetWriter(columns={"a": "int64", "b": "ascii"})
    dw.set_slice(0)
    dw.write(*args, **kwargs)
    with pytest.raises(DatasetError, match=f"No value for column '{column}' in row 0"):
        dw.finish()


def test_write_list_of_wrong_length_is_a_dataset_error(job):
    dw = DatasetWriter(columns={"a": "int64", "b": "ascii"})
    dw.set_slice(0)
    with pytest.raises(DatasetError, match="2 columns"):
        dw.write_list([1])


def test_write_dict_without_a_column_names_it(job):
    dw = DatasetWriter(columns={"a": "int64", "b": "ascii"})
    dw.set_slice(0)
    with pytest.raises(DatasetError, match="lacks column 'b'"):
        dw.write_dict({"a": 1})


def test_writing_before_choosing_a_slice_is_an_error(job):
    dw = DatasetWriter(columns={"a": "int64"})
    with pytest.raises(DatasetError, match="set_slice"):
        dw.write(1)


def test_finish_without_all_slices_is_an_error(job):
    dw = DatasetWriter(name="fails", columns={"a": "ascii"})
    dw.set_slice(1)
    dw.write("a")
    with pytest.raises(DatasetError, match=r"missing \[0, 2\]"):
        dw.finish()


def test_allow_missing_slices_leaves_them_empty(job):
    dw = DatasetWriter(name="succeeds", columns={"a": "ascii"}, allow_missing_slices=True)
    dw.set_slice(1)
    dw.write("a")
    assert dw.finish().lines == [0, 1, 0]


def test_split_writer_is_refused_with_allow_missing_slices(job):
    dw = DatasetWriter(columns={"a": "ascii"}, allow_missing_slices=True)
    with pytest.raises(DatasetError, match="allow_missing_slices"):
        dw.get_split_write()


def test_set_slice_and_split_writer_do_not_mix(job):
    dw = DatasetWriter(columns={"a": "ascii"})
    dw.get_split_write()
    with pytest.raises(DatasetError, match="both"):
        dw.set_slice(0)


def test_duplicate_dataset_name_is_an_error(job):
    DatasetWriter(name="dup")
    with pytest.raises(DatasetError, match="Duplicate"):
        DatasetWriter(name="dup")


def test_name_of_a_finished_dataset_cannot_be_reused(job):
    dw = DatasetWriter(name="done", columns={"a": "int64"})
    dw.get_split_write()(1)
    dw.finish()
    with pytest.raises(DatasetError, match="Duplicate"):
        DatasetWriter(name="done")


def test_discard_removes_the_writer_and_its_files(job):
    dw = DatasetWriter(name="gone", columns={"a": "int64"})
    dw.get_split_write()(1)
    dw.discard()
    assert not (job.job.path / "datasets" / "gone").exists()
    DatasetWriter(name="gone")  # the name is free again


def test_unknown_column_type_is_an_error(job):
    dw = DatasetWriter()
    with pytest.raises(DatasetError, match="Unknown type 'int16'"):
        dw.add("a", "int16")


def test_analysis_gets_writers_by_name_only(job):
    DatasetWriter(name="x", columns={"a": "int64"})
    job.prepare_done()

    def analysis(sliceno):
        with pytest.raises(DatasetError, match="by name only"):
            DatasetWriter(name="x", columns={"a": "int64"})
        with pytest.raises(DatasetError, match="No dataset writer 'y'"):
            DatasetWriter(name="y")

    job.analysis(analysis)


def test_writer_outside_a_job_is_an_error(job):
    current.job = None
    with pytest.raises(DatasetError, match="inside a running job"):
        DatasetWriter()


def test_several_datasets_per_job(job):
    for name in ("one", "two"):
        dw = DatasetWriter(name=name, columns={"v": "unicode"})
        dw.get_split_write()(name)
    job.synthesis_done()
    assert [list(Dataset(f"t-1/{n}").iterate(None, "v")) for n in ("one", "two")] == [
        ["one"],
        ["two"],
    ]


def test_dataset_is_not_visible_until_finished(job):
    dw = DatasetWriter(columns={"a": "int64"})
    dw.get_split_write()(1)
    dw._flush()
    with pytest.raises(DatasetError, match="not finished"):
        Dataset("t-1")
    dw.finish()
    assert len(Dataset("t-1")) == 1


def test_discard_all_leaves_no_dataset_after_a_failure(job):
    DatasetWriter(name="half", columns={"a": "int64"})
    job.prepare_done()
    job.analysis(lambda sliceno: DatasetWriter(name="half").write(sliceno))
    writer_module._discard_all()
    assert not (job.job.path / "datasets" / "half").exists()
    with pytest.raises(DatasetError, match="No dataset"):
        Dataset("t-1/half")


def test_a_bad_value_finishes_nothing(job):
    dw = DatasetWriter(columns={"a": "int32"})
    dw.set_slice(0)
    dw.write(2**40)
    with pytest.raises(DatasetError):
        dw.finish()
    assert not (job.job.path / "datasets" / "default" / "dataset.json").exists()


@pytest.mark.parametrize(
    ("coltype", "bad", "shown", "reason"),
    [
        ("unicode", 5, "5", "only str is accepted, not int"),
        ("unicode", b"x", "b'x'", "only str is accepted, not bytes"),
        ("unicode", None, "None", "none_support=False"),
        ("unicode", "a\ud800", "'a\\ud800'", "surrogates not allowed"),
        ("ascii", "bl\xe5", "'bl\xe5'", "not ASCII"),
        ("ascii", None, "None", "none_support=False"),
    ],
    ids=["int", "bytes", "None", "lone-surrogate", "ascii-non-ascii", "ascii-None"],
)
def test_bad_value_in_the_middle_of_a_chunk_is_reported_with_its_row(
    job, coltype, bad, shown, reason
):
    # Checked a chunk at a time, but the error still names column, type, value and row.
    bad_row = writer_module.CHUNK + 100
    dw = DatasetWriter(columns={"n": "int64", "s": coltype})
    dw.set_slice(0)
    with pytest.raises(DatasetError) as e:
        for i in range(2 * writer_module.CHUNK):
            dw.write(i, bad if i == bad_row else f"value {i}")
    message = str(e.value)
    assert f"Bad value {shown} for column 's' (type {coltype})" in message
    assert f"row {bad_row} written" in message
    assert reason in message


def test_a_chunk_that_failed_leaves_no_dataset_even_when_the_error_was_caught(job):
    dw = DatasetWriter(columns={"s": "unicode"})
    dw.set_slice(0)
    for i in range(writer_module.CHUNK + 5):
        try:
            dw.write(5 if i == 100 else str(i))
        except DatasetError:
            pass  # the first chunk is lost: the writer must not finish without it
    for sliceno in (0, 1):
        with pytest.raises(DatasetError, match="can't be written or finished: an earlier chunk"):
            dw.finish() if sliceno else dw.set_slice(1)
    assert not (dw.dir / "dataset.json").exists()
    writer_module._discard_all()  # what the runner does when the job fails
    assert not dw.dir.exists()
    with pytest.raises(DatasetError, match="No dataset"):
        Dataset("t-1")


def test_slice_metadata_travels_from_slice_processes_by_files(job):
    DatasetWriter(columns={"a": "int64"})
    job.prepare_done()
    job.analysis(lambda sliceno: DatasetWriter().write(sliceno * 7))
    assert sorted(p.name for p in (job.job.path / "datasets/default").glob("slice.*.json")) == [
        "slice.0.json",
        "slice.1.json",
        "slice.2.json",
    ]
    writer_module._writers["default"]._outs.clear()  # what a forked job process knows
    job.synthesis_done()
    ds = Dataset("t-1")
    assert (ds.lines, ds.columns["a"].min, ds.columns["a"].max) == ([1, 1, 1], 0, 14)
    assert not list((job.job.path / "datasets/default").glob("slice.*.json"))


def test_columns_dict_is_written_in_sorted_order(job):
    dw = DatasetWriter(columns={"b": "int64", "a": "unicode"})
    dw.set_slice(0)
    dw.write("x", 1)
    assert list(dw.columns) == ["a", "b"]


def test_many_rows_cross_chunk_boundaries(job):
    n = writer_module.CHUNK * 2 + 17
    dw = DatasetWriter(columns={"i": "int64", "s": "unicode"})
    dw.set_slice(0)
    for i in range(n):
        dw.write(i, str(i))
    for sliceno in range(1, SLICES):
        dw.set_slice(sliceno)
    ds = dw.finish()
    assert list(ds.iterate(0, "i")) == list(range(n))
    assert list(ds.iterate(0, "s"))[-3:] == [str(n - 3), str(n - 2), str(n - 1)]


def test_big_bytes_values_are_flushed_by_size_not_held_for_a_whole_chunk(job):
    import os

    dw = DatasetWriter()
    dw.add("name", "unicode")
    dw.add("image", "bytes")
    job.prepare_done()
    sizes = []

    def analysis(sliceno):
        w = DatasetWriter()
        for i in range(20 if sliceno == 0 else 0):
            w.write(f"photo {i}", os.urandom(1 << 20))  # 1 MB each, random: no zeros
            sizes.append(sum(f.stat().st_size for f in w.dir.iterdir() if f.is_file()))

    job.analysis(analysis)
    job.synthesis_done()
    held = writer_module.CHUNK_BYTES >> 20
    assert sizes[held - 1] == 0  # CHUNK_BYTES are buffered...
    assert sizes[held] > writer_module.CHUNK_BYTES  # ...and the next MB pushes them out
    ds = Dataset("t-1")
    assert ds.lines == [20, 0, 0]
    assert [len(v) for v in ds.iterate(0, "image")] == [1 << 20] * 20
