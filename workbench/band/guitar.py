"""The guitar: chord shapes built like a guitarist's (root low, fifth, octave, third, ...
within E2..E5), strummed (down strokes low to high, up strokes high to low), picked, chopped,
skanked or boogied as the style asks.

Table hits are ``(pos, dur, vel, weight, stroke)``; strokes: D down strum, U up strum (top
strings), M muted scratch, T top-three chop/skank, P power chord, S jazz shell (root, 7th, 3rd),
R / F low root / fifth (bass-strum), B5 / B6 boogie dyads, an int a picked string (from low).
"""

from __future__ import annotations

from functools import lru_cache
from itertools import product
from typing import NamedTuple

from workbench.band.common import EPS, Hit, has_table, motion, nearest, resolve, shape
from workbench.instruments import REGISTERS

LO, HI = REGISTERS["guitar"]
THUMB = ("R", "F")  # the thumb's strokes (the bass-strum); the others sound the chord
# styles whose guitar leaves its thumb's root-fifth to the bassist when he plays (bossa's
# fingers comp above, country's strums are the "chick" to the bass's "boom"; in a
# guitar-and-drums intro the thumb is the bass)
THUMB_YIELDS = ("bossa", "country")
STRUM = 0.015  # beats between strings in a strum (about 7 ms at 120 bpm)

_PICK8 = (0, 2, 3, 4, 5, 4, 3, 2)


def _picked(order, vel=72, step=0.5, ring=1.5):
    return tuple(Hit(i * step, ring, vel if i else vel + 8, 1.0, k) for i, k in enumerate(order))


TABLES: dict[str, dict] = {
    # rock: power chords, the chug filling in as the band plays harder
    "rock": {
        "4/4": ((Hit(0, 0.95, 98, 1, "P"), Hit(0.5, 0.45, 80, 0.25, "P"), Hit(1, 0.45, 88, 0.3, "P"),
                 Hit(1.5, 0.95, 86, 0.8, "P"), Hit(2, 0.45, 92, 0.3, "P"), Hit(2.5, 0.45, 84, 0.3, "P"),
                 Hit(3, 0.45, 90, 0.7, "P"), Hit(3.5, 0.45, 82, 0.5, "P")),),
    },
    "pop": {
        "4/4": ((Hit(0, 0.95, 90, 1, "D"), Hit(1, 0.45, 80, 0.6, "D"), Hit(1.5, 0.9, 70, 0.5, "U"),
                 Hit(2.5, 0.45, 72, 0.4, "U"), Hit(3, 0.45, 82, 0.5, "D"), Hit(3.5, 0.45, 70, 0.6, "U")),),
        "3/4": ((Hit(0, 0.95, 86, 1, "D"), Hit(1, 0.45, 72, 0.8, "D"), Hit(1.5, 0.45, 62, 0.6, "U"),
                 Hit(2, 0.45, 74, 0.8, "D"), Hit(2.5, 0.45, 62, 0.6, "U")),),
        "6/8": ((Hit(0, 0.95, 86, 1, "D"), Hit(1, 0.45, 66, 0.7, "U"), Hit(1.5, 0.95, 80, 1, "D"),
                 Hit(2.5, 0.45, 66, 0.7, "U")),),
    },
    # ballad: the piano arpeggiates, so the guitar lets strummed chords ring
    "ballad": {
        "4/4": ((Hit(0, 1.95, 70, 1, "D"), Hit(2, 1.95, 60, 0.6, "U")),),
        "3/4": ((Hit(0, 2.9, 68, 1, "D"),),),
        "6/8": ((Hit(1.5, 1.45, 64, 1, "D"),),),
    },
    "funk": {
        "4/4": (tuple(Hit(i * 0.25, 0.12, 40, 0.45, "M") for i in range(16)
                      if i not in (2, 4, 7, 12, 14))
                + (Hit(0.5, 0.15, 96, 1, "T"), Hit(1.0, 0.12, 100, 1, "T"), Hit(1.75, 0.15, 90, 0.8, "T"),
                   Hit(3.0, 0.12, 100, 1, "T"), Hit(3.5, 0.15, 90, 0.8, "T")),),
    },
    "swing": {
        "4/4": (tuple(Hit(float(i), 0.45, 70 if i % 2 == 0 else 62, 1, "S") for i in range(4)),),
        "3/4": (tuple(Hit(float(i), 0.45, 68 if i == 0 else 58, 1, "S") for i in range(3)),),
    },
    "bossa": {
        "4/4": ((Hit(0, 0.9, 72, 1, "R"), Hit(2, 0.9, 68, 1, "F"), Hit(0, 0.45, 70, 1, "T"),
                 Hit(1.5, 0.45, 64, 0.7, "T"), Hit(3, 0.45, 66, 0.8, "T")),
                (Hit(0, 0.9, 72, 1, "R"), Hit(2, 0.9, 68, 1, "F"), Hit(1, 0.45, 64, 0.7, "T"),
                 Hit(2.5, 0.45, 66, 1, "T"))),
    },
    "shuffle": {
        "4/4": (tuple(Hit(i * 0.5, 0.45, 84 if i % 2 == 0 else 70, 1, "B5" if (i // 2) % 2 == 0
                          else "B6") for i in range(8)),),
    },
    "waltz": {
        "3/4": ((Hit(0, 0.9, 76, 1, "R"), Hit(1, 0.6, 66, 1, "T"), Hit(2, 0.6, 64, 1, "T")),
                (Hit(0, 0.9, 74, 1, "F"), Hit(1, 0.6, 66, 1, "T"), Hit(2, 0.6, 64, 1, "T"))),
    },
    "reggae": {
        "4/4": ((Hit(0.5, 0.2, 92, 1, "T"), Hit(1.5, 0.2, 92, 1, "T"), Hit(2.5, 0.2, 92, 1, "T"),
                 Hit(3.5, 0.2, 92, 1, "T")),),
    },
    "country": {
        "4/4": ((Hit(0, 0.9, 84, 1, "R"), Hit(1, 0.45, 80, 1, "D"), Hit(1.5, 0.4, 60, 0.5, "U"),
                 Hit(2, 0.9, 84, 1, "F"), Hit(3, 0.45, 80, 1, "D"), Hit(3.5, 0.4, 60, 0.5, "U")),),
    },
}


def has_pattern(style: str, meter: str) -> bool:
    return has_table(TABLES[style], meter, "6/8")


STRINGS = (40, 45, 50, 55, 59, 64)  # standard tuning, low E to high E
SPAN = 3  # frets a hand covers (four frets: index to little finger)


class Grip(NamedTuple):
    """How a style holds its chords: ``strings`` a shape sounds (contiguous), the lowest
    pitch allowed (jazz keeps its shells above the walking bass) and whether the chord's bass
    note must be the lowest (a full strum) or any chord tone may be (an upper-string shape)."""

    strings: int
    floor: int
    bass_low: bool


GRIPS = {
    "pop": Grip(4, 47, False), "country": Grip(4, 47, False), "ballad": Grip(4, 47, False),
    "rock": Grip(4, 45, False), "funk": Grip(4, 50, False), "swing": Grip(4, 52, False),
    "bossa": Grip(4, 50, False), "shuffle": Grip(4, 45, False), "waltz": Grip(4, 50, False),
    "reggae": Grip(4, 52, False),
}
CENTER = 60.0
PEN_DOUBLE, PEN_MISSING = 6.0, 0.5  # a guide tone doubled in the piano's octave; one left to it


@lru_cache(maxsize=4096)
def fret_shapes(pcs: tuple, need: tuple, bass_pc: int, strings: int, floor: int,
                bass_low: bool) -> tuple:
    """Every chord shape a hand can fret: ``strings`` adjacent strings, one note each, within a
    four-fret span (open strings free) up to the 12th fret, holding the ``need`` pitch classes
    and only ``pcs``. Low to high pitches.

    >>> (40, 47, 52, 56, 59) in fret_shapes((4, 8, 11), (4, 8), 4, 5, 40, True)  # open E
    True
    """
    chord = set(pcs)
    found = set()
    for first in range(0, 7 - strings):
        tuning = STRINGS[first:first + strings]
        for pos in range(0, 13):
            options = []
            for open_p in tuning:
                opts = [open_p + f for f in range(pos, pos + SPAN + 1)
                        if (open_p + f) % 12 in chord]
                if pos > 0 and open_p % 12 in chord:
                    opts.append(open_p)
                if not opts:
                    break
                options.append(opts)
            else:
                for combo in product(*options):
                    if combo[0] < floor or any(b <= a for a, b in zip(combo, combo[1:], strict=False)):
                        continue
                    got = {p % 12 for p in combo}
                    if not set(need) <= got or (bass_low and combo[0] % 12 != bass_pc):
                        continue
                    found.add(combo)
    return tuple(sorted(found))


_LEAD: dict = {}


def voice_lead(prev, sh, grip, avoid=frozenset()) -> tuple | None:
    """The shape that moves least from ``prev`` (pulled toward the middle of the neck) and
    sounds none of the ``avoid`` pitches (the piano's guide tones: the guitar keeps off them)."""
    memo = (prev, sh.pcs, sh.bass, sh.root, grip, avoid)
    got = _LEAD.get(memo)
    if got is None:
        if len(_LEAD) > 20000:
            _LEAD.clear()
        got = _LEAD[memo] = _voice_lead(prev, sh, grip, avoid)
    return got


def _voice_lead(prev, sh, grip, avoid=frozenset()) -> tuple | None:
    need = [sh.pc(i) for i in (sh.third if sh.third is not None else sh.sus,
                               sh.seventh if sh.seventh is not None else sh.sixth)
            if i is not None]
    if grip.bass_low or sh.seventh is None:
        need.append(sh.bass)
    if sh.fifth in (6, 8):
        need.append(sh.pc(sh.fifth))
    pcs = set(sh.pcs) | {sh.bass}
    if sh.seventh is not None and sh.kind != "dom" and len(pcs) > grip.strings:
        pcs.discard(sh.pc(sh.fifth)) if sh.fifth == 7 else None
    key = (tuple(sorted(pcs)), tuple(sorted(set(need))), sh.bass, grip.strings, grip.floor,
           grip.bass_low)
    cands = fret_shapes(*key)
    if not cands and len(need) > 2:
        cands = fret_shapes(key[0], tuple(sorted(set(need[:2]))), *key[2:])
    covered = {p % 12 for p in avoid}
    if covered & set(need):  # the piano sounds those: shapes may leave them out as well
        rest = tuple(sorted(set(need) - covered))
        cands = tuple(sorted(set(cands) | set(fret_shapes(key[0], rest, *key[2:]))))
    cands = tuple(c for c in cands if c[-1] <= HI) or cands  # above the register it would fold down
    if not cands:
        return None
    best, cost = None, None
    for c in cands:
        mean = sum(c) / len(c)
        x = abs(mean - CENTER) * (0.3 if prev else 1.0)
        x += 2.0 * sum(b - a == 1 for a, b in zip(c, c[1:], strict=False))  # no semitone rubs
        if prev:
            x += motion(prev, c) / len(c) * 3
        if avoid:  # a guide tone doubled in the piano's octave, or one left to the piano
            pcs_c = {p % 12 for p in c}
            x += PEN_DOUBLE * sum(p in avoid for p in c) + PEN_MISSING * sum(
                q not in pcs_c for q in need)
        if cost is None or x < cost:
            best, cost = c, x
    return best


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


def _power(prev, root_pc):
    """A power chord (root, fifth, octave; or fifth, root, fifth) nearest the last one."""
    cands = []
    for r in range(40, 58):
        if r % 12 == root_pc:
            cands.append((r, r + 7, r + 12))
            if r - 5 >= 40:
                cands.append((r - 5, r, r + 7))
    if prev is None:
        return min((c for c in cands if c[1] - c[0] == 7), key=lambda c: abs(c[0] - 45))
    return min(cands, key=lambda c: (motion(prev, c), c[1] - c[0] != 7))


def play(ctx, rng, style) -> list:
    out = []
    add = out.append
    table = resolve(TABLES[style.name], ctx)
    grip = GRIPS[style.name]
    yields = style.name in THUMB_YIELDS
    powered = table[0][0].what == "P"  # a power-chord style
    hint = 45.0
    prev = None
    power = None
    for ev in ctx.events:
        if ev.nc:
            continue
        sh = shape(ev.chord)
        keys_v = ctx.voicings.get(ev.index, ()) if _plays(ctx, ev.start, "keys") else ()
        avoid = frozenset(p for p in keys_v if p % 12 in sh.guides)
        full = voice_lead(prev, sh, grip, avoid) or guitar_shape(sh, hint)
        prev = full
        if avoid & set(full):  # no shape keeps off them: the fingers leave those strings
            full = tuple(p for p in full if p not in avoid) if len(set(full) - avoid) >= 2 else full
        if grip.bass_low:
            hint = nearest(sh.root, hint, LO, LO + 12)
        elif full[0] % 12 == sh.bass:  # the thumb takes the shape's own bass note
            hint = full[0]
        else:  # or the bass note under the shape, within the same hand position
            hint = nearest(sh.bass, full[0] - 7, LO, max(LO, full[0] - 1))
        if ctx.final(ev):
            _strum(full, ev.start, ev.end, 84, add)
            continue
        placed = chord = False
        first = None
        short = ev.duration < ctx.bpb - EPS  # a chord of less than a bar
        for t, (_, dur, vel, weight, stroke) in ctx.hits(table, ev):
            if not ctx.keep(weight, rng):
                continue
            end = t + dur
            if end > ev.end:
                end = ev.end
            placed = True
            if stroke in THUMB:
                if short and t - ev.start < EPS:
                    stroke = "R"  # its one thumb note names it by its root, as the bass does
                if first is None:
                    first = (t, end, vel)
                if yields and _plays(ctx, t, "bass"):
                    continue
            else:
                chord = True
            if stroke == "P":
                power = _power(power, sh.root) if sh.fifth == 7 else full[:3]
                _strum(power, t, end, vel, add)
                continue
            _play(stroke, sh, full, hint, t, end, vel, add, avoid)
        if first is not None and not chord:  # a chord too short for the fingers' strokes:
            t, end, vel = first  # they pinch it with the thumb, so it is heard as a chord
            _play("T", sh, full, hint, t, end, vel - 4, add)
        if not placed:  # a chord the figure does not reach: struck once, in the style's way
            end = min(ev.end, ev.start + 1.0)
            if powered and sh.fifth == 7:
                power = _power(power, sh.root)
                _strum(power, ev.start, end, 80, add)
            else:
                _strum(full, ev.start, end, 80, add)
    return out  # in any order: generate's finishing pass sorts every part by time


def _plays(ctx, t, part) -> bool:
    """Whether ``part`` plays (the arranger's plan) in the bar at beat ``t``."""
    p = ctx.bar_plan(int((t + EPS) // ctx.bpb))
    return p is not None and part in p.plays


def _strum(notes, t, end, vel, add, up=False):
    seq = reversed(notes) if up else notes
    for i, p in enumerate(seq):
        s = t + i * STRUM
        if s < end - 0.01:
            add((p, s, end, vel - i * 2))


def _play(stroke, sh, full, hint, t, end, vel, add, avoid=frozenset()):
    low = int(hint)
    if stroke == "D":
        _strum(full, t, end, vel, add)
    elif stroke == "U":  # an up-stroke catches the top strings
        _strum(full[-3:], t, end, vel, add, up=True)
    elif stroke == "M":  # a muted scratch on two middle strings
        _strum(full[1:3], t, end, vel, add)
    elif stroke == "T":
        _strum(full[-3:], t, end, vel, add, up=True)
    elif stroke == "P":
        f = sh.fifth if sh.fifth is not None else 0
        _strum((low, low + f, low + 12), t, end, vel, add)
    elif stroke == "S":  # a shell on the middle strings, clear of the walking bass
        _strum(full[:3], t, end, vel, add)
    elif stroke == "R":
        add((low, t, end, vel))
    elif stroke == "F":  # the alternating bass: the fifth below the thumb's root
        f = sh.pc(sh.fifth) if sh.fifth is not None else low % 12
        add((nearest(f, low - 5, LO, HI), t, end, vel))
    elif stroke == "B5" or stroke == "B6":
        f = sh.fifth if sh.fifth is not None else 12
        if stroke == "B6" and sh.kind == "maj" and sh.seventh is None:
            f = 9
        elif stroke == "B6" and sh.kind == "dom":
            f = 10  # 5 - b7: no 6th rubbing the piano's seventh
        root = nearest(sh.root, low, LO, LO + 12)  # the boogie is on the root, not a slash bass
        if root + f in avoid:  # the piano's 7th there: the riff an octave off it
            root = next((r for r in (root - 12, root + 12) if r >= LO and r + f <= HI
                         and r + f not in avoid), root)
            if root + f in avoid:
                f = 7
        add((root, t, end, vel))
        add((root + f, t + STRUM, end, vel - 6))
    else:
        add((full[stroke % len(full)], t, end, vel))
