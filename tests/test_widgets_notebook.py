"""The widgets in a real kernel (nbclient, no browser): the outputs a notebook keeps.

A displayed widget leaves a widget-view output whose model is in the saved widget state,
and beside it a static text/html form that nbconvert and notebook viewers show.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def run(nb, folder: Path):
    NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(folder)}},
        store_widget_state=True,
    ).execute()
    return [c for c in nb.cells if c.cell_type == "code"]


def rich(cell) -> list:
    return [o for o in cell.outputs if o.output_type in ("display_data", "execute_result")]


def stream(cell) -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream")


def test_the_widgets_notebook_leaves_live_views_and_static_html(tmp_path):
    folder = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, folder)
    nb = nbformat.read(folder / "04-widgets.ipynb", as_version=4)
    cells = run(nb, folder)
    by_start = {c.source.split("(")[0].split("\n")[0]: c for c in cells}
    state = nb.metadata.widgets[WIDGET_STATE]["state"]
    shown = by_start["shapes = Histogram"]
    views = [o.data for o in rich(shown)]
    assert len(views) == 2 and all(v[WIDGET_VIEW]["model_id"] in state for v in views)
    assert "<table class='accnb-histogram'" in views[0]["text/html"]
    assert "data:image/jpeg;base64," in views[1]["text/html"]  # the gallery's static thumbnails
    assert stream(by_start["shapes.select"]).splitlines() == [
        "Page 1 of 1 · 1–2 of 2 rows (17 before filters)",
        "Page 1 of 2 · 1–12 of 17 rows",
    ]
    for start in ("DatasetBrowser", "JobView"):
        [out] = rich(by_start[start])
        assert out.data[WIDGET_VIEW]["model_id"] in state and out.data["text/html"].startswith(
            "<div"
        )
    tiles = [m for m in state.values() if m["state"].get("_anywidget_id", "").endswith("TileGrid")]
    assert (
        tiles and len(tiles[0].get("buffers", [])) == 12
    )  # the first page's thumbnails, as buffers


EVIL_CELLS = [
    "import accnb\n"
    "from accnb.widgets import Gallery, Histogram\n"
    "wd = accnb.Workdir('workdir-evil', slices=1)\n"
    "wd.method('evil', '''\n"
    "def prepare(job):\n"
    "    dw = job.datasetwriter()\n"
    "    dw.add('thumb', 'bytes')\n"
    "    dw.add('filename', 'unicode')\n"
    "    return dw\n"
    "def analysis(prepare_res):\n"
    "    from io import BytesIO\n"
    "    from PIL import Image\n"
    "    out = BytesIO()\n"
    "    Image.new('RGB', (8, 8), 'red').save(out, 'PNG')\n"
    "    prepare_res.write(out.getvalue(), '<img src=x onerror=alert(1)>.jpg')\n"
    "''')\n"
    "ds = wd.build('evil', relay=lambda part, text: None).dataset()",
    "Gallery(ds)",
    "Histogram(ds, 'filename')",
]


def test_a_file_name_of_markup_is_escaped_in_the_kept_html(tmp_path):
    nb = new_notebook(cells=[new_code_cell(src) for src in EVIL_CELLS])
    cells = run(nb, tmp_path)
    for cell in cells[1:]:
        [out] = rich(cell)
        html = out.data["text/html"]
        assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;.jpg" in html
