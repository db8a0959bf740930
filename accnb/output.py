"""Showing what running jobs print: each line tagged with the part that printed it."""

from __future__ import annotations

import sys
from typing import TextIO


def part_tag(part: str) -> str:
    """The tag of an output line: analysis slices are numbered, prepare and synthesis named."""
    return f"[slice {part}] " if part.isdigit() else f"[{part}] "


class TaggedPrinter:
    """A relay that prints complete lines, tagged, as they arrive.

    Parts interleave, so a line is held until its newline arrives (or the part ends)
    instead of being glued to another part's half line.
    """

    def __init__(self, stream: TextIO | None = None, prefix: str = "") -> None:
        self._stream = stream
        self._prefix = prefix
        self._partial: dict[str, str] = {}

    def __call__(self, part: str, text: str) -> None:
        text = self._partial.pop(part, "") + text
        lines = text.split("\n")
        if lines[-1]:
            self._partial[part] = lines[-1]
        complete = lines[:-1]
        if complete:
            tag = self._prefix + part_tag(part)
            self._write("".join(f"{tag}{line}\n" for line in complete))

    def close(self) -> None:
        """Print what is left of unfinished lines."""
        for part, text in sorted(self._partial.items()):
            self._write(f"{self._prefix}{part_tag(part)}{text}\n")
        self._partial.clear()

    def _write(self, text: str) -> None:
        stream = self._stream or sys.stdout  # looked up late: a notebook swaps sys.stdout per cell
        stream.write(text)
        stream.flush()
