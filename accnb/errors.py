"""Errors users can catch: each says what went wrong and what to do."""

from __future__ import annotations


class AccnbError(Exception):
    """Base of every error accnb raises on purpose."""


class OptionError(AccnbError):
    """An option given to a build is unknown, missing or of the wrong type."""


class MethodError(AccnbError):
    """A method cannot be found or loaded (unknown name, syntax error, bad declaration)."""


class WorkdirError(AccnbError):
    """A workdir or a job in it cannot be used as asked (missing, unfinished, corrupt)."""


class DatasetError(AccnbError):
    """A dataset cannot be written or read as asked (bad value, missing column, corrupt file)."""


class NoSuchJobError(WorkdirError, KeyError):
    """A job id names no job in the workdir."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class JobError(AccnbError):
    """A job failed while running: names the part, the original exception and its traceback.

    `part` is "prepare", "analysis(N)" or "synthesis"; `sliceno` is N for analysis;
    `exc_type` and `exc_message` describe the original exception (which may not be
    picklable, so only its description crosses the process boundary); `method_traceback`
    is the formatted traceback, with frames inside accnb left out.
    """

    def __init__(
        self,
        jobid: str,
        method: str,
        part: str,
        exc_type: str,
        exc_message: str,
        method_traceback: str = "",
        sliceno: int | None = None,
    ) -> None:
        self.jobid = jobid
        self.method = method
        self.part = part
        self.sliceno = sliceno
        self.exc_type = exc_type
        self.exc_message = exc_message
        self.method_traceback = method_traceback
        super().__init__(jobid, method, part, exc_type, exc_message)

    def __str__(self) -> str:
        text = f"{self.method} ({self.jobid}) failed in {self.part}: {self.exc_type}: {self.exc_message}"
        if self.method_traceback:
            text += "\n" + self.method_traceback.rstrip()
        return text
