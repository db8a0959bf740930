import datetime
from math import isnan
from operator import itemgetter

import numpy as np

from accnb import OptionEnum, OptionString
from accnb.dataset import Packed

description = r"""
Stable sort a dataset chain on one or more columns, as the Accelerator's dataset_sort.
Type the sort columns first (dataset_type): bytes sort as bytes.

The rows of `source` back to (not including) the source of `previous` become one dataset,
with `previous` as its previous. By default each slice is sorted on its own and keeps the
source's hashlabel; sort_across_slices sorts all rows and deals them out in order, slice 0
first (slices differ by at most one row, and the Accelerator's rule picks the slices that
get one more; the dataset has no hashlabel then).

None and NaN sort as the Accelerator's do: None as the smallest value of the column's type
(the largest for dates and times), NaN as the largest float.

Not in accnb: trigger_column (only its default, None, is accepted).

Result: the lines per slice.
"""

ORDER = OptionEnum("ascending descending")
options = {
    "sort_columns": [OptionString],
    "sort_order": ORDER.ascending,
    "sort_across_slices": False,  # default: sort within each slice
    "trigger_column": str,  # not in accnb
}

datasets = ("source", "previous")

UNSORTABLE = ("json", "pickle", "complex64", "complex32")
CHUNK_ROWS = 8192  # rows written at a time...
CHUNK_BYTES = 4 << 20  # ... or fewer, where a chunk's text values would hold more bytes


def prepare(job, options, datasets, slices):
    if options.trigger_column:
        raise ValueError("dataset_sort: trigger_column is not supported in accnb; leave it out")
    source = datasets.source
    if source is None:
        raise ValueError("dataset_sort: no source: give source=<a dataset or job>")
    if not options.sort_columns:
        raise ValueError("dataset_sort: sort_columns is empty: name the column(s) to sort on")
    for col in options.sort_columns:
        if col not in source.columns:
            raise ValueError(
                f"dataset_sort: sort column {col!r} is not in {source} "
                f"(it has {sorted(source.columns)})"
            )
        if source.columns[col].type in UNSORTABLE:
            raise ValueError(
                f"dataset_sort: can't sort on {col!r}: {source.columns[col].type} columns are "
                "not ordered"
            )
    chain = source.chain(stop_ds={datasets.previous: "source"})
    if not chain:
        raise ValueError(
            f"dataset_sort: source {source} is the source of previous {datasets.previous}: "
            "nothing new to sort"
        )
    hashlabels = {ds.hashlabel for ds in chain}
    hashlabel = None if options.sort_across_slices or len(hashlabels) > 1 else hashlabels.pop()
    dw = job.datasetwriter(
        caption=f"{source.caption} sorted on {', '.join(options.sort_columns)}",
        hashlabel=hashlabel,
        previous=datasets.previous,
        filename=source.filename if len(chain) == 1 else None,  # as the Accelerator's
    )
    names = list(source.columns)
    for col in names:
        dw.add(col, source.columns[col].type, none_support=chain.none_support(col))
    per_slice = None
    if options.sort_across_slices:
        order = _order(chain, options, lambda col: chain.iterate(None, col))
        size, extra = divmod(len(order), slices)
        counts = [size] * slices
        # the Accelerator's pick of the slices that get a leftover row: deterministic, and
        # the first slices when the rows were sorted already
        for sliceno in sorted(range(min(slices, len(order))), key=order.__getitem__)[:extra]:
            counts[sliceno] += 1
        ends = []
        end = 0
        for count in counts:
            end += count
            ends.append(end)
        per_slice = [order[start:stop] for start, stop in zip([0, *ends], ends, strict=False)]
    return dw, chain, names, per_slice


def analysis(sliceno, options, prepare_res):
    dw, chain, names, per_slice = prepare_res
    if per_slice is None and len(chain) == 1:
        order = _numpy_order(chain[0], options, sliceno)
        if order is not None:
            _write_in_order(dw, chain[0], names, sliceno, order)
            return
    if per_slice is not None:
        columns = dict(zip(names, _take(chain, names, per_slice[sliceno]), strict=True))
        for a in range(0, len(per_slice[sliceno]), CHUNK_ROWS):
            dw.write_columns({name: c[a : a + CHUNK_ROWS] for name, c in columns.items()})
        return
    rows = list(chain.iterate(sliceno, names))
    # the sort columns are in the rows already: no second reading of them
    order = _order(chain, options, lambda col: map(itemgetter(names.index(col)), rows))
    write = dw.write_list
    for row in map(rows.__getitem__, order):
        write(row)


def synthesis(prepare_res):
    return prepare_res[0].finish().lines


def _numpy_order(ds, options, sliceno):
    """The slice's rows in sorted order, by a stable numpy lexsort, when every sort column
    is a number, date or time array without None; else None."""
    keys = []
    for col in options.sort_columns:
        key = ds.columns[col].numpy(sliceno)
        if np.ma.isMaskedArray(key) or key.dtype.kind not in "biufmM":
            return None
        keys.append(np.where(np.isnan(key), np.inf, key) if key.dtype.kind == "f" else key)
    if options.sort_order == "descending":  # stable: equal keys keep their order
        n = len(keys[0])
        return (n - 1 - np.lexsort([k[::-1] for k in reversed(keys)]))[::-1]
    return np.lexsort(keys[::-1])  # the last key is lexsort's first


def _write_in_order(dw, ds, names, sliceno, order):
    """Every column of the slice, as stored (numpy arrays, Packed text; other values as
    lists), written in `order` a chunk at a time."""
    whole = max(ds.lines[sliceno], 1)
    columns = {
        name: next(ds.columns[name].chunks(sliceno, whole, packed=True), []) for name in names
    }
    for rows in _groups(order, [c for c in columns.values() if isinstance(c, Packed)]):
        dw.write_columns(
            {
                name: [c[i] for i in rows.tolist()] if isinstance(c, list) else c.take(rows)
                for name, c in columns.items()
            }
        )


def _groups(order, texts):
    """`order` cut into groups of at most CHUNK_ROWS rows, and of about CHUNK_BYTES of the
    Packed `texts` (or one row): a chunk of photos is copied in sorted order."""
    if not texts:
        return [order[a : a + CHUNK_ROWS] for a in range(0, len(order), CHUNK_ROWS)]
    sizes = sum(np.diff(p.ends, prepend=0) for p in texts)
    reach = np.cumsum(sizes[order])  # bytes of the rows up to each, in sorted order
    groups, a = [], 0
    while a < len(order):
        before = int(reach[a - 1]) if a else 0
        fits = int(np.searchsorted(reach, before + CHUNK_BYTES, "right"))
        b = min(a + CHUNK_ROWS, max(a + 1, fits))
        groups.append(order[a:b])
        a = b
    return groups


def _order(chain, options, values_of):
    """Row indexes in sorted order of the rows whose column values values_of(col) gives
    (the chain's, of one slice or all in slice order)."""
    keys = []
    for col in options.sort_columns:
        values = values_of(col)
        keys.append(list(_sortable(chain[-1].columns[col].type, chain.none_support(col), values)))
    key = keys[0].__getitem__ if len(keys) == 1 else list(zip(*keys, strict=True)).__getitem__
    reverse = options.sort_order == "descending"
    return sorted(range(len(keys[0])), key=key, reverse=reverse)


def _take(chain, names, wanted):
    """The columns of the rows at indexes `wanted` of the chain's rows (in slice order), in
    that order. Each part of the chain (a dataset's slice) reads only the rows wanted from
    it."""
    wanted = np.asarray(wanted, dtype=np.int64)
    parts = [(ds, sliceno) for ds in chain for sliceno in range(len(ds.lines))]
    starts = np.cumsum([0] + [ds.lines[sliceno] for ds, sliceno in parts])
    part_of = np.searchsorted(starts, wanted, "right") - 1
    grouped = np.argsort(part_of, kind="stable")  # wanted's positions, part by part
    bounds = np.searchsorted(part_of[grouped], np.arange(len(parts) + 1))
    columns = [[] for _ in names]
    for part, (ds, sliceno) in enumerate(parts):
        local = wanted[grouped[bounds[part] : bounds[part + 1]]] - starts[part]
        if len(local):
            for column, name in zip(columns, names, strict=True):
                column += ds.columns[name].take(sliceno, local)
    position = np.empty_like(grouped)  # where each wanted row is in the columns
    position[grouped] = np.arange(len(grouped))
    position = position.tolist()
    return [list(map(column.__getitem__, position)) for column in columns]


def _sortable(kind, none_support, values):
    """Values that compare: None (and NaN) replaced as the Accelerator's dataset_sort does.
    none_support is the chain's (any of its datasets may hold None), not the newest's."""
    if kind in ("float64", "float32", "number"):
        return (float("-inf") if v is None else float("inf") if _nan(v) else v for v in values)
    if not none_support:
        return values
    none = {
        "bytes": b"",
        "ascii": "",
        "unicode": "",
        "int64": float("-inf"),
        "int32": float("-inf"),
        "bool": -1,
        "datetime": datetime.datetime.max,
        "date": datetime.date.max,
        "time": datetime.time.max,
    }[kind]
    return (none if v is None else v for v in values)


def _nan(v):
    return isinstance(v, float) and isnan(v)
