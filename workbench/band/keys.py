"""Piano (or organ/clav/Rhodes) comping: one voicing per chord, voice-led from the previous one
(the inversion that moves least), played in the style's rhythm. Swing comps with rootless
voicings in a randomly chosen jazz rhythm per bar.

Table hits are ``(pos, dur, vel, weight, what)``; ``what`` is -1 for the whole voicing, else a
broken-chord note: the whole voicing on the chord's first hit, then its voices in ``ARPEGGIO``
order (so every chord sounds its 3rd and 7th at once, however short it is).
"""

from __future__ import annotations

from workbench.band.common import EPS, has_table, lead, resolve, shape, swing_time

WINDOW = (53, 81)  # inside the keys register 48..84, so swells of voice-leading stay in
CENTER = 66.0
ROOTLESS = {"swing", "bossa"}


ARPEGGIO = (0, 1, 2, 3, 1, 2, 3, 2)


def _arp(order, durs, vel=(76, 60), step=0.5):
    return tuple((i * step, d, vel[0] if i == 0 else vel[1], 1.0, k)
                 for i, (k, d) in enumerate(zip(order, durs, strict=False)))


TABLES: dict[str, dict] = {
    "rock": {
        "4/4": (tuple((i * 0.5, 0.45, 92 if i % 2 == 0 else 74, 1.0 if i % 2 == 0 else 0.7, -1)
                      for i in range(8)),),
    },
    "pop": {
        "4/4": (((0, 1.45, 88, 1, -1), (1.5, 0.95, 76, 0.8, -1), (2.5, 0.45, 70, 0.6, -1),
                 (3, 0.95, 80, 0.9, -1)),
                ((0, 0.95, 88, 1, -1), (1, 0.45, 70, 0.6, -1), (1.5, 1.45, 78, 0.9, -1),
                 (3, 0.45, 74, 0.7, -1), (3.5, 0.45, 74, 0.6, -1))),
        "3/4": (((0, 0.95, 86, 1, -1), (1, 0.9, 70, 0.8, -1), (2, 0.9, 72, 0.8, -1)),),
        "6/8": (tuple((i * 0.5, 0.45, 86 if i % 3 == 0 else 66, 1.0 if i % 3 == 0 else 0.7, -1)
                      for i in range(6)),),
    },
    "ballad": {
        "4/4": (_arp((0, 1, 2, 3, 1, 2, 3, 2), (4, 3.5, 3, 2.5, 2, 1.5, 1, 0.5)),),
        "3/4": (_arp((0, 1, 2, 3, 2, 1), (3, 2.5, 2, 1.5, 1, 0.5)),),
        "6/8": (_arp((0, 1, 2, 3, 2, 1), (3, 2.5, 2, 1.5, 1, 0.5)),),
    },
    "funk": {
        "4/4": (((0, 0.2, 100, 1, -1), (0.75, 0.15, 82, 0.7, -1), (1.5, 0.2, 90, 0.8, -1),
                 (2.25, 0.15, 78, 0.6, -1), (2.75, 0.2, 86, 0.7, -1), (3.5, 0.2, 90, 0.8, -1)),
                ((0, 0.2, 100, 1, -1), (0.5, 0.15, 78, 0.6, -1), (1.25, 0.2, 86, 0.7, -1),
                 (2, 0.2, 92, 0.9, -1), (2.75, 0.15, 80, 0.7, -1), (3.25, 0.2, 88, 0.7, -1))),
    },
    "bossa": {
        "4/4": (((0, 1.95, 70, 1, -1), (2.5, 1.45, 62, 0.7, -1)),
                ((1, 1.45, 64, 0.8, -1), (2.5, 1.45, 66, 0.9, -1))),
    },
    "shuffle": {
        "4/4": (tuple((i * 0.5, 0.4, 84 if i % 2 == 0 else 62, 1.0 if i % 2 == 0 else 0.7, -1)
                      for i in range(8)),),
    },
    "waltz": {
        "3/4": (((1, 0.8, 74, 1, -1), (2, 0.8, 70, 1, -1)),),
    },
    "reggae": {
        "4/4": (((0.5, 0.3, 84, 1, -1), (1.5, 0.3, 84, 1, -1), (2.5, 0.3, 84, 1, -1),
                 (3.5, 0.3, 84, 1, -1), (0, 0.2, 52, 0.5, 0), (1, 0.2, 52, 0.5, 0),
                 (2, 0.2, 52, 0.5, 0), (3, 0.2, 52, 0.5, 0)),),
    },
    "country": {
        "4/4": (((1, 0.45, 80, 1, -1), (3, 0.45, 80, 1, -1), (2.5, 0.4, 62, 0.4, -1),
                 (3.5, 0.4, 60, 0.3, -1)),),
    },
}

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
    out: list = []
    add = out.append
    name = style.name
    rootless = name in ROOTLESS
    comping = name == "swing"
    table = None if comping else resolve(TABLES[name], ctx)
    choice = {}

    def bar_choice(b):
        if b not in choice:
            choice[b] = int(rng.random() * len(COMPING[ctx.meter]))
        return choice[b]

    prev = None
    lo, hi = WINDOW
    for ev in ctx.events:
        if ev.nc:
            continue
        sh = shape(ev.chord)
        v = lead(prev, sh.voicing_pcs(rootless), lo, hi, CENTER)
        prev = v
        if ctx.final(ev):
            for p in v:
                add((p, ev.start, ev.end, 80))
            continue
        placed = False
        arp = 1  # a broken chord starts from the whole chord, then the voices
        source = _swing_hits(ctx, rng, ev, bar_choice) if comping else ctx.hits(table, ev)
        for t, (_, dur, vel, weight, what) in source:
            if not ctx.keep(weight, rng):
                continue
            end = t + dur
            if end > ev.end:
                end = ev.end
            if what < 0 or not placed or t - ev.start < EPS:
                # the whole voicing on the change, and on the chord's first stroke when it
                # starts off the pattern's grid (three chords to a bar)
                for p in v:
                    add((p, t, end, vel))
            else:  # broken chord: the voices in the table's order, restarted on each chord
                add((v[ARPEGGIO[arp % len(ARPEGGIO)] % len(v)], t, end, vel))
                arp += 1
            placed = True
        if not placed:
            end = min(ev.end, ev.start + max(1.0, min(2.0, ev.duration)))
            for p in v:
                add((p, ev.start, end, 76))
    out.sort(key=lambda n: n[1])
    return out
