"""A benchmark figure with its baseline and targets, and the markdown table of them."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Target:
    """One goal for a figure: a ratio to the baseline to reach, or a value to stay under."""

    source: str  # where the goal was set: "issue 4", "bench/overhead.py"
    min_ratio: float | None = None
    max_value: float | None = None

    def label(self, unit: str) -> str:
        if self.min_ratio is not None:
            return f">= {self.min_ratio:g}x ({self.source})"
        return f"<= {self.max_value:g} {unit} ({self.source})"

    def met(self, value: float, ratio: float | None) -> bool | None:
        """True or False, or None when the ratio it needs has no baseline."""
        if self.min_ratio is not None:
            return None if ratio is None else ratio >= self.min_ratio
        return value <= self.max_value


@dataclass
class Figure:
    """One measured figure of accnb against one baseline.

    `ratio` is how many times better accnb is: value / baseline for rates, baseline / value
    for times (`lower_is_better`). `accelerator` is what the Accelerator did in this run (a
    formatted figure, or why it was skipped), shown beside the stated baseline.
    """

    name: str
    value: float
    unit: str
    baseline: float | None
    baseline_source: str
    targets: Sequence[Target] = ()
    lower_is_better: bool = False
    accelerator: str = "-"
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if not self.baseline or not self.value:
            return None
        return self.baseline / self.value if self.lower_is_better else self.value / self.baseline

    def cells(self) -> list[str]:
        ratio = self.ratio
        results = [t.met(self.value, ratio) for t in self.targets]
        return [
            self.name,
            f"{fmt(self.value)} {self.unit}",
            self.accelerator,
            "-"
            if self.baseline is None
            else f"{fmt(self.baseline)} {self.unit} ({self.baseline_source})",
            "-" if ratio is None else f"{ratio:.2f}x",
            "; ".join(t.label(self.unit) for t in self.targets) or "-",
            "; ".join({True: "pass", False: "**short**", None: "no baseline"}[r] for r in results)
            or "-",
        ]


HEADER = ["figure", "accnb", "the Accelerator, this run", "baseline", "ratio", "target", "result"]


def fmt(x: float) -> str:
    """Three significant digits, without exponent for the sizes these figures have."""
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    if x >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def markdown(figures: Iterable[Figure]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "| --- | ---: | ---: | --- | ---: | --- | --- |"]
    lines += ["| " + " | ".join(f.cells()) + " |" for f in figures]
    return "\n".join(lines)


def median(xs: Iterable[float]) -> float:
    return statistics.median(list(xs))


def spread(xs: Sequence[float], scale: float = 1.0, digits: int = 3) -> str:
    """'median (min..max)' of a list, scaled, for the detail tables."""
    return (
        f"{median(xs) * scale:.{digits}f} ({min(xs) * scale:.{digits}f}.."
        f"{max(xs) * scale:.{digits}f})"
    )
