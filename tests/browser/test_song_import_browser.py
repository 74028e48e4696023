"""The app's "Import a song" tab in Chromium: paste an iReal playlist, search, pick a song; the
chord box holds it as text and the roll redraws the song's form."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from ireal_fixtures import AUTUMN, irealb, song_fields  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROLL = ".wb-roll[data-ready='1']"
TIMEOUT = 60_000
PLAYLIST = irealb(
    song_fields("Autumn Leaves", AUTUMN, key="G-", composer="Kosma Joseph", tempo=132),
    song_fields("Bad", "[C^7XyQ|C7#14XyQZ"),
    song_fields("Blue Bossa", "*A[C-7XyQ|F-7XyQ|D-7b5XyQ|G7b9XyQZ", style="Bossa Nova", key="C-"),
    playlist="Set 1")


def test_paste_a_playlist_search_pick_and_play(page, voila_app):
    page.goto(voila_app["url"], timeout=TIMEOUT)
    page.wait_for_selector(ROLL, timeout=TIMEOUT)
    page.get_by_text("Import a song", exact=True).click()
    page.locator(".wb-song-source textarea").fill(PLAYLIST)
    page.locator(".wb-song-read").click()
    status = page.locator(".wb-song-status .wb-ok", has_text="2 songs")
    status.wait_for(timeout=TIMEOUT)
    assert "'Bad', bar 2: unknown chord 'C7#14'" in status.inner_text()
    page.locator(".wb-song-search input").fill("autumn")
    options = page.locator(".wb-song-list select option")
    page.wait_for_function("document.querySelectorAll('.wb-song-list select option').length === 1",
                           timeout=TIMEOUT)
    assert options.first.inner_text().replace("\xa0", " ").startswith("0 · Autumn Leaves")
    page.locator(".wb-song-list select").select_option(index=0)
    page.locator(".wb-song-status .wb-ok", has_text="Loaded “Autumn Leaves”").wait_for(timeout=TIMEOUT)
    text = page.locator(".wb-progression textarea").input_value()
    assert text.startswith("Title: Autumn Leaves") and "[A] |: Cm7" in text
    # live preview: the roll now shows a 4-bar intro, the song's 33 played bars and the swing
    # ending's 4-bar tag (workbench.band.endings)
    page.wait_for_selector(".wb-roll[data-ready='1'][data-bars='41']", timeout=TIMEOUT)
    page.locator(".wb-choruses input").fill("2")
    page.locator(".wb-choruses input").press("Enter")
    page.wait_for_selector(".wb-roll[data-ready='1'][data-bars='74']", timeout=TIMEOUT)
    assert "Traceback" not in page.content()
