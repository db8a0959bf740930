"""hashlabel: rows go to the slice their value hashes to, with a hash fixed across processes."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, time, timedelta

import numpy as np
import pytest
from test_dataset_support import SLICES, job_fixture, packed  # noqa: F401 - the job fixture

from accnb.dataset import Dataset, DatasetWriter
from accnb.dataset.partition import hash_value, slice_of
from accnb.errors import DatasetError

ALL_DATA = list(zip(range(1000), reversed(range(1000)), strict=True))


def split_written(name: str, typ: str, hashlabel: str | None, rows=ALL_DATA) -> Dataset:
    dw = DatasetWriter(name=name, hashlabel=hashlabel)
    dw.add("up", typ)
    dw.add("down", typ)
    write = dw.get_split_write()
    for row in rows:
        write(*row)
    return dw.finish()


def test_hash_values_are_fixed():
    # Changing these moves rows of existing datasets to other slices: don't.
    assert hash_value(None) == 0
    assert hash_value(0) == 0
    assert hash_value(1) == 0x5692161D100B05E5
    assert hash_value(-1) == 0xB4D055FCF2CBBD7B
    assert hash_value("accnb") == hash_value(b"accnb") == 0x1D93130B29E65BF3
    assert hash_value(0.5) == 0x440FE4CE5F2D375


def test_hash_is_the_same_in_another_process():
    code = "from accnb.dataset.partition import hash_value; print(hash_value('x'), hash_value(2.5))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [str(hash_value("x")), str(hash_value(2.5))]


def test_equal_numbers_hash_alike_in_every_numeric_type():
    assert len({hash_value(v) for v in (42, 42.0, 42 + 0j, True * 42)}) == 1
    assert hash_value(True) == hash_value(1)


def test_datetime_on_1970_01_01_hashes_like_time():
    assert hash_value(datetime(1970, 1, 1, 3, 4, 5, 6)) == hash_value(time(3, 4, 5, 6))


def test_date_hashes_like_its_midnight():
    assert hash_value(date(2020, 2, 3)) == hash_value(datetime(2020, 2, 3))


@pytest.mark.parametrize("typ", ["int32", "int64", "float32", "float64", "number", "complex64"])
def test_split_write_puts_rows_where_they_hash(job, typ):
    ds = split_written("hashed", typ, "up")
    for sliceno in range(SLICES):
        assert {slice_of(v, SLICES) for v in ds.iterate(sliceno, "up")} <= {sliceno}
    rows = [(int(abs(a)), int(abs(b))) for a, b in ds.iterate(None, ("up", "down"))]
    assert sorted(rows) == ALL_DATA
    assert ds.hashlabel == "up"


def test_numeric_types_put_the_same_values_in_the_same_slices(job):
    results = []
    for typ in ("int32", "int64", "float64", "number", "complex32"):
        ds = split_written(typ, typ, "down")
        results.append([sorted(int(abs(v)) for v in ds.iterate(s, "down")) for s in range(SLICES)])
    assert all(r == results[0] for r in results)


def test_text_types_put_the_same_values_in_the_same_slices(job):
    rows = [(str(a), str(b)) for a, b in ALL_DATA]
    results = []
    for typ in ("ascii", "unicode"):
        ds = split_written(typ, typ, "up", rows)
        results.append([list(ds.iterate(s, "up")) for s in range(SLICES)])
    as_bytes = split_written("bytes", "bytes", "up", [(a.encode(), b.encode()) for a, b in rows])
    results.append([[v.decode() for v in as_bytes.iterate(s, "up")] for s in range(SLICES)])
    assert results[0] == results[1] == results[2]


def test_hashing_on_another_column_changes_the_distribution(job):
    up = split_written("up", "int64", "up")
    down = split_written("down", "int64", "down")
    assert list(up.iterate(None)) != list(down.iterate(None))
    assert sorted(up.iterate(None, ("up", "down"))) == sorted(down.iterate(None, ("up", "down")))


def test_none_goes_to_slice_zero(job):
    dw = DatasetWriter(hashlabel="a")
    dw.add("a", "int64", none_support=True)
    dw.get_split_write()(None)
    assert dw.finish().lines == [1, 0, 0]


def test_writing_to_the_wrong_slice_in_analysis_is_an_error(job):
    DatasetWriter(columns={"up": "int64"}, hashlabel="up")
    job.prepare_done()
    wrong = next(v for v in range(100) if slice_of(v, SLICES) != 0)

    def analysis(sliceno):
        if sliceno == 0:
            DatasetWriter().write(wrong)
            with pytest.raises(DatasetError, match=f"belongs in slice {slice_of(wrong, SLICES)}"):
                DatasetWriter()._flush()

    with pytest.raises(DatasetError, match="can't be written or finished: an earlier chunk"):
        job.analysis(analysis)  # the slice ends with an error even when analysis caught it


def test_hashcheck_tells_if_a_value_belongs_here(job):
    dw = DatasetWriter(columns={"up": "int64", "down": "int64"}, hashlabel="up")
    job.prepare_done()

    def analysis(sliceno):
        for up, down in ALL_DATA:
            if dw.hashcheck(up):
                dw.write(down, up)

    job.analysis(analysis)
    job.synthesis_done()
    ds = Dataset("t-1")
    assert len(ds) == len(ALL_DATA)
    for sliceno in range(SLICES):
        assert {slice_of(v, SLICES) for v in ds.iterate(sliceno, "up")} == {sliceno}


@pytest.mark.parametrize("typ", ["int64", "number"])
@pytest.mark.parametrize("how", ["write", "write_columns"])
def test_enable_hash_discard_drops_rows_of_other_slices(job, how, typ):
    DatasetWriter(columns={"up": typ, "down": typ}, hashlabel="down")
    job.prepare_done()

    def analysis(sliceno):
        dw = DatasetWriter()
        dw.enable_hash_discard()
        if how == "write":
            for up, down in ALL_DATA:
                dw.write(down, up)  # columns= are sorted: down, then up
        else:
            ups, downs = zip(*ALL_DATA, strict=True)
            dw.write_columns({"up": np.array(ups), "down": list(downs)})

    job.analysis(analysis)
    job.synthesis_done()
    ds = Dataset("t-1")
    assert sorted(ds.iterate(None, ("up", "down"))) == ALL_DATA
    assert list(ds.iterate(None)) == list(split_written("check", typ, "down").iterate(None))


def test_iterating_with_the_wrong_hashlabel_is_an_error(job):
    ds = split_written("up", "int64", "up")
    with pytest.raises(DatasetError, match="hashlabel 'up', not 'down'"):
        ds.iterate(None, hashlabel="down")


def test_rehash_gives_the_rows_of_another_hashing(job):
    up = split_written("up", "int64", "up")
    down = split_written("down", "int64", "down")
    for sliceno in range(SLICES):
        got = sorted(up.iterate(sliceno, hashlabel="down", rehash=True))
        assert got == sorted(down.iterate(sliceno))


VALUES = {  # a value of each type from a row number; every seventh row None
    "int32": lambda i: i * 7919 - 5000,
    "float32": lambda i: i / 4,
    "float64": lambda i: [i / 3, float(i), float("nan")][i % 3],
    "number": lambda i: [i, i / 8, -i][i % 3],
    "number_big": lambda i: [i, i / 8, 10**25 + i][i % 3],
    "complex64": lambda i: complex(i, i % 3),
    "bool": lambda i: i % 3 == 0,
    "datetime": lambda i: datetime(2020, 1, 1, i % 24, i % 60),
    "date": lambda i: date(2020, 1, 1 + i % 28),
    "time": lambda i: time(i % 24, i % 60),
    "unicode": lambda i: f"v{i}\xe5",
}


@pytest.mark.parametrize("typ", sorted(VALUES))
def test_rehash_puts_every_type_where_a_writer_hashing_on_it_does(job, typ):
    """rehash=True hashes the column's own bytes a chunk at a time (a value at a time for
    text and big numbers): it must agree with the writer, which hashes what it encodes."""
    value = VALUES[typ]
    rows = [(i, None if i % 7 == 3 else value(i)) for i in range(3000)]

    def written(name, hashlabel):
        dw = DatasetWriter(name=name, hashlabel=hashlabel)
        dw.add("n", "int64")
        dw.add("v", typ.removesuffix("_big"), none_support=True)
        write = dw.get_split_write()
        for row in rows:
            write(*row)
        return dw.finish()

    on_n, on_v = written("on_n", "n"), written("on_v", "v")
    for sliceno in range(SLICES):
        got = list(on_n.iterate(sliceno, "n", hashlabel="v", rehash=True))
        assert sorted(got) == sorted(on_v.iterate(sliceno, "n"))


@pytest.mark.parametrize("hashlabel", ["up", None])
def test_write_columns_after_asking_for_a_split_writer_splits_as_write_does(job, hashlabel):
    by_row = split_written("by_row", "int64", hashlabel)
    dw = DatasetWriter(name="by_columns", hashlabel=hashlabel)
    dw.add("up", "int64")
    dw.add("down", "int64")
    dw.get_split_write()
    up, down = zip(*ALL_DATA, strict=True)
    dw.write_columns({"up": np.array(up[:600]), "down": list(down[:600])})
    dw.write_columns({"up": up[600:], "down": down[600:]})
    by_columns = dw.finish()
    assert by_columns.lines == by_row.lines
    for sliceno in range(SLICES):
        assert list(by_columns.iterate(sliceno)) == list(by_row.iterate(sliceno))


def split_both_ways(writer, rows: list[tuple], chunks: list[dict]) -> None:
    """The rows through a split writer a row at a time, and `chunks` (the same rows as
    columns) through write_columns after get_split_write(): the two datasets must be the
    same, down to min, max and which slices have a flags file."""
    by_row = writer("by_row")
    write = by_row.get_split_write()
    for row in rows:
        write(*row)
    by_columns = writer("by_columns")
    by_columns.get_split_write()
    for columns in chunks:
        by_columns.write_columns(columns)
    a, b = by_row.finish(), by_columns.finish()
    assert a.lines == b.lines and sum(a.lines) == len(rows)
    for sliceno in range(SLICES):
        assert list(b.iterate(sliceno)) == list(a.iterate(sliceno))
    for name, column in a.columns.items():
        other = b.columns[name]
        assert (column.min, column.max, column._flags) == (other.min, other.max, other._flags)


MIXED = {  # column type: a value for row i (big integers from row 300 on)
    "int64": lambda i: i * 3 - 500,
    "float32": lambda i: i / 4,
    "number": lambda i: i * 10**17 if i >= 300 and i % 5 == 0 else i / 8 if i % 2 else i,
    "unicode": lambda i: f"é{i}" * (i % 3),
    "bytes": lambda i: bytes([i % 256]) * (i % 5),  # a NUL in some
    "date": lambda i: date(2020, 1, 1) + timedelta(days=i),
}


@pytest.mark.parametrize("hashlabel", ["int64", "unicode", "number", None])
def test_write_columns_of_every_form_splits_as_write_does(job, hashlabel):
    """write_columns after get_split_write() cuts the encoded chunk by numpy (fixed values,
    text bytes, numbers without big integers) and encodes again only numbers that hold
    big ones: every form of column, with None, lands as row-by-row writes put it."""
    names = sorted(MIXED)
    rows = [
        tuple(None if i % 7 == 3 and name != hashlabel else MIXED[name](i) for name in names)
        for i in range(600)
    ]
    chunks = []
    for a in range(0, 600, 150):
        columns = {name: [row[ix] for row in rows[a : a + 150]] for ix, name in enumerate(names)}
        ints = columns["int64"]
        columns["int64"] = np.ma.MaskedArray([v or 0 for v in ints], mask=[v is None for v in ints])
        if None not in columns["unicode"]:  # (None rows make the chunk a list)
            columns["unicode"] = packed([v.encode() for v in columns["unicode"]])
        chunks.append(columns)

    def writer(name):
        dw = DatasetWriter(name=name, hashlabel=hashlabel)
        for column in names:
            dw.add(column, column, none_support=True)
        return dw

    split_both_ways(writer, rows, chunks)


def test_a_slice_that_gets_no_none_gets_no_flags_file(job):
    rows = [(1, None, None), (2, b"x", 2.0), (3, b"y", 3.0), (4, b"z", 4.0)]

    def writer(name):
        dw = DatasetWriter(name=name, hashlabel="k")
        dw.add("k", "int64")
        dw.add("v", "bytes", none_support=True)
        dw.add("f", "float64", none_support=True)
        return dw

    chunk = {name: [row[ix] for row in rows] for ix, name in enumerate("kvf")}
    split_both_ways(writer, rows, [chunk])
    assert [len(Dataset("t-1/by_row").columns[n]._flags) for n in "vf"] == [1, 1]


@pytest.mark.parametrize("sizes", [[700_000] * 3 + list(range(37)), [50_000] * 300])
def test_write_columns_splits_packed_text_and_large_values(job, sizes):
    """A few big values are written as parts; many are cut by slices of them
    rather than by a numpy index of every byte (15 MB here)."""
    values = [bytes([65 + i % 50]) * size for i, size in enumerate(sizes)]
    keys = [str(i) for i in range(len(values))]

    def writer(name):
        return DatasetWriter(name=name, columns={"b": "bytes", "u": "unicode"}, hashlabel="u")

    chunk = {"b": values, "u": packed([k.encode() for k in keys])}
    split_both_ways(writer, list(zip(values, keys, strict=True)), [chunk])


def test_hashlabel_must_be_a_written_column(job):
    dw = DatasetWriter(columns={"a": "int64"}, hashlabel="b")
    with pytest.raises(DatasetError, match="'b' is not written"):
        dw.set_slice(0)


def test_json_columns_cannot_be_hashed(job):
    dw = DatasetWriter(columns={"a": "json"}, hashlabel="a")
    with pytest.raises(DatasetError, match="unhashable"):
        dw.get_split_write()
