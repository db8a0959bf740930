"""How one value of a column shows in a table cell, live (TableView) and static (HTML).

A cell is a dict: {"t": text}, {"pre": text} for pretty JSON, or {"img": bytes,
"type": mime, "t": tooltip} for image bytes; {"t": "None", "none": True} for None.
"""

from __future__ import annotations

import json
import reprlib
from html import escape
from typing import Any

from .media import data_url, is_image, small

TEXT_LIMIT = 300  # characters of a value shown in a cell
THUMB_EDGE = 64  # pixels, the longer side of an image in a cell
_repr = reprlib.Repr()
_repr.maxstring = TEXT_LIMIT
_repr.maxother = TEXT_LIMIT


def size_text(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def _clip(text: str) -> str:
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"


def cell(value: Any, column_type: str, images: bool = True) -> dict:
    """The cell of `value` from a column of `column_type`; bytes that are an image show as
    one (made small) when `images`, else as their size."""
    if value is None:
        return {"t": "None", "none": True}
    if column_type == "bytes":
        size = size_text(len(value))
        if images and is_image(value):
            data, mime = small(value, THUMB_EDGE)
            if data:
                return {"img": data, "type": mime, "t": f"image, {size}"}
        return {"t": size}
    if column_type == "json":
        return {"pre": _clip(json.dumps(value, indent=1, ensure_ascii=False, default=str))}
    if column_type == "pickle":
        return {"t": _repr.repr(value)}
    if isinstance(value, str):
        return {"t": _clip(value)}
    return {"t": _clip(str(value))}


def cell_html(c: dict) -> str:
    """A cell as escaped HTML (images inline as data URLs: static HTML has no comm)."""
    if "img" in c:
        return (
            f"<img src='{data_url(c['img'], c['type'])}' title='{escape(c['t'], quote=True)}' "
            f"alt='' style='max-height:{THUMB_EDGE}px;max-width:96px'>"
        )
    if "pre" in c:
        return f"<pre style='margin:0'>{escape(c['pre'])}</pre>"
    style = " style='color:#999;font-style:italic'" if c.get("none") else ""
    return f"<span{style}>{escape(c['t'])}</span>"
