"""The standard method csvimport: CSV text into bytes columns, as the Accelerator's."""

from __future__ import annotations

import gzip
import os

import pytest

from accnb import JobError


@pytest.fixture
def csv(tmp_path):
    """csv(text, name="data.csv"): a file holding text (bytes or str), its path."""

    def write(text, name="data.csv"):
        path = tmp_path / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        return str(path)

    return write


def rows(ds, columns=None):
    return list(ds.iterate(None, columns))


def test_labels_from_the_first_line_and_bytes_columns(wd, csv):
    path = csv("a,b\n1,x\n2,y\n3,z\n")
    job = wd.build("csvimport", filename=path)
    ds = job.dataset()
    assert {n: c.type for n, c in ds.columns.items()} == {"a": "bytes", "b": "bytes"}
    assert sorted(rows(ds, ["a", "b"])) == [(b"1", b"x"), (b"2", b"y"), (b"3", b"z")]
    assert job.load().num_lines == 3 and ds.caption == f"csvimport of {path}"


def test_lines_are_dealt_round_robin_over_the_slices(wd, csv):
    ds = wd.build("csvimport", filename=csv("a\n1\n2\n3\n")).dataset()
    assert ds.lines == [2, 1]
    assert list(ds.iterate(0, "a")) == [b"1", b"3"] and list(ds.iterate(1, "a")) == [b"2"]


def test_crlf_and_a_missing_last_newline(wd, csv):
    ds = wd.build("csvimport", filename=csv("a,b\r\n1,2\r\n3,4")).dataset()
    assert sorted(rows(ds, ["a", "b"])) == [(b"1", b"2"), (b"3", b"4")]
    # a \r that ends the file is not before a newline: it stays in the last field
    ds = wd.build("csvimport", filename=csv("a,b\r\n1,2\r\n3,4\r", "cr.csv")).dataset()
    assert sorted(rows(ds, ["a", "b"])) == [(b"1", b"2"), (b"3", b"4\r")]


def test_quoted_fields_hold_separators_and_doubled_quotes(wd, csv):
    text = 'a,b\n"x,y","say ""hi"""\nplain"quote,""\n'
    ds = wd.build("csvimport", filename=csv(text), quotes='"').dataset()
    assert sorted(rows(ds, ["a", "b"])) == [(b'plain"quote', b""), (b"x,y", b'say "hi"')]


def test_quotes_true_takes_either_quote_and_without_quotes_they_are_text(wd, csv):
    path = csv("a,b\n'1,2',\"3\"\n")
    ds = wd.build("csvimport", filename=path, quotes=True).dataset()
    assert rows(ds, ["a", "b"]) == [(b"1,2", b"3")]
    with pytest.raises(JobError, match="line 2 .*3 fields, but there are 2 labels"):
        wd.build("csvimport", filename=path)


def test_other_separator_newline_and_one_field_per_line(wd, csv):
    ds = wd.build("csvimport", filename=csv("a;b|1;2|3;4"), separator=";", newline="|").dataset()
    assert sorted(rows(ds, ["a", "b"])) == [(b"1", b"2"), (b"3", b"4")]
    ds = wd.build("csvimport", filename=csv("line\nx,y;z\n\n"), separator="").dataset()
    assert sorted(rows(ds, "line")) == [b"", b"x,y;z"]


def test_labels_given_several_label_lines_strip_rename_and_discard(wd, csv):
    ds = wd.build(
        "csvimport", filename=csv("1,2,3\n"), labels=["x", "y", "z"], discard={"y"}
    ).dataset()
    assert rows(ds) == [(b"1", b"3")] and sorted(ds.columns) == ["x", "z"]
    ds = wd.build(
        "csvimport",
        filename=csv("first, second\nname ,other\n1,2\n"),
        label_lines=2,
        strip_labels=True,
        rename={"second other": "b"},
    ).dataset()
    assert sorted(ds.columns) == ["b", "first name"]
    assert rows(ds, ["first name", "b"]) == [(b"1", b"2")]


def test_lineno_label_numbers_lines_from_one_counting_every_line(wd, csv):
    ds = wd.build(
        "csvimport", filename=csv("# c\na\nx\ny\n"), comment="#", lineno_label="n"
    ).dataset()
    assert ds.columns["n"].type == "int64"
    assert sorted(rows(ds, ["n", "a"])) == [(3, b"x"), (4, b"y")]


def test_skipped_lines_go_to_the_dataset_skipped(wd, csv):
    text = "junk\na,b\n#note\n1,2\n\n3,4\n"
    job = wd.build(
        "csvimport", filename=csv(text), skip_lines=1, comment="#", skip_empty_lines=True
    )
    assert sorted(rows(job.dataset(), ["a", "b"])) == [(b"1", b"2"), (b"3", b"4")]
    skipped = job.dataset("skipped")
    assert sorted(rows(skipped, ["lineno", "data"])) == [(1, b"junk"), (3, b"#note"), (5, b"")]
    assert job.load().num_skipped_lines == 3


def test_a_bad_line_fails_naming_the_line_and_what_to_do(wd, csv):
    with pytest.raises(JobError, match=r"line 3 of .*1 fields, but there are 2 labels.*allow_bad"):
        wd.build("csvimport", filename=csv("a,b\n1,2\n3\n"))
    with pytest.raises(JobError, match=r"line 2 .*field 1 \(a\): a quoted field has no closing"):
        wd.build("csvimport", filename=csv('a,b\n"1,2\n'), quotes='"')


def test_allow_bad_keeps_bad_lines_in_the_dataset_bad(wd, csv):
    job = wd.build(
        "csvimport", filename=csv('a,b\n1,2\n3\n4,5,6\n"7"x,8\n'), quotes='"', allow_bad=True
    )
    assert rows(job.dataset(), ["a", "b"]) == [(b"1", b"2")]
    assert sorted(rows(job.dataset("bad"), ["lineno", "data"])) == [
        (3, b"3"),
        (4, b"4,5,6"),
        (5, b'"7"x,8'),
    ]
    assert job.load().num_broken_lines == 3
    assert "3 bad lines" in job.output("synthesis")


def test_allow_extra_empty_accepts_empty_fields_after_the_last_label(wd, csv):
    path = csv('a,b,\n1,2,,""\n3,4\n')
    ds = wd.build("csvimport", filename=path, quotes='"', allow_extra_empty=True).dataset()
    assert sorted(ds.columns) == ["a", "b"]
    assert sorted(rows(ds, ["a", "b"])) == [(b"1", b"2"), (b"3", b"4")]


def test_a_gzipped_file_is_read_unzipped(wd, tmp_path):
    path = tmp_path / "data.csv.gz"
    path.write_bytes(gzip.compress(b"a\n1\n2\n"))
    assert sorted(rows(wd.build("csvimport", filename=str(path)).dataset(), "a")) == [b"1", b"2"]


def test_previous_chains_the_default_bad_and_skipped_datasets(wd, csv):
    first = wd.build(
        "csvimport", filename=csv("a\n#c\n1\n", "one.csv"), comment="#", allow_bad=True
    )
    second = wd.build(
        "csvimport",
        filename=csv("a\n#d\n2\n", "two.csv"),
        comment="#",
        allow_bad=True,
        previous=first,
    )
    assert second.dataset().previous == first.dataset()
    assert sorted(second.dataset().iterate_chain(None, "a")) == [b"1", b"2"]
    assert second.dataset("skipped").previous == first.dataset("skipped")
    assert second.dataset("bad").previous == first.dataset("bad")


def test_a_changed_file_is_imported_again_an_unchanged_one_reused(wd, csv):
    path = csv("a\n1\n")
    first = wd.build("csvimport", filename=path)
    assert wd.build("csvimport", filename=path).reused
    csv("a\n1\n2\n")
    os.utime(path, (1, 1))
    again = wd.build("csvimport", filename=path)
    assert again != first and sorted(rows(again.dataset(), "a")) == [b"1", b"2"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (dict(separator=";;"), "separator must be a single iso-8859-1 character"),
        (dict(quotes="«»"), "quotes must be"),
        (dict(compression=9), "compression=9 is not supported"),
        (dict(rename={"b": "a"}), r"duplicate labels \['a'\]"),
        (dict(discard={"a", "b"}), "every label .* is discarded"),
        (dict(lineno_label="a"), "lineno_label 'a' is also a label"),
    ],
)
def test_bad_options_fail_naming_the_option(wd, csv, options, message):
    with pytest.raises(JobError, match=message):
        wd.build("csvimport", filename=csv("a,b\n1,2\n"), **options)


def test_a_missing_or_empty_file_fails_saying_what_to_give(wd, csv, tmp_path):
    with pytest.raises(JobError, match="cannot read filename"):
        wd.build("csvimport", filename=str(tmp_path / "nope.csv"))
    with pytest.raises(JobError, match=r"no labels: .* give labels=\[...\]"):
        wd.build("csvimport", filename=csv(""))


@pytest.mark.parametrize("comment", ["", "#"])
def test_a_file_of_many_chunks_is_read_as_a_line_at_a_time_would(wd, csv, comment):
    """Lines are read a megabyte at a time and plain chunks split at C speed: what comes
    out must be what reading line by line gives, across chunk boundaries (CRLF endings,
    quotes, a bad line, comments)."""
    lines, expected, bad, skipped = [b"a,b"], [], [], []
    data_index = 0  # the data lines are dealt round robin, bad ones included
    for i in range(150_000):  # about 2.5 MB: three chunks
        lineno = len(lines) + 1
        if comment and i % 40_000 == 7:
            lines.append(b"# a comment, " + b"%d" % i)
            skipped.append((lineno, lines[-1]))
            continue
        if i == 90_001:
            lines.append(b"1,2,3")  # one field too many
            bad.append((lineno, lines[-1]))
        elif i % 50_000 == 3:
            lines.append(b'"%d","x,""y"""' % i)  # quoted, with a separator and a quote
            expected.append((data_index % 2, b"%d" % i, b'x,"y"', lineno))
        else:
            lines.append(b"%d,v%d%s" % (i, i, b"\r" if i % 3 else b""))  # CRLF or LF
            expected.append((data_index % 2, b"%d" % i, b"v%d" % i, lineno))
        data_index += 1
    job = wd.build(
        "csvimport", filename=csv(b"\n".join(lines) + b"\n"), quotes='"', comment=comment,
        lineno_label="n", allow_bad=True,
    )  # fmt: skip
    ds = job.dataset()
    got = [(s, *row) for s in range(2) for row in ds.iterate(s, ["a", "b", "n"])]
    assert sorted(got, key=lambda r: r[3]) == expected
    assert list(job.dataset("bad").iterate(None, ["lineno", "data"])) == bad
    if comment:
        skipped_ds = job.dataset("skipped")
        assert sorted(skipped_ds.iterate(None, ["lineno", "data"])) == skipped


def test_an_empty_label_is_a_bytes_column_like_any_other(wd, csv):
    # pandas' to_csv writes its index column under an empty label
    ds = wd.build("csvimport", filename=csv(",a\n0,x\n1,y\n")).dataset()
    assert {n: c.type for n, c in ds.columns.items()} == {"": "bytes", "a": "bytes"}
    assert sorted(ds.iterate(None, ["", "a"])) == [(b"0", b"x"), (b"1", b"y")]


def test_an_empty_line_ending_a_run_between_comments_is_a_line(wd, csv):
    """Data lines between skipped ones go to numpy joined again: an empty last one counts."""
    job = wd.build("csvimport", filename=csv("a\n1\n\n#c\n2\n3\n"), comment="#")
    ds = job.dataset()
    assert job.load().num_lines == 4
    assert list(ds.iterate(0, "a")) == [b"1", b"2"] and list(ds.iterate(1, "a")) == [b"", b"3"]
    with pytest.raises(JobError, match="line 3 .*1 fields, but there are 2 labels"):
        wd.build("csvimport", filename=csv("a,b\n1,2\n\n#c\n3,4\n", "two.csv"), comment="#")


def test_a_carriage_return_separator_in_crlf_lines_is_a_bad_line_not_a_crash(wd, csv):
    path = csv("a\rb\r\n1\r\n")
    with pytest.raises(JobError, match="line 2 .*1 fields, but there are 2 labels"):
        wd.build("csvimport", filename=path, separator="\r")
    job = wd.build("csvimport", filename=path, separator="\r", allow_bad=True)
    assert list(job.dataset("bad").iterate(None, ["lineno", "data"])) == [(2, b"1")]


def test_a_line_of_many_megabytes_imports_whole(wd, csv):
    """Its field is joined from slices, not gathered by an index 8 times its size."""
    big = "x" * (6 << 20)
    ds = wd.build("csvimport", filename=csv(f"a,b\n1,{big}\n2,y\n")).dataset()
    assert sorted(rows(ds, ["a", "b"])) == [(b"1", big.encode()), (b"2", b"y")]
