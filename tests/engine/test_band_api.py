"""generate() as a contract: arguments, errors, determinism, feel controls, the containers."""

from __future__ import annotations

import pytest

import workbench
from workbench import TRACKS, Arrangement, Note, Track

PROG = "| C | Am7 | Dm7 G7 | Cmaj7 | F | Fm6 | Em7 A7 | Dm7 G7 |"


def test_defaults_all_five_tracks_bar_one_at_beat_zero():
    a = workbench.generate(PROG)
    assert isinstance(a, Arrangement)
    assert list(a.tracks) == list(TRACKS) == ["bass", "drums", "keys", "pad", "guitar"]
    assert a.style == "pop" and a.tempo == 120 and a.meter == "4/4" and a.seed == 0
    # eight bars and, as the last chord (G7) is not the tonic, a bar on C to end on
    assert a.bars == 9 and a.length_beats == 36.0 and a.offset == 0.0 and a.intro_bars == 0
    assert a.chords[-1].chord.symbol == "C" and a.chords[-1].start == 32.0
    assert a.key.short == "Cmaj"
    assert a.chords[0].start == 0.0
    assert min(n.start for t in a.tracks.values() for n in t.notes) == 0.0
    for t in a.tracks.values():
        assert isinstance(t, Track) and t.notes and all(isinstance(n, Note) for n in t.notes)
        assert all(0 <= n.start < n.end <= a.length_beats + 1e-9 for n in t.notes)
        assert all(1 <= n.velocity <= 127 and 0 <= n.pitch <= 127 for n in t.notes)
        assert [n.start for n in t.notes] == sorted(n.start for n in t.notes)
    assert a.tracks["drums"].channel == 9 and a.tracks["drums"].is_drum
    assert len({t.channel for t in a.tracks.values()}) == 5


def test_accepts_a_progression_or_a_list():
    prog = workbench.parse_progression("| G | D | Em | C |")
    a = workbench.generate(prog, style="rock")
    assert a.progression is prog and a.key.short == "Gmaj"
    b = workbench.generate(["G", "D", "Em", "C"], style="rock")
    assert b.to_midi_bytes() == a.to_midi_bytes()


def test_same_seed_same_bytes_new_seed_new_take():
    kw = dict(style="funk", humanize=0.5, intensity=0.7)
    one = workbench.generate(PROG, seed=3, **kw).to_midi_bytes()
    assert one == workbench.generate(PROG, seed=3, **kw).to_midi_bytes()
    other = workbench.generate(PROG, seed=4, **kw).to_midi_bytes()
    assert other != one


def test_every_style_varies_with_the_seed():
    for s in workbench.styles():
        meter = s.meters[0]
        a = workbench.generate(PROG, style=s.name, meter=meter, seed=1, intensity=0.7)
        b = workbench.generate(PROG, style=s.name, meter=meter, seed=2, intensity=0.7)
        assert a.to_midi_bytes() != b.to_midi_bytes(), s.name


def test_one_tracks_settings_do_not_reshuffle_the_others():
    a = workbench.generate(PROG, seed=9, density={"keys": 0.9})
    b = workbench.generate(PROG, seed=9, density={"keys": 0.1})
    assert a.to_midi_bytes("drums") == b.to_midi_bytes("drums")
    assert a.to_midi_bytes("keys") != b.to_midi_bytes("keys")


def test_choose_tracks_and_order():
    a = workbench.generate(PROG, tracks=["keys", "bass"])
    assert list(a.tracks) == ["bass", "keys"]
    assert list(workbench.generate(PROG, tracks="drums,bass").tracks) == ["bass", "drums"]


@pytest.mark.parametrize("kwargs,match", [
    (dict(style="polka"), "polka.*rock"),
    (dict(tracks=["bass", "tuba"]), "tuba.*bass, drums"),
    (dict(tracks=[]), "no tracks"),
    (dict(style="waltz", meter="4/4"), "supports 3/4"),
    (dict(style="funk", meter="6/8"), "supports 4/4"),
    (dict(tempo=10), "tempo"),
    (dict(tempo=301), "tempo"),
    (dict(swing=1.5), "swing"),
    (dict(humanize=-0.1), "humanize"),
    (dict(intensity=2), "intensity"),
    (dict(instruments={"bass": 200}), "127"),
    (dict(instruments={"kazoo": 1}), "kazoo"),
    (dict(levels={"bass": 3}), "levels"),
    (dict(density={"keys": -1}), "density"),
    (dict(repeat=0), "repeat"),
    (dict(density=0.9), "density maps tracks.*0.9"),
    (dict(instruments="piano"), "instruments maps tracks.*piano"),
])
def test_bad_arguments_are_value_errors_naming_the_value(kwargs, match):
    with pytest.raises(ValueError, match=match):
        workbench.generate(PROG, **kwargs)


def test_bad_chords_raise_the_theory_errors():
    with pytest.raises(workbench.ProgressionError):
        workbench.generate("| C | Hx7 |")


def test_styles_listing():
    infos = workbench.styles()
    names = [s.name for s in infos]
    assert len(names) >= 10 and len(set(names)) == len(names)
    assert {"rock", "pop", "ballad", "funk", "swing", "bossa", "shuffle", "waltz", "reggae",
            "country"} <= set(names)
    for s in infos:
        assert isinstance(s, workbench.StyleInfo)
        assert s.description and s.meters and 40 <= s.default_tempo <= 240
        assert 0 <= s.default_swing <= 1
    by = {s.name: s for s in infos}
    assert by["waltz"].meters == ("3/4",)
    assert {"4/4", "6/8"} <= set(by["ballad"].meters) and "12/8" in by["ballad"].meters
    assert "12/8" in by["shuffle"].meters and by["shuffle"].default_swing >= 0.6
    assert {m for s in infos for m in s.meters} == {"4/4", "3/4", "6/8", "2/4", "12/8"}


def test_waltz_defaults_to_three_four():
    assert workbench.generate("| G | Em | C | D |", style="waltz").meter == "3/4"


def test_instruments_levels_density():
    a = workbench.generate(PROG, seed=2, instruments={"bass": 35, "keys": "Electric Piano 1"})
    assert a.tracks["bass"].program == 35 and a.tracks["keys"].program == 4
    assert a.tracks["guitar"].program == 25  # the style's choice
    loud = workbench.generate(PROG, seed=2)
    soft = workbench.generate(PROG, seed=2, levels={"keys": 0.5})
    lv = [n.velocity for n in loud.tracks["keys"].notes]
    sv = [n.velocity for n in soft.tracks["keys"].notes]
    assert len(lv) == len(sv) and sum(sv) < 0.6 * sum(lv)
    assert not workbench.generate(PROG, levels={"pad": 0}).tracks["pad"].notes
    sparse = workbench.generate(PROG, style="funk", seed=2, density={t: 0.0 for t in TRACKS})
    busy = workbench.generate(PROG, style="funk", seed=2, density={t: 1.0 for t in TRACKS})
    for t in ("bass", "drums", "keys", "guitar"):
        assert len(sparse.tracks[t].notes) < len(busy.tracks[t].notes), t


def test_intensity_is_louder_and_busier():
    lo = workbench.generate(PROG, style="rock", seed=1, intensity=0.1)
    hi = workbench.generate(PROG, style="rock", seed=1, intensity=0.9)
    mean = lambda a: sum(n.velocity for n in a.tracks["drums"].notes) / len(a.tracks["drums"].notes)  # noqa: E731
    assert mean(hi) > mean(lo) + 10
    assert len(hi.tracks["drums"].notes) > len(lo.tracks["drums"].notes)
    assert any(n.pitch == 46 for n in hi.tracks["drums"].notes)  # open hat into the bar
    quiet = workbench.generate(PROG, style="rock", seed=1, intensity=0.0, humanize=0)
    assert {n.start % 1 for n in quiet.tracks["drums"].notes if n.pitch == 42} == {0.0}


def test_swing_moves_the_offbeats():
    straight = workbench.generate(PROG, style="pop", tracks=["drums"], swing=0.0, humanize=0)
    swung = workbench.generate(PROG, style="pop", tracks=["drums"], swing=2 / 3, humanize=0)
    hats = lambda a: sorted({round(n.start % 1, 3) for n in a.tracks["drums"].notes if n.pitch == 42})  # noqa: E731
    assert 0.5 in hats(straight) and 0.667 not in hats(straight)
    assert 0.667 in hats(swung) and 0.5 not in hats(swung)


def test_humanize_zero_is_the_grid_and_humanize_loosens():
    exact = workbench.generate(PROG, style="rock", tracks=["drums", "bass"], seed=3, humanize=0)
    assert all(abs(n.start * 4 - round(n.start * 4)) < 1e-9 for n in exact.tracks["drums"].notes)
    loose = workbench.generate(PROG, style="rock", tracks=["drums", "bass"], seed=3, humanize=1.0)
    off = [n for n in loose.tracks["drums"].notes if abs(n.start * 4 - round(n.start * 4)) > 1e-6]
    assert len(off) > len(loose.tracks["drums"].notes) // 2
    assert max(abs(n.start * 4 - round(n.start * 4)) / 4 for n in off) <= 0.031
    assert len({n.velocity for n in loose.tracks["drums"].notes}) > len(
        {n.velocity for n in exact.tracks["drums"].notes})


def test_count_in_shifts_everything_by_a_bar_of_sticks():
    plain = workbench.generate(PROG, style="rock", seed=5)
    counted = workbench.generate(PROG, style="rock", seed=5, count_in=True)
    assert counted.offset == 4.0 and counted.length_beats == plain.length_beats + 4
    assert counted.bars == plain.bars + 1 and counted.count_in
    sticks = [n for n in counted.tracks["drums"].notes if n.start < 4.0]
    assert [n.start for n in sticks] == [0.0, 1.0, 2.0, 3.0] and {n.pitch for n in sticks} == {31}
    for name in ("bass", "keys", "pad", "guitar"):
        assert [(n.pitch, n.start + 4, n.end + 4) for n in plain.tracks[name].notes] == [
            (n.pitch, n.start, n.end) for n in counted.tracks[name].notes]
    assert [c.start + 4 for c in plain.chords] == [c.start for c in counted.chords]
    six = workbench.generate("| D | G |", style="ballad", meter="6/8", count_in=True)
    assert [n.start for n in six.tracks["drums"].notes if n.pitch == 31] == [0.0, 1.5]


def test_repeat_plays_the_progression_again_and_ends_once():
    a = workbench.generate("| C | F | G | C |", style="pop", seed=1, repeat=3)
    assert a.bars == 12 and a.length_beats == 48 and len(a.chords) == 12
    assert [c.start for c in a.chords] == [4.0 * i for i in range(12)]
    assert [c.bar for c in a.chords] == list(range(12))
    crashes_at_end = [n for n in a.tracks["drums"].notes if n.pitch == 49 and n.end == 48]
    assert len(crashes_at_end) == 1


def test_meter_given_with_a_progression_reparses_it():
    prog = workbench.parse_progression("| G | Em | C | D |")
    a = workbench.generate(prog, style="waltz", meter="3/4")
    assert a.meter == "3/4" and a.length_beats == 15.0  # four bars and the tag on G


def test_containers_summaries():
    a = workbench.generate(PROG, style="bossa", tempo=128, seed=2)
    d = a.to_dict()  # 8 bars, the bossa's tag (the last two bars twice more) and the tonic
    assert d["key"] == "Cmaj" and d["bars"] == 13 and d["tempo"] == 128 and d["style"] == "bossa"
    assert d["tracks"]["bass"]["notes"] == len(a.tracks["bass"].notes)
    assert d["chords"][0]["symbol"] == "C"
    import json

    json.dumps(d)
    assert a.duration_seconds == pytest.approx(52 * 60 / 128)
    arr = a.notes_array("bass")
    assert arr.shape == (len(a.tracks["bass"].notes), 4)
    assert "bossa" in repr(a) and "Cmaj" in repr(a) and "bass:" in repr(a)
    bundle = a._repr_mimebundle_()
    assert isinstance(bundle, dict) and bundle
    assert "program=32" in repr(a.tracks["bass"])


def test_final_chord_is_struck_by_everyone_and_the_take_ends_with_it():
    for style in ("swing", "rock"):  # a short button after a tag; kicks, then a held chord
        a = workbench.generate("| C | F | G7 | C |", style=style, seed=1)
        final = a.chords[-1].start
        for name, t in a.tracks.items():
            last = [n for n in t.notes if n.start >= final - 1e-9]
            assert last and all(n.start < final + 0.1 for n in last), name
        assert max(n.end for t in a.tracks.values() for n in t.notes) == a.length_beats


def test_without_ending_the_last_bar_grooves_like_the_others():
    """ending=False is for loops: the last bar plays the pattern, no held chord, no crash."""
    held = workbench.generate("| C | F | C | F |", style="rock", seed=1)
    loop = workbench.generate("| C | F | C | F |", style="rock", seed=1, ending=False)
    def strikes(a, name, bar):
        # onsets on a sixteenth grid: a strum spreads one stroke over a few milliseconds
        return len({round(n.start * 4) for n in a.tracks[name].notes
                    if bar * 4 <= n.start < bar * 4 + 4})

    for name in ("bass", "keys", "guitar"):
        assert strikes(held, name, 3) == 1, name
        # (the rock keys hold half notes under the guitar: two strokes a bar)
        assert strikes(loop, name, 3) >= 2 and strikes(loop, name, 1) >= 2, name
    assert not [n for n in loop.tracks["drums"].notes if n.pitch == 49 and n.end == 16.0]


def test_import_is_light():
    import subprocess
    import sys

    code = ("import sys, workbench; workbench.generate; workbench.Arrangement; workbench.styles;"
            "heavy = [m for m in ('music21', 'numpy', 'pretty_midi', 'mido') if m in sys.modules];"
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
