"""JobView: what a job is and how it came to be: method, options, inputs, why it was built,
timings, output per part, files, datasets, and a graph of the jobs it came from."""

from __future__ import annotations

import reprlib
from html import escape
from typing import Any

import ipywidgets as widgets
import traitlets as t

from ..errors import AccnbError
from ..job import Job
from .graph import graph_svg, input_ids, job_of
from .views import link_button

_repr = reprlib.Repr()
_repr.maxstring = 300
_repr.maxother = 300
_TH = "style='text-align:left;padding-right:12px;vertical-align:top'"


def _pairs(rows: list[tuple[str, str]]) -> str:
    """A table of (escaped name, escaped HTML value)."""
    return (
        "<table>"
        + "".join(f"<tr><th {_TH}>{k}</th><td>{v}</td></tr>" for k, v in rows)
        + "</table>"
    )


def _section(title: str, body: widgets.Widget) -> widgets.VBox:
    return widgets.VBox([widgets.HTML(f"<b>{escape(title)}</b>"), body], layout={"margin": "4px 0"})


def job_of_anything(obj: Any) -> Job:
    """The job of a Job or of a Dataset (the one that wrote it)."""
    if isinstance(obj, Job):
        return obj
    if hasattr(obj, "jobid") and hasattr(obj, "path"):  # a Dataset: <job dir>/datasets/<name>
        return Job(obj.jobid, obj.path.parent.parent)
    return Job(str(obj))


class JobView(widgets.VBox):
    """A job's card. Inputs and datasets are buttons: an input job opens here (Back
    returns), a dataset opens in a DatasetBrowser below."""

    job = t.Instance(Job)

    def __init__(self, job: Any) -> None:
        self._history: list[Job] = []
        self.title = widgets.HTML()
        self.back_button = widgets.Button(
            description="Back", icon="arrow-left", layout={"width": "auto"}
        )
        self.back_button.add_class("accnb-job-back")
        self.back_button.on_click(lambda _: self.back())
        self.facts = widgets.HTML()
        self.facts.add_class("accnb-job-facts")
        self.inputs = widgets.HBox(layout={"flex_flow": "row wrap"})
        self.inputs.add_class("accnb-job-inputs")
        self.datasets = widgets.HBox(layout={"flex_flow": "row wrap"})
        self.datasets.add_class("accnb-job-datasets")
        self.graph = widgets.HTML()
        self.graph.add_class("accnb-job-graph")
        self.output = widgets.Tab()
        self.output.add_class("accnb-job-output")
        self.slot = widgets.VBox()  # a dataset browser, when one is opened
        super().__init__(
            [
                widgets.HBox([self.back_button, self.title], layout={"align_items": "center"}),
                self.facts,
                _section("inputs", self.inputs),
                _section("datasets", self.datasets),
                _section("came from", self.graph),
                _section("output", self.output),
                self.slot,
            ]
        )
        self.add_class("accnb-job")
        self.job = job_of_anything(job)

    def __repr__(self) -> str:
        return f"<JobView of {self.job}>"

    def show(self, job: Any) -> None:
        """Show another job; Back returns here."""
        self._history.append(self.job)
        self.job = job_of_anything(job)

    def back(self) -> None:
        if self._history:
            self.job = self._history.pop()

    def open_dataset(self, ds: Any) -> None:
        from .browser import DatasetBrowser

        self.slot.children = [DatasetBrowser(ds)]

    @t.observe("job")
    def _new_job(self, _change: Any) -> None:
        job = self.job
        self.back_button.disabled = not self._history
        self.title.value = f"<b>{escape(job.jobid)}</b> {escape(job.method)}"
        self.facts.value = facts_html(job)
        self.inputs.children = [
            self._input_button(job, name, some_id) for name, some_id in input_ids(job)
        ] or [widgets.Label("none")]
        found = job.datasets
        self.datasets.children = [
            link_button(
                f"{ds.name} ({len(ds)} rows)",
                "accnb-job-dataset",
                lambda _, ds=ds: self.open_dataset(ds),
            )
            for ds in found
        ] or [widgets.Label("none")]
        self.graph.value = graph_svg(job)
        parts = ["prepare", *range(job.params.get("slices", 0)), "synthesis"]
        texts = [(str(p), job.output(p)) for p in parts]
        self.output.children = [
            widgets.HTML(
                f"<pre style='max-height:20em;overflow:auto'>{escape(text) or '(nothing printed)'}</pre>"
            )
            for _, text in texts
        ]
        self.output.titles = [
            name if name in ("prepare", "synthesis") else f"slice {name}" for name, _ in texts
        ]
        self.slot.children = []

    def _input_button(self, job: Job, name: str, some_id: str) -> widgets.Button:
        text = f"{name}: {some_id}"
        if "/" in some_id:
            from ..dataset import Dataset

            def open_it(_: Any) -> None:
                source = job_of(job, some_id)
                self.open_dataset(Dataset(source, some_id.partition("/")[2]))

        else:

            def open_it(_: Any) -> None:
                self.show(job_of(job, some_id))

        return link_button(text, "accnb-job-input", open_it)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        data = super()._repr_mimebundle_(**kwargs)
        data["text/html"] = job_html(self.job)
        return data


def facts_html(job: Job) -> str:
    """Method, state, why it was built, options, timings, result and files, escaped."""
    params = job.params
    rows = [("method", escape(str(params.method)))]
    state = "reused" if job.reused else ("finished" if job.finished else "not finished")
    rows.append(("state", state))
    why = job.why
    if why:
        rows.append(("built because", "<br>".join(escape(str(w)) for w in why)))
    options = params.get("options") or {}
    if options:
        rows.append(
            (
                "options",
                _pairs(
                    [
                        (escape(str(k)), f"<code>{escape(_repr.repr(v))}</code>")
                        for k, v in options.items()
                    ]
                ),
            )
        )
    if job.finished:
        timings = job.post.get("timings", {})
        shown = [
            (escape(k), f"{v:.3f} s")
            for k, v in timings.items()
            if isinstance(v, int | float) and k != "per_slice"
        ]
        per_slice = timings.get("per_slice")
        if per_slice:
            shown.append(("per slice", escape(", ".join(f"{v:.3f}" for v in per_slice)) + " s"))
        if shown:
            rows.append(("timings", _pairs(shown)))
        try:
            rows.append(("result", f"<code>{escape(_repr.repr(job.load()))}</code>"))
        except Exception:  # noqa: BLE001 - no result, or one that needs a missing class
            pass
        files = job.files()
        if files:
            rows.append(("files", "<br>".join(escape(f) for f in files)))
    return _pairs(rows)


def job_html(job: Job) -> str:
    """A job's static card, its text/html in notebooks and viewers (and JobView's): facts,
    inputs, datasets, what it printed and the graph of what it came from."""
    inputs = ", ".join(f"{escape(n)}: {escape(i)}" for n, i in input_ids(job)) or "none"
    try:
        datasets = ", ".join(escape(f"{ds.name} ({len(ds)} rows)") for ds in job.datasets) or "none"
    except AccnbError:
        datasets = "unreadable"
    printed = job.output()
    if printed:
        note = " (printed when it first ran)" if job.reused else ""
        printed = f"<details><summary>output{note}</summary><pre>{escape(printed)}</pre></details>"
    return (
        f"<div class='accnb-job' style='font-size:12px'><b>{escape(job.jobid)}</b> {escape(job.method)}"
        f"{facts_html(job)}{_pairs([('inputs', inputs), ('datasets', datasets)])}{printed}"
        f"<div><b>came from</b></div>{graph_svg(job)}</div>"
    )
