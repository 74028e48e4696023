"""The Voilà app served on a free port, and Chromium timings in it: one piece shared by
``bench_ui.py --browser`` and ``tests/browser`` so that the figure and the test measure the same.

No browser download: Playwright launches Debian's ``/usr/bin/chromium`` (``WORKBENCH_CHROMIUM``
to override).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("WORKBENCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

PROGRESSION_32 = (
    "| C | Am | F | G | Dm7 | G7 | Cmaj7 | C7 |\n"
    "| F | Fm | Em7 | A7 | Dm7 | G7 | C | G7 |\n"
    "| C | Am | F | G | Dm7 | G7 | Cmaj7 | C7 |\n"
    "| F | Fm | Em7 | A7 | Dm7 | G7 | C | C |"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


@contextmanager
def voila_app(folder: Path, log: Path, *args: str, **env):
    """The app as ``make app`` runs it (``python -m workbench.ui.voila_app``, settings from
    voila.json; ``args`` add or override, e.g. ``--pool_size=1``) on a free port, its sync
    service on another, MIDI files into ``folder``; yields dict(url, service_port, folder, log,
    pid)."""
    port, service_port = free_port(), free_port()
    env = dict(os.environ, ORCHESTRATOR_PORT=str(service_port), ORCHESTRATOR_FOLDER=str(folder),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
               **env)
    env.pop("PYTEST_CURRENT_TEST", None)
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "workbench.ui.voila_app", "app.ipynb", f"--port={port}",
             "--Voila.port_retries=0", *args],
            cwd=str(ROOT / "notebooks"), env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_http(url, proc, log)
        yield {"url": url, "service_port": service_port, "folder": folder, "log": log,
               "pid": proc.pid}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def kernel_counts(url: str) -> dict:
    """``{"visitors", "pooled", "kernels", "max_kernels"}`` from the app's own status route."""
    with urllib.request.urlopen(url + "workbench/api/kernels", timeout=10) as resp:
        return json.loads(resp.read())


def app_rss_mb(pid: int) -> float:
    """Resident memory of the app: Voilà, its kernels and the sync service (MB)."""
    import psutil

    root = psutil.Process(pid)
    total = 0
    for proc in [root, *root.children(recursive=True)]:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            pass                    # a kernel that ended meanwhile
    return total / 2**20


# Time from a click in the page to the piano roll redrawn with the new band (kernel round trip,
# generation, widget state, comm message, canvas draw), measured in the page itself.
CLICK_TO_REDRAW_JS = """(n) => new Promise((resolve) => {
  const roll = document.querySelector('.wb-roll');
  const t0 = performance.now();
  const obs = new MutationObserver(() => {
    if (Number(roll.dataset.draws) > n) { obs.disconnect(); resolve(performance.now() - t0); }
  });
  obs.observe(roll, {attributes: true, attributeFilter: ['data-draws']});
  document.querySelector('.wb-variation button, button.wb-variation').click();
})"""


def click_to_redraw_ms(page, samples: int, timeout: float = 60_000) -> list[float]:
    """``samples`` clicks on "New variation" in the open app, each timed until the roll is
    redrawn. Waits for the previous band's audio first: time the band, not a concurrent render."""
    times = []
    for _ in range(samples):
        page.wait_for_selector(".wb-player[data-audio='ready']", timeout=timeout)
        draws = int(page.locator(".wb-roll").first.get_attribute("data-draws"))
        times.append(page.evaluate(CLICK_TO_REDRAW_JS, draws))
    return times


# Time from a click on Generate to the player saying Play would sound (data-audio="playable" or
# "ready" for the new render), measured in the page; then, once all of it is here, the bytes of
# compressed audio the page received for that render.
CLICK_TO_PLAYABLE_JS = """() => new Promise((resolve) => {
  const player = document.querySelector('.wb-player');
  const before = player.dataset.version;
  const t0 = performance.now();
  let playable = null;
  const check = () => {
    if (player.dataset.version === before) return;
    const state = player.dataset.audio;
    if (playable === null && (state === 'playable' || state === 'ready')) {
      playable = performance.now() - t0;
    }
    if (state === 'ready') {
      obs.disconnect();
      resolve({playable_ms: playable, ready_ms: performance.now() - t0,
               bytes: Number(player.dataset.bytes), version: player.dataset.version});
    }
  };
  const obs = new MutationObserver(check);
  obs.observe(player, {attributes: true, attributeFilter: ['data-audio', 'data-version']});
  document.querySelector('.wb-generate').click();
})"""


def click_to_playable(page, timeout: float = 120_000) -> dict:
    """Click Generate in the open app; returns dict(playable_ms, ready_ms, bytes, version):
    click -> Play would sound, click -> every block here, compressed bytes received."""
    page.wait_for_selector(".wb-player[data-audio='ready']", timeout=timeout)
    return page.evaluate(CLICK_TO_PLAYABLE_JS)
