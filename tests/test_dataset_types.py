"""Column types: what each accepts, what it gives back, None support, min and max."""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import numpy as np
import pytest
from test_dataset_support import SLICES, job_fixture  # noqa: F401 - the job fixture

from accnb.dataset import COLUMN_TYPES, DatasetWriter
from accnb.errors import DatasetError

# From the Accelerator's test_data: every type, values that catch truncation and rounding.
DATA = {
    "float64": (1 / 3, 1e100, -9.0),
    "float32": (100.0, -0.0, 2.0),
    "int64": (9223372036854775807, -9223372036854775807, 100),
    "int32": (-2147483647, 2147483647, -1),
    "bool": (True, False, True),
    "datetime": (
        datetime(1916, 2, 29, 23, 59, 59, 999999),
        datetime(1916, 2, 29, 23, 59, 59, 999998, fold=1),
        datetime(1970, 1, 1, 0, 0, 0, 1),
    ),
    "date": (date(2016, 2, 29), date(2016, 2, 28), date(2017, 6, 27)),
    "time": (time(12, 0, 0, 999999), time(12, 0, 0, 999998, fold=1), time(0, 1, 2, 3)),
    "bytes": (b"foo", b"bar\x00\xff", b"blutti"),
    "unicode": ("bl\xe5", "bl\xe4\x00", "bla"),
    "ascii": ("foo", "bar", "blutti"),
    "number": (10**300, 13578058080989382, 1 / 3),
    "json": ({"a": [1, 2, {"b": {}}]}, None, "bl\xe4"),
    "complex64": (1.5, -1e100 + 0.00000002j, 5.3j),
    "complex32": (-1, 1 + 2j, -0.25j),
    "pickle": ({1, 2}, None, ("t", b"x")),
}


def one_slice(values: list, coltype: str, none_support: bool = False):
    """A dataset with column `x` holding `values` in slice 0."""
    dw = DatasetWriter(name=f"{coltype}-{len(values)}-{none_support}")
    dw.add("x", coltype, none_support=none_support)
    dw.set_slice(0)
    for v in values:
        dw.write(v)
    for sliceno in range(1, SLICES):
        dw.set_slice(sliceno)
    return dw.finish()


def test_data_covers_all_sixteen_types():
    assert set(DATA) == set(COLUMN_TYPES) and len(COLUMN_TYPES) == 16


@pytest.mark.parametrize("coltype", sorted(DATA))
def test_values_come_back_as_written(job, coltype):
    ds = one_slice(list(DATA[coltype]), coltype)
    got = list(ds.iterate(0, "x"))
    want = list(DATA[coltype])
    if coltype == "complex64":
        want = [complex(v) for v in want]
    if coltype == "complex32":
        want = [complex(np.complex64(v)) for v in want]
    assert got == want
    assert [type(v) for v in got] == [type(v) for v in want]


@pytest.mark.parametrize("coltype", ["datetime", "time"])
def test_fold_is_kept(job, coltype):
    ds = one_slice(list(DATA[coltype]), coltype)
    assert [v.fold for v in ds.iterate(0, "x")] == [0, 1, 0]


@pytest.mark.parametrize("coltype", sorted(set(DATA) - {"json", "pickle"}))
def test_none_is_kept_in_columns_with_none_support(job, coltype):
    values = [DATA[coltype][0], None, DATA[coltype][2]]
    ds = one_slice(values, coltype, none_support=True)
    assert list(ds.iterate(0, "x"))[1] is None


@pytest.mark.parametrize("coltype", sorted(set(DATA) - {"json", "pickle"}))
def test_none_without_none_support_is_an_error(job, coltype):
    with pytest.raises(DatasetError, match=f"column 'x' \\(type {coltype}\\).*None"):
        one_slice([DATA[coltype][0], None], coltype)


@pytest.mark.parametrize(
    ("coltype", "value", "reason"),
    [
        ("int32", 2**31, "2147483648"),
        ("int32", -(2**31) - 1, "-2147483649"),
        ("int64", 2**63, "9223372036854775808"),
        ("int64", 1.5, "1.5"),
        ("int64", "1", "'1'"),
        ("float64", "1.5", "'1.5'"),
        ("float32", b"1", "b'1'"),
        ("bool", 2, "2"),
        ("bool", 0.0, "0.0"),
        ("ascii", "bl\xe5", "'bl\xe5'"),
        ("ascii", b"bl\xe5", "b'bl\\\\xe5'"),
        ("bytes", "str", "'str'"),
        ("unicode", b"bytes", "b'bytes'"),
        ("unicode", "\ud800", "'\\\\ud800'"),
        ("number", "1", "'1'"),
        ("number", 2**1007, str(2**1007)[:20]),
        ("number", Decimal(1), "Decimal"),
        ("complex64", "1+2j", "'1\\+2j'"),
        ("datetime", date(2020, 1, 1), "datetime.date"),
        ("date", "2020-01-01", "'2020-01-01'"),
        ("time", datetime(2020, 1, 1), "datetime.datetime"),
        ("json", {1, 2}, "\\{1, 2\\}"),
    ],
)
def test_value_that_does_not_fit_names_column_type_and_value(job, coltype, value, reason):
    with pytest.raises(DatasetError) as e:
        one_slice([DATA[coltype][0], value], coltype)
    assert f"column 'x' (type {coltype})" in str(e.value)
    assert re.search(reason, str(e.value)), str(e.value)
    assert "row 1" in str(e.value)


def test_int_columns_accept_bool_and_numpy_integers(job):
    ds = one_slice([True, np.int16(-3), 7], "int32")
    assert list(ds.iterate(0, "x")) == [1, -3, 7]


def test_float_columns_accept_ints_and_decimals(job):
    ds = one_slice([1, Decimal("2.5"), np.float32(0.5)], "float64")
    assert list(ds.iterate(0, "x")) == [1.0, 2.5, 0.5]


def test_float32_rounds_as_the_accelerator(job):
    assert list(one_slice([1.2], "float32").iterate(0, "x")) == [1.2000000476837158]


def test_ascii_accepts_ascii_bytes_and_gives_str(job):
    assert list(one_slice([b"abc", "def"], "ascii").iterate(0, "x")) == ["abc", "def"]


def test_number_keeps_int_and_float_apart(job):
    values = [1, 1.0, -5, 2**63, -(2**1007) + 1, 0.5, True]
    got = list(one_slice(values, "number").iterate(0, "x"))
    assert got == [1, 1.0, -5, 2**63, -(2**1007) + 1, 0.5, 1]
    assert [type(v) for v in got] == [int, float, int, int, int, float, int]


def test_date_column_takes_the_date_of_a_datetime(job):
    ds = one_slice([datetime(2020, 5, 6, 7, 8)], "date")
    assert list(ds.iterate(0, "x")) == [date(2020, 5, 6)]


def test_datetime_drops_tzinfo_keeping_wall_time(job):
    aware = datetime(2020, 5, 6, 7, 8, tzinfo=timezone(timedelta(hours=5)))
    assert list(one_slice([aware], "datetime").iterate(0, "x")) == [datetime(2020, 5, 6, 7, 8)]


def test_datetimes_before_1970_and_far_ahead(job):
    values = [datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59, 999999)]
    assert list(one_slice(values, "datetime").iterate(0, "x")) == values


def test_json_none_is_a_value(job):
    assert list(one_slice([None, [None]], "json").iterate(0, "x")) == [None, [None]]


def test_unicode_with_nul_and_surrogate_free_text_roundtrips(job):
    values = ["a\x00b", "", "\x00", "€" * 300, "x"]
    assert list(one_slice(values, "unicode").iterate(0, "x")) == values


@pytest.mark.parametrize("coltype", ["unicode", "ascii", "json"])
def test_text_of_many_chunks_roundtrips_with_nul_empty_and_none_anywhere(job, coltype):
    # Chunks with and without a NUL in a value, non-ASCII or not, None in the middle.
    from accnb.dataset.writer import CHUNK

    def value(i: int) -> str | None:
        if i % 1000 == 999:
            return None
        if coltype == "ascii":
            return "" if i % 7 == 0 else f"v{i}\x00x" if i == 2 * CHUNK + 5 else f"v{i}"
        return "" if i % 7 == 0 else f"\xf6{i}\x00" if i == 2 * CHUNK + 5 else f"\u20ac{i}"

    values = [value(i) for i in range(3 * CHUNK + 11)]
    ds = one_slice(values, coltype, none_support=True)
    assert list(ds.iterate(0, "x")) == values


def test_random_bytes_roundtrip(job):
    rng = np.random.default_rng(7)
    values = [rng.bytes(int(n)) for n in rng.integers(0, 3000, 50)]
    assert list(one_slice(values, "bytes").iterate(0, "x")) == values


@pytest.mark.parametrize(
    ("coltype", "values", "lo", "hi"),
    [
        ("int64", [5, -3, 9], -3, 9),
        ("int32", [5, -3, 9], -3, 9),
        ("float64", [math.nan, 2.5, -1.0], -1.0, 2.5),
        ("float32", [0.5, 4.0], 0.5, 4.0),
        ("bool", [True, True], True, True),
        ("number", [3, 2**70, -0.5], -0.5, 2**70),
        (
            "datetime",
            [datetime(2001, 1, 1), datetime(1999, 1, 1)],
            datetime(1999, 1, 1),
            datetime(2001, 1, 1),
        ),
        ("date", [date(2001, 1, 1), date(1999, 1, 1)], date(1999, 1, 1), date(2001, 1, 1)),
        ("time", [time(5), time(1, 2)], time(1, 2), time(5)),
        ("unicode", ["b", "a"], None, None),
        ("complex64", [1j], None, None),
    ],
)
def test_min_and_max_as_the_accelerator_tracks_them(job, coltype, values, lo, hi):
    col = one_slice(values, coltype).columns["x"]
    assert (col.min, col.max) == (lo, hi)


def test_min_and_max_are_nan_when_all_values_are_nan(job):
    col = one_slice([math.nan, math.nan], "float64").columns["x"]
    assert math.isnan(col.min) and math.isnan(col.max)


def test_min_and_max_ignore_none(job):
    col = one_slice([None, 4, None, 2], "int64", none_support=True).columns["x"]
    assert (col.min, col.max) == (2, 4)


def test_min_and_max_span_slices(job):
    dw = DatasetWriter(columns={"x": "int64"})
    for sliceno, v in enumerate([7, -2, 30]):
        dw.set_slice(sliceno)
        dw.write(v)
    col = dw.finish().columns["x"]
    assert (col.min, col.max) == (-2, 30)


def test_column_info_has_type_and_none_support(job):
    col = one_slice([1], "int32", none_support=True).columns["x"]
    assert (col.type, col.none_support) == ("int32", True)
