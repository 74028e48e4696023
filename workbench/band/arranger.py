"""The arranger: the form of the take in, a plan per bar out, which every part follows.

A band does not play the same bar thirty-two times. Before anyone plays, the arranger lays the
take out (an intro, the choruses, a tag on the tonic) and decides for each bar:

* ``section`` and ``chorus``, ``kind`` (intro, verse, chorus, bridge, breakdown, ending);
* ``intensity`` (the arc: lighter at the start, building over the choruses, the bridge a lift,
  a breakdown a drop) and from it the ``density`` of optional hits and the dynamics;
* ``plays``: who plays (the pad only where it helps, a drum-and-bass intro, a breakdown);
* ``phrase``: the bar's place in its phrase and ``fill``: 0 none, 1 a small fill (bar 4), 2 a
  phrase fill (bar 8), 3 the largest, into a new section or the ending;
* ``crash``: a crash on the downbeat (section starts and 8-bar phrases, not the take's start);
* ``figure``: a key for the parts' memory: bars with the same key play the same figure, so
  a part states a figure and keeps it, and varies it at phrase ends and section changes.

>>> from workbench.progression import parse_progression
>>> take = layout(parse_progression("| C | Am | F | G |"), repeat=2, intro=True, ending=True,
...               style="pop")
>>> take.intro_bars, take.bars, [c.chord.symbol for c in take.chords][:3], take.tag
(2, 11, ['F', 'G', 'C'], True)
>>> plan = plan_bars(take, "pop", 0.5, "build", ("bass", "drums", "keys", "pad", "guitar"), 4)
>>> [p.kind for p in plan][:3], sorted(plan[0].plays), plan[2].crash
(['intro', 'intro', 'verse'], ['bass', 'drums', 'guitar'], True)
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import NamedTuple

from workbench.band import endings
from workbench.chords import note_name, parse_chord
from workbench.errors import WorkbenchError
from workbench.progression import ChordEvent

ARCS = ("build", "flat")


class Orchestra(NamedTuple):
    """How one style arranges itself over the form."""

    intro: frozenset  # who plays the intro (a drum-and-bass groove, a piano alone, ...)
    breakdown: frozenset  # who stays in a breakdown
    pad_from: float  # bar intensity from which the pad joins (a bridge or chorus lowers it)
    lock: bool  # the bass plays with every kick (funk, reggae, rock)
    ride_from: float  # bar intensity from which the hi-hat moves to the ride (>1: never)
    tag_quality: str  # the tonic chord a tag ends on, in a major key
    lead: str  # the harmony part that starts alone; the others join after the first phrase


def _o(intro, breakdown, pad_from, lock, ride_from, lead, tag=""):
    return Orchestra(frozenset(intro.split()), frozenset(breakdown.split()), pad_from, lock,
                     ride_from, tag, lead)


ORCHESTRA = {
    "rock": _o("drums bass", "drums bass guitar", 0.72, True, 0.75, "guitar"),
    "pop": _o("drums bass guitar", "drums bass keys", 0.75, False, 0.78, "guitar"),
    "ballad": _o("keys", "keys bass pad", 0.0, False, 2.0, "keys", "maj7"),
    "funk": _o("drums bass", "drums bass guitar", 2.0, True, 2.0, "guitar", "9"),
    "swing": _o("keys bass drums", "bass drums keys", 0.85, False, 2.0, "keys", "6"),
    "bossa": _o("guitar drums", "guitar bass drums", 0.62, False, 2.0, "guitar", "maj7"),
    "shuffle": _o("drums bass guitar", "drums bass guitar", 0.62, False, 0.8, "guitar", "7"),
    "waltz": _o("bass keys", "bass keys drums", 0.6, False, 2.0, "keys"),
    "reggae": _o("drums bass", "drums bass guitar", 0.7, True, 2.0, "guitar"),
    "country": _o("guitar bass drums", "guitar bass drums", 0.7, False, 2.0, "guitar"),
}
HARMONY = ("keys", "guitar", "pad")


class BarPlan(NamedTuple):
    """What the band does in one bar of the take (0-based ``bar``, count-in excluded)."""

    bar: int
    section: str
    chorus: int
    kind: str  # intro, verse, chorus, bridge, breakdown, ending
    intensity: float
    density: float
    plays: frozenset
    phrase: int  # 0-based bar within its phrase
    fill: int  # 0 none .. 3 into a new section / the ending
    crash: bool
    section_start: bool
    figure: tuple  # same key, same figure
    ride: bool  # the drummer is on the ride rather than the hi-hat


class Take(NamedTuple):
    """The chord timeline of the whole take (intro, choruses, tag), bar 0 at beat 0."""

    chords: list  # ChordEvents in playing order
    sections: list  # per bar
    choruses: list  # per bar
    bars: int
    intro_bars: int
    tag: bool  # a bar on the tonic was added so that the take ends home
    tag_from: int = -1  # the first bar of the style's tag (the closing bars again), or -1
    kick_bars: int = 0  # bars before the final one the ending's kicks take (endings.py)
    section_starts: frozenset = frozenset()  # bars where the chart starts a section (A A)


# ---------------------------------------------------------------------------------------------
# Checking the arguments (the engine's one place for these rules)

def check_arc(arc, choruses: int | None = None):
    """``"build"`` (default), ``"flat"`` or a list of intensities (0..1), one per chorus (the
    last repeats); WorkbenchError naming the bad value otherwise."""
    if arc is None:
        return "build"
    given = arc
    if isinstance(arc, str):
        name = arc.strip().lower()
        if name in ARCS:
            return name
        parts = [p for p in name.replace(",", " ").split() if p]
        if not parts:
            raise WorkbenchError(f"arc must be one of {', '.join(ARCS)} or intensities per chorus, "
                                 f"not {arc!r}", field="arc", value=arc, valid=ARCS)
        arc = parts
    try:
        values = [float(v) for v in arc]
    except (TypeError, ValueError):
        raise WorkbenchError(f"arc must be one of {', '.join(ARCS)} or a list of intensities "
                             f"from 0 to 1 per chorus, not {given!r}", field="arc", value=given,
                             valid=ARCS) from None
    if not values or not all(0.0 <= v <= 1.0 for v in values):
        raise WorkbenchError(f"arc intensities must be from 0 to 1, one per chorus, not {given!r}",
                             field="arc", value=given, valid=ARCS)
    return tuple(values)


def check_intro(intro, is_song: bool) -> bool:
    """``None`` (default): an intro for a Song, none for a plain progression (bar 1 stays at
    beat 0); else a bool."""
    if intro is None:
        return is_song
    if isinstance(intro, bool):
        return intro
    if isinstance(intro, (int, str)) and str(intro).strip().lower() in ("0", "1", "true", "false"):
        return str(intro).strip().lower() in ("1", "true")
    raise WorkbenchError(f"intro must be true or false, not {intro!r}", field="intro", value=intro,
                         valid=(True, False))


# ---------------------------------------------------------------------------------------------
# The take's timeline

@lru_cache(maxsize=256)  # asked for every bar of every take
def kind_of(label: str) -> str:
    """A section label read as what it does in the form."""
    low = label.strip().lower()
    if low.startswith("intro"):
        return "intro"
    if low.startswith("break"):
        return "breakdown"
    if low in ("b", "c") or low.startswith(("bridge", "middle")):
        return "bridge"
    if low.startswith(("chorus", "refrain", "hook")):
        return "chorus"
    if low.startswith(("outro", "coda", "tag", "ending")):
        return "ending"
    return "verse"


def _tonic_chord(key, style: str):
    if key.mode == "minor":
        quality = "m6" if style in ("swing", "bossa") else "m"
    else:
        quality = ORCHESTRA[style].tag_quality
    return parse_chord(note_name(key.tonic, key.prefers_flats) + quality)


def layout(prog, repeat: int, intro: bool, ending: bool, style: str, key=None) -> Take:
    """The take's chords: an intro (the last bars of the form as a vamp, unless the form opens
    with its own Intro), the form ``repeat`` times (each a chorus), and, when the take ends and
    its last chord is not the tonic, one more bar on the tonic."""
    bpb = prog.beats_per_bar
    n = prog.bars
    key = key or prog.key
    own_sections = list(prog.sections) if len(prog.sections) == n else [""] * n
    own_choruses = list(prog.choruses) if len(prog.choruses) == n else [0] * n
    per_repeat = (max(own_choruses) + 1) if own_choruses else 1
    intro_bars = 0
    if intro and kind_of(own_sections[0]) != "intro":
        intro_bars = min(n, 4 if n >= 16 else 2)
    chords = []
    sections: list[str] = []
    choruses: list[int] = []
    if intro_bars:
        first = n - intro_bars
        for ce in prog.events:
            if ce.bar >= first:
                chords.append(replace(ce, start=ce.start - first * bpb, bar=ce.bar - first))
        sections += ["Intro"] * intro_bars
        choruses += [0] * intro_bars
    shift = intro_bars
    for r in range(repeat):
        for ce in prog.events:
            # (built directly: dataclasses.replace costs a microsecond a chord, every take)
            chords.append(ChordEvent(ce.chord, ce.bar + r * n + shift,
                                     ce.start + (r * n + shift) * bpb, ce.duration))
        sections += own_sections
        choruses += [c + r * per_repeat for c in own_choruses]
    bars = intro_bars + n * repeat
    tag = False
    last = chords[-1].chord
    if ending and not last.is_no_chord and last.root != key.tonic:
        tonic = _tonic_chord(key, style)
        chords.append(replace(chords[-1], chord=tonic, start=bars * bpb, duration=bpb, bar=bars))
        sections.append(sections[-1])
        choruses.append(choruses[-1])
        bars += 1
        tag = True
    tag_from = -1
    if ending:
        times, size = endings.tag_bars(style, prog.meter)
        if times and bars - 1 - size >= intro_bars:
            chords, sections, choruses, tag_from = _tag(chords, sections, choruses, bars, bpb,
                                                        times, size, style, key)
            bars += times * size
    kicks = endings.kick_bars(style, prog.meter, bars, intro_bars) if ending else 0
    own_starts = prog.section_starts if len(prog.section_starts) == n else ()
    starts = frozenset(intro_bars + r * n + i for r in range(repeat)
                       for i, s in enumerate(own_starts) if s)
    return Take(chords, sections, choruses, bars, intro_bars, tag, tag_from, kicks, starts)


def _tag(chords, sections, choruses, bars, bpb, times, size, style, key):
    """The ``size`` bars before the final one played ``times`` more times before it (swing's
    three-times tag of the closing cadence, bossa's last two bars again). Where the style
    tags a ii-V and the closing bars hold one dominant, the tag's first half is its ii."""
    first = bars - 1 - size
    window = [ce for ce in chords if first <= ce.bar < bars - 1]
    one = window[0].chord if window else None
    if (endings.ENDINGS[style].tag_ii and size >= 2 and one is not None and not one.is_no_chord
            and all(ce.chord == one for ce in window) and {4, 10} <= set(one.intervals)):
        ii = parse_chord(note_name((one.root + 7) % 12, key.prefers_flats) + "m7")
        window = [replace(ce, chord=ii) if ce.bar < first + size // 2 else ce for ce in window]
    final = [ce for ce in chords if ce.bar == bars - 1]
    out = [ce for ce in chords if ce.bar < bars - 1]
    shift = 0
    for _ in range(times):
        shift += size
        out += [replace(ce, start=ce.start + shift * bpb, bar=ce.bar + shift) for ce in window]
    out += [replace(ce, start=ce.start + shift * bpb, bar=ce.bar + shift) for ce in final]
    label = "Tag"
    sections = sections[:-1] + [label] * (times * size) + [label]
    choruses = choruses[:-1] + [choruses[-1]] * (times * size + 1)
    return out, sections, choruses, bars - 1


# ---------------------------------------------------------------------------------------------
# The plan

def _levels(arc, base: float, n: int) -> list[float]:
    """The intensity of each chorus."""
    if isinstance(arc, tuple):
        return [arc[min(i, len(arc) - 1)] for i in range(n)]
    if arc == "flat" or n == 1:
        return [base] * n
    lo, hi = base - 0.15, base + 0.15
    return [lo + (hi - lo) * i / (n - 1) for i in range(n)]


def _clip(x: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


def plan_bars(take: Take, style: str, intensity: float, arc, tracks, phrase: int,
              ending: bool = True) -> list[BarPlan]:
    """One :class:`BarPlan` per bar of the take."""
    orch = ORCHESTRA[style]
    tracks = frozenset(tracks)
    bars = take.bars
    ib = take.intro_bars
    n_ch = max(take.choruses) + 1 if take.choruses else 1
    levels = _levels(arc, intensity, n_ch)
    building = arc == "build"
    kinds = [kind_of(s) if i >= ib else "intro" for i, s in enumerate(take.sections)]
    if ending:  # the final bar and the ending's kicks before it
        for i in range(max(ib, bars - 1 - take.kick_bars), bars):
            kinds[i] = "ending"
    kicks_from = bars - 1 - take.kick_bars if ending else bars
    lift_per, tag_size = 0.0, 0
    if take.tag_from >= 0:
        e = endings.ENDINGS[style]
        lift_per, tag_size = e.tag_lift, max(1, (bars - 1 - take.tag_from) // max(1, e.tag))
    # a breakdown where the form suggests it: a section so named, or (three choruses or more,
    # building) the first phrase of the chorus before the last, so the last one can lift off
    if building and n_ch >= 3 and "breakdown" not in kinds and (bars - ib) // n_ch >= 2 * phrase:
        target = n_ch - 2
        first = next((i for i in range(ib, bars) if take.choruses[i] == target), None)
        if first is not None:
            for i in range(first, min(first + phrase, bars)):
                if take.choruses[i] == target and kinds[i] == "verse":
                    kinds[i] = "breakdown"
    new_section = take.section_starts
    starts = [i == ib or (i > ib and (take.sections[i] != take.sections[i - 1]
                                      or i in new_section
                                      or take.choruses[i] != take.choruses[i - 1]
                                      or kinds[i] != kinds[i - 1])) for i in range(bars)]
    # each chorus's length, for the gentle climb inside it
    ch_first: dict[int, int] = {}
    ch_len: dict[int, int] = {}
    for i in range(ib, take.tag_from if take.tag_from >= 0 else bars):  # the tag is extra
        c = take.choruses[i]
        ch_first.setdefault(c, i)
        ch_len[c] = ch_len.get(c, 0) + 1
    # where the form turns a corner (the biggest fill, a crash): a new section, the band's
    # entry after the intro, a new chorus of 8 bars or more (a 4-bar loop played over and
    # over turns at its 8-bar phrases instead)
    turns = [starts[i] and (i == ib or take.sections[i] != take.sections[i - 1]
                            or i in new_section or kinds[i] != kinds[i - 1]
                            or ch_len.get(take.choruses[i], 0) >= 8) for i in range(bars)]
    out = []
    turn_at = ib  # phrases count from where the form last turned
    for i in range(bars):
        kind = kinds[i]
        c = take.choruses[i]
        if turns[i]:
            turn_at = i
        pos = (i - turn_at) % phrase if i >= ib else i
        level = levels[min(c, n_ch - 1)]
        if kind == "intro":
            x = min(level, intensity) - 0.25
        elif kind == "breakdown":
            x = level - 0.3
        elif building:
            inside = (i - ch_first.get(c, ib)) / max(1, ch_len.get(c, 1) - 1)
            x = level - 0.06 + 0.12 * inside
            if c == 0 and i - ib < phrase:
                x -= 0.15  # the band starts lighter, so it has somewhere to go
            if kind in ("bridge", "chorus"):
                x += 0.06
            if kind == "ending":
                x = level + 0.1
        else:
            x = level
        if lift_per and i >= take.tag_from:  # each time round the tag: a lift, or a fade
            x += lift_per * min((i - take.tag_from) // tag_size + 1, (bars - 1 - take.tag_from)
                                // tag_size)
        x = _clip(x)
        # who plays
        plays = set(tracks)
        harmony = [t for t in HARMONY if t in tracks]
        if kind == "intro" and orch.intro & tracks:
            plays = set(orch.intro & tracks)
        elif kind == "breakdown" and orch.breakdown & tracks:
            plays = set(orch.breakdown & tracks)
        elif (building and c == 0 and i - ib < phrase and bars - ib >= 2 * phrase
              and orch.lead in tracks and kind != "ending"):
            # the first phrase: one harmony part with the rhythm section, the rest join later
            plays = {t for t in tracks if t not in HARMONY or t == orch.lead}
        if "pad" in plays and not (kind == "ending" and i == bars - 1) and len(harmony) > 1:
            need = orch.pad_from - (0.2 if kind in ("bridge", "chorus") else 0.0)
            if x < need and not (kind == "breakdown" and "pad" in orch.breakdown):
                plays.discard("pad")
        # fills at the end of this bar, by what comes next
        nxt = i + 1
        fill = 0
        if nxt < bars:
            into = nxt - turn_at
            if turns[nxt] or (ending and nxt == kicks_from):
                fill = 3
            elif into > 0 and into % 8 == 0 or (phrase == 8 and into % phrase == 0):
                fill = 2
            elif phrase == 4 and into > 0 and into % 4 == 0:
                fill = 1
            if kinds[nxt] == "intro" or i >= kicks_from:
                fill = 0  # the kicks are the drummer's figure: no fill inside them
        prev_fill = out[-1].fill if out else 0
        crash = i > 0 and (turns[i] or prev_fill >= 2) and kind not in ("breakdown", "ending")
        variant = fill if fill >= 1 else 0
        label = take.sections[i] if i >= ib else "Intro"
        figure = (label, kind == "breakdown", variant)
        ride = x >= orch.ride_from or (kind == "bridge" and orch.ride_from <= 1.0)
        if starts[i] or i == 0:
            phrase_x = x  # optional hits are chosen per section: a figure keeps its notes
        if building and c == 0 and i - ib == phrase:
            phrase_x = x  # after the lighter first phrase
        density = 0.5 + ((x if kind == "ending" else phrase_x) - 0.5) * 0.6
        out.append(BarPlan(i, take.sections[i], c, kind, x, density, frozenset(plays), pos, fill,
                           crash, starts[i], figure, ride))
    return out
