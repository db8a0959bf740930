"""The standard method dataset_hashpart: rows moved to the slice their hashlabel hashes to."""

from __future__ import annotations

import pytest

from accnb import JobError
from accnb.dataset.partition import slice_of


@pytest.fixture
def imported(wd, tmp_path):
    def build(text, name="data.csv", previous=None):
        path = tmp_path / name
        path.write_text(text)
        return wd.build("csvimport", filename=str(path), previous=previous)

    return build


TEXT = "k,v\n" + "".join(f"{n % 4},{n}\n" for n in range(20))


def test_equal_values_end_up_in_one_slice_and_nothing_is_lost(wd, imported):
    imp = imported(TEXT)
    ds = wd.build("dataset_hashpart", source=imp, hashlabel="k").dataset()
    assert ds.hashlabel == "k"
    assert sorted(ds.iterate(None, ["k", "v"])) == sorted(imp.dataset().iterate(None, ["k", "v"]))
    slices_of = {}
    for sliceno in range(2):
        for k in ds.iterate(sliceno, "k"):
            slices_of.setdefault(k, set()).add(sliceno)
    assert all(len(s) == 1 for s in slices_of.values()) and len(slices_of) == 4


def test_each_row_is_in_its_values_slice_in_the_sources_order(wd, imported):
    imp = imported(TEXT)
    ds = wd.build("dataset_hashpart", source=imp, hashlabel="k").dataset()
    rows = list(imp.dataset().iterate(None, ["k", "v"]))  # source slice 0's rows, then 1's
    for sliceno in range(2):
        expected = [row for row in rows if slice_of(row[0], 2) == sliceno]
        assert list(ds.iterate(sliceno, ["k", "v"])) == expected


def test_each_source_in_the_chain_back_to_previous_gets_a_hashed_dataset(wd, imported):
    one = imported("k\na\n", name="1.csv")
    first = wd.build("dataset_hashpart", source=one, hashlabel="k")
    two = imported("k\nb\n", name="2.csv", previous=one)
    three = imported("k\nc\n", name="3.csv", previous=two)
    job = wd.build("dataset_hashpart", source=three, previous=first, hashlabel="k")
    assert [d.name for d in job.datasets] == ["0", "default"]
    assert [d.id for d in job.dataset().chain()] == [
        f"{first}/default",
        f"{job}/0",
        f"{job}/default",
    ]
    assert sorted(job.dataset().iterate_chain(None, "k")) == [b"a", b"b", b"c"]
    assert job.load() == {"0": job.dataset("0").lines, "default": job.dataset().lines}


def test_a_hashlabel_that_is_not_a_column_or_chain_slices_fails_naming_it(wd, imported):
    imp = imported("k\na\n")
    with pytest.raises(JobError, match="hashlabel 'x' is not a column"):
        wd.build("dataset_hashpart", source=imp, hashlabel="x")
    with pytest.raises(JobError, match="chain_slices=True is not supported"):
        wd.build("dataset_hashpart", source=imp, hashlabel="k", chain_slices=True)
