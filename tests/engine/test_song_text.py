"""parse_song: bar notation with form; Song.to_text reads back to the same playing order."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_song_model import AABA, DS_AL_CODA

from workbench import SongError, parse_progression, parse_song

EXAMPLES = Path(__file__).with_name("examples.txt")
PROGRESSION_TEXTS = [
    "| C Am | F G |", "| C:3 G/B:1 | % |", "| Em | % |\n| N.C. | B7 |", "C Am F G", "C, Am, F, G",
    "C Am\nF G", "| C || G |", "| C |\n| G |", " |C|G| ", "C |  G", "| D:3 A:3 |",
]


def timeline(p):
    return [(e.chord.symbol, e.bar, e.start, e.duration) for e in p.events]


def examples():
    for line in EXAMPLES.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, meter, key, text = (x.strip() for x in line.split("|", 3))
            yield name, meter, key, text


@pytest.mark.parametrize("name, meter, key, text", list(examples()))
def test_every_example_progression_is_a_song_with_the_same_timeline(name, meter, key, text):
    song = parse_song(text, meter=meter, key=key)
    assert timeline(song.progression()) == timeline(parse_progression(text, meter=meter, key=key))


@pytest.mark.parametrize("text", PROGRESSION_TEXTS)
def test_progression_notation_is_song_notation(text):
    meter = "6/8" if "D:3" in text else "4/4"
    assert timeline(parse_song(text, meter=meter).progression()) == timeline(
        parse_progression(text, meter=meter))


def test_lists_are_songs_too():
    assert parse_song(["C Am", "F G"]).progression().to_text() == "| C Am | F G |"


def test_header_lines():
    song = parse_song("Title: Blue Bossa\nComposer: Kenny Dorham\nKey: C minor\nMeter: 4/4\n"
                      "Tempo: 150\nStyle: Bossa Nova\n| Cm7 | Fm7 |")
    assert (song.title, song.composer, song.key.name, song.meter, song.tempo, song.style,
            song.workbench_style) == ("Blue Bossa", "Kenny Dorham", "C minor", "4/4", 150.0,
                                      "Bossa Nova", "bossa")


def test_sections_labels_and_marks():
    song = parse_song(DS_AL_CODA)
    assert [(s.label, s.start, len(s)) for s in song.sections] == [
        ("Intro", 0, 2), ("A", 2, 4), ("B", 6, 4), ("Coda", 10, 3)]
    bars = song.bars
    assert bars[2].segno and bars[4].to_coda and bars[5].fine and bars[9].jump == "D.S. al Coda"
    assert bars[10].coda and not bars[4].coda


def test_coda_first_in_a_bar_starts_the_coda_after_chords_leaves_for_it():
    song = parse_song("| C | G Coda | F D.C. al Coda | Coda A7 | D |")
    assert song.bars[1].to_coda and song.bars[3].coda
    assert [i for i, _ in song.playing_order()] == [0, 1, 2, 0, 1, 3, 4]


def test_endings_repeats_alternates_meter_change():
    song = parse_song("|: C (Gb7) | 1,2. F :| x3 |3. G | 3/4 A | Bb |")
    assert song.bars[0].repeat_start and song.bars[1].ending == (1, 2)
    assert song.bars[1].repeat_end == 3 and song.bars[2].ending == (3,)
    assert [(o, c.symbol) for o, c in song.bars[0].alternates] == [(0.0, "Gb7")]
    assert song.bars[3].meter == "3/4" and song.bars[4].meter == "3/4" and song.bars[4].beats == 3.0
    assert [i for i, _ in song.playing_order()] == [0, 1, 0, 1, 0, 2, 3, 4]
    with pytest.raises(SongError, match="bar 4: the bar is in 3/4 but the song is in 4/4"):
        song.progression()


def test_repeat_start_and_end_on_one_bar_and_back_to_back():
    song = parse_song("|: C :||: G :|")
    assert [i for i, _ in song.playing_order()] == [0, 0, 1, 1]
    song = parse_song("|: C :| |: G :| x3")
    assert [i for i, _ in song.playing_order()] == [0, 0, 1, 1, 1]


@pytest.mark.parametrize("text", [
    AABA, DS_AL_CODA, "| pickup G7:1 | C | F / / G |", "Meter: 12/8\n| C7 | F7:4 C7:8 |",
    "|: C (Gb7) | 1,2. F :| x3 |3. G | Am Fine | D7 D.C. al Fine |", "| C | / | N.C. | G7 Coda | E7 D.S. al Coda | Coda F | G Segno |",
    "| Cmaj7 | Dm7 G7 Dm7 G7 | Fermata C | C7alt:3 B7:1 |",
])
def test_to_text_reads_back_to_the_same_playing_order(text):
    song = parse_song(text)
    again = parse_song(song.to_text())
    for choruses in (1, 3):
        assert again.playing_order(choruses) == song.playing_order(choruses)
        try:
            expected = timeline(song.progression(choruses))
        except SongError:
            continue
        assert timeline(again.progression(choruses)) == expected
    assert [b.symbols for b in again.bars] == [b.symbols for b in song.bars]
    assert again.to_text() == song.to_text()


@pytest.mark.parametrize("text, message", [
    ("| C | Hx7 |", "bar 2: unknown chord 'Hx7'"),
    ("| C | | G |", "bar 2: empty bar"),
    ("| C | Fine |", "bar 2: a bar holds only form marks"),
    ("| C [B] G |", "bar 1: the section label [B] is inside a bar"),
    ("| C:3 G:2 |", "bar 1: beats add up to 5 but a 4/4 bar has 4"),
    ("| pickup G7 | C |", "give the pickup's length"),
    ("| C | pickup G:1 |", "only the first bar can be a pickup"),
    (":| C |", "closes a repeat before any bar"),
    ("| C :| x1", "a repeat plays at least twice"),
    ("Meter: 5/8\n| C |", "unknown meter '5/8'"),
    ("Tempo: fast\n| C |", "cannot read the tempo"),
    ("| % | C |", "'%' has no previous bar"),
    ("| (Db7) C |", "has no chord before it"),
    ("", "empty song"),
])
def test_errors_name_the_bar_and_the_token(text, message):
    with pytest.raises(SongError, match=message.replace("(", r"\(").replace("[", r"\[")):
        parse_song(text)


def test_error_carries_the_title():
    with pytest.raises(SongError) as info:
        parse_song("Title: Blues\n| C7 | Q7 |")
    assert str(info.value).startswith("'Blues', bar 2: unknown chord 'Q7'")


def test_readme_example_plays_as_the_readme_says():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme.split("```\nTitle: Blue Road", 1)[1].split("```", 1)[0]
    song = parse_song("Title: Blue Road" + block)
    assert (song.title, song.key.name, song.workbench_style) == ("Blue Road", "F major", "swing")
    played = [i for i, _ in song.playing_order()]
    assert played == [0, 1, 2, 3, 4, 5, 6, 7, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
                      10, 11, 12, 18, 19]
    assert len(played) == 27
    three = song.playing_order(3)
    assert [i for i, c in three if c == 1] == [2, 3, 4, 5, 6, 7, 2, 3, 4, 5, 8, 9, *range(10, 18)]
