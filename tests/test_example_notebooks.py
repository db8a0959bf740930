"""The example notebooks, executed headlessly in a real kernel, read as a newcomer would."""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from accnb.dataset.partition import slice_of

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def execute(name: str, tmp_path: Path) -> list:
    """Run a copy of the notebook in a scratch folder; return its code cells."""
    folder = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, folder)
    nb = nbformat.read(folder / name, as_version=4)
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()
    return [c for c in nb.cells if c.cell_type == "code"]


def text(cell) -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream")


def plain(cell) -> str:
    return "".join(o.data.get("text/plain", "") for o in cell.outputs if "data" in o)


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_every_notebook_runs_and_only_tagged_cells_fail(path: Path, tmp_path: Path):
    for cell in execute(path.name, tmp_path):
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors or "raises-exception" in cell.metadata.get("tags", [])


def test_the_datasets_notebook_reads_back_what_it_wrote(tmp_path):
    cells = execute("02-datasets.ipynb", tmp_path)
    by_source = {c.source.splitlines()[0]: c for c in cells}
    squares = text(by_source['squares = build("squares", n=1000)'])
    assert "[500, 500]" in squares and "'x': 'int64'" in squares
    numpy_out = text(by_source['first = list(ds.iterate(0, ("x", "label")))[:3]'])
    assert numpy_out.splitlines() == [
        "[(0, 'row 0'), (2, 'row 2'), (4, 'row 4')]",
        f"ndarray float64 {sum(x * x / 2 for x in range(1000))}",
    ]
    assert text(by_source["last = None"]).splitlines()[-1] == "3 [0, 0, 1, 1, 2, 2]"


def test_the_reuse_notebook_shows_reuse_rebuild_revert_and_the_failing_line(tmp_path):
    cells = execute("03-methods-and-reuse.ipynb", tmp_path)
    outputs = [text(c) for c in cells]
    assert "workdir-reuse-0 9 reused: False" in outputs[2]
    assert "workdir-reuse-0 9 reused: True" in outputs[3]
    assert "option lower: False -> True" in plain(cells[4])
    assert "source changed (line 5)" in outputs[6] and "reused: False" in outputs[6]
    assert "workdir-reuse-0 True reused: True" in outputs[8]
    [error] = [o for o in cells[10].outputs if o.output_type == "error"]
    assert "failed in analysis(1)" in error.traceback[0]
    assert "Cell In[10], line 5, in analysis" in error.traceback[1]
    assert "'to be or not to be': 6" in plain(cells[12])


def test_the_thumbnails_notebook_imports_appends_counts_shows_and_exports(tmp_path):
    import base64
    import io

    from PIL import Image

    cells = execute("01-thumbnails.ipynb", tmp_path)
    by_source = {c.source.splitlines()[0]: c for c in cells}
    assert "'imported': 17,\n 'rejected': 4," in plain(
        by_source['imported = build("import_images", directory="photos")']
    )
    rejected = text(by_source["images = imported.dataset()"])
    assert rejected.count("rejected ") == 4 and "broken/empty.jpg - empty file" in rejected
    appended = text(by_source['thumbs = build("thumbnailer", source=imported, size=(128, 128))'])
    assert appended.splitlines()[-1].startswith("True [") and "'thumb'" in appended
    shown = [
        o
        for o in by_source["from IPython.display import Image, display"].outputs
        if "image/jpeg" in o.get("data", {})
    ]
    assert len(shown) == 3
    for output in shown:
        thumb = Image.open(io.BytesIO(base64.b64decode(output.data["image/jpeg"])))
        assert max(thumb.size) == 128
    assert "'files': 17" in plain(by_source['exported = build("export_images", source=thumbs)'])


def test_the_csv_notebook_types_partitions_chains_and_records_the_months(tmp_path):
    cells = execute("05-csv-and-urd.ipynb", tmp_path)
    header, *slices = text(cells[1]).splitlines()[-3:]  # after what the jobs printed
    assert header.startswith("{'amount': 'float64', 'date': 'date', 'shop': 'unicode'} shop ")
    seen = []
    for line in slices:  # each slice holds whole shops, sorted by date
        sliceno, shown = line.split(" ", 1)
        rows = eval(shown, {"datetime": datetime})
        assert rows  # the four shops do not all hash to one slice
        assert [day for day, _, _ in rows] == sorted(day for day, _, _ in rows)
        assert all(slice_of(shop, 2) == int(sliceno) for _, shop, _ in rows)
        seen += rows
    assert sorted(amount for _, _, amount in seen) == [1.0, 2.5, 3.25, 7.0, 8.0, 12.5]
    assert text(cells[2]).splitlines()[-1] == "[(1, '2024-01'), (2, '2024-02'), (3, '2024-03')]"
    assert text(cells[3]).splitlines() == [
        "3 datasets in the chain",
        "all months: 75.5",
    ]  # 34.25 + 13.5 + 27.75
    assert text(cells[4]).strip().endswith("reused: True")
