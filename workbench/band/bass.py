"""The bass: the chord's bass note (slash bass, else root) on every chord change, then the
style's line. Swing walks (chord tones on the strong beats, approach notes into the next chord).

Table hits are ``(pos, dur, vel, weight, degree)``; degrees: R bass note, 5 fifth, L lower fifth,
8 octave, 3 third, 7 seventh (else octave), 6 sixth on major/dominant (else fifth), A chromatic
approach into the next chord's bass, N the next chord's bass (anticipation), G a dead/ghost note.
"""

from __future__ import annotations

from bisect import bisect_right
from functools import lru_cache

from workbench.band import endings
from workbench.band.common import (
    EPS,
    Hit,
    beat_positions,
    has_table,
    nearest,
    resolve,
    rounded,
    shape,
    strong_positions,
)
from workbench.instruments import REGISTERS

LO, HI = REGISTERS["bass"]
ROOT_LO, ROOT_HI, ROOT_CENTER = 28, 43, 36


def _eighths(degrees, vel_on=100, vel_off=88, dur=0.45, w_off=1.0):
    return tuple(Hit(i * 0.5, dur, vel_on if i % 2 == 0 else vel_off,
                     1.0 if i % 2 == 0 else w_off, d) for i, d in enumerate(degrees))


TABLES: dict[str, dict] = {
    # rock: the root with the kick (the drums' kicks are added, see _lock), eighths filling in
    # as the band plays harder
    "rock": {
        "4/4": ((Hit(0, 0.95, 102, 1, "R"), Hit(1, 0.45, 86, 0.3, "R"), Hit(1.5, 0.45, 88, 0.4, "R"),
                 Hit(2, 0.45, 98, 1, "R"), Hit(2.5, 0.45, 90, 0.7, "R"), Hit(3, 0.45, 86, 0.35, "R"),
                 Hit(3.5, 0.45, 86, 0.4, "A")),
                # the phrase end: driving eighths into the next phrase, on every place the
                # drummer's fill may start (its kick), so each phrase end is the same figure
                (Hit(0, 0.45, 102, 1, "R"), Hit(0.5, 0.45, 86, 1, "R"), Hit(1, 0.45, 90, 1, "R"),
                 Hit(1.5, 0.45, 88, 1, "R"), Hit(2, 0.45, 98, 1, "R"), Hit(2.5, 0.45, 90, 1, "R"),
                 Hit(3, 0.45, 88, 1, "8"), Hit(3.5, 0.45, 86, 1, "A"))),
    },
    "pop": {
        "4/4": ((Hit(0, 1.45, 100, 1, "R"), Hit(1.5, 0.45, 84, 0.8, "R"), Hit(2, 0.95, 94, 1, "5"),
                 Hit(3, 0.45, 86, 0.7, "8"), Hit(3.5, 0.45, 84, 0.6, "A")),
                (Hit(0, 1.45, 100, 1, "R"), Hit(1.5, 0.45, 84, 0.8, "R"), Hit(2, 0.95, 94, 1, "R"),
                 Hit(3, 0.95, 86, 0.7, "5"))),
        "3/4": ((Hit(0, 1.9, 98, 1, "R"), Hit(2, 0.95, 84, 0.8, "5")),),
        "6/8": ((Hit(0, 1.4, 100, 1, "R"), Hit(1.5, 0.95, 86, 1, "5"), Hit(2.5, 0.45, 78, 0.5, "A")),),
    },
    "ballad": {
        "4/4": ((Hit(0, 1.95, 92, 1, "R"), Hit(2, 1.45, 82, 1, "5"), Hit(3.5, 0.45, 70, 0.4, "A")),
                (Hit(0, 2.95, 92, 1, "R"), Hit(3, 0.95, 76, 0.6, "5"))),
        "3/4": ((Hit(0, 2.9, 90, 1, "R"), Hit(2, 0.95, 72, 0.4, "5")),),
        "6/8": ((Hit(0, 2.45, 90, 1, "R"), Hit(2.5, 0.45, 72, 0.3, "A")),),
    },
    # funk: a one-bar figure kept all take (the kicks are added, see _lock); its second bar is
    # the phrase-end run, with a note on every beat and on the groove's kicks, so that the bass
    # meets the drummer's fill, however long, the same way at every phrase end
    "funk": {
        "4/4": ((Hit(0, 0.35, 112, 1, "R"), Hit(0.75, 0.2, 92, 0.8, "8"), Hit(1.0, 0.15, 48, 0.5, "G"),
                 Hit(1.5, 0.2, 96, 0.9, "R"), Hit(1.75, 0.2, 100, 0.8, "8"), Hit(2.0, 0.15, 50, 1, "G"),
                 Hit(2.5, 0.35, 100, 1, "R"), Hit(3.0, 0.2, 94, 1, "7"), Hit(3.25, 0.2, 90, 0.7, "8"),
                 Hit(3.5, 0.15, 55, 0.5, "G"), Hit(3.75, 0.2, 96, 0.7, "5")),
                (Hit(0, 0.35, 112, 1, "R"), Hit(0.5, 0.15, 50, 1, "G"), Hit(0.75, 0.2, 96, 1, "8"),
                 Hit(1.0, 0.2, 92, 1, "7"), Hit(1.5, 0.2, 100, 1, "R"), Hit(2.0, 0.2, 96, 1, "5"),
                 Hit(2.5, 0.2, 98, 1, "R"), Hit(2.75, 0.2, 92, 1, "8"), Hit(3.0, 0.2, 94, 1, "7"),
                 Hit(3.25, 0.15, 50, 1, "G"), Hit(3.5, 0.2, 96, 1, "5"), Hit(3.75, 0.2, 90, 1, "A"))),
    },
    "bossa": {
        "4/4": ((Hit(0, 1.45, 96, 1, "R"), Hit(1.5, 0.45, 80, 1, "5"), Hit(2, 1.45, 90, 1, "5"),
                 Hit(3.5, 0.45, 80, 1, "N")),),
    },
    "shuffle": {
        "4/4": (_eighths(("R", "3", "5", "6", "7", "6", "5", "3"), 100, 84),),
    },
    "waltz": {
        "3/4": ((Hit(0, 0.95, 100, 1, "R"), Hit(2, 0.9, 70, 0.3, "5")),
                (Hit(0, 0.95, 96, 1, "L"), Hit(2, 0.9, 70, 0.3, "L"))),
    },
    # reggae: the skank has the offbeat eighths, so the bass's pushes are sixteenths around them
    "reggae": {
        "4/4": ((Hit(0, 0.7, 100, 1, "R"), Hit(0.75, 0.4, 84, 0.8, "8"), Hit(2, 0.9, 96, 1, "5"),
                 Hit(3, 0.4, 86, 0.7, "3"), Hit(3.75, 0.2, 82, 0.5, "A")),
                # the phrase end: a walk up to the next phrase, a note wherever the drummer's
                # fill may start (its kick), so each phrase end is the same figure
                (Hit(0, 0.9, 100, 1, "R"), Hit(1.0, 0.4, 80, 1, "5"), Hit(2, 0.45, 94, 1, "5"),
                 Hit(2.5, 0.4, 86, 1, "6"), Hit(3, 0.4, 84, 1, "3"), Hit(3.75, 0.2, 84, 1, "A"))),
    },
    "country": {
        "4/4": ((Hit(0, 0.9, 100, 1, "R"), Hit(2, 0.9, 94, 1, "L"), Hit(3.5, 0.4, 78, 0.3, "A")),),
    },
}

WALKING = {"swing"}
WALK_HI = 52  # a walking line stays below E3, under the comping


def has_pattern(style: str, meter: str) -> bool:
    """Whether the style has (or derives) a pattern for the meter."""
    return style in WALKING or has_table(TABLES[style], meter, "6/8")


def _bass_pitches(ctx):
    """The bass note of each chord, each the nearest to the last so the line does not jump."""
    prev = ROOT_CENTER
    out = []
    for ev in ctx.events:
        if ev.nc:
            out.append(None)
            continue
        prev = _root_after(shape(ev.chord).bass, prev)
        out.append(prev)
    return out


@lru_cache(maxsize=512)  # pure, and asked for every chord of every take
def _root_after(pc: int, prev: int) -> int:
    """The pitch of class ``pc`` in the root octave nearest ``prev`` (and the octave's middle)."""
    return min((p for p in range(ROOT_LO, ROOT_HI + 1) if p % 12 == pc),
               key=lambda p: abs(p - prev) + 0.5 * abs(p - ROOT_CENTER))


def _target(ev, pitches):
    nxt = ev.next
    if nxt is None or nxt.nc:
        return None
    return pitches[nxt.index]


def _pitch(deg, sh, bp, ev, pitches, rng, last):
    if deg == "R":
        return bp
    if deg == "5" or deg == "L":
        if sh.fifth is None:
            return bp
        want = bp + 5 if deg == "5" else bp - 5
        return nearest(sh.pc(sh.fifth), want, LO, HI)
    if deg == "8":
        return bp + 12 if bp + 12 <= HI else bp
    if deg == "3":
        if sh.third is None:
            return bp + 12 if bp + 12 <= HI else bp
        return nearest(sh.pc(sh.third), bp + 4, LO, HI)
    if deg == "7":
        if sh.seventh is None:
            return bp + 12 if bp + 12 <= HI else bp
        return nearest(sh.pc(sh.seventh), bp + 10, LO, HI)
    if deg == "6":
        if sh.kind in ("maj", "dom") and sh.seventh != 11:
            return nearest(sh.pc(9), bp + 9, LO, HI)
        return _pitch("5", sh, bp, ev, pitches, rng, last)
    if deg == "G":
        return last if last is not None else bp
    tgt = _target(ev, pitches)
    if deg == "N":
        return tgt if tgt is not None else bp
    if deg == "A":
        if tgt is None:
            return _pitch("5", sh, bp, ev, pitches, rng, last)
        step = -1 if rng.random() < 0.6 else 1
        p = tgt + step
        return p if LO <= p <= HI else tgt - step
    return bp


def play(ctx, rng, style) -> list:
    out = []
    add = out.append
    pitches = _bass_pitches(ctx)
    walking = style.name in WALKING
    table = None if walking else resolve(TABLES[style.name], ctx)
    strong = strong_positions(ctx.meter)
    on_beat = set(beat_positions(ctx.meter))
    bpb = ctx.bpb
    two_feel = ctx.intensity < 0.3 and ctx.meter == "4/4"
    last = None
    for ev in ctx.events:
        if ev.nc:
            last = None
            continue
        bp = pitches[ev.index]
        if ctx.final(ev):
            add((bp, ev.start, endings.final_end(ctx, ev), endings.final_velocity(ctx, 100)))
            continue
        sh = shape(ev.chord)
        if ctx.band_hits:
            _band_hits(ctx, ev, sh, bp, pitches, add)
        if ev.start >= ctx.groove_end - EPS:
            continue  # the ending's kicks play this chord
        if walking:
            tail = ev if two_feel else _span_end(ctx, ev)
            if two_feel or not _continues(ctx, ev):
                tgt = _target(tail, pitches)
                last, tgt = _walk(ctx, rng, ev.start, tail.end, sh, bp, tgt, strong, add)
                if tgt is not None:  # the octave of the next root the line reached by step
                    pitches[tail.next.index] = tgt
            continue
        placed = False
        stop = endings.groove_stop(ctx, ev)
        for t, (_, dur, vel, weight, deg) in ctx.hits(table, ev):
            at_start = abs(t - ev.start) < EPS
            if at_start:
                deg = "R"
                placed = True
            elif not ctx.keep(weight, rng):
                continue
            p = _pitch(deg, sh, bp, ev, pitches, rng, last)
            if deg in ("A", "N") and rounded(t % bpb, 6) in on_beat:
                p = bp  # approach notes belong between the beats, never on one
            end = t + dur
            if end > stop:
                end = stop
            add((p, t, end, vel))
            last = p
        if not placed:
            add((bp, ev.start, min(ev.start + 1.0, stop), 100))
            last = bp
    if ctx.kicks and not walking and LOCK.get(style.name):
        _lock(ctx, out, pitches)
    return out  # in any order: generate's finishing pass sorts every part by time


def _band_hits(ctx, ev, sh, bp, pitches, add):
    """The ending's kicks: the chord's bass with the band (the final chord's a half step up
    on a slide; a scale step below it per kick left where the style walks into it)."""
    final = pitches[-1]
    for h in endings.hits_in(ctx, ev):
        p = bp
        if h.slide and final is not None:
            p = final + 1 if final + 1 <= HI else final - 11
        elif h.walk and final is not None:
            q = final - h.walk
            if q < LO:
                q += 12
            if q % 12 in sh.allowed and q <= HI:
                p = q
        add((p, h.at, h.end, h.velocity - 4))


LOCK = {"rock": True, "funk": True, "reggae": True}


def _lock(ctx, out, pitches):
    """Kick and bass as one: a bass note with every kick (the chord's bass note, or the last
    note again), held to the next bass note."""
    onsets = sorted({rounded(n[1], 3) for n in out})
    have = set(onsets)
    kicks = sorted(ctx.kicks)
    events = [ev for ev in ctx.events if not ev.nc and not ctx.final(ev)]
    j = 0
    for t in kicks:
        if t in have:
            continue
        while j < len(events) and events[j].end - EPS <= t:
            j += 1
        if j == len(events):
            break
        ev = events[j]
        if t < ev.start - EPS:
            continue
        k = bisect_right(onsets, t + EPS)
        nxt = onsets[k] if k < len(onsets) else ev.end
        end = min(t + 0.45, nxt, ev.end)
        if end - t > 0.05:
            out.append((pitches[ev.index], t, end, 94))


def _same_chord(a, b) -> bool:
    return a is not None and b is not None and not a.nc and a.chord == b.chord


def _continues(ctx, ev) -> bool:
    """Whether ``ev`` only repeats the chord before it (``| C7 | % |``), which the walk
    already covers: a walking bassist keeps walking through a repeated chord instead of going
    back to the root every bar."""
    return _same_chord(ev.prev, ev) and not ctx.final(ev.prev)


def _span_end(ctx, ev):
    """The last event of the run of repeats of ``ev``'s chord (the held final bar excluded)."""
    while _same_chord(ev, ev.next) and not ctx.final(ev.next):
        ev = ev.next
    return ev


def _rubs(pc, sh) -> bool:
    """Whether a passing pitch class sits a semitone from one of the chord's own tones."""
    pcs = sh.pcs
    return pc not in pcs and ((pc + 1) % 12 in pcs or (pc - 1) % 12 in pcs)


def _walk(ctx, rng, start, stop, sh, bp, tgt, strong, add):
    """Quarter notes from ``start`` to ``stop``: the bass note on the chord, chord tones on the
    strong beats, passing tones between, and a chromatic (or dominant) approach into the next
    chord's bass ``tgt`` on the last beat. Below intensity 0.3 it plays a two-feel (half notes)
    instead."""
    bpb = ctx.bpb
    n = int(stop - start + EPS)
    tones, passing = _walk_tones(sh)
    if ctx.intensity < 0.3 and n >= 2 and ctx.meter == "4/4":
        half = n // 2
        add((bp, start, start + half - 0.1, 96))
        p = bp
        if n - half >= 1:
            p = _pitch("5", sh, bp, None, None, rng, bp)
            add((p, start + half, min(start + n, stop) - 0.1, 88))
        if tgt is not None:
            tgt = nearest(tgt % 12, p, ROOT_LO, WALK_HI - 2)
        return bp, tgt
    skip_p = max(0.0, ctx.density - 0.6) * 0.5
    skip_at = 0.5 + ctx.swing / 4.0  # the swung "and"

    def put(p, t, end, vel):
        # now and then a ghosted skip note on the swung "and", as walking bassists rake
        if skip_p and end - t > 0.8 and rng.random() < skip_p:
            add((p, t, t + skip_at - 0.02, vel))
            add((p, t + skip_at, end, 50))
        else:
            add((p, t, end, vel))

    before = cur = bp
    put(bp, start, start + 0.9 if n >= 1 else stop, 100)
    for i in range(1, n):
        t = start + i
        pos = rounded(t % bpb, 6)
        is_strong = pos in strong
        if i == n - 1 and tgt is not None and not is_strong:
            p, tgt = _approach(rng, sh, cur, bp, tgt)
        else:
            pool = tones if is_strong else passing
            if pos < EPS:  # a bar line inside a repeated chord: another chord tone, not the root
                pool = tones[1:] or tones
            cands = _steps(pool, cur, tgt if tgt is not None else bp, before)
            if not cands:
                p = cur
            else:
                p = cands[0] if len(cands) == 1 or rng.random() < 0.65 else cands[1]
        vel = 92 if is_strong else 84
        vel += int(rng.random() * 8) - 4
        put(p, t, min(t + 0.9, stop), vel)
        before, cur = cur, p
    return cur, tgt


# The walk's choices below are pure functions of a few small numbers (the random draw only
# picks among them), and a song asks the same ones chorus after chorus: each is cached.

@lru_cache(maxsize=512)
def _walk_tones(sh) -> tuple[tuple, tuple]:
    """The chord tones a walking line lands on (root, 3rd, 5th, 7th or 6th) and those plus the
    passing tones (9th, and 11th on minor else 13th) it may use between the strong beats."""
    tones = (sh.root,) + tuple(sh.pc(i) for i in (sh.third, sh.fifth, sh.seventh or sh.sixth)
                               if i is not None)
    return tones, tones + (sh.pc(2), sh.pc(5 if sh.kind == "min" else 9))


@lru_cache(maxsize=8192)
def _steps(pool: tuple, cur: int, aim: int, before: int) -> tuple:
    """The next notes of a walking line from ``cur`` toward ``aim``, best first: a pitch class
    of ``pool`` a step or so on, near the aim, not straight back to ``before``."""
    cands = []
    for pc in set(pool):
        p = nearest(pc, cur + (2 if aim >= cur else -2), LO, WALK_HI)
        if p != cur:  # keep going: turning straight back (C D C) is a last resort
            cands.append((abs(p - cur) + 0.3 * abs(p - aim) + 2.5 * (p == before), p))
    cands.sort()
    return tuple(p for _, p in cands)


def _approach(rng, sh, cur, bp, tgt):
    """The last note before a change and the octave of the change's root: a half step (from
    the side the line comes from) or the next chord's dominant, chosen so that the line steps
    into the approach and the approach steps into the root; a chromatic note that rubs against
    the chord still sounding gives way."""
    r = rng.random()
    return _approach_pick(r < 0.6, r < 0.8, sh, cur, bp, tgt)


@lru_cache(maxsize=8192)
def _approach_pick(from_side: bool, half_step: bool, sh, cur, bp, tgt):
    """:func:`_approach` for a draw below 0.6 (``from_side``) and below 0.8 (``half_step``)."""
    best = None
    pc = tgt % 12
    for t_oct in range(ROOT_LO + (pc - ROOT_LO) % 12, WALK_HI - 1, 12):
        below = cur < t_oct
        side = t_oct - 1 if below == from_side else t_oct + 1
        fifth = t_oct - 5 if t_oct - 5 >= LO else t_oct + 7
        options = [side, 2 * t_oct - side, fifth] if half_step else [fifth, side, 2 * t_oct - side]
        for rank, q in enumerate(options):
            if not LO <= q <= HI or q == cur:
                continue
            cost = (3 * max(0, abs(q - cur) - 2) + rank + 2 * _rubs(q % 12, sh)
                    + 6 * (abs(q - t_oct) >= 6) + 0.05 * abs(t_oct - bp))
            if best is None or cost < best[0]:
                best = (cost, q, t_oct)
    if best is None:
        return (tgt + 1 if cur != tgt + 1 else tgt - 1), tgt
    return best[1], best[2]
