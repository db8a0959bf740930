import gzip

import numpy as np

from accnb import DotDict, OptionString
from accnb.dataset import Dataset, Packed

description = r"""
CSV file to dataset, as the Accelerator's csvimport: every column is bytes (type them
with dataset_type), one row per line.

The file may be gzipped. `separator` is any single iso-8859-1 character (empty: one field
per line); `newline` likewise (empty: \n, with a \r before it removed); `quotes` is '' or
'False' (no quoting), 'True' (" and '), or the quote character. A field that starts with
a quote ends at the same quote followed by the separator or the end of the line; a doubled
quote inside is one quote. Quoted fields do not span lines (as in the Accelerator).

Labels come from the first `label_lines` lines (default 1, or 0 when `labels` is given;
several label lines are joined with spaces), decoded as `label_encoding`; `labels` always
wins. Then `strip_labels`, then `rename` {old: new}, then `discard` (names after rename).

Lines are numbered from 1 in the file, counting every line. The first `skip_lines` lines,
lines starting with `comment` and (with skip_empty_lines) empty lines are skipped, and
kept in the dataset "skipped" (lineno int64, data bytes). A line with too few or too many
fields or a broken quote fails the job, naming the line; with allow_bad it goes to the
dataset "bad" (lineno, data) instead. allow_extra_empty accepts extra empty fields at the
end of a line. lineno_label adds an int64 column of line numbers.

Slices: lines are dealt round robin over the slices in file order (skipped lines apart),
as in the Accelerator. Each slice reads the whole file and parses only its own lines.

Chaining: the default dataset's previous is `previous` (a csvimport of the file before);
"bad" and "skipped" chain to the previous job's datasets of those names.

filename is made absolute where the build runs, and the file's size and modification time
are part of the reuse key, so a changed file is imported again.

Not in accnb: `compression` (columns are stored uncompressed; only its default, 6, is
accepted).

Result: DotDict(num_lines, lines_per_slice, num_broken_lines, broken_lines_per_slice,
num_skipped_lines, skipped_lines_per_slice).
"""

options = dict(
    filename=OptionString,
    separator=",",  # one iso-8859-1 character, or empty for one field per line
    comment="",  # lines starting with this character are skipped
    newline="",  # empty: \n or \r\n; or one iso-8859-1 character
    quotes="",  # '' or 'False': none; 'True': " and '; or the quote character
    label_lines=int,  # lines of labels; default 1, or 0 when labels is given
    label_encoding="utf-8",
    labels=[],  # the labels, instead of those in the file
    strip_labels=False,
    rename={},  # {label in the file: new name}
    discard=set(),  # labels (after rename) not imported
    lineno_label="",  # name of an int64 column of line numbers (none if empty)
    allow_bad=False,  # bad lines go to the dataset "bad" instead of failing the job
    allow_extra_empty=False,  # a line may have extra empty fields at the end
    skip_lines=0,  # skip this many lines at the start of the file
    skip_empty_lines=False,
    compression=6,  # the Accelerator's gzip level: not used, columns are uncompressed
)

datasets = ("previous",)

# filename is made absolute and its size and mtime enter the reuse key.
input_directories = ("filename",)

SHOWN_BAD = 10  # synthesis names this many bad lines


def prepare(job, options, datasets):
    if options.compression != 6:
        raise ValueError(
            f"csvimport: compression={options.compression!r} is not supported: accnb stores "
            "columns uncompressed; leave compression out"
        )
    if options.skip_lines < 0:
        raise ValueError(f"csvimport: skip_lines must be >= 0, not {options.skip_lines}")
    filename = options.filename
    try:
        with _open(filename) as fh:
            fh.read(1)
    except (OSError, EOFError) as e:
        raise OSError(
            f"csvimport: cannot read filename {filename!r}: {e.strerror or e}; give the path "
            "of a readable (optionally gzipped) file"
        ) from None
    syntax = DotDict(
        newline=_char(options, "newline"),
        separator=_char(options, "separator"),
        comment=_char(options, "comment"),
        quotes=_quotes(options.quotes),
    )
    if syntax.separator is None:  # one field per line: a separator no line contains
        syntax.separator = syntax.newline or b"\n"
    # what a quoted field starts with, at the line's start or after a separator: made once
    # here rather than for every line
    quotes = syntax.quotes or b""
    syntax.quote_starts = tuple(quotes[i : i + 1] for i in range(len(quotes)))
    syntax.quoted_after_sep = tuple(syntax.separator + q for q in syntax.quote_starts)
    label_lines = options.label_lines
    if label_lines is None:
        label_lines = 0 if options.labels else 1
    if label_lines < 0:
        raise ValueError(f"csvimport: label_lines must be >= 0, not {label_lines}")
    labels = _labels(options, filename, syntax, label_lines)
    keep = [ix for ix, name in enumerate(labels) if name not in options.discard]
    columns = [labels[ix] for ix in keep]
    if options.lineno_label:
        if options.lineno_label in columns:
            raise ValueError(
                f"csvimport: lineno_label {options.lineno_label!r} is also a label in the file: "
                "choose another name, or rename or discard that column"
            )
        columns.append(options.lineno_label)
    if not columns:
        raise ValueError(f"csvimport: every label of {filename} is discarded: nothing to import")
    caption = f"csvimport of {filename}"
    dw = job.datasetwriter(caption=caption, previous=datasets.previous, filename=filename)
    for ix in keep:
        dw.add(labels[ix], "bytes")
    if options.lineno_label:
        dw.add(options.lineno_label, "int64")
    bad_dw = skipped_dw = None
    if options.allow_bad:
        bad_dw = _lines_writer(job, "bad", f"bad lines from {caption}", datasets.previous)
    if options.comment or options.skip_lines or options.skip_empty_lines:
        skipped_dw = _lines_writer(
            job, "skipped", f"skipped lines from {caption}", datasets.previous
        )
    return DotDict(
        syntax=syntax,
        label_lines=label_lines,
        labels=labels,
        keep=keep,
        dw=dw,
        bad_dw=bad_dw,
        skipped_dw=skipped_dw,
    )


def analysis(sliceno, slices, options, prepare_res):
    """This slice's share of the data lines, every slices-th as they come (skipped lines
    are dealt apart). The file comes a block of whole lines at a time: a block without
    quotes whose every line has as many fields as there are labels goes from its bytes to
    the columns in a few numpy passes; the other lines are split one at a time."""
    p = prepare_res
    counts = DotDict(good=0, bad=0, skipped=0)
    bad_lines = []
    normal = skipped_seen = 0
    for first, data, kind in _classified(options, p.syntax, p.label_lines):
        if kind == "skip":
            if skipped_seen % slices == sliceno:
                p.skipped_dw.write(first, data[0])
                counts.skipped += 1
            skipped_seen += 1
            continue
        if kind == "label":
            continue
        start = (sliceno - normal) % slices
        if kind == "lines":  # lines between skipped ones, without their newlines
            newline = p.syntax.newline or b"\n"
            block, crlf = newline.join(data) + newline, False
        else:
            block, crlf = data, p.syntax.newline is None
        bounds = _field_bounds(block, p.syntax, len(p.labels), crlf)
        if bounds is not None:
            starts, ends = (b[start::slices] for b in bounds)
            _write_fields(block, starts, ends, first + start, slices, options, p)
            counts.good += len(starts)
            normal += len(bounds[0])
            continue
        lines = data if kind == "lines" else _lines(data, p.syntax.newline)
        normal += len(lines)
        linenos = range(first + start, first + len(lines), slices)
        columns, linenos = _columns(lines[start::slices], linenos, options, p, counts, bad_lines)
        if linenos:
            columns = [columns[ix] for ix in p.keep]
            if options.lineno_label:
                columns.append(list(linenos))
            p.dw.write_columns(dict(zip(p.dw.columns, columns, strict=True)))
            counts.good += len(linenos)
    return counts.good, counts.bad, counts.skipped, bad_lines


def _columns(lines, linenos, options, p, counts, bad_lines):
    """(the fields of the good lines, a list for each label; their line numbers), a line
    at a time. A bad line goes to the dataset "bad" (allow_bad) or fails the job."""
    count = len(p.labels)
    rows, good = [], []
    for lineno, line in zip(linenos, lines, strict=True):
        fields = _fields(line, p.syntax, count, options.allow_extra_empty, p.labels)
        if not isinstance(fields, str):
            rows.append(fields)
            good.append(lineno)
            continue
        if not options.allow_bad:
            raise ValueError(
                f"csvimport: line {lineno} of {options.filename}: {fields}. Fix the file, "
                "or build with allow_bad=True to collect such lines in the dataset 'bad'"
            )
        p.bad_dw.write(lineno, line)
        counts.bad += 1
        if len(bad_lines) < SHOWN_BAD:
            bad_lines.append((lineno, fields))
    return [list(column) for column in zip(*rows, strict=True)] or [[] for _ in range(count)], good


# --- a block of plain lines, by numpy


def _field_bounds(data, syntax, count, crlf):
    """Where each field of each line of `data` (whole lines) starts and ends: two arrays,
    a row for each line and a column for each label. None unless no line holds a quote
    (with quotes on) and every line has count fields. crlf: a \r before a newline is not
    part of the line."""
    if syntax.quotes and any(q in data for q in syntax.quote_starts):
        return None
    raw = np.frombuffer(data, np.uint8)
    newline = (syntax.newline or b"\n")[0]
    breaks = np.flatnonzero(raw == newline)
    line_starts = np.concatenate([[0], breaks + 1])
    if data.endswith(bytes([newline])):
        line_starts, last_ends = line_starts[:-1], breaks  # where each line's last field ends
    else:  # the file's last line, without a newline (a \r there stays in its last field)
        last_ends = np.append(breaks, len(raw))
    if crlf and b"\r" in data:  # only \r\n, each \r then ending its line's last field
        if syntax.separator == b"\r":
            return None
        crs = np.flatnonzero(raw == 13)
        if len(crs) != len(breaks) or len(breaks) != len(last_ends) or (crs != breaks - 1).any():
            return None
        last_ends = crs
    lines = len(last_ends)
    if syntax.separator[0] == newline:  # one field per line
        if count != 1:
            return None
        seps = np.zeros((lines, 0), np.int64)
    else:
        seps = np.flatnonzero(raw == syntax.separator[0])
        if len(seps) != (count - 1) * lines:
            return None
        seps = seps.reshape(lines, count - 1)
        # count - 1 separators to a line; each line's own when the first is not before
        # the line's start and the last not after the end of its last field
        if count > 1 and ((seps[:, 0] < line_starts).any() or (seps[:, -1] > last_ends).any()):
            return None
    ends = np.empty((lines, count), np.int64)
    ends[:, :-1] = seps
    ends[:, -1] = last_ends
    starts = np.empty_like(ends)
    starts[:, 1:] = seps + 1
    starts[:, 0] = line_starts
    return starts, ends


def _write_fields(data, starts, ends, first_lineno, step, options, p):
    """Write the lines whose fields start and end there: each kept column gathered from the
    block's bytes straight into the writer's form (Packed), no Python object per field."""
    if not len(starts):
        return
    columns = [Packed.of_ranges(data, starts[:, ix], ends[:, ix]) for ix in p.keep]
    if options.lineno_label:
        columns.append(np.arange(len(starts), dtype=np.int64) * step + first_lineno)
    p.dw.write_columns(dict(zip(p.dw.columns, columns, strict=True)))


def synthesis(analysis_res, options):
    res = list(analysis_res)
    good = [r[0] for r in res]
    bad = [r[1] for r in res]
    skipped = [r[2] for r in res]
    print(f"imported {sum(good)} lines from {options.filename}")
    if sum(bad):
        print(f"{sum(bad)} bad lines (the dataset 'bad'), the first:")
        for lineno, reason in sorted(line for r in res for line in r[3])[:SHOWN_BAD]:
            print(f"  line {lineno}: {reason}")
    if sum(skipped):
        print(f"{sum(skipped)} lines skipped (the dataset 'skipped')")
    return DotDict(
        num_lines=sum(good),
        lines_per_slice=good,
        num_broken_lines=sum(bad),
        broken_lines_per_slice=bad,
        num_skipped_lines=sum(skipped),
        skipped_lines_per_slice=skipped,
    )


# --- options (prepare)


def _char(options, name):
    """The single iso-8859-1 character an option names, as bytes, or None when empty."""
    value = options[name]
    if not value:
        return None
    if isinstance(value, bytes):
        value = value.decode("iso-8859-1")
    try:
        encoded = value.encode("iso-8859-1")
    except UnicodeEncodeError:
        encoded = b""
    if len(encoded) != 1:
        raise ValueError(
            f"csvimport: {name} must be a single iso-8859-1 character (or empty), not {value!r}"
        )
    return encoded


def _quotes(value):
    if not value or value == "False":
        return None
    if value == "True":
        return b"\"'"
    if len(value) != 1 or ord(value) > 255:
        raise ValueError(
            "csvimport: quotes must be '', 'False', 'True' or a single iso-8859-1 character, "
            f"not {value!r}"
        )
    return value.encode("iso-8859-1")


def _labels(options, filename, syntax, label_lines):
    from_file = []
    if label_lines:
        for lineno, lines, kind in _classified(options, syntax, label_lines):
            if kind in ("block", "lines"):
                break
            if kind == "skip":
                continue
            fields = _fields(lines[0], syntax, None, False, None)
            if isinstance(fields, str):
                raise ValueError(f"csvimport: label line {lineno} of {filename}: {fields}")
            from_file.append([f.decode(options.label_encoding, "backslashreplace") for f in fields])
        if len({len(labs) for labs in from_file}) > 1:
            raise ValueError(
                f"csvimport: the {label_lines} label lines of {filename} have different numbers "
                f"of fields ({', '.join(str(len(labs)) for labs in from_file)})"
            )
    labels = list(options.labels) or [" ".join(parts) for parts in zip(*from_file, strict=True)]
    if options.allow_extra_empty:
        while labels and labels[-1] == "":
            labels.pop()
    if not labels:
        raise ValueError(
            f"csvimport: no labels: {filename} has no label line (it is empty or all skipped); "
            "give labels=[...] (and label_lines=0 if the file has no label line)"
        )
    if options.strip_labels:
        labels = [label.strip() for label in labels]
    labels = [options.rename.get(label, label) for label in labels]
    duplicates = sorted({label for label in labels if labels.count(label) > 1})
    if duplicates:
        raise ValueError(
            f"csvimport: duplicate labels {duplicates} in {filename}: rename them "
            "(rename={...}) or give labels=[...]"
        )
    return labels


def _lines_writer(job, name, caption, previous):
    """A (lineno, data) dataset chained to the previous job's dataset of the same name."""
    before = None
    if previous is not None and previous.name == "default":
        candidate = previous.path.parent / name
        if candidate.is_dir():
            before = Dataset(path=candidate)
    dw = job.datasetwriter(name=name, caption=caption, previous=before)
    dw.add("lineno", "int64")
    dw.add("data", "bytes")
    return dw


# --- reading lines (prepare and analysis)


def _open(filename):
    """The file, gunzipped when it is gzip (as zlib's gzopen reads either)."""
    with open(filename, "rb") as fh:
        magic = fh.read(2)
    return gzip.open(filename, "rb") if magic == b"\x1f\x8b" else open(filename, "rb")


def _blocks(fh, newline):
    """(number of the first line, whole lines as the file holds them, newlines included)
    about a MiB at a time; the file's last line may have no newline."""
    newline = newline or b"\n"
    rest = b""
    lineno = 1
    for block in iter(lambda: fh.read(1 << 20), b""):
        data = rest + block
        cut = data.rfind(newline) + 1
        if cut:
            yield lineno, data[:cut]
            lineno += data.count(newline, 0, cut)
        rest = data[cut:]
    if rest:
        yield lineno, rest


def _lines(data, newline):
    """A block's lines without their newlines (newline None: \n, and a \r before it)."""
    lines = data.split(newline or b"\n")
    if not lines[-1]:  # after the last newline
        lines.pop()
    if newline is None and b"\r\n" in data:
        lines = [line[:-1] if line.endswith(b"\r") else line for line in lines]
    return lines


def _classified(options, syntax, label_lines):
    """(number of the first line, what, kind) through the file as the Accelerator's reader
    sees it: skip_lines first, then comments and empty lines ("skip"), then labels
    ("label"), then data. A skip or label line comes alone, as [line]; data comes as
    blocks of whole lines ("block", their bytes), or as runs of lines ("lines") among
    lines that are skipped one by one."""
    skip_todo, labels_todo = options.skip_lines, label_lines
    comment = syntax.comment
    one_by_one = bool(comment) or options.skip_empty_lines
    newline = syntax.newline or b"\n"
    with _open(options.filename) as fh:
        for first, data in _blocks(fh, syntax.newline):
            if not (skip_todo or labels_todo or one_by_one):
                yield first, data, "block"
                continue
            lines = _lines(data, syntax.newline)
            run_start, run = first, []
            for lineno, line in enumerate(lines, first):
                if not (skip_todo or labels_todo or one_by_one):  # the rest is data
                    offset = 0
                    for _ in range(lineno - first):
                        offset = data.index(newline, offset) + 1
                    if offset < len(data):
                        yield lineno, data[offset:], "block"
                    break
                if skip_todo:
                    skip_todo -= 1
                    kind = "skip"
                elif (comment and line.startswith(comment)) or (
                    options.skip_empty_lines and not line
                ):
                    kind = "skip"
                elif labels_todo:
                    labels_todo -= 1
                    kind = "label"
                else:
                    if not run:
                        run_start = lineno
                    run.append(line)
                    continue
                if run:
                    yield run_start, run, "lines"
                    run = []
                yield lineno, [line], kind
            if run:
                yield run_start, run, "lines"


# --- splitting a line into fields


def _fields(line, syntax, count, allow_extra_empty, labels):
    """The line's fields (count of them, unless count is None), or why the line is bad."""
    sep, quotes = syntax.separator, syntax.quotes
    if quotes and (
        line.startswith(syntax.quote_starts) or any(q in line for q in syntax.quoted_after_sep)
    ):
        fields = _quoted_fields(line, sep, quotes, labels)
        if isinstance(fields, str):
            return fields
    else:
        fields = line.split(sep)
    if count is None or len(fields) == count:
        return fields
    if len(fields) < count:
        return f"{len(fields)} fields, but there are {count} labels"
    if allow_extra_empty and not any(fields[count:]):
        return fields[:count]
    return f"{len(fields)} fields, but there are {count} labels" + (
        "" if allow_extra_empty else " (allow_extra_empty=True accepts extra empty fields)"
    )


def _quoted_fields(line, sep, quotes, labels):
    fields = []
    pos = 0
    end = len(line)
    sep_byte = sep[0]
    while True:
        if pos < end and line[pos] in quotes:
            quote = line[pos]
            start = pos + 1
            parts = []
            while True:
                close = line.find(quote, start)
                if close < 0:
                    return _broken(fields, labels, "a quoted field has no closing quote")
                if close == end - 1 or line[close + 1] == sep_byte:
                    parts.append(line[start:close])
                    break
                if line[close + 1] == quote:
                    parts.append(line[start : close + 1])
                    start = close + 2
                    if start >= end:
                        return _broken(fields, labels, "a quoted field has no closing quote")
                else:
                    return _broken(
                        fields, labels, "a closing quote is followed by more than the separator"
                    )
            fields.append(b"".join(parts))
            if close == end - 1:
                return fields
            pos = close + 2
        else:
            found = line.find(sep, pos)
            if found < 0:
                fields.append(line[pos:])
                return fields
            fields.append(line[pos:found])
            pos = found + 1
        if pos >= end:  # the line ends with a separator: one more, empty, field
            fields.append(b"")
            return fields


def _broken(fields, labels, reason):
    field = len(fields)
    name = f" ({labels[field]})" if labels and field < len(labels) else ""
    return f"field {field + 1}{name}: {reason}"
