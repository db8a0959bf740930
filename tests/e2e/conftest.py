"""Fixtures for browser (end-to-end) tests: a live Jupyter server and a headless Chromium.

* ``voila_server`` / ``lab_server`` / ``notebook_server``: Voila, JupyterLab 4 or
  Notebook 7 on 127.0.0.1, a free port, no token, isolated config/settings dirs, serving
  a throw-away folder with the test notebook (``widgets_notebook.py``) and a copy of
  ``notebooks/``; stopped with SIGTERM (the server then shuts its kernels down), SIGKILL
  as a fallback.
* ``browser``: the *system* Chromium (Debian package ``chromium``) driven by Playwright.
  ``executable_path`` points at it, so Playwright never needs a browser download.
* ``page``: a fresh browser context per test; uncaught JS errors land in ``page_errors``,
  alert/confirm/prompt dialogs (dismissed) in ``page_dialogs``; a screenshot is saved when
  the test fails.

Environment: CHROMIUM_PATH (default /usr/bin/chromium); E2E_ARTIFACTS_DIR (screenshots
and server logs; default: test-artifacts/); E2E_REQUIRED=1 turns skips into failures.

Adapted from shared/recipes/tests/e2e/conftest.py (the tested setup for Debian's Chromium,
JupyterLab 4 and Voila); see its README for the pitfalls these lines avoid.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
sys.path.insert(0, str(Path(__file__).parent))  # widgets_notebook, beside this file
from widgets_notebook import write_notebook  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # Chromium refuses to start as root (CI containers) without it
    "--disable-gpu",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--disable-background-networking",  # on a closed network these calls fail by the dozen
    "--disable-component-update",
    "--no-proxy-server",  # the servers are on loopback; an http_proxy in CI must not apply
    # A page's CDN request (Voila asks a public CDN for Font Awesome) then fails at once
    # on an offline CI machine instead of waiting for DNS.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
SERVER_START_TIMEOUT = 90  # seconds; a cold first start on CI is the slowest

# JupyterLab user settings, one JSON file per plugin, written before the server starts.
LAB_SETTINGS = {
    # the "get notified about official Jupyter news?" toast would cover part of the page
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    # keep every cell in the DOM, so selectors find outputs below the fold
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    # a slow run must never write executed outputs back into the notebook
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def isolated_env(home: Path) -> dict[str, str]:
    """Environment whose per-user Jupyter/IPython dirs live in `home`, so a developer's
    own config (a password, extensions, IPython startup files) cannot change the test."""
    env = dict(os.environ)
    for var in (
        "JUPYTER_CONFIG_DIR",
        "JUPYTER_DATA_DIR",
        "JUPYTER_RUNTIME_DIR",
        "JUPYTERLAB_SETTINGS_DIR",
        "JUPYTERLAB_WORKSPACES_DIR",
        "IPYTHONDIR",
    ):
        env[var] = str(home / var.lower())
        os.makedirs(env[var], exist_ok=True)
    for plugin, values in LAB_SETTINGS.items():
        path = Path(env["JUPYTERLAB_SETTINGS_DIR"]) / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    return env


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _wait_until_serving(proc: subprocess.Popen, url: str, log_path: Path) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no *_proxy
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        # a server that exits at once (e.g. JupyterLab as root without --allow-root)
        # must fail the test now, not after the whole timeout
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode}:\n{_tail(log_path)}")
        try:
            opener.open(url + "/api/status", timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # any HTTP answer means it serves (Voila has no /api/status: 404)
        except OSError:
            time.sleep(0.25)
    raise TimeoutError(f"server not serving after {SERVER_START_TIMEOUT}s:\n{_tail(log_path)}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


@contextlib.contextmanager
def jupyter_server(
    kind: str, root: Path, workdir: Path, log_dir: Path | None = None, notebook: Path | None = None
) -> Iterator[str]:
    """Run a Voila ("voila"), JupyterLab ("lab") or Notebook 7 ("notebook") server; yield its URL.

    root: the folder served. workdir: scratch space for the isolated Jupyter dirs.
    log_dir: where the server log goes (default: workdir). notebook: Voila only; serve
    this one notebook at "/" instead of the folder at /voila/render/<name>.
    """
    port = free_port()
    env = isolated_env(workdir / f"{kind}-home")
    if kind == "voila":
        argv = [
            sys.executable,
            "-m",
            "voila",
            str(notebook or root),
            "--no-browser",
            f"--port={port}",
            "--Voila.ip=127.0.0.1",
            "--show_tracebacks=True",
        ]
    elif kind in ("lab", "notebook"):
        app = "jupyterlab" if kind == "lab" else "notebook"
        argv = [
            sys.executable,
            "-m",
            app,
            "--no-browser",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.root_dir={root}",
            "--IdentityProvider.token=",  # no token or password: loopback test server
            "--allow-root",  # lab exits at once as root without it; harmless otherwise
            "--LabApp.extension_manager=readonly",  # no package-index queries from the page
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
    else:
        raise ValueError(f"unknown server kind {kind!r}: use 'voila', 'lab' or 'notebook'")
    log_path = (log_dir or workdir) / f"{kind}-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            argv,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_until_serving(proc, url, log_path)
            yield url
        finally:
            _stop(proc)
            print(f"\n{kind} server log: {log_path}")


def skip_or_fail(reason: str) -> None:
    """Skip, unless E2E_REQUIRED=1: set it in CI, so a missing browser cannot pass silently."""
    if os.environ.get("E2E_REQUIRED") == "1":
        pytest.fail(f"E2E_REQUIRED=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Screenshots and server logs: $E2E_ARTIFACTS_DIR, or test-artifacts/ (git-ignored)."""
    path = Path(os.environ.get("E2E_ARTIFACTS_DIR") or REPO / "test-artifacts").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def browser():
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        skip_or_fail(
            f"no Chromium at {CHROMIUM}: install Debian's 'chromium' package or set CHROMIUM_PATH"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("the 'playwright' Python package is not installed")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, timeout=60_000
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def notebook_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The served folder: notebooks/ copied, and the widget test notebook written."""
    dest = tmp_path_factory.mktemp("served") / "notebooks"
    shutil.copytree(
        NOTEBOOKS, dest, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "workdir*")
    )
    write_notebook(dest)
    return dest


# Both server fixtures take `browser` first, so a missing browser skips before any server starts.
@pytest.fixture(scope="module")
def voila_server(browser, notebook_copy: Path, tmp_path_factory, artifacts_dir: Path):
    """Open f"{voila_server}/voila/render/<name>.ipynb"."""
    with jupyter_server(
        "voila", notebook_copy, tmp_path_factory.mktemp("voila"), artifacts_dir
    ) as url:
        yield url


@pytest.fixture(scope="module")
def lab_server(browser, notebook_copy: Path, tmp_path_factory, artifacts_dir: Path):
    """Open f"{lab_server}/lab/tree/<name>.ipynb"."""
    with jupyter_server("lab", notebook_copy, tmp_path_factory.mktemp("lab"), artifacts_dir) as url:
        yield url


@pytest.fixture(scope="module")
def notebook_server(browser, notebook_copy: Path, tmp_path_factory, artifacts_dir: Path):
    """Open f"{notebook_server}/notebooks/<name>.ipynb"."""
    with jupyter_server(
        "notebook", notebook_copy, tmp_path_factory.mktemp("notebook"), artifacts_dir
    ) as url:
        yield url


@pytest.fixture
def page_errors() -> list[str]:
    return []


@pytest.fixture
def page_dialogs() -> list[str]:
    return []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)  # read by `page` to spot a failure


@pytest.fixture
def page(
    browser,
    page_errors: list[str],
    page_dialogs: list[str],
    artifacts_dir: Path,
    request: pytest.FixtureRequest,
):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.on("pageerror", lambda exc: page_errors.append(f"{exc}\n{exc.stack or ''}"))

    def on_dialog(dialog) -> None:  # an alert() from injected markup would land here
        page_dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        shot = artifacts_dir / f"FAILED-{request.node.name}.png"
        with contextlib.suppress(Exception):
            page.screenshot(path=str(shot), full_page=True)
            print(f"\nscreenshot of the failure: {shot}")
    context.close()
