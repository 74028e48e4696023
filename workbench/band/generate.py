"""``generate``: a progression and a style in, an :class:`~workbench.arrangement.Arrangement` out.

Each part gets its own ``random.Random`` seeded from (seed, style, track), so a take depends on
nothing but its inputs (no global random state, no clock, no dict order) and changing one
track's settings does not reshuffle the others.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from operator import attrgetter, itemgetter

from workbench.arrangement import Arrangement, Note, Track
from workbench.band import arranger, bass, drums, feel, guitar, keys, pad
from workbench.band.common import EPS, Context, Event, bar_beats
from workbench.band.feel import DEFAULT_HUMANIZE
from workbench.band.styles import check_meter, get_style
from workbench.instruments import (
    CHANNELS,
    DEFAULT_PROGRAMS,
    REGISTERS,
    TRACKS,
    Drum,
    program_number,
)

TWO_BAR_BASS = ("waltz", "country")  # alternating-bass styles: the two bars are one figure
PARTS = {"bass": bass, "drums": drums, "keys": keys, "pad": pad, "guitar": guitar}


def _unit(name, value, lo=0.0, hi=1.0):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number from {lo:g} to {hi:g}, not {value!r}") from None
    if not lo <= v <= hi:
        raise ValueError(f"{name} must be from {lo:g} to {hi:g}, not {value!r}")
    return v


def _tracks(tracks):
    if tracks is None:
        return list(TRACKS)
    if isinstance(tracks, str):
        tracks = [t for t in tracks.replace(" ", "").split(",") if t]
    out = []
    for t in tracks:
        name = str(t).strip().lower()
        if name not in TRACKS:
            raise ValueError(f"unknown track {t!r}; tracks: {', '.join(TRACKS)}")
        if name not in out:
            out.append(name)
    if not out:
        raise ValueError(f"no tracks chosen; tracks: {', '.join(TRACKS)}")
    return [t for t in TRACKS if t in out]


def _per_track(name, mapping, convert):
    if not mapping:
        return {}
    if not isinstance(mapping, Mapping):
        raise ValueError(f"{name} maps tracks to values, e.g. {{'bass': ...}}, not {mapping!r}")
    out = {}
    for track, value in mapping.items():
        if track not in TRACKS:
            raise ValueError(f"{name}: unknown track {track!r}; tracks: {', '.join(TRACKS)}")
        try:
            out[track] = convert(f"{name}[{track!r}]", value)
        except ValueError as exc:
            text = str(exc)
            raise ValueError(text if text.startswith(name) else f"{name}[{track!r}]: {text}") from None
    return out


def _progression(progression, meter, key, style):
    from workbench.progression import Progression, parse_progression

    if isinstance(progression, Progression):
        if meter is not None and meter != progression.meter:
            kept = None if getattr(progression, "key_detected", True) else progression.key
            progression = parse_progression(progression.text, meter=meter, key=key or kept)
        return progression
    if meter is None:
        meter = "4/4" if "4/4" in style.meters else style.meters[0]
    return parse_progression(progression, meter=meter, key=key)


def _events(take):
    """The chord spans the band plays (intro, choruses, tag), linked to their neighbours."""
    events = [Event(i, ce.start, ce.start + ce.duration, ce.chord, ce.bar)
              for i, ce in enumerate(take.chords)]
    for a, b in zip(events, events[1:], strict=False):
        a.next = b
        b.prev = a
    if events:  # the final bar is the ending (Context.final)
        final_bar = events[-1].bar
        for ev in reversed(events):
            if ev.bar != final_bar:
                break
            ev.last = True
    return events


def _shifted_chords(take, offset):
    from dataclasses import replace

    if not offset:
        return list(take.chords)
    return [replace(ce, start=ce.start + offset, bar=ce.bar + 1) for ce in take.chords]


def generate(progression, style="pop", tracks=None, tempo=120, meter=None, key=None, seed=0,
             swing=None, humanize=DEFAULT_HUMANIZE, intensity=0.5, instruments=None, levels=None,
             density=None, count_in=False, repeat=1, ending=True, intro=None,
             arc="build") -> Arrangement:
    """Play a progression as a band.

    ``progression`` is a :class:`~workbench.progression.Progression`, bar notation
    (``"| C Am | F G |"``) or a list of chords (one a bar). ``tracks`` defaults to all five.
    ``swing`` (0 straight .. 2/3 triplet .. 1) defaults to the style's (6/8 and 12/8 are
    triplets already and ignore it); ``humanize`` (0..1) loosens timing (up to 0.03 beats) and
    velocity; ``intensity`` (0..1) sets dynamics, busyness and fill length; ``instruments`` (GM
    program number or name), ``levels`` (velocity scale 0..1, 0 silences the track) and
    ``density`` (0..1, default from intensity) are per track. The same inputs and ``seed`` give
    the same notes; ``count_in`` adds a bar of sticks before bar 1 (everything moves a bar
    later); ``repeat`` plays the progression that many times (each a chorus), ending once.
    ``ending=False`` keeps the groove through the last bar instead of holding it, for a loop in
    the DAW; with an ending, a take whose last chord is not the tonic gets a bar on the tonic.

    The arranger (:mod:`workbench.band.arranger`) plans every bar: ``intro`` (default: on for a
    Song, off for a plain progression so that bar 1 stays at beat 0) opens with the last bars
    of the form in the style; ``arc`` is ``"build"`` (default: lighter at first, building over
    the choruses), ``"flat"`` or a list of intensities, one per chorus. ``humanize`` defaults to
    the band's natural feel (:mod:`workbench.band.feel`); 0 is the exact grid.

    With ``meter=None`` a text progression is read in 4/4, or in the style's own meter if it
    has no 4/4 (waltz); a :class:`Progression` keeps its meter unless ``meter`` says otherwise
    (then its text is read again). ``key`` names the key of the files and key signature.
    """
    st = get_style(style)
    names = _tracks(tracks)
    try:
        tempo = float(tempo)
    except (TypeError, ValueError):
        raise ValueError(f"tempo must be a number of beats per minute, not {tempo!r}") from None
    if not 20 <= tempo <= 300:
        raise ValueError(f"tempo {tempo:g} is outside 20-300 bpm")
    if meter is not None:
        meter = str(meter).strip()
        check_meter(st, meter)
    if not isinstance(seed, int) or isinstance(seed, bool):
        try:
            seed = int(seed)
        except (TypeError, ValueError):
            raise ValueError(f"seed must be an integer, not {seed!r}") from None
    swing_v = st.default_swing if swing is None else _unit("swing", swing)
    humanize = _unit("humanize", humanize)
    intensity = _unit("intensity", intensity)
    try:
        repeat = int(repeat)
    except (TypeError, ValueError):
        raise ValueError(f"repeat must be a whole number, not {repeat!r}") from None
    if not 1 <= repeat <= 64:
        raise ValueError(f"repeat must be from 1 to 64, not {repeat}")
    programs = _per_track("instruments", instruments, lambda n, v: program_number(v))
    level = _per_track("levels", levels, _unit)
    dens = _per_track("density", density, _unit)

    is_song = hasattr(progression, "progression")
    prog = _progression(progression, meter, key, st)
    check_meter(st, prog.meter)
    key_obj = prog.key
    if key is not None:
        from workbench.keys import Key, parse_key

        key_obj = key if isinstance(key, Key) else parse_key(key)
    intro = arranger.check_intro(intro, is_song or bool(prog.sections))
    arc = arranger.check_arc(arc)
    if swing is None:
        swing_v = feel.swing_for_tempo(st.default_swing, tempo, st.default_tempo)

    take = arranger.layout(prog, repeat, intro, bool(ending), st.name, key_obj)
    events = _events(take)
    bpb = bar_beats(prog.meter)
    bars = take.bars
    phrase = st.phrase_bars if bars >= 2 * st.phrase_bars else 4
    plan = arranger.plan_bars(take, st.name, intensity, arc, names, phrase, bool(ending))
    ctx = Context(events, prog.meter, bars, swing_v, st.swing_unit, intensity, st, bool(ending),
                  plan)
    offset = bpb if count_in else 0.0
    ctx.density = 0.5 + (intensity - 0.5) * 0.6
    nc_spans = [(ev.start, ev.end) for ev in events if ev.nc]
    changes = {ev.start for ev in events}
    pushes = feel.offsets(st.name, tempo)
    feel_amount = min(1.0, humanize / feel.DEFAULT_HUMANIZE) if humanize else 0.0
    jit = feel.jitter(humanize, tempo)

    order = list(names)
    if arranger.ORCHESTRA[st.name].lock and "bass" in names:
        order = ["drums"] + [n for n in names if n != "drums"]  # the bass locks to the kick
    raws = {}
    for name in order:
        rng = random.Random(f"{seed}/{st.name}/{name}")
        ctx.start_part(dens.get(name), vary_at=1 if name == "drums" else 2,
                       one_bar=name == "bass" and st.name not in TWO_BAR_BASS)
        raw = PARTS[name].play(ctx, rng, st)
        if name == "drums" and ctx.kicks is None:
            ctx.kicks = {round(n[1], 3) for n in raw if n[0] == Drum.KICK}
        raws[name] = (raw, rng)

    out_tracks = {}
    for name in names:
        if name not in raws:
            continue
        raw, rng = raws[name]
        shift = offset
        lvl = level.get(name, 1.0)
        scales = [(0.75 + 0.5 * p.intensity) * lvl for p in plan]
        plays = [name in p.plays for p in plan]
        push = pushes[name]
        if isinstance(push, dict):
            push = {k: v * feel_amount for k, v in push.items()}
        else:
            push *= feel_amount
        notes = _finish(raw, shift, scales, plays, bpb, humanize, jit, push, rng, name, nc_spans,
                        changes, name == "drums", name in ("keys", "guitar"))
        if name == "drums" and count_in:  # the sticks count exactly on the beats
            notes = [Note(p, s, e, v) for p, s, e, v in drums.count_in(ctx)] + notes
        program = programs.get(name, st.program(name, DEFAULT_PROGRAMS[name]))
        if lvl == 0.0:
            notes = []
        out_tracks[name] = Track(name, program, CHANNELS[name], name == "drums", notes)

    length = bars * bpb + offset
    return Arrangement(
        tracks=out_tracks, chords=_shifted_chords(take, offset), tempo=tempo,
        meter=prog.meter, key=key_obj, style=st.name, seed=seed,
        bars=bars + (1 if count_in else 0), length_beats=length, progression=prog,
        swing=swing_v, count_in=bool(count_in), offset=offset + take.intro_bars * bpb,
        intro_bars=take.intro_bars, plan=plan)


def _finish(raw, shift, scales, plays, bpb, humanize, jit, push, rng, name, nc_spans, changes,
            is_drum, accents):
    """Who plays (the plan), dynamics per bar, feel (push and jitter), register guard, shift,
    no overlapping same-pitch notes.

    The one loop every note goes through, so it is written for speed: no per-note calls
    beyond building the Note.
    """
    lo, hi = REGISTERS.get(name, (0, 127))
    if is_drum:
        lo, hi = 0, 127
    vj = feel.VEL_SPREAD * humanize
    rand = rng.random
    sounding = {}
    notes = []
    append = notes.append
    raw.sort(key=_by_start)
    nbars = len(scales)
    # where the part next lays out, per bar (a held note stops there)
    stop_at = [0.0] * nbars
    nxt = float("inf")
    for b in range(nbars - 1, -1, -1):
        if not plays[b]:
            nxt = b * bpb
        stop_at[b] = nxt
    all_play = all(plays)
    push_of = push.get if is_drum else None
    eps = EPS
    inv_bpb = 1.0 / bpb
    last_bar = nbars - 1
    new_note = Note
    change_list = sorted(changes) + [float("inf")]
    j = 0  # change_list[j] is the first chord change after the note (raw is sorted)
    twice_jit = 2 * jit
    for p, s, e, v in raw:
        b = int((s + eps) * inv_bpb)
        if b > last_bar:
            b = last_bar
        if not all_play:
            if not plays[b]:
                continue
            if e > stop_at[b] + eps:
                e = stop_at[b]
        if p < lo or p > hi:
            while p < lo:
                p += 12
            while p > hi:
                p -= 12
        if accents:
            pos = s - b * bpb
            if pos < eps:
                v += 6
            elif abs(pos - (bpb - 0.5)) < eps:
                v += 4
        if humanize:
            while change_list[j] <= s + eps:
                j += 1
            r = rand()
            d = (push_of(p, 0.0) if is_drum else push) + (r - 0.5) * twice_jit
            if s < eps:
                d = 0.0  # the take starts exactly on beat 0
            elif d < 0:
                if j and change_list[j - 1] >= s - eps:
                    d = -d  # a change lands on or after its beat: the harmony is never early
                elif nc_spans and any(a - eps <= s + d < b2 - eps for a, b2 in nc_spans):
                    d = 0.0  # never early into a no-chord bar
            if d > 0 and s + d >= change_list[j] - eps:
                d = 0.0  # nor does a chord's note spill over into the next chord
            s += d
            if e - s < 0.05:
                e = s + 0.05
            # the velocity's own draw, derived from the same one (one call a note)
            v = int(v * scales[b] + ((r * 7919.0) % 1.0 - 0.5) * vj + 0.5)
        else:
            v = int(v * scales[b] + 0.5)
        if v < 1:
            v = 1
        elif v > 127:
            v = 127
        s += shift
        prev = sounding.get(p)
        if prev is not None and prev.end > s:
            if prev.start >= s - eps:
                continue  # the same pitch struck twice at once: keep the first
            prev.end = s
        n = new_note(p, s, e + shift, v)
        sounding[p] = n
        append(n)
    if humanize:
        notes.sort(key=_note_start)
    return notes


_by_start = itemgetter(1, 0)
_note_start = attrgetter("start")
