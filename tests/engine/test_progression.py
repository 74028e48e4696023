"""Progressions: bar notation, explicit beats, repeats, lists, meters, errors, transpose."""

import pytest

from workbench import ProgressionError, parse_progression


def timeline(p):
    return [(e.chord.symbol, e.bar, e.start, e.duration) for e in p.events]


def test_chords_in_a_bar_share_it():
    p = parse_progression("| C Am | F G |")
    assert p.bars == 2 and p.beats_per_bar == 4.0 and p.length_beats == 8.0
    assert timeline(p) == [("C", 0, 0.0, 2.0), ("Am", 0, 2.0, 2.0), ("F", 1, 4.0, 2.0), ("G", 1, 6.0, 2.0)]


def test_explicit_beats_and_open_chords_share_the_rest():
    assert timeline(parse_progression("| C:3 G/B:1 |")) == [("C", 0, 0.0, 3.0), ("G/B", 0, 3.0, 1.0)]
    assert timeline(parse_progression("| C:2 F G |")) == [("C", 0, 0.0, 2.0), ("F", 0, 2.0, 1.0), ("G", 0, 3.0, 1.0)]


def test_beats_count_in_the_meters_unit():
    p = parse_progression("| D:3 A:3 |", meter="6/8")  # eighths in 6/8
    assert p.beats_per_bar == 3.0
    assert timeline(p) == [("D", 0, 0.0, 1.5), ("A", 0, 1.5, 1.5)]


@pytest.mark.parametrize("text", ["| C || G |", "| C |\n| G |", "| C | \r\n | G |", " |C|G| ",
                                  "C |  G"])
def test_bar_line_layout_is_not_a_bar(text):
    assert [e.chord.symbol for e in parse_progression(text).events] == ["C", "G"]


def test_repeat_no_chord_and_free_line_breaks():
    p = parse_progression("| Em | % |\n| N.C. | B7 |")
    assert [e.chord.symbol for e in p.events] == ["Em", "Em", "N.C.", "B7"]
    assert p.events[2].chord.is_no_chord and p.bars == 4


@pytest.mark.parametrize("source", [["C", "Am", "F", "G"], "C Am F G", "C, Am, F, G", "C Am\nF G"])
def test_lists_and_plain_text_hold_one_chord_a_bar(source):
    p = parse_progression(source)
    assert p.bars == 4 and [e.start for e in p.events] == [0.0, 4.0, 8.0, 12.0]


def test_list_item_may_hold_a_bar_of_chords():
    assert parse_progression(["C Am", "F G"]).bars == 2


@pytest.mark.parametrize("meter, beats", [("4/4", 4), ("3/4", 3), ("6/8", 3), ("2/4", 2), ("12/8", 6)])
def test_meters(meter, beats):
    p = parse_progression("| C | G |", meter=meter)
    assert p.meter == meter and p.beats_per_bar == beats and p.events[1].start == beats


@pytest.mark.parametrize("text, bar, message", [
    ("| C | Am | Hx7 |", 3, "bar 3: unknown chord 'Hx7'"),
    ("| C:3 G:2 |", 1, "bar 1: beats add up to 5 but a 4/4 bar has 4"),
    ("| C | C:4 G |", 2, "bar 2: beats add up to 4 or more"),
    ("| % | C |", 1, "bar 1: '%' has no previous bar"),
    ("| C:x |", 1, "cannot read the length 'x'"),
    ("| C | Am | G:3 |", 3, "bar 3: beats add up to 3 but a 4/4 bar has 4 ('G:3')"),
    ("| C :2 G |", 1, "bar 1: the length ':2' has no chord before it"),
    (["C", "", "F"], 2, "bar 2: empty bar"),
    ("| C | | G |", 2, "bar 2: empty bar"),       # not silently dropped: the song stays 3 bars
    ("| C Am |  |\n| F |", 2, "bar 2: empty bar"),
])
def test_errors_name_the_bar_and_the_value(text, bar, message):
    with pytest.raises(ProgressionError) as info:
        parse_progression(text)
    assert message in str(info.value) and info.value.bar == bar


def test_error_symbol_and_position():
    with pytest.raises(ProgressionError) as info:
        parse_progression(["C", "Am F Zz", "G"])
    assert (info.value.bar, info.value.symbol, info.value.index) == (2, "Zz", 3)


@pytest.mark.parametrize("source", ["", "   ", "| |", [], None])
def test_empty_progression(source):
    with pytest.raises(ProgressionError, match="empty progression"):
        parse_progression(source)


def test_unknown_meter_lists_the_known_ones():
    with pytest.raises(ProgressionError, match=r"unknown meter '5/3'; known meters: 4/4, 3/4"):
        parse_progression("C", meter="5/3")


def test_given_key_is_kept_and_bad_key_named():
    p = parse_progression("| Am | G |", key="C")
    assert p.key.name == "C major" and not p.key_detected
    with pytest.raises(ProgressionError, match="unknown key 'Q'"):
        parse_progression("C", key="Q")


def test_transpose_and_round_trip():
    p = parse_progression("| Cm7 F7 | Bbmaj7:2 Bb/D:2 | N.C. |")
    up = p.transpose(2)
    assert up.to_text() == "| Dm7 G7 | Cmaj7:2 C/E:2 | N.C. |"
    assert up.key.name == "C major"
    assert timeline(parse_progression(p.to_text())) == timeline(p)
    assert p.transpose(12).to_text() == p.to_text()
