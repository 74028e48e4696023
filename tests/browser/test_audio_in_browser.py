"""Sound at once and audio out, in the Voilà app in Chromium: Generate -> the player says
``data-audio="playable"`` (Play sounds) while the rest still streams in -> ``"ready"``; the bytes
sent per 32 bars; Play during the stream; the mix and a stem downloaded as FLAC/WAV with the MIDI
files' names."""

from __future__ import annotations

import re
import statistics

import pytest
import soundfile

# the benchmark's own app runner and timing: test and figure measure the same
from app_in_browser import PROGRESSION_32, click_to_playable  # on sys.path via conftest.py

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TIMEOUT = 90_000
PLAYER = ".wb-player"
BUDGET_MS = 300          # issue 11: Play works <= 300 ms after Generate
MAX_BYTES_PER_32_BARS = 1.5e6


def test_generate_is_playable_at_once_then_ready(page, voila_app, artifacts):
    page.goto(voila_app["url"], timeout=TIMEOUT)
    page.wait_for_selector(f"{PLAYER}[data-audio='ready']", timeout=TIMEOUT)
    page.locator(".wb-progression textarea").fill(PROGRESSION_32)
    page.wait_for_selector(".wb-roll[data-bars='32']", timeout=TIMEOUT)

    runs = [click_to_playable(page) for _ in range(3)]
    (artifacts / "click_to_playable_32.txt").write_text(repr(runs))
    for run in runs:
        assert run["playable_ms"] is not None and run["playable_ms"] <= run["ready_ms"]
        assert 0 < run["bytes"] <= MAX_BYTES_PER_32_BARS
    assert statistics.median(r["playable_ms"] for r in runs) <= BUDGET_MS

    # a long song (32 bars x 16): playable long before it is all there, and Play works then
    repeat = page.locator(".wb-repeat input")
    repeat.fill("16")
    repeat.press("Enter")
    page.wait_for_selector(".wb-roll[data-bars='512']", timeout=TIMEOUT)
    page.wait_for_selector(f"{PLAYER}[data-audio='playable']", timeout=TIMEOUT)
    total = page.inner_text(".wb-player-time").split("/")[1].strip()
    assert total.startswith("18:")                  # 512 bars at 110 bpm and the ring-out
    page.locator(f"{PLAYER} .wb-play").click()
    page.wait_for_selector(".wb-roll[data-playing='1']", timeout=TIMEOUT)
    # the total does not jump when playback starts (it was the song before, the audio after)
    assert page.inner_text(".wb-player-time").split("/")[1].strip() == total
    assert page.locator(f"{PLAYER}[data-audio='playable']").count() == 1    # still streaming
    page.locator(f"{PLAYER} .wb-player-btn", has_text="Stop").click()
    page.wait_for_selector(".wb-roll[data-playing='0']", timeout=TIMEOUT)
    assert "Traceback" not in page.content()


def test_short_song_total_time_is_steady_and_downloads(page, voila_app, artifacts):
    page.goto(voila_app["url"], timeout=TIMEOUT)
    page.wait_for_selector(f"{PLAYER}[data-audio='ready']", timeout=TIMEOUT)
    page.locator(".wb-progression textarea").fill("| C | Am | F | G |")
    page.wait_for_selector(".wb-roll[data-bars='4']", timeout=TIMEOUT)
    run = click_to_playable(page)              # Generate: the MIDI files are written too
    assert run["bytes"] > 0
    before = page.inner_text(".wb-player-time")
    page.locator(f"{PLAYER} .wb-play").click()
    page.wait_for_selector(".wb-roll[data-playing='1']", timeout=TIMEOUT)
    during = page.inner_text(".wb-player-time")
    assert before.split("/")[1] == during.split("/")[1]      # 0:10 before and during, no jump
    page.locator(f"{PLAYER} .wb-player-btn", has_text="Stop").click()

    band_midi = sorted((voila_app["folder"] / "band").glob("*.mid"))[-1]
    stem = band_midi.stem                       # {timestamp}_band_{key}_{tempo}
    page.locator(".wb-player-format").select_option("flac")
    with page.expect_download(timeout=TIMEOUT) as info:
        page.locator(".wb-player-part[data-part='band']").click()
    mix = info.value
    assert mix.suggested_filename == f"{stem}.flac"
    mix.save_as(artifacts / mix.suggested_filename)
    f = soundfile.info(str(artifacts / mix.suggested_filename))
    assert (f.format, f.samplerate, f.channels) == ("FLAC", 44100, 2)
    page.wait_for_selector(f"{PLAYER}[data-export='done']", timeout=TIMEOUT)
    assert "LUFS" in page.inner_text(".wb-player-export-status")

    page.locator(".wb-player-format").select_option("wav")
    with page.expect_download(timeout=TIMEOUT) as info:
        page.locator(".wb-player-part[data-part='bass']").click()
    bass = info.value
    assert bass.suggested_filename == stem.replace("_band_", "_bass_") + ".wav"
    assert re.fullmatch(r"\d{14}_bass_\w+_\d+\.wav", bass.suggested_filename)
    bass.save_as(artifacts / bass.suggested_filename)
    g = soundfile.info(str(artifacts / bass.suggested_filename))
    assert (g.format, g.subtype, g.frames) == ("WAV", "PCM_24", f.frames)
