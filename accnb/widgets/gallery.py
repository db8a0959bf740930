"""Gallery: a paged grid of a dataset's thumbnails; a click opens the full image and its row."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape
from typing import Any

import ipywidgets as widgets
import numpy as np
import traitlets as t

from ..errors import DatasetError
from .cells import cell, cell_html
from .media import for_browser, small
from .rows import ALL_SLICES, SLICE_CHOICE, RowIndex
from .views import TileGrid

PAGE_SIZES = (12, 24, 48, 96)
TILE_BYTES = 256 << 10  # tiles bigger than this (full images) are shrunk before sending


class Gallery(widgets.VBox):
    """Thumbnails of `ds`'s `column` (bytes) captioned by `label`, a page at a time.

    Only the shown page's bytes go to the browser, as binary. A click on a tile opens the
    row's `image` (the full image) beside its other columns. Rows can be narrowed to one
    slice (`sliceno`), to those a predicate on the row dict accepts (`where`, given the
    columns that are not blobs, or `where_columns`), and to the bars selected in linked
    histograms (`link`). Rows are addressed as (sliceno, index in the slice).
    """

    page = t.Int(0)  # from 0
    page_size = t.Int(24)
    thumb_size = t.Int(128)  # tile edge, in CSS pixels
    sliceno = t.Int(None, allow_none=True)
    where = t.Callable(None, allow_none=True)
    opened = t.Tuple(
        t.Int(), t.Int(), default_value=None, allow_none=True
    )  # (sliceno, index) of the row shown open
    rows = t.Instance(np.ndarray)  # row numbers (RowIndex) passing every filter

    def __init__(
        self,
        ds: Any,
        column: str = "thumb",
        label: str | None = "filename",
        image: str | None = "image",
        *,
        page_size: int = 24,
        thumb_size: int = 128,
        sliceno: int | None = None,
        where: Callable[[dict], Any] | None = None,
        where_columns: Sequence[str] | None = None,
    ) -> None:
        if column not in ds.columns and image in ds.columns:
            column = image  # no thumbnails: shrink the images themselves
        ds.column(column)  # a DatasetError naming the columns there are
        self.dataset = ds
        self.column = column
        self.label = label if label in ds.columns else None
        self.image = image if image in ds.columns else column
        self.where_columns = where_columns
        self.index = RowIndex(ds)
        self._linked: list[Any] = []
        self._page_rows = np.zeros(0, dtype=np.int64)
        self.grid = TileGrid(size=thumb_size)
        self.grid.add_class("accnb-gallery-grid")
        self.grid.on_open(self._open_tile)
        self._build_controls(ds)
        self._build_detail()
        super().__init__([self.toolbar, self.grid, self.detail])
        self.add_class("accnb-gallery")
        self.rows = self._page_rows  # no rows until the filters below have run once
        t.link((self, "page_size"), (self._controls["page_size"], "value"))
        t.link((self, "thumb_size"), (self._controls["thumb_size"], "value"))
        t.link((self, "sliceno"), (self._controls["sliceno"], "value"), transform=SLICE_CHOICE)
        self.page_size = page_size
        self.thumb_size = thumb_size
        self.sliceno = sliceno
        self.where = where
        if sliceno is None and where is None:  # else their observers have filtered already
            self._refilter()

    def __repr__(self) -> str:
        return (
            f"<Gallery of {self.dataset} {self.column!r}: {len(self.rows)} rows, "
            f"page {self.page + 1} of {self.pages}>"
        )

    # -- composition

    def _build_controls(self, ds: Any) -> None:
        def button(description: str, icon: str, css: str) -> widgets.Button:
            b = widgets.Button(description=description, icon=icon, layout={"width": "auto"})
            b.add_class(css)
            return b

        self.prev_button = button("Previous", "chevron-left", "accnb-gallery-prev")
        self.next_button = button("Next", "chevron-right", "accnb-gallery-next")
        self.prev_button.on_click(lambda _: self.previous_page())
        self.next_button.on_click(lambda _: self.next_page())
        self.status = widgets.Label()
        self.status.add_class("accnb-gallery-status")
        sizes = widgets.Dropdown(
            options=sorted({*PAGE_SIZES, self.page_size}), description="per page",
            layout={"width": "150px"}, style={"description_width": "initial"},
        )  # fmt: skip
        sizes.add_class("accnb-gallery-page-size")
        thumbs = widgets.IntSlider(
            min=48, max=320, step=16, description="size", readout=True,
            layout={"width": "220px"}, style={"description_width": "initial"},
        )  # fmt: skip
        thumbs.add_class("accnb-gallery-thumb-size")
        slices = widgets.Dropdown(
            options=[("all slices", ALL_SLICES)]
            + [(f"slice {s} ({n} rows)", s) for s, n in enumerate(ds.lines)],
            description="", layout={"width": "170px"},
        )  # fmt: skip
        slices.add_class("accnb-gallery-slice")
        self.clear_button = button("Clear filters", "times", "accnb-gallery-clear")
        self.clear_button.on_click(lambda _: self.clear_filters())
        self._controls = {"page_size": sizes, "thumb_size": thumbs, "sliceno": slices}
        self.toolbar = widgets.HBox(
            [
                self.prev_button,
                self.next_button,
                self.status,
                sizes,
                thumbs,
                slices,
                self.clear_button,
            ],
            layout={"align_items": "center", "flex_flow": "row wrap"},
        )

    def _build_detail(self) -> None:
        self.full_image = widgets.Image(
            layout={"max_width": "100%", "max_height": "70vh", "object_fit": "contain"}
        )
        self.full_image.add_class("accnb-gallery-full")
        self.row_table = widgets.HTML()
        self.row_table.add_class("accnb-gallery-row")
        self.detail_title = widgets.HTML()
        close = widgets.Button(description="Close", icon="times", layout={"width": "auto"})
        close.add_class("accnb-gallery-close")
        close.on_click(lambda _: self.close_row())
        self.detail = widgets.VBox(
            [
                widgets.HBox([self.detail_title, close], layout={"align_items": "center"}),
                widgets.HBox(
                    [widgets.Box([self.full_image], layout={"flex": "1 1 60%"}), self.row_table],
                    layout={"align_items": "flex-start"},
                ),
            ],
            layout={
                "display": "none",
                "border": "1px solid var(--jp-border-color2, #ccc)",
                "padding": "6px",
            },
        )
        self.detail.add_class("accnb-gallery-detail")

    # -- filters

    def link(self, hist: Any) -> Gallery:
        """Show only the rows in the bars selected in `hist` (a Histogram of the same rows)."""
        if list(hist.dataset.lines) != list(self.dataset.lines):
            raise DatasetError(
                f"Histogram of {hist.dataset} can't filter a gallery of {self.dataset}: their "
                f"rows differ ({hist.dataset.lines} against {self.dataset.lines} per slice)"
            )
        if hist not in self._linked:
            self._linked.append(hist)
            hist.observe(self._refilter, "selected")
            self._refilter()
        return self

    def unlink(self, hist: Any) -> None:
        if hist in self._linked:
            self._linked.remove(hist)
            hist.unobserve(self._refilter, "selected")
            self._refilter()

    def clear_filters(self) -> None:
        """All rows again: every slice, no predicate, no bar selected in linked histograms."""
        with self.hold_trait_notifications():
            self.sliceno = None
            self.where = None
            for hist in self._linked:
                hist.clear()

    @t.observe("sliceno", "where")
    def _refilter(self, _change: Any = None) -> None:
        mask = self.index.in_slice(self.sliceno)
        if self.where is not None:
            mask &= self.index.where(self.where, self.where_columns)
        for hist in self._linked:
            selected = hist.mask
            if selected is not None:
                mask &= selected
        self.rows = np.flatnonzero(mask)

    @property
    def filters(self) -> list[str]:
        """The filters in force, in words."""
        found = []
        if self.sliceno is not None:
            found.append(f"slice {self.sliceno}")
        if self.where is not None:
            found.append("predicate")
        found += [f"histogram of {', '.join(h.columns)}" for h in self._linked if h.selected]
        return found

    # -- paging

    @property
    def pages(self) -> int:
        return max(1, math.ceil(len(self.rows) / self.page_size))

    def next_page(self) -> None:
        self.page = min(self.page + 1, self.pages - 1)

    def previous_page(self) -> None:
        self.page = max(self.page - 1, 0)

    @t.validate("page")
    def _valid_page(self, proposal: Any) -> int:
        return min(max(0, proposal["value"]), self.pages - 1)

    @t.validate("page_size")
    def _valid_page_size(self, proposal: Any) -> int:
        size = proposal["value"]
        if size < 1:
            raise t.TraitError(f"page_size must be at least 1, not {size}")
        options = self._controls["page_size"].options
        if size not in options:
            self._controls["page_size"].options = sorted({*options, size})
        return size

    @t.observe("page_size")
    def _keep_first_row(self, change: Any) -> None:
        """A new page size shows the page holding the first row shown before."""
        page = self.page * change["old"] // change["new"]
        if page != self.page:
            self.page = page  # the observer of page shows it
        else:
            self._show_page()

    @t.observe("rows")
    def _new_rows(self, _change: Any) -> None:
        if self.page:
            self.page = 0  # the observer of page shows it
        else:
            self._show_page()

    @t.observe("page")
    def _page_changed(self, _change: Any) -> None:
        self._show_page()

    @t.observe("thumb_size")
    def _resize(self, change: Any) -> None:
        self.grid.size = change["new"]

    def page_rows(self) -> list[tuple[int, int]]:
        """(sliceno, index) of the rows on the shown page."""
        slicenos, indices = self.index.locate(self._page_rows)
        return list(zip(slicenos.tolist(), indices.tolist(), strict=True))

    def _tiles(self, rows: np.ndarray) -> list[tuple[bytes | None, str]]:
        """(bytes, label) of each row number in `rows`."""
        names = [self.column] + ([self.label] if self.label else [])
        values = self.index.read(rows, names)
        if self.label:
            return [(data, str(label)) for data, label in values]
        slicenos, indices = self.index.locate(rows)
        return [
            (v[0], f"slice {s} row {i}")
            for v, s, i in zip(values, slicenos.tolist(), indices.tolist(), strict=True)
        ]

    def _show_page(self) -> None:
        start = self.page * self.page_size
        self._page_rows = self.rows[start : start + self.page_size]
        tiles, types = [], []
        tile_data = self._tiles(self._page_rows)
        for data, _label in tile_data:
            shown, mime = small(data, 2 * self.thumb_size, max_bytes=TILE_BYTES)
            tiles.append(shown)
            types.append(mime)
        with self.grid.hold_sync():
            self.grid.tiles = tiles
            self.grid.labels = [label for _data, label in tile_data]
            self.grid.types = types
            self.grid.active = self._active_tile()
            self.grid.version += 1
        self._show_status()

    def _show_status(self) -> None:
        n = len(self.rows)
        total = len(self.index)
        before = "" if n == total else f" ({total} before filters)"
        if n:
            start = self.page * self.page_size
            where = f"{start + 1}–{start + len(self._page_rows)}"
            self.status.value = (
                f"Page {self.page + 1} of {self.pages} · {where} of {n} rows{before}"
            )
        else:
            self.status.value = f"No rows{before}"
        filters = self.filters
        self.clear_button.disabled = not filters
        self.clear_button.tooltip = "filtered by " + ", ".join(filters) if filters else "no filters"
        self.prev_button.disabled = self.page == 0
        self.next_button.disabled = self.page >= self.pages - 1

    # -- the open row

    def _open_tile(self, i: int) -> None:
        slicenos, indices = self.index.locate(self._page_rows[i : i + 1])
        self.opened = (int(slicenos[0]), int(indices[0]))

    def show_row(self, sliceno: int, index: int) -> None:
        """Show the full image and the other columns of row `index` of slice `sliceno`."""
        self.opened = (sliceno, index)

    def close_row(self) -> None:
        self.opened = None

    @t.validate("opened")
    def _valid_row(self, proposal: Any) -> tuple | None:
        row = proposal["value"]
        if row is None:
            return None
        sliceno, index = row
        if not (0 <= sliceno < len(self.index.lines) and 0 <= index < self.index.lines[sliceno]):
            raise t.TraitError(f"no row {index} in slice {sliceno} of {self.dataset}")
        return (int(sliceno), int(index))

    def _active_tile(self) -> int:
        if self.opened is None:
            return -1
        g = self.index.row_number(*self.opened)
        hits = np.flatnonzero(self._page_rows == g)
        return int(hits[0]) if len(hits) else -1

    @t.observe("opened")
    def _show_row(self, _change: Any) -> None:
        self.grid.active = self._active_tile()
        if self.opened is None:
            self.detail.layout.display = "none"
            self.full_image.value = b""
            return
        names = list(self.dataset.columns)
        g = self.index.row_number(*self.opened)
        row = self.index.read_dicts([g], names)[0]
        data, mime = for_browser(row[self.image])
        self.full_image.format = mime.partition("/")[2] or "png"
        self.full_image.value = data or b""
        title = row[self.label] if self.label else ""
        sliceno, index = self.opened
        self.detail_title.value = f"<b>{escape(str(title))}</b> <span style='color:#777'>slice {sliceno}, row {index}</span>"
        cells = [
            f"<tr><th style='text-align:left;padding-right:8px'>{escape(name)}</th><td>"
            f"{cell_html(cell(row[name], self.dataset.columns[name].type, images=False))}</td></tr>"
            for name in names
        ]
        self.row_table.value = f"<table class='accnb-gallery-values'>{''.join(cells)}</table>"
        self.detail.layout.display = "flex"

    # -- static view

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        from .static import gallery_html

        data = super()._repr_mimebundle_(**kwargs)
        data["text/html"] = gallery_html(self._tiles(self._page_rows), self.status.value)
        return data
