"""The piano roll's state (bytes), the static SVG and the Arrangement's rich display."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np

import workbench
from workbench.instruments import GM_DRUM_NAMES
from workbench.ui import pianoroll


def test_roll_state_notes_are_float32_bytes(arrangement):
    state = pianoroll.roll_state(arrangement)
    assert isinstance(state["notes"], bytes)
    notes = pianoroll.notes_array(state)
    total = sum(len(t.notes) for t in arrangement.tracks.values())
    assert notes.shape == (total, 6) and notes.dtype == np.float32
    assert state["bars"] == arrangement.bars == 5  # four bars and the tonic the band ends on
    assert state["beats_per_bar"] == 4.0
    names = [t["name"] for t in state["tracks"]]
    assert names == list(arrangement.tracks)
    assert len({t["color"] for t in state["tracks"]}) == len(names)   # one colour per track


def test_roll_state_pitched_rows_are_pitches(arrangement):
    state = pianoroll.roll_state(arrangement)
    notes = pianoroll.notes_array(state)
    names = [t["name"] for t in state["tracks"]]
    bass = notes[notes[:, 4] == names.index("bass")]
    src = arrangement.tracks["bass"].notes
    assert bass[:, 2].tolist() == [n.pitch for n in src]
    assert (bass[:, 5] == bass[:, 2]).all()
    assert state["pitch_lo"] <= bass[:, 2].min() and bass[:, 2].max() <= state["pitch_hi"]


def test_drums_get_one_named_row_per_sound(arrangement):
    state = pianoroll.roll_state(arrangement)
    pitches = sorted({n.pitch for n in arrangement.tracks["drums"].notes}, reverse=True)
    assert [r["pitch"] for r in state["drum_rows"]] == pitches
    assert [r["name"] for r in state["drum_rows"]] == [GM_DRUM_NAMES[p] for p in pitches]
    notes = pianoroll.notes_array(state)
    drum_index = [t["name"] for t in state["tracks"]].index("drums")
    rows = notes[notes[:, 4] == drum_index][:, 5]
    assert rows.min() >= 0 and rows.max() == len(pitches) - 1


def test_chord_lane_has_symbols_and_roman_numerals(arrangement):
    chords = pianoroll.roll_state(arrangement)["chords"]
    assert [c["symbol"] for c in chords] == ["C", "Am", "F", "G", "C"]  # the ending on I
    assert [c["roman"] for c in chords] == ["I", "vi", "IV", "V", "I"]
    assert [c["start"] for c in chords] == [0.0, 4.0, 8.0, 12.0, 16.0]


def test_no_chord_has_no_roman_numeral():
    arr = workbench.generate("| E | A | N.C. | B7 |", seed=1)
    chords = pianoroll.roll_state(arr)["chords"]
    nc = [c for c in chords if c["symbol"] == "N.C."]
    assert nc and nc[0]["roman"] == ""


def test_svg_is_deterministic_and_well_formed(arrangement):
    a = pianoroll.arrangement_svg(arrangement)
    b = pianoroll.arrangement_svg(workbench.generate("| C | Am | F | G |", style="pop",
                                                     tempo=120, seed=3))
    assert a == b
    root = ET.fromstring(a)
    assert root.tag.endswith("svg")
    for text in ("C", "Am", "vi", "IV", "Acoustic Snare" if 38 in {
            n.pitch for n in arrangement.tracks["drums"].notes} else "Bass Drum 1"):
        assert f">{text}<" in a
    total = sum(len(t.notes) for t in arrangement.tracks.values())
    assert a.count("fill-opacity") == total


def test_svg_meters(blues):
    waltz = workbench.generate("| G | Em | Am7 | D7 |", style="waltz", meter="3/4", seed=2)
    state = pianoroll.roll_state(waltz)
    assert state["beats_per_bar"] == 3.0 and state["bars"] == 5  # and the bar on G
    svg = pianoroll.arrangement_svg(waltz)
    ET.fromstring(svg)
    assert pianoroll.roll_state(blues)["bars"] == 13  # the turnaround resolves to a bar of I


def test_mimebundle_outside_a_kernel_is_static(arrangement):
    bundle = pianoroll.arrangement_mimebundle(arrangement)
    assert set(bundle) == {"text/plain", "text/html"}
    assert bundle["text/html"].count("<svg") == 1
    assert "pop" in bundle["text/plain"]
    assert arrangement._repr_mimebundle_() == bundle


def test_import_workbench_does_not_import_widgets():
    code = ("import sys, workbench; workbench.generate('| C | G |');"
            "bad = [m for m in ('ipywidgets', 'anywidget', 'workbench.ui') if m in sys.modules];"
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_widget_state_round_trip(arrangement):
    roll = pianoroll.PianoRoll(arrangement)
    assert roll.bars == 5 and roll.notes == pianoroll.roll_state(arrangement)["notes"]
    assert roll.group
    state = roll.get_state()
    assert isinstance(state["notes"], (bytes, memoryview))
    bundle = roll._repr_mimebundle_()
    assert "<svg" in bundle["text/html"]
    assert "application/vnd.jupyter.widget-view+json" in bundle
    empty = pianoroll.PianoRoll()
    assert "nothing" in empty._repr_mimebundle_()["text/html"]
