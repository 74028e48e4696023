"""The Voilà app in a real browser: type, generate, see the roll, the plugin gets the files."""

from __future__ import annotations

import json
import threading

import pytest

# the benchmark's own app runner and click -> redraw timing: test and figure measure the same
from app_in_browser import PROGRESSION_32, click_to_redraw_ms  # on sys.path via conftest.py

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROLL = ".wb-roll[data-ready='1']"
EIGHT_BARS = "| C | Am | F | G |\n| Dm7 | G7 | C | C |"
TIMEOUT = 60_000   # ms: the first load starts a kernel, imports music21 lazily, renders audio


class Plugin:
    """A DAW plugin stand-in using the independent ``websockets`` library."""

    def __init__(self, url: str):
        self.url = url
        self.messages: list[dict] = []
        self.cond = threading.Condition()
        self.ws = None
        self.connected = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        assert self.connected.wait(10), f"could not connect to {url}"

    def _read(self):
        from websockets.sync.client import connect

        with connect(self.url, open_timeout=10) as ws:
            self.ws = ws
            self.connected.set()
            try:
                while True:
                    msg = json.loads(ws.recv())
                    with self.cond:
                        self.messages.append(msg)
                        self.cond.notify_all()
            except Exception:
                pass

    def wait_for(self, predicate, timeout: float = 30.0) -> list[dict]:
        with self.cond:
            ok = self.cond.wait_for(lambda: predicate(self.messages), timeout=timeout)
            assert ok, f"plugin did not get what was expected; got {self.messages}"
            return list(self.messages)

    def close(self):
        self.ws.close()


def midi_ready(messages, after=0):
    return [m for m in messages[after:] if m.get("type") == "midi_ready"]


def test_type_generate_draw_and_sync(page, voila_app, artifacts):
    page.goto(voila_app["url"], timeout=TIMEOUT)
    page.wait_for_selector(ROLL, timeout=TIMEOUT)
    page.wait_for_selector(".wb-sync-url", state="attached", timeout=TIMEOUT)
    text = page.content()
    assert "Traceback" not in text
    assert page.locator(".jp-OutputArea-output[data-mime-type*='stderr']").count() == 0

    ws_port = voila_app["service_port"]
    plugin = Plugin(f"ws://127.0.0.1:{ws_port}/ws/browser-test-plugin")
    try:
        plugin.wait_for(lambda ms: any(m.get("type") == "connection_confirmed" for m in ms))
        seen = len(plugin.messages)

        box = page.locator(".wb-progression textarea")
        box.fill(EIGHT_BARS)
        page.locator(".wb-progression-check .wb-ok", has_text="8 bars").wait_for(timeout=TIMEOUT)
        page.locator(".wb-generate").click()
        page.wait_for_selector(".wb-roll[data-ready='1'][data-bars='8']", timeout=TIMEOUT)
        roll = page.locator(".wb-roll").first
        assert int(roll.get_attribute("data-notes")) > 50
        assert set(roll.get_attribute("data-tracks").split(",")) == {
            "bass", "drums", "keys", "pad", "guitar"}

        msgs = plugin.wait_for(lambda ms: len(midi_ready(ms, seen)) >= 6)
        files = midi_ready(msgs, seen)
        tracks = {m.get("track_type") for m in files}
        assert {"bass", "drums", "keys", "pad", "guitar", "band"} <= tracks
        assert all(m["filename"].endswith(".mid") for m in files)
        band = [m for m in files if m["track_type"] == "band"]
        assert band and band[-1]["duration"] == 32     # the 8 bars just typed, in beats
        page.wait_for_selector(".wb-player[data-audio='ready']", timeout=TIMEOUT)
        # play: the AudioContext starts in the click, the playhead moves on the piano roll
        page.locator(".wb-player .wb-play").click()
        page.wait_for_selector(".wb-roll[data-playing='1']", timeout=TIMEOUT)
        page.locator(".wb-player .wb-player-btn", has_text="Stop").click()
        page.wait_for_selector(".wb-roll[data-playing='0']", timeout=TIMEOUT)

        # the DAW's transport position comes back through the service: the roll's DAW playhead
        page.get_by_role("tab", name="Sync to DAW").click()
        page.locator(".wb-sync-follow input").check()
        plugin.ws.send(json.dumps({"type": "transport_update", "isPlaying": True,
                                   "currentBeat": 6.5, "tempo": 120}))
        page.wait_for_selector(".wb-roll[data-daw-beat='6.5']", timeout=TIMEOUT)
        assert page.locator(".wb-roll-dawhead").first.is_visible()
        page.wait_for_selector(".wb-sync-plugins tr[data-plugin='browser-test-plugin']",
                               timeout=TIMEOUT)
        page.get_by_role("tab", name="Band").click()
        page.set_viewport_size({"width": 1280, "height": 1450})   # the whole app in one shot
        page.screenshot(path=str(artifacts / "app.png"))
    finally:
        plugin.close()


def test_wrong_chord_is_named_inline(page, voila_app):
    page.goto(voila_app["url"], timeout=TIMEOUT)
    page.wait_for_selector(ROLL, timeout=TIMEOUT)
    page.locator(".wb-progression textarea").fill("| C | Am | Hx7 | G |")
    error = page.wait_for_selector(".wb-progression-check .wb-error", timeout=TIMEOUT)
    message = error.inner_text()
    assert "Hx7" in message
    assert "Bar 3" in message
    assert "detected: –" in page.inner_text(".wb-detected")   # no stale key
    assert "Traceback" not in page.content()
    # the last good preview stays on screen
    assert page.locator(ROLL).count() == 1


def test_long_song_redraw_and_audio_progress(page, voila_app, artifacts):
    page.goto(voila_app["url"], timeout=TIMEOUT)
    page.wait_for_selector(ROLL, timeout=TIMEOUT)
    page.wait_for_selector(".wb-player[data-audio='ready']", timeout=TIMEOUT)

    # 32 bars: each "New variation" click is generated and redrawn. How fast is the
    # benchmark's business (benchmarks/bench_ui.py --browser, budget 150 ms), not a test's:
    # the times are kept with the artifacts.
    page.locator(".wb-progression textarea").fill(PROGRESSION_32)
    page.wait_for_selector(".wb-roll[data-bars='32']", timeout=TIMEOUT)
    page.get_by_role("tab", name="Feel & variation").click()
    seed = page.locator(".wb-seed input").input_value()
    times = click_to_redraw_ms(page, 3)
    assert len(times) == 3 and page.locator(".wb-seed input").input_value() != seed
    (artifacts / "click_to_redraw_ms.txt").write_text(" ".join(f"{t:.1f}" for t in times))

    # a long song: the audio render takes seconds, so the page shows its progress
    page.locator(".wb-presets select").select_option("12-bar blues (C)")
    repeat = page.locator(".wb-repeat input")
    repeat.fill("16")
    repeat.press("Enter")
    # sixteen choruses of 12 bars and the bar of C the turnaround resolves to
    page.wait_for_selector(".wb-roll[data-bars='193']", timeout=TIMEOUT)
    page.wait_for_selector(".wb-player[data-progress='shown'] .wb-player-progress.wb-visible",
                           timeout=TIMEOUT)
    assert "Rendering audio" in page.inner_text(".wb-player-status")
    repeat.fill("1")                 # a new render supersedes the long one
    repeat.press("Enter")
    page.wait_for_selector(".wb-roll[data-bars='13']", timeout=TIMEOUT)
    page.wait_for_selector(".wb-player[data-audio='ready']", timeout=TIMEOUT)
    assert page.locator(".wb-player[data-progress='shown']").count() == 0
    assert "Traceback" not in page.content()


CONTROL_ROLES = ("textbox", "combobox", "slider", "spinbutton", "checkbox", "button", "radio",
                 "switch", "tab", "link")


def unnamed_controls(snapshot: str) -> list[str]:
    """Lines of an ARIA snapshot for a control without an accessible name (``- slider``)."""
    import re

    roles = "|".join(CONTROL_ROLES)
    pattern = re.compile(rf"^\s*- ({roles})(:|\s*\[|$)")
    return [line for line in snapshot.splitlines() if pattern.match(line)]


def test_keyboard_and_screen_reader(page, voila_app, artifacts):
    page.goto(voila_app["url"], timeout=TIMEOUT)
    page.wait_for_selector(ROLL, timeout=TIMEOUT)
    app = page.locator(".wb-app").first
    # every control has an accessible name, in every tab
    snapshots = []
    for tab in ("Band", "Feel & variation", "Sync to DAW"):
        page.get_by_role("tab", name=tab).click()
        page.wait_for_selector("[aria-label='Bass instrument']", state="attached",
                               timeout=TIMEOUT)
        snapshots.append(app.aria_snapshot())
    (artifacts / "aria_snapshot.txt").write_text("\n\n".join(snapshots))
    for snapshot in snapshots:
        assert unnamed_controls(snapshot) == [], snapshot
    assert 'slider "Tempo (bpm)"' in snapshots[0] and 'textbox "Chord progression"' in snapshots[0]
    page.get_by_role("tab", name="Band").click()

    # Generate is one Tab away from the chord box
    box = page.get_by_role("textbox", name="Chord progression")
    box.focus()
    presses = 0
    while page.evaluate("() => document.activeElement.textContent.trim()") != "Generate":
        assert presses < 3, "Generate is not within a few Tab presses of the chord box"
        page.keyboard.press("Tab")
        presses += 1

    # Ctrl+Enter in the chord box presses Generate (live preview off: only Generate draws)
    page.get_by_role("checkbox", name="live preview").uncheck()
    box.fill(EIGHT_BARS)
    page.locator(".wb-progression-check .wb-ok", has_text="8 bars").wait_for(timeout=TIMEOUT)
    assert page.locator(".wb-roll[data-bars='8']").count() == 0
    box.press("Control+Enter")
    page.wait_for_selector(".wb-roll[data-ready='1'][data-bars='8']", timeout=TIMEOUT)


def test_an_error_marks_the_result_stale(page, voila_app):
    page.goto(voila_app["url"], timeout=TIMEOUT)
    page.wait_for_selector(ROLL, timeout=TIMEOUT)
    page.locator(".wb-progression textarea").fill("| C | Am | Hx7 | G |")
    page.wait_for_selector(".wb-stale .wb-roll", timeout=TIMEOUT)
    page.wait_for_selector(".wb-stale .wb-player", timeout=TIMEOUT)     # audio and WAV links
    assert "Out of date" in page.inner_text(".wb-roll-title")
    assert "out of date" in page.inner_text(".wb-downloads")
    page.locator(".wb-progression textarea").fill("| C | Am | F | G |")
    page.wait_for_selector(".wb-stale", state="detached", timeout=TIMEOUT)
    assert "Out of date" not in page.inner_text(".wb-roll-title")
