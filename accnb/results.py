"""analysis_res: the slices' return values in slice order, with the Accelerator's merge_auto."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from numbers import Number
from pathlib import Path
from typing import Any

from .store import write_direct


def slice_result_name(sliceno: int) -> str:
    return f".analysis.{sliceno}.pickle"


def slice_result_path(job_path: Path, sliceno: int) -> Path:
    return job_path / slice_result_name(sliceno)


def save_slice_result(job_path: Path, sliceno: int, pickled: bytes) -> None:
    write_direct(slice_result_path(job_path, sliceno), pickled)


class AnalysisResults:
    """Iterates once over what each slice's analysis returned, loading lazily.

    A second iteration is an error rather than silently empty: treating analysis_res
    as a list is a common bug.
    """

    def __init__(self, job_path: Path, slices: int | list[int], received: dict[int, bytes]) -> None:
        """`received`: the slices' pickled results that came in memory; the others are
        in the slices' files."""
        numbers = range(slices) if isinstance(slices, int) else slices
        self._sources = [received.get(n) or slice_result_path(job_path, n) for n in numbers]
        self._iter: Iterator[Any] | None = None
        self._done = False

    def __iter__(self) -> AnalysisResults:
        return self

    def __next__(self) -> Any:
        if self._iter is None:
            self._iter = (self._load(source) for source in self._sources)
        try:
            return next(self._iter)
        except StopIteration:
            if self._done:
                raise RuntimeError("analysis_res is an iterator, don't re-use it") from None
            self._done = True
            raise

    @staticmethod
    def _load(source: bytes | Path) -> Any:
        if isinstance(source, bytes):
            return pickle.loads(source)
        with open(source, "rb") as fh:
            return pickle.load(fh)

    def merge_auto(self) -> Any:
        """Merge the slices' values: numbers add, lists extend, dicts merge down to a
        level of sets or counters, which update (the Accelerator's rules)."""
        if self._iter is not None:
            raise RuntimeError("Will not merge after iteration started")
        first = next(self)
        if isinstance(first, tuple):
            parts = list(zip(*([first] + list(self)), strict=True))
            return tuple(_merge(iter(column)) for column in parts)
        return _merge(_chain(first, self))


def _chain(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest


def _merge(values: Iterator[Any]) -> Any:
    data = next(values)
    if isinstance(data, Number):
        return sum(values, data)
    if isinstance(data, list):
        for part in values:
            data.extend(part)
        return data
    while not data:
        try:
            data = next(values)
        except StopIteration:
            return data  # all were empty
    depth = 0
    probe = data
    while hasattr(probe, "values"):
        if not probe:
            raise ValueError(f"merge_auto: empty value at depth {depth}")
        probe = next(iter(probe.values()))
        depth += 1
    if hasattr(probe, "update"):
        depth += 1
    if not depth:
        raise ValueError("merge_auto: the top level has no .values(): merge it yourself")

    def update(aggregate: Any, part: Any, level: int) -> None:
        if level == depth:
            aggregate.update(part)
            return
        for key, value in part.items():
            if key in aggregate:
                update(aggregate[key], value, level + 1)
            else:
                aggregate[key] = value

    for part in values:
        update(data, part, 1)
    return data
