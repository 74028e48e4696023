"""Browser tests: the Voilà app in Debian's Chromium, driven by Playwright (sync API).

No browser download: Playwright launches ``/usr/bin/chromium`` (``WORKBENCH_CHROMIUM`` to
override). Voilà runs as a subprocess on a free port, with ``ORCHESTRATOR_PORT`` set to another
free port so the app's kernel starts the sync service there. Screenshots go to
``test-artifacts/`` (gitignored). Tests wait on DOM markers, never on sleeps.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("WORKBENCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    delay = 0.05
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"voila exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "api", timeout=2):
                return
        except urllib.error.HTTPError:
            return                      # it answers: good enough
        except OSError:
            time.sleep(delay)           # polling a port that is not listening yet
            delay = min(delay * 1.5, 0.5)
    raise RuntimeError(f"voila did not answer on {url}:\n{log.read_text()[-3000:]}")


# Module scope: Playwright's sync API holds an event loop on the main thread while it runs,
# so it must be gone before the asyncio-based service tests that follow.
@pytest.fixture(scope="module")
def voila_app(artifacts, tmp_path_factory):
    """The Voilà app running on a free port: dict(url, service_port, folder, log)."""
    if shutil.which("voila", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("voila is not installed in this environment")
    port, service_port = free_port(), free_port()
    folder = tmp_path_factory.mktemp("generated")
    log = artifacts / "voila.log"
    env = dict(os.environ, ORCHESTRATOR_PORT=str(service_port),
               ORCHESTRATOR_FOLDER=str(folder), WORKBENCH_UI_LOG=str(artifacts / "ui.log"))
    env.pop("PYTEST_CURRENT_TEST", None)
    voila = str(Path(sys.executable).parent / "voila")
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [voila, str(ROOT / "notebooks" / "app.ipynb"), "--no-browser", f"--port={port}",
             "--Voila.ip=127.0.0.1", "--Voila.root_dir=" + str(ROOT / "notebooks")],
            cwd=str(ROOT / "notebooks"), env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_http(url, proc, log)
        yield {"url": url, "service_port": service_port, "folder": folder, "log": log}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="wb-chromium-")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 1000})
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser, artifacts, request):
    page = browser.new_page()
    messages = []
    page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
    yield page
    name = request.node.name.replace("/", "_")
    try:
        page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)
    except Exception:
        pass
    (artifacts / f"{name}.console.txt").write_text("\n".join(messages))
    page.close()
