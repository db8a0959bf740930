"""DatasetBrowser: a dataset's columns, rows per slice and values a page at a time, with
its parent and previous datasets (and its job) a click away."""

from __future__ import annotations

import math
from html import escape
from typing import Any

import ipywidgets as widgets
import numpy as np
import traitlets as t

from ..dataset import Dataset
from .cells import cell
from .rows import ALL_SLICES, SLICE_CHOICE, RowIndex
from .static import columns_cells, dataset_html, dataset_summary
from .views import TableView, link_button


class DatasetBrowser(widgets.VBox):
    """Browse `ds`: summary, columns, a paged table of values (bytes as their size, or as a
    small image when they are one; json pretty). Buttons open the parent(s), the previous
    dataset and the job that made it; "Back" returns."""

    dataset = t.Instance(Dataset, allow_none=True)  # None only while __init__ runs
    page = t.Int(0)
    page_size = t.Int(10)
    sliceno = t.Int(None, allow_none=True)

    def __init__(self, ds: Any, page_size: int = 10) -> None:
        self._history: list[Dataset] = []
        self.title = widgets.HTML()
        self.summary = widgets.HTML()
        self.back_button = widgets.Button(
            description="Back", icon="arrow-left", layout={"width": "auto"}
        )
        self.back_button.add_class("accnb-browser-back")
        self.back_button.on_click(lambda _: self.back())
        self.links = widgets.HBox(layout={"flex_flow": "row wrap"})
        self.columns_table = TableView()
        self.columns_table.add_class("accnb-browser-columns")
        self.values_table = TableView()
        self.values_table.add_class("accnb-browser-values")
        self.prev_button = widgets.Button(
            description="Previous", icon="chevron-left", layout={"width": "auto"}
        )
        self.next_button = widgets.Button(
            description="Next", icon="chevron-right", layout={"width": "auto"}
        )
        self.prev_button.add_class("accnb-browser-prev")
        self.next_button.add_class("accnb-browser-next")
        self.prev_button.on_click(lambda _: setattr(self, "page", self.page - 1))
        self.next_button.on_click(lambda _: setattr(self, "page", self.page + 1))
        self.status = widgets.Label()
        self.status.add_class("accnb-browser-status")
        self.slice_choice = widgets.Dropdown(layout={"width": "170px"})
        self.slice_choice.add_class("accnb-browser-slice")
        self.job_slot = widgets.VBox()  # the job view, when opened
        super().__init__(
            [
                widgets.HBox([self.back_button, self.title], layout={"align_items": "center"}),
                self.summary,
                self.links,
                self.columns_table,
                widgets.HBox(
                    [self.prev_button, self.next_button, self.status, self.slice_choice],
                    layout={"align_items": "center"},
                ),
                self.values_table,
                self.job_slot,
            ]
        )
        self.add_class("accnb-browser")
        self.page_size = page_size
        self.dataset = ds if isinstance(ds, Dataset) else Dataset(ds)
        t.link((self, "sliceno"), (self.slice_choice, "value"), transform=SLICE_CHOICE)

    def __repr__(self) -> str:
        return f"<DatasetBrowser of {self.dataset}>"

    # -- navigation

    def show(self, ds: Any) -> None:
        """Show another dataset; Back returns here."""
        self._history.append(self.dataset)
        self.dataset = ds if isinstance(ds, Dataset) else Dataset(ds)

    def back(self) -> None:
        if self._history:
            self.dataset = self._history.pop()

    def open_job(self) -> None:
        from .jobview import JobView

        self.job_slot.children = [JobView(self.dataset)]

    @t.observe("dataset")
    def _new_dataset(self, _change: Any) -> None:
        ds = self.dataset
        self.index = RowIndex(ds)
        self.back_button.disabled = not self._history
        self.title.value = f"<b>Dataset {escape(ds.id)}</b>"
        pairs = dataset_summary(ds)
        self.summary.value = (
            "<table>"
            + "".join(
                f"<tr><th style='text-align:left;padding-right:8px'>{k}</th><td>{v}</td></tr>"
                for k, v in pairs
            )
            + "</table>"
        )
        self.links.children = self._link_buttons(ds)
        self.columns_table.columns, self.columns_table.rows = columns_cells(ds)
        self.slice_choice.options = [("all slices", ALL_SLICES)] + [
            (f"slice {s} ({n} rows)", s) for s, n in enumerate(ds.lines)
        ]
        self.job_slot.children = []
        with self.hold_trait_notifications():
            self.sliceno = None
            self.page = 0
        self._show_page()

    def _link_buttons(self, ds: Dataset) -> list[widgets.Button]:
        buttons = []
        parent = ds.parent
        for p in parent if isinstance(parent, tuple) else (parent,) if parent is not None else ():
            buttons.append(
                link_button(f"parent {p.id}", "accnb-browser-parent", lambda _, p=p: self.show(p))
            )
        if ds.previous is not None:
            prev = ds.previous
            buttons.append(
                link_button(
                    f"previous {prev.id}", "accnb-browser-previous", lambda _: self.show(prev)
                )
            )
        buttons.append(
            link_button(f"job {ds.jobid}", "accnb-browser-job", lambda _: self.open_job())
        )
        return buttons

    # -- the values

    def _rows(self) -> np.ndarray:
        return np.flatnonzero(self.index.in_slice(self.sliceno))

    @property
    def pages(self) -> int:
        return max(1, math.ceil(len(self._rows()) / self.page_size))

    @t.validate("page")
    def _valid_page(self, proposal: Any) -> int:
        return min(max(0, proposal["value"]), self.pages - 1)

    @t.observe("page", "page_size")
    def _page_changed(self, _change: Any) -> None:
        if self.dataset is not None:
            self._show_page()

    @t.observe("sliceno")
    def _slice_changed(self, _change: Any) -> None:
        if self.page:
            self.page = 0
        else:
            self._show_page()

    def _show_page(self) -> None:
        rows = self._rows()
        start = self.page * self.page_size
        shown = rows[start : start + self.page_size]
        names = list(self.dataset.columns)
        types = [self.dataset.columns[n].type for n in names]
        slicenos, indices = self.index.locate(shown)
        values = self.index.read(shown, names) if names else [() for _ in shown]
        self.values_table.columns = ["slice", "row", *names]
        self.values_table.rows = [
            [
                {"t": str(s)},
                {"t": str(i)},
                *(cell(v, typ) for v, typ in zip(row, types, strict=True)),
            ]
            for s, i, row in zip(slicenos.tolist(), indices.tolist(), values, strict=True)
        ]
        if len(rows):
            self.status.value = f"Page {self.page + 1} of {self.pages} · rows {start + 1}–{start + len(shown)} of {len(rows)}"
        else:
            self.status.value = "No rows"
        self.prev_button.disabled = self.page == 0
        self.next_button.disabled = self.page >= self.pages - 1

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        data = super()._repr_mimebundle_(**kwargs)
        data["text/html"] = dataset_html(self.dataset)
        return data
