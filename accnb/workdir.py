"""`Workdir`, the public entry point: find methods, build jobs (or reuse them), open results."""

from __future__ import annotations

import difflib
import os
import pickle
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import method as methods
from . import output, runner
from .errors import MethodError, NoSuchJobError, OptionError, WorkdirError
from .fingerprint import fingerprint
from .job import FAILED, OPTIONS, WORKDIRS, Job, list_files
from .options import DotDict, canonical, check_options, read_back_exactly
from .output import RelayReporter, Reporter
from .reuse import BuildPlan, explain, reuse_key
from .store import FINISHED, SETUP, JobStore, read_json, write_json


def _standard_methods() -> Path:
    """methods/ beside the package in a checkout (pip install -e), else where a wheel put it."""
    beside = Path(__file__).resolve().parent.parent / "methods"
    return beside if beside.is_dir() else Path(sys.prefix) / "share" / "accnb" / "methods"


STANDARD_METHODS = _standard_methods()


class Workdir:
    """A folder of jobs, and the methods that build them.

    `methods` are folders searched in order for `a_NAME.py` (other files there are the
    methods' helpers, importable relatively, as in the Accelerator); accnb's standard
    methods come last. Methods registered from strings (`wd.method`, the `%%accmethod`
    magic) come first, so a notebook can redefine any method.
    """

    def __init__(
        self,
        path: str | os.PathLike = "workdir",
        slices: int | None = None,
        methods: list[str | os.PathLike] | None = None,
        executor: Any = None,
    ) -> None:
        self.path = Path(path).resolve()
        self.executor = executor or runner.ForkExecutor()
        self.path.mkdir(parents=True, exist_ok=True)
        self.slices = slices or os.cpu_count() or 1
        if self.slices < 1:
            raise WorkdirError(f"slices must be at least 1, got {self.slices}")
        self.method_dirs = [Path(d).resolve() for d in (methods or [])] + [STANDARD_METHODS]
        self.store = JobStore(self.path)
        other = WORKDIRS.get(self.store.name)
        if other is not None and other != self.path:
            raise WorkdirError(
                f"a workdir named {self.store.name!r} is already open at {str(other)!r}; "
                "job ids are <workdir name>-<n>, so two open workdirs need different folder names"
            )
        WORKDIRS[self.store.name] = self.path
        self._registered: dict[str, methods.Method] = {}
        self._loaded: dict[str, methods.Method] = {}
        self._setups: dict[str, dict] = {}
        self._helpers: dict[str, Path] = {}  # helper module name -> its stored source

    def __repr__(self) -> str:
        return f"Workdir({str(self.path)!r}, slices={self.slices})"

    def close(self) -> None:
        """Let another folder of the same name be opened (job ids are `<name>-<n>`)."""
        self.store.discard_spare()
        if WORKDIRS.get(self.store.name) == self.path:
            del WORKDIRS[self.store.name]

    def __enter__(self) -> Workdir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- methods

    def method(self, name: str, source: str) -> methods.Method:
        """Register a method from its source text; it shadows a file method of that name."""
        if not name.isidentifier():
            raise MethodError(f"method name {name!r} must be a Python identifier")
        digest = methods.hashing.text_digest(source)
        known = self._registered.get(name)
        if known is not None and known.source_digest == digest and self._helpers_current(known):
            return known
        filename = str(self.store.store_source(digest, source))
        loaded = methods.load(name, source, filename, helper_modules=self._helpers)
        runner.check_arguments(loaded)
        self._registered[name] = loaded
        return loaded

    def unregister(self, name: str) -> None:
        """Forget a method registered from a string (its file version, if any, is used again)."""
        self._registered.pop(name, None)

    def get_method(self, name: str) -> methods.Method:
        """The current version of a method, reloaded when its file or depend_extra changed."""
        registered = self._registered.get(name)
        if registered is not None:
            if self._helpers_current(registered):
                return registered
            return self.method(name, registered.source)
        loaded = self._loaded.get(name)
        if loaded is not None and self._helpers_current(loaded):
            watched = (Path(loaded.filename), *loaded.depend_files)
            if methods.file_stamp(watched) == loaded.stamp:
                return loaded
        path = self._find_method_file(name)
        source = path.read_text(encoding="utf-8")
        loaded = methods.load(
            name,
            source,
            str(path),
            helper_modules=self._helpers,
            package=methods.folder_package(path.parent, fresh=loaded is not None),
        )
        loaded.stamp = methods.file_stamp((path, *loaded.depend_files))
        runner.check_arguments(loaded)
        self.store.store_source(loaded.source_digest, source)
        self._loaded[name] = loaded
        return loaded

    def module(self, name: str, source: str) -> Any:
        """Register helper code as an importable module; methods importing it count it in their hash."""
        if not name.isidentifier():
            raise MethodError(f"module name {name!r} must be a Python identifier")
        existing = sys.modules.get(name)
        if existing is not None and name not in self._helpers:
            raise MethodError(
                f"module name {name!r} is already taken by {existing!r}: choose another"
            )
        path = self.store.store_source(methods.hashing.text_digest(source), source)
        module = methods.load_helper_module(name, source, str(path))
        sys.modules[name] = module
        self._helpers[name] = path
        return module

    def _helpers_current(self, m: methods.Method) -> bool:
        """Whether the helper modules a method imported are still the ones it was loaded with."""
        return all(self._helpers.get(name) == path for name, path in m.helpers.items())

    def _find_method_file(self, name: str) -> Path:
        for folder in self.method_dirs:
            path = folder / f"a_{name}.py"
            if path.is_file():
                return path
        known = sorted(self.method_names())
        close = difflib.get_close_matches(name, known, n=3)
        hint = (
            f"; did you mean {', '.join(close)}?"
            if close
            else f"; known methods: {', '.join(known) or 'none'}"
        )
        raise MethodError(
            f"unknown method {name!r} (searched {', '.join(str(d) for d in self.method_dirs)}){hint}"
        )

    def method_names(self) -> set[str]:
        names = set(self._registered)
        for folder in self.method_dirs:
            if folder.is_dir():
                names.update(path.stem[2:] for path in folder.glob("a_*.py"))
        return names

    # --- building

    def build(
        self,
        method: str,
        options: dict | None = None,
        datasets: dict | None = None,
        jobs: dict | None = None,
        *,
        relay: Callable[[str, str], None] | None = None,
        debug: bool | int = False,
        **kw: Any,
    ) -> Job:
        """Build a job, or reuse the finished one with the same method, options and inputs.

        Keywords bind by name to the method's options, datasets and jobs; `options=`,
        `datasets=` and `jobs=` are the Accelerator's form. `relay(part, text)` receives
        what the job prints while it runs (default: printed, tagged by part; in a notebook,
        the extension's reporter).

        `debug=True` (or a slice number) runs prepare, that one slice (0 for True) and
        synthesis here, without forking, so breakpoint() and %debug work on the method's
        lines; the result is `job.debug_result`, and the job is never marked finished.
        """
        m, key, keys, setup, normalized = self._prepare(method, options, datasets, jobs, kw)
        if debug is not False:
            return self._debug(m, setup, normalized, int(debug))
        job = self._find(keys)
        if job is None:
            with self.store.lock(key):
                job = self._find(keys)  # built by another process while we waited
                if job is None:
                    reporter = output.reporter_factory() if relay is None else RelayReporter(relay)
                    return self._run(m, key, setup, normalized, reporter)
        if relay is None and output.reporter_factory is not output.Reporter:
            output.reporter_factory().reused(job)
        return job

    def why_build(
        self,
        method: str,
        options: dict | None = None,
        datasets: dict | None = None,
        jobs: dict | None = None,
        **kw: Any,
    ) -> BuildPlan:
        """Which finished job a build would reuse, or in words why it would run."""
        m, _, keys, setup, _ = self._prepare(method, options, datasets, jobs, kw)
        job = self._find(keys)
        if job is not None:
            plan = BuildPlan(m.name, reuses=str(job))
            if job.params.get("source_digest") != m.source_digest and job.params.hash == m.hash:
                plan.reasons.append("only comments or formatting changed since it was built")
            return plan
        return self._explain(setup)

    def _explain(self, setup: dict) -> BuildPlan:
        candidates = []
        for jobid in self.store.jobs_of(setup["method"])[-20:]:
            if jobid not in self._setups:  # setups never change: read each once
                try:
                    self._setups[jobid] = read_json(self.path / jobid / SETUP)
                except FileNotFoundError:
                    continue
            candidates.append(self._setups[jobid])
        return explain(setup, candidates, self.store.meta / "sources")

    def _find(self, keys: list[str]) -> Job | None:
        for key in keys:
            jobid = self.store.lookup(key)
            if jobid is not None:
                job = Job(jobid, self.path / jobid)
                job.reused = True
                return job
        return None

    def _prepare(
        self, name: str, options: dict | None, datasets: dict | None, jobs: dict | None, kw: dict
    ):
        m = self.get_method(name)
        given_options, given_datasets, given_jobs = _bind(m, options, datasets, jobs, kw)
        normalized = check_options(m.name, m.options, given_options)
        inputs = {}
        for input_name in m.datasets:
            inputs[input_name] = self._input_ids(
                m, input_name, given_datasets.get(input_name), dataset=True
            )
        for input_name in m.jobs:
            inputs[input_name] = self._input_ids(
                m, input_name, given_jobs.get(input_name), dataset=False
            )
        for name in m.input_directories:  # jobs run in their own folder: paths must be absolute
            normalized[name] = _absolute(normalized.get(name))
        options_key = canonical(normalized)
        files = {name: fingerprint(normalized.get(name)) for name in m.input_directories}
        keys = [
            reuse_key(m.name, h, options_key, inputs, self.slices, files) for h in m.accepted_hashes
        ]
        setup = {
            "method": m.name,
            "hash": m.hash,
            "source_digest": m.source_digest,
            "source_file": m.filename,
            "options": options_key,
            "inputs": inputs,
            "datasets": {name: inputs[name] for name in m.datasets},
            "jobs": {name: inputs[name] for name in m.jobs},
            "files": files,
            "slices": self.slices,
            "reuse_key": keys[0],
        }
        return m, keys[0], keys, setup, normalized

    def _input_ids(
        self, m: methods.Method, name: str, value: Any, dataset: bool
    ) -> str | list[str] | None:
        """The id(s) of an input, checked to exist and be finished (cheaply: reuse needs no more)."""
        if value is None:
            return [] if name in m.list_inputs else None
        if name in m.list_inputs:
            values = value if isinstance(value, list | tuple) else [value]
            return [self._input_id(m, name, v, dataset) for v in values]
        if isinstance(value, list | tuple):
            kind = "dataset" if dataset else "job"
            raise OptionError(
                f"{m.name}: input {name!r} takes one {kind}; declare it as ['{name}'] to take a list"
            )
        return self._input_id(m, name, value, dataset)

    def _input_id(self, m: methods.Method, name: str, value: Any, dataset: bool) -> str:
        ident = str(value)
        if dataset and "/" not in ident:
            ident += "/default"  # a job stands for its default dataset
        elif not dataset and "/" in ident:
            raise OptionError(f"{m.name}: input {name!r} is a job; got dataset {ident}")
        jobid, _, ds_name = ident.partition("/")
        path = self.path / jobid
        if not (path / FINISHED).exists():
            state = "is not finished" if path.is_dir() else "does not exist in this workdir"
            raise OptionError(f"{m.name}: input {name!r}: job {jobid!r} {state}")
        if dataset and not (path / "datasets" / ds_name).is_dir():
            have = ", ".join(str(d) for d in Job(jobid, path).datasets) or "none"
            raise OptionError(
                f"{m.name}: input {name!r}: job {jobid} has no dataset {ds_name!r} (it has: {have})"
            )
        return ident

    def _input_objects(self, m: methods.Method, inputs: dict) -> tuple[DotDict, DotDict]:
        """Datasets and jobs as the method sees them: Dataset and Job objects."""
        datasets, jobs = DotDict(), DotDict()
        _fill(datasets, m.datasets, inputs, self.dataset)
        _fill(jobs, m.jobs, inputs, self.job)
        return datasets, jobs

    def _run(
        self, m: methods.Method, key: str, setup: dict, options: DotDict, reporter: Reporter
    ) -> Job:
        spec = self._new_job(m, setup, options)
        self._setups[spec.jobid] = setup
        why = BuildPlan(m.name)

        def while_starting() -> None:  # the job process needs none of this
            nonlocal why
            why = self._explain(setup)
            reporter.started(spec.jobid, m.name, why, self.slices)
            self.store.make_spare()  # for the next build

        try:
            timings = runner.run(spec, reporter, while_starting)
        except BaseException:
            reporter.failed()
            _record_why(spec.path / FAILED, why)
            raise
        try:  # an interrupt waits (runner.hold_interrupts) until the job is finished
            subjobs = spec.path / ".subjobs"
            post = {
                "jobid": spec.jobid,
                "finished": time.time(),
                "timings": timings,
                "files": list_files(spec.path),
                "subjobs": subjobs.read_text().split() if subjobs.exists() else [],
                "why": why.reasons,
            }
            self.store.commit(spec.jobid, key, m.name, post)
            job = Job(spec.jobid, spec.path)
            reporter.finished(job)
            runner.reap_exited()  # torn down meanwhile: no process of the job outlives build
        finally:
            runner.release_interrupts()
        return job

    def _debug(self, m: methods.Method, setup: dict, options: DotDict, sliceno: int) -> Job:
        spec = self._new_job(m, dict(setup, debug=sliceno), options)
        job = Job(spec.jobid, spec.path)
        job.debug_result = runner.debug_run(spec, sliceno)
        return job

    def _new_job(self, m: methods.Method, setup: dict, options: DotDict) -> runner.JobSpec:
        """A new job directory for `setup` (which gets its id and start time), and what runs it."""
        datasets, jobs = self._input_objects(m, setup["inputs"])
        setup["started"] = time.time()
        # Plain options read back from setup.json as they are; others (dates, tuples, ...)
        # are kept as the method saw them. A file fewer is 0.15-0.3 ms less for a new job.
        extra = {}
        if not read_back_exactly(options):
            extra[OPTIONS] = pickle.dumps(options, pickle.HIGHEST_PROTOCOL)
        jobid, path = self.store.new_job(setup, extra)
        setup["jobid"] = jobid
        params = DotDict(
            jobid=jobid,
            method=m.name,
            hash=m.hash,
            slices=self.slices,
            options=options,
            datasets=datasets,
            jobs=jobs,
        )
        return runner.JobSpec(
            method=m,
            jobid=jobid,
            path=path,
            slices=self.slices,
            params=params,
            workdir=self,
            executor=self.executor,
        )

    # --- reading

    def job(self, jobid: str) -> Job:
        return Job(jobid, self.store.job_path(jobid))

    def dataset(self, dsid: str):
        """A dataset by id: "jobid/name", or "jobid" for its default dataset."""
        jobid, _, name = str(dsid).partition("/")
        return self.job(jobid).dataset(name or "default")

    def jobs(self, method: str | None = None) -> list[Job]:
        """Every job in the workdir (finished or not), oldest first; or the finished ones of a method."""
        ids = self.store.jobs_of(method) if method else self.store.all_jobs()
        return [Job(jobid, self.path / jobid) for jobid in ids]

    def latest(self, method: str) -> Job:
        ids = self.store.jobs_of(method)
        if not ids:
            raise NoSuchJobError(f"no finished job of method {method!r} in {str(self.path)!r}")
        return Job(ids[-1], self.path / ids[-1])


def _record_why(failure: Path, why: BuildPlan) -> None:
    """Add why the build ran to a failed job's record, as post.json has it for a finished one."""
    try:
        record = read_json(failure)
    except (FileNotFoundError, ValueError):
        return
    write_json(failure, dict(record, why=why.reasons))


def _absolute(value: Any) -> Any:
    if not value:
        return value
    if isinstance(value, str | os.PathLike):
        return os.path.abspath(value)
    return [os.path.abspath(v) for v in value]


def _fill(found: DotDict, names: tuple[str, ...], inputs: dict, make: Any) -> None:
    for name in names:
        ids = inputs[name]
        found[name] = [make(i) for i in ids] if isinstance(ids, list) else (ids and make(ids))


def _bind(
    m: methods.Method, options: dict | None, datasets: dict | None, jobs: dict | None, kw: dict
):
    """Sort keyword arguments into options, datasets and jobs by the names the method declares."""
    options, datasets, jobs = dict(options or {}), dict(datasets or {}), dict(jobs or {})
    for name, value in kw.items():
        if name in m.datasets:
            datasets[name] = value
        elif name in m.jobs:
            jobs[name] = value
        else:
            options[name] = value  # unknown names are reported by check_options
    for given, declared, kind in ((datasets, m.datasets, "dataset"), (jobs, m.jobs, "job")):
        for name in given:
            if name not in declared:
                have = ", ".join(declared) or "none"
                raise OptionError(
                    f"{m.name}: unknown {kind} input {name!r} (the method's {kind}s: {have})"
                )
    return options, datasets, jobs


_current: Workdir | None = None


def use_workdir(
    path: str | os.PathLike = "workdir",
    slices: int | None = None,
    methods: list[str | os.PathLike] | None = None,
    executor: Any = None,
) -> Workdir:
    """Make `path` the workdir that `accnb.build` uses (a `methods/` folder here is searched);
    `executor` runs its slices (default: forked here; see accnb.dask_executor)."""
    global _current
    if methods is None and Path("methods").is_dir():
        methods = ["methods"]
    resolved = Path(path).resolve()
    if _current is not None and _current.path == resolved:
        WORKDIRS.pop(_current.store.name, None)  # reopening with other settings
    _current = Workdir(path, slices=slices, methods=methods, executor=executor)
    return _current


def current_workdir() -> Workdir:
    """The workdir `accnb.build` uses: the last `use_workdir`, else ./workdir."""
    return _current if _current is not None else use_workdir()


def build(
    method: str,
    options: dict | None = None,
    datasets: dict | None = None,
    jobs: dict | None = None,
    **kw: Any,
) -> Job:
    """`Workdir.build` on the current workdir (see `use_workdir`)."""
    return current_workdir().build(method, options, datasets, jobs, **kw)


def why_build(
    method: str,
    options: dict | None = None,
    datasets: dict | None = None,
    jobs: dict | None = None,
    **kw: Any,
) -> BuildPlan:
    """`Workdir.why_build` on the current workdir (see `use_workdir`)."""
    return current_workdir().why_build(method, options, datasets, jobs, **kw)
