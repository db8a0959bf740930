"""The standard method dataset_type: text columns typed by the Accelerator's type specs."""

from __future__ import annotations

import datetime
import random
import re

import pytest

from accnb import JobError, OptionError


@pytest.fixture
def imported(wd, tmp_path):
    """imported(text): a csvimport job of the CSV text."""

    def build(text, name="data.csv", **kw):
        path = tmp_path / name
        path.write_text(text)
        return wd.build("csvimport", filename=str(path), **kw)

    return build


def typed(wd, source, **column2type):
    return wd.build("dataset_type", source=source, column2type=column2type)


def values(ds, column):
    return sorted(ds.iterate(None, column), key=repr)


def test_types_the_columns_and_shares_the_untyped_ones_with_the_source(wd, imported):
    imp = imported("n,d,s\n1,2024-05-01,x\n2.50,2024-05-02,y\n")
    ds = typed(wd, imp, n="number", d="date:%Y-%m-%d").dataset()
    assert {k: c.type for k, c in ds.columns.items()} == {"n": "number", "d": "date", "s": "bytes"}
    assert ds.parent == imp.dataset() and ds.lines == imp.dataset().lines
    assert sorted(ds.iterate(None, ["n", "d", "s"])) == [
        (1, datetime.date(2024, 5, 1), b"x"),
        (2.5, datetime.date(2024, 5, 2), b"y"),
    ]


@pytest.mark.parametrize(
    ("spec", "texts", "expected", "coltype"),
    [
        ("number", ["3.0", " 7 ", "1e3", "-0.5"], [-0.5, 3, 7, 1000.0], "number"),
        ("number:int", ["12", "4.000"], [4, 12], "number"),
        ("float64", ["1.5", " 2 "], [1.5, 2.0], "float64"),
        ("float32i", ["1.5kg", "x"], [0.0, 1.5], "float32"),
        ("int32_10", ["-12", " 7 "], [-12, 7], "int32"),
        ("int64_16", ["ff", "0x10"], [16, 255], "int64"),
        ("int64_0", ["0x1f", "017", "9"], [9, 15, 31], "int64"),
        ("int32_10i", ["12abc", "x"], [0, 12], "int32"),
        ("strbool", ["no", "Yes", "NULL", "1"], [False, False, True, True], "bool"),
        ("floatbool", ["0.0", "2"], [False, True], "bool"),
        (
            "datetime:%Y-%m-%d %H:%M",
            ["2024-01-02 03:04"],
            [datetime.datetime(2024, 1, 2, 3, 4)],
            "datetime",
        ),
        ("timei:%H:%M", ["10:30 and more"], [datetime.time(10, 30)], "time"),
        ("unicode:latin-1", ["caf\xe9"], ["café"], "unicode"),
        ("unicodestrip:utf-8", ["  x  "], ["x"], "unicode"),
        ("ascii:encode", ["a\\b"], ["a\\134b"], "ascii"),
        ("bytesstrip", [" b "], [b"b"], "bytes"),
        ("json", ['{"k": [1]}'], [{"k": [1]}], "json"),
        ("complex64", ["1+2j"], [1 + 2j], "complex64"),
    ],
)
def test_type_specs_convert_as_the_accelerators(wd, tmp_path, spec, texts, expected, coltype):
    path = tmp_path / "data.csv"
    path.write_bytes(b"v\n" + b"".join(t.encode("iso-8859-1") + b"\n" for t in texts))
    imp = wd.build("csvimport", filename=str(path), separator="")
    ds = typed(wd, imp, v=spec).dataset()
    assert ds.columns["v"].type == coltype
    got = list(ds.iterate(None, "v"))
    assert sorted(got, key=repr) == sorted(expected, key=repr)
    assert [type(v) for v in sorted(got, key=repr)] == [type(v) for v in sorted(expected, key=repr)]


def test_ascii_strict_and_a_value_that_does_not_convert_fail_naming_column_line_and_value(
    wd, imported
):
    imp = imported("a,b\n1,x\nnope,y\n")
    with pytest.raises(JobError, match=r"column 'a' of .*line 1: b'nope' is not number.*defaults="):
        typed(wd, imp, a="number")
    imp = imported("a\n\xe9\n", name="latin.csv")
    with pytest.raises(JobError, match="column 'a'.* is not ascii:strict"):
        typed(wd, imp, a="ascii:strict")


def test_defaults_replace_values_that_do_not_convert(wd, imported):
    imp = imported("a\n1\nnope\n")
    job = wd.build(
        "dataset_type", source=imp, column2type=dict(a="int32_10"), defaults=dict(a="-1")
    )
    assert values(job.dataset(), "a") == [-1, 1]
    assert job.load().defaulted == {"a": 1}
    job = wd.build(
        "dataset_type", source=imp, column2type=dict(a="int32_10"), defaults=dict(a=None)
    )
    assert job.dataset().columns["a"].none_support
    assert values(job.dataset(), "a") == [1, None]


@pytest.mark.parametrize(
    ("spec", "texts", "expected"),
    [
        ("number", ["+.", "-.", ".", "-.0", "+0."], [None, None, 0, 0, 0]),
        ("float64", ["1_000", "1.5"], [None, 1.5]),
        ("floatbool", ["1_000", "2"], [None, True]),
    ],
)
def test_texts_the_accelerator_refuses_do_not_convert(wd, imported, spec, texts, expected):
    imp = imported("v\n" + "\n".join(texts) + "\n")
    job = wd.build("dataset_type", source=imp, column2type=dict(v=spec), defaults=dict(v=None))
    assert dict(
        zip(imp.dataset().iterate(None, "v"), job.dataset().iterate(None, "v"), strict=True)
    ) == {text.encode(): value for text, value in zip(texts, expected, strict=True)}


def test_plus_none_makes_empty_texts_none(wd, imported):
    ds = typed(wd, imported("a,b\n,1\n2,3\n"), a="number+None").dataset()
    assert values(ds, "a") == [2, None]


def test_filter_bad_leaves_out_lines_and_keeps_their_texts_in_bad(wd, imported):
    imp = imported("a,b,c\n1,2,k\nx,3,k\n4,y,k\n")
    job = wd.build(
        "dataset_type", source=imp, column2type=dict(a="number", b="number"), filter_bad=True
    )
    ds = job.dataset()
    assert ds.parent is None and sorted(ds.columns) == ["a", "b", "c"]
    assert list(ds.iterate(None, ["a", "b", "c"])) == [(1, 2, b"k")]
    assert sorted(job.dataset("bad").iterate(None, ["a", "b"])) == [(b"4", b"y"), (b"x", b"3")]
    assert job.load().bad_lines == 2


def test_rename_discard_untyped_and_hashlabel_rehash(wd, imported):
    imp = imported("a,b,c\n1,2,3\n4,5,6\n7,8,9\n")
    job = wd.build(
        "dataset_type",
        source=imp,
        column2type=dict(x="int64_10", b="int64_10"),
        rename=dict(a="x", c=None),
        hashlabel="b",
        discard_untyped=True,
    )
    ds = job.dataset()
    assert sorted(ds.columns) == ["b", "x"] and ds.hashlabel == "b"
    assert sorted(ds.iterate(None, ["x", "b"])) == [(1, 2), (4, 5), (7, 8)]
    for sliceno in range(2):  # every row is in the slice its b hashes to
        assert list(ds.iterate(sliceno, "b")) == list(ds.iterate(sliceno, "b", hashlabel="b"))
    assert [d.name for d in job.datasets] == ["default"]  # the unhashed one is gone


def test_an_empty_hashlabel_gives_a_dataset_without_one(wd, imported):
    hashed = wd.build("dataset_hashpart", source=imported("a,b\n1,2\n3,4\n5,6\n"), hashlabel="a")
    assert hashed.dataset().hashlabel == "a"
    job = wd.build("dataset_type", source=hashed, column2type=dict(b="int64_10"), hashlabel="")
    ds = job.dataset()
    assert ds.hashlabel is None
    assert sorted(ds.iterate(None, ["a", "b"])) == [(b"1", 2), (b"3", 4), (b"5", 6)]
    assert ds.lines == hashed.dataset().lines
    assert ds.parent == hashed.dataset()  # a child: the untyped column is shared, not copied


def test_a_chain_gives_one_typed_dataset_per_source_back_to_previous(wd, imported):
    one = imported("a\n1\n", name="1.csv")
    two = imported("a\n2\n", name="2.csv", previous=one)
    three = imported("a\n3\n", name="3.csv", previous=two)
    first = typed(wd, one, a="number")
    job = wd.build("dataset_type", source=three, previous=first, column2type=dict(a="number"))
    assert [d.name for d in job.datasets] == ["0", "default"]
    chain = job.dataset().chain()
    assert [d.id for d in chain] == [f"{first}/default", f"{job}/0", f"{job}/default"]
    assert list(job.dataset().iterate_chain(None, "a")) == [1, 2, 3]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (dict(column2type=dict(a="date:")), "needs a format after a colon"),
        (dict(column2type=dict(a="unicode:nosuchcodec")), "unknown codec"),
        (dict(column2type=dict(zz="number")), "has no column 'zz'"),
        (dict(column2type=dict(a="number"), timezone="UTC"), "timezone='UTC' is not supported"),
        (dict(column2type=dict(a="number"), defaults=dict(a="x")), "default 'x' for column 'a'"),
    ],
)
def test_bad_options_fail_naming_them(wd, imported, options, message):
    with pytest.raises(JobError, match=message):
        wd.build("dataset_type", source=imported("a\n1\n"), **options)


def test_an_unknown_type_spec_is_refused_before_the_job_runs(wd, imported):
    with pytest.raises(OptionError, match="column2type"):
        typed(wd, imported("a\n1\n"), a="integer")
    with pytest.raises(OptionError, match="column2type.*got 'date'"):
        typed(wd, imported("a\n1\n"), a="date")


def test_the_csv_filename_follows_the_data_through_type_hashpart_and_sort(wd, imported, tmp_path):
    imp = imported("k,v\n1,a\n2,b\n3,c\n")
    path = str(tmp_path / "data.csv")
    assert imp.dataset().filename == path
    shared = typed(wd, imp, k="int64_10")  # a child of the import: the filename is inherited
    rehashed = wd.build("dataset_type", source=imp, column2type=dict(k="int64_10"), hashlabel="k")
    for job in (shared, rehashed):
        assert job.dataset().filename == path
    hashed = wd.build("dataset_hashpart", source=shared, hashlabel="v")
    ordered = wd.build("dataset_sort", source=shared, sort_columns="k")
    assert hashed.dataset().filename == ordered.dataset().filename == path


DATE_TEXTS = [
    "2024-01-05", "2024-1-5", "2024-02-29", "2023-02-29", "2024-13-01", "0000-01-01",
    "9999-12-31", " 2024-01-05", "2024-01-05 ", "2024-01-05x", "20240105", "2024-01- 5",
    "2024-01-05 07:08:09", "2024-01-05 7:8:9", "2024-01-05  07:08:09", "2024-01-05\t07:08:09",
    "2024-01-05 24:00:00", "2024-01-05 23:59:60", "2024-01-05 23:59:61", "2024-01-05 23:59",
    "2024-01-05T07:08:09.5", "2024-01-05t07:08:09.123456", "2024-01-05T07:08:09.1234567",
    "05/01/2024", "5/1/2024", "31/04/2024", "07:08", "7:8", "24:00", "x",
]  # fmt: skip


@pytest.mark.parametrize(
    "spec",
    [
        "date:%Y-%m-%d",
        "datetime:%Y-%m-%d %H:%M:%S",
        "datetime:%Y-%m-%dT%H:%M:%S.%f",
        "date:%d/%m/%Y",
        "time:%H:%M",
        "datei:%Y-%m-%d",
        "datetimei:%Y-%m-%d %H:%M",
    ],
)
def test_dates_type_as_strptime_reads_them(wd, imported, spec):
    """Formats of %Y %m %d %H %M %S %f are matched without strptime where that can be
    done: every text must still come out as strptime makes it, or be bad where it fails."""
    kind, fmt = spec.split(":", 1)
    prefix = kind.endswith("i")
    expected, bad = [], []
    for text in DATE_TEXTS:
        try:
            value = datetime.datetime.strptime(text, fmt)
        except ValueError as e:
            message = str(e)
            if not (prefix and message.startswith("unconverted data remains: ")):
                bad.append(text.encode())
                continue
            rest = len(message) - len("unconverted data remains: ")
            value = datetime.datetime.strptime(text[:-rest], fmt)
        kind_of = kind.rstrip("i")
        expected.append(
            value.date() if kind_of == "date" else value.time() if kind_of == "time" else value
        )
    imp = imported("t\n" + "".join(f"{t}\n" for t in DATE_TEXTS))
    job = wd.build("dataset_type", source=imp, column2type=dict(t=spec), filter_bad=True)
    assert sorted(job.dataset().iterate(None, "t")) == sorted(expected)
    assert sorted(job.dataset("bad").iterate(None, "t")) == sorted(bad)


TEXTS = """
options = dict(bad={})  # {column: [rows of slice 0 whose text is b"x"]}

def prepare(job):
    dw = job.datasetwriter()
    dw.add("a", "bytes")
    dw.add("b", "bytes")
    return dw

def analysis(sliceno, prepare_res, options):
    for row in range(20_000 if sliceno == 0 else 10):
        prepare_res.write(*(
            b"x" if row in options.bad.get(col, ()) else str(row).encode() for col in "ab"
        ))
"""


def test_typing_in_chunks_decides_each_failure_as_a_row_at_a_time_would(wd):
    """Columns are typed a chunk of 8,192 rows at a time, one column after the other; the
    error must still name the first failing value in row order, and filter_bad and
    defaults must count as they did when each row went through its columns in turn."""
    wd.method("texts", TEXTS)
    source = wd.build("texts", bad=dict(a=[15_003], b=[9_000, 15_001]))
    types = dict(a="int64_10", b="int64_10")
    with pytest.raises(JobError, match=r"column 'b' of .*, slice 0 line 9001: b'x' is not"):
        wd.build("dataset_type", source=source, column2type=types)
    # a bad row leaves later columns alone: in row 9,000 (a bad) b's default is not counted
    source = wd.build("texts", bad=dict(a=[9_000, 15_003], b=[9_000, 15_001]))
    job = wd.build(
        "dataset_type", source=source, column2type=types, defaults=dict(b="-1"), filter_bad=True
    )
    assert job.load().defaulted == {"b": 1} and job.load().bad_lines == 2
    assert sorted(job.dataset("bad").iterate(None, ["a", "b"])) == [(b"x", b"15003"), (b"x", b"x")]
    typed = dict(job.dataset().iterate(0, ["a", "b"]))
    assert typed[15_001] == -1 and len(typed) == 20_000 - 2


def test_plain_chunks_convert_as_a_value_at_a_time_would(wd, imported):
    """int*_10, float*, date:%Y-%m-%d, datetime:%Y-%m-%d %H:%M:%S and unicode:utf-8 check a
    whole chunk by one regex and convert it with C functions: the values, and what fails,
    must be those of the per-value conversion."""
    lines = ["i,f,d,t,u,n"]
    for n in range(300):
        lines.append(f" {n - 150:+04d} ,{n / 7!r},2024-{1 + n % 12:02d}-{1 + n % 28:02d},"
                     f"2024-01-{1 + n % 28:02d} {n % 24:02d}:{n % 60:02d}:{n % 60:02d},v{n}é,"
                     f"{(n - 150) * 10**(n % 40)}")  # fmt: skip
    job = wd.build(
        "dataset_type", source=imported("\n".join(lines) + "\n"),
        column2type=dict(i="int32_10", f="float64", d="date:%Y-%m-%d",
                         t="datetime:%Y-%m-%d %H:%M:%S", u="unicode:utf-8", n="number"),
    )  # fmt: skip
    got = sorted(job.dataset().iterate(None, ["i", "f", "d", "t", "u", "n"]))
    want = []
    for line in lines[1:]:
        i, f, d, t, u, n = line.split(",")
        want.append((int(i), float(f), datetime.datetime.strptime(d, "%Y-%m-%d").date(),
                     datetime.datetime.strptime(t, "%Y-%m-%d %H:%M:%S"), u, int(n)))  # fmt: skip
    assert got == sorted(want)
    assert all(type(n) is int for n in job.dataset().iterate(None, "n"))
    # shapes that fit the regex but not the type: a value at a time decides, as before
    bad = imported(
        "i,d,t\n1,2024-01-01,2024-01-01 00:00:00\n2147483648,2024-01-02,2024-01-02 00:00:00\n"
        "3,2023-02-29,2024-01-03 00:00:00\n4,2024-01-04,2024-01-04 24:00:00\n"
    )  # each line after the first fails in one column only
    job = wd.build(
        "dataset_type", source=bad, filter_bad=True,
        column2type=dict(i="int32_10", d="date:%Y-%m-%d", t="datetime:%Y-%m-%d %H:%M:%S"),
    )  # fmt: skip
    assert list(job.dataset().iterate(None, "i")) == [1]
    assert job.load().bad_lines == 3


def test_a_row_left_out_has_its_later_columns_never_converted(wd, imported):
    """As in a row loop: here json.loads would recurse too deep on the row's other text."""
    deep = "[" * 100_000 + "]" * 100_000
    imp = imported(f"a;j\nx;{deep}\n1;[1]\n", separator=";")
    job = wd.build(
        "dataset_type", source=imp, column2type=dict(a="int32_10", j="json"), filter_bad=True
    )
    assert list(job.dataset().iterate(None, ["a", "j"])) == [(1, [1])]
    assert job.load().bad_lines == 1


GIVEN = """
options = dict(chunks=[], kind="bytes")  # [[text]]: each a chunk of slice 0 (bytes: latin-1)

CHUNK_ROWS = 8192  # dataset_type's: each chunk is filled up to it with its first text

def prepare(job, options):
    dw = job.datasetwriter()
    dw.add("v", options.kind)
    return dw

def analysis(sliceno, prepare_res, options):
    for texts in options.chunks if sliceno == 0 else ():
        for text in texts + texts[:1] * (CHUNK_ROWS - len(texts)):
            prepare_res.write(text.encode("latin-1") if options.kind == "bytes" else text)
"""


def _oracle_int(bits):
    def convert(raw):
        if not re.fullmatch(rb"\s*[+-]?\d+\s*", raw):
            raise ValueError(raw)
        value = int(raw)
        if not -(1 << (bits - 1)) <= value < 1 << (bits - 1):
            raise ValueError(raw)
        return value

    return convert


def _oracle_float(raw):
    if b"_" in raw:
        raise ValueError(raw)
    return float(raw)


ORACLES = {  # what a value at a time gives, the specs' chunk paths must give the same
    "int64_10": _oracle_int(64),
    "int32_10": _oracle_int(32),
    "float64": _oracle_float,
    "date:%Y-%m-%d": lambda raw: datetime.datetime.strptime(raw.decode(), "%Y-%m-%d").date(),
    "unicode:utf-8": lambda raw: raw.decode("utf-8"),
}


def _good(rnd, spec):
    """Texts that all convert, of the shapes each spec's chunk path takes whole."""
    if spec.startswith("int"):
        texts = ["2147483647", "-2147483648", "-0", "+007", "0"]
        for _ in range(300):
            digits = "".join(rnd.choice("0123456789") for _ in range(rnd.randint(1, 9)))
            texts.append(rnd.choice(["", "", "-", "+"]) + digits)
        return texts
    if spec == "float64":
        texts = ["-0.0", ".5", "5.", "0.1", "-007.250", "999999999999999", ".000000000000001"]
        for _ in range(300):
            digits = "".join(rnd.choice("0123456789") for _ in range(rnd.randint(1, 15)))
            point = rnd.randint(0, len(digits))
            texts.append(rnd.choice(["", "-", "+"]) + digits[:point] + "." + digits[point:])
        return texts
    if spec.startswith("date"):
        texts = ["2024-02-29", "0001-01-01", "9999-12-31", "2023-12-31", "2000-02-29"]
        for _ in range(300):
            year = rnd.choice([1, 1900, 2000, 2023, 2024, 9999])
            texts.append(f"{year:04d}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}")
        return texts
    texts = ["", "a"]
    for _ in range(300):
        text = "".join(rnd.choice("aé€\U0001f600 ,") for _ in range(rnd.randint(0, 5)))
        texts.append(text.encode("utf-8").decode("latin-1"))  # the column holds UTF-8
    return texts


OTHERS = {  # texts the chunk path leaves to a value at a time: good or bad, each alone
    "int64_10": ["", "-", "+-1", "1-2", " 12 ", "1 2", "0x1f", "\xb2", "123456789012345678",
                 "9223372036854775807", "-9223372036854775808", "9223372036854775808",
                 "-9223372036854775809", "0000000000000000000000001"],
    "int32_10": ["2147483648", "-2147483649", "", "--1", "007 "],
    "float64": ["", "1_0", "0x1p3", "nan(1)", "1e", "infinity", "1e400", "-", ".", "1.2.3",
                "-inf", "-nan", " 2.5 ", "1E5", "1.7976931348623157e308", "0.1000000000000000055",
                "1234567890.1234567", "+-1.5", "1-.5", "69725.102734646869",
                "411771516204661.09", "252559446.10924834"],
    "date:%Y-%m-%d": ["2023-02-29", "0000-01-01", "2024-13-01", "2024-00-10", "2024-1-5",
                      "2024-04-31", "2024/01/01", "2024-01-01 ", "2024-12-32", "1900-02-29"],
    "unicode:utf-8": ["\xff", "a\xc3", "\xed\xa0\x80", "\xc0\x80"],
}  # fmt: skip


@pytest.mark.parametrize("spec", sorted(ORACLES))
def test_chunks_of_every_shape_type_as_a_value_at_a_time_would(wd, spec):
    """The chunk paths (numpy for bare integers and ISO dates, float() into an array, UTF-8
    written as it is) against the per-value conversion: a chunk that is all good, which
    the chunk path takes whole, then chunks each holding one text it does not take."""
    good = _good(random.Random(spec), spec)
    chunks = [good] + [[good[0], text] for text in OTHERS[spec]]
    wd.method("given", GIVEN)
    source = wd.build("given", chunks=chunks)
    job = wd.build("dataset_type", source=source, column2type=dict(v=spec), defaults=dict(v=None))
    want = []
    for texts in chunks:
        for text in texts + texts[:1] * (8192 - len(texts)):
            try:
                want.append(ORACLES[spec](text.encode("latin-1")))
            except ValueError:
                want.append(None)
    got = list(job.dataset().iterate(0, "v"))
    assert len(got) == len(want) and [repr(v) for v in got] == [repr(v) for v in want]
