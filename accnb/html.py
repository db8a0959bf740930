"""Static HTML views of jobs, for notebooks, nbconvert and notebook viewers.

Everything that comes from data or users (options, output, file names) is escaped.
"""

from __future__ import annotations

import html
import reprlib
from typing import Any

_repr = reprlib.Repr()
_repr.maxstring = 200
_repr.maxother = 200


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def job_html(job: Any) -> str:
    """A job's card: id, method, reuse state, options, inputs, result and output."""
    params = job.params
    state = "reused" if job.reused else ("finished" if job.finished else "not finished")
    rows = [("method", esc(params.method)), ("state", esc(state))]
    if params.get("options"):
        rows.append(("options", _table(params.options)))
    inputs = {k: v for k, v in params.get("inputs", {}).items() if v}
    if inputs:
        rows.append(("inputs", _table(inputs)))
    if job.finished:
        total = job.post.get("timings", {}).get("total")
        if total is not None:
            rows.append(("ran in", f"{total:.3f} s"))
        try:
            rows.append(("result", f"<code>{esc(_repr.repr(job.load()))}</code>"))
        except Exception:  # noqa: BLE001 - no result, or one that needs a missing class
            pass
        if job.files():
            rows.append(("files", esc(", ".join(job.files()))))
    body = "".join(
        f"<tr><th style='text-align:left'>{k}</th><td style='text-align:left'>{v}</td></tr>"
        for k, v in rows
    )
    output = job.output()
    out = ""
    if output:
        note = " (printed when it first ran)" if job.reused else ""
        out = f"<details><summary>output{note}</summary><pre>{esc(output)}</pre></details>"
    return f"<div class='accnb-job'><b>{esc(job.jobid)}</b><table>{body}</table>{out}</div>"


def _table(mapping: dict) -> str:
    cells = "".join(
        f"<tr><td>{esc(k)}</td><td><code>{esc(_repr.repr(v))}</code></td></tr>"
        for k, v in mapping.items()
    )
    return f"<table>{cells}</table>"
