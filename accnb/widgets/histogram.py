"""Histogram: counts of a column's values (or of bins of them) as bars that select rows."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any

import ipywidgets as widgets
import numpy as np
import traitlets as t

from .rows import RowIndex
from .views import BarChart

MAX_BARS = 30  # distinct values shown one bar each; more are binned (numbers) or grouped
OTHER = "other"


class Histogram(widgets.VBox):
    """Bars with counts of `column`'s values (a tuple of columns counts tuples of values).

    Numbers with more than `max_bars` distinct values are put into `bins` equal bins;
    other values beyond `max_bars` share one "other" bar. A click on bars selects them
    (ctrl/shift+click adds); `mask` is then the rows in the selected bars, and a linked
    Gallery (`gallery.link(hist)`) shows only those. `clear()` restores all rows.
    """

    selected = t.List(t.Int())  # indices of the selected bars

    def __init__(
        self,
        ds: Any,
        column: str | Sequence[str],
        bins: int = 20,
        max_bars: int = MAX_BARS,
        title: str | None = None,
    ) -> None:
        self.dataset = ds
        self.columns = (column,) if isinstance(column, str) else tuple(column)
        for name in self.columns:
            ds.column(name)  # a DatasetError naming the columns there are
        self.index = RowIndex(ds)
        self.codes, self.labels, self.counts = count(ds, self.columns, bins, max_bars)
        self.chart = BarChart(labels=self.labels, counts=self.counts.tolist())
        self.chart.add_class("accnb-hist-bars")
        self.summary = widgets.Label()
        self.summary.add_class("accnb-hist-summary")
        self.clear_button = widgets.Button(description="Clear selection", icon="times")
        self.clear_button.add_class("accnb-hist-clear")
        self.clear_button.on_click(lambda _: self.clear())
        heading = widgets.HTML()
        heading.value = f"<b>{escape(title or ' × '.join(self.columns))}</b>"
        header = widgets.HBox([heading, self.summary, self.clear_button])
        header.layout.align_items = "center"
        super().__init__([header, self.chart])
        self.add_class("accnb-histogram")
        t.link((self, "selected"), (self.chart, "selected"))
        self._show_summary()

    def __repr__(self) -> str:
        return (
            f"<Histogram of {', '.join(self.columns)} in {self.dataset}: {len(self.labels)} bars>"
        )

    @t.validate("selected")
    def _valid_bars(self, proposal: Any) -> list[int]:
        return sorted({i for i in proposal["value"] if 0 <= i < len(self.labels)})

    @t.observe("selected")
    def _show_summary(self, _change: Any = None) -> None:
        total = len(self.index)
        if self.selected:
            n = int(self.counts[self.selected].sum())
            self.summary.value = f"{n} of {total} rows in {len(self.selected)} selected bars"
        else:
            self.summary.value = f"{total} rows in {len(self.labels)} bars: click bars to select"
        self.clear_button.disabled = not self.selected

    def select(self, *labels: str) -> None:
        """Select the bars with these labels (what clicks on them do)."""
        missing = [x for x in labels if x not in self.labels]
        if missing:
            raise ValueError(f"no bars labelled {missing}: the bars are {self.labels}")
        self.selected = [self.labels.index(x) for x in labels]

    def clear(self) -> None:
        self.selected = []

    @property
    def mask(self) -> np.ndarray | None:
        """The rows (in RowIndex order) in the selected bars, or None when none is selected."""
        if not self.selected:
            return None
        return np.isin(self.codes, self.selected)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        from .static import histogram_html

        data = super()._repr_mimebundle_(**kwargs)
        data["text/html"] = histogram_html(self.labels, self.counts.tolist(), self.selected)
        return data


def count(
    ds: Any, columns: Sequence[str], bins: int = 20, max_bars: int = MAX_BARS
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(bar of each row, bar labels, bar counts) for the values of `columns` in `ds`."""
    if len(columns) == 1:
        values = ds.column(columns[0]).numpy()
        if values.dtype.kind in "iufbMm":
            return _count_array(values, bins, max_bars)
        keys = [_frozen(v) for v in values.tolist()]
    else:
        keys = [tuple(_frozen(v) for v in row) for row in ds.iterate(None, list(columns))]
    return _count_keys(keys, max_bars)


def _count_array(values: np.ndarray, bins: int, max_bars: int) -> tuple:
    missing = np.zeros(len(values), dtype=bool)
    if isinstance(values, np.ma.MaskedArray):
        missing = np.ma.getmaskarray(values)
        values = values.data
    if values.dtype.kind == "f":
        missing = missing | np.isnan(values)
    present = values[~missing]
    distinct = np.unique(present)
    codes = np.full(len(values), -1, dtype=np.int64)
    if len(distinct) <= max_bars:
        codes[~missing] = np.searchsorted(distinct, present)
        labels = [_label(v) for v in distinct.tolist()]
    else:
        kind = values.dtype.kind
        numbers = present.view(np.int64) if kind in "Mm" else present.astype(np.float64)
        edges = np.histogram_bin_edges(numbers, bins=bins)
        codes[~missing] = np.clip(np.searchsorted(edges, numbers, side="right") - 1, 0, bins - 1)
        if kind in "Mm":
            shown = edges.round().astype(np.int64).view(values.dtype)
        elif kind in "iu":
            shown = np.ceil(edges).astype(np.int64)
        else:
            shown = edges
        labels = [
            f"{_label(a)} – {_label(b)}"
            for a, b in zip(shown[:-1].tolist(), shown[1:].tolist(), strict=True)
        ]
    if missing.any():
        codes[missing] = len(labels)
        labels.append("None" if values.dtype.kind != "f" else "None/NaN")
    counts = np.bincount(codes, minlength=len(labels))
    return codes, labels, counts


def _count_keys(keys: list, max_bars: int) -> tuple:
    found: dict[Any, int] = {}
    raw = np.fromiter(
        (found.setdefault(k, len(found)) for k in keys), dtype=np.int64, count=len(keys)
    )
    counts = np.bincount(raw, minlength=len(found))
    distinct = list(found)
    order = _sorted_indices(distinct)
    if len(distinct) > max_bars:  # the biggest bars stay, in value order; the rest is "other"
        biggest = set(np.argsort(-counts, kind="stable")[: max_bars - 1].tolist())
        order = [i for i in order if i in biggest]
    bar_of = np.full(len(distinct), len(order), dtype=np.int64)
    bar_of[order] = np.arange(len(order))
    codes = bar_of[raw]
    labels = [_label(distinct[i]) for i in order]
    if len(order) < len(distinct):
        labels.append(f"{OTHER} ({len(distinct) - len(order)} values)")
    return codes, labels, np.bincount(codes, minlength=len(labels))


def _sorted_indices(keys: list) -> list[int]:
    """Indices of `keys` in value order (None last), or in text order when they don't compare."""
    try:
        return sorted(
            range(len(keys)), key=lambda i: (keys[i] is None, keys[i] if keys[i] is not None else 0)
        )
    except TypeError:
        return sorted(range(len(keys)), key=lambda i: str(keys[i]))


def _frozen(value: Any) -> Any:
    """A hashable stand-in for a json value: lists become tuples, dicts sorted item tuples."""
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    return value


def _label(value: Any) -> str:
    """Bar text: a tuple of numbers as 640×480, a float shortly, others as str."""
    if isinstance(value, tuple) and value and all(isinstance(v, int | float) for v in value):
        return "×".join(_label(v) for v in value)
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else f"{value:.4g}"
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return str(value)
