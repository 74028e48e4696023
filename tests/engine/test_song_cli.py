"""``workbench generate --song`` and ``workbench songs``, run as a user runs them."""

from __future__ import annotations

from pathlib import Path

import mido
from ireal_fixtures import AUTUMN, html_export, irealb, song_fields
from test_cli import run
from test_song_model import AABA


def playlist(tmp_path) -> Path:
    page = html_export(irealb(
        song_fields("Autumn Leaves", AUTUMN, key="G-", composer="Kosma Joseph", tempo=132),
        song_fields("Bad", "[C7#14XyQZ"),
        song_fields("Blues", "[T12C7XyQ|F7XyQ|C7XyQ|C7XyQZ", style="Slow Blues"),
        playlist="Set 1"))
    path = tmp_path / "set.html"
    path.write_text(page)
    return path


def test_songs_lists_the_playlist_with_errors_per_song(tmp_path):
    r = run("songs", str(playlist(tmp_path)))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "Set 1: 3 songs"
    assert lines[1].split("|")[0].split() == ["0", "Autumn", "Leaves"]
    assert "G minor" in lines[1] and "Medium Swing → swing" in lines[1] and "A B C" in lines[1]
    assert "! 'Bad', bar 1: unknown chord 'C7#14'" in lines[2]
    assert lines[3].split()[:2] == ["2", "Blues"] and "12/8" in lines[3]


def test_generate_a_playlist_song_by_index_with_choruses(tmp_path):
    r = run("generate", "--song", str(playlist(tmp_path)), "--index", "0", "--choruses", "2",
            "--tracks", "bass,drums", "--out", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    band = Path(r.stdout.split()[-1])
    assert band.name.endswith("_band_Gmin_132.mid")  # the song's key and tempo
    midi = mido.MidiFile(band)
    beats = max(sum(m.time for m in t) for t in midi.tracks) / midi.ticks_per_beat
    # a Song opens with an intro (the form's last 4 bars, as it has 16 or more), then two
    # choruses of the 33 bars Autumn Leaves plays; it ends on its tonic, so no tonic bar, but
    # the swing ending tags its closing two bars twice more (workbench.band.endings)
    assert beats == (4 + 2 * 33 + 2 * 2) * 4


def test_generate_a_text_song_file_and_a_link(tmp_path):
    path = tmp_path / "aaba.txt"
    path.write_text(AABA)
    r = run("generate", "--song", str(path), "--tracks", "bass", "--out", str(tmp_path / "a"))
    assert r.returncode == 0, r.stderr and "_swing" not in r.stdout
    link = irealb(song_fields("One", "[C^7XyQ|G7XyQZ", style="Bossa Nova"))
    r = run("generate", "--song", link, "--tempo", "100", "--tracks", "bass", "--out",
            str(tmp_path / "b"))
    assert r.returncode == 0, r.stderr
    assert Path(r.stdout.split()[-1]).name.endswith("_Cmaj_100.mid")


def test_song_errors_are_one_line_and_status_2(tmp_path):
    source = str(playlist(tmp_path))
    for args, message in [
        (("--song", source, "--index", "1"), "'Bad', bar 1: unknown chord 'C7#14'"),
        (("--song", source), "the playlist holds 3 songs: choose one by its index"),
        (("--song", source, "--index", "9"), "no song 9 in the playlist"),
        (("--song", str(tmp_path / "nope.xml")), "no song file or link"),
        (("| C |", "--song", source), "give a progression or --song"),
        ((), "give a progression or --song"),
        (("--song", source, "--index", "0", "--meter", "3/4", "--style", "swing"),
         "the song is in 4/4; it cannot be played in 3/4"),
    ]:
        r = run("generate", *args, "--out", str(tmp_path / "x"))
        assert r.returncode == 2, (args, r.stdout)
        assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_generate_and_list_a_musicxml_file(tmp_path):
    from workbench import parse_song

    lead = parse_song("Title: Lead\nTempo: 90\nStyle: Bossa Nova\n[A] |: Dm7 | G7 :| Cmaj7 |")
    path = lead.to_musicxml(tmp_path / "lead.mxl")
    r = run("songs", str(path))
    assert r.returncode == 0 and "Lead" in r.stdout and "Bossa Nova → bossa" in r.stdout
    r = run("generate", "--song", str(path), "--choruses", "2", "--tracks", "bass", "--out",
            str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    assert Path(r.stdout.split()[-1]).name.endswith("_Cmaj_90.mid")
