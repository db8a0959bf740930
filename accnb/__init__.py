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
from .workdir import Workdir

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
    "subjobs",
]
