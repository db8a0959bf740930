"""Urd for build scripts: named lists of sessions recording which jobs each build made, kept
in the workdir (no server), with the Accelerator's `urd` API.

    def main(urd):
        urd.begin("imports", 3, caption="data3.csv")
        latest = urd.latest("imports").joblist       # the last session's jobs (a dependency)
        imp = urd.build("csvimport", filename="data3.csv", previous=latest.get("csvimport"))
        urd.finish("imports")                        # records the session's joblist at 3

A list is named "<user>/<name>" ($USER unless the name has a '/'). A session has a
timestamp: an int >= 0, a date, a naive datetime, a (date or datetime, int >= 0) tuple, or
their text ("3", "2024-05-01", "2024-05-01T12:00", "2024-05-01+3"). Ints sort before dates,
a date before a datetime of the same day. As in the Accelerator, no session is at 0 (it
means "before them all" to since and truncate) and a session must have built a job.

Not as in the Accelerator: when update=True or truncate replaces or removes a session,
the Accelerator also hides ("ghosts") every session that recorded it as a dependency, and
so on down; accnb keeps those sessions visible, with deps naming the session they read.

Storage: `<workdir>/urd/<user>/<name>.jsonl`, append-only, one JSON record a line: a
finished session (timestamp, caption, joblist as [name, jobid] pairs, the sessions it read
as deps) or a truncate (every session at or after its timestamp is gone). The state is the
replay of the file, so nothing is ever rewritten and a crash leaves at most one partial
last line (ignored). Writers take an exclusive flock on the file for the check and the
append, readers a shared one, so processes sharing a workdir never interleave records.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import time
import warnings
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .errors import AccnbError
from .job import WORKDIRS, Job, workdir_name
from .options import DotDict

__all__ = ["EmptyUrdResponse", "JobList", "Urd", "UrdConflictError", "UrdError", "UrdResponse"]


class UrdError(AccnbError):
    """An Urd call that cannot be done as asked (no session, bad name or timestamp, ...)."""


class UrdConflictError(UrdError):
    """finish() at a timestamp that already holds a different session (use update=True)."""


class JobList(list):
    """Jobs in build order, as the Accelerator's JobList.

    `.get(name)` the last job of that method (or build name), `[name]` the same but an
    error when there is none, `.find(name)` all of them, `.as_tuples` [(name, job)],
    `.pretty` a printable listing.
    """

    def __getitem__(self, item: Any) -> Any:
        if isinstance(item, slice):
            return JobList(list.__getitem__(self, item))
        if isinstance(item, str):
            found = self.find(item)
            if not found:
                raise KeyError(f"no job named {item!r} in this JobList ({self.names() or 'empty'})")
            return found[-1]
        return list.__getitem__(self, item)

    def names(self) -> list[str]:
        return [_name(job) for job in self]

    def find(self, name: str) -> JobList:
        return JobList(job for job in self if _name(job) == name)

    def get(self, name: str, default: Any = None) -> Any:
        found = self.find(name)
        return found[-1] if found else default

    @property
    def as_tuples(self) -> list[tuple[str, Job]]:
        return [(_name(job), job) for job in self]

    @property
    def pretty(self) -> str:
        if not self:
            return "JobList([])"
        width = max(len(_name(job)) for job in self)
        lines = [f"   [{ix:3}] {_name(job):>{width}} : {job}" for ix, job in enumerate(self)]
        return "JobList(\n" + "\n".join(lines) + "\n)"


def _name(job: Job) -> str:
    """The name a job was recorded under: build(..., name=) or its method."""
    return getattr(job, "urd_name", None) or job.method


class UrdResponse(DotDict):
    """One session: user, build, timestamp, caption, joblist (a JobList) and deps.

    An empty response (no such session) is false, so `if urd.latest(key):` works.
    """

    __slots__ = ()

    def __bool__(self) -> bool:
        return "timestamp" in self

    @property
    def as_dep(self) -> DotDict:
        return DotDict(
            timestamp=_Timestamp.parse(self.timestamp).text,
            joblist=[[name, str(job)] for name, job in self.joblist.as_tuples],
            caption=self.caption,
        )


EmptyUrdResponse = UrdResponse  # an UrdResponse without a timestamp


def _empty() -> UrdResponse:
    return UrdResponse(caption="", joblist=JobList(), deps=DotDict())


class Urd:
    """What a build script's `main(urd)` gets: `build` (Workdir.build, recorded in
    `joblist`) and Urd sessions: begin, finish, abort, get, latest, first, peek,
    peek_latest, peek_first, since, list, truncate, build_chained.

    `horizon` (a timestamp) hides later sessions from latest and peek_latest (not first),
    as `ax run --horizon`: a session shows if it is at or before the horizon or, for a
    horizon that is a date or datetime without +N, if its timestamp's text starts with the
    horizon's (a date horizon shows all of that day's sessions). The Accelerator compares
    the text as given, so a partial time ("2024-05-01T12") prefixes its whole hour there; in
    accnb it is 12:00:00. With verbose, each build prints a line (built or reused, and how
    long).
    """

    def __init__(
        self,
        workdir: Any,
        user: str | None = None,
        horizon: Any = None,
        verbose: bool = True,
    ) -> None:
        self.workdir = workdir
        self.user = user or os.environ.get("USER") or "accnb"
        _check_part(self.user, "user")
        self.horizon = None if horizon is None else _Timestamp.parse(horizon)
        self.verbose = verbose
        self.root = Path(workdir.path) / "urd"
        self.joblist = JobList()
        self._current: str | None = None
        self._deps: dict[str, DotDict] = {}
        self._latest_joblist: JobList | None = None

    def __repr__(self) -> str:
        return f"Urd({self.workdir!r}, user={self.user!r})"

    # --- building

    def build(
        self,
        method: str,
        options: dict | None = None,
        datasets: dict | None = None,
        jobs: dict | None = None,
        name: str | None = None,
        caption: str | None = None,
        why_build: bool = False,
        workdir: Any = None,
        **kw: Any,
    ) -> Any:
        """Workdir.build, recorded in `joblist` (under `name` if given, else the method)."""
        if caption is not None or workdir is not None:
            what = "caption" if caption is not None else "workdir"
            raise UrdError(
                f"urd.build: {what}= is not supported in accnb (jobs have no caption; build "
                "in another workdir with an Urd of that workdir)"
            )
        if why_build:
            return self.why_build(method, options, datasets, jobs, **kw)
        started = time.monotonic()
        job = self.workdir.build(method, options, datasets, jobs, **kw)
        if self.verbose:
            took = "reused" if job.reused else f"built in {time.monotonic() - started:.2f} s"
            print(f"{job} {method} {took}", flush=True)
        if name is not None:
            job = _recorded(job, name)
        self.joblist.append(job)
        return job

    def why_build(self, method: str, *args: Any, **kw: Any) -> Any:
        """Which job a build would reuse, or why it would run (see Workdir.why_build)."""
        return self.workdir.why_build(method, *args, **kw)

    def build_chained(
        self, method: str, options: dict | None = None, datasets: dict | None = None,
        jobs: dict | None = None, name: str | None = None, **kw: Any,
    ) -> Any:  # fmt: skip
        """build with previous= the job of `name` in the last session read (get/latest)."""
        if "previous" in kw or "previous" in (datasets or {}) or "previous" in (jobs or {}):
            raise UrdError("urd.build_chained sets previous itself: don't give it")
        if not name:
            raise UrdError("urd.build_chained needs name=, the name to chain on")
        if self._latest_joblist is None:
            raise UrdError(
                "urd.build_chained needs a session to chain from: call urd.latest(...) first"
            )
        kw["previous"] = self._latest_joblist.get(name)
        return self.build(method, options, datasets, jobs, name=name, **kw)

    # --- sessions

    def begin(
        self, path: str, timestamp: Any = None, caption: str | None = None, update: bool = False
    ) -> None:
        """Start a session of list `path`: joblist starts empty, reads are recorded as deps."""
        if self._current is not None:
            raise UrdError(f"urd.begin({path!r}): session {self._current!r} is still open")
        self._current = self._path(path)
        self._timestamp = None if timestamp is None else _Timestamp.parse(timestamp)
        self._caption = caption
        self._update = update
        self._deps = {}
        self._latest_joblist = None
        self.joblist = JobList()

    def abort(self) -> None:
        """Forget the open session without recording it."""
        self._current = None

    def finish(self, path: str, timestamp: Any = None, caption: str | None = None) -> DotDict:
        """Record the open session: its joblist, deps and caption at its timestamp.

        The same session again is fine (nothing changes); a different one at a timestamp
        already used is an UrdConflictError unless begin had update=True.
        """
        path = self._path(path)
        if self._current is None:
            raise UrdError(f"urd.finish({path!r}): no session is open (call urd.begin first)")
        if path != self._current:
            raise UrdError(f"urd.finish({path!r}): the open session is {self._current!r}")
        if not self.joblist:  # as the Accelerator: the session stays open to build in
            raise UrdError(
                f"urd.finish({path!r}): the session built no jobs; build something or abort()"
            )
        self._current = None  # as the Accelerator: a failed finish ends the session too
        stamp = _Timestamp.parse(timestamp) if timestamp is not None else self._timestamp
        if stamp is None:
            raise UrdError(f"urd.finish({path!r}): no timestamp given to begin or finish")
        if stamp.key == (0, 0):
            raise UrdError(
                f"urd.finish({path!r}): timestamp 0 is special (since(path, 0) is every "
                "session, truncate(path, 0) removes all): use 1 or later"
            )
        record = {
            "op": "add",
            "timestamp": stamp.text,
            "caption": caption or self._caption or "",
            "joblist": [[name, str(job)] for name, job in self.joblist.as_tuples],
            "deps": self._deps,
        }
        with _Log(self._file(path), write=True) as log:
            old = _replay(log.records()).get(stamp.text)
            same = old is not None and all(old[k] == record[k] for k in record)
            if old is not None and not same and not self._update:
                raise UrdConflictError(
                    f"urd.finish({path!r}): timestamp {stamp.text} already holds another session "
                    "(other jobs, deps or caption): begin with update=True to replace it"
                )
            if not same:
                log.append(record)
        return DotDict(new=old is None, changed=old is not None and not same)

    def truncate(self, path: str, timestamp: Any) -> None:
        """Remove the sessions of `path` at or after `timestamp` (0: all of them)."""
        stamp = _Timestamp.parse(timestamp)
        with _Log(self._file(self._path(path)), write=True) as log:
            log.append({"op": "truncate", "timestamp": stamp.text})

    # --- reading

    def get(self, path: str, timestamp: Any) -> UrdResponse:
        """The session at `timestamp` ('latest', 'first' or a timestamp), recorded as a
        dependency of the open session."""
        path = self._path(path)
        if self._current is None:
            raise UrdError(
                f"urd.get({path!r}): no session is open to record the dependency in: call "
                "urd.begin first, or use urd.peek"
            )
        if path in self._deps:
            raise UrdError(f"urd.get({path!r}): this session already read {path!r}")
        res = self.peek(path, timestamp)
        if res:
            self._deps[path] = res.as_dep
        self._latest_joblist = res.joblist
        return res

    def latest(self, path: str) -> UrdResponse:
        return self.get(path, "latest")

    def first(self, path: str) -> UrdResponse:
        return self.get(path, "first")

    def peek(self, path: str, timestamp: Any) -> UrdResponse:
        """The session at `timestamp`, not recorded as a dependency; empty if there is none."""
        path = self._path(path)
        sessions = self._sessions(path)
        if timestamp in ("latest", "first"):
            visible = [k for k, r in sessions.items() if timestamp == "first" or self._shows(k, r)]
            if not visible:
                return _empty()
            key = max(visible) if timestamp == "latest" else min(visible)
        else:
            key = _Timestamp.parse(timestamp).key
        record = sessions.get(key)
        return _empty() if record is None else self._response(path, record)

    def _shows(self, key: tuple, record: dict) -> bool:
        """Whether the horizon lets latest see the session (the Accelerator's `<=horizon`)."""
        horizon = self.horizon
        if horizon is None or key <= horizon.key:
            return True
        dated_without_n = horizon.key[0] == 1 and not horizon.key[3]
        return dated_without_n and record["timestamp"].startswith(horizon.text)

    def peek_latest(self, path: str) -> UrdResponse:
        return self.peek(path, "latest")

    def peek_first(self, path: str) -> UrdResponse:
        return self.peek(path, "first")

    def since(self, path: str, timestamp: Any) -> list[Any]:
        """The timestamps of `path`'s sessions after `timestamp`, oldest first."""
        after = _Timestamp.parse(timestamp).key
        return [
            _Timestamp.from_key(k).value
            for k in sorted(self._sessions(self._path(path)))
            if k > after
        ]

    def history(self, path: str, timestamp: Any = 0) -> list[UrdResponse]:
        """The sessions of `path` after `timestamp`, oldest first, as peek gives them, from
        one reading of the list (a peek per session reads it once per session)."""
        after = _Timestamp.parse(timestamp).key
        path = self._path(path)
        sessions = self._sessions(path)
        return [self._response(path, sessions[key]) for key in sorted(sessions) if key > after]

    def list(self) -> list[str]:
        """Every list that has sessions, as "user/name"."""
        return list(self.session_counts())

    def session_counts(self) -> dict[str, int]:
        """{"user/name": its number of sessions} of every list that has any, from one
        reading of each."""
        counts = {path: len(self._sessions(path)) for path, _ in _list_files(self.root)}
        return {path: n for path, n in counts.items() if n}

    # --- storage

    def _path(self, path: str) -> str:
        if not isinstance(path, str):
            raise UrdError(f"an Urd list is named by a str, not {path!r}")
        if "/" not in path:
            path = f"{self.user}/{path}"
        user, _, name = path.partition("/")
        _check_part(user, "user")
        _check_part(name, "list name")
        return path

    def _file(self, path: str) -> Path:
        user, _, name = path.partition("/")
        return self.root / user / f"{name}.jsonl"

    def _sessions(self, path: str) -> dict[tuple, dict]:
        """{timestamp key: record} of the list now."""
        file = self._file(path)
        if not file.exists():
            return {}
        with _Log(file, write=False) as log:
            by_text = _replay(log.records())
        return {_Timestamp.parse(text).key: record for text, record in by_text.items()}

    def _response(self, path: str, record: dict) -> UrdResponse:
        user, _, build = path.partition("/")
        deps = DotDict()
        for dep_path, dep in record["deps"].items():
            deps[dep_path] = DotDict(
                timestamp=_Timestamp.parse(dep["timestamp"]).value,
                caption=dep["caption"],
                joblist=self._joblist(dep["joblist"]),
            )
        return UrdResponse(
            user=user,
            build=build,
            timestamp=_Timestamp.parse(record["timestamp"]).value,
            caption=record["caption"],
            joblist=self._joblist(record["joblist"]),
            deps=deps,
        )

    def _joblist(self, pairs: Iterable) -> JobList:
        jobs = JobList()
        for name, jobid in pairs:
            if workdir_name(jobid) in WORKDIRS:
                job = Job(jobid)
            else:
                job = Job(jobid, Path(self.workdir.path) / jobid)
            job.urd_name = name
            jobs.append(job)
        return jobs


def recorded_jobs(workdir: Path) -> dict[str, str]:
    """{jobid: where Urd records it} for every job a session of the workdir's lists names
    (its joblist or a dependency's): what `accnb gc` must keep."""
    found: dict[str, str] = {}
    for path, file in _list_files(Path(workdir) / "urd"):
        with _Log(file, write=False) as log:
            records = log.records()
        try:
            sessions = _replay(records)
        except (UrdError, LookupError, TypeError, ValueError, AttributeError) as e:
            # one bad list must not stop gc, and which sessions it holds is unknown: keep all
            warnings.warn(
                f"Urd list {path} has a record that cannot be read ({e}): keeping every job "
                "any of its records names",
                stacklevel=2,
            )
            for record in records:
                for jobid in _named_jobids(record):
                    found.setdefault(jobid, f"named in Urd list {path} (which cannot be read)")
            continue
        for stamp, record in sessions.items():
            for jobid in _named_jobids(record):
                found.setdefault(jobid, f"recorded in Urd list {path} at {stamp}")
    return found


def _named_jobids(record: Any) -> list[str]:
    """The job ids a session record names (its joblist and its deps' joblists), skipping
    whatever is not shaped as finish() writes it."""
    if not isinstance(record, dict):
        return []
    deps = record.get("deps")
    dep_records = deps.values() if isinstance(deps, dict) else ()
    joblists = [
        record.get("joblist"),
        *(d.get("joblist") for d in dep_records if isinstance(d, dict)),
    ]
    return [
        pair[1]
        for pairs in joblists
        if isinstance(pairs, list)
        for pair in pairs
        if isinstance(pair, list) and len(pair) == 2 and isinstance(pair[1], str)
    ]


def _list_files(root: Path) -> Iterator[tuple[str, Path]]:
    """("user/name", file) of every list file under an Urd root, in name order."""
    for file in sorted(root.glob("*/*.jsonl")):
        yield f"{file.parent.name}/{file.stem}", file


def _recorded(job: Job, name: str) -> Job:
    """The job, recorded under `name` (the Accelerator's Job(jobid, record_as))."""
    named = Job(str(job), job.path)
    named.reused = job.reused
    named.urd_name = name
    return named


def _check_part(part: str, what: str) -> None:
    if not part or part in (".", "..") or "/" in part or "\0" in part:
        raise UrdError(f"bad Urd {what} {part!r}: use a non-empty name without '/'")


def _replay(records: Iterable[dict]) -> dict[str, dict]:
    """{timestamp text: add record} after every record in order."""
    state: dict[str, dict] = {}
    for record in records:
        stamp = _Timestamp.parse(record["timestamp"])
        if record["op"] == "add":
            state[stamp.text] = record
        elif record["op"] == "truncate":
            state = {t: r for t, r in state.items() if _Timestamp.parse(t).key < stamp.key}
    return state


class _Log:
    """One list's file, flocked: exclusive to write, shared to read."""

    def __init__(self, file: Path, write: bool) -> None:
        self.file = file
        self.write = write

    def __enter__(self) -> _Log:
        if self.write:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            self.fd = os.open(self.file, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        else:
            self.fd = os.open(self.file, os.O_RDONLY)
        fcntl.flock(self.fd, fcntl.LOCK_EX if self.write else fcntl.LOCK_SH)
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)

    def records(self) -> list[dict]:
        with os.fdopen(os.dup(self.fd), "rb") as fh:
            fh.seek(0)
            data = fh.read()
        found = []
        for line in data.split(b"\n"):
            if not line:
                continue
            try:
                found.append(json.loads(line))
            except ValueError:
                continue  # a write cut short by a crash: never followed by a whole record
        return found

    def append(self, record: dict) -> None:
        line = json.dumps(record, sort_keys=True) + "\n"
        with os.fdopen(os.dup(self.fd), "rb") as fh:  # a cut-short last line ends here
            size = fh.seek(0, os.SEEK_END)
            if size:
                fh.seek(size - 1)
                if fh.read(1) != b"\n":
                    line = "\n" + line
        os.write(self.fd, line.encode("utf-8"))
        os.fsync(self.fd)


_TEXT = re.compile(r"(?P<when>[^+]+?)(?:\+(?P<n>\d+))?")


class _Timestamp:
    """A session timestamp: its value, canonical text and sort key."""

    def __init__(self, value: Any, text: str, key: tuple) -> None:
        self.value = value
        self.text = text
        self.key = key

    @classmethod
    def parse(cls, value: Any) -> _Timestamp:
        if isinstance(value, _Timestamp):
            return value
        if isinstance(value, bool):
            raise UrdError(f"bad Urd timestamp {value!r}: use an int, a date or a datetime")
        if isinstance(value, int) and value >= 0:
            return cls(value, str(value), (0, value))
        if isinstance(value, datetime | date):
            return cls._when(value, None)
        if isinstance(value, tuple | list) and len(value) == 2:
            when, n = value
            is_n = isinstance(n, int) and not isinstance(n, bool) and n >= 0
            if isinstance(when, datetime | date) and is_n:
                return cls._when(when, n)
        if isinstance(value, str):
            text = value.strip()
            if re.fullmatch(r"\d+", text):
                return cls.parse(int(text))
            m = _TEXT.fullmatch(text)
            if m:
                try:
                    when = _parse_when(m.group("when"))
                except ValueError:
                    pass
                else:
                    n = m.group("n")
                    return cls._when(when, None if n is None else int(n))
        raise UrdError(
            f"bad Urd timestamp {value!r}: use an int >= 0, a date, a datetime, a (date or "
            "datetime, int >= 0) tuple, or their text (3, 2024-05-01, 2024-05-01T12:00, "
            "2024-05-01+3)"
        )

    @classmethod
    def _when(cls, when: date, n: int | None) -> _Timestamp:
        is_datetime = isinstance(when, datetime)
        if is_datetime and when.tzinfo is not None:
            # its isoformat() ("...+00:00") is no timestamp text, so the list could not be read
            raise UrdError(
                f"bad Urd timestamp {when!r}: it has a timezone; pass a naive (UTC) datetime"
            )
        moment = when if is_datetime else datetime(when.year, when.month, when.day)
        text = when.isoformat() + ("" if n is None else f"+{n}")
        value = when if n is None else (when, n)
        return cls(value, text, (1, moment, is_datetime, n is not None, n or 0))

    @classmethod
    def from_key(cls, key: tuple) -> _Timestamp:
        if key[0] == 0:
            return cls.parse(key[1])
        moment, is_datetime, has_n, n = key[1:]
        when = moment if is_datetime else moment.date()
        return cls._when(when, n if has_n else None)


def _parse_when(text: str) -> date:
    if "T" in text or " " in text:
        return datetime.fromisoformat(text)
    return date.fromisoformat(text)
