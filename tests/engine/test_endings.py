"""The ending of a take, in the style (issue 9): each rule over every style and meter.

The band ends on the tonic with one final hit together (the drums on the kick and the style's
cymbal, which rings to the very end); before it, the style's own kicks land together across
the parts (the bass naming every chord), swing and bossa tag their closing bars, the ballad
and the waltz slow down in the notes' places (one tempo in the file, the take's length kept);
N.C. stays silent; the same seed gives the same bytes; ``ending=False`` keeps a loop a loop.
"""

from __future__ import annotations

import io

import pytest

import workbench
from workbench.band import endings
from workbench.band.endings import ENDINGS
from workbench.instruments import Drum

STYLE_METERS = [(s.name, m) for s in workbench.styles() for m in s.meters]
PITCHED = ("bass", "keys", "pad", "guitar")
TOL = 0.06  # a strum or a rolled chord starts within this of its hit (the keys' roll aside)

# Per meter: one ending on the dominant (the band adds a bar on the tonic) and one ending on
# the tonic with two chords in the bar before it (a change inside the kicks).
ON_DOMINANT = {"4/4": "| C | Am7 | Dm7 | G7 | C | Am7 | F | G7 |",
               "2/4": "| C | Am7 | Dm7 | G7 | C | Am7 | F | G7 |",
               "3/4": "| C | Am7 | Dm7 | G7 | C | Am7 | F | G7 |",
               "6/8": "| C | Am7 | Dm7 | G7 | C | Am7 | F | G7 |",
               "12/8": "| C7 | F7 | C7 | C7 | F7 | F7 | C7 | G7 |"}
ON_TONIC = {"4/4": "| C | F | C | Am | F | G | Dm7 G7 | C |",
            "2/4": "| C | F | C | Am | F | G | Dm7 G7 | C |",
            "3/4": "| C | F | C | Am | F | G | Dm7 G7 | C |",
            "6/8": "| C | F | C | Am | F | G | Dm7 G7 | C |",
            "12/8": "| C7 | F7 | C7 | C7 | F7 | F7 | G7 F7 | C7 |"}


def _ids(case):
    return "-".join(case)


def take(style, meter, text, **kw):
    kw.setdefault("humanize", 0)
    return workbench.generate(text, style=style, meter=meter, seed=3, **kw)


def final_start(a):
    return a.chords[-1].start


def kick_times(a):
    """Where the style's kicks land, from the ENDINGS table read independently: the figure
    (written in 4/4, 3/4, 6/8 or 12/8; 2/4 plays the 4/4 one over its last two bars) before
    the final bar, the swung "ands" where the take swings eighths, the blues slide."""
    e = ENDINGS[a.style]
    bpb = a.beats_per_bar
    final_bar = a.chords[-1].bar
    family = "4/4" if a.meter == "2/4" else a.meter
    if family not in e.kicks:
        return []
    start = final_bar * bpb - (4.0 if a.meter == "2/4" else bpb)
    unit = workbench.styles()[[s.name for s in workbench.styles()].index(a.style)].swing_unit
    out = []
    for bar in e.kicks[family]:
        for h in bar:
            pos = h.at
            if a.meter in ("4/4", "2/4") and unit == 0.5 and a.swing and abs(pos % 1 - 0.5) < 1e-9:
                pos += a.swing / 4.0
            out.append(round(start + pos, 3))
    if e.slide:
        pos = 4.0 - e.slide if family == "4/4" else bpb - e.slide
        if family == "4/4" and unit == 0.5 and a.swing and abs(pos % 1 - 0.5) < 1e-9:
            pos += a.swing / 4.0
        out = [t for t in out if abs(t - (start + pos)) > 1e-6] + [round(start + pos, 3)]
    ritard = endings.ritard(a.style, a.bars, bpb, 0.0, True)  # the waltz slows into its end
    return sorted(round(ritard.at(t), 3) if ritard else t for t in out)


def onsets(notes, lo, hi):
    return sorted({round(n.start, 3) for n in notes if lo - 1e-6 <= n.start < hi - 1e-6})


def near(t, times):
    return any(abs(t - u) <= TOL for u in times)


@pytest.mark.parametrize("case", STYLE_METERS, ids=_ids)
def test_the_band_ends_together_on_the_tonic(case):
    style, meter = case
    e = ENDINGS[style]
    for text in (ON_DOMINANT[meter], ON_TONIC[meter]):
        a = take(style, meter, text)
        last = a.chords[-1]
        assert last.chord.root == a.key.tonic, (style, meter, last.chord.symbol)
        t = final_start(a)
        bass = a.tracks["bass"].notes
        assert max(bass, key=lambda n: n.start).pitch % 12 == last.chord.bass
        for name in PITCHED:
            struck = [n for n in a.tracks[name].notes if n.start >= t - 1e-6]
            roll = e.spread if name == "keys" else 0.0
            assert struck and all(n.start - t <= TOL + roll for n in struck), (name, t)
            ends = {round(n.end, 6) for n in struck}
            want = min(a.length_beats, t + e.stab) if e.stab else a.length_beats
            assert ends == {round(want, 6)}, (name, ends, want)  # held, or the button
        drums = [n for n in a.tracks["drums"].notes if n.start >= t - 1e-6]
        assert {(n.pitch, round(n.start, 3)) for n in drums} == {
            (Drum.KICK, round(t, 3)), (e.cymbal[0], round(t, 3))}
        # the last note ends where the take ends: the drummer's cymbal rings to the end
        assert max(n.end for tr in a.tracks.values() for n in tr.notes) == a.length_beats
        assert max(n.end for n in drums if n.pitch == e.cymbal[0]) == a.length_beats


@pytest.mark.parametrize("case", STYLE_METERS, ids=_ids)
def test_the_kicks_land_together_in_the_style_s_figure(case):
    style, meter = case
    for text in (ON_DOMINANT[meter], ON_TONIC[meter]):
        a = take(style, meter, text)
        want = kick_times(a)
        t_final = final_start(a)
        if not want:
            continue
        lo = min(want) - 0.01
        changes = [round(c.start, 3) for c in a.chords if lo < c.start < t_final - 1e-6]
        hits = sorted(set(want) | set(changes))
        kicks = onsets([n for n in a.tracks["drums"].notes if n.pitch == Drum.KICK], lo, t_final)
        assert kicks == hits, (style, meter, kicks, hits)
        playing = a.plan[int(lo // a.beats_per_bar)].plays  # the arranger's choice (the pad)
        for name in PITCHED:
            if name not in playing:
                assert not onsets(a.tracks[name].notes, lo, t_final), name
                continue
            got = onsets(a.tracks[name].notes, lo, t_final)
            # every part strikes every hit, and nothing else: the space between is the point
            assert all(near(t, got) for t in hits), (name, got, hits)
            assert all(near(t, hits) for t in got), (name, got, hits)
        # the bass names the chord on each change inside the kicks
        for c in a.chords:
            if lo - 1e-6 <= c.start < t_final - 1e-6 and round(c.start, 3) in hits:
                at = [n.pitch % 12 for n in a.tracks["bass"].notes if abs(n.start - c.start) < 1e-6]
                assert c.chord.bass in at
        # the groove stops at the first kick: before it (reggae's drop on 3), the bar grooves
        bar_start = lo // a.beats_per_bar * a.beats_per_bar
        if lo - bar_start > 1.0:
            assert len(onsets(a.tracks["drums"].notes, bar_start, lo)) >= 2
        # and the drums set up the final chord with their own pickup between the kicks
        setup = [h.at for bar in ENDINGS[style].setup.get("4/4" if meter == "2/4" else meter,
                                                          ((),)) for h in bar]
        if setup:
            between = [n for n in a.tracks["drums"].notes
                       if lo < n.start < t_final - 1e-6 and not near(n.start, hits)]
            assert between, "no pickup into the final chord"


@pytest.mark.parametrize("style", [s for s, e in ENDINGS.items() if e.tag])
def test_swing_and_bossa_tag_the_closing_bars(style):
    for meter in next(s for s in workbench.styles() if s.name == style).meters:
        times, size = ENDINGS[style].tag, ENDINGS[style].tag_bars * (2 if meter == "2/4" else 1)
        a = take(style, meter, ON_TONIC[meter])
        plain = take(style, meter, ON_TONIC[meter], ending=False)
        assert a.bars == plain.bars + times * size
        by_bar = {}
        for c in a.chords:
            by_bar.setdefault(c.bar, []).append(c.chord.symbol)
        last = a.bars - 1
        window = [by_bar[b] for b in range(last - size, last)]
        for k in range(1, times + 1):  # the closing bars come round again before the tonic
            assert [by_bar[b] for b in range(last - size * (k + 1), last - size * k)] == window
        # the tag lifts (swing) or fades (bossa) each time round
        levels = [a.plan[b].intensity for b in range(last - size * times, last, size)]
        lift = ENDINGS[style].tag_lift
        assert all((y - x) * lift > 0 for x, y in zip(levels, levels[1:], strict=False))
        if style == "bossa":  # and the bossa ends on a soft chord, softer than its tag
            t = final_start(a)
            final = [n.velocity for p in PITCHED for n in a.tracks[p].notes if n.start >= t]
            tag = [n.velocity for p in PITCHED for n in a.tracks[p].notes
                   if (last - size * times) * a.beats_per_bar <= n.start < t]
            assert sum(final) / len(final) < sum(tag) / len(tag)


def test_swing_tags_a_ii_v_where_the_form_ends_on_one_dominant():
    a = take("swing", "4/4", "| C | Am7 | F | F | D7 | D7 | G7 | G7 |")
    symbols = [c.chord.symbol for c in a.chords]
    assert symbols[-7:] == ["G7", "G7", "Dm7", "G7", "Dm7", "G7", "C6"]


@pytest.mark.parametrize("style", [s for s, e in ENDINGS.items() if e.ritard])
def test_the_ritard_is_written_into_the_notes_and_keeps_one_tempo(style):
    import mido

    for meter in next(s for s in workbench.styles() if s.name == style).meters:
        a = take(style, meter, ON_DOMINANT[meter])
        bpb = a.beats_per_bar
        final_bar = a.chords[-1].bar
        # the final chord comes late, by the style's ritard, and the take keeps its length
        delay = final_start(a) - final_bar * bpb
        assert delay == pytest.approx(ENDINGS[style].ritard * bpb)
        assert a.length_beats == a.bars * bpb
        # the beat lengthens: the keys' onsets spread out bar by bar over the last two bars
        r = endings.ritard(style, a.bars, bpb, 0.0, True)
        bars = [(r.at((final_bar - k) * bpb), r.at((final_bar - k + 1) * bpb)) for k in (3, 2, 1)]
        spans = []
        for lo, hi in bars:
            got = onsets(a.tracks["keys"].notes, lo, hi)
            gaps = [y - x for x, y in zip(got, got[1:], strict=False) if y - x > 0.1]
            spans.append(sum(gaps) / len(gaps))
        assert spans[0] < spans[1] < spans[2], spans
        # the chord timeline says where the chords are played
        assert a.chords[-2].start + a.chords[-2].duration == pytest.approx(final_start(a))
        # one tempo in the file: a player that ignores tempo maps hears the same take
        midi = mido.MidiFile(file=io.BytesIO(a.to_midi_bytes()))
        tempos = [m for t in midi.tracks for m in t if m.type == "set_tempo"]
        assert len(tempos) == 1
        beats = max(sum(m.time for m in t) for t in midi.tracks) / midi.ticks_per_beat
        assert beats == a.length_beats
    # and the ballad's drummer swells a cymbal roll into the final chord
    if ENDINGS[style].roll:
        a = take(style, "4/4", ON_DOMINANT["4/4"])
        t = final_start(a)
        roll = [n for n in a.tracks["drums"].notes
                if n.pitch == Drum.CRASH and t - 2.5 * a.beats_per_bar / 4 < n.start < t - 1e-6]
        assert len(roll) >= 8 and roll[-1].velocity > roll[0].velocity + 30


@pytest.mark.parametrize("case", STYLE_METERS, ids=_ids)
def test_no_chord_in_the_kicks_is_silent_and_the_same_seed_gives_the_same_bytes(case):
    style, meter = case
    text = "| C | F | G7 | N.C. | C |"
    a = take(style, meter, text, humanize=0.5)
    nc = next(c for c in a.chords if c.chord.is_no_chord)
    for name in PITCHED:
        assert not any(n.start < nc.start + nc.duration - 1e-6 and n.end > nc.start + 1e-6
                       for n in a.tracks[name].notes), name
    assert a.to_midi_bytes() == take(style, meter, text, humanize=0.5).to_midi_bytes()


@pytest.mark.parametrize("case", STYLE_METERS, ids=_ids)
def test_a_loop_keeps_its_length_and_grooves_to_its_last_bar(case):
    style, meter = case
    a = take(style, meter, ON_DOMINANT[meter], ending=False)
    assert a.bars == 8 and a.chords[-1].chord.symbol == "G7"
    assert all(p.kind != "ending" for p in a.plan)
    bpb = a.beats_per_bar
    assert a.chords[-1].start == 7 * bpb  # no ritard either
    assert len(onsets(a.tracks["drums"].notes, 6 * bpb, 8 * bpb)) >= 4


def test_a_take_too_short_for_kicks_grooves_before_its_final_chord():
    """Kicks need a groove to stop: a two-bar take plays its groove, then the final hit."""
    a = take("rock", "4/4", "| F | C |", key="C")
    assert [p.kind for p in a.plan] == ["verse", "ending"]
    assert len(onsets(a.tracks["drums"].notes, 0, 4)) >= 6
    longer = take("rock", "4/4", "| C | F | C |", key="C")
    assert [p.kind for p in longer.plan] == ["verse", "ending", "ending"]
