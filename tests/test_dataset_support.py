"""Fixtures for the dataset tests: a fake running job whose slices run in-process.

Test modules import `job_fixture` to use the fixture as `job`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from accnb import current
from accnb.dataset import Packed, writer

SLICES = 3


class FakeJob:
    """What the writers need of a job: its directory and id."""

    def __init__(self, workdir: Path, n: int) -> None:
        self.jobid = f"t-{n}"
        self.path = workdir / self.jobid
        self.path.mkdir(parents=True)


class JobRunner:
    """Plays the runner: prepare, in-process "forked" slices, synthesis."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.count = 0
        self.new_job()

    def new_job(self) -> FakeJob:
        """Move on to the next job of the workdir (finishing nothing)."""
        self.count += 1
        writer._writers.clear()
        self.job = FakeJob(self.workdir, self.count)
        current.job = self.job
        current.slices = SLICES
        current.sliceno = None
        current.part = "synthesis"
        return self.job

    def prepare_done(self) -> None:
        current.part = "prepare"
        writer._finish_all()
        current.part = "synthesis"

    def analysis(self, fn: Callable[[int], None]) -> None:
        """Run fn(sliceno) for each slice between _start_slice and _end_slice, as a fork would."""
        for sliceno in range(SLICES):
            current.sliceno, current.part = sliceno, "analysis"
            writer._start_slice(sliceno)
            fn(sliceno)
            writer._end_slice(sliceno)
        current.sliceno, current.part = None, "synthesis"

    def synthesis_done(self) -> None:
        current.part = "synthesis"
        writer._finish_all()


@pytest.fixture(name="job")
def job_fixture(tmp_path: Path):
    """A fake current job `t-1` in workdir `tmp_path/wd` with 3 slices; reset afterwards."""
    runner = JobRunner(tmp_path / "wd")
    yield runner
    writer._writers.clear()
    for name in ("job", "workdir", "slices", "sliceno", "part"):
        setattr(current, name, None)


def write_slices(dw: writer.DatasetWriter, rows_per_slice: list[list[tuple]]) -> None:
    """set_slice each slice in turn and write its rows."""
    for sliceno, rows in enumerate(rows_per_slice):
        dw.set_slice(sliceno)
        for row in rows:
            dw.write(*row)


def packed(values: list[bytes]) -> Packed:
    """Byte values as write_columns takes them packed: end to end, each with its NUL."""
    return Packed(b"".join(v + b"\0" for v in values), np.cumsum([len(v) + 1 for v in values]))
