"""The browser-side views the widgets are composed of: anywidget ES modules shipped as files.

Each view only draws its traits and reports clicks; what to show is decided in Python.
Images travel as bytes (binary buffers of the comm message), never as base64 text.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
import ipywidgets as widgets
import traitlets as t

JS = Path(__file__).parent / "js"


def link_button(text: str, css: str, callback: Any) -> widgets.Button:
    """A button that reads as a link to `text` (a job, a dataset) and calls `callback`."""
    b = widgets.Button(description=text, tooltip=text, layout={"width": "auto"})
    b.add_class(css)
    b.on_click(callback)
    return b


def _source(name: str) -> str:
    return (JS / name).read_text(encoding="utf-8")


class TileGrid(anywidget.AnyWidget):
    """Image tiles with captions; a click on tile i calls the on_open callbacks with i."""

    _esm = _source("tiles.js")
    _css = _source("tiles.css")
    tiles = t.List(t.Bytes(allow_none=True)).tag(sync=True)
    labels = t.List(t.Unicode()).tag(sync=True)
    types = t.List(t.Unicode()).tag(sync=True)  # each tile's MIME type
    size = t.Int(128).tag(sync=True)  # tile edge, in CSS pixels
    active = t.Int(-1).tag(sync=True)  # the tile shown open, or -1
    version = t.Int(0).tag(sync=True)  # bumped with every new page; the view echoes it when drawn

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._open_callbacks: list[Callable[[int], None]] = []
        self.on_msg(self._on_msg)

    def on_open(self, callback: Callable[[int], None]) -> None:
        self._open_callbacks.append(callback)

    def click(self, index: int) -> None:
        """What a click on tile `index` does."""
        for callback in self._open_callbacks:
            callback(index)

    def _on_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("event") == "open":
            index = content.get("index")
            if isinstance(index, int) and 0 <= index < len(self.tiles):
                self.click(index)


class BarChart(anywidget.AnyWidget):
    """Labelled horizontal bars; the browser edits `selected` (bar indices) on clicks."""

    _esm = _source("bars.js")
    _css = _source("bars.css")
    labels = t.List(t.Unicode()).tag(sync=True)
    counts = t.List(t.Int()).tag(sync=True)
    selected = t.List(t.Int()).tag(sync=True)


class TableView(anywidget.AnyWidget):
    """A table; each cell is {"t": text}, {"pre": text} or {"img": bytes, "type": mime, "t": tip}."""

    _esm = _source("table.js")
    _css = _source("table.css")
    columns = t.List(t.Unicode()).tag(sync=True)
    rows = t.List(t.List(t.Dict())).tag(sync=True)
