import codecs
import json
import re
from datetime import date, datetime
from itertools import compress

import numpy as np

from accnb import DotDict, OptionEnum
from accnb.dataset import Dataset, Packed

description = r"""
Convert columns of a dataset chain from bytes, ascii or unicode to other types, as the
Accelerator's dataset_type. column2type maps column names to type specs:

  number, number:int         int where the text is one (also "3.0"), else float
                             (number:int never float)
  float64, float32           the whole text (surrounding whitespace allowed)
  float64i, float32i         the float at the start, ignoring what follows (0 if none)
  int64_B, int32_B           B = 0 (C syntax: 0x.. hex, 0.. octal), 8, 10 or 16
  int64_Bi, int32_Bi         the integer at the start, ignoring what follows (0 if none)
  strbool                    false for "", false, 0, f, no, off, nil, null (any case)
  floatbool, floatbooli      a float's truth
  date:FMT, datetime:FMT, time:FMT   strptime formats, e.g. 'date:%Y-%m-%d'
  datei:FMT, datetimei:FMT, timei:FMT   ignoring text after the format
  bytes, bytesstrip          unchanged, or with surrounding whitespace removed
  unicode:CODEC[/ERRORS], unicodestrip:...   decoded; ERRORS strict, replace or ignore
  ascii[:replace|encode|strict], asciistrip[...]   bytes > 127 as \ooo (encode: \ too),
                             or an error (strict)
  json, complex64, complex32

TYPE+None (e.g. 'number+None', 'date+None:%Y') makes an empty text None.

A value that does not convert fails the job, naming column, slice, line and value, unless
defaults has a text for the column (converted like the values; None gives None), or
filter_bad=True: then the whole line is left out and its typed columns' texts go to the
dataset "bad".

Chain: one dataset per source dataset, from `source` back to (not including) the source of
`previous` (at most `length`), named "0", "1", ... and "default" for the last, each with
the one before as previous (the first: `previous`).

Untyped columns are shared with the source (the new dataset's parent), unless filter_bad,
discard_untyped or rehashing makes a new dataset of its own: then they are copied
(discard_untyped: left out). Dropping the source's hashlabel (hashlabel='') copies
nothing, unless nothing is typed. rename={old: new} renames before typing (column2type
names the new name; old stays if new is typed); {old: None} discards old.

Hashing: typing the source's hashlabel, or giving hashlabel, rehashes (hashlabel='' gives
no hashlabel). Each slice writes the rows it converts straight to the slices they hash to
(a split writer in analysis), so all slices rehash at once.

Not in accnb: timezone, numeric_comma, chain_slices and compression (only their defaults
are accepted).

Result: DotDict(lines, bad_lines, defaulted={column: count}).
"""

TYPES = {  # spec (before any ':') -> accnb column type
    "number": "number",
    "complex64": "complex64",
    "complex32": "complex32",
    "float64": "float64",
    "float32": "float32",
    "float64i": "float64",
    "float32i": "float32",
    **{
        f"int{bits}_{base}{i}": f"int{bits}"
        for bits in (64, 32)
        for base in (0, 8, 10, 16)
        for i in ("", "i")
    },
    "strbool": "bool",
    "floatbool": "bool",
    "floatbooli": "bool",
    "datetime": "datetime",
    "date": "date",
    "time": "time",
    "datetimei": "datetime",
    "datei": "date",
    "timei": "time",
    "bytes": "bytes",
    "bytesstrip": "bytes",
    "unicode": "unicode",
    "unicodestrip": "unicode",
    "ascii": "ascii",
    "asciistrip": "ascii",
    "json": "json",
}
FORMATTED = {"datetime", "date", "time", "datetimei", "datei", "timei", "unicode", "unicodestrip"}
_names = [n for n in TYPES if n not in FORMATTED] + ["number:int"]
_names += [n + ":*" for n in FORMATTED] + [
    f"{a}:{b}" for a in ("ascii", "asciistrip") for b in ("replace", "encode", "strict")
]
TYPENAME = OptionEnum(
    _names + [_n.replace(":", "+None:", 1) if ":" in _n else _n + "+None" for _n in _names]
)
TEXT_TYPES = ("bytes", "ascii", "unicode")

options = {
    "column2type": {"COLNAME": TYPENAME},
    "timezone": str,  # not in accnb
    "hashlabel": str,  # None: inherit; '': no hashlabel; a name: rehash on it
    "defaults": {},  # {column: text converted like the values, or None}
    "rename": {},  # {old: new}, {old: None} discards old
    "caption": "typed dataset",
    "discard_untyped": bool,
    "filter_bad": False,
    "numeric_comma": False,  # not in accnb
    "length": -1,  # at most this many datasets back in the chain
    "chain_slices": False,  # not in accnb
    "compression": 6,  # not in accnb
}

datasets = ("source", "previous")

CHUNK_ROWS = 8192  # rows typed at a time
CONVERSION_ERRORS = (ValueError, TypeError, OverflowError)  # a value that does not convert
_NO_DEFAULT = object()
UNSUPPORTED = dict(timezone=None, numeric_comma=False, chain_slices=False, compression=6)


def prepare(job, options, datasets):
    for name, default in UNSUPPORTED.items():
        if options[name] != default and not (name == "timezone" and not options[name]):
            raise ValueError(
                f"dataset_type: option {name}={options[name]!r} is not supported in accnb; "
                f"leave it out (only its default, {default!r}, is accepted)"
            )
    if datasets.source is None:
        raise ValueError("dataset_type: no source: give source=<a dataset or job>")
    converters = {col: _converter(col, spec) for col, spec in options.column2type.items()}
    defaults = {}
    for col, text in options.defaults.items():
        if col not in converters:
            raise ValueError(
                f"dataset_type: defaults names column {col!r}, which column2type does not type"
            )
        defaults[col] = None if text is None else _convert_default(col, text, converters[col])
    chain = _chain(datasets.source, datasets.previous, options.length)
    parts = []
    previous = datasets.previous
    bad_previous = _sibling(datasets.previous, "bad")
    for ix, source in enumerate(chain):
        name = "default" if ix == len(chain) - 1 else str(ix)
        part = _prepare_one(job, options, name, source, converters, previous, bad_previous)
        parts.append(part)
        previous = part.final_name
        bad_previous = part.bad_dw and f"{job.jobid}/{part.bad_dw.name}"
    return DotDict(parts=parts, converters=converters, defaults=defaults)


def analysis(sliceno, options, prepare_res):
    res = []
    for part in prepare_res.parts:
        res.append(_analysis_one(sliceno, options, prepare_res, part))
    return res


def synthesis(analysis_res, prepare_res):
    lines = bad = 0
    defaulted = {}
    for slice_res in analysis_res:
        for good, part_bad, part_defaulted in slice_res:  # one for each dataset typed
            lines += good
            bad += part_bad
            for col, n in part_defaulted.items():
                defaulted[col] = defaulted.get(col, 0) + n
    print(f"typed {lines} lines of {len(prepare_res.parts)} dataset(s)")
    if bad:
        print(f"{bad} lines left out (filter_bad): the dataset 'bad'")
    for col, n in sorted(defaulted.items()):
        print(f"{n} values of {col!r} did not convert and got the default")
    return DotDict(lines=lines, bad_lines=bad, defaulted=defaulted)


# --- prepare


def _chain(source, previous, length):
    """The source datasets to type: back to (not including) the source of previous."""
    chain = source.chain(length=length, stop_ds={previous: "source"})
    if not chain:
        raise ValueError(
            f"dataset_type: source {source} is the source of previous {previous}: nothing new "
            "to type"
        )
    return chain


def _sibling(ds, name):
    """The dataset `name` of the job holding `ds`, if ds is its default dataset and it has one."""
    if ds is None or ds.name != "default":
        return None
    path = ds.path.parent / name
    return Dataset(path=path) if path.is_dir() else None


def _prepare_one(job, options, name, source, converters, previous, bad_previous):
    typed_from = {}  # typed column -> the source column it comes from
    copied_from = {}  # untyped output column -> source column
    hidden = set()
    for old, new in options.rename.items():
        if old not in source.columns:
            continue
        if new is None:
            hidden.add(old)
        elif new in converters:
            typed_from[new] = old
        else:
            hidden.add(old)
            hidden.add(new)  # renamed over
            copied_from[new] = old
    for col in converters:
        src = typed_from.setdefault(col, col)
        if src not in source.columns:
            raise ValueError(
                f"dataset_type: dataset {source} has no column {src!r} to type as {col!r} "
                f"(it has {sorted(source.columns)})"
            )
        if source.columns[src].type not in TEXT_TYPES:
            raise ValueError(
                f"dataset_type: column {src!r} of {source} is {source.columns[src].type}; only "
                f"{', '.join(TEXT_TYPES)} columns can be typed"
            )
    untyped = [c for c in source.columns if c not in hidden and c not in converters]
    if options.hashlabel is None:
        hashlabel = source.hashlabel if source.hashlabel not in hidden else None
        rehash = hashlabel in converters
    else:
        hashlabel = options.hashlabel or None
        rehash = hashlabel is not None and hashlabel != source.hashlabel
        rehash = rehash or (hashlabel in converters)
    # a child drops its parent's hashlabel with hashlabel_override; a link can't
    drop_hashlabel = options.hashlabel == "" and source.hashlabel is not None
    own = options.filter_bad or rehash or options.discard_untyped
    own = own or (drop_hashlabel and not converters)
    if own and not options.discard_untyped:
        copied_from.update((c, c) for c in untyped)
    outputs = list(converters) + [c for c in copied_from if c not in converters]
    if hashlabel is not None and hashlabel not in outputs and (own or hashlabel not in untyped):
        if options.hashlabel:
            raise ValueError(
                f"dataset_type: can't hash {source} on {hashlabel!r}: the column is not in the "
                "typed dataset"
            )
        hashlabel = None
        rehash = False
    caption = f"{options.caption} (from {source})"
    if not own and not outputs:  # nothing to type here: the source as it is
        kept = [c for c in source.columns if c not in hidden]
        source.link_to_here(name=name, column_filter=kept, override_previous=previous)
        return DotDict(final_name=f"{job.jobid}/{name}", source=source, dw=None, bad_dw=None,
                       rehash=False)  # fmt: skip
    kw = dict(caption=caption, previous=previous, filename=source.filename)
    if not own:
        discard = {c: None for c in hidden if c in source.columns}
        kw.update(parent=source, columns=discard, hashlabel_override=drop_hashlabel)
    else:
        kw.update(hashlabel=hashlabel)
    dw = job.datasetwriter(name=name, **kw)
    sources = [typed_from.get(col) or copied_from[col] for col in outputs]
    for col, src in zip(outputs, sources, strict=True):
        none_support = source.columns[src].none_support or options.defaults.get(col, 0) is None
        if col in converters:
            dw.add(col, converters[col].type, none_support=none_support or converters[col].none)
        else:
            dw.add(col, source.columns[src])  # its type and none_support
    bad_dw = None
    if options.filter_bad:
        bad_dw = job.datasetwriter(
            name="bad" if name == "default" else f"{name}.bad", previous=bad_previous
        )
        for col in converters:
            bad_dw.add(col, source.columns[typed_from[col]])
    return DotDict(
        final_name=f"{job.jobid}/{name}",
        source=source,
        dw=dw,
        bad_dw=bad_dw,
        outputs=outputs,
        sources=sources,
        rehash=rehash,
    )


def _convert_default(col, text, converter):
    raw = text if isinstance(text, bytes) else str(text).encode("utf-8")
    try:
        return converter.convert(raw)
    except CONVERSION_ERRORS as e:
        raise ValueError(
            f"dataset_type: the default {text!r} for column {col!r} is not {converter.spec}: {e}"
        ) from None


# --- analysis


def _analysis_one(sliceno, options, prepare_res, part):
    """Type one dataset's slice a chunk of rows at a time, column by column. A typed
    column's chunk comes as its stored bytes (Packed) and is checked and converted at
    once where its spec allows, else goes through one map(), unless a value in it needs
    a decision (None, an empty text for +None, a value that fails). A chunk is written
    with write_columns (through the split writer when rehashing)."""
    converters, defaults = prepare_res.converters, prepare_res.defaults
    source = part.source
    if part.dw is None:
        return source.lines[sliceno], 0, {}
    convs = [converters.get(col) for col in part.outputs]
    typed_ix = [ix for ix, c in enumerate(convs) if c is not None]
    types = [source.columns[src].type for src in part.sources]
    read = list(dict.fromkeys(part.sources))  # a column typed twice is read once
    if part.rehash:
        part.dw.get_split_write()  # write_columns then sends each row where it hashes
    good = bad = 0
    defaulted = {}
    done = 0  # lines before this chunk
    for got in source.chunks(sliceno, read, CHUNK_ROWS, packed=True):
        chunk = [got[src] for src in part.sources]
        rows = len(chunk[0])
        texts = {ix: chunk[ix] for ix in typed_ix}
        bad_rows = set()  # filter_bad: rows left out
        failures = []  # (row, ix, error) of the first failure in each column
        for ix in typed_ix:
            col = part.outputs[ix]
            fallback = defaults.get(col, _NO_DEFAULT)
            chunk[ix], failure = _typed(
                texts[ix], types[ix], convs[ix], fallback, options, bad_rows
            )
            if fallback is not _NO_DEFAULT and failure:
                defaulted[col] = defaulted.get(col, 0) + failure
            elif failure:
                failures.append((failure[0], ix, failure[1]))
        if failures:  # the first in row order, as a row at a time would meet it
            row, ix, e = min(failures, key=lambda f: (f[0], typed_ix.index(f[1])))
            col, conv = part.outputs[ix], convs[ix]
            text = _values(texts[ix], types[ix])[row]
            raise ValueError(
                f"dataset_type: column {col!r} of {source}, slice {sliceno} line "
                f"{done + row + 1}: {text!r} is not {conv.spec} ({e}). Give "
                f"defaults={{{col!r}: ...}}, filter_bad=True, or another type"
            )
        done += rows
        if bad_rows:
            bad_texts = [_values(texts[ix], types[ix]) for ix in typed_ix]
            for row in sorted(bad_rows):
                part.bad_dw.write_list([values[row] for values in bad_texts])
            keep = [row not in bad_rows for row in range(rows)]
            chunk = [_kept(values, keep, t) for values, t in zip(chunk, types, strict=True)]
            bad += len(bad_rows)
        good += rows - len(bad_rows)
        part.dw.write_columns(dict(zip(part.outputs, chunk, strict=True)))
    return good, bad, defaulted


def _values(texts, column_type):
    """A chunk's values as a list: Packed ones made Python objects."""
    return texts.values(column_type) if isinstance(texts, Packed) else texts


def _kept(values, keep, column_type):
    """The values of the rows to keep: a numpy array, or a list (Packed untyped texts
    made Python objects first)."""
    if isinstance(values, np.ndarray):
        return values[np.array(keep, bool)]
    return list(compress(_values(values, column_type), keep))


def _typed(texts, column_type, conv, default, options, bad_rows):
    """(the values converted, what failed). A failing value takes `default` (then what
    failed is how many did), makes its row bad (filter_bad: added to bad_rows, then
    nothing failed), or stops the column (then what failed is (row, error)). None stays
    None; with conv.none an empty text becomes None. A row already bad is skipped (its
    values are never converted, as in a row loop), so such a chunk goes a value at a time.
    The values converted are a list, or from convert_many a numpy array or Packed."""
    if not conv.none and not bad_rows and conv.convert_many is not None:
        joined = _joined(texts)
        if joined is not None:
            converted = conv.convert_many(joined, len(texts), options.filter_bad)
            if converted is not None:
                return converted, None
    values = _values(texts, column_type)
    if not conv.none and not bad_rows and None not in values:
        raws = values if column_type == "bytes" else map(str.encode, values)
        try:
            return list(map(conv.convert, raws)), None
        except CONVERSION_ERRORS:
            pass  # one at a time, to decide for each that fails
    out = []
    defaulted = 0
    for row, value in enumerate(values):
        if value is None or row in bad_rows:
            out.append(value)
            continue
        raw = value if isinstance(value, bytes) else value.encode("utf-8")
        if conv.none and not raw:
            out.append(None)
            continue
        try:
            out.append(conv.convert(raw))
        except CONVERSION_ERRORS as e:
            if default is not _NO_DEFAULT:
                out.append(default)
                defaulted += 1
            elif options.filter_bad:
                bad_rows.add(row)
                out.append(None)
            else:
                return out, (row, e)
    return out, defaulted or None


def _joined(texts):
    """The texts' bytes (UTF-8 for str), each followed by a NUL, when no text is None or
    holds a NUL; else None."""
    if isinstance(texts, Packed):
        joined = bytes(texts.data)
    elif texts and isinstance(texts[0], bytes):
        try:
            joined = b"\0".join(texts) + b"\0"
        except TypeError:  # a None
            return None
    else:
        return None
    return joined if joined.count(0) == len(texts) else None


# --- converters


class Converter:
    """One column2type spec: the accnb column type, None for empty texts, convert(bytes),
    and for some specs convert_many(joined, count, filter_bad): the same values a chunk at
    a time (a list, a numpy array or Packed), or None when a value is not of the plain
    shape it handles."""

    def __init__(self, spec, type, none, convert, convert_many=None):
        self.spec = spec
        self.type = type
        self.none = none
        self.convert = convert
        self.convert_many = convert_many


def _converter(col, spec):
    base, _, fmt = spec.partition(":")
    none = base.endswith("+None")
    if none:
        base = base[: -len("+None")]
    if base not in TYPES:
        raise ValueError(
            f"dataset_type: column {col!r}: unknown type {spec!r}; use one of the types in "
            "dataset_type's description, e.g. 'number', 'int32_10', 'date:%Y-%m-%d', 'unicode:utf-8'"
        )
    if base in FORMATTED and not fmt:
        example = "utf-8" if base.startswith("unicode") else "%Y-%m-%d"
        raise ValueError(
            f"dataset_type: column {col!r}: {spec!r} needs a format after a colon, e.g. "
            f"'{base}:{example}'"
        )
    if fmt and base not in FORMATTED and base not in ("ascii", "asciistrip", "number"):
        raise ValueError(f"dataset_type: column {col!r}: {spec!r}: {base} takes no ':' format")
    convert = _convert_function(col, spec, base, fmt)
    return Converter(spec, TYPES[base], none, convert, _many_function(base, fmt))


def _convert_function(col, spec, base, fmt):
    if base == "number":
        if fmt not in ("", "int"):
            raise ValueError(f"dataset_type: column {col!r}: {spec!r}: number takes only ':int'")
        return lambda raw: _number(raw, fmt != "int")
    if base in ("float64", "float32"):
        return _float
    if base in ("float64i", "float32i"):
        return _float_prefix
    if base.startswith("int"):
        bits, _, rest = base[3:].partition("_")
        return _int_parser(int(rest.rstrip("i")), rest.endswith("i"), int(bits))
    if base == "strbool":
        return lambda raw: raw.lower() not in FALSE_TEXTS
    if base == "floatbool":
        return lambda raw: bool(_float(raw))
    if base == "floatbooli":
        return lambda raw: bool(_float_prefix(raw))
    if base in ("datetime", "date", "time", "datetimei", "datei", "timei"):
        whole = not base.endswith("i")
        kind = base if whole else base[:-1]
        return _date_parser(fmt, kind, whole)
    if base == "bytes":
        return bytes
    if base == "bytesstrip":
        return bytes.strip
    if base in ("unicode", "unicodestrip"):
        codec, _, errors = fmt.partition("/")
        errors = errors or "strict"
        if errors not in ("strict", "replace", "ignore"):
            raise ValueError(
                f"dataset_type: column {col!r}: {spec!r}: errors must be strict, replace or ignore"
            )
        try:
            codecs.lookup(codec)
        except LookupError:
            raise ValueError(
                f"dataset_type: column {col!r}: {spec!r}: unknown codec {codec!r}"
            ) from None
        strip = base == "unicodestrip"
        return lambda raw: (raw.strip() if strip else raw).decode(codec, errors)
    if base in ("ascii", "asciistrip"):
        mode = fmt or "replace"
        if mode not in ("replace", "encode", "strict"):
            raise ValueError(
                f"dataset_type: column {col!r}: {spec!r}: ascii takes replace, encode or strict"
            )
        return _ascii_function(mode, base == "asciistrip")
    if base == "json":
        return lambda raw: json.loads(raw.decode("utf-8"))
    return lambda raw: complex(raw.decode("ascii").strip())


def _many_function(base, fmt):
    """convert_many(joined, count, filter_bad) for the commonest specs: `count` values,
    each followed by a NUL in `joined`, checked at once (by numpy, or one regex) and
    converted by numpy or a C function (int, float, fromisoformat) to what convert gives
    for that shape; None when a value is not of that shape."""
    if base in ("int64_10", "int32_10"):
        return _integers(int(base[3:5]))
    if base == "number":  # whole numbers only (300 digits stay within NUMBER_MAX_BITS)
        return _checked(_matches(rb"\s*[+-]?\d{1,300}\s*"), int)
    if base == "float64":
        return _floats
    if base == "float32":  # Python floats, rounded to float32 as convert's are
        return _by_float
    if base == "date" and fmt == "%Y-%m-%d":
        return _iso_dates
    if base == "datetime" and fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"):
        shape = rb"\d{4}-\d\d-\d\d" + fmt[8:9].encode() + rb"\d\d:\d\d:\d\d"
        return _checked(_matches(shape), lambda raw: datetime.fromisoformat(raw.decode()))
    if base == "unicode" and fmt in ("utf-8", "utf-8/strict"):
        return _utf8
    return None


def _checked(valid, convert):
    """convert_many by `convert` on each value, when valid(joined) says they have the
    shape it takes."""

    def convert_many(joined, count, filter_bad):
        if not valid(joined):
            return None
        try:
            return list(map(convert, joined.split(b"\0")[:-1]))
        except ValueError:  # a shape that does not convert: a value at a time says why
            return None

    return convert_many


def _matches(shape):
    every = re.compile(rb"(?:" + shape + rb"\0)*")
    return lambda joined: every.fullmatch(joined) is not None


def _integers(bits):
    """convert_many for intN_10: numpy reads values that are bare [+-]?\\d{1,18};
    int() the others of int's shape, when every one of them fits."""
    high = (1 << (bits - 1)) - 1
    by_int = _checked(_matches(rb"\s*[+-]?\d+\s*"), int)

    def convert_many(joined, count, filter_bad):
        values = _bare_integers(joined)
        if values is None:
            values = by_int(joined, count, filter_bad)
            if values is None:
                return None
            values = np.array(values, object)
        if len(values) and (values.min() < -high - 1 or values.max() > high):
            return None
        return values.astype(np.int64)

    return convert_many


def _bare_integers(joined):
    """The values as int64 when each is [+-]?\\d{1,18} (no spaces); else None."""
    parts = _bare_parts(joined, b"")
    if parts is None:
        return None
    raw, starts, first, ends, _ = parts
    digits = ends - first
    if (digits < 1).any() or (digits > 18).any():
        return None
    return _signed(raw, starts, _digits_value(raw, first, ends))


def _bare_decimals(joined):
    """The values as float64 when each is [+-]?\\d*.?\\d* of 1 to 15 digits (no spaces,
    no exponent): the digits as an integer over a power of ten, a division IEEE rounds
    as float() rounds the text (both exact); else None."""
    parts = _bare_parts(joined, b".")
    if parts is None:
        return None
    raw, starts, first, ends, points = parts
    point = ends  # where each value's fraction starts, less one
    if points:
        at = np.flatnonzero(raw == ord("."))
        owner = np.searchsorted(ends, at)  # the value each point is in
        if (np.diff(owner) == 0).any():  # two points in one value
            return None
        point = ends.copy()
        point[owner] = at
    after = np.minimum(point + 1, ends)  # where each fraction starts
    whole, fraction = point - first, ends - after
    digits = whole + fraction
    if (digits < 1).any() or (digits > 15).any():
        return None
    fraction_value = _digits_value(raw, after, ends)
    number = _digits_value(raw, first, point) * 10**fraction + fraction_value
    return _signed(raw, starts, number / 10.0**fraction)


def _bare_parts(joined, also):
    """(bytes, value starts, first digits, ends, how many of `also`) of values made of
    digits, a leading sign and `also` only; else None."""
    rest = joined.translate(None, b"0123456789")  # the NULs, signs and also, if that is all
    signs = rest.count(b"-") + rest.count(b"+")
    extra = rest.count(also) if also else 0
    if len(rest) != rest.count(0) + signs + extra:
        return None
    raw = np.frombuffer(joined, np.uint8)
    ends = np.flatnonzero(raw == 0)
    starts = np.concatenate([[0], ends[:-1] + 1])
    first = starts
    if signs:
        signed = (raw[starts] == ord("-")) | (raw[starts] == ord("+"))
        if int(signed.sum()) != signs:  # a sign inside a value
            return None
        first = starts + signed
    return raw, starts, first, ends, extra


def _digits_value(raw, first, stop):
    """The int64 of the decimal digits raw[first[i]:stop[i]] (at most 18 of them) for
    each i: right-aligned in a matrix, one digit a column, times its power of ten."""
    width = int((stop - first).max())
    if width <= 0:
        return np.zeros(len(first), np.int64)
    at = stop[:, None] - width + np.arange(width)
    inside = at >= first[:, None]
    numbers = (raw[np.where(inside, at, 0)].astype(np.int64) - ord("0")) * inside
    return numbers @ (10 ** np.arange(width - 1, -1, -1, dtype=np.int64))


def _signed(raw, starts, values):
    np.negative(values, out=values, where=raw[starts] == ord("-"))
    return values


# float() takes digit grouping, the Accelerator's strtod() does not
_by_float = _checked(lambda joined: b"_" not in joined, float)


def _floats(joined, count, filter_bad):
    """convert_many for float64: numpy reads plain decimals; float() the other values."""
    values = _bare_decimals(joined)
    if values is None:
        values = _by_float(joined, count, filter_bad)
        if values is not None:
            values = np.array(values, np.float64)
    return values


def _utf8(joined, count, filter_bad):
    """convert_many for unicode:utf-8: valid UTF-8 is written as it is (Packed); a list
    of str when bad rows may have to be left out."""
    try:
        text = joined.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if filter_bad:
        return text.split("\0")[:-1]
    return Packed(joined, np.flatnonzero(np.frombuffer(joined, np.uint8) == 0) + 1)


_DATE_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9]  # of YYYY-MM-DD


def _iso_dates(joined, count, filter_bad):
    """convert_many for date:%Y-%m-%d: when every value is YYYY-MM-DD of a date that
    exists, the dates as numpy datetime64[D], checked and made by numpy; else None."""
    if len(joined) != 11 * count:
        return None
    text = np.frombuffer(joined, np.uint8).reshape(count, 11)
    digits = text[:, _DATE_DIGITS].astype(np.int64) - ord("0")
    if (
        (digits < 0).any()
        or (digits > 9).any()
        or (text[:, [4, 7]] != ord("-")).any()
        or text[:, 10].any()
    ):
        return None
    year = digits[:, :4] @ np.array([1000, 100, 10, 1])
    month = digits[:, 4] * 10 + digits[:, 5]
    day = digits[:, 6] * 10 + digits[:, 7]
    if (year < 1).any() or (month < 1).any() or (month > 12).any() or (day < 1).any():
        return None
    months = (year - 1970) * 12 + month - 1
    dates = months.astype("M8[M]").astype("M8[D]") + (day - 1)
    if (dates >= (months + 1).astype("M8[M]").astype("M8[D]")).any():  # past the month's end
        return None
    return dates


FALSE_TEXTS = frozenset([b"false", b"0", b"f", b"no", b"off", b"nil", b"null", b""])
NUMBER_MAX_BITS = 1007
_FLOAT_PREFIX = re.compile(
    rb"\s*[+-]?(?:inf(?:inity)?|nan|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)", re.IGNORECASE
)


def _number(raw, allow_float):
    text = raw.strip()
    if not text:
        raise ValueError("empty")
    if any(c in text for c in b"xXpP_"):
        raise ValueError("not a decimal number")
    if b"." in text and not (b"e" in text or b"E" in text):
        trimmed = text.rstrip(b"0")
        if trimmed.endswith(b"."):
            trimmed = trimmed[:-1]
            if trimmed in (b"+", b"-") and not any(c in b"0123456789" for c in text):
                raise ValueError("a sign and a point are no number")
            if trimmed in (b"", b"+", b"-"):  # "." is 0 in the Accelerator too
                return 0
            text = trimmed
    if any(c in text for c in b".eEnN"):
        if not allow_float:
            raise ValueError("not an integer")
        return float(text)
    value = int(text)
    if value.bit_length() > NUMBER_MAX_BITS:
        raise ValueError(f"more than {NUMBER_MAX_BITS} bits")
    return value


def _float(raw):
    """float(), but without the "_" digit grouping the Accelerator's strtod() does not take."""
    if b"_" in raw:
        raise ValueError("'_' in a number")
    return float(raw)


def _float_prefix(raw):
    m = _FLOAT_PREFIX.match(raw)
    return float(m.group()) if m else 0.0


def _int_parser(base, prefix_only, bits):
    digits = {8: rb"[0-7]+", 10: rb"\d+", 16: rb"(?:0[xX])?[0-9a-fA-F]+"}
    pattern = (
        rb"\s*[+-]?(?:0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)"
        if base == 0
        else rb"\s*[+-]?" + digits[base]
    )
    number = re.compile(pattern + (rb"" if prefix_only else rb"\s*\Z"))
    low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1

    def convert(raw):
        m = number.match(raw)
        if not m:
            if prefix_only:
                return 0
            raise ValueError(f"not a base {base or 'C'} integer")
        text = m.group().strip()
        value = int(text, base or _c_base(text))
        if not low <= value <= high:
            raise ValueError(f"out of range for int{bits}")
        return value

    return convert


def _c_base(text):
    """strtol's base 0: 0x.. is hex, 0.. octal, the rest decimal."""
    digits = text.lstrip(b"+-")
    if digits[:2] in (b"0x", b"0X"):
        return 16
    return 8 if digits.startswith(b"0") and len(digits) > 1 else 10


# strptime's own patterns for these directives (Lib/_strptime.py). A format made of these
# and literal text is matched at C speed; strptime (some 7 µs a value) runs only for what
# that match does not turn into a datetime, and so gives every result and error it gave.
_FAST_DIRECTIVES = {
    "d": r"(?P<d>3[0-1]|[1-2]\d|0[1-9]|[1-9]| [1-9])",
    "f": r"(?P<f>[0-9]{1,6})",
    "H": r"(?P<H>2[0-3]|[0-1]\d|\d)",
    "m": r"(?P<m>1[0-2]|0[1-9]|[1-9])",
    "M": r"(?P<M>[0-5]\d|\d)",
    "S": r"(?P<S>6[0-1]|[0-5]\d|\d)",
    "Y": r"(?P<Y>\d\d\d\d)",
}


def _fast_pattern(fmt):
    """The regex strptime matches `fmt` with, made as strptime makes it, when `fmt` uses
    only _FAST_DIRECTIVES, each once; else None."""
    text = re.sub(r"([\\.^$*+?\(\){}\[\]|])", r"\\\1", fmt)
    text = re.sub(r"\s+", r"\\s+", text)
    first, *rest = text.split("%")
    pieces, seen = [first], set()
    for piece in rest:
        if not piece or piece[0] not in _FAST_DIRECTIVES or piece[0] in seen:
            return None
        seen.add(piece[0])
        pieces.append(_FAST_DIRECTIVES[piece[0]] + piece[1:])
    return re.compile("".join(pieces), re.IGNORECASE)


def _fast_maker(fast, kind):
    """found -> the value strptime makes of what `fast` matched (its defaults for what the
    format lacks: 1900-01-01 00:00:00)."""
    present = [name for name in "YmdHMS" if name in fast.groupindex]
    if kind == "date" and present == ["Y", "m", "d"]:
        return lambda found: date(*map(int, found.group("Y", "m", "d")))
    if "f" not in fast.groupindex and present == list("YmdHMS"[: max(3, len(present))]):
        make = lambda found: datetime(*map(int, found.group(*present)))  # noqa: E731
    else:

        def make(found):
            g = found.groupdict()
            micro = int(g["f"].ljust(6, "0")) if g.get("f") else 0
            ymd = int(g.get("Y") or 1900), int(g.get("m") or 1), int(g.get("d") or 1)
            hms = int(g.get("H") or 0), int(g.get("M") or 0), int(g.get("S") or 0)
            return datetime(*ymd, *hms, micro)

    if kind == "date":
        return lambda found: make(found).date()
    if kind == "time":
        return lambda found: make(found).time()
    return make


def _date_parser(fmt, kind, whole):
    fast = _fast_pattern(fmt)
    make = fast and _fast_maker(fast, kind)

    def convert(raw):
        text = raw.decode("utf-8")
        found = fast and fast.match(text)
        if found and (not whole or found.end() == len(text)):
            try:
                return make(found)
            except ValueError:  # out of range: strptime says how
                pass
        try:
            value = datetime.strptime(text, fmt)
        except ValueError as e:
            message = str(e)
            if whole or not message.startswith("unconverted data remains: "):
                raise
            rest = len(message) - len("unconverted data remains: ")
            value = datetime.strptime(text[:-rest], fmt)
        if kind == "date":
            return value.date()
        if kind == "time":
            return value.time()
        return value

    return convert


def _ascii_function(mode, strip):
    escaped = set(range(128, 256))
    if mode == "encode":
        escaped.add(ord("\\"))

    def convert(raw):
        if strip:
            raw = raw.strip()
        if raw.isascii() and not (mode == "encode" and b"\\" in raw):
            return raw.decode("ascii")
        if mode == "strict":
            raise ValueError("not ascii")
        return "".join(f"\\{c:03o}" if c in escaped else chr(c) for c in raw)

    return convert
