"""The arrangement report's measuring functions (benchmarks/arrangement_metrics.py) on hand-built
notes, where the right answer is known: a metric that is wrong makes the whole report lie."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import arrangement_metrics as m  # noqa: E402

C = (0, 4, 7)
C7 = (0, 4, 7, 10)


def take(bars=4, bass=(), drums=(), harmony=None, chords=None, meter="4/4", bpb=4.0,
         tempo=120.0, unit=0.5, swing=0.0, guitar=(), keys=(), tonic=None):
    chords = chords or (m.span(0, bars * bpb, 0, C, symbol="C"),)
    return m.Take(meter, bpb, tempo, bars, unit, swing, tuple(chords), list(bass), list(drums),
                  dict(harmony or {}), tuple(guitar), tuple(keys), tonic)


def notes(times, pitch=60, dur=0.25, vel=80):
    return [m.N(pitch, t, t + dur, vel) for t in times]


def test_swing_map_and_unswing_are_inverse():
    for s in (0.0, 0.2, 0.62, 2 / 3):
        for x in (0, 0.25, 0.5, 0.75, 1.0, 1.5, 3.75):
            assert m.unswing(m.swing_map(x, 0.5, s), 0.5, s) == pytest.approx(x)
    assert m.swing_map(0.5, 0.5, 2 / 3) == pytest.approx(2 / 3)  # the triplet "and"


def test_snap_is_swing_aware():
    i, dev = m.snap(0.7, 0.5, 0.5, 2 / 3)  # a hair late on the swung "and" of 1
    assert i == 1 and dev == pytest.approx(0.7 - 2 / 3)
    assert m.snap(0.5, 0.5, 0.5, 2 / 3)[0] == 1  # a straight "and" still belongs to it


def test_fit_grid_reads_swung_eighths_sixteenths_and_straight():
    eighths = [b + f for b in range(16) for f in (0, 2 / 3)]
    assert m.fit_grid(eighths, 0.5) == (0.5, pytest.approx(2 / 3, abs=0.01))
    sixteenths = [b + f for b in range(16) for f in (0, 0.3, 0.5, 0.8)]  # MMA's swung Pop
    unit, swing = m.fit_grid(sixteenths, 0.5)
    assert unit == 0.25 and swing == pytest.approx(0.4, abs=0.01)
    straight = [b + f for b in range(16) for f in (0, 0.25, 0.5, 0.75)]
    assert m.fit_grid(straight, 0.5) == (0.5, 0.0)


def test_allowed_pcs_add_the_usual_tensions():
    assert m.allowed_pcs(7, 7, C7) == {7, 11, 2, 5, 9, 4}  # G7: G B D F + A (9) + E (13)
    assert m.allowed_pcs(9, 9, (0, 3, 7, 10)) == {9, 0, 4, 7, 11, 2}  # Am7: + B (9) + D (11)
    assert m.allowed_pcs(0, 4, C) == {0, 4, 7, 2, 9}  # C/E


def test_notes_per_bar_counts_pitched_notes_only():
    t = take(bars=2, bass=notes([0, 4]), drums=notes(range(8), 42),
             harmony={"keys": notes([0, 1, 2, 3]), "pad": notes([0, 4], dur=4)})
    assert m.notes_per_bar(t) == 4.0


def test_crowded_strikes_count_slots_with_three_pitched_parts():
    # one 4/4 bar: bass, keys and guitar together on beat 1 and 3; keys alone on the "ands"
    t = take(bars=1, bass=notes([0, 2]), drums=notes([0, 0.5, 1, 1.5, 2], 42),
             harmony={"keys": notes([0, 0.5, 2, 2.5]), "guitar": notes([0, 2.02])})
    assert m.crowded_strikes_per_8(t) == 2.0
    # the same, swung: the "and" at 2/3 of the beat is an eighth slot like any other
    sw = take(bars=1, swing=2 / 3, bass=notes([0, 2 / 3]), harmony={
        "keys": notes([2 / 3]), "guitar": notes([0.68])})
    assert m.crowded_strikes_per_8(sw) == 1.0


def test_bass_kick_coincidence():
    kicks = notes([0, 1.5, 2, 3.5], 36)
    t = take(bars=1, bass=notes([0.01, 2, 3]), drums=kicks + notes([1, 3], 38))
    assert m.bass_kick_coincidence(t) == 50.0  # 0 (10 ms away) and 2 met; 1.5 and 3.5 not
    assert m.bass_kick_coincidence(take(bars=1, bass=notes([0]))) is None


def test_distinct_rhythms_per_8_bars():
    bars = 17  # 16 bars and the ending
    loop = take(bars=bars, bass=notes([b * 4 + x for b in range(bars) for x in (0, 1.5, 2)]))
    assert m.distinct_rhythms_per_8(loop)["bass"] == 1.0
    # a two-bar figure whose second bar varies
    two = [b * 4 + x for b in range(bars) for x in ((0, 2) if b % 2 else (0, 1.5, 2))]
    assert m.distinct_rhythms_per_8(take(bars=bars, bass=notes(two)))["bass"] == 2.0
    # a new rhythm every bar
    every = [b * 4 + 0.25 * b for b in range(bars)]
    assert m.distinct_rhythms_per_8(take(bars=bars, bass=notes(every)))["bass"] == 8.0
    assert m.distinct_rhythms_per_8(take(bars=4, bass=notes([0])))["bass"] is None


def test_skeleton_changes_ignore_ghosts_and_kept_figures():
    bars = 18
    groove = []
    for b in range(bars):
        groove += notes([b * 4, b * 4 + (2.5 if b % 2 else 2)], 36, vel=100)  # a 2-bar kick figure
        groove += notes([b * 4 + 1, b * 4 + 3], 38, vel=100 - 5 * (b % 3))  # accents wander
        groove += notes([b * 4 + 1.75 + 0.25 * (b % 3)], 38, vel=30)  # and so do ghosts
    assert m.skeleton_changes_per_8(take(bars=bars, drums=groove)) == 0.0
    fill = [n for n in groove if not 32 <= n.start < 36] + notes([32 + x for x in (0, 1, 2, 2.5, 3, 3.5)], 38, vel=100)
    # bar 9 (the fill) is new; bar 10 plays bar 8's figure again: 1 new in bars 5-17 (13 bars)
    assert m.skeleton_changes_per_8(take(bars=bars, drums=fill)) == pytest.approx(8 / 13)
    flips = [n for b in range(bars) for n in notes([b * 4 + 0.5 * (b % 7), b * 4 + 3], 36, vel=100)]
    assert m.skeleton_changes_per_8(take(bars=bars, drums=flips)) == pytest.approx(8.0)
    # kick and snare are judged apart: a soft brushed snare is not a kick's ghost
    soft = notes([1, 3, 5, 7], 38, vel=40) + notes([0, 4], 36, vel=110)
    assert len(m.skeleton_hits(soft)) == 6


def test_velocity_arc_and_intro_density():
    ramp = [m.N(60, b * 4 + x, b * 4 + x + 0.5, 60 + 2 * b) for b in range(16) for x in (0, 2)]
    v = m.velocity_arc(take(bars=16, bass=ramp))
    assert v["arc"] == pytest.approx(24.0) and v["range"] == pytest.approx(24.0)
    # a soft pad entering halfway does not make the band quieter; the louder bass does build
    pad = [m.N(60, b * 4, b * 4 + 4, 40) for b in range(8, 16)]
    steady = m.velocity_arc(take(bars=16, bass=[n._replace(velocity=80) for n in ramp],
                                 harmony={"pad": pad}))
    assert steady == {"range": 0.0, "arc": 0.0}
    louder = m.velocity_arc(take(bars=16, bass=ramp, harmony={"pad": pad}))
    assert louder == {"range": pytest.approx(12.0), "arc": pytest.approx(12.0)}  # (24 + 0) / 2
    light = notes([b * 4 for b in range(4)]) + notes([b * 4 + x for b in range(4, 12) for x in (0, 2)])
    d = m.intro_density(take(bars=12, bass=light))
    assert (d["first4"], d["body"], d["ratio"]) == (1.0, 2.0, 0.5)


def test_timing_spread_in_ms_ignores_strum_spread_and_triplets():
    at_120 = take(bars=1, tempo=120.0)  # a beat is 500 ms
    assert m.timing_spread(at_120, [0.0, 1.0, 1 / 3, 2 / 3]) == 0.0
    assert m.timing_spread(at_120, [0.02, 1.02]) == pytest.approx(10.0)
    strum = [m.N(p, 0.0 + 0.015 * i, 1, 80) for i, p in enumerate((48, 52, 55, 60, 64))]
    assert m.strikes(strum) == [0.0]
    slow = [m.N(p, 0.05 * i, 1, 80) for i, p in enumerate((40, 47, 52, 56, 59, 64))]  # MMA's guitar
    assert m.strikes(slow + notes([1.0])) == [0.0, 1.0]
    swung = take(bars=1, swing=2 / 3)
    assert m.timing_spread(swung, [2 / 3, 1 + 2 / 3]) == pytest.approx(0.0, abs=1e-9)


def test_voice_motion_matches_voices():
    assert m.voice_motion([60, 64, 67], [60, 64, 67]) == 0.0
    assert m.voice_motion([60, 64, 67], [59, 62, 67]) == 1.0  # C to G/B: 1 + 2 + 0
    assert m.voice_motion([55, 60, 64], [57, 60, 65]) == 1.0  # C to F/C voice-led
    # a barre shape dragged up a fourth: every voice moves 5
    assert m.voice_motion([40, 47, 52, 56, 59, 64], [45, 52, 57, 61, 64, 69]) == 5.0
    # a smaller voicing finds its partners in the larger one
    assert m.voice_motion([60, 64], [48, 60, 64, 67]) == 0.0


def test_motion_per_change_skips_repeats_and_nc():
    chords = (m.span(0, 4, 0, C, symbol="C"), m.span(4, 8, 0, C, symbol="C"),
              m.span(8, 12, 5, C, symbol="F"), m.span(12, 16, None, (), symbol="N.C."))
    gtr = ([m.N(p, 0, 1, 80) for p in (48, 52, 55)] + [m.N(p, 4, 5, 80) for p in (60, 64, 67)]
           + [m.N(p, 8, 9, 80) for p in (53, 57, 60)])
    t = take(bars=4, chords=chords, harmony={"guitar": gtr}, guitar=("guitar",))
    # C (first change, bar 1) to F: the repeated C is no change
    assert m.motion_per_change(t, t.guitar) == pytest.approx((5 + 5 + 5) / 3)


def test_clashes_only_between_parts_with_a_non_chord_tone():
    chords = (m.span(0, 8, 0, C7, symbol="C7"),)
    keys = [m.N(64, 0, 2, 80), m.N(64, 4, 6, 80)]
    pad = [m.N(65, 0, 8, 60),  # F against E: F is no tone of C7 -> a clash at 0 and again at 4
           m.N(71 + 12, 0, 8, 60)]  # B: no chord tone, but no minor 2nd/9th with anything
    guitar = [m.N(77, 4, 5, 80)]  # F a minor 9th above the keys' E -> a clash
    t = take(bars=2, chords=chords, harmony={"keys": keys, "pad": pad, "guitar": guitar})
    assert m.clashes_per_bar(t) == (2 + 1) / 2
    # chord tones rubbing (E and F of an Fmaj7) do not count
    fmaj7 = (m.span(0, 4, 5, (0, 4, 7, 11), symbol="Fmaj7"),)
    t2 = take(bars=1, chords=fmaj7, harmony={"keys": [m.N(64, 0, 1, 80)], "pad": [m.N(65, 0, 4, 60)]})
    assert m.clashes_per_bar(t2) == 0.0
    # the same part against itself is voicing, not a clash between parts
    t3 = take(bars=1, harmony={"keys": [m.N(64, 0, 1, 80), m.N(65, 0, 1, 80)]})
    assert m.clashes_per_bar(t3) == 0.0
    # a pad released a hair after the keys strike is not heard against them
    t4 = take(bars=1, harmony={"pad": [m.N(65, 0, 2.02, 60)], "keys": [m.N(64, 2.0, 3, 80)]})
    assert m.clashes_per_bar(t4) == 0.0


def test_below_e3():
    t = take(bars=1, harmony={"keys": notes([0, 1], 48) + notes([2, 3], 60), "pad": notes([0], 52)})
    assert m.below_e3(t) == 40.0


def test_walking_leap_rate():
    chords = (m.span(0, 4, 0, C7, symbol="C7"), m.span(4, 8, 5, C7, symbol="F7"),
              m.span(8, 12, 7, C7, symbol="G7"), m.span(12, 16, 7, C7, symbol="G7"),
              m.span(16, 20, 0, C7, symbol="C7"))
    walk = [m.N(p, i, i + 1, 80) for i, p in enumerate(
        (36, 34, 31, 42,  # C Bb G, up 11 to Gb: the F after it comes by step, the approach leaps
         41, 45, 43, 40,  # F A G E, up 15 to G: a leap into the arrival
         55, 53, 52, 50,  # G F E D
         43, 41, 40, 38,  # (G7 again: no change) G F E D
         36))]  # C by a step after a step: the one smooth arrival
    t = take(bars=5, chords=chords, bass=walk)
    assert m.walking_leap_rate(t) == pytest.approx(200 / 3)


def test_bass_on_changes_uses_the_slash_bass():
    chords = (m.span(0, 4, 0, C, symbol="C"), m.span(4, 8, 0, C, bass=4, symbol="C/E"),
              m.span(8, 12, 9, (0, 3, 7), symbol="Am"), m.span(12, 16, None, (), symbol="N.C."))
    bass = [m.N(36, 0, 1, 80), m.N(40, 4.05, 5, 80), m.N(45, 8.5, 9, 80)]
    assert m.bass_on_changes(take(bars=4, chords=chords, bass=bass)) == pytest.approx(200 / 3)


def test_strong_beat_tones():
    chords = (m.span(0, 4, 7, C7, symbol="G7"), m.span(4, 8, 0, (0, 4, 7, 11), symbol="Cmaj7"))
    harmony = {"keys": [
        m.N(65, 0, 1, 80),  # F over G7: its 7th
        m.N(69, 2, 3, 80),  # A over G7: the 9th, a usual tension
        m.N(68, 3.98, 5, 80),  # Ab a hair early into Cmaj7's downbeat: wrong
        m.N(61, 5, 6, 80),  # C# on beat 2: not a strong beat, not counted
        m.N(64, 6, 7, 80)]}  # E over Cmaj7
    assert m.strong_beat_tones(take(bars=2, chords=chords, harmony=harmony)) == 75.0
    assert m.strong_positions("6/8", 3.0) == (0.0, 1.5)
    assert m.strong_positions("3/4", 3.0) == (0.0,)


def test_comping_sd_crash_and_tonic():
    t = take(bars=2, harmony={"keys": [m.N(60, i, i + 1, v) for i, v in enumerate((60, 80, 60, 80))],
                              "gtr": notes([0, 1], vel=70)}, keys=("keys",), guitar=("gtr",),
             drums=notes([0.0], 49), bass=notes([0, 4], 43) + notes([7], 36), tonic=0)
    assert m.comping_velocity_sd(t) == {"keys": 10.0, "guitar": 0.0}
    assert m.opens_with_crash(t) == 100.0
    assert m.opens_with_crash(take(drums=notes([4.0], 49))) == 0.0
    assert m.ends_on_tonic(t) == 100.0
    assert m.ends_on_tonic(t._replace(tonic=7)) == 0.0


def test_timing_by_role():
    t = take(bars=1, bass=notes([0.02]), drums=notes([0, 1], 42) + notes([0.01], 36),
             harmony={"keys": notes([0]), "gtr": notes([1.04]), "pad": notes([0])},
             keys=("keys",), guitar=("gtr",))
    got = m.timing_by_part(t)
    assert got["bass"] == pytest.approx(10.0) and got["guitar"] == pytest.approx(20.0)
    assert got["keys"] == 0.0 and got["other"] == 0.0
    assert got["drums"] == pytest.approx(((0 + 0 + 5.0 ** 2) / 3) ** 0.5)  # the kick 5 ms late


# -- the report's plumbing: MMA's chord spelling and bar lines, and who plays what ---------------

def test_mma_chord_spelling_and_bar_lines():
    report = pytest.importorskip("arrangement_report")
    from workbench.chords import parse_chord

    spelled = {s: report.mma_chord(parse_chord(s)) for s in (
        "C", "Am7", "Bbmaj7/D", "Edim", "Ebdim7", "F#m7b5", "G7alt", "C6/9", "E7b9", "A7#9",
        "G7sus4", "N.C.", "Dm11", "Cadd9", "Bb13#11")}
    assert spelled == {
        "C": "C", "Am7": "Am7", "Bbmaj7/D": "BbM7/D", "Edim": "Emb5", "Ebdim7": "Ebdim7",
        "F#m7b5": "F#m7b5", "G7alt": "G7alt", "C6/9": "C6(add9)", "E7b9": "E7b9", "A7#9": "A7#9",
        "G7sus4": "G7sus", "N.C.": "z", "Dm11": "Dm11", "Cadd9": "Cadd9", "Bb13#11": "Bb13#11"}
    S = report.MmaSpan
    two = [S(0, 2, "F"), S(2, 4, "Dm"), S(4, 7, "Gm7"), S(7, 8, "C7")]
    src = report.mma_source(two, report.Groove("Pop"), 110, 8).splitlines()
    assert src[1:] == ["Tempo 110", "Groove Pop", "1 F Dm@3", "2 Gm7 C7@4"]
    # 6/8 through Ballad68Sus: one 6/8 bar (3 of our beats) is 4 MMA beats at 4/3 the tempo
    jig = [S(0, 1.5, "D"), S(1.5, 3, "G"), S(3, 6, "A7")]
    src = report.mma_source(jig, report.Groove("Ballad68Sus", 4, 0.75), 72, 6).splitlines()
    assert src[1:] == ["Tempo 96", "Groove Ballad68Sus", "1 D G@3", "2 A7"]
    # 2/4 bars through a 4/4 groove: two of our bars to one of MMA's
    src = report.mma_source(two, report.Groove("8BeatSus"), 120, 8).splitlines()
    assert src[3:] == ["1 F Dm@3", "2 Gm7 C7@4"]


def test_roles_by_channel_and_name():
    report = pytest.importorskip("arrangement_report")
    P = report.Part
    parts = [P("Drum", 9, 0, notes([0], 36)), P("Bass-6", 12, 27, notes([0], 52)),
             P("Bass-9", 15, 35, notes([0, 1], 33)), P("Chord-8", 13, 0, notes([0], 60)),
             P("Chord-Sus", 14, 49, notes([0], 64))]
    t = report.make_take(parts, "4/4", 4.0, 110, 1, 0.5, [])
    assert [n.pitch for n in t.bass] == [33, 33]  # the bass program, not the guitar riff
    assert set(t.harmony) == {"Bass-6", "Chord-8", "Chord-Sus"}
    assert t.guitar == ("Bass-6",) and t.keys == ("Chord-8",) and len(t.drums) == 1


def test_our_midi_reads_back_into_the_same_notes():
    report = pytest.importorskip("arrangement_report")
    import workbench

    arr = workbench.generate("| C | Am | F | G7 |", style="swing", tempo=120, seed=3)
    parts = report.read_parts(arr.to_midi_bytes())
    t = report.make_take(parts, arr.meter, arr.beats_per_bar, arr.tempo, arr.bars, 0.5, [])
    assert len(t.bass) == len(arr.tracks["bass"].notes)
    assert len(t.drums) == len(arr.tracks["drums"].notes)
    assert {k: len(v) for k, v in t.harmony.items()} == {
        k: len(arr.tracks[k].notes) for k in ("keys", "pad", "guitar")}
    assert 0.4 < t.swing < 0.8  # the swung grid is read from the notes
    first = min(arr.tracks["bass"].notes, key=lambda n: n.start)
    assert (t.bass[0].pitch, t.bass[0].start) == (first.pitch, pytest.approx(first.start, abs=1e-3))
