"""The song import box in Python (no browser): iReal playlists, MusicXML upload, the chord box
holding the song as text, choruses, section labels in the chord lane, MusicXML export."""

from __future__ import annotations

import base64
import datetime
import html
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from ireal_fixtures import AUTUMN, html_export, irealb, song_fields  # noqa: E402

from workbench import parse_song  # noqa: E402
from workbench.ui import Workbench, mapping, roll_state  # noqa: E402
from workbench.ui.song_import import SongImport, matches  # noqa: E402

PLAYLIST = irealb(
    song_fields("Autumn Leaves", AUTUMN, key="G-", composer="Kosma Joseph", tempo=132),
    song_fields("Bad", "[C^7XyQ|C7#14XyQZ"),
    song_fields("Blue Bossa", "*A[C-7XyQ|F-7XyQ|D-7b5XyQ|G7b9XyQZ", style="Bossa Nova", key="C-"),
    song_fields("Waltz For Test", "*A[T34C^7  |A-7  |D-7  |G7  Z", style="Jazz Waltz"),
    playlist="Set 1")


@pytest.fixture
def app():
    return Workbench(audio_engine="builtin")


def test_a_playlist_fills_a_searchable_list_and_reports_the_bad_song(app):
    box = app.song_import
    box.source.value = html_export(PLAYLIST)
    box.read_button.click()
    assert "Set 1" in box.status.value and "3 songs" in box.status.value
    assert "'Bad', bar 2: unknown chord 'C7#14'" in html.unescape(box.status.value)
    labels = [label for label, _ in box.list.options]
    assert labels[0].startswith("0 · Autumn Leaves — Joseph Kosma (G minor")
    assert len(labels) == 3 and box.list.layout.display is None
    box.search.value = "bossa"
    assert [label.split(" · ")[1].split(" — ")[0] for label, _ in box.list.options] == ["Blue Bossa"]
    box.search.value = "waltz test"
    assert len(box.list.options) == 1


def test_picking_a_song_puts_its_text_in_the_chord_box_and_plays_it(app):
    box = app.song_import
    box.read(PLAYLIST)
    box.list.value = 0  # Autumn Leaves
    c = app.controls
    assert c.progression.value.startswith("Title: Autumn Leaves")
    assert "[A] |: Cm7" in c.progression.value
    assert (c.key.value, c.meter.value, c.style.value, c.tempo.value) == (
        "G minor", "4/4", "swing", 132)
    assert c.check.ok and "Song “Autumn Leaves”" in c.message.value
    box.choruses.value = 2
    assert c.repeat.value == 2
    arr = app.refresh(audio=False)
    # a 4-bar intro (the form's last bars), then two choruses of the 33 bars the form plays,
    # and the swing ending's tag (its closing two bars twice more, workbench.band.endings)
    assert arr is not None and arr.bars == 4 + 66 + 4 and arr.progression.sections[0] == "A"
    labels = [(ch["bar"], ch["section"]) for ch in roll_state(arr)["chords"] if ch["section"]]
    # the A played twice (|: :|) is labelled each time: the chart's form is A A B C
    assert labels == [(1, "Intro"), (5, "A"), (13, "A"), (21, "B"), (29, "C"), (38, "A"),
                      (46, "A"), (54, "B"), (62, "C"), (70, "Tag")]
    assert "wb-section" in app._repr_mimebundle_()["text/html"]


def test_edited_song_text_is_validated_and_transposed_as_a_song(app):
    c = app.controls
    c.progression.value = "[A] |: C | G7 :| [B] | F | Hx7 |"
    assert not c.check.ok and "Hx7" in c.message.value and "4" in c.message.value
    c.progression.value = "[A] |: C | G7 :| [B] | F | G7 |"
    assert c.check.ok and "form A B" in c.message.value
    c.up.click()
    assert parse_song(c.progression.value).bars[0].symbols == ["Db"]
    assert mapping.transpose_text(c.progression.value, -1).startswith("Key: C major")


def test_musicxml_upload_and_export(app, tmp_path):
    box = app.song_import
    song = parse_song("Title: Upload\nTempo: 96\n[A] |: Dm7 | G7 :| Cmaj7 |")
    data = song.to_musicxml(tmp_path / "up.mxl").read_bytes()
    box.upload.value = ({"name": "up.mxl", "type": "", "size": len(data), "content": memoryview(data),
                         "last_modified": datetime.datetime(2026, 11, 25)},)
    assert app.controls.progression.value.startswith("Title: Upload")
    assert app.controls.tempo.value == 96
    link = box.export(full_score=False)
    payload = base64.b64decode(link.split("base64,")[1].split("'")[0])
    assert b"<harmony" in payload and b"Upload (lead sheet).musicxml" in link.encode()
    app.refresh(audio=False)
    box.export_score.click()
    assert "score" in box.downloads.value and "wb-error" not in box.status.value


def test_errors_show_in_the_box_never_raise(app):
    box = app.song_import
    box.source.value = ""
    box.read_button.click()
    assert "wb-error" in box.status.value
    box.source.value = "irealb://Broken%3DSong"
    box.read_button.click()
    assert "damaged song" in box.status.value
    standalone = SongImport(app.controls)
    standalone.export_score.click()
    assert "generate a take first" in standalone.status.value.lower()


def test_matches():
    song = parse_song("Title: Blue Bossa\nStyle: Bossa Nova\n| Cm7 |")
    assert matches(song, "blue") and matches(song, "BOSSA nova") and not matches(song, "waltz")
