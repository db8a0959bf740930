"""Packed values: text columns written and read as their stored bytes, no object per value."""

from __future__ import annotations

import numpy as np
import pytest
from test_dataset_support import SLICES, job_fixture, packed, write_slices  # noqa: F401 - the job fixture
from test_dataset_types import DATA

from accnb.dataset import Dataset, DatasetWriter, Packed
from accnb.errors import DatasetError

FIXED = {"float64", "float32", "int64", "int32", "bool", "datetime", "date", "time"}
FIXED |= {"complex64", "complex32"}


VALUES = {
    "bytes": [b"a", b"", b"x\0y", b"\xff\xfe", b"long " * 50],
    "ascii": [b"a", b"", b"plain text", b"~"],
    "unicode": ["é".encode(), b"", "€ and \U0001f600".encode(), b"z"],
}


@pytest.mark.parametrize("column_type", sorted(VALUES))
def test_packed_values_read_back_as_written_values_would(job, column_type):
    raw = VALUES[column_type]
    as_written = [v if column_type == "bytes" else v.decode() for v in raw]
    dw = DatasetWriter(columns={"v": column_type}, allow_missing_slices=True)
    dw.set_slice(0)
    dw.write_columns({"v": packed(raw)})
    dw.write_columns({"v": packed(raw[::-1])})
    ds = dw.finish()
    assert list(ds.iterate(0, "v")) == as_written + as_written[::-1]
    assert packed(raw).values(column_type) == as_written


@pytest.mark.parametrize(
    ("data", "ends", "message"),
    [
        (b"ab\0cd\0", [2, 6], "each followed by a NUL"),  # an end off its NUL
        (b"ab\0c\0", [3, 7], "each followed by a NUL"),  # past the data
        (b"ab\0c\0", [3], "each followed by a NUL"),  # data left over
        (b"a\0b\0", [4, 2], "each followed by a NUL"),  # not increasing
        (b"a\0", [0.5], "integers"),
    ],
)
def test_packed_values_that_are_not_packed_as_said_are_refused(job, data, ends, message):
    dw = DatasetWriter(columns={"v": "bytes"})
    dw.set_slice(0)
    with pytest.raises(DatasetError, match=f"Column 'v' of .*{message}"):
        dw.write_columns({"v": Packed(data, ends)})


def test_packed_text_that_does_not_decode_names_its_row(job):
    dw = DatasetWriter(columns={"a": "ascii", "u": "unicode"})
    dw.set_slice(0)
    with pytest.raises(DatasetError, match=r"b'\\xc3\\xa9' for column 'a' .* row 1 .*ASCII"):
        dw.write_columns({"a": packed([b"x", "é".encode()]), "u": packed([b"x", b"y"])})
    with pytest.raises(DatasetError, match=r"b'\\xff' for column 'u' .* row 2 .*UTF-8"):
        dw.write_columns({"a": packed([b"x"] * 3), "u": packed([b"x", b"y", b"\xff"])})
    int_column = DatasetWriter(name="ints", columns={"n": "int64"})
    int_column.set_slice(0)
    with pytest.raises(DatasetError, match="'n' .* int64: they are for bytes, ascii and unicode"):
        int_column.write_columns({"n": packed([b"1"])})


def test_packed_values_split_by_their_hashlabel_as_lists_do(job):
    keys = [f"k{i}".encode() for i in range(200)]
    by_list = DatasetWriter(name="by_list", columns={"k": "unicode"}, hashlabel="k")
    by_list.get_split_write()
    by_list.write_columns({"k": [k.decode() for k in keys]})
    by_packed = DatasetWriter(name="by_packed", columns={"k": "unicode"}, hashlabel="k")
    by_packed.get_split_write()
    by_packed.write_columns({"k": packed(keys)})
    a, b = by_list.finish(), by_packed.finish()
    assert a.lines == b.lines and sum(a.lines) == 200
    assert all(list(a.iterate(s)) == list(b.iterate(s)) for s in range(SLICES))


def test_chunks_line_up_across_columns_and_come_packed_when_asked(job):
    dw = DatasetWriter()
    dw.add("n", "int64")
    dw.add("b", "bytes", none_support=True)
    rows = [(i, None if i == 7 else b"x\0" if i == 12 else str(i).encode()) for i in range(25)]
    write_slices(dw, [rows, [], []])
    ds = dw.finish()
    numbers = list(ds.column("n").chunks(0, 5))
    assert numbers == [list(range(a, a + 5)) for a in range(0, 25, 5)]
    texts = list(ds.column("b").chunks(0, 5, packed=True))
    assert [type(c).__name__ for c in texts] == ["Packed", "list", "Packed", "Packed", "Packed"]
    assert [v for c in texts for v in (c if isinstance(c, list) else c.values())] == [
        b for _, b in rows
    ]
    assert list(ds.column("b").chunks(1, 5, packed=True)) == []


def test_dataset_chunks_line_up_and_cut_large_text_by_bytes(job, monkeypatch):
    from accnb.dataset import reader

    monkeypatch.setattr(reader, "CHUNK_BYTES", 100_000)
    rng = np.random.default_rng(5)
    sizes = [10, 60_000, 50_000, 5, 120_000, 7, 8, 30_000, 30_000, 30_000, 9, 3] * 2
    rows = [(rng.bytes(size), i, f"s{i}") for i, size in enumerate(sizes)]
    dw = DatasetWriter(columns={"blob": "bytes", "n": "int64", "s": "ascii"})
    write_slices(dw, [rows, [], rows[:5]])
    ds = dw.finish()
    chunks = list(ds.chunks(0, rows=8, packed=True))
    lengths = [len(c["n"]) for c in chunks]
    assert all(len(c["blob"]) == len(c["s"]) == n for c, n in zip(chunks, lengths, strict=True))
    assert sum(lengths) == len(rows) and max(lengths) <= 8
    assert all(
        len(c["blob"].data) <= 100_000 or n == 1 for c, n in zip(chunks, lengths, strict=True)
    )
    assert lengths == [2, 2, 1, 8, 1, 2, 1, 7]  # 8 rows, or fewer past 100,000 bytes
    values = [c["blob"].values() for c in chunks]
    assert [v for part in values for v in part] == [r[0] for r in rows]
    assert [(c["n"].tolist(), c["s"].values("ascii")) for c in ds.chunks(2, ["n", "s"], 2, True)] == [
        ([0, 1], ["s0", "s1"]), ([2, 3], ["s2", "s3"]), ([4], ["s4"])
    ]  # fmt: skip
    assert [list(c) for c in ds.chunks(1)] == []
    assert [c["s"].values("ascii") for c in ds.chunks(2, "s", packed=True)] == [
        [f"s{i}" for i in range(5)]
    ]  # a name alone is one column


def test_chunks_of_values_holding_a_nul_check_the_offsets(job):
    dw = DatasetWriter(columns={"b": "bytes"})
    write_slices(dw, [[(b"a\0",), (b"b",), (b"c",)], [], []])
    ds = dw.finish()
    offsets = np.fromfile(ds.path / "c0.0.offsets", dtype="<i8")
    offsets[1] += 1
    offsets.tofile(ds.path / "c0.0.offsets")
    with pytest.raises(DatasetError, match="do not agree"):
        list(ds.column("b").chunks(0, 10, packed=True))


@pytest.mark.parametrize("coltype", sorted(DATA))
def test_packed_chunks_write_back_as_the_values_they_hold(job, coltype):
    """Every type's chunks as stored (numpy arrays, masked for None; Packed text), written
    back with write_columns, give the values written: folds and None included."""
    values = [*DATA[coltype], None] * 5  # 20 rows: chunks of 6 with and without None
    source = DatasetWriter(name=f"from-{coltype}")
    source.add("x", coltype, none_support=True)
    write_slices(source, [[(v,) for v in values[:12]], [(v,) for v in values[3:]], []])
    source = source.finish()
    copy = DatasetWriter(name=f"to-{coltype}")
    copy.add("x", coltype, none_support=True)
    forms = set()
    for sliceno in range(SLICES):
        copy.set_slice(sliceno)
        for chunk in source.column("x").chunks(sliceno, 3, packed=True):
            forms.add(type(chunk).__name__)
            copy.write_columns({"x": chunk})
    copy = copy.finish()
    assert copy.lines == source.lines
    for sliceno in range(SLICES):
        assert list(copy.iterate(sliceno, "x")) == list(source.iterate(sliceno, "x"))
    if coltype in ("datetime", "time"):
        assert [v.fold for v in copy.iterate(0, "x") if v is not None][:3] == [0, 1, 0]
    if coltype in ("bytes", "ascii", "unicode"):
        assert forms == {"Packed", "list"}  # a list where a chunk holds a None
    elif coltype in ("datetime", "time"):
        assert forms == {"MaskedArray", "list"}  # here every chunk has a None or a fold
    elif coltype in FIXED:
        assert forms == {"ndarray", "MaskedArray"}
    else:
        assert forms == {"list"}


def test_packed_edges_are_rows_of_nothing_or_clear_errors(job):
    dw = DatasetWriter(columns={"v": "unicode"}, allow_missing_slices=True)
    dw.set_slice(0)
    dw.write_columns({"v": Packed(b"", [])})  # no rows, as [] is
    with pytest.raises(DatasetError, match="bytes-like .*not str"):
        dw.write_columns({"v": Packed("a\0", [2])})
    dw.write_columns({"v": Packed(bytearray(b"a\0"), [2])})
    assert list(dw.finish().iterate(0, "v")) == ["a"]
    with pytest.raises(ValueError, match="rows must be a whole number above 0, not 0"):
        next(Dataset("t-1").column("v").chunks(0, 0, packed=True))


def test_packed_of_ranges_gathers_byte_ranges_of_a_buffer():
    data = b"ab,cd\nef"
    got = Packed.of_ranges(data, [0, 3, 6, 6], [2, 5, 8, 6])  # the last field ends the data
    assert got.values() == [b"ab", b"cd", b"ef", b""] and list(got.ends) == [3, 6, 9, 10]
    assert Packed.of_ranges(b"", [0], [0]).values() == [b""]
    assert len(Packed.of_ranges(b"x", [], [])) == 0


@pytest.mark.parametrize("size", [0, 3, 191, 192, 5000])
def test_packed_of_ranges_gathers_short_values_and_joins_long_ones_alike(size, monkeypatch):
    from accnb.dataset import types

    rng = np.random.default_rng(size)
    data = rng.integers(0, 256, 40 * (size + 7), dtype=np.uint8).tobytes()
    starts = rng.integers(0, len(data) - size, 40)
    stops = np.minimum(starts + rng.integers(0, 2 * size + 1, 40), len(data))
    want = [data[a:b] for a, b in zip(starts.tolist(), stops.tolist(), strict=True)]
    ways = []
    for join_at in (1 << 40, 0):  # a numpy gather of every value, then a join of slices
        monkeypatch.setattr(types, "JOIN_VALUE_BYTES", join_at)
        got = Packed.of_ranges(data, starts, stops)
        ways.append((bytes(got.data), got.ends.tolist()))
        assert got.values() == want
    assert ways[0] == ways[1]
