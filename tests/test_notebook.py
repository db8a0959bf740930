"""The IPython extension in a real kernel: magics, live output, tracebacks at cell lines."""

from __future__ import annotations

import re
from pathlib import Path

from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

SETUP = "%load_ext accnb\n%accnb workdir wd --slices 2"


def run(cells: list[str], cwd: Path) -> list:
    nb = new_notebook(cells=[new_code_cell(c) for c in cells])
    NotebookClient(
        nb,
        timeout=60,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(cwd)}},
    ).execute()
    return nb.cells


def stream_text(cell) -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream")


def errors(cell) -> list:
    return [o for o in cell.outputs if o.output_type == "error"]


def test_a_method_cell_builds_and_its_slices_print_into_the_cell(tmp_path):
    cells = run(
        [
            SETUP,
            "%%accmethod hello\ndef analysis(sliceno):\n    print('hello from', sliceno)\n"
            "def synthesis():\n    return 'done'",
            "job = build('hello')\njob.load()",
        ],
        tmp_path,
    )
    out = stream_text(cells[2])
    assert "[slice 0] hello from 0" in out and "[slice 1] hello from 1" in out
    assert cells[2].outputs[-1].data["text/plain"] == "'done'"
    assert (tmp_path / "wd").is_dir()


def test_a_job_displays_as_escaped_html(tmp_path):
    cells = run(
        [
            SETUP,
            "%%accmethod shows\noptions = dict(label='')\ndef synthesis(options):\n    return options.label",
            "build('shows', label='<img src=x onerror=alert(1)>')",
        ],
        tmp_path,
    )
    html = cells[2].outputs[-1].data["text/html"]
    assert "wd-0" in html and "shows" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_a_failing_slice_shows_the_cell_and_line_not_accnb_internals(tmp_path):
    cells = run(
        [
            SETUP,
            "%%accmethod breaks\ndef analysis(sliceno):\n    if sliceno == 1:\n        raise ValueError('bad row')",
            "build('breaks')",
        ],
        tmp_path,
    )
    [error] = errors(cells[2])
    text = "\n".join(error.traceback)
    assert error.ename == "JobError"
    assert "failed in analysis(1)" in text
    assert "Cell In[2], line 4, in analysis" in text
    assert "runner.py" not in text and "workdir.py" not in text


def test_editing_a_cell_rebuilds_and_reverting_reuses(tmp_path):
    v1 = "%%accmethod m\ndef synthesis():\n    return 1"
    v2 = "%%accmethod m\ndef synthesis():\n    return 2"
    cells = run(
        [
            SETUP,
            v1,
            "a = build('m'); print(a, a.reused)",
            v1,
            "b = build('m'); print(b, b.reused)",
            v2,
            "c = build('m'); print(c, c.reused)",
            v1,
            "d = build('m'); print(d, d.reused)",
        ],
        tmp_path,
    )
    lines = [stream_text(cells[i]).strip().splitlines()[-1] for i in (2, 4, 6, 8)]
    assert lines == ["wd-0 False", "wd-0 True", "wd-1 False", "wd-0 True"]


def test_a_wrong_option_is_a_one_line_error(tmp_path):
    cells = run(
        [
            SETUP,
            "%%accmethod opt\noptions = dict(n=1)\ndef synthesis():\n    pass",
            "build('opt', size=3)",
        ],
        tmp_path,
    )
    [error] = errors(cells[2])
    assert error.ename == "OptionError"
    assert len(error.traceback) == 1 and "'size'" in error.traceback[0]


def test_a_helper_module_cell_counts_in_the_hash_of_methods_using_it(tmp_path):
    helper_v1 = "%%accmodule shared\ndef scale(x):\n    return x * 10"
    helper_v2 = "%%accmodule shared\ndef scale(x):\n    return x * 100"
    method = "%%accmethod uses\nfrom shared import scale\ndef synthesis():\n    return scale(2)"
    cells = run(
        [
            SETUP,
            helper_v1,
            method,
            "a = build('uses'); print(a, a.reused, a.load())",
            helper_v2,
            "b = build('uses'); print(b, b.reused, b.load())",
            helper_v1,
            "c = build('uses'); print(c, c.reused, c.load())",
            "print(shared.scale(1))",
        ],
        tmp_path,
    )
    lines = [stream_text(cells[i]).strip().splitlines()[-1] for i in (3, 5, 7, 8)]
    assert lines == ["wd-0 False 20", "wd-1 False 200", "wd-0 True 20", "10"]


def test_a_build_that_runs_again_says_why_in_the_cell(tmp_path):
    cells = run(
        [
            SETUP,
            "%%accmethod sized\noptions = dict(size=100)\ndef synthesis(options):\n    return options.size",
            "build('sized', size=100)",
            "build('sized', size=128)",
        ],
        tmp_path,
    )
    assert "[build]" not in stream_text(cells[2])
    assert (
        "[build] wd-1: sized: runs again (compared with wd-0): option size: 100 -> 128"
        in stream_text(cells[3])
    )


def html_outputs(cell) -> list[str]:
    return [o.data["text/html"] for o in cell.outputs if "text/html" in o.get("data", {})]


def test_a_flood_of_output_is_throttled_in_the_cell_but_kept_in_the_job(tmp_path):
    cells = run(
        [
            SETUP,
            "%%accmethod floods\ndef analysis(sliceno):\n    for i in range(50_000):\n        print('line', i)",
            "job = build('floods')",
            "print(len(job.output(0).splitlines()), len(job.output(1).splitlines()))",
        ],
        tmp_path,
    )
    shown = stream_text(cells[2]).splitlines()
    assert len(shown) == 2 * 200 + 2
    assert "[slice 0] ... 49800 more lines held back; job.output(0) has them all" in shown
    assert stream_text(cells[3]).strip() == "50000 50000"


def test_a_reused_build_replays_what_the_job_printed_collapsed(tmp_path):
    cells = run(
        [
            SETUP,
            "%%accmethod chatty\ndef synthesis():\n    print('<b>first run</b>')\n    return 1",
            "build('chatty');",
            "build('chatty');",
        ],
        tmp_path,
    )
    assert "[synthesis] <b>first run</b>" in stream_text(cells[2])
    assert stream_text(cells[3]) == ""
    [replay] = html_outputs(cells[3])
    assert replay.startswith("<details>") and "wd-0 (chatty) reused: it ran" in replay
    assert "&lt;b&gt;first run&lt;/b&gt;" in replay


def test_the_status_line_ends_with_the_build_time(tmp_path):
    cells = run(
        [SETUP, "%%accmethod quick\ndef analysis(sliceno):\n    pass", "build('quick');"], tmp_path
    )
    [status] = [o for o in cells[2].outputs if o.output_type == "display_data"]
    assert re.fullmatch(r"wd-0 \(quick\): built in \d+\.\d\d s", status.data["text/plain"])
    assert "application/vnd.jupyter.widget-view+json" in status.data  # a live progress bar


def test_a_method_using_a_notebook_global_is_refused_naming_it(tmp_path):
    cells = run(
        [
            SETUP,
            "THRESHOLD = 3\ndef helper(x):\n    return x",
            "%%accmethod leaks\nimport math\ndef synthesis():\n    return helper(THRESHOLD) + math.floor(len('ab'))",
            "build('leaks')",
        ],
        tmp_path,
    )
    [error] = errors(cells[2])
    assert error.ename == "MethodError"
    assert "uses THRESHOLD, helper, defined in the notebook" in error.traceback[0]
    assert "%%accmodule" in error.traceback[0]
    [error] = errors(cells[3])
    assert "unknown method 'leaks'" in error.traceback[0]


def test_the_status_line_counts_slices_and_rows_while_running(tmp_path):
    cells = run(
        [
            SETUP,
            "%%accmethod rows\nimport time\nfrom accnb.dataset import DatasetWriter\n"
            "def prepare():\n    dw = DatasetWriter()\n    dw.add('x', 'int64')\n    return dw\n"
            "def analysis(sliceno, prepare_res):\n    time.sleep(0.3 * sliceno)\n"
            "    for i in range(10 + sliceno):\n        prepare_res.write(i)",
            "import accnb.notebook as nbx\nseen = []\n"
            "class Spy(nbx.NotebookReporter):\n"
            "    def part_done(self, part, rows=None):\n        super().part_done(part, rows)\n"
            "        if part.isdigit():\n            seen.append(self.progress().rsplit(',', 1)[0])\n"
            "import accnb.output\naccnb.output.reporter_factory = Spy\nbuild('rows');\nprint(seen)",
        ],
        tmp_path,
    )
    assert (
        "['1/2 slices done, 10 rows written', '2/2 slices done, 21 rows written']"
        in stream_text(cells[2])
    )


def test_a_bare_dataset_in_a_cell_shows_as_an_escaped_card(tmp_path):
    cells = run(
        [
            SETUP,
            "%%accmethod names\ndef prepare(job):\n    dw = job.datasetwriter()\n    dw.add('name', 'unicode')\n"
            "    return dw\ndef analysis(sliceno, prepare_res):\n    prepare_res.write('<b>row</b>')",
            "build('names').dataset()",
        ],
        tmp_path,
    )
    card = html_outputs(cells[2])[-1]  # after the status line
    assert "name" in card and "unicode" in card
    assert "&lt;b&gt;row&lt;/b&gt;" in card and "<b>row</b>" not in card


def test_a_dataset_with_images_shows_as_a_gallery_and_a_job_as_a_job_view(tmp_path):
    cells = run(
        [
            SETUP,
            "%%accmethod pics\nimport io\nfrom PIL import Image\n"
            "def prepare(job):\n    dw = job.datasetwriter()\n    dw.add('filename', 'unicode')\n"
            "    dw.add('thumb', 'bytes')\n    return dw\n"
            "def analysis(sliceno, prepare_res):\n    out = io.BytesIO()\n"
            "    Image.new('RGB', (8, 8), (255, 0, 0)).save(out, 'PNG')\n"
            "    prepare_res.write(f'red{sliceno}.png', out.getvalue())",
            "job = build('pics')\njob.dataset()",
            "job",
        ],
        tmp_path,
    )
    gallery = cells[2].outputs[-1].data
    assert "application/vnd.jupyter.widget-view+json" in gallery
    assert "red0.png" in gallery["text/html"] and "<img" in gallery["text/html"]
    job_view = cells[3].outputs[-1].data
    assert (
        "application/vnd.jupyter.widget-view+json" in job_view and "wd-0" in job_view["text/html"]
    )
