"""The progress of a running build: a bar of slices done, and a line of text.

Its text/plain form is that line, so nbconvert and viewers without widgets show it too.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets


class Progress(widgets.HBox):
    """`update(done, text)` as slices finish; `finish(text)` when the build ends."""

    def __init__(self, slices: int, text: str) -> None:
        self.bar = widgets.IntProgress(value=0, min=0, max=slices, layout={"width": "12em"})
        self.label = widgets.Label(text)
        super().__init__([self.bar, self.label])
        self.add_class("accnb-progress")

    def update(self, done: int, text: str) -> None:
        self.bar.value = done
        self.label.value = text

    def finish(self, text: str, failed: bool = False) -> None:
        self.bar.value = self.bar.max
        self.bar.bar_style = "danger" if failed else "success"
        self.label.value = text

    def __repr__(self) -> str:
        return self.label.value

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        data = super()._repr_mimebundle_(**kwargs)
        data["text/plain"] = self.label.value
        return data
