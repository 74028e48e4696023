"""The guitar: chord shapes built like a guitarist's (root low, fifth, octave, third, ...
within E2..E5), strummed (down strokes low to high, up strokes high to low), picked, chopped,
skanked or boogied as the style asks.

Table hits are ``(pos, dur, vel, weight, stroke)``; strokes: D down strum, U up strum (top
strings), M muted scratch, T top-three chop/skank, P power chord, S jazz shell (root, 7th, 3rd),
R / F low root / fifth (bass-strum), B5 / B6 boogie dyads, an int a picked string (from low).
"""

from __future__ import annotations

from workbench.band.common import has_table, nearest, resolve, shape
from workbench.instruments import REGISTERS

LO, HI = REGISTERS["guitar"]
STRUM = 0.015  # beats between strings in a strum (about 7 ms at 120 bpm)

_PICK8 = (0, 2, 3, 4, 5, 4, 3, 2)


def _picked(order, vel=72, step=0.5, ring=1.5):
    return tuple((i * step, ring, vel if i else vel + 8, 1.0, k) for i, k in enumerate(order))


TABLES: dict[str, dict] = {
    "rock": {
        "4/4": (tuple((i * 0.5, 0.45, 96 if i % 2 == 0 else 80, 1.0 if i % 2 == 0 else 0.8, "P")
                      for i in range(8)),),
    },
    "pop": {
        "4/4": (((0, 0.95, 90, 1, "D"), (1, 0.45, 80, 0.9, "D"), (1.5, 0.9, 70, 0.8, "U"),
                 (2.5, 0.45, 72, 0.8, "U"), (3, 0.45, 82, 0.9, "D"), (3.5, 0.45, 70, 0.7, "U")),),
        "3/4": (((0, 0.95, 86, 1, "D"), (1, 0.45, 72, 0.8, "D"), (1.5, 0.45, 62, 0.6, "U"),
                 (2, 0.45, 74, 0.8, "D"), (2.5, 0.45, 62, 0.6, "U")),),
        "6/8": (((0, 0.95, 86, 1, "D"), (1, 0.45, 66, 0.7, "U"), (1.5, 0.95, 80, 1, "D"),
                 (2.5, 0.45, 66, 0.7, "U")),),
    },
    "ballad": {
        "4/4": (_picked(_PICK8),),
        "3/4": (_picked((0, 2, 3, 4, 3, 2)),),
        "6/8": (_picked((0, 2, 3, 4, 3, 2)),),
    },
    "funk": {
        "4/4": (tuple((i * 0.25, 0.12, 40, 0.7, "M") for i in range(16)
                      if i not in (2, 4, 7, 12, 14))
                + ((0.5, 0.15, 96, 1, "T"), (1.0, 0.12, 100, 1, "T"), (1.75, 0.15, 90, 0.8, "T"),
                   (3.0, 0.12, 100, 1, "T"), (3.5, 0.15, 90, 0.8, "T")),),
    },
    "swing": {
        "4/4": (tuple((float(i), 0.45, 70 if i % 2 == 0 else 62, 1, "S") for i in range(4)),),
        "3/4": (tuple((float(i), 0.45, 68 if i == 0 else 58, 1, "S") for i in range(3)),),
    },
    "bossa": {
        "4/4": (((0, 0.9, 72, 1, "R"), (2, 0.9, 68, 1, "F"), (0, 0.45, 70, 1, "T"),
                 (1.5, 0.45, 64, 1, "T"), (3, 0.45, 66, 1, "T")),
                ((0, 0.9, 72, 1, "R"), (2, 0.9, 68, 1, "F"), (1, 0.45, 64, 1, "T"),
                 (2.5, 0.45, 66, 1, "T"))),
    },
    "shuffle": {
        "4/4": (tuple((i * 0.5, 0.45, 84 if i % 2 == 0 else 70, 1, "B5" if (i // 2) % 2 == 0
                       else "B6") for i in range(8)),),
    },
    "waltz": {
        "3/4": (((0, 0.9, 76, 1, "R"), (1, 0.6, 66, 1, "T"), (2, 0.6, 64, 1, "T")),
                ((0, 0.9, 74, 1, "F"), (1, 0.6, 66, 1, "T"), (2, 0.6, 64, 1, "T"))),
    },
    "reggae": {
        "4/4": (((0.5, 0.2, 92, 1, "T"), (1.5, 0.2, 92, 1, "T"), (2.5, 0.2, 92, 1, "T"),
                 (3.5, 0.2, 92, 1, "T")),),
    },
    "country": {
        "4/4": (((0, 0.9, 84, 1, "R"), (1, 0.45, 80, 1, "D"), (1.5, 0.4, 60, 0.5, "U"),
                 (2, 0.9, 84, 1, "F"), (3, 0.45, 80, 1, "D"), (3.5, 0.4, 60, 0.5, "U")),),
    },
}


def has_pattern(style: str, meter: str) -> bool:
    return has_table(TABLES[style], meter, "6/8")


def guitar_shape(sh, low_hint: float) -> tuple[int, ...]:
    """Root low (nearest the last shape's), then fifth, seventh or octave, third, fifth, root:
    the E-shape barre chord, trimmed to the register."""
    low = nearest(sh.root, low_hint, LO, LO + 12)
    third = sh.third if sh.third is not None else (sh.sus if sh.sus is not None else 0)
    fifth = sh.fifth if sh.fifth is not None else third
    seventh = sh.seventh if sh.seventh is not None else (sh.sixth if sh.sixth is not None else 0)
    top = sh.exts[0] if sh.exts else 0
    notes = [low]
    for i in (fifth, seventh, third, fifth, top):
        pc = sh.pc(i)
        p = notes[-1] + ((pc - notes[-1]) % 12 or 12)
        if p > HI:
            break
        notes.append(p)
    return tuple(notes)


def play(ctx, rng, style) -> list:
    out: list = []
    add = out.append
    table = resolve(TABLES[style.name], ctx)
    hint = 45.0
    for ev in ctx.events:
        if ev.nc:
            continue
        sh = shape(ev.chord)
        full = guitar_shape(sh, hint)
        hint = full[0]
        if ctx.final(ev):
            _strum(full, ev.start, ev.end, 84, add)
            continue
        placed = False
        for t, (_, dur, vel, weight, stroke) in ctx.hits(table, ev):
            if not ctx.keep(weight, rng):
                continue
            end = t + dur
            if end > ev.end:
                end = ev.end
            placed = True
            _play(stroke, sh, full, t, end, vel, add)
        if not placed:
            _strum(full, ev.start, min(ev.end, ev.start + 1.0), 80, add)
    out.sort(key=lambda n: n[1])
    return out


def _strum(notes, t, end, vel, add, up=False):
    seq = reversed(notes) if up else notes
    for i, p in enumerate(seq):
        s = t + i * STRUM
        if s < end - 0.01:
            add((p, s, end, vel - i * 2))


def _play(stroke, sh, full, t, end, vel, add):
    low = full[0]
    if stroke == "D":
        _strum(full, t, end, vel, add)
    elif stroke == "U":
        _strum(full[-4:], t, end, vel, add, up=True)
    elif stroke == "M":
        _strum(full[1:4], t, end, vel, add)
    elif stroke == "T":
        _strum(full[-3:], t, end, vel, add, up=True)
    elif stroke == "P":
        f = sh.fifth if sh.fifth is not None else 0
        _strum((low, low + f, low + 12), t, end, vel, add)
    elif stroke == "S":
        third = sh.third if sh.third is not None else (sh.sus or 0)
        seventh = sh.seventh if sh.seventh is not None else (sh.sixth or sh.fifth or 0)
        _strum((low, low + seventh, low + 12 + third), t, end, vel, add)
    elif stroke == "R":
        add((low, t, end, vel))
    elif stroke == "F":
        f = sh.fifth if sh.fifth is not None else 0
        p = low + f - 12 if low + f - 12 >= LO else low + f
        add((p, t, end, vel))
    elif stroke == "B5" or stroke == "B6":
        f = sh.fifth if sh.fifth is not None else 12
        if stroke == "B6" and sh.kind in ("maj", "dom") and sh.seventh != 11:
            f = 9
        add((low, t, end, vel))
        add((low + f, t + STRUM, end, vel - 6))
    else:
        add((full[stroke % len(full)], t, end, vel))
