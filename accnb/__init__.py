"""accnb: the Accelerator's reproducible, sliced data processing, in Jupyter.

wd = accnb.Workdir("workdir", slices=2, methods=["methods"])
job = wd.build("import_images", directory="photos")
"""

from . import subjobs
from .errors import AccnbError, DatasetError, JobError, MethodError, OptionError, WorkdirError
from .job import Job
from .options import (
    DotDict,
    JobWithFile,
    OptionDefault,
    OptionEnum,
    OptionString,
    RequiredOption,
)
from .workdir import Workdir, build, current_workdir, use_workdir, why_build

__version__ = "0.1.0"

__all__ = [
    "AccnbError",
    "DatasetError",
    "DotDict",
    "Job",
    "JobError",
    "JobWithFile",
    "MethodError",
    "OptionDefault",
    "OptionEnum",
    "OptionError",
    "OptionString",
    "RequiredOption",
    "Workdir",
    "WorkdirError",
    "build",
    "current_workdir",
    "load_ipython_extension",
    "subjobs",
    "use_workdir",
    "why_build",
]


def load_ipython_extension(ipython) -> None:
    """`%load_ext accnb`: the magics, short tracebacks for failed jobs, `build` in the namespace."""
    from .notebook import load

    load(ipython)


def __getattr__(name: str):
    """`accnb.DaskExecutor` without importing distributed for everyone."""
    if name == "DaskExecutor":
        from .dask_executor import DaskExecutor

        return DaskExecutor
    raise AttributeError(f"module 'accnb' has no attribute {name!r}")
