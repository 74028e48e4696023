"""The arranger's rules, each over every style and meter: form (intro, choruses, tonic ending,
sections), arc, orchestration (who plays), memory (figures kept, varied at phrase ends), fills
by phrase level, kick-bass lock, feel, voice leading of guitar and walking bass."""

from __future__ import annotations

import statistics

import pytest

import workbench
from workbench.band import endings
from workbench.band.arranger import plan_bars
from workbench.errors import WorkbenchError

KICK, CRASH, RIDE, HAT = 36, 49, 51, 42
TOMS = {41, 43, 45, 47, 48, 50}
A8 = "| C | Am7 | Dm7 | G7 | C | Am7 | Dm7 G7 | C |"
B8 = "| F | F | C | C | D7 | D7 | G7 | G7 |"
BY_METER = {"4/4": A8, "2/4": A8.replace("Dm7 G7", "G7"), "3/4": A8.replace("Dm7 G7", "G7"),
            "6/8": A8, "12/8": A8}
STYLE_METERS = [(s.name, m) for s in workbench.styles() for m in s.meters]


def _ids(case):
    return f"{case[0]}-{case[1]}"


def song(meter="4/4"):
    """An AABA-like form with labels, as a Song's progression carries it (sections, choruses)."""
    prog = workbench.parse_progression("".join([BY_METER[meter], B8, BY_METER[meter]]),
                                       meter=meter)
    prog.sections = ["A"] * 8 + ["B"] * 8 + ["A"] * 8
    prog.choruses = [0] * 24
    return prog


def bar_notes(arr, track, bar):
    bpb = arr.beats_per_bar
    return [n for n in arr.tracks[track].notes if bar * bpb - 0.05 <= n.start < (bar + 1) * bpb - 0.05]


def mean_velocity(arr, first, last):
    vs = [n.velocity for t in arr.tracks.values() for b in range(first, last)
          for n in bar_notes(arr, t.name, b)]
    return statistics.mean(vs)


# -- form --------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", STYLE_METERS, ids=_ids)
def test_form_intro_choruses_and_an_ending_on_the_tonic(case):
    style, meter = case
    text = BY_METER[meter].rsplit("| C |", 1)[0] + "| G7 |"  # ends on the dominant
    plain = workbench.generate(text, style=style, meter=meter, seed=1, repeat=2)
    bpb = plain.beats_per_bar
    # a plain progression: no intro, bar 1 at beat 0, each repeat a chorus
    assert plain.intro_bars == 0 and plain.offset == 0.0 and plain.chords[0].start == 0.0
    assert {p.chorus for p in plain.plan} == {0, 1}
    # it ends on G7, so the band adds a bar on the tonic and holds it (after the style's tag:
    # swing and bossa play the closing bars twice more; a ritard brings the tonic in late)
    times, size = endings.tag_bars(style, meter)
    assert plain.chords[-1].chord.root == plain.key.tonic == 0
    assert plain.bars == 17 + times * size and plain.chords[-1].bar == plain.bars - 1
    assert (plain.bars - 1) * bpb <= plain.chords[-1].start < (plain.bars - 0.5) * bpb
    loop = workbench.generate(text, style=style, meter=meter, seed=1, repeat=2, ending=False)
    assert loop.bars == 16 and loop.chords[-1].chord.symbol == "G7"
    # a song (a progression with its form) opens with an intro on the form's last bars
    s = workbench.generate(song(meter), style=style, meter=meter, seed=1)
    assert s.intro_bars == 4 and s.offset == 4 * bpb
    assert [c.chord.symbol for c in s.chords if c.bar < 4] == [
        c.chord.symbol for c in s.progression.events if 20 <= c.bar < 24]
    intro = [p for p in s.plan if p.kind == "intro"]
    body = [p for p in s.plan if p.kind not in ("intro", "ending")]
    assert len(intro) == 4 and all(len(p.plays) < 5 for p in intro)
    assert max(p.intensity for p in intro) < min(p.intensity for p in body)
    off = workbench.generate(song(meter), style=style, meter=meter, seed=1, intro=False)
    assert off.intro_bars == 0 and off.chords[0].start == 0.0


@pytest.mark.parametrize("case", STYLE_METERS, ids=_ids)
def test_crashes_on_section_starts_not_on_the_first_beat(case):
    style, meter = case
    a = workbench.generate(song(meter), style=style, meter=meter, seed=2, intro=False)
    bpb = a.beats_per_bar
    crashes = {round(n.start / bpb) for n in a.tracks["drums"].notes if n.pitch == CRASH}
    assert 0 not in crashes
    assert {8, 16} <= crashes  # the B and the last A
    assert all(a.plan[b].crash or a.plan[b].kind == "ending" for b in crashes if b < a.bars)


@pytest.mark.parametrize("case", STYLE_METERS, ids=_ids)
def test_two_sections_of_the_same_name_are_two_sections(case):
    """The chart's A A: the second A starts a section as the B does (a crash on its first bar,
    the biggest fill into it), though its label is the same as the bar before's."""
    style, meter = case
    text = f"Title: AABA\n[A] {BY_METER[meter]}\n[A] {BY_METER[meter]}\n[B] {B8}\n" \
        f"[A] {BY_METER[meter]}"
    from workbench.song.text import parse_song

    prog = parse_song(text, meter=meter).progression()
    assert prog.sections[7:9] == ["A", "A"] and prog.section_starts[8]
    a = workbench.generate(prog, style=style, meter=meter, seed=2, intro=False)
    assert a.plan[8].section_start and a.plan[8].crash, a.plan[8]
    assert a.plan[7].fill >= a.plan[23].fill, (a.plan[7].fill, a.plan[23].fill)
    assert a.plan[7].fill == a.plan[15].fill  # into the second A as into the B


@pytest.mark.parametrize("case", STYLE_METERS, ids=_ids)
def test_the_bridge_is_not_the_a(case):
    style, meter = case
    a = workbench.generate(song(meter), style=style, meter=meter, seed=3, intro=False,
                           humanize=0)
    bpb = a.beats_per_bar

    def groove(bars):
        return {(t.name, n.pitch if t.is_drum else 0, round(n.start % bpb, 2))
                for t in a.tracks.values() for b in bars for n in bar_notes(a, t.name, b)}

    assert [p.kind for p in a.plan[8:16]] == ["bridge"] * 8
    assert groove(range(9, 11)) != groove(range(1, 3))
    assert statistics.mean(p.intensity for p in a.plan[8:16]) > statistics.mean(
        p.intensity for p in a.plan[:8])


# -- arc ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", STYLE_METERS, ids=_ids)
def test_the_band_builds_over_the_choruses(case):
    style, meter = case
    prog = BY_METER[meter]
    build = workbench.generate(prog, style=style, meter=meter, seed=4, repeat=3)
    assert mean_velocity(build, 16, 24) > mean_velocity(build, 0, 8) + 4
    # the first bars are sparser than the body
    notes = [sum(len(bar_notes(build, t, b)) for t in workbench.TRACKS) for b in range(24)]
    assert statistics.mean(notes[:4]) < statistics.mean(notes[4:24])
    flat = workbench.generate(prog, style=style, meter=meter, seed=4, repeat=3, arc="flat")
    last = next(p.bar for p in flat.plan if p.kind == "ending")  # the ending's kicks are accents
    assert abs(mean_velocity(flat, last - 8, last) - mean_velocity(flat, 0, 8)) < 4
    down = workbench.generate(prog, style=style, meter=meter, seed=4, repeat=2, arc=[0.9, 0.2])
    assert mean_velocity(down, 0, 8) > mean_velocity(down, 8, 15) + 8


@pytest.mark.parametrize("arc", ["louder", [], [0.5, 2], "0.2 x", 3, [None]])
def test_a_bad_arc_is_named(arc):
    with pytest.raises(WorkbenchError) as err:
        workbench.generate(A8, arc=arc)
    assert err.value.field == "arc" and "arc" in str(err.value)


def test_a_bad_intro_is_named():
    with pytest.raises(WorkbenchError) as err:
        workbench.generate(A8, intro="maybe")
    assert err.value.field == "intro"


def test_cli_arc_intro_and_the_default_feel(tmp_path):
    import subprocess
    import sys

    import pretty_midi

    def bass(*extra):
        out = tmp_path / str(len(list(tmp_path.iterdir())))
        r = subprocess.run([sys.executable, "-m", "workbench", "generate", A8, "--tracks", "bass",
                            "--tempo", "120", "--out", str(out), *extra], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return pretty_midi.PrettyMIDI(r.stdout.split()[0]).instruments[0].notes

    exact = bass("--humanize", "0")
    # at 120 bpm a sixteenth is 0.125 s
    assert all(abs(n.start * 8 - round(n.start * 8)) < 1e-2 for n in exact)
    assert any(abs(n.start * 8 - round(n.start * 8)) > 1e-2 for n in bass())  # the default feel
    assert min(n.start for n in bass("--intro")) == 0.0 and len(bass("--intro")) > len(exact)
    assert bass("--arc", "0.2,0.9", "--repeat", "2") != bass("--repeat", "2", "--arc", "flat")


def test_arc_as_text_lists_intensities():
    a = workbench.generate(A8, repeat=2, arc="0.9, 0.3", seed=1)
    b = workbench.generate(A8, repeat=2, arc=[0.9, 0.3], seed=1)
    assert a.to_midi_bytes() == b.to_midi_bytes()


# -- orchestration -----------------------------------------------------------------------------

@pytest.mark.parametrize("case", STYLE_METERS, ids=_ids)
def test_the_pad_plays_only_where_the_plan_says(case):
    style, meter = case
    a = workbench.generate(BY_METER[meter], style=style, meter=meter, seed=5, repeat=2)
    bpb = a.beats_per_bar
    for n in a.tracks["pad"].notes:
        assert "pad" in a.plan[int((n.start + 0.05) // bpb)].plays
    with_pad = [p for p in a.plan if "pad" in p.plays and p.kind != "ending"]
    if style == "funk":
        assert not with_pad  # it muddies the funk
    if style == "ballad":
        assert len(with_pad) >= len(a.plan) - 9  # the strings carry the ballad after bar 8
    alone = workbench.generate(BY_METER[meter], style=style, meter=meter, tracks=["pad"])
    assert alone.tracks["pad"].notes  # a part chosen alone always plays


def test_first_phrase_one_harmony_part_then_the_band():
    a = workbench.generate(A8 + A8, style="pop", seed=1)
    assert a.plan[0].plays == {"bass", "drums", "guitar"}
    assert a.plan[8].plays >= {"bass", "drums", "guitar", "keys"}


@pytest.mark.parametrize("case", STYLE_METERS, ids=_ids)
def test_harmony_clear_of_the_walking_bass_and_few_clashes(case):
    style, meter = case
    a = workbench.generate(A8 + B8, style=style, meter=meter if meter != "2/4" else "4/4",
                           seed=6) if meter in ("4/4", "2/4") else workbench.generate(
        BY_METER[meter] * 2, style=style, meter=meter, seed=6)
    if style == "swing":
        low = [n for t in ("keys", "guitar", "pad") for n in a.tracks[t].notes]
        assert sum(n.pitch < 52 for n in low) <= 0.05 * len(low)
    assert clashes_per_bar(a) <= 0.6


def clashes_per_bar(a):
    """Minor 2nds/9ths between two parts where one note is not a chord tone."""
    def chord_at(t):
        return next(ev.chord for ev in a.chords if ev.start - 1e-6 <= t < ev.start + ev.duration - 1e-6)

    notes = [(name, n) for name in ("bass", "keys", "pad", "guitar") for n in a.tracks[name].notes]
    count = 0
    for i, (h1, n1) in enumerate(notes):
        for h2, n2 in notes[i + 1:]:
            if h1 != h2 and n1.start < n2.end and n2.start < n1.end and abs(
                    n1.pitch - n2.pitch) % 12 in (1, 11) and abs(n1.pitch - n2.pitch) in (1, 13, 25):
                pcs = set(chord_at(max(n1.start, n2.start)).pitch_classes)
                count += n1.pitch % 12 not in pcs or n2.pitch % 12 not in pcs
    return count / a.bars


# -- memory, fills, lock -------------------------------------------------------------------------

@pytest.mark.parametrize("case", STYLE_METERS, ids=_ids)
def test_figures_are_kept_and_vary_at_phrase_ends(case):
    style, meter = case
    a = workbench.generate("| C | % | % | % | % | % | % | % | F | % | % | % | % | % | % | % |",
                           style=style, meter=meter, seed=7, humanize=0, intensity=0.6,
                           ending=False)
    bpb = a.beats_per_bar
    phrase = 8 if a.plan[3].fill == 0 else 4
    for first in range(0, 16, phrase):  # within a phrase the figure is kept
        body = [b for b in range(first, first + phrase - 1) if not a.plan[b].section_start]
        for track in ("bass", "drums"):
            rhythms = {tuple(sorted({round(n.start % bpb * 4) for n in bar_notes(a, track, b)
                                     if n.pitch != CRASH})) for b in body}
            # a one- or two-bar figure, restated (a walking line walks: its rhythm is the beat)
            assert len(rhythms) <= 2, (track, first, rhythms)
    # and at the phrase end the drummer varies it (a fill)
    ends = [p.bar for p in a.plan if p.fill]
    assert ends and all(any(n.pitch in TOMS or n.pitch == 38 for n in bar_notes(a, "drums", b))
                        for b in ends)


@pytest.mark.parametrize("case", STYLE_METERS, ids=_ids)
def test_fills_grow_with_the_phrase_level(case):
    style, meter = case
    a = workbench.generate(song(meter), style=style, meter=meter, seed=8, intro=False,
                           intensity=0.7, humanize=0)
    bpb = a.beats_per_bar

    groove = {round(n.start % bpb, 3) for n in bar_notes(a, "drums", 1) if n.pitch == 38}

    def fill_length(bar):
        """From the fill's first note (a tom, or a snare off the groove's) to the bar line."""
        fill = [n.start for n in bar_notes(a, "drums", bar) if n.pitch in TOMS or (
            n.pitch == 38 and round(n.start % bpb, 3) not in groove)]
        return (bar + 1) * bpb - min(fill or [(bar + 1) * bpb])

    assert {p.fill for p in a.plan} >= ({1, 3} if a.plan[3].fill else {3})
    into_b = fill_length(7)  # into the bridge: the largest
    assert a.plan[7].fill == 3
    assert any(n.pitch in TOMS for n in bar_notes(a, "drums", 7))
    phrase = [p.bar for p in a.plan if p.fill == 1]
    if phrase:
        assert all(fill_length(b) <= into_b for b in phrase)


@pytest.mark.parametrize("style", ["funk", "reggae", "rock"])
def test_kick_and_bass_lock(style):
    a = workbench.generate(A8 + B8, style=style, seed=9)
    bass = [n.start for n in a.tracks["bass"].notes]
    kicks = [n.start for n in a.tracks["drums"].notes if n.pitch == KICK
             and n.start < a.chords[-1].start]
    met = sum(any(abs(k - b) < 0.04 for b in bass) for k in kicks)
    assert met >= 0.95 * len(kicks)


# -- feel ----------------------------------------------------------------------------------------

def test_feel_pushes_and_lays_back_by_style_and_default_humanize_loosens():
    a = workbench.generate(A8 + B8, style="swing", seed=10, tempo=140)
    rides = [n.start % 1 for n in a.tracks["drums"].notes if n.pitch == RIDE and (
        n.start % 1 < 0.1 or n.start % 1 > 0.9)]
    ahead = statistics.mean(((x + 0.5) % 1) - 0.5 for x in rides)
    pedal = [((n.start % 1 + 0.5) % 1) - 0.5 for n in a.tracks["drums"].notes if n.pitch == 44]
    assert ahead < 0 < statistics.mean(pedal)  # the ride a touch ahead, the hat's chick behind
    for t in a.tracks.values():
        spread = statistics.pstdev(((n.start * 4 + 0.5) % 1) - 0.5 for n in t.notes if n.start > 0)
        assert spread * 0.25 * 60000 / 140 >= 1.5, t.name  # ms of spread
    assert workbench.generate(A8, seed=3).to_midi_bytes() == workbench.generate(
        A8, seed=3).to_midi_bytes()


def test_swing_straightens_at_fast_tempos():
    mid = workbench.generate(A8, style="swing", tempo=140)
    fast = workbench.generate(A8, style="swing", tempo=280)
    assert 0.2 < fast.swing < mid.swing
    assert workbench.generate(A8, style="swing", tempo=280, swing=0.62).swing == 0.62


# -- voice leading -------------------------------------------------------------------------------

FRETS = (40, 45, 50, 55, 59, 64)


def playable(chord_notes):
    """Whether the notes fit six strings, one each, within a four-fret span (open strings free)."""
    from itertools import permutations

    notes = sorted(chord_notes)
    for strings in permutations(range(6), len(notes)):
        if list(strings) != sorted(strings):
            continue
        frets = [p - FRETS[s] for p, s in zip(notes, strings, strict=True)]
        if min(frets) < 0 or max(frets) > 15:
            continue
        fretted = [f for f in frets if f > 0]
        if not fretted or max(fretted) - min(fretted) <= 3:
            return True
    return False


@pytest.mark.parametrize("case", [c for c in STYLE_METERS if c[0] not in ("rock", "shuffle")],
                         ids=_ids)
def test_guitar_shapes_are_real_and_move_by_step(case):
    style, meter = case
    prog = BY_METER[meter] + B8
    a = workbench.generate(prog, style=style, meter=meter, seed=11, humanize=0)
    g = a.tracks["guitar"].notes
    shapes = []
    for ev in a.chords:
        # the chord's strummed notes (a single picked low root or fifth is the bass-strum)
        mine = [n for n in g if ev.start - 1e-6 <= n.start < ev.start + ev.duration - 1e-6]
        ps = sorted({n.pitch for n in mine if sum(abs(m.start - n.start) < 0.1 for m in mine) > 1})
        if len(ps) >= 3:
            assert playable(ps), (ev.chord.symbol, ps)
            shapes.append(ps)
    moves = [statistics.mean(min(abs(p - q) for q in x) for p in y)
             for x, y in zip(shapes, shapes[1:], strict=False)]
    assert statistics.mean(moves) <= 2.0


def test_walking_bass_arrives_by_step():
    a = workbench.generate(A8 + B8 + "| Bb7 | E7 | Ab7 | Db7 | Gb7 | C7 | F#7 | B7 |", style="swing",
                           seed=12, humanize=0, repeat=2)
    bass = a.tracks["bass"].notes
    by_start = {round(n.start, 3): n.pitch for n in bass}
    leaps = total = 0
    for ev in a.chords[1:-1]:
        t = round(ev.start, 3)
        if t in by_start and round(t - 1, 3) in by_start:
            total += 1
            leaps += abs(by_start[t] - by_start[round(t - 1, 3)]) >= 6
    assert total > 20 and leaps <= 0.05 * total


def test_plan_is_pure_data():
    from workbench.band.arranger import layout

    take = layout(song(), 1, True, True, "swing")
    plan = plan_bars(take, "swing", 0.5, "build", workbench.TRACKS, 8)
    assert len(plan) == take.bars == 28 + 4  # and swing's tag: the last two bars twice more
    assert plan[0]._fields[:4] == ("bar", "section", "chorus", "kind")
