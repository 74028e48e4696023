"""The ending of a take, in the style: the one table of ending figures and what the parts ask it.

A band does not just stop on the last chord. Each style ends its own way (``ENDINGS``):

* **kicks**: the whole band hits a figure together in the bar (two bars of 2/4) before the
  final chord, the drums catching each hit with the kick and a cymbal or the snare and
  setting up the final chord: rock 1, &2, 4; funk 1, a-of-1, &2, 4, the final chord a short
  stab; pop 1, &2, 4; reggae the drop on 3 and the "and" of 4; country four quarter hits with
  the bass walking up into the tonic; waltz 1, 2, 3; shuffle one hit on 1, then the blues
  slide into the final chord from a half step above;
* **tag**: the last bars before the final chord played again: swing's "three-times tag" of the
  closing cadence, then a short button on the tonic; bossa's last two bars repeated, fading,
  then a soft final chord;
* **ritard**: the ballad (and the waltz) slow down over the last two bars, written into the
  notes' places rather than a tempo map (see :class:`Ritard`), the drums swelling a cymbal
  roll into a held, rolled final chord.

The final chord is always the tonic (the arranger adds a bar on it when the take ends
elsewhere); the bass takes the chord's bass on every change inside the kicks; nothing sounds
under N.C.; and the drummer's final cymbal rings to the very end of the take.

Kicks and setups are pattern tables (:class:`~workbench.band.common.Hit` rows, derived for
2/4 and swung like the parts' grooves, see :func:`~workbench.band.common.resolve`); a kick's
``what`` is the drum that catches it with the bass drum, a setup's the drum it is played on.

>>> from workbench.band.common import Hit
>>> ENDINGS["rock"].kicks["4/4"][0][1]
Hit(at=1.5, length=0.45, velocity=108, weight=1.0, what=49)
>>> ENDINGS["swing"].tag, ENDINGS["swing"].stab
(2, 1.0)
"""

from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple

from workbench.band.common import EPS, Hit, has_table, resolve, swing_time
from workbench.instruments import Drum as D


class Ending(NamedTuple):
    """How one style ends a take."""

    kicks: dict  # meter -> table of Hits: the band's figure before the final chord
    setup: dict  # meter -> table of Hits (as long as ``kicks``): the drums' own pickup notes
    stab: float  # beats the pitched parts hold the last chord; 0: held to the end (fermata)
    cymbal: tuple  # (GM note, velocity) the drummer ends on, ringing to the end
    tag: int = 0  # times the bars before the final one are played again
    tag_bars: int = 2  # how many bars the tag plays (doubled in 2/4)
    tag_lift: float = 0.0  # intensity added per time round the tag (a fade is negative)
    ritard: float = 0.0  # bars the last two bars before the final chord are stretched by
    roll: float = 0.0  # beats of cymbal roll swelling into the final chord
    slide: float = 0.0  # beats before the final chord of its half-step-above approach chord
    walk: bool = False  # the bass walks by step into the final chord on the kicks
    spread: float = 0.0  # beats over which the keys roll (arpeggiate) the final chord
    tag_ii: bool = False  # a tag on one dominant chord plays its ii first (| Dm7 | G7 |)
    level: float = 1.0  # the final chord's loudness against the parts' own (bossa: soft)


def _k(*hits) -> tuple:
    """One bar of a figure: (at, length, velocity, drum) per hit."""
    return (tuple(Hit(at, length, vel, 1.0, what) for at, length, vel, what in hits),)


C, S, X, K = D.CRASH, D.SNARE, D.SIDE_STICK, D.KICK

ENDINGS = {
    "rock": Ending(
        kicks={"4/4": _k((0, 0.45, 112, C), (1.5, 0.45, 108, C), (3, 0.45, 112, C))},
        setup={"4/4": _k((3.5, 0.25, 92, S), (3.75, 0.25, 104, S))},
        stab=0.0, cymbal=(C, 120)),
    "pop": Ending(
        kicks={"4/4": _k((0, 0.9, 104, C), (1.5, 0.45, 98, S), (3, 0.45, 106, C)),
               "3/4": _k((0, 0.9, 102, C), (1, 0.45, 94, S), (2, 0.45, 104, C)),
               "6/8": _k((0, 0.9, 102, C), (1.5, 0.45, 96, S), (2.5, 0.45, 104, C))},
        setup={"4/4": _k((2.5, 0.25, 80, S)), "3/4": _k((2.5, 0.25, 84, S)),
               "6/8": _k((2, 0.25, 80, S))},
        stab=0.0, cymbal=(C, 112)),
    "ballad": Ending(kicks={}, setup={}, stab=0.0, cymbal=(C, 92), ritard=0.3, roll=2.0,
                     spread=0.25),
    "funk": Ending(
        kicks={"4/4": _k((0, 0.2, 112, C), (0.75, 0.2, 104, S), (1.5, 0.2, 108, S),
                         (3, 0.2, 112, C))},
        setup={"4/4": _k((3.5, 0.2, 76, S), (3.75, 0.2, 96, S))},
        stab=0.5, cymbal=(C, 120)),
    "swing": Ending(kicks={}, setup={}, stab=1.0, cymbal=(C, 112), tag=2, tag_lift=0.08,
                    tag_ii=True),
    "bossa": Ending(kicks={}, setup={}, stab=0.0, cymbal=(D.RIDE, 64), tag=2, tag_lift=-0.12,
                    level=0.7),
    "shuffle": Ending(
        kicks={"4/4": _k((0, 0.9, 112, C)), "12/8": _k((0, 1.4, 112, C))},
        setup={"4/4": _k((2.5, 0.25, 78, S), (3, 0.25, 90, S)),
               "12/8": _k((4, 0.25, 78, S), (4.5, 0.25, 90, S))},
        stab=0.0, cymbal=(C, 116), slide=0.5),
    "waltz": Ending(
        kicks={"3/4": _k((0, 0.8, 100, C), (1, 0.8, 92, S), (2, 0.8, 98, S))},
        setup={"3/4": ((),)},
        stab=0.0, cymbal=(C, 104), ritard=0.25),
    "reggae": Ending(
        kicks={"4/4": _k((2, 0.45, 110, X), (3.5, 0.4, 108, C))},
        setup={"4/4": _k((2.5, 0.25, 82, D.TOM_HI), (2.75, 0.25, 86, D.TOM_MID),
                         (3, 0.25, 90, D.TOM_LO))},
        stab=0.0, cymbal=(C, 112)),
    "country": Ending(
        kicks={"4/4": _k((0, 0.45, 106, C), (1, 0.45, 96, S), (2, 0.45, 100, S),
                         (3, 0.45, 104, S))},
        setup={"4/4": ((),)},
        stab=0.0, cymbal=(C, 112), walk=True),
}

_NEVER = float("inf")


def tag_bars(style: str, meter: str) -> tuple[int, int]:
    """(times, bars) of the style's tag in this meter: how often the closing bars are played
    again, and how many bars they are."""
    e = ENDINGS[style]
    return e.tag, e.tag_bars * (2 if meter == "2/4" else 1)


def _table(tables: dict, meter: str, ctx=None):
    """The figure for the meter (derived and swung with the parts' tables), or None."""
    if not tables:
        return None
    if ctx is not None:
        try:
            return resolve(tables, ctx)
        except KeyError:
            return None
    return tables if has_table(tables, meter) else None


def kick_bars(style: str, meter: str, bars: int, first: int) -> int:
    """How many bars before the final one the kicks take (0: none): the figure's length, if
    the take has a bar of groove before them after ``first`` (the first bar of the form), so
    that the band has a groove to stop."""
    tables = ENDINGS[style].kicks
    if not _table(tables, meter):
        return 0
    span = 2 if meter == "2/4" and "2/4" not in tables else 1
    return span if bars - 1 - span >= first + 1 else 0


class BandHit(NamedTuple):
    """One hit of the band's ending figure, as every part plays it."""

    at: float  # beats from the take's start
    end: float  # when the pitched parts let go
    velocity: int
    drum: int  # what the drummer plays with the bass drum (KICK: the bass drum alone)
    slide: bool  # the final chord a half step up (the blues slide into it)
    chord: object  # the chord the band strikes (the slide's own, a half step above the final)
    walk: int  # semitones below the final chord's bass the bass walks from (0: the chord's bass)


_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)


def _walk_down(target_pc: int, steps: int, key) -> int:
    """Semitones from the scale tone ``steps`` scale steps below ``target_pc`` up to it."""
    scale = _MINOR if key is not None and key.mode == "minor" else _MAJOR
    tonic = key.tonic if key is not None else target_pc
    degrees = {(tonic + s) % 12 for s in scale}
    down = 0
    for _ in range(steps):
        down += 1
        while (target_pc - down) % 12 not in degrees:
            down += 1
    return down


def prepare(ctx, kicks: int, key=None) -> None:
    """Lay out the ending's band hits on ``ctx`` (``ctx.band_hits``: event index -> hits in
    that chord; ``ctx.setup``: the drums' own pickup notes) and where the groove stops
    (``ctx.groove_end``): at the first kick, else at the final bar."""
    ctx.band_hits = {}
    ctx.setup = []
    ctx.groove_end = _NEVER
    events = ctx.events
    if not ctx.ending or not events:
        return
    e = ENDINGS[ctx.style.name]
    bpb = ctx.bpb
    final_bar = events[-1].bar
    final_at = final_bar * bpb
    ctx.groove_end = final_at
    if not kicks:
        return
    table = _table(e.kicks, ctx.meter, ctx)
    setup = _table(e.setup, ctx.meter, ctx) or ((),)
    first = final_bar - kicks
    raw = []  # (t, length, velocity, drum, slide)
    pickup = []
    for r in range(kicks):
        base = (first + r) * bpb
        for h in table[r % len(table)]:
            raw.append((base + h.at, h.length, h.velocity, h.what, False))
        for h in setup[r % len(setup)]:
            pickup.append((h.what, base + h.at, base + h.at + h.length, h.velocity))
    if e.slide and not events[-1].nc:
        t = final_at - e.slide
        t = t - t % bpb + swing_time(ctx, t % bpb)
        raw = [h for h in raw if abs(h[0] - t) > EPS]
        raw.append((t, final_at - t, raw[-1][2] if raw else 104, S, True))
    start = min(h[0] for h in raw)
    # every change of chord inside the kicks is a hit too: the bass names each chord
    taken = {round(h[0], 6) for h in raw}
    for ev in events:
        if start < ev.start < final_at - EPS and round(ev.start, 6) not in taken:
            raw.append((ev.start, 0.45, 96, K, False))
    raw.sort()
    ctx.groove_end = start
    final = events[-1]
    walk_to = None if final.nc or not e.walk else final.chord.bass
    slid = None if final.nc else slide_chord(final.chord)
    hits: dict = {}
    j = 0
    for i, (t, length, vel, drum, slide) in enumerate(raw):
        while j < len(events) - 1 and events[j].end <= t + EPS:
            j += 1
        ev = events[j]
        if ev.nc:
            continue
        nxt = raw[i + 1][0] if i + 1 < len(raw) else final_at
        end = final_at if slide else min(t + length, nxt, ev.end)
        walk = 0
        if walk_to is not None and abs(t - ev.start) > EPS and not slide:
            walk = _walk_down(walk_to, len(raw) - i, key)
        chord = slid if slide else ev.chord
        hits.setdefault(ev.index, []).append(BandHit(t, end, vel, drum, slide, chord, walk))
    ctx.band_hits = hits
    # the drummer's pickup sits in a gap of the figure, never on a hit
    ctx.setup = [s for s in pickup if all(abs(s[1] - h[0]) > EPS for h in raw)]


def slide_chord(chord):
    """The chord a half step above ``chord`` (the blues ending slides from it into the last).

    >>> from workbench.chords import parse_chord
    >>> slide_chord(parse_chord("C9")).pitch_classes
    (1, 5, 8, 11, 3)
    """
    up = [(pc + 1) % 12 for pc in chord.pitch_classes]
    return replace(chord, symbol=chord.symbol + "(slide)", root=(chord.root + 1) % 12,
                   bass=(chord.bass + 1) % 12, pitch_classes=tuple(up))


def hits_in(ctx, ev):
    """The band hits that fall in chord ``ev`` (none outside the ending)."""
    hits = ctx.band_hits
    return hits.get(ev.index, ()) if hits else ()


def final_end(ctx, ev) -> float:
    """Where a part lets go of a final chord: a stab for the take's last chord in the styles
    that end short (the swing button, the funk hit), else its end (the take's end)."""
    stab = ENDINGS[ctx.style.name].stab
    if stab and ev.next is None:
        return min(ev.end, ev.start + stab)
    return ev.end


def final_velocity(ctx, velocity: int) -> int:
    """A part's velocity for the final chord, as soft or loud as the style ends."""
    return int(velocity * ENDINGS[ctx.style.name].level + 0.5)


def groove_stop(ctx, ev) -> float:
    """Where the groove of chord ``ev`` must stop: its end, or the first kick."""
    g = ctx.groove_end
    return ev.end if ev.end < g else g


class Ritard:
    """A written-out ritard: the notes of the last ``span`` beats before the final chord are
    moved later and later (the beat lengthening to ``1 + 2 * delay / span`` times itself), the
    final chord arrives ``delay`` beats late and is held to the take's end, which stays put.

    In the note positions, not a tempo map: the files keep one tempo, so the take lasts what it
    says, the audio render and a DAW plugin that places notes at the host's tempo hear the same
    ritard, and a player that ignores tempo maps loses nothing.

    >>> r = Ritard(4.0, 12.0, 16.0, 1.0)
    >>> [round(r.at(t), 3) for t in (3.0, 8.0, 11.0, 12.0, 16.0)]
    [3.0, 8.25, 11.766, 13.0, 16.0]
    """

    __slots__ = ("a", "f", "end", "delay", "span", "squeeze")

    def __init__(self, a: float, f: float, end: float, delay: float):
        self.a, self.f, self.end, self.delay = a, f, end, delay
        self.span = f - a
        self.squeeze = (end - f - delay) / (end - f)

    def at(self, t: float) -> float:
        if t <= self.a:
            return t
        if t <= self.f:
            x = (t - self.a) / self.span
            return t + self.delay * x * x
        return self.f + self.delay + (t - self.f) * self.squeeze

    def notes(self, notes) -> None:
        """Move the notes (Note objects, in place)."""
        a = self.a
        at = self.at
        for n in notes:
            if n.end > a:
                n.start = at(n.start)
                n.end = at(n.end)

    def chords(self, chords) -> list:
        """The chord timeline as played (ChordEvents, copied)."""
        out = []
        for ce in chords:
            if ce.start + ce.duration > self.a:
                s = self.at(ce.start)
                ce = replace(ce, start=s, duration=self.at(ce.start + ce.duration) - s)
            out.append(ce)
        return out


def ritard(style: str, bars: int, bpb: float, offset: float, ending: bool) -> Ritard | None:
    """The style's ritard over the take's last two bars before its final one (None if it has
    none, or the take is too short or has no ending)."""
    amount = ENDINGS[style].ritard
    if not ending or not amount or bars < 3:
        return None
    f = (bars - 1) * bpb + offset
    return Ritard(f - 2 * bpb, f, bars * bpb + offset, amount * bpb)


def groove_bars(arrangement) -> int:
    """How many bars of a take groove as the form does before the ending changes it (its
    tag, its kicks, its ritard): what a measure of the band's groove should read.

    >>> import workbench
    >>> a = workbench.generate("| C | Am | F | G |", style="rock")  # G, then the tonic bar
    >>> a.bars, groove_bars(a)
    (5, 3)
    """
    plan = arrangement.plan
    bars = arrangement.bars - (1 if arrangement.count_in else 0)
    first = next((p.bar for p in plan if p.kind == "ending" or p.section == "Tag"), bars)
    amount = ENDINGS[arrangement.style].ritard if first < bars else 0.0
    if amount and bars >= 3:
        first = min(first, bars - 3)
    return first
