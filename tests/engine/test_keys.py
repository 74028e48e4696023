"""Keys: names, parsing, detection on the shared examples, roman numerals."""

from pathlib import Path

import pytest

from workbench import Key, detect_key, parse_chord, parse_key, parse_progression, roman_numeral

EXAMPLES = Path(__file__).with_name("examples.txt")  # the project's copy of the shared examples
SHARED = Path(__file__).resolve().parents[3] / "shared" / "progressions" / "examples.txt"


def examples():
    rows = []
    for line in EXAMPLES.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, meter, key, text = (part.strip() for part in line.split("|", 3))
            rows.append(pytest.param(meter, key, text, id=name))
    return rows


@pytest.mark.parametrize("meter, key, text", examples())
def test_detects_the_key_of_every_example(meter, key, text):
    progression = parse_progression(text, meter=meter)
    assert progression.key_detected
    assert progression.key == parse_key(key), f"{text} detected as {progression.key.name}"


def test_examples_file_is_the_shared_one():
    if not SHARED.exists():
        pytest.skip("no ../shared next to this checkout")
    assert EXAMPLES.read_text() == SHARED.read_text()


@pytest.mark.parametrize("text, name, short", [
    ("C", "C major", "Cmaj"), ("Am", "A minor", "Amin"), ("A minor", "A minor", "Amin"),
    ("Bbmaj", "Bb major", "Bbmaj"), ("F# min", "F# minor", "F#min"), ("c minor", "C minor", "Cmin"),
    ("Eb", "Eb major", "Ebmaj"), ("Gb", "F# major", "F#maj"),
])
def test_parse_key(text, name, short):
    key = parse_key(text)
    assert key.name == name and key.short == short


@pytest.mark.parametrize("bad", ["H", "C lydian", "", "Cmajor7"])
def test_bad_key_names_it(bad):
    with pytest.raises(ValueError, match="unknown key"):
        parse_key(bad)


def test_key_signature_fifths():
    assert [parse_key(k).fifths for k in ("C", "G", "F", "Bb", "Am", "Em", "Dm", "F#", "Ebm")] == [
        0, 1, -1, -2, 0, 1, -1, 6, -6]


def test_roman_numerals():
    c, am = Key(0, "major"), Key(9, "minor")
    assert [roman_numeral(parse_chord(s), c) for s in ("C", "Dm7", "G7", "Bb", "Ab", "Bm7b5", "N.C.")] == [
        "I", "ii7", "V7", "bVII", "bVI", "viiø7", "N.C."]
    assert [roman_numeral(parse_chord(s), am) for s in ("Am", "Bm7b5", "E7", "F", "G", "G#dim7")] == [
        "i", "iiø7", "V7", "VI", "VII", "#vii°7"]


def test_detect_key_accepts_chords_and_ignores_no_chord():
    assert detect_key([parse_chord(s) for s in ("N.C.", "Dm7", "G7", "Cmaj7")]) == Key(0, "major")
    assert detect_key([]) == Key(0, "major")


def test_roman_numerals_of_inversions():
    c = Key(0)
    assert [roman_numeral(parse_chord(s), c) for s in
            ("C/E", "C/G", "F/A", "G7/B", "G7/D", "G7/F", "Bm7b5/F", "C/D")] == [
        "I6", "I64", "IV6", "V65", "V43", "V42", "viiø43", "I"]
