"""Each style is its own feel: the things a player would listen for, style by style."""

from __future__ import annotations

import itertools

import pytest

import workbench
from workbench.band import endings

KICK, SIDE, SNARE, HAT, PEDAL, OPEN, CRASH, RIDE = 36, 37, 38, 42, 44, 46, 49, 51
TOMS = {41, 43, 45, 47, 48, 50}
EIGHT = "| Cmaj7 | Am7 | Dm7 | G7 | Em7 | A7 | Dm7 | G7 | C6 | C6 |"
SIMPLE = "| C | C | F | F | G | G | C | C |"


def grid(*args, **kwargs):
    """A take on the exact grid (humanize 0): these tests look at where the idioms sit."""
    kwargs.setdefault("humanize", 0)
    return workbench.generate(*args, **kwargs)


def drums(a):
    return a.tracks["drums"].notes


def groove_until(a):
    """The beat where the ending starts to change the groove: its kicks, its tag or its
    ritard (see workbench.band.endings); the bars before it groove as usual."""
    return endings.groove_bars(a) * a.beats_per_bar


def at(notes, pitch, bar_len, lo=0, hi=None):
    """Bar positions (rounded) where ``pitch`` starts, in bars lo..hi."""
    hi = hi if hi is not None else 10**6
    return sorted({round(n.start % bar_len, 3) for n in notes
                   if n.pitch == pitch and lo * bar_len <= n.start < hi * bar_len})


def test_swing_walking_bass_with_approach_notes():
    a = grid(EIGHT, style="swing", seed=2, intensity=0.6)
    bass = a.tracks["bass"].notes
    body = [n for n in bass if n.start < 32]  # before the held ending
    assert [n.start for n in body] == [float(i) for i in range(32)]  # a walking line: every beat
    approaches = 0
    changes = 0
    for ev, nxt in zip(a.chords, a.chords[1:], strict=False):
        if nxt.start >= 32 or ev.chord.symbol == nxt.chord.symbol:
            continue
        before = next(n for n in bass if n.start == nxt.start - 1)
        target = next(n for n in bass if n.start == nxt.start)
        changes += 1
        if abs(before.pitch - target.pitch) == 1 or (before.pitch - target.pitch) % 12 in (5, 7):
            approaches += 1
    assert changes >= 6 and approaches == changes
    assert len({n.pitch for n in body}) >= 10  # it walks, not pedals


def test_swing_ride_spang_a_lang_hat_on_two_and_four_swung():
    a = grid(EIGHT, style="swing", seed=2, swing=2 / 3)
    assert at(drums(a), RIDE, 4, 1, 3) == [0.0, 1.0, 1.667, 2.0, 3.0, 3.667]
    assert at(drums(a), PEDAL, 4, 0, 9) == [1.0, 3.0]
    default = grid(EIGHT, style="swing", seed=2)
    swing = default.swing
    assert 0.5 < swing < 0.75
    assert round(1.5 + swing / 4, 3) in at(drums(default), RIDE, 4, 1, 3)


JAZZ = ("| Dm9 | G7alt | Cmaj7 | A7b9 | Bm7b5 | E7#9 | Am6 | D13 | Ebdim7 | Dm7 G7 | "
        "Bb13#11 | C7b5 | F#m7b5 B7#5 | Em7 A7 | Dm11 G7b9 | C6/9 |")


@pytest.mark.parametrize("prog", [EIGHT, JAZZ])
def test_swing_comping_is_rootless_and_varies(prog):
    a = grid(prog, style="swing", seed=4)
    keys = a.tracks["keys"].notes
    rhythms = set()
    for ev in a.chords:
        mine = [n for n in keys if ev.start <= n.start < ev.start + ev.duration]
        assert ev.chord.root not in {n.pitch % 12 for n in mine}, ev.chord.symbol
        rhythms.add(tuple(sorted({round(n.start - ev.start, 3) for n in mine})))
    assert len(rhythms) >= 3


def test_pop_keys_are_not_rootless():
    a = grid(EIGHT, style="pop", seed=4)
    pcs = {n.pitch % 12 for n in a.tracks["keys"].notes if 32 <= n.start < 36}
    assert 0 in pcs  # C6 voiced with its root (the keys join after the guitar's first phrase)


def test_bossa_bass_root_fifth_and_clave():
    a = grid(SIMPLE, style="bossa", seed=1)
    bass = a.tracks["bass"].notes
    bar = [(round(n.start, 3), n.pitch % 12) for n in bass if 0 <= n.start < 4]
    assert bar[:3] == [(0.0, 0), (1.5, 7), (2.0, 7)]
    assert at(drums(a), SIDE, 8, 0, 3) == [0.0, 1.5, 3.0, 5.0, 6.5]  # 2-bar bossa clave
    guitar = {round(n.start % 4, 2) for n in a.tracks["guitar"].notes}
    assert {1.5, 2.5} <= guitar  # syncopated comping


def test_funk_sixteenths_ghosts_and_octaves():
    a = grid(SIMPLE, style="funk", seed=3, intensity=0.7)
    bass = a.tracks["bass"].notes
    assert any(round(n.start % 1, 2) in (0.25, 0.75) for n in bass)
    assert any(abs(x.pitch - y.pitch) == 12 for x, y in zip(bass, bass[1:], strict=False))
    snares = [n for n in drums(a) if n.pitch == SNARE]
    assert any(n.velocity < 50 for n in snares) and any(n.velocity > 100 for n in snares)
    assert at(drums(a), HAT, 4, 0, 3)[:4] == [0.0, 0.25, 0.5, 0.75]
    assert any(n.end - n.start <= 0.2 for n in a.tracks["guitar"].notes)


def test_reggae_one_drop_and_offbeat_skank():
    a = grid(SIMPLE, style="reggae", seed=1, swing=0)
    d = drums(a)
    body = [n for n in d if 4 <= n.start < 12]
    assert at(body, KICK, 4) == [2.0]  # nothing on beat 1: the one drop
    assert 2.0 in at(body, SIDE, 4)
    skank = [n for n in a.tracks["guitar"].notes if n.start < groove_until(a)]
    assert skank and all(0.45 <= n.start % 1 <= 0.6 for n in skank)
    assert all(n.end - n.start <= 0.25 for n in skank)


def test_country_boom_chick_alternating_bass_and_train_beat():
    a = grid(SIMPLE, style="country", seed=1, density={"bass": 0.0})
    bass = [n for n in a.tracks["bass"].notes if n.start < groove_until(a)]
    for bar in range(int(groove_until(a) // 4)):
        notes = [n for n in bass if bar * 4 <= n.start < bar * 4 + 4]
        one = next(n for n in notes if n.start == bar * 4)
        three = next(n for n in notes if n.start == bar * 4 + 2)
        chord = a.chords[bar].chord
        assert one.pitch % 12 == chord.root and (three.pitch - one.pitch) % 12 == 7
        assert three.pitch < one.pitch or three.pitch - one.pitch == 7
    assert len(at(drums(a), SNARE, 4, 0, 3)) >= 12  # sixteenth-note train beat
    chick = {round(n.start % 4, 2) for n in a.tracks["guitar"].notes if n.pitch > 52}
    assert {1.0, 3.0} <= {round(x, 0) for x in chick}


def test_shuffle_is_a_triplet_feel_in_4_4_and_12_8():
    a = grid(SIMPLE, style="shuffle", seed=1)
    offs = {round(n.start % 1, 3) for n in a.tracks["bass"].notes}
    assert offs <= {0.0, 0.667}
    b = grid(SIMPLE, style="shuffle", meter="12/8", seed=1)
    assert b.length_beats == 8 * 6
    assert {round(n.start % 1.5, 3) for n in b.tracks["bass"].notes} <= {0.0, 1.0}


def test_waltz_oom_pah_pah():
    a = grid("| G | G | C | C | D7 | D7 | G | G |", style="waltz", seed=1)
    assert a.meter == "3/4"
    body = groove_until(a)
    bass = [n for n in a.tracks["bass"].notes if n.start < body]
    assert {round(n.start % 3, 3) for n in bass} <= {0.0, 2.0}
    assert all(any(n.start == b * 3 for n in bass) for b in range(int(body // 3)))
    assert all(n.pitch % 12 == a.chords[int(n.start // 3)].chord.root for n in bass
               if n.start % 3 == 0)
    fifths = [n for n in bass if n.start % 3 == 2]
    assert all((n.pitch - a.chords[int(n.start // 3)].chord.root) % 12 == 7 for n in fifths)
    keys = {round(n.start % 3, 3) for n in a.tracks["keys"].notes if n.start < body}
    assert keys == {1.0, 2.0}
    with pytest.raises(ValueError, match="3/4"):
        grid("| G |", style="waltz", meter="4/4")


def test_ballad_in_six_and_twelve_eight():
    for meter, bar in (("6/8", 3.0), ("12/8", 6.0)):
        a = grid("| D | G | D | A7 |", style="ballad", meter=meter, seed=1)
        assert a.length_beats == 5 * bar  # four bars and a bar of D to end on the tonic
        body = int(groove_until(a) // bar)  # the last two bars before the final slow down
        assert at(drums(a), SIDE, bar, 0, body) == ([1.5] if bar == 3 else [1.5, 4.5])
        keys = a.tracks["keys"].notes
        assert len({n.start for n in keys}) >= 4 * bar / 0.5 * 0.75  # broken chords in eighths


def test_rock_backbeat_and_power_chords():
    a = grid(SIMPLE, style="rock", seed=1)
    assert at([n for n in drums(a) if n.velocity > 90], SNARE, 4, 0, 3) == [1.0, 3.0]
    assert {0.0, 2.0} <= set(at(drums(a), KICK, 4, 0, 3))
    chord = sorted(n.pitch for n in a.tracks["guitar"].notes if n.start < 0.1)
    assert [p - chord[0] for p in chord] == [0, 7, 12]


def test_fills_at_phrase_ends_and_a_crash_after():
    a = grid(SIMPLE * 2, style="rock", seed=1, intensity=0.5)
    d = drums(a)
    phrase_end = [n for n in d if 28 <= n.start < 32]
    assert any(n.pitch in TOMS or n.pitch == SNARE and n.start % 1 for n in phrase_end)
    assert any(n.pitch == CRASH and n.start == 32 for n in d)
    ordinary = [n for n in d if 8 <= n.start < 12]
    assert not any(n.pitch in TOMS for n in ordinary)


def test_every_style_has_its_own_groove():
    grooves = {}
    for s in workbench.styles():
        for meter in s.meters:
            a = grid(SIMPLE, style=s.name, meter=meter, seed=0, intensity=1.0,
                                   tracks=["drums", "bass"])
            bar = a.beats_per_bar
            grooves[(s.name, meter)] = (
                frozenset((n.pitch, round(n.start % bar, 3)) for n in drums(a) if bar <= n.start < 3 * bar),
                frozenset(round(n.start % bar, 3) for n in a.tracks["bass"].notes if n.start < 3 * bar))
    for (k1, g1), (k2, g2) in itertools.combinations(grooves.items(), 2):
        if k1[1] == k2[1]:
            assert g1 != g2, (k1, k2)


def test_every_part_has_a_pattern_for_every_meter_of_every_style():
    from workbench.band import bass, drums, guitar, keys

    for s in workbench.styles():
        for meter in s.meters:
            for part in (bass, drums, keys, guitar):
                assert part.has_pattern(s.name, meter), (part.__name__, s.name, meter)
    assert not drums.has_pattern("funk", "3/4")


def test_walking_bass_walks_on_through_a_repeated_chord():
    a = grid("| C7 | % | % | % | F7 | % | C7 | % | G7 | F7 | C7 | G7 |",
                           style="swing", seed=1)
    bass = a.tracks["bass"].notes
    assert [n.start for n in bass if n.start < 44] == [float(i) for i in range(44)]
    downbeats = [next(n.pitch % 12 for n in bass if n.start == bar * 4) for bar in range(11)]
    assert downbeats[0] == 0 and downbeats[4] == 5 and downbeats[6] == 0  # each change: the root
    assert {downbeats[1], downbeats[2], downbeats[3]} != {0}  # not back to C every bar of C7
    assert len({n.pitch for n in bass if n.start < 16}) >= 6  # four bars of C7 walk, not pedal


def test_pad_bows_on_through_a_repeated_chord():
    prog = "| C | % | % | F | F | G |"
    a = grid(prog, style="ballad", seed=1)
    r = endings.ritard("ballad", a.bars, 4.0, 0.0, True).at  # the ballad's ritard at the end
    assert sorted({(n.start, n.end) for n in a.tracks["pad"].notes}) == [
        (0.0, 12.0), (12.0, r(20.0)), (r(20.0), r(24.0)), (r(24.0), 28.0)]  # the tag on C
    busy = grid(prog, style="ballad", seed=1, density={"pad": 1.0})
    assert sorted({n.start for n in busy.tracks["pad"].notes}) == [0.0, 4.0, 8.0, 12.0, 16.0,
                                                                   r(20.0), r(24.0)]


def test_the_final_bar_is_held_after_a_fill():
    a = grid("| C | F | C | F | C | G7sus4 C |", style="rock", seed=1)
    d = drums(a)
    assert any(n.pitch in TOMS or n.pitch == SNARE and n.start % 1 for n in d if 16 <= n.start < 20)
    last_bar = sorted((n.start, n.pitch) for n in d if n.start >= 20)
    assert last_bar == [(20.0, KICK), (20.0, CRASH), (22.0, KICK), (22.0, CRASH)]
    for name in ("bass", "keys", "pad", "guitar"):
        held = [n for n in a.tracks[name].notes if n.start >= 20]
        assert {round(n.start) for n in held} == {20, 22}, name
        assert all(n.end == (22.0 if n.start < 22 else 24.0) for n in held), name


@pytest.mark.parametrize("style,phrase", [("rock", 4), ("pop", 4), ("swing", 8), ("bossa", 8)])
def test_fills_every_four_or_eight_bars(style, phrase):
    """A fill ends each phrase (a small one at bar 4, a larger one at bar 8) and a crash marks
    the downbeat after an 8-bar phrase, not every phrase; then the ending in the style: rock
    and pop kick the 15th bar and crash on the held 16th, swing tags the last two bars twice
    more and crashes on its button (bar 20), bossa ends softly on the ride."""
    a = grid(SIMPLE * 2, style=style, seed=2, intensity=0.5)
    bars_with_crash = sorted({int(n.start // 4) + 1 for n in drums(a) if n.pitch == CRASH})
    want = {"rock": [9, 15, 16], "pop": [9, 15, 16], "swing": [9, 20], "bossa": [9]}[style]
    assert [b for b in bars_with_crash if b > 1] == want
