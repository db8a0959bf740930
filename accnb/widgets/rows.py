"""Rows of a dataset by number: where row g lives (sliceno, index), and reading a few of them.

Row numbers count through slice 0, then slice 1, ..., the order of `ds.iterate(None)`, so a
selection of rows is a numpy array of row numbers (or a boolean mask over them) and the
row index costs nothing to build: it is the cumulative sum of `ds.lines`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

# Column types whose values are blobs: never read all of them to filter or label rows.
BLOB_TYPES = frozenset({"bytes", "pickle"})

# A slice menu's value for "all slices" (a Dropdown shows None as no choice at all), and
# the transforms of a traitlets link between a sliceno trait (None: all) and that menu.
ALL_SLICES = -1
SLICE_CHOICE = (
    lambda sliceno: ALL_SLICES if sliceno is None else sliceno,
    lambda choice: None if choice == ALL_SLICES else choice,
)


class RowIndex:
    """The rows of one dataset, numbered 0..len(ds)-1 in slice order."""

    def __init__(self, ds: Any) -> None:
        self.dataset = ds
        self.lines = np.asarray(ds.lines, dtype=np.int64)
        self.starts = np.concatenate(
            [[0], np.cumsum(self.lines)]
        )  # slice s is starts[s]..starts[s+1]
        self.total = int(self.starts[-1])

    def __len__(self) -> int:
        return self.total

    def locate(self, rows: np.ndarray | Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """(sliceno, index in the slice) of each row number."""
        rows = np.asarray(rows, dtype=np.int64)
        slicenos = np.searchsorted(self.starts, rows, side="right") - 1
        return slicenos, rows - self.starts[slicenos]

    def row_number(self, sliceno: int, index: int) -> int:
        return int(self.starts[sliceno] + index)

    def in_slice(self, sliceno: int | None) -> np.ndarray:
        """Mask of the rows of one slice (all rows for None)."""
        mask = np.zeros(self.total, dtype=bool)
        if sliceno is None:
            mask[:] = True
        else:
            mask[self.starts[sliceno] : self.starts[sliceno + 1]] = True
        return mask

    def where(
        self, predicate: Callable[[dict], Any], columns: Iterable[str] | None = None
    ) -> np.ndarray:
        """Mask of the rows whose dict of `columns` (default: all but blobs) satisfies predicate."""
        names = list(columns) if columns is not None else self.small_columns()
        values = self.dataset.iterate(None, names) if names else iter([()] * self.total)
        return np.fromiter(
            (bool(predicate(dict(zip(names, row, strict=True)))) for row in values),
            dtype=bool,
            count=self.total,
        )

    def small_columns(self) -> list[str]:
        """The columns cheap to read for every row: all but bytes and pickle."""
        return [n for n, c in self.dataset.columns.items() if c.type not in BLOB_TYPES]

    def read(self, rows: np.ndarray | Sequence[int], columns: Sequence[str]) -> list[tuple]:
        """The values of `columns` in each of `rows` (row numbers, any order), as tuples.

        Only those rows are read (Column.take), so a page costs its own rows, wherever
        they are in the dataset.
        """
        rows = np.asarray(rows, dtype=np.int64)
        slicenos, indices = self.locate(rows)
        out: list = [None] * len(rows)
        for sliceno in np.unique(slicenos).tolist():
            here = np.flatnonzero(slicenos == sliceno)
            values = [self.dataset.column(c).take(sliceno, indices[here]) for c in columns]
            for i, row in zip(here.tolist(), zip(*values, strict=True), strict=True):
                out[i] = row
        return out

    def read_dicts(self, rows: np.ndarray | Sequence[int], columns: Sequence[str]) -> list[dict]:
        return [dict(zip(columns, values, strict=True)) for values in self.read(rows, columns)]
