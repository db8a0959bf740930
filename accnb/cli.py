"""The `accnb` command: run build scripts, show jobs, methods and Urd sessions, remove garbage.

Exit codes: 0 done, 1 something failed (a job, a build script, a method that does not
load), 2 the command line is wrong (argparse's usage errors, and a build script, workdir,
job or method it names that does not exist). Errors are one line on stderr; a failed job
also shows its method's traceback. accnb's own traceback is never shown for them.
"""

from __future__ import annotations

import argparse
import os
import reprlib
import sys
import tempfile
import time
import traceback
import types
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from . import gc
from .errors import AccnbError, JobError, MethodError, NoSuchJobError
from .job import FAILED, Job
from .options import (
    JobWithFile,
    OptionDefault,
    OptionEnum,
    OptionEnumValue,
    OptionString,
    RequiredOption,
    defaults,
    required,
)
from .output import TaggedPrinter
from .runner import format_method_traceback
from .store import FINISHED, read_json
from .urd import Urd, UrdError
from .workdir import Workdir

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

_repr = reprlib.Repr()
_repr.maxstring = 120
_repr.maxother = 120


class UsageError(AccnbError):
    """Something the command line names does not exist (exit code 2)."""


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.command(args)
    except JobError as e:
        print(e, file=sys.stderr)  # carries the method's traceback: that one is useful
        return EXIT_FAILED
    except UsageError as e:
        print(f"accnb: {e}", file=sys.stderr)
        return EXIT_USAGE
    except AccnbError as e:
        print(f"accnb: {e}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("accnb: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `accnb jobs | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="accnb", description="Build, reuse and inspect the jobs of an accnb workdir."
    )
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    def workdir_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("--workdir", default="workdir", metavar="DIR", help="default: ./workdir")

    def methods_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--methods",
            action="append",
            metavar="DIR",
            help="a folder of methods (repeat for more); default: ./methods if it exists",
        )

    run = commands.add_parser(
        "run",
        help="run main(urd) of a build script",
        description="Run main(urd) of a build script; urd.build builds or reuses a job, and "
        "urd.begin/finish record sessions in WORKDIR/urd (see accnb.urd). "
        "SCRIPT is a file, or NAME for build_NAME.py in the methods folders or here.",
    )
    run.add_argument("script", nargs="?", metavar="SCRIPT", help="default: ./build.py")
    workdir_arg(run)
    methods_arg(run)
    run.add_argument(
        "--slices", type=_positive, metavar="N", help="slices per job; default: the CPU count"
    )
    run.set_defaults(command=cmd_run)

    jobs = commands.add_parser(
        "jobs",
        help="list the jobs of a workdir, then the space they use",
        description="List the jobs of a workdir: method, state, time and how many jobs use "
        "each (as input, JobWithFile, subjob or through a dataset: what accnb gc keeps for "
        "them); then the space used, as accnb du shows it.",
    )
    workdir_arg(jobs)
    jobs.add_argument("--method", metavar="NAME", help="only the jobs of this method")
    jobs.set_defaults(command=cmd_jobs)

    job = commands.add_parser("job", help="show one job")
    job.add_argument("jobid", metavar="ID")
    workdir_arg(job)
    job.set_defaults(command=cmd_job)

    method = commands.add_parser("method", help="show a method: source, options and inputs")
    method.add_argument("name", metavar="NAME")
    methods_arg(method)
    method.set_defaults(command=cmd_method)

    collect = commands.add_parser(
        "gc",
        help="remove unfinished and failed jobs, and old finished ones if asked",
        description="Remove unfinished and failed jobs that no process is building, and "
        "unused lock files. With --older-than and/or --keep-latest, also finished jobs: "
        "given both, only those both would remove. A job that stays keeps every job it uses "
        "(inputs, JobWithFile options, subjobs, datasets' parents and previous), "
        "transitively. accnb du shows the space per method.",
    )
    workdir_arg(collect)
    collect.add_argument(
        "--older-than",
        type=_age,
        metavar="AGE",
        help="also remove finished jobs that finished longer ago than AGE: 45s, 90m, 12h, 30d, 2w",
    )
    collect.add_argument(
        "--keep-latest",
        type=_count,
        metavar="N",
        help="also remove finished jobs, but keep the N of each method that finished last",
    )
    collect.add_argument(
        "--dry-run", action="store_true", help="only say what would go and the space it frees"
    )
    collect.set_defaults(command=cmd_gc)

    du = commands.add_parser(
        "du",
        help="space used per method, by failed and unfinished jobs, and by .accnb",
        description="Space used by a workdir: the finished jobs of each method, the failed, "
        "unfinished and building jobs, and .accnb (index, locks, method sources). "
        "accnb gc frees space.",
    )
    workdir_arg(du)
    du.set_defaults(command=cmd_du)

    urd = commands.add_parser(
        "urd",
        help="show the Urd lists and sessions that build scripts recorded",
        description="Without WHAT: every Urd list of the workdir. WHAT is a list (user/name, "
        "or name for your own): its sessions; LIST/TIMESTAMP, LIST/latest or LIST/first: that "
        "session's caption, jobs and the sessions it read; LIST/since/TIMESTAMP: the sessions "
        "after it (as `ax urd`).",
    )
    urd.add_argument("what", nargs="?", metavar="WHAT")
    workdir_arg(urd)
    urd.set_defaults(command=cmd_urd)

    demo = commands.add_parser(
        "demo",
        help="sample images through import, thumbnails, shape histogram and export",
        description="Make sample images in DIR/images and run the image pipeline in the "
        "local workdir DIR/workdir, printing what it did and where the results are.",
    )
    demo.add_argument("directory", nargs="?", default="demo", metavar="DIR", help="default: ./demo")
    demo.set_defaults(command=cmd_demo)
    return parser


def cmd_urd(args: argparse.Namespace) -> int:
    wd = _open_workdir(args.workdir)
    urd = Urd(wd, verbose=False)
    if not args.what:
        counts = urd.session_counts()
        if not counts:
            print(f"no Urd lists in {wd.path} (a build script's urd.finish records them)")
        else:
            _print_table([(p, f"{n} sessions") for p, n in counts.items()], right=[1])
        return 0
    path, after, at = _urd_target(args.what, urd)
    if not _has_sessions(urd, path):
        raise UsageError(f"no Urd list {path!r} in {wd.path} (accnb urd lists them)")
    if at is None:
        for session in urd.history(path, after):
            jobs = len(session.joblist)
            print(f"{session.timestamp}  {jobs} job{'s' * (jobs != 1)}  {session.caption}".rstrip())
        return 0
    session = urd.peek(path, at)
    if not session:
        raise UsageError(f"no session {at} in Urd list {path!r} (accnb urd {path} lists them)")
    _field("list", path)
    _field("timestamp", session.timestamp)
    _field("caption", session.caption or "-")
    for dep, read in session.deps.items():
        _field("read", f"{dep} at {read.timestamp}")
    print("jobs")
    rows = [(name, str(job)) for name, job in session.joblist.as_tuples]
    _print_table(rows, indent="  ")
    return 0


def _urd_target(what: str, urd: Urd) -> tuple[str, Any, Any]:
    """(list, since, session) from `accnb urd`'s WHAT: LIST, LIST/since/TS or LIST/TS, where
    LIST is user/name or a name of the user's. Reads at most the two lists WHAT may name."""
    parts = what.split("/")
    if "since" in parts[1:]:
        cut = parts.index("since", 1)
        return _urd_list("/".join(parts[:cut]), urd.user), "/".join(parts[cut + 1 :]) or 0, None
    own = (
        len(parts) == 2
        and not _has_sessions(urd, what)
        and _has_sessions(urd, _urd_list(parts[0], urd.user))
    )
    if len(parts) >= 3 or own:  # LIST/TS: a two-part WHAT is a list unless NAME/TS fits
        return _urd_list("/".join(parts[:-1]), urd.user), None, parts[-1]
    return _urd_list(what, urd.user), 0, None


def _urd_list(name: str, user: str) -> str:
    return name if "/" in name else f"{user}/{name}"


def _has_sessions(urd: Urd, path: str) -> bool:
    try:
        return bool(urd.since(path, 0))
    except UrdError:  # not a list name at all
        return False


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import main as run_demo

    return run_demo(args.directory)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 0, got {text!r}")
    return value


def _age(text: str) -> float:
    try:
        return gc.parse_age(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _method_dirs(given: list[str] | None) -> list[str]:
    if given:
        return given
    return ["methods"] if Path("methods").is_dir() else []


def _open_workdir(path: str) -> Workdir:
    """An existing workdir, for commands that only look: they must not create one."""
    if not Path(path).is_dir():
        raise UsageError(f"workdir {path!r} does not exist (give another with --workdir DIR)")
    if not (Path(path) / ".accnb").is_dir():
        raise UsageError(f"{path!r} is not an accnb workdir: it has no .accnb folder")
    return Workdir(path)


# --- accnb run


def cmd_run(args: argparse.Namespace) -> int:
    method_dirs = _method_dirs(args.methods)
    script = _find_script(args.script, method_dirs)
    workdir = Workdir(args.workdir, slices=args.slices, methods=method_dirs)
    try:
        _run_script(script, Urd(workdir))
    except JobError:
        raise
    except AccnbError as e:
        raise AccnbError(f"{_where(script, e)}{e}") from None
    except Exception as e:  # noqa: BLE001 - the build script's own bug: show its traceback
        sys.stderr.write(format_method_traceback(e))
        return EXIT_FAILED
    return 0


def _find_script(name: str | None, method_dirs: list[str]) -> Path:
    """The build script: a file, or as `ax run NAME`, build_NAME.py in the methods or here."""
    if name is None:
        if Path("build.py").is_file():
            return Path("build.py")
        raise UsageError("no build.py here: give a build script, accnb run SCRIPT")
    if Path(name).is_file():
        return Path(name)
    if not name.isidentifier():
        raise UsageError(f"build script {name!r} does not exist")
    candidates = [Path(folder) / f"build_{name}.py" for folder in (*method_dirs, ".")]
    for path in candidates:
        if path.is_file():
            return path
    looked = ", ".join(str(p) for p in candidates)
    raise UsageError(f"no build script {name!r}: none of {looked} exists")


def _run_script(path: Path, urd: Urd) -> None:
    """Execute a build script as a fresh module and call its main(urd)."""
    source = path.read_text(encoding="utf-8")
    try:
        code = compile(source, str(path), "exec")
    except SyntaxError as e:
        raise AccnbError(
            f"build script {path} has a syntax error at line {e.lineno}: {e.msg}"
        ) from None
    module = types.ModuleType(path.stem)
    module.__file__ = str(path)
    sys.path.insert(0, str(path.resolve().parent))  # as `python SCRIPT`: its neighbours import
    exec(code, module.__dict__)
    build = getattr(module, "main", None)
    if not callable(build):
        raise AccnbError(f"build script {path} has no main(urd) function")
    build(urd)


def _where(script: Path, e: BaseException) -> str:
    """`script:line: ` of the script's last frame in the traceback, to prefix an error."""
    filename = str(script)
    line = None
    for frame, lineno in traceback.walk_tb(e.__traceback__):
        if frame.f_code.co_filename == filename:
            line = lineno
    return "" if line is None else f"{script}:{line}: "


# --- accnb jobs


def cmd_jobs(args: argparse.Namespace) -> int:
    wd = _open_workdir(args.workdir)
    locks = wd.store.meta / "locks"
    setups = {jobid: gc.read_setup(wd.path / jobid) for jobid in wd.store.all_jobs()}
    used = Counter(ref for jobid in setups for ref in gc.uses(wd.path / jobid))
    rows = [("job", "method", "state", "time", "used by")]
    for jobid, setup in setups.items():
        method = setup.get("method", "?")
        if args.method and method != args.method:
            continue
        path = wd.path / jobid
        total = _post(path).get("timings", {}).get("total")
        duration = "-" if total is None else f"{total:.2f} s"
        rows.append((jobid, method, gc.job_state(path, locks), duration, str(used[jobid])))
    if len(rows) == 1:
        which = f" of method {args.method!r}" if args.method else ""
        print(f"no jobs{which} in {wd.path}")
        return 0
    _print_table(rows, right=(3, 4))
    space = gc.space(wd.store)
    if args.method:
        space = [row for row in space if row.name == args.method]
    if space:
        print()
        _print_space(space)
    return 0


def _print_space(rows: list[gc.Space]) -> None:
    print("space used:")
    table = [
        (
            row.name,
            _size(row.size),
            f"{row.jobs} job{'s' if row.jobs > 1 else ''}" if row.jobs else "",
        )
        for row in rows
    ]
    if len(rows) > 1:
        table.append(("total", _size(sum(row.size for row in rows)), ""))
    _print_table(table, right=(1,), indent="  ")


def _post(path: Path) -> dict:
    try:
        return read_json(path / FINISHED)
    except (OSError, ValueError):
        return {}


def _print_table(rows: list[tuple[str, ...]], right: Iterable[int] = (), indent: str = "") -> None:
    right = set(right)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        print(indent + "  ".join(cells).rstrip())


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


# --- accnb job


def cmd_job(args: argparse.Namespace) -> int:
    wd = _open_workdir(args.workdir)
    try:
        job = wd.job(args.jobid)
    except NoSuchJobError as e:
        raise UsageError(f"{e} (accnb jobs lists them)") from None
    setup = gc.read_setup(job.path)
    state = gc.job_state(job.path, wd.store.meta / "locks")
    print(f"{job}  {setup.get('method', '?')}  {state}")
    if not setup:
        return 0
    _field("hash", setup["hash"])
    _field("source", setup.get("source_file", "?"))
    _field("slices", setup["slices"])
    options = ", ".join(f"{k} = {_repr.repr(v)}" for k, v in setup["options"].items())
    _field("options", options or "none (the method takes none)")
    inputs = ", ".join(f"{k} = {_input_text(v)}" for k, v in setup["inputs"].items())
    _field("inputs", inputs or "none")
    if setup.get("started"):
        _field("started", time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(setup["started"])))
    if job.why:
        _field("built as", "; ".join(job.why))
    if state == "failed":
        failure = read_json(job.path / FAILED)
        _field("failed", f"in {failure['part']}: {failure['exc_type']}: {failure['exc_message']}")
    if state == "finished":
        _show_finished(job)
    _show_datasets(job)
    printer = TaggedPrinter()
    printed = False
    for part in ("prepare", *map(str, range(setup["slices"])), "synthesis"):
        text = job.output(part)
        if text:
            if not printed:
                print("output:")
                printed = True
            printer(part, text if text.endswith("\n") else text + "\n")
    if not printed:
        _field("output", "none")
    return 0


def _field(label: str, value: Any) -> None:
    print(f"{label:<10} {value}")


def _input_text(value: str | list[str] | None) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(value) + "]"
    return value or "none"


def _show_finished(job: Job) -> None:
    timings = job.post.get("timings", {})
    parts = ", ".join(
        f"{part} {timings[part]:.2f} s"
        for part in ("prepare", "analysis", "synthesis")
        if part in timings
    )
    _field("time", f"{timings.get('total', 0):.2f} s ({parts})")
    if timings.get("per_slice"):
        _field("per slice", ", ".join(f"{t:.2f} s" for t in timings["per_slice"]))
    try:
        _field("result", _repr.repr(job.load()))
    except Exception:  # noqa: BLE001 - none, or of a class only the method's module has
        pass
    _field("files", ", ".join(job.files()) or "none")
    if job.post.get("subjobs"):
        _field("subjobs", ", ".join(job.post["subjobs"]))


def _show_datasets(job: Job) -> None:
    from .dataset import Dataset

    base = job.path / "datasets"
    names = sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
    if not names:
        return
    print("datasets:")
    for name in names:
        try:
            ds = Dataset(job, name)
        except AccnbError as e:
            print(f"  {name}: {e}")
            continue
        columns = ", ".join(f"{c.name} ({c.type})" for c in ds.columns.values())
        print(f"  {name}: {len(ds)} lines, columns {columns or 'none'}")


# --- accnb method


def cmd_method(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as scratch:  # finding a method needs no real workdir
        wd = Workdir(Path(scratch) / "scratch", slices=1, methods=_method_dirs(args.methods))
        try:
            m = wd.get_method(args.name)
        except MethodError as e:
            if args.name not in wd.method_names():
                raise UsageError(str(e)) from None
            raise
    print(f"method {m.name}")
    _field("source", m.filename)
    _field("hash", m.hash)
    _field("parts", ", ".join(m.arguments) or "none")
    if m.description:
        print("description:")
        for line in m.description.splitlines():
            print(f"  {line}".rstrip())
    spec = m.options
    if spec:
        print("options:")
        values, needed = defaults(spec), required(spec)
        rows = [
            (
                name,
                _spec_text(spec[name]),
                "required" if name in needed else f"default {_repr.repr(values[name])}",
            )
            for name in sorted(spec)
        ]
        _print_table(rows, indent="  ")
    else:
        _field("options", "none")
    for kind, names in (("datasets", m.datasets), ("jobs", m.jobs)):
        shown = [f"[{n}] (a list)" if n in m.list_inputs else n for n in names]
        _field(kind, ", ".join(shown) or "none")
    return 0


def _spec_text(spec: Any) -> str:
    """An option spec in words: types by name, containers by what they hold."""
    if spec is None:
        return "anything"
    if isinstance(spec, RequiredOption):
        return _spec_text(spec.value) + (" or None" if spec.none_ok else "")
    if isinstance(spec, OptionDefault):
        return _spec_text(spec.value)
    if isinstance(spec, type(OptionString)):
        return f"non-empty str, e.g. {str(spec)!r}" if spec else "non-empty str"
    if isinstance(spec, OptionEnumValue):
        spec = spec._enum  # options.py has no public way from a member to its enum
    if isinstance(spec, OptionEnum):
        return repr(spec)
    if spec is JobWithFile or isinstance(spec, JobWithFile):
        return "JobWithFile"
    if isinstance(spec, type):
        return spec.__name__
    if isinstance(spec, dict):
        if not spec:
            return "dict"
        key, value = next(iter(spec.items()))
        key_name = key.__name__ if isinstance(key, type) else type(key).__name__
        return f"dict of {key_name}: {_spec_text(value)}"
    if isinstance(spec, list | tuple | set | frozenset):
        kind = "set" if isinstance(spec, set | frozenset) else "list"
        return f"{kind} of {_spec_text(next(iter(spec)))}" if spec else kind
    return type(spec).__name__


# --- accnb gc and accnb du


def cmd_gc(args: argparse.Namespace) -> int:
    wd = _open_workdir(args.workdir)
    removed, kept = gc.collect(
        wd.store, dry_run=args.dry_run, older_than=args.older_than, keep_latest=args.keep_latest
    )
    verb = "would remove" if args.dry_run else "removed"
    now = time.time()
    for item in removed:
        if item.state == "finished" and item.finished is not None:
            state = f"finished {_ago(now - item.finished)} ago"
        else:
            state = item.state
        if item.state not in ("lock", "spare"):
            print(f"{verb} {item.name} ({item.method}, {state}, {_size(item.size)})")
    for item in kept:
        print(f"kept {item.name}: {item.reason}")
    for state, what in (("lock", "unused lock file"), ("spare", "unused spare job folder")):
        count = sum(item.state == state for item in removed)
        if count:
            print(f"{verb} {count} {what}{'s' if count > 1 else ''}")
    if not removed:
        print("nothing to remove")
        return 0
    freed = _size(sum(item.size for item in removed))
    print(f"{'would free' if args.dry_run else 'freed'} {freed}")
    return 0


def _ago(seconds: float) -> str:
    for unit, size, switch in (("s", 1, 120), ("min", 60, 7200), ("h", 3600, 172800)):
        if seconds < switch:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds / 86400:.0f} days"


def cmd_du(args: argparse.Namespace) -> int:
    wd = _open_workdir(args.workdir)
    _print_space(gc.space(wd.store))
    return 0
