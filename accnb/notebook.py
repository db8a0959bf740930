"""The IPython extension: `%accnb`, `%%accmethod`, and failed jobs shown at the cell's lines."""

from __future__ import annotations

import html
import os
import re
import time
from typing import Any

from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display

from . import output
from .errors import AccnbError, JobError, MethodError
from .output import Reporter
from .workdir import build, current_workdir, use_workdir, why_build

# Stored method sources -> the cell that defined them ("In [7]"), for tracebacks.
_cell_of_source: dict[str, int] = {}
_FRAME = re.compile(r'File "([^"]+)", line (\d+)')


@magics_class
class AccnbMagics(Magics):
    @magic_arguments()
    @argument("command", choices=["workdir"], help="what to set")
    @argument("path", nargs="?", help="the workdir folder (created if missing)")
    @argument("--slices", type=int, help="processes per job (default: the number of cores)")
    @argument("--methods", action="append", help="a folder of method files (repeatable)")
    @argument(
        "--dask",
        metavar="ADDRESS",
        help="run slices on the Dask cluster at ADDRESS, tcp://host:8786 (docs/CLUSTER.md)",
    )
    @line_magic
    def accnb(self, line: str) -> Any:
        """%accnb workdir [PATH] [--slices N] [--methods DIR] [--dask ADDRESS]: pick (or
        show) the workdir; with --dask its slices run on a Dask cluster."""
        args = parse_argstring(self.accnb, line)
        if args.path is None:
            return current_workdir()
        executor = None
        if args.dask:
            from .dask_executor import DaskExecutor

            executor = DaskExecutor(args.dask)
        return use_workdir(args.path, slices=args.slices, methods=args.methods, executor=executor)

    @magic_arguments()
    @argument("name", help="the method's name, as builds refer to it")
    @cell_magic
    def accmethod(self, line: str, cell: str) -> None:
        """%%accmethod NAME: the cell is a method (options, prepare, analysis, synthesis)."""
        args = parse_argstring(self.accmethod, line)
        workdir = current_workdir()
        method = workdir.method(args.name, self.shell.transform_cell(cell))
        _cell_of_source[method.filename] = _this_cell_number(self.shell)
        from_notebook = sorted(method.unresolved_globals & set(self.shell.user_ns))
        if from_notebook:
            # A method runs in its own namespace: it cannot see the notebook's names, and
            # reuse would not see them change. Refuse now rather than fail in a slice.
            workdir.unregister(args.name)
            names = ", ".join(from_notebook)
            raise MethodError(
                f"method {args.name!r} uses {names}, defined in the notebook, not in the "
                f"method: move {'them' if len(from_notebook) > 1 else 'it'} into the method, "
                "or into a %%accmodule cell that the method imports"
            )

    @magic_arguments()
    @argument("name", help="the module's name, as methods import it")
    @cell_magic
    def accmodule(self, line: str, cell: str) -> None:
        """%%accmodule NAME: helper code methods can import; it counts in their hash."""
        args = parse_argstring(self.accmodule, line)
        module = current_workdir().module(args.name, self.shell.transform_cell(cell))
        _cell_of_source[module.__file__] = _this_cell_number(self.shell)
        self.shell.user_ns[args.name] = module


def _this_cell_number(shell) -> int:
    """The N of the running cell's In [N]: its place in the input history, which IPython
    fills before running a cell (execution_count is N or N + 1 depending on the frontend)."""
    return len(shell.history_manager.input_hist_raw) - 1


def cell_traceback(text: str) -> str:
    """Point a method traceback's frames at the cells that defined them."""

    def replace(m: re.Match) -> str:
        cell = _cell_of_source.get(m.group(1))
        if cell is None:
            return m.group(0)
        return f"Cell In[{cell}], line {int(m.group(2)) + 1}"  # + the %%accmethod line

    return _FRAME.sub(replace, text)


def _show_accnb_error(shell, etype, value, tb, tb_offset=None) -> list[str]:
    """A failed job shows the method's traceback at the cell's lines, not accnb's internals;
    other accnb errors show their message (ACCNB_FULL_TRACEBACK=1 shows everything).

    IPython ignores a custom handler's return value, so it shows the traceback itself,
    through the shell's _showtraceback: a kernel turns that into the cell's error output.
    """
    if os.environ.get("ACCNB_FULL_TRACEBACK"):
        stb = shell.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)
    elif isinstance(value, JobError):
        head = f"{value.method} ({value.jobid}) failed in {value.part}"
        stb = [head, cell_traceback(value.method_traceback).rstrip()]
    else:
        stb = [f"{etype.__name__}: {value}"]
    shell._showtraceback(etype, value, stb)
    return stb


class _Replay:
    """What a reused job printed when it ran, collapsed."""

    def __init__(self, job) -> None:
        self.job = job
        finished = job.post.get("finished")
        self.when = time.strftime("%Y-%m-%d %H:%M", time.localtime(finished)) if finished else "?"

    def __repr__(self) -> str:
        return f"{self.job} ({self.job.method}) reused: it ran {self.when}; job.output() has what it printed"

    def _repr_html_(self) -> str:
        printed = self.job.output()
        note = html.escape(repr(self))
        if not printed:
            return f"<code>{note}</code>"
        return f"<details><summary><code>{note}</code></summary><pre>{html.escape(printed)}</pre></details>"


class NotebookReporter(Reporter):
    """Builds in a cell: at most MAX_LINES lines per part (a flood would trip Jupyter's
    output rate limit and freeze the page; the job keeps everything), a progress widget
    (its text is the output's text/plain, for nbconvert), and a reused job's output
    replayed, collapsed."""

    MAX_LINES = 200

    def __init__(self) -> None:
        super().__init__(max_lines=self.MAX_LINES)
        self._progress = None
        self._handle = None
        self._jobid = ""

    def started(self, jobid: str, method: str, why, slices: int) -> None:
        from .widgets.progress import Progress

        super().started(jobid, method, why, slices)
        self._jobid = f"{jobid} ({method})"
        self._progress = Progress(slices, f"{self._jobid}: running")
        self._handle = display(self._progress, display_id=True)

    def part_done(self, part: str, rows: int | None = None) -> None:
        super().part_done(part, rows)
        if part.isdigit():
            self._progress.update(self._done, f"{self._jobid}: {self.progress()}")

    def finished(self, job) -> None:
        super().finished(job)
        total = job.post["timings"]["total"]
        self._show(f"{self._jobid}: built in {total:.2f} s")

    def failed(self) -> None:
        super().failed()
        if self._progress is not None:
            self._show(f"{self._jobid}: failed after {self.progress()}", failed=True)

    def _show(self, text: str, failed: bool = False) -> None:
        """The final state, in the widget and in the output's text (for nbconvert)."""
        self._progress.finish(text, failed)
        self._handle.update(self._progress)

    def reused(self, job) -> None:
        display(_Replay(job))


def _dataset_view(ds) -> dict:
    """A dataset in a cell: a gallery when it has images, else a browser (live widgets,
    with static HTML for nbconvert and viewers in the same bundle)."""
    from .widgets import DatasetBrowser, Gallery

    images = [c for c in ("thumb", "image") if c in ds.columns and ds.columns[c].type == "bytes"]
    widget = Gallery(ds, column=images[0]) if images else DatasetBrowser(ds)
    return widget._repr_mimebundle_()


def _job_view(job) -> dict:
    from .widgets import JobView

    return JobView(job)._repr_mimebundle_()


def load(ipython) -> None:
    output.reporter_factory = NotebookReporter
    ipython.register_magics(AccnbMagics)
    # Datasets and jobs in a cell show as widgets, without those layers knowing notebooks.
    bundles = ipython.display_formatter.mimebundle_formatter
    bundles.for_type_by_name("accnb.dataset.reader", "Dataset", _dataset_view)
    bundles.for_type_by_name("accnb.job", "Job", _job_view)
    ipython.set_custom_exc((AccnbError,), _show_accnb_error)
    ipython.push({"build": build, "why_build": why_build})
