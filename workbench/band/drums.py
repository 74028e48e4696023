"""The drums (General MIDI kit on channel 10): a groove table per style, fills at phrase ends
with a crash on the next downbeat; a fill into the final bar, then kick and crash with each of
its held chords.

Table hits are :class:`~workbench.band.common.Hit` (at, length, velocity, weight, GM note).
"""

from __future__ import annotations

from operator import itemgetter
from typing import NamedTuple

from workbench.band import endings
from workbench.band.common import EPS, bar_of, beat_positions, has_table, hits, resolve, rounded
from workbench.instruments import Drum as D

KICK = D.KICK
_BY_TIME = itemgetter(1, 0)  # (time, drum)

_E8 = (0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5)
_E16 = tuple(i * 0.25 for i in range(16))
_Q4 = (0, 1, 2, 3)

TABLES = {
    "rock": {
        "4/4": (
            bar_of(hits(D.HAT, _E8, 72, accent={0: 96, 1: 90, 2: 96, 3: 90}),
                   hits(D.KICK, (0, 2), 108), hits(D.KICK, (2.5,), 92, 0.5),
                   hits(D.SNARE, (1, 3), 112)),
            bar_of(hits(D.HAT, _E8, 72, accent={0: 96, 1: 90, 2: 96, 3: 90}),
                   hits(D.KICK, (0, 2, 2.5), 104), hits(D.KICK, (0.5,), 88, 0.4),
                   hits(D.SNARE, (1, 3), 112), hits(D.SNARE, (3.75,), 50, 0.3)),
        ),
    },
    "pop": {
        "4/4": (
            bar_of(hits(D.HAT, _E8, 62, accent={0: 84, 1: 80, 2: 84, 3: 80}),
                   hits(D.KICK, (0, 2), 100), hits(D.KICK, (1.5,), 86, 0.6),
                   hits(D.SNARE, (1, 3), 102), hits(D.TAMBOURINE, (1, 3), 60, 0.4)),
            bar_of(hits(D.HAT, _E8, 62, accent={0: 84, 1: 80, 2: 84, 3: 80}),
                   hits(D.KICK, (0, 2, 2.5), 98), hits(D.KICK, (3.5,), 80, 0.3),
                   hits(D.SNARE, (1, 3), 102), hits(D.TAMBOURINE, (1, 3), 60, 0.4)),
        ),
        "3/4": (
            bar_of(hits(D.HAT, (0, 0.5, 1, 1.5, 2, 2.5), 60, accent={0: 82}),
                   hits(D.KICK, (0,), 100), hits(D.KICK, (1.5,), 80, 0.4),
                   hits(D.SNARE, (1, 2), 84)),
        ),
        "6/8": (
            bar_of(hits(D.HAT, (0, 0.5, 1, 1.5, 2, 2.5), 62, accent={0: 84, 1.5: 80}),
                   hits(D.KICK, (0,), 102), hits(D.KICK, (2.5,), 84, 0.4),
                   hits(D.SNARE, (1.5,), 104)),
        ),
    },
    "ballad": {
        "4/4": (
            bar_of(hits(D.HAT, _E8, 50, accent={0: 64, 2: 62}),
                   hits(D.KICK, (0,), 92), hits(D.KICK, (2.5,), 78, 0.6),
                   hits(D.SIDE_STICK, (1, 3), 84)),
        ),
        "3/4": (
            bar_of(hits(D.HAT, (0, 1, 2), 50, accent={0: 62}),
                   hits(D.KICK, (0,), 90), hits(D.SIDE_STICK, (2,), 74, 0.7)),
        ),
        "6/8": (
            bar_of(hits(D.HAT, (0, 0.5, 1, 1.5, 2, 2.5), 50, accent={0: 62, 1.5: 60}),
                   hits(D.KICK, (0,), 92), hits(D.KICK, (2.5,), 70, 0.3),
                   hits(D.SIDE_STICK, (1.5,), 84)),
        ),
    },
    "funk": {
        "4/4": (
            bar_of(hits(D.HAT, _E16, 52, accent={p: 84 for p in _E8}),
                   hits(D.KICK, (0, 2.5), 110), hits(D.KICK, (0.75,), 96, 0.7),
                   hits(D.KICK, (2.75, 3.25), 90, 0.4),
                   hits(D.SNARE, (1, 3), 114),
                   hits(D.SNARE, (1.75, 2.25, 3.75), 36, 0.6)),
            bar_of(hits(D.HAT, tuple(p for p in _E16 if p != 3.5), 52,
                        accent={p: 84 for p in _E8}),
                   hits(D.OPEN_HAT, (3.5,), 80),
                   hits(D.KICK, (0, 1.5, 2.5), 108), hits(D.KICK, (0.75,), 92, 0.5),
                   hits(D.SNARE, (1, 3), 114),
                   hits(D.SNARE, (0.5, 1.75, 2.25), 36, 0.6)),
        ),
    },
    "swing": {
        "4/4": (
            bar_of(hits(D.RIDE, (0, 1, 1.5, 2, 3, 3.5), 70, dur=0.5,
                        accent={1: 86, 3: 86, 1.5: 60, 3.5: 60}),
                   hits(D.PEDAL_HAT, (1, 3), 72),
                   hits(D.KICK, _Q4, 34, 0.6)),
        ),
        "3/4": (
            bar_of(hits(D.RIDE, (0, 1, 1.5, 2), 70, dur=0.5, accent={0: 82, 1.5: 60}),
                   hits(D.PEDAL_HAT, (1, 2), 66),
                   hits(D.KICK, (0,), 40, 0.6)),
        ),
    },
    "bossa": {
        "4/4": (
            bar_of(hits(D.HAT, _E8, 54, accent={0: 66, 2: 66}),
                   hits(D.KICK, (0, 2), 88), hits(D.KICK, (1.5, 3.5), 70),
                   hits(D.SIDE_STICK, (0, 1.5, 3), 80)),
            bar_of(hits(D.HAT, _E8, 54, accent={0: 66, 2: 66}),
                   hits(D.KICK, (0, 2), 88), hits(D.KICK, (1.5, 3.5), 70),
                   hits(D.SIDE_STICK, (1, 2.5), 80)),
        ),
    },
    "shuffle": {
        "4/4": (
            bar_of(hits(D.HAT, _E8, 58, accent={0: 86, 1: 82, 2: 86, 3: 82}),
                   hits(D.KICK, (0, 2), 104), hits(D.KICK, (2.5,), 84, 0.4),
                   hits(D.SNARE, (1, 3), 108), hits(D.SNARE, (1.5, 3.5), 36, 0.4)),
        ),
    },
    "waltz": {
        "3/4": (
            bar_of(hits(D.KICK, (0,), 92), hits(D.SNARE, (1, 2), 56),
                   hits(D.HAT, (0, 1, 2), 52, accent={0: 64}),
                   hits(D.HAT, (2.5,), 40, 0.3)),
        ),
    },
    "reggae": {
        "4/4": (
            bar_of(hits(D.HAT, _E8, 56, accent={0.5: 74, 1.5: 74, 2.5: 74, 3.5: 74}),
                   hits(D.KICK, (2,), 108), hits(D.SIDE_STICK, (2,), 104),
                   hits(D.HAT, (3.75,), 40, 0.3)),
            bar_of(hits(D.HAT, tuple(p for p in _E8 if p != 3.5), 56,
                        accent={0.5: 74, 1.5: 74, 2.5: 74}),
                   hits(D.OPEN_HAT, (3.5,), 70, 0.9),
                   hits(D.KICK, (2,), 108), hits(D.SIDE_STICK, (2,), 104)),
        ),
    },
    "country": {
        "4/4": (
            bar_of(hits(D.SNARE, _E16, 40, accent={1: 100, 3: 100, 1.5: 76, 3.5: 76,
                                                   0.5: 42, 2.5: 42}),
                   hits(D.KICK, (0, 2), 100),
                   hits(D.PEDAL_HAT, (1, 3), 60, 0.6)),
        ),
    },
}


def has_pattern(style: str, meter: str) -> bool:
    """Whether the style has (or derives) a pattern for the meter."""
    return has_table(TABLES[style], meter, "6/8")


class FillShape(NamedTuple):
    """A fill at one phrase level: its length in beats (at low and at high intensity) and the
    drums it moves over, high to low."""

    short: float
    long: float
    voices: tuple


FILLS = {
    1: (FillShape(0.5, 1.0, (D.SNARE,)),
        FillShape(0.5, 1.0, (D.SNARE, D.TOM_HI))),
    2: (FillShape(1.0, 2.0, (D.SNARE, D.TOM_HI, D.SNARE, D.TOM_MID)),
        FillShape(1.0, 2.0, (D.TOM_HI, D.TOM_HI_MID, D.TOM_MID, D.TOM_LO)),
        FillShape(1.0, 2.0, (D.SNARE,))),
    3: (FillShape(2.0, 4.0, (D.TOM_HI, D.TOM_HI, D.TOM_HI_MID, D.TOM_MID, D.TOM_LO,
                             D.TOM_FLOOR_HI, D.TOM_FLOOR_LO, D.TOM_FLOOR_LO)),
        FillShape(2.0, 4.0, (D.SNARE, D.TOM_HI, D.SNARE, D.TOM_MID, D.SNARE, D.TOM_LO,
                             D.TOM_FLOOR_LO, D.TOM_FLOOR_LO)),
        FillShape(2.0, 4.0, (D.SNARE, D.SNARE, D.TOM_MID, D.TOM_FLOOR_LO))),
}
SOFT = ("ballad", "bossa", "waltz", "swing")
TWO_BAR = ("bossa",)
CLAVE = ("bossa",)  # the clave never stops: a phrase fill plays toms over it, not instead
SKELETON = (D.KICK, D.SNARE, D.SIDE_STICK)
PICKUPS = ((D.TOM_HI, D.TOM_MID, D.TOM_LO), (D.TOM_HI_MID, D.TOM_LO, D.TOM_FLOOR_HI),
           (D.TOM_MID, D.TOM_FLOOR_HI, D.TOM_FLOOR_LO))  # grooves whose two bars are one figure
_HATS = (D.HAT, D.OPEN_HAT)


def _fill(ctx, rng, bar_start, add, level, intensity):
    """A fill over the end of the bar, returning where it starts (the groove stops there):
    a beat or less at a 4-bar phrase, up to two beats at 8, up to the whole bar into a new
    section or the ending, longer and louder as the band plays harder."""
    bpb = ctx.bpb
    shape = FILLS[level][int(rng.random() * len(FILLS[level]))]
    length = shape.short + (shape.long - shape.short) * (1.0 if intensity > 0.6 else
                                                         0.5 if intensity > 0.4 else 0.0)
    if ctx.compound:
        step = 0.5
        length = max(1.5, round(length / 1.5) * 1.5)
    else:
        step = 1.0 / 3.0 if ctx.swing >= 0.5 else 0.25
        if ctx.style.name in ("ballad", "reggae", "bossa", "waltz"):
            step = 0.5 if ctx.swing < 0.5 else 1.0 / 3.0
            length = max(length, 1.0)
    length = min(length, bpb)
    start = bar_start + bpb - length
    n = max(1, int(round(length / step)))
    soft = ctx.style.name in SOFT
    top = (92 if soft else 116) - (0 if level == 3 else 8)
    bottom = (56 if soft else 76) - 4 * (3 - level)
    voices = shape.voices
    for i in range(n):
        if 0 < i < n - 1 and rng.random() < 0.15:
            continue
        note = voices[min(len(voices) - 1, i * len(voices) // n)]
        vel = bottom + (top - bottom) * i // max(1, n - 1)
        add((note, round(start + i * step, 6), round(start + (i + 1) * step, 6), vel))
    if level >= 2:
        add((D.KICK, start, start + 0.25, bottom + 10))
    return start


def _pickup(ctx, rng, bar_start, add, intensity, level=1):
    """The small fill at a 4-bar phrase end: a few tom notes over the last beat (or less) while
    the kick and snare keep the groove; at an 8-bar phrase end of a clave groove (``level``
    2), a longer run of them (a beat or two), the clave going on underneath."""
    soft = ctx.style.name in SOFT
    step = 0.5 if ctx.compound or soft else (1.0 / 3.0 if ctx.swing >= 0.5 else 0.25)
    n = (2 if intensity < 0.55 else 3) + (2 if level >= 2 else 0)
    n = min(n, int(ctx.bpb / step + EPS))
    start = bar_start + ctx.bpb - n * step
    voices = PICKUPS[int(rng.random() * len(PICKUPS))]
    for i in range(n):
        vel = (62 if soft else 80) + 6 * i
        add((voices[i % len(voices)], round(start + i * step, 6),
             round(start + (i + 1) * step, 6), vel))


def play(ctx, rng, style) -> list:
    out: list = []
    add = out.append
    table = resolve(TABLES[style.name], ctx)
    bpb = ctx.bpb
    n = len(table)
    events = ctx.events
    ending = [ev for ev in events if ev.last] if ctx.ending else []
    stop = ending[0].start if ending else ctx.bars * bpb  # the groove stops at the final bar
    if ctx.groove_end < stop:
        stop = ctx.groove_end  # or at the ending's first kick
    style_end = endings.ENDINGS[style.name]
    roll_bar = ending[0].bar - 1 if ending and style_end.roll else -1
    total = ctx.bars
    plan = ctx.plan
    swing_comp = style.name == "swing"
    backbeat = style.name in ("rock", "pop", "country", "shuffle", "funk")
    beats = set(beat_positions(ctx.meter))
    last = [h[0] for h in table[0] if h[4] == D.HAT]
    lift_at = last[-1] if last else None
    crash_next = False
    for b in range(total):
        base = b * bpb
        if base >= stop - EPS:
            break
        p = plan[b] if b < len(plan) else None
        x = p.intensity if p else ctx.intensity
        lift = backbeat and x >= 0.75
        sparse = (backbeat and x <= 0.2) or (p is not None and p.kind in ("intro", "breakdown")
                                             and not backbeat and x <= 0.35)
        ride = p is not None and p.ride and backbeat
        cut = base + bpb
        level = p.fill if p else 0
        if b == roll_bar:
            cut = _roll(ctx, base + bpb, style_end.roll, add)
        elif level == 1 and (b + 1) * bpb <= stop + EPS and x >= 0.25:
            _pickup(ctx, rng, base, add, x)  # over the groove, which goes on
        elif level == 2 and style.name in CLAVE and (b + 1) * bpb <= stop + EPS:
            _pickup(ctx, rng, base, add, x, level)
        elif level >= 2 and (b + 1) * bpb <= stop + EPS:
            cut = _fill(ctx, rng, base, add, level, x)
        crash_here = (p.crash if p else False) or crash_next
        crash_next = False
        # the groove's one-bar figure, its second bar at phrase ends (a two-bar clave always
        # alternates)
        row = b % n if style.name in TWO_BAR or p is None else (1 % n if p.fill >= 2 else 0)
        ctx.at_bar(b, row)
        for i, (pos, dur, vel, weight, note) in enumerate(table[row]):
            t = base + pos
            if t >= cut - EPS or t >= stop - EPS:
                continue
            if crash_here and pos == 0 and note in (D.HAT, D.RIDE, D.OPEN_HAT):
                continue
            ctx._slot = i
            if weight < 1.0:
                if note in SKELETON:  # the kick/snare skeleton keeps the take's density
                    keep = ctx.memory.setdefault(("skeleton", row, i), rng.random())
                    d = ctx.density if ctx.user_density is None else ctx.user_density
                    if keep >= weight * 2.0 * d:
                        continue
                elif not ctx.keep(weight, rng):
                    continue
            if note == D.HAT:
                if sparse and pos not in beats:
                    continue  # a quiet bar keeps the hi-hat on the beats only
                if lift and b % 2 and pos == lift_at:
                    note, dur, vel = D.OPEN_HAT, 0.45, vel + 10  # the open hat into the bar
                elif ride:
                    note, vel = D.RIDE, vel - 4  # the build: from the hi-hat to the ride
            add((note, t, t + dur, vel))
        if crash_here and base < stop - EPS:
            add((D.CRASH, base, base + 1.0, 104))
            if any(h[0] == 0 and h[4] == D.KICK and h[3] >= 1 for h in table[row]):
                add((D.KICK, base, base + 0.25, 100))  # with the groove's own kick on one
        if swing_comp:  # snare and kick comping on the swung "ands", kept with the figure
            for j, q in enumerate(beat_positions(ctx.meter)):
                t = base + q + (0.5 + ctx.swing / 4.0)
                ctx._slot = 100 + j
                if t < cut - EPS and t < stop - EPS and ctx.keep(0.15, rng):
                    ctx._slot = 200 + j
                    drum = D.SNARE if ctx.keep(0.35, rng) else D.KICK
                    loud = ctx.memory.setdefault((ctx._key, 300 + j), rng.random())
                    add((drum, t, t + 0.2, 28 + int(loud * 10)))  # comping, under the ride
    if ending:
        for hits_of_chord in ctx.band_hits.values():  # the kicks, caught with the band
            for h in hits_of_chord:
                add((D.KICK, h.at, h.at + 0.25, h.velocity))
                if h.drum != D.KICK:
                    add((h.drum, h.at, max(h.end, h.at + 0.25), h.velocity))
        out.extend(ctx.setup)  # and set up: the drummer's pickup into the next hit
        _ending_hits(ending, add, style_end.cymbal)
    # one hit per drum per instant: the groove's hit yields to a fill or crash there
    seen = {}
    for note in out:
        seen[(note[0], rounded(note[1], 4))] = note
    out = sorted(seen.values(), key=_BY_TIME)
    return out


def _ending_hits(ending, add, cymbal):
    """Kick and the style's final cymbal with each chord of the held final bar (the band's
    hits), the cymbal left ringing to the end; a final bar of N.C. gets one hit where it
    starts."""
    end = ending[-1].end
    note, vel = cymbal
    starts = [ev.start for ev in ending if not ev.nc] or [ending[0].start]
    for i, t in enumerate(starts):
        add((note, t, end, vel if i == 0 else vel - 10))
        add((D.KICK, t, t + 0.5, min(vel, 108) if i == 0 else 100))


def _roll(ctx, at, beats, add):
    """A cymbal roll swelling into the final chord at ``at`` (mallets on a suspended cymbal:
    soft strokes an eighth-note triplet apart, louder and louder); returns where it starts
    (the groove stops there)."""
    beats = min(beats, ctx.bpb / 2)
    step = 1.0 / 6.0
    n = int(round(beats / step))
    start = at - n * step
    for i in range(n):
        t = round(start + i * step, 6)
        add((D.CRASH, t, round(t + step, 6), 28 + 72 * i // max(1, n - 1)))
    add((D.TOM_FLOOR_LO, round(at - 0.5, 6), round(at, 6), 64))
    return start


def count_in(ctx) -> list:
    """One bar of sticks on the beats (before bar 1; the caller shifts everything else)."""
    return [(D.STICKS, q, q + 0.25, 100 if i == 0 else 86)
            for i, q in enumerate(beat_positions(ctx.meter))]
