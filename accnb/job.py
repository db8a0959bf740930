"""Jobs as users hold them: `Job` reads a job directory, `CurrentJob` writes the running one."""

from __future__ import annotations

import fnmatch
import os
import pickle
from functools import cached_property
from pathlib import Path
from typing import IO, Any

from . import current
from .errors import NoSuchJobError, WorkdirError
from .options import DotDict, JobWithFile  # noqa: F401 - the Accelerator has JobWithFile here
from .store import FINISHED, SETUP, read_json, write_pickle

RESULT = "result.pickle"
OUTPUT = "OUTPUT"
FAILED = "FAILED.json"
OPTIONS = ".options.pickle"
RESERVED = {SETUP, FINISHED, RESULT, OUTPUT, FAILED, "datasets"}  # names a method can't open

# Where the jobs of each workdir name live, so that a bare job id can be opened.
WORKDIRS: dict[str, Path] = {}


def workdir_name(jobid: str) -> str:
    return jobid.rpartition("-")[0]


class Job(str):
    """A job, by id: its setup, result, output, files and datasets.

    A str subclass, as in the Accelerator, so a job is also its id wherever an id goes.
    """

    reused: bool = False

    def __new__(cls, jobid: str, path: Path | str | None = None) -> Job:
        obj = super().__new__(cls, jobid)
        if path is None:
            base = WORKDIRS.get(workdir_name(jobid))
            if base is None:
                raise NoSuchJobError(
                    f"no workdir named {workdir_name(jobid)!r} is open, so job {jobid!r} "
                    "cannot be found: open it with accnb.Workdir(path) first"
                )
            path = base / jobid
        obj.path = Path(path)
        return obj

    def __reduce__(self):
        return (type(self), (str(self), self.path))

    def __repr__(self) -> str:
        return f"Job({str(self)!r})"

    def _repr_html_(self) -> str:
        from .widgets import job_html  # a notebook or viewer asks: ipywidgets is ours anyway

        return job_html(self)

    @property
    def jobid(self) -> str:
        return str(self)

    @property
    def workdir(self) -> str:
        return workdir_name(self)

    @cached_property
    def params(self):
        """What the job was built from: method, hash, options, datasets, jobs, slices."""
        try:
            setup = read_json(self.path / SETUP)
        except FileNotFoundError:
            raise NoSuchJobError(f"job {self.jobid!r} has no setup ({self.path})") from None
        try:  # the options as the method saw them (dates as dates); setup.json has the key form
            with open(self.path / OPTIONS, "rb") as fh:
                setup["options"] = pickle.load(fh)
        except FileNotFoundError:  # plain values only: the key form is the same
            setup["options"] = DotDict(setup["options"])
        for name in ("inputs", "datasets", "jobs"):  # params.datasets.source, as the Accelerator
            if isinstance(setup.get(name), dict):
                setup[name] = DotDict(setup[name])
        return DotDict(setup)

    @property
    def method(self) -> str:
        return self.params.method

    @property
    def source(self) -> str:
        """The exact method source that made this job (kept by digest in the workdir)."""
        stored = self.path.parent / ".accnb" / "sources" / f"{self.params.source_digest}.py"
        return stored.read_text(encoding="utf-8")

    @property
    def finished(self) -> bool:
        return (self.path / FINISHED).exists()

    @cached_property
    def post(self) -> dict:
        """What the finished job recorded: timings, files, subjobs, why it was built."""
        try:
            return read_json(self.path / FINISHED)
        except FileNotFoundError:
            raise WorkdirError(f"job {self.jobid!r} is not finished") from None

    @property
    def why(self) -> list[str]:
        """Why the build ran rather than reused a job (what differed from the nearest earlier
        one, or that there was none), as recorded with the outcome: post.json, or
        FAILED.json for a job that failed."""
        for name in (FINISHED, FAILED):
            try:
                return read_json(self.path / name).get("why", [])
            except (FileNotFoundError, ValueError):
                continue
        return []

    def filename(self, name: str, sliceno: int | None = None) -> str:
        if sliceno is not None:
            name = f"{name}.{sliceno}"
        return str(self.path / name)

    def open(
        self, name: str, mode: str = "r", sliceno: int | None = None, encoding: str | None = None
    ) -> IO:
        if any(c in mode for c in "wax+"):
            raise WorkdirError(f"job {self.jobid!r} is not running here: its files are read-only")
        if "b" not in mode and encoding is None:
            encoding = "utf-8"
        return open(self.filename(name, sliceno), mode, encoding=encoding)

    def load(self, name: str = RESULT, sliceno: int | None = None) -> Any:
        """What synthesis returned, or a pickle the job saved under `name`."""
        try:
            with open(self.filename(name, sliceno), "rb") as fh:
                return pickle.load(fh)
        except FileNotFoundError:
            if name == RESULT and sliceno is None:
                raise WorkdirError(
                    f"job {self.jobid!r} ({self.method}) has no result: its synthesis "
                    "returned None, or it has no synthesis"
                ) from None
            raise

    def files(self, pattern: str = "*") -> list[str]:
        """Files the job wrote (relative names), its result among them; not output or datasets."""
        names = self.post.get("files", ()) if self.finished else list_files(self.path)
        return [name for name in names if fnmatch.fnmatchcase(name, pattern)]

    def withfile(self, name: str, sliced: bool = False, extra: Any = None):
        return JobWithFile(self, name, sliced, extra)

    def output(self, what: str | int | None = None) -> str:
        """What the job printed: all of it, or "prepare", "analysis", "synthesis" or a slice."""
        out = self.path / OUTPUT
        if what is None:
            parts = ["prepare", *range(self.params.slices), "synthesis"]
        elif what == "analysis":
            parts = list(range(self.params.slices))
        else:
            parts = [what]
        texts = []
        for part in parts:
            try:
                texts.append((out / str(part)).read_text(encoding="utf-8", errors="replace"))
            except FileNotFoundError:
                pass
        return "".join(texts)

    def dataset(self, name: str = "default"):
        from .dataset import Dataset

        return Dataset(self, name)

    @property
    def datasets(self) -> list:
        from .dataset import Dataset
        from .dataset.layout import META

        base = self.path / "datasets"
        if not base.is_dir():
            return []
        return [Dataset(self, p.name) for p in sorted(base.iterdir()) if (p / META).exists()]


class CurrentJob(Job):
    """The job running in this process: files opened for writing belong to it."""

    def open(
        self, name: str, mode: str = "r", sliceno: int | None = None, encoding: str | None = None
    ) -> IO:
        if "b" not in mode and encoding is None:
            encoding = "utf-8"
        if name in RESERVED:
            raise WorkdirError(f"{name!r} is kept by accnb in every job: choose another file name")
        path = Path(self.filename(name, sliceno))
        if any(c in mode for c in "wax+"):
            path.parent.mkdir(parents=True, exist_ok=True)
        return open(path, mode, encoding=encoding)

    def save(self, obj: Any, name: str = RESULT, sliceno: int | None = None) -> None:
        """Pickle `obj` into the job (load it back with job.load(name))."""
        write_pickle(Path(self.filename(name, sliceno)), obj)

    def datasetwriter(self, name: str = "default", **kw: Any):
        from .dataset import DatasetWriter

        return DatasetWriter(name=name, **kw)

    def finish_early(self, result: Any = None) -> None:
        """End the job now, successfully, skipping the parts after this one."""
        from .runner import FinishEarly

        raise FinishEarly(result)

    @property
    def slices(self) -> int:
        return current.slices


def list_files(path: Path) -> list[str]:
    """Files a method wrote: everything but accnb's own entries and hidden files.

    (os.scandir, not os.walk and pathlib, which took 0.2 ms of a 9 ms trivial build.)"""
    found: list[str] = []
    _add_files(str(path), "", found)
    return sorted(found)


def _add_files(folder: str, prefix: str, found: list[str]) -> None:
    """As os.walk would: unreadable folders are skipped, symlinked ones not entered."""
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                name = entry.name
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                if not prefix and (name.startswith(".") or name in RESERVED):
                    if is_dir or name != RESULT:  # accnb's own, or hidden
                        continue
                if not is_dir:
                    found.append(prefix + name)
                elif not entry.is_symlink():
                    _add_files(entry.path, f"{prefix}{name}/", found)
    except OSError:
        pass
