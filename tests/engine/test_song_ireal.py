"""iReal Pro links: scrambling, fields, playlists, HTML exports, every chart token, errors."""

from __future__ import annotations

import pytest
from ireal_fixtures import AUTUMN, html_export, irealb, irealbook, scramble, song_fields
from test_song_model import DS_AL_CODA

from workbench import SongError, SongList, parse_chord, parse_song, read_ireal
from workbench.song.ireal import scramble_block, unscramble


def read1(chart, **fields):
    songs = read_ireal(irealb(song_fields(fields.pop("title", "Test"), chart, **fields)))
    assert len(songs) == 1
    return songs[0]


def bars(song):
    return [[(o, c.symbol if c is not None else "N.C.") for o, c in b.chords] for b in song.bars]


def order(song, choruses=1):
    return [i for i, _ in song.playing_order(choruses)]


def test_block_shuffle_by_hand():
    block = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
    # first five ↔ last five (mirrored), 10-23 ↔ 26-39 (mirrored); 5-9, 24-25, 40-44 stay
    assert scramble_block(block) == "nmlkj56789dcbaZYXWVUTSRQOPNMLKJIHGFEDCBAefghi43210"
    assert scramble_block(scramble_block(block)) == block


@pytest.mark.parametrize("length", [0, 1, 49, 50, 51, 52, 100, 101, 102, 163, 500])
def test_unscramble_undoes_scramble_and_leaves_a_short_tail(length):
    chart = "".join("C^7 D-7 G7 Bb" [i % 13] for i in range(length))
    scrambled = scramble(chart)[len("1r34LbKcu7"):]
    assert unscramble(scrambled) == chart
    if length <= 51:
        assert scrambled == chart  # a final part of 50 or 51 characters is not shuffled


def test_substitutions_after_unscrambling():
    assert unscramble("C^7XyQKcl  LZD-7") == "C^7   | x   |D-7"


def test_a_song_link_fields_title_composer_key_tempo_style():
    link = irealb(song_fields("Gentle Rain, The", "[T44C^7XyQZ", composer="Bonfa Luiz",
                              style="Bossa Nova", key="A-", tempo=140, repeats=4))
    song = read_ireal(link)[0]
    assert (song.title, song.composer, song.style, song.workbench_style, song.key.name,
            song.tempo, song.repeats, song.source) == (
        "The Gentle Rain", "Luiz Bonfa", "Bossa Nova", "bossa", "A minor", 140.0, 4, "ireal")


def test_autumn_leaves_repeats_and_endings():
    song = read1(AUTUMN, key="G-")
    assert len(song.bars) == 27 and [s.label for s in song.sections] == ["A", "B", "C"]
    assert song.bars[0].repeat_start and song.bars[6].ending == (1,) and song.bars[7].repeat_end == 2
    assert song.bars[8].ending == (2,)
    assert bars(song)[:3] == [[(0.0, "Cm7")], [(0.0, "F7")], [(0.0, "Bbmaj7")]]
    assert bars(song)[13] == bars(song)[12] == [(0.0, "Gm6")]  # Kcl: repeat the bar
    assert bars(song)[20] == [(0.0, "Gm7"), (2.0, "C7")]
    # A (8 with ending 1), A again with ending 2, then B and C
    assert order(song) == [*range(8), *range(6), 8, 9, *range(10, 27)]
    assert song.progression().bars == 34 - 1


def test_segno_codas_fine_intro_fermata_match_the_same_chart_in_text():
    chart = ("*i[T44Bb XyQ|G7 XyQ]*A[SC XyQ|F XyQ|G7 Q XyQ|C <Fine>XyQ]"
             "*B[A- XyQ|D7 XyQ|G7 XyQ|G7 <D.S. al Coda>XyQ]Q[fF XyQ|G7 XyQ|C XyQZ")
    song = read1(chart)
    text = parse_song(DS_AL_CODA)
    assert [b.symbols for b in song.bars] == [b.symbols for b in text.bars]
    for choruses in (1, 3):
        assert song.playing_order(choruses) == text.playing_order(choruses)
    assert song.bars[0].section == "Intro" and song.bars[10].fermata and song.bars[10].coda
    assert song.bars[4].to_coda and song.bars[5].fine and song.bars[2].segno


def test_twelve_eight_and_bar_repeats():
    song = read1("[T12C7XyQ|F7XyQ|C7XyQ|x |F7XyQKcl  LZC7XyQ|x |G7XyQ|F7XyQ|C7XyQ|G7XyQZ",
                 style="Slow Blues")
    assert song.meter == "12/8" and len(song.bars) == 12 and song.workbench_style == "shuffle"
    assert [b.symbols[0] for b in song.bars] == ["C7", "F7", "C7", "C7", "F7", "F7", "C7", "C7",
                                                "G7", "F7", "C7", "G7"]
    assert song.progression().beats_per_bar == 6.0


def test_shorthand_cells_resolved_in_each_bar():
    song = read1("[T44C^7 A-7 |D-7 G7 |r| |x |ppC  |W/E XyQ|n XyQ|Cpp,G7|Y,sC7 lF Z")
    assert bars(song) == [
        [(0.0, "Cmaj7"), (2.0, "Am7")], [(0.0, "Dm7"), (2.0, "G7")],  # written
        [(0.0, "Cmaj7"), (2.0, "Am7")], [(0.0, "Dm7"), (2.0, "G7")],  # r: the two bars again
        [(0.0, "Dm7"), (2.0, "G7")],                                  # x: the bar again
        [(2.0, "C")],                          # slashes first: the previous chord goes on
        [(0.0, "C/E")],                        # W: the chord before over a new bass
        [(0.0, "N.C.")], [(0.0, "C"), (3.0, "G7")], [(0.0, "C7"), (2.0, "F")]]
    assert song.bars[7].chords == [(0.0, None)]


def test_alternates_kept_not_played():
    song = read1("[C^7(A7b9) XyQ|D-7 (Db7) G7 Z")
    assert [(o, c.symbol) for o, c in song.bars[0].alternates] == [(0.0, "A7b9")]
    assert [c.symbol for _, c in song.bars[1].alternates] == ["Db7"]
    assert [e.chord.symbol for e in song.progression().events] == ["Cmaj7", "Dm7", "G7"]


def test_waltz_repeat_count_verse_fermata_end_and_three_endings():
    song = read1("*v{T34C  |G7 <3x> }*A[F  |fC  UZ")
    assert song.meter == "3/4" and song.bars[1].repeat_end == 3 and song.bars[0].label == "Verse"
    assert song.bars[3].fermata and song.bars[3].fine
    assert order(song) == [0, 1, 0, 1, 0, 1, 2, 3]
    song = read1("{C  |N1G7  }N2F  }N3D  Z")
    assert [b.ending for b in song.bars] == [(), (1,), (2,), (3,)]
    assert order(song) == [0, 1, 0, 2, 0, 3]


def test_dc_al_fine_and_single_coda_after_the_jump():
    song = read1("[C XyQ|F <Fine>XyQ|G <D.C. al Fine>XyQZ")
    assert song.bars[1].fine and song.bars[2].jump == "D.C. al Fine"
    assert order(song) == [0, 1, 2, 0, 1]
    song = read1("[C XyQ|F XyQ|G <D.C. al Coda>XyQ]Q[E7 XyQZ")
    # no To Coda: the last pass plays on to the D.C. bar, then the coda
    assert song.bars[3].coda and order(song, 2) == [0, 1, 2, 0, 1, 2, 0, 1, 2, 3]


IREAL_QUALITIES = [  # iReal's quality spellings (its editor's list) and what they are
    ("^7", "maj7"), ("-7", "m7"), ("7", "7"), ("7sus", "7sus4"), ("^", "maj7"), ("-", "m"),
    ("7alt", "7alt"), ("sus", "sus4"), ("6", "6"), ("-6", "m6"), ("o7", "dim7"), ("h7", "m7b5"),
    ("^9", "maj9"), ("-9", "m9"), ("9sus", "9sus4"), ("^13", "maj13"), ("-11", "m11"),
    ("13", "13"), ("13sus", "13sus4"), ("69", "6/9"), ("-69", "m69"), ("-^7", "mMaj7"),
    ("-^9", "mMaj9"), ("^7#11", "maj7#11"), ("^9#11", "maj9#11"), ("-b6", "mb6"),
    ("-#5", "m#5"), ("^7#5", "maj7#5"), ("add9", "add9"), ("-7b5", "m7b5"), ("h9", "m9b5"),
    ("2", "add9"), ("5", "5"), ("+", "aug"), ("o", "dim"), ("h", "m7b5"), ("7b9", "7b9"),
    ("7#9", "7#9"), ("7b5", "7b5"), ("7#5", "7#5"), ("7b13", "7b13"), ("7#11", "7#11"),
    ("9#11", "9#11"), ("13#11", "13#11"), ("11", "11"), ("7b9sus", "7sus4b9"),
    ("7b13sus", "7sus4b13"), ("7add3sus", "7sus4add3"), ("9b5", "9b5"), ("9#5", "9#5"),
    ("13b9", "13b9"), ("13#9", "13#9"), ("7b9b13", "7b9b13"), ("7b9#5", "7b9#5"),
    ("7b9b5", "7b9b5"), ("7b9#9", "7b9#9"), ("7#9#5", "7#9#5"), ("7#9b5", "7#9b5"),
    ("7#9#11", "7#9#11"), ("7b9#11", "7b9#11"),
]


@pytest.mark.parametrize("ireal, quality", IREAL_QUALITIES)
def test_every_ireal_quality_reads_through_parse_chord(ireal, quality):
    song = read1(f"[Eb{ireal}XyQZ")
    chord = song.bars[0].chords[0][1]
    assert chord.pitch_classes == parse_chord("Eb" + ireal).pitch_classes
    assert chord.quality.startswith(quality) or quality.startswith(chord.quality)
    assert chord == parse_chord(chord.symbol)  # the spelling reads back to the same chord


def test_older_irealbook_format():
    song = read_ireal(irealbook("Blue Monk", "[T44Bb7 Eb7 |Bb7 XyQ|Eb7XyQ|Bb7 Z", key="Bb"))[0]
    assert song.title == "Blue Monk" and bars(song)[0] == [(0.0, "Bb7"), (2.0, "Eb7")]


def test_playlist_html_export_and_one_bad_song():
    good = song_fields("One", "[C^7XyQZ")
    bad = song_fields("Autumn Leaves", "[C-7XyQ|F7XyQ|Bb^7XyQ|Eb^7XyQ|A-7b5XyQ|D7XyQ|G-6XyQ|"
                                       "G-6XyQ|A-7b5XyQ|D7XyQ|G-6XyQ|C7#14XyQZ")
    other = song_fields("Three", "[F7XyQZ", style="Rock")
    page = html_export(irealb(good, bad, other, playlist="Jazz Set"))
    songs = read_ireal(page)
    assert isinstance(songs, SongList) and songs.name == "Jazz Set"
    assert [(s.index, s.title) for s in songs] == [(0, "One"), (2, "Three")]
    [error] = songs.errors
    assert str(error).startswith("'Autumn Leaves', bar 12: unknown chord 'C7#14'")
    assert error.index == 1 and error.bar == 12 and error.token == "C7#14"
    assert songs.select(2).title == "Three"
    with pytest.raises(SongError, match="'Autumn Leaves', bar 12"):
        songs.select(1)
    with pytest.raises(SongError, match="no song 7 in the playlist: it has 3 songs"):
        songs.select(7)


@pytest.mark.parametrize("text, message", [
    ("nothing here", "no iReal Pro link"),
    ("irealb://Title%3DComposer", "damaged song: 2 fields"),
    ("irealb://" + "%3D".join(["T", "C", "", "Pop", "C", "n", "XXXX[C ZZ", "", "0", "0"]),
     "damaged chart: it does not start with iReal's marker"),
    (irealb(song_fields("Odd", "[C^7@XyQZ")), "'Odd', bar 1: unknown token '@'"),
    (irealb(song_fields("Five", "[T58C^7XyQZ")), "unknown time signature 'T58'"),
    (irealb(song_fields("Wee", "[W/G XyQZ")), "has no chord before it"),
    (irealb(song_fields("Key", "[C XyQZ", key="H")), "unknown key 'H'"),
    (irealb(song_fields("X", "[x XyQZ")), "'x' repeats bars that are not there"),
])
def test_damaged_links_and_unknown_tokens(text, message):
    with pytest.raises(SongError, match=message):
        read_ireal(text)


def test_a_song_reads_back_from_its_text():
    song = read1(AUTUMN, key="G-", title="Autumn Leaves")
    again = parse_song(song.to_text())
    assert again.title == "Autumn Leaves" and again.key.name == "G minor"
    for choruses in (1, 2):
        assert [(e.chord.symbol, e.start) for e in again.progression(choruses).events] == [
            (e.chord.symbol, e.start) for e in song.progression(choruses).events]
