"""Song form → playing order, checked by hand bar by bar; Song through generate."""

from __future__ import annotations

import pytest

import workbench
from workbench import ProgressionError, Song, SongError, parse_song
from workbench.errors import WorkbenchError

AABA = """Title: AABA
Style: Medium Swing
[A] |: C | Am | Dm7 | G7 |1. C | A7 | Dm7 | G7 :|2. C | F | C | C7 ||
[B] | F | F | C | C | D7 | D7 | G7 | G7 |
[A] | C | Am | Dm7 | G7 | C | F | C | C |"""

DS_AL_CODA = """Title: Segno Song
[Intro] | Bb | G7 |
[A] | Segno C | F | G7 To Coda | C Fine |
[B] | Am | D7 | G7 | G7 D.S. al Coda |
[Coda] | F | G7 | C |"""


def order(song, choruses=1):
    return [i for i, _ in song.playing_order(choruses)]


def symbols(progression):
    return [e.chord.symbol for e in progression.events]


def test_aaba_with_first_and_second_endings():
    song = parse_song(AABA)
    # written: A 0-3, ending 1 4-7, ending 2 8-11, B 12-19, last A 20-27
    assert order(song) == [0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 8, 9, 10, 11,
                           *range(12, 20), *range(20, 28)]
    p = song.progression()
    assert p.bars == 32 and p.sections == ["A"] * 16 + ["B"] * 8 + ["A"] * 8
    assert symbols(p)[4:16] == ["C", "A7", "Dm7", "G7", "C", "Am", "Dm7", "G7", "C", "F", "C", "C7"]
    assert [s.label for s in song.sections] == ["A", "B", "A"]
    assert [len(s) for s in song.sections] == [12, 8, 8]


def test_ds_al_coda_skips_fine_and_leaves_at_to_coda():
    song = parse_song(DS_AL_CODA)
    # intro 0-1, A 2-5 (Fine not taken the first time), B 6-9, D.S. → segno (2), To Coda at 4 → coda 10-12
    assert order(song) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 10, 11, 12]
    p = song.progression()
    assert p.sections == ["Intro"] * 2 + ["A"] * 4 + ["B"] * 4 + ["A"] * 3 + ["Coda"] * 3


def test_jumps_only_on_the_last_chorus_and_the_intro_once():
    song = parse_song(DS_AL_CODA)
    played = song.playing_order(3)
    assert [i for i, c in played if c == 0] == [0, 1, *range(2, 10)]  # ends where the coda begins
    assert [i for i, c in played if c == 1] == list(range(2, 10))       # no intro again
    assert [i for i, c in played if c == 2] == [*range(2, 10), 2, 3, 4, 10, 11, 12]
    p = song.progression(3)
    assert p.choruses == [c for _, c in played] and p.bars == len(played)


def test_ds_al_fine_and_dc_al_fine():
    song = parse_song("| Segno C | F | G Fine | Am | D7 D.S. al Fine |")
    assert order(song) == [0, 1, 2, 3, 4, 0, 1, 2]
    song = parse_song("| C | F | G Fine | Am | D7 D.C. al Fine |")
    assert order(song) == [0, 1, 2, 3, 4, 0, 1, 2]
    song = parse_song("| C | F | G Fine | Am | D7 D.C. |")  # plain D.C. stops at Fine too
    assert order(song) == [0, 1, 2, 3, 4, 0, 1, 2]


def test_after_a_jump_repeats_are_not_taken_and_the_last_ending_is():
    song = parse_song("|: C |1. F :|2. G | Am D.C. al Coda To Coda | [Coda] | E7 |")
    # 0 1 | 0 2 3 → D.C. → 0 (no repeat) 2 (the last ending) 3 → To Coda → the coda, bar 4
    assert order(song) == [0, 1, 0, 2, 3, 0, 2, 3, 4]


def test_repeat_count_and_repeat_without_start():
    assert order(parse_song("|: C | F :| x3 | G |")) == [0, 1, 0, 1, 0, 1, 2]
    assert order(parse_song("| C | F :| G | A :|")) == [0, 1, 0, 1, 2, 3, 2, 3]
    # a second repeat with endings after the first: each counts its own passes
    assert order(parse_song("|: A |1. B :|2. C |: D |1. E :|2. F |")) == [0, 1, 0, 2, 3, 4, 3, 5]


def test_pickup_is_played_once_and_padded_with_silence():
    song = parse_song("| pickup G7:1 | C | F | G7 | C |")
    assert song.bars[0].pickup and song.bars[0].beats == 1.0
    assert order(song, 2) == [0, 1, 2, 3, 4, 1, 2, 3, 4]
    p = song.progression()
    first = [(e.chord.symbol, e.start, e.duration) for e in p.events[:3]]
    assert first == [("N.C.", 0.0, 3.0), ("G7", 3.0, 1.0), ("C", 4.0, 4.0)]


def test_dc_after_a_pickup_goes_back_to_the_first_full_bar():
    song = parse_song("| pickup G7:1 | C | F Fine | G7 D.C. al Fine |")
    assert order(song) == [0, 1, 2, 3, 1, 2]


def test_twelve_eight_blues():
    song = parse_song("Meter: 12/8\n| C7 | F7 | C7 | C7 |\n| F7 | F7 | C7 | C7 |\n| G7 | F7 | C7 | G7 |")
    p = song.progression(2)
    assert p.meter == "12/8" and p.beats_per_bar == 6.0 and p.bars == 24
    assert [e.start for e in p.events[:3]] == [0.0, 6.0, 12.0]
    arr = workbench.generate(song, style="shuffle", choruses=2, intro=False, ending=False)
    assert arr.meter == "12/8" and arr.bars == 24 and arr.style == "shuffle"
    # by default a Song opens with an intro: the last 4 bars of the form (12 bars or more)
    assert workbench.generate(song, style="shuffle", choruses=2).intro_bars == 4


def test_empty_bar_lets_the_previous_chord_go_on():
    song = parse_song("| C G | / | F / / G |")
    assert song.bars[1].chords == []
    assert [(o, c.symbol) for o, c in song.bars[2].chords] == [(0.0, "F"), (3.0, "G")]
    assert symbols(song.progression()) == ["C", "G", "G", "F", "G"]


def test_no_chord_is_none_in_the_bar_and_nc_in_the_progression():
    song = parse_song("| C | N.C. | G7 |")
    assert song.bars[1].chords == [(0.0, None)]
    assert symbols(song.progression()) == ["C", "N.C.", "G7"]


def test_song_error_names_song_bar_and_token():
    with pytest.raises(SongError) as info:
        parse_song("Title: Autumn Leaves\n| Cm7 | F7 | Bbmaj7 | Ebmaj7 | Am7b5 | D7 | Gm6 | Gm6 |\n"
                   "| Am7b5 | D7 | Gm6 | C7#14 |")
    error = info.value
    assert str(error).startswith("'Autumn Leaves', bar 12: unknown chord 'C7#14'")
    assert isinstance(error, ProgressionError) and isinstance(error, WorkbenchError)
    assert isinstance(error, ValueError) and error.bar == 12 and error.token == "C7#14"
    assert error.to_dict()["value"] == "C7#14"


def test_ds_without_segno_and_bad_choruses_are_errors():
    with pytest.raises(SongError, match="no segno"):
        parse_song("| C | G D.S. al Coda |").progression()
    with pytest.raises(SongError, match="choruses"):
        parse_song("| C |").progression(0)


def test_generate_takes_a_song_with_its_style_key_meter_and_tempo():
    song = parse_song(AABA + "\n")
    song.tempo = 180
    arr = workbench.generate(song, choruses=3, seed=4, intro=False)
    assert arr.style == "swing" and arr.tempo == 180 and arr.bars == 96 + 4  # swing's tag
    assert arr.key.name == song.key.name and arr.progression.choruses[-1] == 2
    assert arr.progression.sections[:16] == ["A"] * 16
    again = workbench.generate(song, choruses=3, seed=4, intro=False)
    assert arr.to_midi_bytes() == again.to_midi_bytes()


def test_generate_song_defaults_and_overrides():
    song = parse_song("| C | F | G | C |")
    arr = workbench.generate(song)  # no tempo in the song: the style's usual tempo
    assert arr.style == "pop" and arr.tempo == workbench.band.styles.get_style("pop").default_tempo
    assert workbench.generate(song, repeat=2, intro=False).bars == 8  # choruses None: repeat
    assert workbench.generate(song, choruses=3, repeat=2, intro=False).bars == 12
    arr = workbench.generate(song, style="rock", tempo=99, key="G")
    assert (arr.style, arr.tempo, arr.key.name) == ("rock", 99, "G major")
    with pytest.raises(SongError, match="cannot be played in 3/4"):
        workbench.generate(song, meter="3/4")


def test_generate_still_defaults_for_text():
    arr = workbench.generate("| C | G |")
    assert arr.style == "pop" and arr.tempo == 120


def test_melody_track_and_repr():
    song = parse_song("Title: T\n[A] | C | G |")
    assert song.melody is None and "'T'" in repr(song) and isinstance(song, Song)


def test_songs_load_without_music21():
    """parse_song and read_ireal stay light: music21 loads only for MusicXML."""
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys, workbench; workbench.parse_song('[A] |: C | G :|').progression(2); "
            "workbench.read_ireal('irealbook://T%3DC%3DPop%3DC%3Dn%3D[C   |G   Z'); "
            "print('music21' in sys.modules, 'ipywidgets' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2]).stdout
    assert out.split() == ["False", "False"]
