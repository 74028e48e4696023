"""``POST /api/generate`` with a song: an iReal Pro link or playlist (``song`` + ``song_index``)
or a MusicXML lead sheet (``musicxml``, base64), against a real service."""

from __future__ import annotations

import base64
import sys
from pathlib import Path

from server_testlib import http

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from ireal_fixtures import AUTUMN, irealb, song_fields  # noqa: E402

from workbench import parse_song  # noqa: E402

PLAYLIST = irealb(
    song_fields("Autumn Leaves", AUTUMN, key="G-", tempo=132),
    song_fields("Bad", "[C^7XyQ|C7#14XyQZ"),
    song_fields("Bossa", "[C^7XyQ|D-7 G7 Z", style="Bossa Nova"),
    playlist="Set")


def post(service, body):
    return http(service.url, "POST", "/api/generate", body)


def test_a_playlist_song_by_index_plays_its_form_key_tempo_and_style(service):
    r = post(service, {"song": PLAYLIST, "song_index": 0, "choruses": 2,
                       "tracks": ["bass", "drums"]})
    assert r.status == 200, r.body
    answer = r.json
    assert (answer["key"], answer["tempo"], answer["style"]) == ("Gmin", 132, "swing")
    # a 4-bar intro (the form's last bars) before two choruses of the 33 bars the form plays,
    # then the swing ending's tag: its closing two bars twice more (workbench.band.endings)
    assert answer["bars"] == 4 + 66 + 4 and answer["chords"][4:7] == ["Cm7", "F7", "Bbmaj7"]
    assert answer["bass_file"].endswith("_bass_Gmin_132.mid")


def test_request_values_override_the_song(service):
    r = post(service, {"song": PLAYLIST, "song_index": 2, "bpm": 90, "style": "pop",
                       "tracks": ["bass"], "repeat": 3, "intro": False})
    assert r.status == 200, r.body
    # three choruses of the 2 bars the form plays, and a closing bar on the tonic (it ends on G7)
    assert (r.json["tempo"], r.json["style"], r.json["bars"]) == (90, "pop", 7)
    bad = post(service, {"song": PLAYLIST, "song_index": 2, "arc": "loud"})
    assert bad.status == 400 and bad.json["field"] == "arc"


def test_a_bad_song_is_reported_like_a_bad_chord(service):
    r = post(service, {"song": PLAYLIST, "song_index": 1})
    assert r.status == 400
    body = r.json
    assert body["error"] == "bad song" and body["field"] == "song"
    assert body["detail"].startswith("'Bad', bar 2: unknown chord 'C7#14'")
    assert (body["bar"], body["value"], body["song"], body["song_index"]) == (2, "C7#14", "Bad", 1)


def test_a_playlist_needs_an_index_in_range(service):
    r = post(service, {"song": PLAYLIST})
    assert r.status == 400 and r.json["field"] == "song_index" and "3 songs" in r.json["detail"]
    r = post(service, {"song": PLAYLIST, "song_index": 5})
    assert r.status == 400 and r.json["field"] == "song_index"
    r = post(service, {"song": PLAYLIST, "song_index": "x"})
    assert r.status == 400 and r.json["field"] == "song_index"
    for bad in (-1, 1.5, True, {"i": 0}):
        r = post(service, {"song": PLAYLIST, "song_index": bad})
        assert r.status == 400 and r.json["field"] == "song_index", (bad, r.json)


def test_musicxml_in_base64(service, tmp_path):
    song = parse_song("Title: Lead\nTempo: 100\n[A] |: Dm7 | G7 :| Cmaj7 |")
    path = song.to_musicxml(tmp_path / "lead.mxl")
    data = base64.b64encode(path.read_bytes()).decode()
    r = post(service, {"musicxml": data, "tracks": ["keys"], "intro": False})
    assert r.status == 200, r.body
    assert r.json["chords"] == ["Dm7", "G7", "Dm7", "G7", "Cmaj7"] and r.json["tempo"] == 100


def test_bad_song_inputs(service):
    for body, field in [
        ({"musicxml": "not base64!"}, "musicxml"),
        ({"musicxml": base64.b64encode(b"<score-partwise><broken").decode()}, "musicxml"),
        ({"song": "no link at all | Hx7 |"}, "song"),
        ({"song": 42}, "song"),
        ({"song": PLAYLIST, "chords": ["C"]}, "song"),
        ({"song": PLAYLIST, "musicxml": "AAAA"}, "musicxml"),
        ({"song": PLAYLIST, "song_index": 0, "choruses": 0}, "choruses"),
        ({"song": PLAYLIST, "song_index": 0, "style": "polka"}, "style"),
    ]:
        r = post(service, body)
        assert r.status == 400, (body, r.body)
        assert r.json["field"] == field, (body, r.json)


def test_a_song_field_is_never_taken_for_a_file_on_the_server(service, tmp_path):
    """Hole found in review: 'song' went through the CLI's reader, which opens paths, so a
    request could read any file the service can (and show its start in the error)."""
    secret = tmp_path / "secret.txt"
    secret.write_text("| C | G |")  # a file that would read as a valid song
    r = post(service, {"song": str(secret)})
    assert r.status == 400 and r.json["field"] == "song"
    assert "C | G" not in r.json["detail"]
