"""The parts as one band, each rule over every style and meter: the bass keeps its figure while
the band builds around it, the guitar keeps off the piano's guide tones and sounds every chord
as a chord, a clave groove keeps its clave through phrase fills, and a piano that answers off
the beat keeps off the downbeat the bass and guitar take."""

from __future__ import annotations

import pytest

import workbench
from workbench.band import drums, endings
from workbench.band.common import shape
from workbench.band.generate import TWO_BAR_BASS
from workbench.band.keys import TABLES as KEYS_TABLES
from workbench.instruments import Drum

STYLE_METERS = [(s.name, m) for s in workbench.styles() for m in s.meters]
FOUR = {"4/4": "| C | Am7 | Dm7 | G7 |", "2/4": "| C | Am7 | Dm7 | G7 |",
        "3/4": "| G | Em7 | Am7 | D7 |", "6/8": "| D | Bm7 | Em7 | A7 |",
        "12/8": "| C7 | F7 | C7 | G7 |"}
# sevenths, a slash bass, a minor ii-V, two chords to a bar
MIXED = {"4/4": "| Cmaj7 | A7 | Dm7 G7 | C/E | Fmaj7 | Bm7b5 E7 | Am7 | D7 G7 |",
         "2/4": "| Cmaj7 | A7 | Dm7 | G7 | C/E | Fmaj7 | Bm7b5 | E7 |",
         "3/4": "| Cmaj7 | A7 | Dm7 | G7 | C/E | Fmaj7 | Bm7b5 | E7 |",
         "6/8": "| Cmaj7 | A7 | Dm7 G7 | C/E | Fmaj7 | Bm7b5 E7 | Am7 | D7 G7 |",
         "12/8": "| Cmaj7 | A7 | Dm7 G7 | C/E | Fmaj7 | Bm7b5 E7 | Am7 | D7 G7 |"}

TWO_A_BAR = "| C Am7 | Dm7 G7 | Em7 A7 | Dm7 G7 |"


def _ids(case):
    return f"{case[0]}-{case[1]}"


def _in_bar(notes, bar, bpb):
    return [n for n in notes if bar * bpb - 1e-6 <= n.start < (bar + 1) * bpb - 1e-6]


@pytest.mark.parametrize("case", STYLE_METERS, ids=_ids)
def test_the_bass_keeps_its_figure_while_the_band_builds(case):
    """Bars of the same section play the same bass rhythm (one figure, or a two-bar one),
    however the arc moves; only phrase ends (a fill of 2 or more) and section changes vary it.
    The walking bass walks: a note on every beat."""
    style, meter = case
    a = workbench.generate(FOUR[meter], style=style, meter=meter, seed=3, repeat=4, humanize=0)
    bpb = a.beats_per_bar
    bass = a.tracks["bass"].notes
    assert a.plan[0].intensity < a.plan[-2].intensity  # the band does build
    # the groove, before the ending's tag, kicks or ritard (workbench.band.endings)
    body = [p for p in a.plan[:endings.groove_bars(a)] if p.fill < 2 and p.kind != "intro"]
    if style == "swing":
        for p in body:
            onsets = {round(n.start - p.bar * bpb, 3) for n in _in_bar(bass, p.bar, bpb)}
            assert onsets >= {float(b) for b in range(int(bpb))}, (p.bar, onsets)
        return
    figures: dict = {}
    for p in body:
        rhythm = frozenset(round((n.start - p.bar * bpb) * 4) for n in _in_bar(bass, p.bar, bpb))
        key = (p.figure[0], p.figure[1], p.bar % 2 if style in TWO_BAR_BASS else 0)
        figures.setdefault(key, set()).add(rhythm)
    assert figures and all(len(r) == 1 for r in figures.values()), figures


def _guide_doublings(a):
    """Guitar notes that sound the chord's 3rd or 7th at the very pitch a keys note of that
    guide tone sounds at the same time."""
    keys = a.tracks["keys"].notes
    bad = []
    for g in a.tracks["guitar"].notes:
        ev = next((c for c in a.chords if c.start - 1e-6 <= g.start < c.start + c.duration - 1e-6),
                  None)
        if ev is None or ev.chord.is_no_chord or g.pitch % 12 not in shape(ev.chord).guides:
            continue
        if any(k.pitch == g.pitch and k.start < g.end - 0.05 and g.start < k.end - 0.05
               for k in keys):
            bad.append((ev.chord.symbol, round(g.start, 3), g.pitch))
    return bad


@pytest.mark.parametrize("case", STYLE_METERS, ids=_ids)
def test_the_guitar_keeps_off_the_pianos_guide_tones(case):
    style, meter = case
    # the last with a tag: its chord (a maj7 in the ballad) is held by everyone at once
    for prog, seed in ((FOUR[meter], 1), (MIXED[meter], 2), ("| G | D | Em | C |", 0)):
        a = workbench.generate(prog, style=style, meter=meter, seed=seed, repeat=2)
        both = [p for p in a.plan if {"keys", "guitar"} <= p.plays]
        assert both, "keys and guitar never play together"
        assert _guide_doublings(a) == []


@pytest.mark.parametrize("case", STYLE_METERS, ids=_ids)
def test_every_guitar_chord_is_heard_as_a_chord(case):
    """A chord the guitar plays is struck as a chord (two strings or more at once) at least
    once, however short: never only a thumb's bass note."""
    style, meter = case
    for prog in (MIXED[meter], TWO_A_BAR):
        for tracks in (None, ["drums", "guitar"]):  # with a bassist, and the guitar as bass
            a = workbench.generate(prog, style=style, meter=meter, seed=4, repeat=2,
                                   humanize=0, tracks=tracks)
            _struck_as_chords(a)


def _struck_as_chords(a):
    g = a.tracks["guitar"].notes
    for ev in a.chords:
        mine = [n for n in g if ev.start - 1e-6 <= n.start < ev.start + ev.duration - 1e-6]
        if ev.chord.is_no_chord or not mine:
            continue
        struck = [n for n in mine if sum(abs(m.start - n.start) < 0.1 and m.pitch != n.pitch
                                         for m in mine) >= 1]
        assert struck, (ev.chord.symbol, ev.start, [(n.start, n.pitch) for n in mine])


@pytest.mark.parametrize("case", STYLE_METERS, ids=_ids)
def test_a_clave_groove_keeps_its_clave_through_phrase_fills(case):
    """In a clave style the kick and rim click of an 8-bar phrase's fill bar are the groove's
    (the fill is played over them); other styles may break the groove for the fill."""
    style, meter = case
    a = workbench.generate(FOUR[meter], style=style, meter=meter, seed=5, repeat=6, humanize=0,
                           ending=False)
    bpb = a.beats_per_bar
    skeleton = {Drum.KICK, Drum.SIDE_STICK, Drum.SNARE}

    def sk(bar):
        return {(round(n.start - bar * bpb, 3), n.pitch)
                for n in _in_bar(a.tracks["drums"].notes, bar, bpb) if n.pitch in skeleton}

    level2 = [p.bar for p in a.plan if p.fill == 2 and p.bar >= 4]
    if style not in drums.CLAVE:
        return
    assert level2
    for b in level2:
        assert sk(b) == sk(b - 4), b  # the same bar of the clave, four bars before


@pytest.mark.parametrize("case", STYLE_METERS, ids=_ids)
def test_an_offbeat_piano_leaves_the_downbeat_to_bass_and_guitar(case):
    """Where the keys' figure answers off the beat (no downbeat stroke in its table), the keys
    strike no downbeat before the ending (its kicks hit with the band), even for a chord the
    figure does not reach (two chords to a bar leave some chords without a stroke of the
    figure)."""
    style, meter = case
    table = KEYS_TABLES.get(style, {})
    rows = table.get(meter) or table.get("4/4") or table.get("6/8") or ()
    if style == "swing" or any(h.at == 0 for row in rows for h in row):
        return
    a = workbench.generate(MIXED[meter], style=style, meter=meter, seed=6, repeat=2, humanize=0)
    bpb = a.beats_per_bar
    last = endings.groove_bars(a)
    downbeats = [n.start for n in a.tracks["keys"].notes
                 if abs(n.start / bpb - round(n.start / bpb)) * bpb < 1e-6
                 and round(n.start / bpb) < last]
    assert downbeats == []


@pytest.mark.parametrize("case", STYLE_METERS, ids=_ids)
def test_a_power_chord_guitar_keeps_to_power_chords(case):
    """In a style whose guitar plays power chords, every stroke before the final bar is a
    power chord (root and fifth), even on a chord its figure does not reach."""
    style, meter = case
    from workbench.band.guitar import TABLES as GUITAR_TABLES

    table = GUITAR_TABLES[style]
    rows = table.get(meter) or table.get("4/4") or table.get("6/8") or ()
    if not rows or any(h.what != "P" for row in rows for h in row):
        return
    for seed in range(4):
        a = workbench.generate(TWO_A_BAR + "| Am | F | C | G |", style=style, meter=meter,
                               seed=seed, humanize=0, intensity=0.3)
        _power_chords_only(a)


def _power_chords_only(a):
    last = a.chords[-1].start
    for ev in a.chords:
        sh = shape(ev.chord)
        if ev.start >= last - 1e-6 or sh.fifth != 7:
            continue
        notes = [n for n in a.tracks["guitar"].notes
                 if ev.start - 1e-6 <= n.start < ev.start + ev.duration - 1e-6]
        assert notes, ev.chord.symbol
        assert {n.pitch % 12 for n in notes} <= {sh.root, sh.pc(7)}, (ev.chord.symbol, notes)


@pytest.mark.parametrize("case", STYLE_METERS, ids=_ids)
def test_the_piano_voices_the_top_of_its_chords(case):
    """Where the keys strike a whole voicing, its top note sings over the inner ones (a pianist
    voices the top), so comping velocities are not one flat level."""
    style, meter = case
    a = workbench.generate(MIXED[meter], style=style, meter=meter, seed=2, humanize=0, repeat=2)
    groove_end = endings.groove_bars(a) * a.beats_per_bar    # the ending's hits are the band's
    by_strike: dict = {}
    for n in a.tracks["keys"].notes:
        if n.start < groove_end:
            by_strike.setdefault(round(n.start, 4), []).append(n)
    chords = [ns for ns in by_strike.values() if len(ns) >= 3]
    assert chords
    voiced = [ns for ns in chords if max(ns, key=lambda n: n.pitch).velocity
              > max(n.velocity for n in ns if n is not max(ns, key=lambda m: m.pitch))]
    assert len(voiced) >= 0.75 * len(chords), (len(voiced), len(chords))
