"""The Accelerator's option typing: option specs, their defaults, and checking a build's options."""

from __future__ import annotations

import difflib
import json
import re
import reprlib
from collections import namedtuple
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from pathlib import PurePath
from typing import Any

from .errors import MethodError, OptionError

__all__ = [
    "DotDict",
    "JobWithFile",
    "OptionDefault",
    "OptionEnum",
    "OptionString",
    "RequiredOption",
    "canonical",
    "check_options",
    "defaults",
    "required",
]


class DotDict(dict):
    """A dict whose items also read and write as attributes: `options.quality`.

    Names starting with _ stay attributes, so pickle and copy find what they look for.
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        if name[:1] == "_":
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name[:1] == "_":
            raise AttributeError(f"{name!r}: names starting with _ are items only, use d[{name!r}]")
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None


class JobWithFile(namedtuple("JobWithFile", "job name sliced extra", defaults=(False, None))):
    """A file in another job as an option value; `job` is a Job or a job id."""

    __slots__ = ()

    @property
    def jobid(self) -> str:
        return str(self.job) if isinstance(self.job, str) else self.job.jobid

    def _job(self) -> Any:
        from .job import Job

        return self.job if isinstance(self.job, Job) else Job(self.jobid)

    def _sliceno(self, sliceno: int | None) -> int | None:
        if self.sliced and sliceno is None:
            raise ValueError(f"{self.name!r} is sliced: give sliceno")
        if not self.sliced and sliceno is not None:
            raise ValueError(f"{self.name!r} is not sliced: give no sliceno")
        return sliceno

    def filename(self, sliceno: int | None = None) -> str:
        """The file's path (of one slice, for a sliced file)."""
        return self._job().filename(self.name, self._sliceno(sliceno))

    def open(self, mode: str = "r", sliceno: int | None = None, encoding: str | None = None):
        return self._job().open(self.name, mode, self._sliceno(sliceno), encoding)

    def load(self, sliceno: int | None = None) -> Any:
        """Unpickle the file, as the Accelerator's JobWithFile.load."""
        return self._job().load(self.name, self._sliceno(sliceno))


class OptionEnumValue(str):
    """A member of an OptionEnum: the str default that still knows the permitted values."""

    __slots__ = ("_enum",)

    def __new__(cls, value: str, enum: OptionEnum) -> OptionEnumValue:
        self = super().__new__(cls, value)
        self._enum = enum
        return self

    def __reduce__(self) -> tuple:
        return OptionEnumValue, (str(self), self._enum)


class OptionEnum:
    """The strs an option permits: `OptionEnum("fast slow")`, "fast, slow" or ["fast", "slow"].

    A value ending in * permits every str starting with the rest (`enum["fooish"]` for
    "foo*"). As a spec the enum itself is required (unless none_ok, then default None) and
    a member, `enum.fast` or `enum["fast"]`, is the default.
    """

    __slots__ = ("_values", "_none_ok", "_members", "_prefixes")

    def __init__(self, values: str | Iterable[str], none_ok: bool = False) -> None:
        if isinstance(values, str):
            values = values.replace(",", " ").split()
        self._values = tuple(values)
        self._none_ok = bool(none_ok)
        self._members = {v: OptionEnumValue(v, self) for v in self._values}
        self._prefixes = tuple(v[:-1] for v in self._values if v.endswith("*"))

    def __getattr__(self, name: str) -> OptionEnumValue:
        if name[:1] != "_" and name in self._members:
            return self._members[name]
        raise AttributeError(name)

    def __getitem__(self, name: str) -> OptionEnumValue:
        if name in self._members:
            return self._members[name]
        if isinstance(name, str) and name.startswith(self._prefixes):
            return OptionEnumValue(name, self)
        raise KeyError(name)

    def _permits(self, value: Any) -> bool:
        if value is None:
            return self._none_ok
        return isinstance(value, str) and (
            value in self._members or value.startswith(self._prefixes)
        )

    def _describe(self) -> str:
        choices = [repr(v) for v in self._values if not v.endswith("*")]
        choices += [f"a str starting with {p!r}" for p in self._prefixes]
        if self._none_ok:
            choices.append("None")
        if len(choices) == 1:
            return choices[0]
        return "one of " + ", ".join(choices[:-1]) + " or " + choices[-1]

    def __reduce__(self) -> tuple:
        return OptionEnum, (self._values, self._none_ok)

    def __repr__(self) -> str:
        none_ok = ", none_ok=True" if self._none_ok else ""
        return f"OptionEnum({' '.join(self._values)!r}{none_ok})"


class _OptionString(str):
    """Marks an option that must be a non-empty str; OptionString('example') only shows one."""

    __slots__ = ()

    def __call__(self, example: str) -> _OptionString:
        return _OptionString(example)

    def __repr__(self) -> str:
        return f"OptionString({str(self)!r})" if self else "OptionString"


OptionString = _OptionString("")


class RequiredOption:
    """Marks an option the build must give, as `value` (a spec) says; None only if none_ok."""

    __slots__ = ("value", "none_ok")

    def __init__(self, value: Any, none_ok: bool = False) -> None:
        self.value = value
        self.none_ok = none_ok

    def __repr__(self) -> str:
        return f"RequiredOption({self.value!r}, none_ok={self.none_ok})"


class OptionDefault:
    """A spec (`value`) with a separate default, for specs that would otherwise be required
    (`{"mode": OptionEnum("a b")}`) or default to empty; given None also means the default."""

    __slots__ = ("value", "default")

    def __init__(self, value: Any, default: Any = None) -> None:
        self.value = value
        self.default = default

    def __repr__(self) -> str:
        return f"OptionDefault({self.value!r}, default={self.default!r})"


class _Mismatch(Exception):
    """A value does not fit its spec; check_options adds the method and the option's path."""

    def __init__(self, problem: str, value: Any) -> None:
        self.problem = problem
        self.value = value
        self.outer_parts: list[str] = []  # filled innermost first while unwinding

    def at(self, part: str) -> _Mismatch:
        self.outer_parts.append(part)
        return self

    def message(self, method: str, name: str) -> str:
        path = name + "".join(reversed(self.outer_parts))
        value = self.value
        got = "None" if value is None else f"{reprlib.repr(value)} ({type(value).__name__})"
        return f"{method}: option '{path}' {self.problem}, got {got}"


class _BadSpec(Exception):
    """A spec the option typing cannot use; becomes a MethodError naming the method."""


def _index(i: Any) -> str:
    return f"[{i}]"


_PLAIN = frozenset({type(None), bool, int, float, str})
_TRUE = frozenset({"true", "1", "t", "yes", "on"})
_FALSE = frozenset({"false", "0", "f", "no", "off", ""})
_DATE_TYPES = (datetime, date, time, timedelta)
_TIMEDELTA_STR = re.compile(r"(?:(-?\d+) days?, )?(\d+):(\d\d):(\d\d(?:\.\d{1,6})?)")
_ANY = (
    "None, bool, int, float, str, a list, tuple, set or dict of those, "
    "a date, datetime, time, timedelta, Path or JobWithFile"
)
_ANY_LEAF = (str, int, float, PurePath, *_DATE_TYPES)
_ANY_KEY = (str, int, float, type(None))
_ANY_KEY_NAME = "str, int, float or None"


# Converters take a given value and return the normalised value or raise _Mismatch.


def _any(v: Any) -> Any:
    """Anything the Accelerator could send as JSON (spec None, `[]`, `{}`), normalised."""
    if type(v) in _PLAIN or isinstance(v, _ANY_LEAF):
        return v
    if isinstance(v, JobWithFile):
        return _job_with_file(v)
    if isinstance(v, list | tuple):
        return _each(_any, v)
    if isinstance(v, dict):
        return _dict_items(_ANY_KEY, _ANY_KEY_NAME, _any, v)
    if isinstance(v, set | frozenset):
        _each(_any, _sorted(v))
        return set(v)
    raise _Mismatch(f"must be {_ANY}", v)


def _each(convert: Callable[[Any], Any], items: Iterable) -> list:
    out = []
    for i, e in enumerate(items):
        try:
            out.append(convert(e))
        except _Mismatch as m:
            raise m.at(_index(i)) from None
    return out


def _dict_items(key_type: Any, key_name: str, convert: Callable, v: dict) -> DotDict:
    out = DotDict()
    for k, e in v.items():
        if not isinstance(k, key_type):
            raise _Mismatch(f"must have {key_name} keys", k)
        try:
            out[k] = convert(e)
        except _Mismatch as m:
            raise m.at(_index(k)) from None
    return out


def _sorted(items: Iterable) -> list:
    """Sets in a stable order, so lists made from them and error paths repeat across runs."""
    try:
        return sorted(items)
    except TypeError:
        return sorted(items, key=_sort_key)


def _sort_key(e: Any) -> str:
    try:
        return json.dumps(_canonical_value(e), sort_keys=True)
    except TypeError:  # a value check_options is about to reject
        return f"{type(e).__name__} {e!r}"


def _list_converter(element: Callable, make_set: bool, expected: str) -> Callable:
    def convert(v: Any) -> Any:
        if v is None:
            return None
        if isinstance(v, str):  # the Accelerator's command-line form, "a, b, c"
            items = [e.strip() for e in v.split(",")] if v else []
        elif isinstance(v, list | tuple):
            items = v
        elif isinstance(v, set | frozenset):
            items = _sorted(v)
        else:
            raise _Mismatch(f"must be {expected}", v)
        out = _each(element, items)
        if not make_set:
            return out
        try:
            return set(out)
        except TypeError:
            raise _Mismatch(f"must be {expected} of hashable values", v) from None

    return convert


def _dict_converter(key_type: type | None, element: Callable, expected: str) -> Callable:
    if key_type is None:
        key_type, key_name = _ANY_KEY, _ANY_KEY_NAME
    else:
        key_name = key_type.__name__

    def convert(v: Any) -> Any:
        if v is None:
            return None
        if not isinstance(v, dict):
            raise _Mismatch(f"must be {expected}", v)
        return _dict_items(key_type, key_name, element, v)

    return convert


def _int(v: Any) -> int | None:
    """A value spec like 3: numbers and numeric strs convert, but never with a fraction."""
    if type(v) is int or v is None:
        return v
    try:
        if isinstance(v, float) and not v.is_integer():
            raise ValueError(v)
        if isinstance(v, int | float | str):
            return int(v)
    except ValueError:
        pass
    raise _Mismatch("must be int", v)


def _float(v: Any) -> float | None:
    if type(v) is float or v is None:
        return v
    if isinstance(v, int | float | str):
        try:
            return float(v)
        except ValueError:
            pass
    raise _Mismatch("must be float", v)


def _str(v: Any) -> str | None:
    if type(v) is str or v is None:
        return v
    if isinstance(v, str | int | float):
        return str(v)
    raise _Mismatch("must be str", v)


def _bool(v: Any) -> bool | None:
    if type(v) is bool or v is None:
        return v
    if isinstance(v, str | int):
        text = str(v).lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise _Mismatch("must be bool (True, False, 1, 0, 'yes', 'no', 'on', 'off', ...)", v)


def _non_empty_str(v: Any) -> str:
    if isinstance(v, str | int | float) and v != "":
        return str(v)
    raise _Mismatch("must be a non-empty str", v)


def _instance_converter(t: type) -> Callable:
    """A type spec (`int`, `str`, `bool`): the value must already be one, as in the
    Accelerator; an int is also fine for `float`."""
    if t is float:

        def convert(v: Any) -> Any:
            if type(v) is float or v is None:
                return v
            if isinstance(v, int) and not isinstance(v, bool):
                return float(v)
            if isinstance(v, float):
                return float(v)
            raise _Mismatch("must be float", v)

        return convert
    problem = f"must be {t.__name__}"

    def convert(v: Any) -> Any:
        if isinstance(v, t) or v is None:
            return v
        raise _Mismatch(problem, v)

    return convert


def _parse_timedelta(v: str) -> timedelta:
    match = _TIMEDELTA_STR.fullmatch(v.strip())
    if not match:
        raise ValueError(v)
    days, hours, minutes, seconds = match.groups()
    return timedelta(
        days=int(days or 0), hours=int(hours), minutes=int(minutes), seconds=float(seconds)
    )


_DATE_EXPECTED = {
    date: "must be date (a date or an ISO 8601 str like '2019-11-06')",
    datetime: "must be datetime (a datetime, a date or an ISO 8601 str like '2019-11-06T17:37:02')",
    time: "must be time (a time or an ISO 8601 str like '17:37:02')",
    timedelta: "must be timedelta (a timedelta, seconds, or a str like '1 day, 2:03:04.5')",
}


def _date_converter(t: type) -> Callable:
    """Objects convert as their Accelerator JSON form would (a datetime given for a date
    keeps the date); strs are ISO 8601, or str(timedelta)'s form."""
    problem = _DATE_EXPECTED[t]

    def convert(v: Any) -> Any:
        if v is None or type(v) is t:
            return v
        if t is date and isinstance(v, datetime):
            return v.date()
        if isinstance(v, t):
            return v
        try:
            if isinstance(v, str):
                return _parse_timedelta(v) if t is timedelta else t.fromisoformat(v)
            if t is datetime and isinstance(v, date):
                return datetime(v.year, v.month, v.day)
            if t is time and isinstance(v, datetime):
                return v.timetz()
            if t is timedelta and isinstance(v, int | float) and not isinstance(v, bool):
                return timedelta(seconds=v)
        except (ValueError, OverflowError):
            pass
        raise _Mismatch(problem, v)

    return convert


def _path_converter(t: type) -> Callable:
    problem = f"must be {t.__name__} (a path or a str)"

    def convert(v: Any) -> Any:
        if v is None or type(v) is t:
            return v
        if isinstance(v, str | PurePath):
            return t(v)
        raise _Mismatch(problem, v)

    return convert


_JWF_EXPECTED = "must be JobWithFile (or a (job, name[, sliced[, extra]]) tuple)"


def _job_with_file(v: Any) -> JobWithFile | None:
    """Job, name, sliced and extra, checked; the job stays a Job object if given as one."""
    if v is None:
        return None
    if not isinstance(v, list | tuple) or not 2 <= len(v) <= 4:
        raise _Mismatch(_JWF_EXPECTED, v)
    job, name, sliced, extra = (*v, *(False, None)[len(v) - 2 :])
    if not (isinstance(job, str) and job) and not isinstance(getattr(job, "jobid", None), str):
        raise _Mismatch("must be a Job or a job id", job).at(".job")
    if isinstance(name, PurePath):
        name = str(name)
    if not isinstance(name, str) or not name or name.startswith("/"):
        raise _Mismatch("must be a file name relative to the job", name).at(".name")
    try:
        sliced = bool(_bool(sliced))
    except _Mismatch as m:
        raise m.at(".sliced") from None
    try:
        extra = _any(extra)
    except _Mismatch as m:
        raise m.at(".extra") from None
    return JobWithFile(job, name, sliced, extra)


def _enum_converter(enum: OptionEnum) -> Callable:
    problem = f"must be {enum._describe()}"

    def convert(v: Any) -> Any:
        if isinstance(v, str) and not v:  # the Accelerator's "not given" (command line)
            v = None
        if enum._permits(v):
            return None if v is None else str(v)
        raise _Mismatch(problem, v)

    return convert


def _required_converter(inner: Callable, none_ok: bool) -> Callable:
    def convert(v: Any) -> Any:
        if v is None and not none_ok:
            raise _Mismatch("is required", v)
        return inner(v)

    return convert


def _default_converter(inner: Callable, default: Any) -> Callable:
    def convert(v: Any) -> Any:
        return _copy(default) if v is None else inner(v)

    return convert


def _alike(a: Any, b: Any) -> bool:
    """Whether two element specs of one container mean the same, as the Accelerator insists."""
    if isinstance(a, type | OptionEnum) or isinstance(b, type | OptionEnum):
        return a is b
    if isinstance(a, OptionEnumValue) or isinstance(b, OptionEnumValue):
        return getattr(a, "_enum", None) is getattr(b, "_enum", None)
    return type(a) is type(b)


def _element(items: Iterable, path: str) -> Any:
    items = list(items)
    first = items[0]
    for other in items[1:]:
        if not _alike(first, other):
            raise _BadSpec(f"{path} mixes {first!r} and {other!r}: a container's specs must agree")
    return first


def _converter(spec: Any, path: str) -> Callable[[Any], Any]:
    """Compile one spec to a function checking and converting given values (per spec, once)."""
    if spec is None:
        return _any
    if isinstance(spec, RequiredOption):
        return _required_converter(_converter(spec.value, path), spec.none_ok)
    if isinstance(spec, OptionDefault):
        return _default_converter(_converter(spec.value, path), _plain_default(spec.default, path))
    if isinstance(spec, _OptionString):
        return _non_empty_str
    if isinstance(spec, OptionEnumValue):
        return _enum_converter(spec._enum)
    if isinstance(spec, OptionEnum):
        return _enum_converter(spec)
    if spec is JobWithFile or isinstance(spec, JobWithFile):
        return _job_with_file
    if isinstance(spec, type):
        return _type_converter(spec, path)
    t = type(spec)
    if t is bool:
        return _bool
    if isinstance(spec, _DATE_TYPES):
        return _date_converter(_date_base(t))
    if isinstance(spec, PurePath):
        return _path_converter(t)
    if isinstance(spec, int):
        return _int
    if isinstance(spec, float):
        return _float
    if isinstance(spec, str):
        return _str
    if isinstance(spec, dict):
        if not spec:
            return _dict_converter(None, _any, "a dict")
        key = _element(spec, f"{path} keys")
        key_type = key if isinstance(key, type) else type(key)
        if key_type not in (str, int):
            raise _BadSpec(f"{path} has {key_type.__name__} keys: dict keys must be str or int")
        element = _converter(_element(spec.values(), path), path)
        return _dict_converter(key_type, element, f"a dict of {key_type.__name__} keys")
    if isinstance(spec, list | tuple | set | frozenset):
        make_set = isinstance(spec, set | frozenset)
        expected = (
            "a set (or list, tuple or comma-separated str)"
            if make_set
            else ("a list (or tuple, set or comma-separated str)")
        )
        element = _converter(_element(spec, path), path) if spec else _any
        return _list_converter(element, make_set, expected)
    raise _BadSpec(f"{path} is {spec!r} ({t.__name__}), which is not an option spec")


def _date_base(t: type) -> type:
    return next(base for base in _DATE_TYPES if issubclass(t, base))


def _type_converter(t: type, path: str) -> Callable:
    if t in (int, str, bool, float):
        return _instance_converter(t)
    if issubclass(t, _DATE_TYPES):
        return _date_converter(_date_base(t))
    if issubclass(t, PurePath):
        return _path_converter(t)
    if t in (list, tuple):
        return _list_converter(_any, False, "a list (or tuple, set or comma-separated str)")
    if t in (set, frozenset):
        return _list_converter(_any, True, "a set (or list, tuple or comma-separated str)")
    if t is dict:
        return _dict_converter(None, _any, "a dict")
    raise _BadSpec(f"{path} is the type {t.__name__}, which options cannot hold")


def _plain_default(value: Any, path: str) -> Any:
    try:
        return _any(value)
    except _Mismatch as m:
        raise _BadSpec(f"{path} has a default that options cannot hold: {m.problem}") from None


def _default(spec: Any, path: str) -> Any:
    """What the Accelerator's params2defaults gives for one spec."""
    if isinstance(spec, RequiredOption):
        return _default(spec.value, path)
    if isinstance(spec, OptionDefault):
        return _plain_default(spec.default, path)
    if isinstance(spec, type | OptionEnum):
        return None
    if isinstance(spec, str):
        return str(spec)
    if isinstance(spec, JobWithFile):
        return spec
    if isinstance(spec, dict):
        d = DotDict((k, _default(v, path)) for k, v in spec.items())
        if len(spec) == 1 and None in d.values() and None not in spec.values():
            return DotDict()  # {str: int} is "no entries" by default, not {str: None}
        return d
    if isinstance(spec, list | tuple | set | frozenset):
        items = [_default(v, path) for v in spec]
        if items == [None] and list(spec) != [None]:
            items = []  # likewise [int]
        return set(items) if isinstance(spec, set | frozenset) else items
    return spec


def _is_required(spec: Any) -> bool:
    """The Accelerator's options2required: a marker anywhere but inside OptionDefault."""
    if isinstance(spec, _OptionString | RequiredOption):
        return True
    if isinstance(spec, OptionEnum):
        return not spec._none_ok
    if isinstance(spec, dict):
        return any(_is_required(v) for v in spec.values())
    if isinstance(spec, list | tuple | set | frozenset) and not isinstance(spec, JobWithFile):
        return any(_is_required(v) for v in spec)
    return False


def _copy(v: Any) -> Any:
    """A fresh copy of a default's containers, so a method changing its options changes no
    other build's defaults."""
    if isinstance(v, dict):
        return DotDict((k, _copy(e)) for k, e in v.items())
    if isinstance(v, list):
        return [_copy(e) for e in v]
    if isinstance(v, set):
        return set(v)
    if isinstance(v, JobWithFile):
        return JobWithFile(v.job, v.name, v.sliced, _copy(v.extra))
    return v


class _Compiled:
    """A spec made ready for checking: converters, defaults in sorted order, required names."""

    __slots__ = ("spec", "converters", "defaults", "mutable", "required")

    def __init__(self, spec: dict, method: str) -> None:
        prefix = f"{method}: " if method else ""
        try:
            for name in spec:
                if not isinstance(name, str):
                    raise _BadSpec(f"name {name!r} is not a str")
            self.converters = {name: _converter(s, repr(name)) for name, s in spec.items()}
            self.defaults = {name: _default(spec[name], repr(name)) for name in sorted(spec)}
        except _BadSpec as e:
            raise MethodError(f"{prefix}options spec {e}") from None
        self.spec = spec
        self.mutable = tuple(
            name
            for name, v in self.defaults.items()
            if isinstance(v, dict | list | set | JobWithFile)
        )
        self.required = frozenset(name for name, s in spec.items() if _is_required(s))


_compiled: dict[int, _Compiled] = {}


def _compile(spec: dict, method: str = "") -> _Compiled:
    """Specs are compiled once and looked up by identity: a method's spec must not change
    after its first build (a changed method is a new module with a new dict)."""
    compiled = _compiled.get(id(spec))
    if compiled is not None and compiled.spec is spec:
        return compiled
    compiled = _Compiled(spec, method)
    if len(_compiled) >= 1024:
        _compiled.clear()
    _compiled[id(spec)] = compiled  # holds spec, so its id is not reused while cached
    return compiled


def defaults(spec: dict) -> DotDict:
    """The options of a build that gives none (required ones get the Accelerator's
    placeholder: None, or the str of an OptionString)."""
    return DotDict((name, _copy(v)) for name, v in _compile(spec).defaults.items())


def required(spec: dict) -> set[str]:
    """Names a build must give: OptionString, RequiredOption, an OptionEnum without none_ok."""
    return set(_compile(spec).required)


def check_options(method: str, spec: dict, given: dict) -> DotDict:
    """The options a method sees: `given` checked and converted against `spec`, defaults
    filled. Raises OptionError naming the option, what was given and what was expected.

    A spec is a type (`int`, `date`: the value must be one, default None), a value (`75`:
    the default, and given values convert to its type), a container of one spec (`[int]`,
    `{str: int}`, `{str}`), or a marker: OptionEnum, OptionString, RequiredOption,
    OptionDefault, JobWithFile. The values are what the Accelerator's method sees after
    their JSON round trip: tuples are lists, dicts are DotDicts (in the given order), sets
    stay sets only for set specs, enum members are plain strs, dates and paths are objects.
    The options themselves are in sorted order.
    """
    compiled = _compile(spec, method)
    result = DotDict(compiled.defaults)
    converters = compiled.converters
    for name, value in given.items():
        convert = converters.get(name)
        if convert is None:
            raise OptionError(_unknown(method, name, spec))
        try:
            result[name] = convert(value)
        except _Mismatch as m:
            raise OptionError(m.message(method, name)) from None
    if compiled.required and not compiled.required.issubset(given):
        missing = sorted(compiled.required.difference(given))
        if len(missing) == 1:
            raise OptionError(f"{method}: option {missing[0]!r} is required")
        raise OptionError(f"{method}: options {', '.join(map(repr, missing))} are required")
    for name in compiled.mutable:
        if name not in given:
            result[name] = _copy(result[name])
    return result


def _unknown(method: str, name: Any, spec: dict) -> str:
    if not spec:
        return f"{method}: unknown option {name!r}: {method} takes no options"
    close = difflib.get_close_matches(str(name), [str(n) for n in spec], n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    known = ", ".join(map(repr, sorted(spec)))
    return f"{method}: unknown option {name!r}{hint}; the options are {known}"


def read_back_exactly(options: DotDict) -> bool:
    """Whether `canonical(options)`, as JSON, reads back equal to `options`, types and all:
    true when every value is None, a bool, int, float or str."""
    return all(type(v) in _PLAIN for v in options.values())


def canonical(options: DotDict) -> object:
    """The JSON form of normalised options for the reuse key: the same for equal options in
    any process. Keys sorted, tuples as lists, sets sorted, dates, paths and JobWithFile
    tagged ({"$date": "2019-11-06"}) so none equals a str or dict a user could give."""
    out = {}
    for k in sorted(options):
        v = options[k]
        out[k] = v if type(v) in _PLAIN else _canonical_value(v)
    return out


def _canonical_value(v: Any) -> Any:
    """The canonical JSON form of one normalised value (see `canonical`)."""
    if type(v) in _PLAIN:
        return v
    if isinstance(v, JobWithFile):
        return {"$JobWithFile": [v.jobid, v.name, v.sliced, _canonical_value(v.extra)]}
    if isinstance(v, list | tuple):
        return [_canonical_value(e) for e in v]
    if isinstance(v, dict):
        if all(type(k) is str for k in v):
            return {k: _canonical_value(v[k]) for k in sorted(v)}
        return {
            "$dict": _sorted([[_canonical_value(k), _canonical_value(e)] for k, e in v.items()])
        }
    if isinstance(v, set | frozenset):
        return _sorted([_canonical_value(e) for e in v])
    if isinstance(v, datetime):
        return {"$datetime": v.isoformat()}
    if isinstance(v, date):
        return {"$date": v.isoformat()}
    if isinstance(v, time):
        return {"$time": v.isoformat()}
    if isinstance(v, timedelta):
        return {"$timedelta": [v.days, v.seconds, v.microseconds]}
    if isinstance(v, PurePath):
        return {"$path": str(v)}
    for base in (bool, int, float, str):
        if isinstance(v, base):
            return base(v)
    raise TypeError(f"{reprlib.repr(v)} ({type(v).__name__}) is not a normalised option value")
