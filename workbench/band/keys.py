"""Piano (or organ/clav/Rhodes) comping: one voicing per chord, voice-led from the previous one
(the inversion that moves least), played in the style's rhythm. Swing comps with rootless
voicings in a randomly chosen jazz rhythm per bar.

Table hits are ``(pos, dur, vel, weight, what)``; ``what`` is -1 for the whole voicing, else a
broken-chord note: the whole voicing on the chord's first hit, then its voices in ``ARPEGGIO``
order (so every chord sounds its 3rd and 7th at once, however short it is).
"""

from __future__ import annotations

from workbench.band import endings
from workbench.band.common import EPS, Hit, has_table, lead, resolve, shape, swing_time

WINDOW = (53, 81)  # inside the keys register 48..84, so swells of voice-leading stay in
CENTER = 66.0
ROOTLESS = {"swing"}  # bossa's Rhodes keeps plain 3-7-root-5 (the guitar has the tensions)


ARPEGGIO = (0, 1, 2, 3, 1, 2, 3, 2)
# A pianist voices the top of a comping chord: the top note sings over the inner ones.
TOP_VOICE, INNER_VOICES = 6, -3


def _arp(order, durs, vel=(76, 60), step=0.5):
    return tuple(Hit(i * step, d, vel[0] if i == 0 else vel[1], 1.0, k)
                 for i, (k, d) in enumerate(zip(order, durs, strict=False)))


TABLES: dict[str, dict] = {
    # rock: the guitar chugs, so the keys hold the chord an octave up, stabbing the offbeats
    # only when the band plays hard
    "rock": {
        "4/4": ((Hit(0, 3.9, 84, 1, -1), Hit(1.5, 0.4, 72, 0.25, -1), Hit(3.5, 0.4, 72, 0.3, -1)),),
    },
    # pop: the guitar and bass take the downbeat, the piano answers off it
    "pop": {
        "4/4": ((Hit(1, 0.45, 74, 0.5, -1), Hit(2.5, 1.4, 84, 1, -1)),
                (Hit(0.5, 0.9, 78, 0.6, -1), Hit(2.5, 1.4, 80, 1, -1))),
        "3/4": ((Hit(0, 1.9, 86, 1, -1), Hit(2, 0.9, 70, 0.6, -1)),),
        "6/8": ((Hit(0.5, 0.9, 80, 1, -1), Hit(2, 0.9, 72, 0.8, -1)),),
    },
    "ballad": {
        "4/4": (_arp((0, 1, 2, 3, 1, 2, 3, 2), (4, 3.5, 3, 2.5, 2, 1.5, 1, 0.5)),),
        "3/4": (_arp((0, 1, 2, 3, 2, 1), (3, 2.5, 2, 1.5, 1, 0.5)),),
        "6/8": (_arp((0, 1, 2, 3, 2, 1), (3, 2.5, 2, 1.5, 1, 0.5)),),
    },
    # funk: clav stabs in the gaps the guitar's chops leave
    "funk": {
        "4/4": ((Hit(0, 0.2, 100, 1, -1), Hit(0.75, 0.15, 82, 0.7, -1), Hit(1.5, 0.2, 90, 0.8, -1),
                 Hit(2.25, 0.15, 78, 0.6, -1), Hit(2.75, 0.2, 86, 0.7, -1)),
                (Hit(0, 0.2, 100, 1, -1), Hit(1.25, 0.2, 86, 0.7, -1), Hit(2.25, 0.2, 92, 0.9, -1),
                 Hit(2.75, 0.15, 80, 0.7, -1), Hit(3.25, 0.2, 88, 0.7, -1))),
    },
    # bossa: the Rhodes held above the guitar's fingers, between their strokes
    "bossa": {
        "4/4": ((Hit(1, 2.9, 64, 1, -1),),
                (Hit(2.5, 1.45, 62, 1, -1),)),
    },
    # shuffle: the guitar boogies in eighths; the piano answers on the offbeats
    "shuffle": {
        "4/4": ((Hit(0.5, 0.4, 80, 1, -1), Hit(2, 0.9, 66, 0.3, -1), Hit(3.5, 0.4, 78, 0.9, -1)),),
    },
    "waltz": {
        "3/4": ((Hit(1, 0.8, 74, 1, -1), Hit(2, 0.8, 70, 1, -1)),),
    },
    "reggae": {
        "4/4": ((Hit(0.5, 0.3, 84, 1, -1), Hit(1.5, 0.3, 84, 1, -1), Hit(2.5, 0.3, 84, 1, -1),
                 Hit(3.5, 0.3, 84, 1, -1), Hit(0, 0.2, 52, 0.3, 0), Hit(2, 0.2, 52, 0.3, 0)),),
    },
    # country: honky-tonk offbeats between the guitar's boom-chick
    "country": {
        "4/4": ((Hit(1.5, 0.4, 76, 1, -1), Hit(3.5, 0.4, 74, 1, -1), Hit(2.75, 0.2, 62, 0.3, -1)),),
    },
}

# The register of the comping hand, per style (default WINDOW): where the guitar chugs low,
# the keys sit an octave up; where the guitar comps (swing shells, funk chops, country
# strums, bossa's fingers), the keys sit above it, so that the guitar keeps off the piano's
# 3rds and 7ths without leaving its nearest shapes.
WINDOWS = {"rock": ((60, 84), 72.0), "funk": ((58, 84), 72.0), "reggae": ((58, 82), 68.0),
           "shuffle": ((58, 82), 68.0), "country": ((58, 84), 73.0), "swing": ((58, 84), 71.0),
           "bossa": ((56, 84), 73.0)}

# Jazz comping rhythms, one chosen per bar: (pos on a straight grid, dur, vel).
COMPING = {
    "4/4": (
        ((0, 1.2, 78), (1.5, 0.4, 70)),            # Charleston
        ((0.5, 1.0, 74), (2.5, 0.4, 70)),          # and-of-1, and-of-3
        ((1, 0.4, 70), (3, 0.4, 70)),              # 2 and 4
        ((0, 0.4, 76), (1.5, 0.4, 68), (3, 0.9, 72)),
        ((1.5, 0.4, 72), (3.5, 0.4, 70)),          # anticipations
        ((0, 2.5, 72),),                            # sustained
        ((0.5, 0.4, 70), (2, 1.2, 74)),
    ),
    "3/4": (
        ((0, 0.9, 76), (1.5, 0.4, 68)),
        ((1, 0.4, 70), (2, 0.9, 70)),
        ((0.5, 0.4, 72), (2, 0.4, 68)),
        ((0, 2.4, 70),),
    ),
}


def has_pattern(style: str, meter: str) -> bool:
    return style == "swing" and meter in COMPING or (
        style in TABLES and has_table(TABLES[style], meter, "6/8"))


def _swing_hits(ctx, rng, ev, bars_choice):
    bpb = ctx.bpb
    b = int((ev.start + EPS) // bpb)
    while b * bpb < ev.end - EPS:
        for pos, dur, vel in COMPING[ctx.meter][bars_choice(b)]:
            s = swing_time(ctx, pos)
            e = swing_time(ctx, pos + dur)
            t = b * bpb + s
            if ev.start - EPS <= t < ev.end - EPS:
                yield t, (s, e - s, vel, 1.0, -1)
        b += 1


def play(ctx, rng, style) -> list:
    out = []
    add = out.append
    name = style.name
    rootless = name in ROOTLESS
    comping = name == "swing"
    table = None if comping else resolve(TABLES[name], ctx)
    offbeat = table is not None and not any(h[0] < EPS and h[3] >= 1.0 for row in table
                                            for h in row)
    choice = {}

    def bar_choice(b):
        # a comping figure per two bars of the same figure key (kept, varied at phrase ends)
        p = ctx.bar_plan(b)
        key = (p.figure[0], p.figure[1], p.figure[2] >= 2, b % 2) if p else b
        if key not in choice:
            choice[key] = int(rng.random() * len(COMPING[ctx.meter]))
        return choice[key]

    prev = None
    (lo, hi), center = WINDOWS.get(name, (WINDOW, CENTER))
    for ev in ctx.events:
        if ev.nc:
            continue
        sh = shape(ev.chord)
        v = lead(prev, sh.voicing_pcs(rootless), lo, hi, center)
        prev = v
        top = max(v)
        ctx.voicings[ev.index] = v
        if ctx.final(ev):
            end = endings.final_end(ctx, ev)
            roll = endings.ENDINGS[name].spread if ev.next is None else 0.0
            vel = endings.final_velocity(ctx, 80)
            for i, p in enumerate(v):  # rolled from the bottom where the style rolls it
                add((p, ev.start + roll * i / len(v), end, vel))
            continue
        for h in endings.hits_in(ctx, ev):
            hv = v
            if h.slide:  # the slide's own voicing, which the guitar keeps off too
                hv = ctx.voicings[("slide", ev.index)] = lead(
                    v, shape(h.chord).voicing_pcs(rootless), lo, hi, center)
            for p in hv:
                add((p, h.at, h.end, h.velocity - 16))
        if ev.start >= ctx.groove_end - EPS:
            continue  # the ending's kicks play this chord
        stop = endings.groove_stop(ctx, ev)
        placed = False
        arp = 1  # a broken chord starts from the whole chord, then the voices
        source = _swing_hits(ctx, rng, ev, bar_choice) if comping else ctx.hits(table, ev)
        for t, (_, dur, vel, weight, what) in source:
            if t >= stop - EPS or not ctx.keep(weight, rng):
                continue
            end = t + dur
            if end > stop:
                end = stop
            if what < 0 or not placed or t - ev.start < EPS:
                # the whole voicing on the change, and on the chord's first stroke when it
                # starts off the pattern's grid (three chords to a bar), its top voiced
                for p in v:
                    add((p, t, end, vel + (TOP_VOICE if p == top else INNER_VOICES)))
            else:  # broken chord: the voices in the table's order, restarted on each chord
                add((v[ARPEGGIO[arp % len(ARPEGGIO)] % len(v)], t, end, vel))
                arp += 1
            placed = True
        if not placed:  # a chord the figure misses: struck once, off the beat if the
            start = ev.start  # figure answers off it (bass and guitar have the beat)
            if offbeat and ev.duration >= 1.0 - EPS:
                bar = int((ev.start + EPS) // ctx.bpb) * ctx.bpb
                start = bar + swing_time(ctx, ev.start - bar + 0.5)
            end = min(stop, ev.start + max(1.0, min(2.0, ev.duration)))
            if start < end - EPS:  # (an off-beat answer after the ending's first kick: none)
                for p in v:
                    add((p, start, end, 76 + (TOP_VOICE if p == top else INNER_VOICES)))
    return out  # in any order: generate's finishing pass sorts every part by time
