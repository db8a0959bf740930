"""Fixtures: a fresh workdir per test, and a way to write methods as files."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from accnb import current
from accnb.job import WORKDIRS


@pytest.fixture
def methods_dir(tmp_path: Path) -> Path:
    path = tmp_path / "methods"
    path.mkdir()
    return path


@pytest.fixture
def write_method(methods_dir: Path):
    """write_method(name, source): a method file `a_<name>.py` in the test's methods folder."""

    def write(name: str, source: str) -> Path:
        path = methods_dir / f"a_{name}.py"
        path.write_text(textwrap.dedent(source))
        return path

    return write


@pytest.fixture
def wd(tmp_path: Path, methods_dir: Path):
    import accnb

    workdir = accnb.Workdir(tmp_path / "wd", slices=2, methods=[methods_dir])
    yield workdir
    WORKDIRS.pop(workdir.store.name, None)


@pytest.fixture(autouse=True)
def _no_current_job():
    yield
    for name in ("job", "workdir", "slices", "sliceno", "part"):
        setattr(current, name, None)


@pytest.fixture
def interruptible():
    """SIGINT raises KeyboardInterrupt here, as in a terminal or a kernel, even when the test
    run was started in the background, where the shell makes processes ignore SIGINT."""
    import signal

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)
