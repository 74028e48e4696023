"""Runs ``juce/build/aiband_probe`` (the JUCE module's console program) and reads its JSON lines.

Shared by the end-to-end tests in this folder and ``benchmarks/bench_juce.py``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = ROOT / "juce" / "build" / "aiband_probe"
JUCE_MODULES = Path("/usr/share/juce/modules")
for extra in (ROOT, ROOT / "tests" / "server"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))


def juce_missing() -> str | None:
    """Why the probe cannot be built here (None when it can)."""
    if not (JUCE_MODULES / "juce_core" / "juce_core.h").exists():
        return f"JUCE modules not in {JUCE_MODULES}: run scripts/system-deps.sh (juce-modules-source)"
    if shutil.which("g++") is None or shutil.which("make") is None:
        return "g++ and make are needed: run scripts/system-deps.sh"
    return None


def build_probe() -> Path:
    """``make -C juce`` (a no-op when up to date); raises with the compiler's output."""
    proc = subprocess.run(["make", "-s", "-C", str(ROOT / "juce"), "all"], capture_output=True,
                          text=True, timeout=1200)
    if proc.returncode != 0:
        raise RuntimeError(f"make -C juce failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return PROBE


class Probe:
    """One ``aiband_probe`` process; its stdout lines parsed as JSON, as they come."""

    def __init__(self, url: str, plugin_id: str, *args: str):
        self.plugin_id = plugin_id
        self.lines: list[dict] = []
        self._cond = threading.Condition()
        self.proc = subprocess.Popen([str(PROBE), "--url", url, "--plugin-id", plugin_id, *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     bufsize=1)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            try:
                line = json.loads(raw)
            except ValueError:
                line = {"unparsed": raw}
            line.setdefault("t", time.time())
            with self._cond:
                self.lines.append(line)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_for(self, predicate, timeout: float = 30.0, what: str = "a line") -> dict:
        """The first line (old or new) for which ``predicate(line)`` is true."""
        deadline = time.monotonic() + timeout
        seen = 0
        with self._cond:
            while True:
                for line in self.lines[seen:]:
                    if predicate(line):
                        return line
                seen = len(self.lines)
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    tail = "\n".join(json.dumps(x)[:300] for x in self.lines[-15:])
                    raise AssertionError(f"probe {self.plugin_id}: no {what} within {timeout} s; "
                                         f"last lines:\n{tail}\nstderr: {self.stderr_text()}")
                self._cond.wait(min(left, 0.5))

    def stderr_text(self) -> str:
        if self.proc.poll() is None:
            return "(running)"
        return self.proc.stderr.read() if self.proc.stderr else ""

    def files(self) -> dict[str, dict]:
        """Parsed-file lines by file name."""
        with self._cond:
            return {x["file"]: x for x in self.lines if "file" in x}

    def events(self, type_: str | None = None) -> list[dict]:
        with self._cond:
            return [x["event"] for x in self.lines
                    if "event" in x and (type_ is None or x["event"].get("type") == type_)]

    def wait_files(self, names, timeout: float = 30.0) -> dict[str, dict]:
        names = set(names)
        self.wait_for(lambda _line: names <= set(self.files()), timeout,
                      f"parsed files {sorted(names)}")
        return self.files()

    def wait_exit(self, timeout: float = 30.0) -> int:
        code = self.proc.wait(timeout)
        self._reader.join(5)
        return code

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._reader.join(5)
