"""What issue 9 measures about a band take, as small pure functions over plain data.

A :class:`Take` is what both programs leave in a MIDI file, read back the same way: the bass,
the drums, the harmony parts (each named), the chord spans, the meter, tempo and the swing of
the grid. Every figure takes a ``Take`` (or a list of notes) and returns a number, or ``None``
when the figure does not apply (no kicks, no changes, ...). Nothing here imports the workbench,
so the same functions measure our engine and MMA, and the tests can feed them hand-built notes.

Times are in quarter-note beats from the start of the take; bars are ``bpb`` beats long.

>>> take = Take("4/4", 4.0, 120.0, 1, 0.5, 0.0, (span(0, 4, 0, (0, 4, 7)),),
...             bass=[N(36, 0, 1, 90)], drums=[N(36, 0, .5, 100)], harmony={"keys": []})
>>> bass_kick_coincidence(take)
100.0
"""

from __future__ import annotations

import bisect
import itertools
import math
from statistics import fmean, pstdev
from typing import NamedTuple

KICKS = frozenset((35, 36))
SNARES = frozenset((37, 38, 40))  # side stick counts: the ballad's and reggae's backbeat
E3 = 52
TRITONE = 6
ONSET_TOL = 0.12  # beats: how far from a grid point an onset still counts as on it
RELEASE = 0.05  # beats: a note ending this soon after another's onset is not heard against it


class N(NamedTuple):
    """A note: MIDI pitch, start and end in beats, velocity (our Note has the same fields)."""

    pitch: int
    start: float
    end: float
    velocity: int


class Span(NamedTuple):
    """A chord's span: ``tones`` are its pitch classes, ``allowed`` adds the usual tensions,
    ``bass`` is the pitch class the bass should name (None for N.C.)."""

    start: float
    end: float
    symbol: str
    bass: int | None
    tones: frozenset
    allowed: frozenset


class Take(NamedTuple):
    """One take of a band: meter, beats a bar, tempo (quarters a minute), bars, and the grid
    (``unit`` is the subdivision that swings, ``swing`` 0 straight .. 2/3 triplet)."""

    meter: str
    bpb: float
    tempo: float
    bars: int
    unit: float
    swing: float
    chords: tuple
    bass: list
    drums: list
    harmony: dict  # part name -> notes (keys, pad, guitar; MMA's chord/arpeggio tracks)
    guitar: tuple = ()  # names of the harmony parts that are guitars
    keys: tuple = ()  # names of the harmony parts that are keyboards
    tonic: int | None = None  # pitch class of the key's tonic


def role(take: Take, name: str) -> str:
    """A harmony part's role: ``guitar``, ``keys`` or ``other`` (pads, strings, organ, horns)."""
    return "guitar" if name in take.guitar else "keys" if name in take.keys else "other"


# -- chords ------------------------------------------------------------------------------------

def allowed_pcs(root: int, bass: int, intervals) -> frozenset:
    """Chord tones plus the tensions a player may put on a strong beat: the 9th always, the
    13th over a major 3rd, the 11th over a minor 3rd (the rule the engine's tests keep).

    >>> sorted(allowed_pcs(0, 0, (0, 4, 7, 10)))  # C7: C D E G A Bb
    [0, 2, 4, 7, 9, 10]
    """
    low = {i % 12 for i in intervals}
    pcs = {(root + i) % 12 for i in intervals} | {bass, (root + 2) % 12}
    if 4 in low:
        pcs.add((root + 9) % 12)
    elif 3 in low:
        pcs.add((root + 5) % 12)
    return frozenset(pcs)


def span(start, end, root, intervals, bass=None, symbol="") -> Span:
    """A chord span from a root and intervals (None root: N.C.)."""
    if root is None:
        return Span(start, end, symbol or "N.C.", None, frozenset(), frozenset())
    bass = root if bass is None else bass
    tones = frozenset({(root + i) % 12 for i in intervals} | {bass})
    return Span(start, end, symbol or f"{root}:{tuple(intervals)}", bass, tones,
                allowed_pcs(root, bass, intervals))


def chord_at(chords, t: float):
    """The span sounding at beat ``t`` (chords sorted by start), or None."""
    i = bisect.bisect_right([c.start for c in chords], t + 1e-6) - 1
    if i >= 0 and t < chords[i].end - 1e-6:
        return chords[i]
    return None


def changes(chords):
    """The spans where the harmony changes: not N.C., not the same chord again (``| C7 | % |``
    is no change: a walking bass walks on through it)."""
    out, before = [], None
    for c in chords:
        if c.bass is not None and (before is None or c.symbol != before.symbol):
            out.append(c)
        before = c
    return out


# -- the grid ----------------------------------------------------------------------------------

def swing_map(x: float, unit: float, swing: float) -> float:
    """A straight position to a swung one: the off-``unit`` moves from 1/2 to 1/2 + swing/4 of
    its pair (2/3 at swing 2/3, a triplet); positions in between move linearly.

    >>> round(swing_map(0.5, 0.5, 2 / 3), 4), swing_map(1.0, 0.5, 2 / 3)
    (0.6667, 1.0)
    """
    if not swing:
        return x
    pair = 2 * unit
    k, f = divmod(x, pair)
    mid = unit * (1.0 + 0.5 * swing)
    g = f * mid / unit if f <= unit else mid + (f - unit) * (pair - mid) / unit
    return k * pair + g


def unswing(t: float, unit: float, swing: float) -> float:
    """The inverse of :func:`swing_map`."""
    if not swing:
        return t
    pair = 2 * unit
    k, g = divmod(t, pair)
    mid = unit * (1.0 + 0.5 * swing)
    f = g * unit / mid if g <= mid else unit + (g - mid) * unit / (pair - mid)
    return k * pair + f


def snap(t: float, step: float, unit: float, swing: float) -> tuple[int, float]:
    """(index, deviation in beats) of the nearest point of a swing-aware grid of ``step``
    (0.25: sixteenths, 0.5: eighths): the straight grid bent by the take's swing."""
    i = round(unswing(t, unit, swing) / step)
    return i, t - swing_map(i * step, unit, swing)


def estimate_swing(onsets, unit: float) -> float:
    """The swing a take plays, read from its onsets: the median place of the off-``unit``
    notes in their pair (0 straight, 2/3 triplet). Straight sixteenths (at 3/4 of an eighth
    pair) are left out, so a straight rock hi-hat does not read as swung. Below 0.08: 0."""
    pair = 2 * unit
    ratios = sorted(2 * (f / unit - 1) for f in (t % pair for t in onsets)
                    if 0.85 * unit < f < 1.45 * unit)
    if len(ratios) < 8:
        return 0.0
    s = ratios[len(ratios) // 2]
    return round(s, 3) if s >= 0.08 else 0.0


def fit_grid(onsets, unit: float) -> tuple[float, float]:
    """(unit, swing) of the sixteenth grid a take is played on: straight, swung eighths or
    swung sixteenths (MMA's Pop and Funk1 swing their sixteenths), whichever the onsets sit
    closest to (least RMS distance). ``unit`` is the style's, the choice when they tie."""
    sample = list(onsets)[:: max(1, len(onsets) // 600)]
    cands = [(unit, 0.0), (0.5, estimate_swing(sample, 0.5)), (0.25, estimate_swing(sample, 0.25))]

    def misfit(c):
        return sum(snap(t, 0.25, *c)[1] ** 2 for t in sample)

    best = min(cands, key=lambda c: (round(misfit(c), 6), c[0] != unit))
    return best if best[1] else (unit, 0.0)


def ms(take: Take, beats: float) -> float:
    return beats * 60000.0 / take.tempo


def _bar_of(take: Take, t: float) -> int:
    return int((t + 1e-6) // take.bpb)


def _pitched(take: Take):
    return list(take.bass) + [n for notes in take.harmony.values() for n in notes]


def _parts(take: Take):
    return [take.bass, take.drums, *take.harmony.values()]


# -- 1. everyone plays all the time, in the same rhythm ----------------------------------------

def notes_per_bar(take: Take) -> float:
    """Pitched notes (bass and harmony, no drums) per bar: how busy the band is."""
    return len(_pitched(take)) / take.bars


def crowded_strikes_per_8(take: Take, min_parts: int = 3) -> float:
    """Eighth-note slots (swing-aware) where ``min_parts`` or more pitched parts (bass and
    harmony; the drums, whose hi-hat is on every eighth, left out) strike together, per 8 slots
    (a 4/4 bar). Everyone in the same rhythm makes the band one machine; a band that listens
    spreads its attacks. Onsets more than ``ONSET_TOL`` from an eighth are not on one."""
    slots: dict[int, int] = {}
    for notes in [take.bass, *take.harmony.values()]:
        hit = set()
        for n in notes:
            i, dev = snap(n.start, 0.5, take.unit, take.swing)
            if abs(dev) <= ONSET_TOL:
                hit.add(i)
        for i in hit:
            slots[i] = slots.get(i, 0) + 1
    total = take.bars * take.bpb / 0.5
    return 8.0 * sum(1 for c in slots.values() if c >= min_parts) / total


def bass_kick_coincidence(take: Take, tol_ms: float = 40.0) -> float | None:
    """Percent of kick-drum hits met by a bass onset within ``tol_ms``: whether the kick and
    the bass lock (funk, reggae, rock want them to)."""
    kicks = [n.start for n in take.drums if n.pitch in KICKS]
    if not kicks:
        return None
    onsets = sorted(n.start for n in take.bass)
    tol = tol_ms * take.tempo / 60000.0
    met = 0
    for k in kicks:
        i = bisect.bisect_left(onsets, k - tol)
        met += i < len(onsets) and onsets[i] <= k + tol
    return 100.0 * met / len(kicks)


# -- 3. variation with memory ------------------------------------------------------------------

def bar_rhythms(take: Take, notes, with_pitch_class=None) -> list:
    """Per bar, its rhythm: the set of sixteenth slots (swing-aware, from the bar line) struck,
    each with ``with_pitch_class(note)`` if given (the drum, for a drum pattern)."""
    out = [set() for _ in range(take.bars)]
    per_bar = round(take.bpb / 0.25)
    for n in notes:
        i, _ = snap(n.start, 0.25, take.unit, take.swing)
        b, slot = divmod(i, per_bar)
        if 0 <= b < take.bars:
            out[b].add((slot, with_pitch_class(n)) if with_pitch_class else slot)
    return [frozenset(r) for r in out]


def distinct_per_8(rhythms) -> float | None:
    """Distinct rhythms in 8 consecutive bars, averaged over every 8-bar window of the take
    without its final bar (the ending): 1 is a loop, 2 a figure and its phrase-end variant,
    8 a new rhythm every bar (no memory)."""
    body = rhythms[:-1]
    if len(body) < 8:
        return None
    return fmean(len(set(body[i:i + 8])) for i in range(len(body) - 7))


def drum_class(n) -> str:
    """A GM drum note's family: the part of the kit a rhythm is played on."""
    p = n.pitch
    if p in KICKS:
        return "kick"
    if p in SNARES or p == 39:
        return "snare"
    if p in (42, 44, 46):
        return "hat"
    if p in (51, 53, 59):
        return "ride"
    if p in (49, 52, 55, 57):
        return "crash"
    if p in (41, 43, 45, 47, 48, 50):
        return "tom"
    return str(p)


def distinct_rhythms_per_8(take: Take) -> dict:
    """Distinct bass rhythms and distinct drum patterns (slot and drum family) per 8 bars."""
    return {"bass": distinct_per_8(bar_rhythms(take, take.bass)),
            "drums": distinct_per_8(bar_rhythms(take, take.drums, drum_class))}


def skeleton_hits(drums, ghost: float = 0.55) -> list:
    """The kick and snare hits that carry the groove: ghost notes (softer than ``ghost`` times
    the instrument's 90th-percentile velocity) left out, kick and snare judged apart."""
    out = []
    for family in (KICKS, SNARES):
        hits = [n for n in drums if n.pitch in family]
        if hits:
            vels = sorted(n.velocity for n in hits)
            floor = ghost * vels[int(0.9 * (len(vels) - 1))]
            out += [n for n in hits if n.velocity >= floor]
    return out


def skeleton_changes_per_8(take: Take, ghost: float = 0.55) -> float | None:
    """New kick/snare skeletons per 8 bars: bars (from bar 5 to the one before the ending)
    whose skeleton repeats none of the bars 1, 2 and 4 before it. A kept one-, two- or
    four-bar figure scores 0; a fill every 8 bars 1, every 4 bars 2; a coin flip per bar up to
    8. Ghost notes are not skeleton (:func:`skeleton_hits`)."""
    loud = skeleton_hits(take.drums, ghost)
    if not loud:
        return None
    sk = bar_rhythms(take, loud, lambda n: n.pitch in KICKS)[:-1]
    if len(sk) < 5:
        return None
    new = sum(sk[b] not in (sk[b - 1], sk[b - 2], sk[b - 4]) for b in range(4, len(sk)))
    return 8.0 * new / (len(sk) - 4)


# -- 2. form and arc ---------------------------------------------------------------------------

def velocity_arc(take: Take) -> dict | None:
    """Each part's average velocity per 4 bars: its ``range`` (max - min over the take) and its
    ``arc`` (last 4 bars minus the first 4 it plays in), averaged over the parts that play in
    two blocks or more. Per part, so that a pad entering softly does not read as the band
    getting quieter (ghost notes added to a part still lower its average: read this with
    loudness_over_form.py). One intensity for the whole take gives a few units; a band that
    builds moves by tens."""
    ranges, arcs = [], []
    for notes in _parts(take):
        blocks: dict[int, list] = {}
        for n in notes:
            blocks.setdefault(_bar_of(take, n.start) // 4, []).append(n.velocity)
        if len(blocks) < 2:
            continue
        avg = [fmean(blocks[k]) for k in sorted(blocks)]
        ranges.append(max(avg) - min(avg))
        arcs.append(avg[-1] - avg[0])
    if not ranges:
        return None
    return {"range": fmean(ranges), "arc": fmean(arcs)}


def intro_density(take: Take) -> dict | None:
    """Notes per bar (all parts) in the first 4 bars against the body (bar 5 to the bar before
    the last, which is the ending): a band that starts lighter has somewhere to go (ratio < 1)."""
    if take.bars < 6:
        return None
    counts = [0] * take.bars
    for notes in _parts(take):
        for n in notes:
            b = _bar_of(take, n.start)
            if 0 <= b < take.bars:
                counts[b] += 1
    first, body = fmean(counts[:4]), fmean(counts[4:-1])
    return {"first4": first, "body": body, "ratio": first / body if body else None}


CRASHES = frozenset((49, 52, 55, 57))


def opens_with_crash(take: Take) -> float:
    """100 if a crash cymbal sounds in the first beat of the take, else 0 (a band that builds
    saves it for a section start)."""
    return 100.0 * any(n.pitch in CRASHES and n.start < 1.0 - 1e-6 for n in take.drums)


def ends_on_tonic(take: Take) -> float | None:
    """100 if the bass's last note is the key's tonic, else 0: an ending resolves, a loop
    stops on whatever chord comes last."""
    if take.tonic is None or not take.bass:
        return None
    last = max(take.bass, key=lambda n: (n.start, -n.pitch))
    return 100.0 * (last.pitch % 12 == take.tonic)


# -- 4. feel -----------------------------------------------------------------------------------

def strikes(notes, together: float = 0.1) -> list:
    """The onsets of a part's strikes: a note within ``together`` beats of the note before it
    belongs to the same strike (a strummed or rolled chord), so a strum's spread is not read
    as timing."""
    out, last = [], None
    for s in sorted(n.start for n in notes):
        if last is None or s - last > together:
            out.append(s)
        last = s
    return out


def grid_deviation(take: Take, t: float) -> float:
    """Beats from ``t`` to the nearest point of the take's grid: its swung sixteenths, or a
    straight eighth-note triplet (a ballad's triplet arpeggio is on the grid, not late)."""
    d16 = snap(t, 0.25, take.unit, take.swing)[1]
    d3 = t - round(t * 3) / 3
    return d16 if abs(d16) <= abs(d3) else d3


def timing_spread(take: Take, onsets) -> float | None:
    """Root-mean-square distance (ms) of onsets from the take's grid (:func:`grid_deviation`):
    0 is the machine grid; a player's push, lay-back and jitter all count."""
    if not onsets:
        return None
    return ms(take, math.sqrt(fmean(grid_deviation(take, t) ** 2 for t in onsets)))


def timing_by_part(take: Take) -> dict:
    """:func:`timing_spread` of the strikes of the bass, of each drum (a kick and a hi-hat
    struck together are two players' limbs) and of the harmony parts by role, pooled."""
    groups: dict[str, list] = {"bass": strikes(take.bass), "drums": [], "keys": [],
                               "guitar": [], "other": []}
    for pitch in {n.pitch for n in take.drums}:
        groups["drums"] += strikes([n for n in take.drums if n.pitch == pitch])
    for name, notes in take.harmony.items():
        groups[role(take, name)] += strikes(notes)
    return {k: timing_spread(take, v) for k, v in groups.items()}


def comping_velocity_sd(take: Take) -> dict:
    """Standard deviation of the velocities of the keys and guitar parts (mean over parts of a
    role): accents on comping hits and phrase peaks spread them; a machine keeps them flat."""
    out = {}
    for r in ("keys", "guitar"):
        sds = [pstdev(n.velocity for n in notes) for name, notes in take.harmony.items()
               if role(take, name) == r and len(notes) > 1]
        out[r] = fmean(sds) if sds else None
    return out


# -- 5. voicing across parts -------------------------------------------------------------------

def voice_motion(a, b) -> float:
    """Semitones each voice moves from chord ``a`` to chord ``b`` (pitch lists), voices matched
    so the motion is least (the smaller chord's voices find their partners in the larger).

    >>> voice_motion([48, 52, 55], [48, 53, 57])  # C to F/C: 0 + 1 + 2
    1.0
    """
    a, b = sorted(a), sorted(b)
    small, big = (a, b) if len(a) <= len(b) else (b, a)
    if len(big) > 10:  # an arpeggio run: nearest partner each (the exact match is too costly)
        cost = sum(min(abs(p - q) for q in big) for p in small)
    else:  # in one dimension, sorted pairing is optimal once the partners are chosen
        cost = min(sum(abs(p - q) for p, q in zip(small, sub, strict=True))
                   for sub in itertools.combinations(big, len(small)))
    return cost / len(small)


def voicings(chords, notes) -> list:
    """Per chord change, (span, distinct pitches struck in it); spans a part sits out are left out."""
    starts = sorted((n.start, n.pitch) for n in notes)
    times = [s for s, _ in starts]
    out = []
    for c in changes(chords):
        lo = bisect.bisect_left(times, c.start - 1e-6)
        hi = bisect.bisect_left(times, c.end - 1e-6)
        ps = sorted({p for _, p in starts[lo:hi]})
        if ps:
            out.append((c, ps))
    return out


def motion_per_change(take: Take, names) -> float | None:
    """Average voice motion (semitones per voice) of the named harmony parts from one chord
    change to the next: a guitarist moves by step between nearby shapes, a machine drags one
    barre shape along the neck."""
    moves = []
    for name in names:
        vs = voicings(take.chords, take.harmony.get(name, []))
        moves += [voice_motion(a, b) for (_, a), (_, b) in itertools.pairwise(vs)]
    return fmean(moves) if moves else None


def clashes_per_bar(take: Take) -> float:
    """Minor 2nds and 9ths (and wider: any interval of 12k+1) between two different harmony
    parts, where at least one of the two notes is not a chord tone, per bar. Counted at the
    later note's onset, so a comping hit into a held pad's rub counts each time it is struck;
    a note released within ``RELEASE`` of that onset is not heard against it."""
    notes = sorted((n.start, n.end, n.pitch, part) for part, ns in take.harmony.items() for n in ns)
    active = []
    count = 0
    for s, e, p, part in notes:
        active = [a for a in active if a[1] > s + RELEASE]
        c = chord_at(take.chords, s)
        tones = c.tones if c is not None else frozenset()
        for _, _, q, other in active:
            if other != part and abs(p - q) % 12 == 1 and (p % 12 not in tones or q % 12 not in tones):
                count += 1
        active.append((s, e, p, part))
    return count / take.bars


def below_e3(take: Take) -> float | None:
    """Percent of harmony-part notes below E3 (MIDI 52): in the bass's octave they muddy it
    (in swing the walking bass lives there)."""
    ps = [n.pitch for notes in take.harmony.values() for n in notes]
    return 100.0 * sum(p < E3 for p in ps) / len(ps) if ps else None


def _bass_at(onsets, notes, t, tol=ONSET_TOL):
    i = bisect.bisect_left(onsets, t - tol)
    out = []
    while i < len(onsets) and onsets[i] <= t + tol:
        out.append(notes[i])
        i += 1
    return out, i


def walking_leap_rate(take: Take) -> float | None:
    """Percent of the bass's arrivals on a chord change approached by a leap of a tritone or
    more, into the arrival or into the note before it: in ``C Bb G Gb | F`` with the Gb an 11th
    up, the F comes by step but the approach leaps, where a bassist picks the octave that makes
    the whole approach stepwise."""
    notes = sorted(take.bass, key=lambda n: n.start)
    onsets = [n.start for n in notes]
    leaps = arrivals = 0
    for c in changes(take.chords):
        at, _ = _bass_at(onsets, notes, c.start)
        j = bisect.bisect_left(onsets, c.start - ONSET_TOL) - 1
        if not at or j < 1:
            continue
        arrivals += 1
        a, b, z = notes[j - 1].pitch, notes[j].pitch, at[0].pitch
        leaps += abs(z - b) >= TRITONE or abs(b - a) >= TRITONE
    return 100.0 * leaps / arrivals if arrivals else None


# -- what must stay right ----------------------------------------------------------------------

def bass_on_changes(take: Take) -> float | None:
    """Percent of chord changes where the bass strikes the chord's bass note (the slash bass if
    any), within ``ONSET_TOL`` of the change."""
    notes = sorted(take.bass, key=lambda n: n.start)
    onsets = [n.start for n in notes]
    ch = changes(take.chords)
    if not ch:
        return None
    ok = sum(any(n.pitch % 12 == c.bass for n in _bass_at(onsets, notes, c.start)[0]) for c in ch)
    return 100.0 * ok / len(ch)


def strong_positions(meter: str, bpb: float) -> tuple:
    """Where the harmony must be clear: the downbeat, beat 3 of 4/4, each dotted quarter of
    6/8 and 12/8."""
    num, den = (int(x) for x in meter.split("/"))
    if den == 8 and num % 3 == 0:
        return tuple(i * 1.5 for i in range(num // 3))
    return (0.0, 2.0) if meter == "4/4" else (0.0,)


def strong_beat_tones(take: Take) -> float | None:
    """Percent of pitched notes struck on a strong beat that are chord tones or the usual
    tensions of the chord on that beat (notes under N.C. left out)."""
    strong = strong_positions(take.meter, take.bpb)
    ok = total = 0
    for n in _pitched(take):
        bar = int(n.start // take.bpb)
        for b in (bar, bar + 1):  # a note a hair early belongs to the next bar's downbeat
            for pos in strong:
                t = b * take.bpb + pos
                if abs(n.start - t) <= ONSET_TOL:
                    c = chord_at(take.chords, t)
                    if c is not None and c.bass is not None:
                        total += 1
                        ok += n.pitch % 12 in c.allowed
    return 100.0 * ok / total if total else None
