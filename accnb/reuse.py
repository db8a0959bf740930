"""The reuse key of a build, and why a build runs instead of reusing (`why_build`)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import hashing


def reuse_key(
    method: str,
    method_hash: str,
    options: Any,
    inputs: dict[str, Any],
    slices: int,
    files: dict[str, str | None] | None = None,
) -> str:
    """What identifies a job: method name and hash, options with defaults filled,
    the ids of its input jobs and datasets, the slice count its datasets are cut in, and
    fingerprints of the input folders it declares. Never when, where or by whom it was built."""
    key = [method, method_hash, options, inputs, slices]
    if files:
        key.append(files)
    return hashing.json_digest(key)


@dataclass
class BuildPlan:
    """What a build would do: reuse a job, or run and why."""

    method: str
    reuses: str | None = None
    reasons: list[str] = field(default_factory=list)
    compared_with: str | None = None

    def __str__(self) -> str:
        if self.reuses:
            if self.reasons:  # what differs and does not count
                return f"{self.method}: reuses {self.reuses}: " + "; ".join(self.reasons)
            return f"{self.method}: reuses {self.reuses}, built with the same source, options and inputs"
        against = f" (compared with {self.compared_with})" if self.compared_with else ""
        return f"{self.method}: runs again{against}: " + "; ".join(self.reasons)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))


def explain(
    setup_new: dict[str, Any], candidates: list[dict[str, Any]], sources: Path
) -> BuildPlan:
    """Why a build with `setup_new` would run: its differences from the closest earlier job.

    `candidates` are the setups of finished jobs of the same method, newest last;
    `sources` is where method sources are stored by digest, for a line-level diff.
    """
    plan = BuildPlan(setup_new["method"])
    if not candidates:
        plan.reasons.append(
            f"no job of method {setup_new['method']!r} has been built in this workdir"
        )
        return plan
    best = min(reversed(candidates), key=lambda old: len(_differences(old, setup_new)))
    plan.compared_with = best["jobid"]
    plan.reasons = [
        _describe(kind, name, best, setup_new, sources)
        for kind, name in _differences(best, setup_new)
    ]
    if not plan.reasons:
        plan.reasons.append("nothing differs from it, but it is not finished")
    return plan


def _differences(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, str]]:
    """What differs, as (kind, name) pairs: cheap, so every candidate can be compared."""
    found = []
    if old["hash"] != new["hash"]:
        found.append(("source", ""))
    for kind in ("options", "inputs", "files"):
        before, after = old.get(kind, {}), new.get(kind, {})
        for name in sorted(set(before) | set(after)):
            if before.get(name) != after.get(name):
                found.append((kind, name))
    if old["slices"] != new["slices"]:
        found.append(("slices", ""))
    return found


def _describe(kind: str, name: str, old: dict[str, Any], new: dict[str, Any], sources: Path) -> str:
    if kind == "source":
        return _source_change(old, new, sources)
    if kind == "slices":
        return f"slices: {old['slices']} -> {new['slices']}"
    if kind == "files":
        return f"files under option {name} changed (added, removed or rewritten)"
    before, after = old[kind].get(name), new[kind].get(name)
    if kind == "options":
        return f"option {name}: {_show(before)} -> {_show(after)}"
    return f"input {name}: {_show_input(before)} -> {_show_input(after)}"


def _source_change(old: dict[str, Any], new: dict[str, Any], sources: Path) -> str:
    if old["source_digest"] == new["source_digest"]:
        return "a depend_extra file changed"
    try:
        before = (sources / f"{old['source_digest']}.py").read_text(encoding="utf-8")
    except FileNotFoundError:
        return "source changed"
    after = (sources / f"{new['source_digest']}.py").read_text(encoding="utf-8")
    changed = []
    matcher = difflib.SequenceMatcher(None, before.splitlines(), after.splitlines(), autojunk=False)
    for tag, _, _, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if j2 > j1:
            changed.append(f"{j1 + 1}" if j2 - j1 == 1 else f"{j1 + 1}-{j2}")
        else:
            changed.append(f"removed after {j1}")
    if not changed:
        return "a depend_extra file changed"
    return f"source changed (line{'s' if len(changed) > 1 or '-' in changed[0] else ''} {', '.join(changed)})"


def _show(value: Any) -> str:
    return "(default)" if value is None else repr(value)


def _show_input(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, list):
        return "[" + ", ".join(value) + "]"
    return f"{'dataset' if '/' in value else 'job'} {value}"
