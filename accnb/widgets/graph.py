"""The jobs a result came from: setup.json's inputs, followed back, drawn as a small SVG."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from ..errors import AccnbError
from ..job import Job

MAX_JOBS = 40  # a graph this big is no longer small: the rest is left out
NODE_W, NODE_H, GAP_X, GAP_Y = 150, 38, 40, 12


def input_ids(job: Any) -> list[tuple[str, str]]:
    """(input name, id) of each job or dataset a job was built from, in setup order."""
    found = []
    for name, value in job.params.get("inputs", {}).items():
        for one in value if isinstance(value, list) else [value]:
            if one:
                found.append((name, str(one)))
    return found


def job_of(job: Any, some_id: str) -> Job:
    """The job `some_id` (a job id or a dataset id "jobid/name") names, found beside `job`."""
    jobid = some_id.partition("/")[0]
    sibling = Path(job.path).parent / jobid
    if sibling.is_dir():
        return Job(jobid, sibling)
    return Job(jobid)  # another open workdir; raises NoSuchJobError if none has it


def ancestry(job: Any) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """(jobs by id, edges (input jobid, consumer jobid)) of everything `job` came from."""
    jobs: dict[str, Any] = {job.jobid: job}
    edges: set[tuple[str, str]] = set()
    todo = [job]
    while todo and len(jobs) < MAX_JOBS:
        current = todo.pop()
        for _name, some_id in input_ids(current):
            jobid = some_id.partition("/")[0]
            edges.add((jobid, current.jobid))
            if jobid in jobs:
                continue
            try:
                jobs[jobid] = job_of(current, some_id)
                todo.append(jobs[jobid])
            except AccnbError:
                jobs[jobid] = None  # shown by id only
    return jobs, sorted(edges)


def graph_svg(job: Any) -> str:
    """Inputs on the left, `job` on the right; one column per step back."""
    jobs, edges = ancestry(job)
    depth = {job.jobid: 0}
    for _ in range(len(jobs)):  # longest path to the result, by relaxation (graph is a DAG)
        for src, dst in edges:
            if dst in depth and depth.get(src, -1) < depth[dst] + 1:
                depth[src] = depth[dst] + 1
    columns = max(depth.values()) + 1
    rows: dict[int, list[str]] = {}
    for jobid in sorted(depth, key=_job_number):
        rows.setdefault(depth[jobid], []).append(jobid)
    place = {}
    for d, ids in rows.items():
        for r, jobid in enumerate(ids):
            place[jobid] = ((columns - 1 - d) * (NODE_W + GAP_X), r * (NODE_H + GAP_Y))
    width = columns * (NODE_W + GAP_X) - GAP_X
    height = max(len(ids) for ids in rows.values()) * (NODE_H + GAP_Y) - GAP_Y
    parts = []
    for src, dst in edges:
        if src in place and dst in place:
            (x1, y1), (x2, y2) = place[src], place[dst]
            parts.append(
                f"<line x1='{x1 + NODE_W}' y1='{y1 + NODE_H / 2}' x2='{x2}' y2='{y2 + NODE_H / 2}' "
                "stroke='#888' marker-end='url(#accnb-arrow)'/>"
            )
    for jobid, (x, y) in place.items():
        j = jobs.get(jobid)
        method = _method(j)
        fill = "#fff3e0" if jobid == job.jobid else "#e3f2fd"
        parts.append(
            f"<g class='accnb-graph-node' data-jobid='{escape(jobid, quote=True)}'>"
            f"<rect x='{x}' y='{y}' width='{NODE_W}' height='{NODE_H}' rx='4' fill='{fill}' stroke='#90a4ae'/>"
            f"<text x='{x + 8}' y='{y + 15}' font-size='12' font-weight='bold'>{escape(jobid)}</text>"
            f"<text x='{x + 8}' y='{y + 30}' font-size='11' fill='#455a64'>{escape(method)}</text></g>"
        )
    return (
        f"<svg class='accnb-graph' xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' style='font-family:sans-serif'>"
        "<defs><marker id='accnb-arrow' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='6' "
        "markerHeight='6' orient='auto'><path d='M0,0 L10,5 L0,10 z' fill='#888'/></marker></defs>"
        f"{''.join(parts)}</svg>"
    )


def _method(job: Any) -> str:
    if job is None:
        return "(not found)"
    try:
        return str(job.method)
    except AccnbError:
        return "(no setup)"


def _job_number(jobid: str) -> tuple[str, int]:
    name, _, n = jobid.rpartition("-")
    return (name, int(n)) if n.isdigit() else (jobid, -1)
