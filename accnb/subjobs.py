"""Building jobs from inside a running job (prepare or synthesis), reused by the same rules."""

from __future__ import annotations

from typing import Any

from . import current
from .errors import AccnbError
from .job import Job


def build(
    method: str,
    options: dict | None = None,
    datasets: dict | None = None,
    jobs: dict | None = None,
    **kw: Any,
) -> Job:
    """Build (or reuse) a job in the workdir of the running job, and record it as a subjob."""
    if current.job is None:
        raise AccnbError(
            "subjobs.build is for use inside a running job; elsewhere use Workdir.build"
        )
    if current.sliceno is not None:
        raise AccnbError(
            "subjobs can not be built from analysis: build them in prepare or synthesis"
        )
    job = current.workdir.build(method, options, datasets, jobs, **kw)
    with open(current.job.path / ".subjobs", "a") as fh:
        fh.write(f"{job}\n")
    return job
