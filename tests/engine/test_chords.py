"""Chord symbols: every quality and alias of the issue, spelling, errors, music21 cross-check."""

import pytest

from workbench import ChordError, parse_chord

# symbol → pitch classes above a C root (as a set), for every spelling lead sheets use
QUALITIES = {
    "C": {0, 4, 7}, "Cm": {0, 3, 7}, "Cmin": {0, 3, 7}, "C-": {0, 3, 7},
    "Cdim": {0, 3, 6}, "C°": {0, 3, 6}, "Co": {0, 3, 6},
    "Caug": {0, 4, 8}, "C+": {0, 4, 8},
    "Csus2": {0, 2, 7}, "Csus4": {0, 5, 7}, "Csus": {0, 5, 7}, "C5": {0, 7},
    "C6": {0, 4, 7, 9}, "Cm6": {0, 3, 7, 9}, "C6/9": {0, 4, 7, 9, 2}, "C69": {0, 4, 7, 9, 2},
    "Cm69": {0, 3, 7, 9, 2},
    "C7": {0, 4, 7, 10},
    "Cmaj7": {0, 4, 7, 11}, "CM7": {0, 4, 7, 11}, "CΔ": {0, 4, 7, 11}, "CΔ7": {0, 4, 7, 11},
    "C^7": {0, 4, 7, 11}, "C△7": {0, 4, 7, 11}, "C∆": {0, 4, 7, 11}, "C△9": {0, 4, 7, 11, 2},
    "Ch7": {0, 3, 6, 10}, "CØ": {0, 3, 6, 10},
    "Cm7": {0, 3, 7, 10}, "Cmin7": {0, 3, 7, 10}, "C-7": {0, 3, 7, 10},
    "CmMaj7": {0, 3, 7, 11}, "Cm(maj7)": {0, 3, 7, 11},
    "Cm7b5": {0, 3, 6, 10}, "Cø": {0, 3, 6, 10}, "Cø7": {0, 3, 6, 10},
    "Cdim7": {0, 3, 6, 9}, "C°7": {0, 3, 6, 9},
    "C7sus4": {0, 5, 7, 10}, "C9": {0, 4, 7, 10, 2}, "Cmaj9": {0, 4, 7, 11, 2},
    "Cm9": {0, 3, 7, 10, 2}, "C11": {0, 7, 10, 2, 5}, "Cm11": {0, 3, 7, 10, 2, 5},
    "C13": {0, 4, 7, 10, 2, 9}, "Cmaj13": {0, 4, 7, 11, 2, 9}, "Cm13": {0, 3, 7, 10, 2, 5, 9},
    "C7b9": {0, 4, 7, 10, 1}, "C7#9": {0, 4, 7, 10, 3}, "C7b5": {0, 4, 6, 10},
    "C7#5": {0, 4, 8, 10}, "C7#11": {0, 4, 7, 10, 6}, "C7b13": {0, 4, 7, 10, 8},
    "C7alt": {0, 4, 10, 1, 3, 6, 8}, "C7b9#11": {0, 4, 7, 10, 1, 6}, "C7(b9)": {0, 4, 7, 10, 1},
    "C13#11": {0, 4, 7, 10, 2, 6, 9}, "C9#11": {0, 4, 7, 10, 2, 6}, "Cmaj7#11": {0, 4, 7, 11, 6},
    "Cadd9": {0, 4, 7, 2}, "Cadd2": {0, 4, 7, 2}, "Cmadd9": {0, 3, 7, 2}, "C9sus4": {0, 5, 7, 10, 2},
}


@pytest.mark.parametrize("symbol, expected", sorted(QUALITIES.items()))
def test_every_quality_and_alias(symbol, expected):
    chord = parse_chord(symbol)
    assert chord.root == 0 and chord.bass == 0
    assert set(chord.pitch_classes) == expected
    assert len(chord.note_names) == len(chord.pitch_classes)


@pytest.mark.parametrize("symbol, root", [
    ("Bb7", 10), ("B♭7", 10), ("F#m", 6), ("F♯m", 6), ("Ebdim7", 3), ("Cb", 11), ("E#", 5), ("Abmaj7", 8),
])
def test_roots_with_accidentals(symbol, root):
    assert parse_chord(symbol).root == root


def test_slash_chords_set_the_bass():
    assert (parse_chord("C/E").root, parse_chord("C/E").bass) == (0, 4)
    assert parse_chord("D/F#").note_names == ("D", "F#", "A")
    upper = parse_chord("Bb/C")  # the bass is not a chord tone: it sounds too, listed first
    assert upper.bass == 0 and upper.pitch_classes == (0, 10, 2, 5)
    assert parse_chord("C6/9").bass == 0  # 6/9 is a quality, not a slash chord
    assert parse_chord("Am7/G").quality == "m7"


def test_spelling_follows_the_degrees():
    assert parse_chord("Bb7").note_names == ("Bb", "D", "F", "Ab")
    assert parse_chord("F#7").note_names == ("F#", "A#", "C#", "E")
    assert parse_chord("Ebdim7").note_names == ("Eb", "Gb", "Bbb", "Dbb")
    assert parse_chord("A7#9").note_names[-1] == "B#"


@pytest.mark.parametrize("value", [["C"], 5, None])
def test_a_symbol_that_is_not_text_is_a_chord_error(value):
    with pytest.raises(ChordError, match="must be text"):
        parse_chord(value)


def test_no_chord():
    for text in ("N.C.", "NC", "N.C"):
        chord = parse_chord(text)
        assert chord.is_no_chord and chord.root is None and chord.pitch_classes == ()


@pytest.mark.parametrize("symbol, part", [
    ("Hx7", "unknown root 'H'"), ("Cmaj7#", "unknown quality 'maj7#'"), ("C/H", "unknown bass note 'H'"),
    ("", "empty"), ("Cfoo", "unknown quality 'foo'"), ("c", "unknown root 'c'"), ("C7b10", "unknown quality"),
])
def test_errors_name_the_symbol_and_the_part(symbol, part):
    with pytest.raises(ChordError) as info:
        parse_chord(symbol)
    assert repr(symbol) in str(info.value) and part in str(info.value)
    assert isinstance(info.value, ValueError)


# music21 reads these right (with its '-' for flat); we agree on the pitch classes.
MUSIC21_AGREES = [
    "C", "Am", "F7", "Gmaj7", "Dm7", "Bbmaj7", "Ebm7", "F#m7b5", "Bdim", "Caug", "Ddim7", "Esus4",
    "A7sus4", "G9", "CM7", "Dm9", "Fm11", "E7#11", "C6", "Am6", "E7b9", "G7#9", "D7#5", "Bb7b5",
    "C/E", "D/F#", "Am7/G", "Cadd9", "Abmaj7", "Db7",
]


def _music21_symbol(symbol: str) -> str:
    return symbol[0] + symbol[1:].replace("b", "-", 1) if len(symbol) > 1 and symbol[1] == "b" else symbol


@pytest.mark.parametrize("symbol", MUSIC21_AGREES)
def test_music21_cross_check(symbol):
    harmony = pytest.importorskip("music21.harmony")
    theirs = {p.pitchClass for p in harmony.ChordSymbol(_music21_symbol(symbol)).pitches}
    assert set(parse_chord(symbol).pitch_classes) == theirs


def test_music21_misreads_what_we_read():
    """The reason music21 is not the parser: it misreads Bb13#11 (our read: B♭ D F A♭ C E G)."""
    harmony = pytest.importorskip("music21.harmony")
    ours = set(parse_chord("Bb13#11").pitch_classes)
    assert ours == {10, 2, 5, 8, 0, 4, 7}
    try:
        theirs = {p.pitchClass for p in harmony.ChordSymbol("Bb13#11").pitches}
    except Exception:  # music21 rejects it outright on some versions
        theirs = set()
    assert theirs != ours
