"""What this process is running: set by the runner, read by datasets, subjobs and methods.

Outside a job every name is None. Inside a job process `job` is the CurrentJob and
`workdir` the Workdir that started it; inside an analysis slice `sliceno` is set too.
"""

from __future__ import annotations

from typing import Any

job: Any = None
workdir: Any = None
slices: int | None = None
sliceno: int | None = None
part: str | None = None  # "prepare", "analysis" or "synthesis"
