"""How builds report to whoever started them: live output tagged by part, why, progress, reuse.

A `Reporter` gets every event of one build. The terminal one prints; the notebook extension
installs its own (`reporter_factory`), which throttles floods and replays reused output.
Job processes always use the terminal one: they must never touch a kernel's display.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO


def part_tag(part: str) -> str:
    """The tag of an output line: analysis slices are numbered, prepare and synthesis named."""
    return f"[slice {part}] " if part.isdigit() else f"[{part}] "


class TaggedPrinter:
    """Prints complete lines, tagged, as they arrive; at most `max_lines` per part.

    Parts interleave, so a line is held until its newline arrives (or the part ends)
    instead of being glued to another part's half line. Past `max_lines`, lines are
    counted instead of printed, and `close` says how many were held back.
    """

    def __init__(self, stream: TextIO | None = None, max_lines: int | None = None) -> None:
        self._stream = stream
        self._max_lines = max_lines
        self._partial: dict[str, str] = {}
        self._shown: dict[str, int] = {}
        self._held: dict[str, int] = {}

    def __call__(self, part: str, text: str) -> None:
        text = self._partial.pop(part, "") + text
        lines = text.split("\n")
        if lines[-1]:
            self._partial[part] = lines[-1]
        self._print(part, lines[:-1])

    def _print(self, part: str, lines: list[str]) -> None:
        if self._max_lines is not None:
            room = max(self._max_lines - self._shown.get(part, 0), 0)
            if len(lines) > room:
                self._held[part] = self._held.get(part, 0) + len(lines) - room
                lines = lines[:room]
            self._shown[part] = self._shown.get(part, 0) + len(lines)
        if lines:
            tag = part_tag(part)
            self.write("".join(f"{tag}{line}\n" for line in lines))

    def close(self) -> None:
        """Print what is left of unfinished lines, and what was held back."""
        for part, text in sorted(self._partial.items()):
            self._print(part, [text])
        self._partial.clear()
        for part, count in sorted(self._held.items()):
            where = f"job.output({part})" if part.isdigit() else f"job.output({part!r})"
            self.write(f"{part_tag(part)}... {count} more lines held back; {where} has them all\n")
        self._held.clear()

    def write(self, text: str) -> None:
        stream = self._stream or sys.stdout  # looked up late: a notebook swaps sys.stdout per cell
        stream.write(text)
        stream.flush()


class Reporter:
    """The events of one build, printed as text (a terminal, a log, nbconvert)."""

    def __init__(self, stream: TextIO | None = None, max_lines: int | None = None) -> None:
        self.printer = TaggedPrinter(stream, max_lines)
        self._started = 0.0
        self._parts = 0
        self._done = 0
        self._rows = 0

    def started(self, jobid: str, method: str, why: Any, slices: int) -> None:
        """A job starts running; `why` is the BuildPlan that says why it is not reused."""
        self._started = time.monotonic()
        self._parts = slices
        if why is not None and why.compared_with:  # a first build needs no explaining
            self.printer.write(f"[build] {jobid}: {why}\n")

    def output(self, part: str, text: str) -> None:
        self.printer(part, text)

    def part_done(self, part: str, rows: int | None = None) -> None:
        """A part's processes are gone (its output pipe closed); a slice wrote `rows` rows."""
        if part.isdigit():
            self._done += 1
            self._rows += rows or 0

    def finished(self, job: Any) -> None:
        self.printer.close()

    def failed(self) -> None:
        self.printer.close()

    def reused(self, job: Any) -> None:
        """A build found a finished job: nothing runs, nothing is printed by default."""

    def progress(self) -> str:
        rows = f", {self._rows} rows written" if self._rows else ""
        return f"{self._done}/{self._parts} slices done{rows}, {time.monotonic() - self._started:.1f} s"


class RelayReporter(Reporter):
    """Hands only the output to a `relay(part, text)` callable, for callers that want it raw."""

    def __init__(self, relay: Callable[[str, str], None]) -> None:
        super().__init__()
        self._relay = relay

    def output(self, part: str, text: str) -> None:
        self._relay(part, text)

    def started(self, jobid: str, method: str, why: Any, slices: int) -> None:
        pass

    def finished(self, job: Any) -> None:
        pass

    def failed(self) -> None:
        pass


reporter_factory: Callable[[], Reporter] = Reporter
