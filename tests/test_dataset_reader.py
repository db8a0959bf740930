"""Reading datasets: iterate and its options, chains, numpy, identity, damaged files."""

from __future__ import annotations

import pickle
from datetime import date, datetime

import numpy as np
import pytest
from test_dataset_support import SLICES, job_fixture, write_slices  # noqa: F401 - the job fixture

from accnb import current
from accnb.dataset import Dataset, DatasetWriter
from accnb.dataset import reader as reader_module
from accnb.errors import DatasetError


def make(name="default", rows=None, columns=None, **kw) -> Dataset:
    """A dataset with int64 a and ascii b; rows per slice default to 3 rows a slice."""
    dw = DatasetWriter(name=name, columns=columns or {"a": "int64", "b": "ascii"}, **kw)
    if rows is None:
        rows = [[(s * 10 + i, f"{s}:{i}") for i in range(3)] for s in range(SLICES)]
    write_slices(dw, rows)
    return dw.finish()


def test_single_column_name_gives_values(job):
    assert list(make().iterate(1, "a")) == [10, 11, 12]


def test_list_of_columns_gives_tuples_in_that_order(job):
    assert list(make().iterate(0, ["b", "a"])) == [("0:0", 0), ("0:1", 1), ("0:2", 2)]


def test_no_columns_gives_all_columns_in_name_order(job):
    assert next(make().iterate(2)) == (20, "2:0")


def test_sliceno_none_gives_all_slices_in_order(job):
    assert list(make().iterate(None, "a")) == [0, 1, 2, 10, 11, 12, 20, 21, 22]


def test_roundrobin_takes_one_row_from_each_slice_in_turn(job):
    ds = make(rows=[[(1, "")], [(2, ""), (4, "")], [(3, ""), (5, ""), (6, "")]])
    assert list(ds.iterate("roundrobin", "a")) == [1, 2, 3, 4, 5, 6]


def test_unknown_column_is_an_error_naming_the_dataset(job):
    with pytest.raises(DatasetError, match=r"\['c'\] not in t-1/default"):
        make().iterate(0, "c")


def test_range_keeps_rows_from_start_to_before_stop(job):
    assert list(make().iterate(None, "a", range={"a": (2, 11)})) == [2, 10]


def test_range_on_another_column_filters_rows(job):
    assert list(make().iterate(None, "b", range={"a": (11, None)})) == [
        "1:1",
        "1:2",
        "2:0",
        "2:1",
        "2:2",
    ]


def test_sloppy_range_skips_only_whole_datasets(job):
    first = make("first", rows=[[(1, "")], [(2, "")], [(3, "")]])
    second = make("second", rows=[[(10, "")], [(20, "")], [(30, "")]], previous=first)
    got = list(second.iterate_chain(None, "a", range={"a": (2, 5)}, sloppy_range=True))
    assert got == [1, 2, 3]


def test_filters_per_column(job):
    got = list(make().iterate(None, ("a", "b"), filters={"a": lambda v: v % 10 == 2}))
    assert got == [(2, "0:2"), (12, "1:2"), (22, "2:2")]


def test_filter_callable_gets_the_row(job):
    assert list(make().iterate(0, ("a", "b"), filters=lambda t: t[1] == "0:1")) == [(1, "0:1")]


def test_translators_run_before_filters(job):
    ds = make()
    got = list(ds.iterate(0, "a", translators={"a": {0: "zero"}}, filters={"a": None}))
    assert got == ["zero"]


def test_slice_takes_rows_like_islice_with_negative_start(job):
    ds = make()
    assert list(ds.iterate(None, "a", slice=-2)) == [21, 22]
    assert list(ds.iterate(None, "a", slice=slice(1, 8, 3))) == [1, 11, 21]


def test_slice_past_the_end_is_an_error(job):
    with pytest.raises(DatasetError, match="past the 9 lines"):
        make().iterate(None, "a", slice=10)


def test_chain_follows_previous_oldest_first(job):
    a = make("a")
    b = make("b", previous=a)
    c = make("c", previous=b)
    assert c.chain() == [a, b, c]
    assert c.chain(length=2) == [b, c]
    assert c.chain(stop_ds=a) == [b, c]
    assert c.chain(reverse=True) == [c, b, a]


def test_iterate_chain_gives_each_dataset_in_turn(job):
    a = make("a", rows=[[(1, "")], [], []])
    b = make("b", rows=[[(2, "")], [], []], previous=a)
    assert list(b.iterate_chain(0, "a")) == [1, 2]


def test_chain_min_max_and_lines(job):
    a = make("a", rows=[[(1, "")], [], []])
    b = make("b", rows=[[(7, "")], [(-3, "")], []], previous=a)
    chain = b.chain()
    assert (chain.min("a"), chain.max("a"), chain.lines(), chain.lines(0)) == (-3, 7, 3, 2)


def test_metadata_of_a_dataset(job):
    ds = make("named", caption="cap", hashlabel=None)
    assert (ds.name, ds.jobid, str(ds), ds.caption) == ("named", "t-1", "t-1/named", "cap")
    assert (ds.lines, len(ds), ds.shape, ds.hashlabel) == ([3, 3, 3], 9, (2, 9), None)


def test_caption_defaults_to_the_jobid(job):
    assert make().caption == "t-1"


def test_equality_by_id(job):
    ds = make()
    assert ds == Dataset("t-1") and ds == "t-1" and ds == "t-1/default"
    assert ds != make("other")
    assert len({ds, Dataset("t-1/default")}) == 1


def test_pickles_by_path(job):
    ds = make()
    data = pickle.dumps(ds)
    current.job = None
    again = pickle.loads(data)
    assert again == ds and list(again.iterate(0, "a")) == [0, 1, 2]


def test_from_path_works_without_a_current_job(job):
    path = make().path
    current.job = current.slices = None
    assert list(Dataset.from_path(path).iterate(2, "b")) == ["2:0", "2:1", "2:2"]


def test_id_without_a_job_or_workdir_is_an_error(job):
    make()
    current.job = None
    with pytest.raises(DatasetError, match="path="):
        Dataset("t-1")


def test_datasets_of_other_jobs_are_found_as_siblings(job):
    make()
    job.new_job()
    assert list(Dataset("t-1").iterate(0, "a")) == [0, 1, 2]


def test_workdir_path_is_used_when_set(job):
    make()
    workdir = job.workdir
    current.job = None
    current.workdir = type("W", (), {"path": workdir})()
    assert len(Dataset("t-1")) == 9


def test_numpy_of_a_fixed_width_slice_is_memory_mapped(job):
    arr = make().column("a").numpy(1)
    assert arr.tolist() == [10, 11, 12] and arr.dtype == np.int64
    assert not arr.flags.writeable and not arr.flags.owndata


def test_numpy_of_all_slices(job):
    assert make().column("a").numpy().tolist() == [0, 1, 2, 10, 11, 12, 20, 21, 22]


def test_numpy_of_empty_slices_is_empty(job):
    ds = make(rows=[[], [(5, "x")], []])
    assert ds.column("a").numpy(0).tolist() == [] and ds.column("a").numpy().tolist() == [5]


def test_numpy_gives_datetime64_for_dates(job):
    ds = make(
        columns={"d": "date", "t": "datetime"},
        rows=[[(date(2020, 1, 2), datetime(2020, 1, 2, 3))], [], []],
    )
    assert ds.column("d").numpy(0).tolist() == [date(2020, 1, 2)]
    assert ds.column("t").numpy(0).dtype == np.dtype("datetime64[us]")


def test_numpy_masks_none(job):
    dw = DatasetWriter()
    dw.add("x", "float64", none_support=True)
    write_slices(dw, [[(1.5,), (None,)], [], []])
    arr = dw.finish().column("x").numpy(0)
    assert isinstance(arr, np.ma.MaskedArray) and arr.mask.tolist() == [False, True]


def test_numpy_of_number_with_only_ints_is_int64(job):
    ds = make(columns={"n": "number"}, rows=[[(1,), (2**40,)], [], []])
    assert ds.column("n").numpy(0).dtype == np.int64


def test_write_columns_writes_numpy_arrays(job):
    rng = np.random.default_rng(5)
    a, f = rng.integers(-(2**62), 2**62, 1000), rng.random(1000)
    dw = DatasetWriter(columns={"a": "int64", "f": "float64"})
    for sliceno in range(SLICES):
        dw.set_slice(sliceno)
        dw.write_columns({"a": a, "f": f})
    ds = dw.finish()
    assert np.array_equal(ds.column("a").numpy(2), a) and np.array_equal(ds.column("f").numpy(2), f)
    assert (ds.columns["a"].min, ds.columns["a"].max) == (a.min(), a.max())


def test_write_columns_of_nothing_then_something(job):
    dw = DatasetWriter(columns={"s": "unicode"})
    dw.set_slice(0)
    dw.write_columns({"s": []})
    dw.write_columns({"s": ["a", "b"]})
    write_slices(dw, [[("c",)], [], []])
    assert list(dw.finish().iterate(0, "s")) == ["a", "b", "c"]


def test_write_columns_checks_the_range_of_integers(job):
    dw = DatasetWriter(columns={"a": "int32"})
    dw.set_slice(0)
    with pytest.raises(DatasetError, match="column 'a' \\(type int32\\)"):
        dw.write_columns({"a": np.array([1, 2**40])})


def test_write_columns_masked_array_gives_none(job):
    dw = DatasetWriter()
    dw.add("a", "int64", none_support=True)
    dw.set_slice(0)
    dw.write_columns({"a": np.ma.MaskedArray([1, 2, 3], mask=[0, 1, 0])})
    for sliceno in range(1, SLICES):
        dw.set_slice(sliceno)
    assert list(dw.finish().iterate(0, "a")) == [1, None, 3]


def test_to_pandas(job):
    pd = pytest.importorskip("pandas")
    df = make().to_pandas()
    assert isinstance(df, pd.DataFrame) and df["a"].tolist()[:3] == [0, 1, 2]


def test_big_values_are_read_in_chunks(job, monkeypatch):
    rng = np.random.default_rng(11)
    blobs = [rng.bytes(100_000) for _ in range(6)]
    ds = make(columns={"jpeg": "bytes"}, rows=[[(b,) for b in blobs], [], []])
    monkeypatch.setattr(reader_module, "CHUNK_BYTES", 150_000)
    seen = []
    chunks = ds.column("jpeg")._var_chunks
    monkeypatch.setattr(
        ds.column("jpeg"), "_var_chunks", lambda *a: (seen.append(len(c)) or c for c in chunks(*a))
    )
    assert list(ds.iterate(0, "jpeg")) == blobs
    assert seen == [1] * 6


def test_truncated_column_file_is_an_error_naming_dataset_and_column(job):
    ds = make()
    path = ds.path / "c0.1"  # a, slice 1
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(
        DatasetError, match=r"t-1/default, column 'a' \(int64\), slice 1: c0.1 has 21 bytes"
    ):
        list(Dataset("t-1").iterate(1, "a"))


def test_missing_column_file_is_an_error(job):
    ds = make()
    (ds.path / "c1.2").unlink()
    with pytest.raises(DatasetError, match="column 'b'.*missing"):
        list(Dataset("t-1").iterate(2, "b"))


def make_with_a_shifted_offset() -> Dataset:
    """make()'s dataset, with the end of column b's first value in slice 0 a byte late."""
    ds = make()
    offsets = np.fromfile(ds.path / "c1.0.offsets", dtype="<i8")
    offsets[1] += 1
    offsets.tofile(ds.path / "c1.0.offsets")
    return ds


def test_corrupt_offsets_are_an_error_not_wrong_values(job):
    make_with_a_shifted_offset()
    with pytest.raises(DatasetError, match="column 'b'.*do not agree"):
        list(Dataset("t-1").iterate(0, "b"))


def test_a_shifted_chunk_boundary_hidden_by_a_nul_in_a_value_is_an_error(job):
    # the first chunk of 8192 rows loses its last value's NUL to the offsets and gains
    # one inside row 5: as many NULs as rows, but not where the rows end
    values = [b"p\0q" if i == 5 else b"v%d" % i for i in range(8200)]
    ds = make(
        rows=[[(i, v) for i, v in enumerate(values)], [], []], columns={"a": "int64", "b": "bytes"}
    )
    offsets = np.fromfile(ds.path / "c1.0.offsets", dtype="<i8")
    offsets[8192] = offsets[8191]
    offsets.tofile(ds.path / "c1.0.offsets")
    for read in (
        lambda: list(ds.iterate(0, "b")),
        lambda: list(ds.column("b").chunks(0, 8192, packed=True)),
    ):
        with pytest.raises(DatasetError, match="column 'b'.*do not agree"):
            read()


def test_a_lost_nul_in_the_values_file_is_an_error_not_wrong_values(job):
    ds = make()
    path = ds.path / "c1.0"
    path.write_bytes(path.read_bytes().replace(b"\0", b"x", 1))
    with pytest.raises(DatasetError, match="column 'b'.*do not agree"):
        list(Dataset("t-1").iterate(0, "b"))


def test_corrupt_metadata_is_an_error(job):
    ds = make()
    (ds.path / "dataset.json").write_text("{")
    with pytest.raises(DatasetError, match="corrupt"):
        Dataset("t-1")


def test_parent_appends_columns_without_copying(job):
    parent = make("parent")
    dw = DatasetWriter(name="child", columns={"c": "unicode"}, parent=parent)
    for sliceno in range(SLICES):
        dw.set_slice(sliceno)
        for v in parent.iterate(sliceno, "b"):
            dw.write(v + v)
    child = dw.finish()
    assert list(child.iterate(1)) == [
        (10, "1:0", "1:01:0"),
        (11, "1:1", "1:11:1"),
        (12, "1:2", "1:21:2"),
    ]
    assert child.parent == parent
    assert sorted(p.name for p in child.path.iterdir()) == [
        "c0.0", "c0.0.offsets", "c0.1", "c0.1.offsets", "c0.2", "c0.2.offsets", "dataset.json",
    ]  # fmt: skip


def test_parent_with_other_line_counts_is_an_error(job):
    parent = make("parent")
    dw = DatasetWriter(name="child", columns={"c": "int64"}, parent=parent)
    write_slices(dw, [[(1,)], [], []])
    with pytest.raises(
        DatasetError, match=r"\[1, 0, 0\] lines per slice but its parent t-1/parent has \[3, 3, 3\]"
    ):
        dw.finish()


def test_parent_column_can_be_discarded_or_replaced(job):
    parent = make("parent")
    dw = DatasetWriter(name="child", columns={"a": "unicode", "b": None}, parent=parent)
    write_slices(dw, [[("x",)] * 3] * 3)
    child = dw.finish()
    assert list(child.columns) == ["a"] and child.columns["a"].type == "unicode"


def test_parent_hashlabel_is_kept_and_split_needs_its_column(job):
    dw = DatasetWriter(name="parent", columns={"a": "ascii"}, hashlabel="a")
    w = dw.get_split_write()
    for v in ("a", "aa", "aaa"):
        w(v)
    parent = dw.finish()
    child = DatasetWriter(name="child", columns={"b": "ascii"}, parent=parent)
    with pytest.raises(DatasetError, match="parent t-1/parent is hashed on 'a'"):
        child.get_split_write()
    for sliceno in range(SLICES):
        child.set_slice(sliceno)
        for v in parent.iterate(sliceno, "a"):
            child.write(v + v)
    ds = child.finish()
    assert ds.hashlabel == "a"
    assert set(ds.iterate(None)) == {("a", "aa"), ("aa", "aaaa"), ("aaa", "aaaaaa")}


def test_parent_hashlabel_cannot_be_changed(job):
    parent = make("parent", hashlabel="a", rows=[[], [], []])
    with pytest.raises(DatasetError, match="Hashlabel mismatch"):
        DatasetWriter(name="fail", columns={"c": "ascii"}, parent=parent, hashlabel="c")


def test_missing_parent_is_an_error(job):
    with pytest.raises(DatasetError, match="No dataset t-1/nah"):
        DatasetWriter(parent=("t-1", "nah"))


def test_previous_must_be_finished_first(job):
    first = DatasetWriter(name="first", columns={"a": "int64"})
    with pytest.raises(DatasetError, match="finished before"):
        DatasetWriter(name="second", previous=first)


def test_link_to_here_exposes_another_jobs_dataset(job):
    source = make()
    job.new_job()
    linked = source.link_to_here("linked", column_filter=["b"])
    assert (str(linked), list(linked.columns), linked.parent) == ("t-2/linked", ["b"], source)
    assert list(linked.iterate(0, "b")) == ["0:0", "0:1", "0:2"]


def test_link_to_here_can_rechain(job):
    a = make("a")
    b = make("b", previous=a)
    job.new_job()
    assert b.link_to_here(override_previous=None).previous is None
    assert b.link_to_here("kept").previous == a


def test_link_to_here_renames_and_drops_columns_as_the_accelerator_does(job):
    dw = DatasetWriter(name="hashed", columns={"a": "int64", "b": "ascii"}, hashlabel="a")
    write = dw.get_split_write()
    for i in range(30):
        write(i, f"v{i}")
    source = dw.finish()
    job.new_job()
    renamed = source.link_to_here("renamed", rename={"a": "x"})
    assert sorted(renamed.columns) == ["b", "x"] and renamed.hashlabel == "x"
    assert list(renamed.iterate(1, "x")) == list(source.iterate(1, "a"))
    over = source.link_to_here("over", rename={"b": "a"})  # b takes the hashlabel's name
    assert list(over.columns) == ["a"] and over.hashlabel is None
    assert list(over.iterate(0, "a")) == list(source.iterate(0, "b"))
    dropped = source.link_to_here("dropped", rename={"a": None})
    assert list(dropped.columns) == ["b"] and dropped.hashlabel is None
    with pytest.raises(DatasetError, match="'c'.*not in"):
        source.link_to_here("bad", rename={"c": "d"})
    with pytest.raises(DatasetError, match="Both 'a' and 'b' are renamed to 'z'"):
        source.link_to_here("bad", rename={"a": "z", "b": "z"})
    with pytest.raises(DatasetError, match="No columns"):
        source.link_to_here("bad", rename={"a": None, "b": None})


def test_filename_is_kept_inherited_replaced_and_cleared(job):
    source = make(filename="/data/in.csv")
    assert source.filename == "/data/in.csv" and make("plain").filename is None
    child = DatasetWriter(name="child", parent=source, columns={"c": "int32"})
    write_slices(child, [[(i,) for i in range(3)] for _ in range(SLICES)])
    assert child.finish().filename == "/data/in.csv"
    job.new_job()
    assert source.link_to_here("same").filename == "/data/in.csv"
    assert source.link_to_here("other", filename="/data/other.csv").filename == "/data/other.csv"
    assert source.link_to_here("none", filename="").filename is None


def test_hashlabel_override_writes_rows_to_any_slice(job):
    dw = DatasetWriter(name="o", columns={"a": "int64"}, hashlabel="a", hashlabel_override=True)
    write_slices(dw, [[(7,)] for _ in range(SLICES)])  # 7 hashes to one slice only
    ds = dw.finish()
    assert ds.hashlabel == "a" and list(ds.iterate(None, "a")) == [7] * SLICES
    checked = DatasetWriter(name="checked", columns={"a": "int64"}, hashlabel="a")
    with pytest.raises(DatasetError, match="belongs in slice"):
        write_slices(checked, [[(7,)] for _ in range(SLICES)])


def test_hashlabel_override_gives_a_child_its_own_hashlabel_or_none(job):
    parent = make("p", columns={"a": "int64"}, rows=[[] for _ in range(SLICES)], hashlabel="a")
    with pytest.raises(DatasetError, match="Hashlabel mismatch"):
        DatasetWriter(name="strict", parent=parent, hashlabel="c")
    for hashlabel in (None, "c"):
        child = DatasetWriter(
            name=f"child{hashlabel}", parent=parent, hashlabel=hashlabel, hashlabel_override=True
        )
        child.add("c", "int64")
        write_slices(child, [[] for _ in range(SLICES)])
        assert child.finish().hashlabel == hashlabel


def mkds(name, columns, data, **kw):
    dw = DatasetWriter(name=name, columns=dict.fromkeys(columns, "int32"), **kw)
    write = dw.get_split_write()
    for v in data:
        write(*v)
    return dw.finish()


def test_merge_takes_columns_from_both_other_wins(job):
    a0 = mkds("a0", ["0", "1"], [(1, 2), (3, 4), (5, 6)])
    b0 = mkds("b0", ["1", "2"], [(13, 14), (15, 16), (17, 18)], parent=a0)
    c0 = mkds("c0", ["3"], [(25,), (26,), (27,)], parent=a0)
    assert sorted(b0.merge(c0, name="bc0").iterate(None)) == [
        (1, 2, 14, 25),
        (3, 4, 16, 26),
        (5, 6, 18, 27),
    ]
    assert sorted(c0.merge(b0, name="cb0").iterate(None)) == [
        (1, 13, 14, 25),
        (3, 15, 16, 26),
        (5, 17, 18, 27),
    ]


def test_merge_of_unrelated_datasets_needs_allow_unrelated(job):
    a0 = mkds("a0", ["0"], [(1,), (2,), (3,)])
    other = mkds("other", ["5"], [(31,), (32,), (33,)])
    with pytest.raises(DatasetError, match="no common ancestor"):
        a0.merge(other, name="fail")
    assert sorted(a0.merge(other, name="ok", allow_unrelated=True).iterate(None)) == [
        (1, 31),
        (2, 32),
        (3, 33),
    ]


def test_merge_with_itself_is_an_error(job):
    a0 = mkds("a0", ["0"], [(1,)])
    with pytest.raises(DatasetError, match="itself"):
        a0.merge(a0)


def test_merge_needs_the_same_lines_per_slice(job):
    a0 = mkds("a0", ["0"], [(1,), (2,), (3,)])
    b0 = make("b0", rows=[[(1, "")] * 3, [], []])
    with pytest.raises(DatasetError, match="same lines"):
        a0.merge(b0, allow_unrelated=True)


@pytest.mark.parametrize(
    ("ctype", "value"),
    [
        ("int64", lambda i: i * 7 - 20),
        ("float32", lambda i: i / 4),
        ("number", lambda i: 2**70 + i if i % 5 == 0 else i),
        ("bool", lambda i: i % 2 == 0),
        ("date", lambda i: date(2020, 1, 1 + i % 28)),
        ("unicode", lambda i: "ö" * (i % 4) + str(i)),
        ("bytes", lambda i: bytes([i % 256]) * (i % 9)),
        ("json", lambda i: {"i": i, "even": i % 2 == 0}),
        ("pickle", lambda i: (i, {i})),
    ],
)
def test_take_reads_chosen_rows_as_iterate_would(job, ctype, value):
    rows = [[(value(s * 100 + i) if i % 6 else None,) for i in range(40)] for s in range(SLICES)]
    dw = DatasetWriter(columns={"x": (ctype, True)})
    write_slices(dw, rows)
    column = dw.finish().column("x")
    wanted = [39, 0, 17, 17, 5]
    everything = list(column.iterate(1))
    assert column.take(1, wanted) == [everything[r] for r in wanted]


def test_take_refuses_a_row_the_slice_does_not_have(job):
    with pytest.raises(DatasetError, match="has 3 rows: there is no row 3"):
        make().column("a").take(0, [1, 3])


def test_iterating_a_column_of_big_values_streams_instead_of_growing(job):
    import os

    def rss() -> int:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    dw = DatasetWriter(columns={"blob": "bytes"})
    write_slices(dw, [[(os.urandom(1 << 20),) for _ in range(48)], [], []])
    ds = dw.finish()
    before = rss()
    peak = before
    for value in ds.iterate(0, "blob"):
        assert len(value) == 1 << 20
        peak = max(peak, rss())
    assert peak - before < 24 << 20  # 48 MB read; what was read past is unmapped again


def test_take_of_a_row_with_a_shifted_offset_is_an_error_not_a_shorter_value(job):
    make_with_a_shifted_offset()
    with pytest.raises(DatasetError, match="do not agree"):
        Dataset("t-1").column("b").take(0, [1])
