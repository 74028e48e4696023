"""What every part shares: the chord timeline as the band sees it, meters, pattern tables
(with swing and meter derivation), chord-tone arithmetic and voice-leading.

Pattern tables are tuples of bars; a bar is a tuple of hits ``(pos, dur, vel, weight, arg)``,
``pos``/``dur`` in quarter-note beats from the bar line. ``weight`` 1 is a core hit; lighter hits
are optional and come and go with density and the seed. Tables are written once per meter
family and derived for the others (2/4 from the halves of 4/4, 12/8 from two 6/8 bars or from a
triplet reading of a swung 4/4), then compiled once per (meter, swing) and cached.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from workbench.progression import parse_meter

EPS = 1e-6


# ---------------------------------------------------------------------------------------------
# Meters (pure and asked for per bar by the parts, so each answer is cached)

@lru_cache(maxsize=64)
def meter_parts(meter: str) -> tuple[int, int]:
    m = parse_meter(meter)  # the one meter parser
    return m.numerator, m.denominator


@lru_cache(maxsize=64)
def bar_beats(meter: str) -> float:
    return parse_meter(meter).beats_per_bar


@lru_cache(maxsize=64)
def is_compound(meter: str) -> bool:
    num, den = meter_parts(meter)
    return den == 8 and num % 3 == 0


@lru_cache(maxsize=64)
def beat_positions(meter: str) -> tuple[float, ...]:
    """The felt beats of a bar: quarters in simple meters, dotted quarters in 6/8 and 12/8."""
    num, den = meter_parts(meter)
    if is_compound(meter):
        return tuple(i * 1.5 for i in range(num // 3))
    step = 4.0 / den
    return tuple(i * step for i in range(num))


@lru_cache(maxsize=64)
def strong_positions(meter: str) -> tuple[float, ...]:
    """Where the harmony must be clear: the downbeat, plus beat 3 of 4/4 and each dotted
    quarter of compound meters."""
    if meter == "4/4":
        return (0.0, 2.0)
    if is_compound(meter):
        return beat_positions(meter)
    return (0.0,)


@lru_cache(maxsize=16384, typed=True)
def rounded(t: float, digits: int) -> float:
    """``round(t, digits)``, remembered: the parts round the same grid times take after take,
    and rounding a float costs about 0.2 us."""
    return round(t, digits)


# ---------------------------------------------------------------------------------------------
# The timeline

class Event:
    """One chord span as the parts use it (beats from the start of the progression).

    ``last`` marks the chords of the final bar: the ending, where the band stops its groove,
    strikes each chord once and lets it ring (see :meth:`Context.final`)."""

    __slots__ = ("index", "start", "end", "chord", "nc", "bar", "prev", "next", "last")

    def __init__(self, index, start, end, chord, bar):
        self.index = index
        self.start = start
        self.end = end
        self.chord = chord
        self.nc = bool(chord.is_no_chord)
        self.bar = bar
        self.prev = None
        self.next = None
        self.last = False

    @property
    def duration(self) -> float:
        return self.end - self.start


class Context:
    """Everything a part needs for one take; built once by :func:`generate`.

    ``plan`` is the arranger's :class:`~workbench.band.arranger.BarPlan` per bar. Optional hits
    are kept or dropped by the part's memory of the bar's figure (``figure`` in the plan), not
    by a coin flip per bar: bars with the same figure play the same rhythm."""

    __slots__ = ("events", "meter", "bpb", "bars", "swing", "unit", "intensity", "density",
                 "_density",  # the bar's density, worked out once per bar by at_bar for keep
                 "compound", "style", "ending", "phrase", "plan", "memory", "kicks", "_key",
                 "_bar", "_slot", "user_density", "vary_at", "one_bar", "steady", "voicings",
                 "band_hits", "setup", "groove_end")

    def __init__(self, events, meter, bars, swing, unit, intensity, style, ending=True,
                 plan=None):
        self.events = events
        self.meter = meter
        self.bpb = bar_beats(meter)
        self.bars = bars
        self.swing = swing
        self.unit = unit
        self.intensity = intensity
        self.density = 0.5
        self._density = 0.5
        self.compound = is_compound(meter)
        self.style = style
        self.ending = ending
        self.phrase = style.phrase_bars if bars >= 2 * style.phrase_bars else 4
        self.plan = plan or []
        self.memory = {}
        self.kicks = None  # kick times (rounded) when the bass locks with the drums
        self.voicings = {}  # the keys' voicing per event index, which the guitar keeps off
        self.user_density = None
        self.vary_at = 2  # the fill level at which a part varies its figure
        self.one_bar = False  # the part plays its table's first bar, the second at phrase ends
        self.steady = False  # the part keeps its figure's notes through the arc (see keep)
        self._key = None
        self._bar = 0
        self._slot = 0
        # the ending (workbench.band.endings.prepare): the band's hits per chord, the drums'
        # pickup notes, and where the groove stops (the first kick, or the final bar)
        self.band_hits: dict = {}
        self.setup: list = []
        self.groove_end = float("inf")

    def start_part(self, density=None, vary_at=2, one_bar=False, steady=False):
        """A fresh memory for the next part (``density`` overrides the plan's). A ``steady``
        part (the bass) chooses its figure's optional notes once, at the take's density, and
        varies only at phrase ends and section changes: a bassist keeps the line while the
        band builds around it (the arc still reaches it through the dynamics)."""
        self.memory = {}
        self.one_bar = one_bar
        self.steady = steady
        self.user_density = density
        self.vary_at = vary_at
        self._key = None

    def bar_plan(self, b: int):
        plan = self.plan
        if not plan:
            return None
        return plan[b if b < len(plan) else -1]

    def at_bar(self, b: int, row: int = 0) -> None:
        """Point :meth:`keep` at bar ``b`` (table row ``row``); hits then count from 0."""
        self._bar = b
        p = self.bar_plan(b)
        if p is None:
            self._key = None
            return
        label, broken, variant = p.figure
        if self.steady or variant < self.vary_at:
            variant = 0  # a steady part's phrase-end variant is its table's own second bar
        self._key = (label, broken, variant, row)
        self._slot = 0
        self._density = self.bar_density(b)

    def bar_density(self, b: int) -> float:
        """The plan's density for bar ``b``; a part's own density (``density=``) is the centre
        the plan moves around, so the arc still shows."""
        p = self.bar_plan(b)
        if self.user_density is not None:
            if p is None:
                return self.user_density
            d = self.user_density + p.density - self.density
            return 0.0 if d < 0.0 else 1.0 if d > 1.0 else d
        return self.density if p is None else p.density

    def bar_intensity(self, b: int) -> float:
        p = self.bar_plan(b)
        return self.intensity if p is None else p.intensity

    def keep(self, weight: float, rng) -> bool:
        """Whether an optional hit plays: always for weight >= 1, else more often with density,
        and the same way each time the bar's figure comes back."""
        if weight >= 1.0:
            return True
        key = self._key
        if key is None:
            return rng.random() < weight * 2.0 * self.density
        k = (key, self._slot)
        v = self.memory.get(k)
        if v is None:
            v = self.memory[k] = rng.random()
        if self.steady:
            d = self.density if self.user_density is None else self.user_density
            return v < weight * 2.0 * d
        return v < weight * 2.0 * self._density

    def hits(self, table, ev):
        """(time, hit) for the table's hits that fall inside the event's span."""
        bpb = self.bpb
        n = len(table)
        start = ev.start - EPS
        end = (ev.end if ev.end < self.groove_end else self.groove_end) - EPS
        b = int(start // bpb) if start > 0 else 0
        while b * bpb < end:
            base = b * bpb
            row = b % n
            if self.one_bar and self.plan:  # one figure, its second bar at phrase ends
                p = self.plan[b if b < len(self.plan) else -1]
                row = 1 % n if p.fill >= 2 else 0
            self.at_bar(b, row)
            for i, hit in enumerate(table[row]):
                t = base + hit[0]
                if start <= t < end:
                    self._slot = i
                    yield t, hit
            b += 1

    def final(self, ev) -> bool:
        """True for a chord of the final bar: struck once and held to its end.

        The whole bar, not only its last chord, so that an ending like ``| G7sus4 G7 |`` is
        two held chords after the drummer's fill rather than half a bar of groove and a
        second crash."""
        return self.ending and ev.last and not ev.nc


# ---------------------------------------------------------------------------------------------
# Pattern tables

def _swing_map(x: float, swing: float, unit: float) -> float:
    """Move a position on a straight grid to a swung one: the off-unit (e.g. the "and") goes
    from 1/2 to 1/2 + swing/4 of its pair, 2/3 at swing 2/3 (a triplet), in between linearly."""
    pair = 2 * unit
    k = x // pair
    f = x - k * pair
    mid = unit * (1.0 + 0.5 * swing)
    if f <= unit:
        g = f * mid / unit
    else:
        g = mid + (f - unit) * (pair - mid) / unit
    return k * pair + g


class Hit(NamedTuple):
    """One hit of a part's figure in a pattern table (a table is a tuple of bars, a bar a tuple
    of hits)."""

    at: float  # beats from the bar line
    length: float  # beats it sounds
    velocity: int
    weight: float  # 1: always played; below 1: optional, kept with the figure (Context.keep)
    what: object  # the part's own word: a bass degree ("R", "5", "A"), a guitar stroke ("D",
    # "U", "P"), a keys voicing index, a GM drum note


def _swung(table, swing, unit):
    if not swing:
        return table
    out = []
    for bar in table:
        hits = []
        for hit in bar:
            pos, dur = hit[0], hit[1]
            s = _swing_map(pos, swing, unit)
            e = _swing_map(pos + dur, swing, unit)
            hits.append(Hit(round(s, 6), round(max(e - s, 0.05), 6), *hit[2:]))
        out.append(tuple(hits))
    return tuple(out)


def _halves(table):
    """2/4 bars from 4/4 ones: each 4/4 bar becomes two bars (so an alternating bass still
    alternates)."""
    out = []
    for bar in table:
        out.append(tuple(Hit(h[0], min(h[1], 2.0 - h[0]), *h[2:]) for h in bar if h[0] < 2.0))
        out.append(tuple(Hit(h[0] - 2.0, *h[1:]) for h in bar if h[0] >= 2.0))
    return tuple(out)


def _doubled(table):
    """12/8 bars from pairs of 6/8 bars."""
    if len(table) % 2:
        table = table + table
    out = []
    for i in range(0, len(table), 2):
        out.append(table[i] + tuple(Hit(h[0] + 3.0, *h[1:]) for h in table[i + 1]))
    return tuple(out)


def _triplet_12(table):
    """12/8 from a 4/4 written in eighths: swing to exact triplets, then a quarter becomes a
    dotted quarter."""
    out = []
    for bar in _swung(table, 2.0 / 3.0, 0.5):
        out.append(tuple(Hit(round(h[0] * 1.5, 6), round(h[1] * 1.5, 6), *h[2:]) for h in bar))
    return tuple(out)


def _freeze(tables: dict) -> tuple:
    return tuple(sorted(tables.items()))


@lru_cache(maxsize=512)
def _resolve(frozen, meter, swing, unit, twelve_from):
    tables = dict(frozen)
    if meter in tables:
        table = tables[meter]
        return table if is_compound(meter) else _swung(table, swing, unit)
    if meter == "2/4" and "4/4" in tables:
        return _halves(_swung(tables["4/4"], swing, unit))
    if meter == "12/8":
        if twelve_from == "6/8" and "6/8" in tables:
            return _doubled(tables["6/8"])
        if "4/4" in tables:
            return _triplet_12(tables["4/4"])
        if "6/8" in tables:
            return _doubled(tables["6/8"])
    if meter == "6/8" and "12/8" in tables:
        return tuple(tuple(h for h in bar if h[0] < 3.0) for bar in tables["12/8"])
    raise KeyError(meter)


def resolve(tables: dict, ctx: Context, twelve_from: str = "6/8"):
    """The compiled table for the take's meter and swing."""
    unit = ctx.unit
    return _resolve(_freeze(tables), ctx.meter, round(ctx.swing, 6), unit, twelve_from)


def has_table(tables: dict, meter: str, twelve_from: str = "6/8") -> bool:
    try:
        _resolve(_freeze(tables), meter, 0.0, 0.5, twelve_from)
    except KeyError:
        return False
    return True


def swing_time(ctx: Context, pos: float) -> float:
    """A straight-grid position within a bar, swung as the take swings (compound: unchanged)."""
    if ctx.compound or not ctx.swing:
        return pos
    return _swing_map(pos, ctx.swing, ctx.unit)


def hits(note, positions, vel, weight=1.0, dur=0.25, accent=None):
    """Drum-table helper: the same drum at several positions (accented ones louder)."""
    accent = accent or {}
    return tuple(Hit(p, dur, accent.get(p, vel), weight, note) for p in positions)


def bar_of(*groups):
    """One table bar from hit groups, sorted by position."""
    return tuple(sorted((h for g in groups for h in g), key=lambda h: (h[0], h[4] if isinstance(
        h[4], int) else 0)))


# ---------------------------------------------------------------------------------------------
# Chords: tones by function

class Shape:
    """A chord read by function (third, seventh, ...), cached per chord symbol."""

    __slots__ = ("root", "bass", "third", "fifth", "seventh", "sixth", "sus", "exts", "pcs",
                 "allowed", "kind", "is_seventh", "guides", "_voicings")

    def __init__(self, chord):
        root = chord.root
        self.root = root
        self.bass = chord.bass if chord.bass is not None else root
        ints = sorted(set(chord.intervals))
        low = {i for i in ints if i < 12}
        third = 4 if 4 in low else (3 if 3 in low else None)
        seventh = 11 if 11 in low else (10 if 10 in low else None)
        if seventh is None and third == 3 and 6 in low and 9 in low:
            seventh = 9  # diminished seventh
        sixth = 9 if 9 in low and seventh != 9 else None
        fifth = 7 if 7 in low else (6 if 6 in low else (8 if 8 in low else None))
        sus = None
        if third is None:
            sus = 5 if 5 in low else (2 if 2 in low else None)
        exts = []
        raw = [i for i in ints if i >= 12] + [i for i in sorted(low) if i in (1, 2, 5) and i != sus]
        # altered tones first (b9, #9, #11, b13), then the highest extension (13 before 11
        # before 9): those colour the chord most when there are only four voices
        raw.sort(key=lambda i: (0 if i % 12 in (1, 3, 6, 8) else 1, -(i if i >= 12 else i + 12)))
        for i in raw:
            i %= 12
            if i not in exts and i not in (third, fifth, seventh, sixth, sus, 0):
                exts.append(i)
        self.third, self.fifth, self.seventh, self.sixth, self.sus = third, fifth, seventh, sixth, sus
        self.exts = tuple(exts)
        self.pcs = tuple(sorted({(root + i) % 12 for i in ints}))
        if third == 4 and seventh == 10:
            kind = "dom"
        elif third == 4:
            kind = "maj"
        elif third == 3:
            kind = "min"
        else:
            kind = "sus"
        self.kind = kind
        self.is_seventh = seventh is not None
        allowed = set(self.pcs) | {(root + 2) % 12}
        if kind in ("maj", "dom"):
            allowed.add((root + 9) % 12)
        if kind == "min":
            allowed.add((root + 5) % 12)
        self.allowed = frozenset(allowed)
        # the guide tones' pitch classes: the 3rd (or sus) and the 7th (or 6th)
        core = self.third if self.third is not None else self.sus
        top = self.seventh if self.seventh is not None else self.sixth
        self.guides = frozenset(self.pc(i) for i in (core, top) if i is not None)
        self._voicings: dict = {}  # voicing_pcs answers: asked again for every chord played

    def pc(self, interval: int) -> int:
        return (self.root + interval) % 12

    def voicing_pcs(self, rootless: bool = False, size: int = 4) -> tuple[int, ...]:
        """The pitch classes a comping hand plays, most important first: 3rd (or sus) and
        7th (or 6th) always, then alterations/extensions; the root unless ``rootless``."""
        got = self._voicings.get((rootless, size))
        if got is None:
            got = self._voicings[(rootless, size)] = self._voicing_pcs(rootless, size)
        return got

    def _voicing_pcs(self, rootless: bool, size: int) -> tuple[int, ...]:
        order = []
        core = self.third if self.third is not None else self.sus
        if core is not None:
            order.append(core)
        if self.seventh is not None:
            order.append(self.seventh)
        elif self.sixth is not None:
            order.append(self.sixth)
        triad = self.seventh is None and self.sixth is None and not self.exts
        if rootless:  # the bass has the root: 3rd and 7th, then colour (9, 13), then the 5th
            order.extend(self.exts)
            if self.fifth in (6, 8):
                order.append(self.fifth)  # a b5 or #5 is part of the chord's name: keep it
            if not any(i in (1, 3) for i in self.exts) and self.kind != "sus":
                order.append(2)  # the ninth (not against a b9 or #9)
            if self.kind == "dom" and self.seventh == 10:
                order.append(9)  # the thirteenth
            if self.fifth is not None:
                order.append(self.fifth)
            if self.seventh is None and self.kind == "maj" and self.fifth == 7:
                order.append(9)  # a major triad becomes a 6/9 sound
            order.append(0)
        else:
            order.append(0)
            order.extend(self.exts)
            if self.fifth is not None:
                order.append(self.fifth)
            if triad:
                size = 3
        seen = []
        for i in order:
            if i not in seen:
                seen.append(i)
        return tuple(self.pc(i) for i in seen[:size])


_SHAPES: dict = {}


def shape(chord) -> Shape:
    s = _SHAPES.get(chord.symbol)
    if s is None or s.root != chord.root:
        s = _SHAPES[chord.symbol] = Shape(chord)
    return s


# ---------------------------------------------------------------------------------------------
# Voicings and voice leading

@lru_cache(maxsize=4096)
def close_voicings(pcs: tuple, lo: int, hi: int, drop2: bool = False) -> tuple:
    """Every close-position voicing (each inversion, each octave) of ``pcs`` within lo..hi;
    with ``drop2`` the second voice from the top drops an octave (an open, string-like spread)."""
    ordered = sorted(set(pcs))
    out = []
    n = len(ordered)
    for r in range(n):
        rot = ordered[r:] + ordered[:r]
        for base in range(lo - 12, hi + 1):
            if base % 12 != rot[0]:
                continue
            notes = [base]
            for pc in rot[1:]:
                p = notes[-1] + ((pc - notes[-1]) % 12 or 12)
                notes.append(p)
            if drop2 and n >= 4:
                notes[-2] -= 12
                notes.sort()
            if notes[0] >= lo and notes[-1] <= hi:
                out.append(tuple(notes))
    return tuple(out)


def motion(prev: tuple, cand: tuple) -> int:
    """Semitones the hand moves from ``prev`` to ``cand`` (voice by voice when the counts match,
    else each new note from its nearest old one)."""
    if len(prev) == len(cand):
        return sum(abs(a - b) for a, b in zip(prev, cand, strict=False))
    return sum(min(abs(c - p) for p in prev) for c in cand)


_LEAD_CACHE: dict = {}


def lead(prev: tuple | None, pcs: tuple, lo: int, hi: int, center: float,
         drop2: bool = False) -> tuple:
    """The voicing of ``pcs`` that moves least from ``prev``, pulled gently toward ``center``
    so that a long progression does not drift out of the register."""
    key = (prev, pcs, lo, hi, center, drop2)
    got = _LEAD_CACHE.get(key)
    if got is not None:
        return got
    cands = close_voicings(pcs, lo, hi, drop2)
    if not cands:
        cands = close_voicings(pcs, lo - 12, hi + 12, drop2)
    best = None
    best_cost = None
    for c in cands:
        mean = sum(c) / len(c)
        cost = abs(mean - center) * (0.35 if prev else 1.0)
        if prev:
            cost += motion(prev, c)
        if best_cost is None or cost < best_cost:
            best, best_cost = c, cost
    if len(_LEAD_CACHE) > 20000:
        _LEAD_CACHE.clear()
    _LEAD_CACHE[key] = best
    return best if best is not None else ()


@lru_cache(maxsize=8192, typed=True)  # asked for per note by the walking bass: a few hundred answers
def nearest(pc: int, target: float, lo: int, hi: int) -> int:
    """The pitch of class ``pc`` nearest ``target`` within lo..hi."""
    p = lo + ((pc - lo) % 12)
    best = p
    while p <= hi:
        if abs(p - target) < abs(best - target):
            best = p
        p += 12
    return best
