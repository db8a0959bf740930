"""Watching processes from tests: is a pid alive, and the pids a method recorded."""

from __future__ import annotations

from pathlib import Path


def alive(pid: int) -> bool:
    """Running (a zombie, exited but not yet reaped, counts as dead)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def pids_in(folder: Path) -> list[int]:
    """The pids of the processes that each created an empty file named for their pid."""
    return [int(p.name) for p in folder.iterdir()]
