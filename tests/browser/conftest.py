"""Browser tests: the Voilà app in Debian's Chromium, driven by Playwright (sync API).

No browser download: Playwright launches ``/usr/bin/chromium`` (``WORKBENCH_CHROMIUM`` to
override). Voilà runs as a subprocess on a free port, with ``ORCHESTRATOR_PORT`` set to another
free port so the app's kernel starts the sync service there. Screenshots go to
``test-artifacts/`` (gitignored). Tests wait on DOM markers, never on sleeps.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"

# one app runner for the tests and the UI benchmark (benchmarks/app_in_browser.py)
sys.path.insert(0, str(ROOT / "benchmarks"))
from app_in_browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from app_in_browser import voila_app as run_voila  # noqa: E402


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


# Module scope: Playwright's sync API holds an event loop on the main thread while it runs,
# so it must be gone before the asyncio-based service tests that follow.
@pytest.fixture(scope="module")
def voila_app(artifacts, tmp_path_factory):
    """The Voilà app running on a free port: dict(url, service_port, folder, log)."""
    if not (Path(sys.executable).parent / "voila").exists():
        pytest.skip("voila is not installed in this environment")
    with run_voila(tmp_path_factory.mktemp("generated"), artifacts / "voila.log",
                   "--pool_size=1", WORKBENCH_UI_LOG=str(artifacts / "ui.log")) as app:
        yield app


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
