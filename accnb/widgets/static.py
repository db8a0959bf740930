"""Static HTML of the widgets, for nbconvert, notebook viewers and kernels without widgets.

Every text that comes from data (file names, labels, values, ids) is escaped; images are
small and inline as data URLs, since a static page has no comm to fetch them over.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from .cells import cell, cell_html
from .media import data_url, small

STATIC_ROWS = 5  # rows of a dataset in its static table
STATIC_TILES = 12  # thumbnails in a gallery's static view
STATIC_EDGE = 96  # pixels, the longer side of a static thumbnail
_BOX = "font-size:12px;font-family:var(--jp-ui-font-family,sans-serif)"
_CELL = "text-align:left;vertical-align:top;padding:1px 8px"


def table_html(columns: Sequence[str], rows: Sequence[Sequence[dict]]) -> str:
    head = "".join(f"<th style='{_CELL}'>{escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td style='{_CELL}'>{cell_html(c)}</td>" for c in row) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _pairs(pairs: Sequence[tuple[str, str]]) -> str:
    """A two-column table of (name, already escaped HTML)."""
    rows = "".join(
        f"<tr><th style='{_CELL}'>{k}</th><td style='{_CELL}'>{v}</td></tr>" for k, v in pairs
    )
    return f"<table>{rows}</table>"


def dataset_summary(ds: Any) -> list[tuple[str, str]]:
    """(name, escaped HTML) pairs describing a dataset: caption, hashlabel, lines, parents."""
    pairs = []
    if ds.caption and ds.caption != ds.jobid:
        pairs.append(("caption", escape(ds.caption)))
    lines = ds.lines
    pairs.append(
        ("rows", f"{sum(lines)} in {len(lines)} slices: {escape(', '.join(map(str, lines)))}")
    )
    if ds.hashlabel:
        pairs.append(("hashlabel", escape(ds.hashlabel)))
    parent = ds.parent
    if parent is not None:
        ids = parent if isinstance(parent, tuple) else (parent,)
        pairs.append(("parent", escape(", ".join(p.id for p in ids))))
    if ds.previous is not None:
        pairs.append(("previous", escape(ds.previous.id)))
    return pairs


def columns_cells(ds: Any) -> tuple[list[str], list[list[dict]]]:
    """The columns table: name, type, None allowed, min, max."""
    rows = []
    for name, col in ds.columns.items():
        rows.append(
            [
                {"t": name},
                {"t": col.type},
                {"t": "yes" if col.none_support else "no"},
                {"t": "" if col.min is None else str(col.min)},
                {"t": "" if col.max is None else str(col.max)},
            ]
        )
    return ["column", "type", "None", "min", "max"], rows


def dataset_html(ds: Any, rows: int = STATIC_ROWS) -> str:
    """A dataset's card: summary, columns, and its first rows (images as small thumbnails)."""
    names = list(ds.columns)
    types = [ds.columns[n].type for n in names]
    first = list(ds.iterate(None, names, slice=slice(0, min(rows, len(ds))))) if names else []
    cells = [[cell(v, typ) for v, typ in zip(values, types, strict=True)] for values in first]
    shown = (
        f"first {len(first)} of {len(ds)} rows" if len(first) < len(ds) else f"all {len(ds)} rows"
    )
    return (
        f"<div class='accnb-dataset' style='{_BOX}'><b>Dataset {escape(ds.id)}</b>"
        f"{_pairs(dataset_summary(ds))}{table_html(*columns_cells(ds))}"
        f"<div>{escape(shown)}</div>{table_html(names, cells)}</div>"
    )


def gallery_html(tiles: Sequence[tuple[bytes | None, str]], summary: str) -> str:
    """Thumbnails (bytes, label) in a wrapping row, each made small and inlined."""
    figures = []
    for data, label in tiles[:STATIC_TILES]:
        thumb, mime = small(data, STATIC_EDGE, max_bytes=6 << 10)
        picture = (
            f"<img src='{data_url(thumb, mime)}' alt='' style='max-width:{STATIC_EDGE}px;max-height:{STATIC_EDGE}px'>"
            if thumb
            else "<span style='color:#777'>no image</span>"
        )
        figures.append(
            f"<figure style='margin:0;width:{STATIC_EDGE}px;text-align:center'>"
            f"<div style='height:{STATIC_EDGE}px;display:flex;align-items:center;justify-content:center'>"
            f"{picture}</div><figcaption style='overflow:hidden;text-overflow:ellipsis;white-space:nowrap' "
            f"title='{escape(label, quote=True)}'>{escape(label)}</figcaption></figure>"
        )
    grid = f"<div style='display:flex;flex-wrap:wrap;gap:6px'>{''.join(figures)}</div>"
    return f"<div class='accnb-gallery' style='{_BOX}'><div>{escape(summary)}</div>{grid}</div>"


def histogram_html(
    labels: Sequence[str], counts: Sequence[int], selected: Sequence[int] = ()
) -> str:
    """Horizontal bars as plain HTML, widths relative to the biggest count."""
    top = max(counts, default=0) or 1
    rows = []
    for i, (label, n) in enumerate(zip(labels, counts, strict=True)):
        colour = "#fb8c00" if i in selected else "#64b5f6"
        rows.append(
            f"<tr><td style='text-align:right;padding-right:8px'>{escape(label)}</td>"
            f"<td style='width:300px'><div style='background:{colour};height:12px;"
            f"width:{100 * n / top:.1f}%'></div></td><td>{n}</td></tr>"
        )
    return f"<table class='accnb-histogram' style='{_BOX}'>{''.join(rows)}</table>"
