"""The standard method dataset_sort: a stable sort within slices or across them."""

from __future__ import annotations

import pytest

from accnb import JobError


@pytest.fixture
def source(wd, tmp_path):
    """source(text, **column2type): the CSV text imported and typed; previous=(imp, typed)
    chains both to an earlier source."""

    def build(text, previous=(None, None), name="data.csv", **column2type):
        path = tmp_path / name
        path.write_text(text)
        imp = wd.build("csvimport", filename=str(path), previous=previous[0])
        typed = wd.build("dataset_type", source=imp, previous=previous[1], column2type=column2type)
        return imp, typed

    return build


TEXT = "k,v\n3,a\n1,b\n2,c\n1,d\nnan,e\n,f\n"


def test_each_slice_is_sorted_on_its_own_stably(wd, source):
    _, typed = source(TEXT, k="float64+None", v="ascii")
    ds = wd.build("dataset_sort", source=typed, sort_columns="k").dataset()
    assert ds.lines == typed.dataset().lines
    # slice 0 had 3, 2, nan; slice 1 had 1, 1, None (rows dealt round robin)
    assert list(ds.iterate(0, "v")) == ["c", "a", "e"]  # NaN sorts last
    assert list(ds.iterate(1, "v")) == ["f", "b", "d"]  # None first, equal keys keep order


def test_descending_and_several_columns(wd, source):
    _, typed = source("a,b\n1,2\n1,3\n0,9\n1,1\n", a="number", b="number")
    job = wd.build(
        "dataset_sort", source=typed, sort_columns=["a", "b"], sort_order="descending",
        sort_across_slices=True,
    )  # fmt: skip
    assert list(job.dataset().iterate(None, ["a", "b"])) == [(1, 3), (1, 2), (1, 1), (0, 9)]
    assert job.dataset().lines == [2, 2]


def test_across_slices_deals_the_sorted_rows_out_in_order(wd, source):
    # rows in chain order 5 4 2 | 3 1: the sorted order's row indexes are 4 2 3 1 0, and as
    # in the Accelerator the slice whose index there is smaller (slice 1: 2 < 4) gets the
    # leftover row
    _, typed = source("k\n5\n3\n4\n1\n2\n", k="number")
    ds = wd.build("dataset_sort", source=typed, sort_columns="k", sort_across_slices=True).dataset()
    assert ds.lines == [2, 3] and ds.hashlabel is None
    assert list(ds.iterate(0, "k")) == [1, 2] and list(ds.iterate(1, "k")) == [3, 4, 5]


def test_across_slices_of_rows_already_sorted_the_first_slices_get_the_leftovers(wd, source):
    _, typed = source("k\n1\n2\n3\n4\n5\n", k="number")
    ds = wd.build("dataset_sort", source=typed, sort_columns="k", sort_across_slices=True).dataset()
    assert ds.lines == [3, 2]


def test_the_chain_back_to_previous_becomes_one_sorted_dataset(wd, source):
    first_source = source("k\n2\n1\n", name="1.csv", k="number")
    first = wd.build(
        "dataset_sort", source=first_source[1], sort_columns="k", sort_across_slices=True
    )
    _, typed = source("k\n9\n0\n", name="2.csv", previous=first_source, k="number")
    second = wd.build(
        "dataset_sort", source=typed, previous=first, sort_columns="k", sort_across_slices=True
    )
    assert second.dataset().previous == first.dataset()
    assert list(second.dataset().iterate(None, "k")) == [0, 9]
    assert list(second.dataset().iterate_chain(None, "k")) == [1, 2, 0, 9]
    # without previous, the whole chain of the source is sorted together
    both = wd.build("dataset_sort", source=typed, sort_columns="k", sort_across_slices=True)
    assert list(both.dataset().iterate(None, "k")) == [0, 1, 2, 9]


def test_none_in_an_older_dataset_of_the_chain_sorts_first(wd, source):
    older = source("k\n2\n\n", name="1.csv", k="int64_10+None")
    _, typed = source("k\n9\n0\n", name="2.csv", previous=older, k="int64_10")
    assert not typed.dataset().columns["k"].none_support
    job = wd.build("dataset_sort", source=typed, sort_columns="k", sort_across_slices=True)
    assert list(job.dataset().iterate(None, "k")) == [None, 0, 2, 9]


def test_a_missing_or_unsortable_column_or_trigger_column_fails_naming_it(wd, source):
    _, typed = source("k,j\n1,[1]\n", j="json")
    with pytest.raises(JobError, match="sort column 'x' is not in"):
        wd.build("dataset_sort", source=typed, sort_columns="x")
    with pytest.raises(JobError, match="can't sort on 'j'"):
        wd.build("dataset_sort", source=typed, sort_columns="j")
    with pytest.raises(JobError, match="trigger_column is not supported"):
        wd.build("dataset_sort", source=typed, sort_columns="k", trigger_column="k")


ROWS = """
import random
options = dict(seed=0)
datasets = ("previous",)

def prepare(job, datasets):
    dw = job.datasetwriter(previous=datasets.previous)
    dw.add("k", "int64")
    dw.add("u", "unicode", none_support=True)
    return dw

def analysis(sliceno, prepare_res, options):
    r = random.Random(options.seed * 10 + sliceno)
    for _ in range(50 + 30 * sliceno):
        k = r.randrange(20)  # repeated keys: the sort must be stable
        prepare_res.write(k, None if k == 3 else f"{k}-{r.random()}")
"""


def test_across_slices_rows_from_every_part_of_a_chain_come_out_whole(wd):
    wd.method("rows", ROWS)
    first = wd.build("rows", seed=1)
    second = wd.build("rows", seed=2, previous=first)
    chain_rows = list(second.dataset().iterate_chain(None, ["k", "u"]))
    job = wd.build("dataset_sort", source=second, sort_columns="k", sort_across_slices=True)
    assert list(job.dataset().iterate(None, ["k", "u"])) == sorted(chain_rows, key=lambda r: r[0])


EVERY_KIND = """
options = dict(rows=300)

def prepare(job):
    dw = job.datasetwriter()
    for name, kind in (("i", "int32"), ("f", "float64"), ("d", "date"), ("n", "number"),
                       ("t", "datetime"), ("u", "unicode"), ("b", "bytes"), ("j", "json")):
        dw.add(name, kind, none_support=name in "ubj")
    return dw

def analysis(sliceno, prepare_res, options):
    import datetime
    for r in range(options.rows * (sliceno + 1)):
        k = (r * 7919 + sliceno) % 13
        prepare_res.write(
            k % 5 - 2, float("nan") if k == 3 else float("inf") if k == 4 else k / 4 - (r % 2),
            datetime.date(2020, 1, 1 + k),
            k * 10**20 if k == 7 else k, datetime.datetime(2020, 1, 1, k, fold=r % 2),
            None if k == 5 else f"ü{r}", None if r % 50 == 0 else b"x\\0" * (r % 3), {"r": r},
        )
"""


@pytest.mark.parametrize(
    ("keys", "order"),
    [("i", "ascending"), ("f", "ascending"), ("f", "descending"), (["d", "i"], "descending"),
     (["i", "f", "t"], "ascending"), ("u", "ascending"), ("n", "descending")],
)  # fmt: skip
def test_numpy_sorts_as_python_sorts(wd, keys, order):
    """Number, date and time keys without None sort by numpy, the other columns taken in
    that order as stored; text and None keys go through Python. Both must be stable and
    give what sorted() gives with the Accelerator's None and NaN rules."""
    wd.method("every_kind", EVERY_KIND)
    source = wd.build("every_kind").dataset()
    job = wd.build("dataset_sort", source=source, sort_columns=keys, sort_order=order)
    keys = [keys] if isinstance(keys, str) else keys
    names = sorted(source.columns)
    for sliceno in range(2):
        rows = list(source.iterate(sliceno, names))

        def key(row):
            values = [row[names.index(k)] for k in keys]
            values = [float("inf") if v != v else v for v in values]  # NaN last
            return ["" if v is None else v for v in values]  # None as the Accelerator's

        want = sorted(rows, key=key, reverse=order == "descending")
        got = list(job.dataset().iterate(sliceno, names))
        assert [repr(r) for r in got] == [repr(r) for r in want]
        assert [r[names.index("t")].fold for r in got] == [r[names.index("t")].fold for r in want]


BIG_VALUES = """
def prepare(job):
    dw = job.datasetwriter()
    dw.add("k", "int64")
    dw.add("blob", "bytes")
    return dw

def analysis(sliceno, prepare_res):
    for k in (5, 1, 4, 2, 3, 0):
        prepare_res.write(k, bytes([k + 10 * sliceno]) * (3 << 20))
"""


def test_rows_of_large_values_come_out_whole_in_sorted_order(wd, write_method):
    write_method("big_values", BIG_VALUES)
    source = wd.build("big_values")
    ds = wd.build("dataset_sort", source=source, sort_columns="k").dataset()
    for sliceno in range(2):
        got = [(k, blob[:1], len(blob)) for k, blob in ds.iterate(sliceno, ("k", "blob"))]
        assert got == [(k, bytes([k + 10 * sliceno]), 3 << 20) for k in range(6)]


def test_sorted_rows_are_cut_into_groups_of_bounded_text_bytes():
    import importlib.util
    from pathlib import Path

    import numpy as np

    from accnb.dataset import Packed

    path = Path(__file__).parent.parent / "methods" / "a_dataset_sort.py"
    spec = importlib.util.spec_from_file_location("a_dataset_sort", path)
    sort = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sort)
    mb = 1 << 20
    sizes = np.array([3 * mb, 1 * mb, 2 * mb, 10, 10, 5 * mb, 20])
    texts = Packed(bytes(int(sizes.sum())), np.cumsum(sizes))
    order = np.array([6, 3, 0, 1, 4, 2, 5])
    groups = sort._groups(order, [texts])
    assert np.concatenate(groups).tolist() == order.tolist()
    assert [g.tolist() for g in groups] == [[6, 3, 0], [1, 4, 2], [5]]  # 4 MB at most, or one row
    assert [len(g) for g in sort._groups(np.arange(20_000), [])] == [8192, 8192, 3616]
