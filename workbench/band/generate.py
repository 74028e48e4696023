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
from workbench.band import arranger, bass, drums, endings, feel, guitar, keys, pad
from workbench.band.common import EPS, Context, Event, bar_beats
from workbench.band.feel import DEFAULT_HUMANIZE
from workbench.band.styles import check_meter, get_style
from workbench.errors import WorkbenchError
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


#: The engine's limits: the one place they live (the service and the UI report them).
TEMPO_RANGE = (20, 300)
REPEAT_RANGE = (1, 64)
SEED_RANGE = (0, 2**63 - 1)


def _unit(name, value, lo=0.0, hi=1.0, field=None):
    """``value`` as a float in lo..hi; a WorkbenchError on ``field`` (default ``name``) else."""
    field = field or name
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise WorkbenchError(f"{name} must be a number from {lo:g} to {hi:g}, not {value!r}",
                             field=field, value=value, valid=(lo, hi))
    try:
        v = float(value)
    except ValueError:
        raise WorkbenchError(f"{name} must be a number from {lo:g} to {hi:g}, not {value!r}",
                             field=field, value=value, valid=(lo, hi)) from None
    if not lo <= v <= hi:  # NaN fails this too
        raise WorkbenchError(f"{name} must be from {lo:g} to {hi:g}, not {value!r}",
                             field=field, value=value, valid=(lo, hi))
    return v


def _whole(name, value, lo, hi):
    """``value`` as an int in lo..hi (1.0 and "3" are fine; 1.5, True and "x" are not)."""
    n = None
    if isinstance(value, int) and not isinstance(value, bool):
        n = value
    elif isinstance(value, float) and value.is_integer():
        n = int(value)
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 40:
        n = int(value)
    if n is None:
        raise WorkbenchError(f"{name} must be a whole number, not {value!r}", field=name,
                             value=value, valid=(lo, hi))
    if not lo <= n <= hi:
        raise WorkbenchError(f"{name} must be from {lo} to {hi}, not {n}", field=name,
                             value=value, valid=(lo, hi))
    return n


def _flag(name, value) -> bool:
    """True or False (1 and 0 too); never the truthiness of a text such as "no"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise WorkbenchError(f"{name} must be true or false, not {value!r}", field=name,
                         value=value, valid=(True, False))


def _tracks(tracks):
    if tracks is None:
        return list(TRACKS)
    if isinstance(tracks, str):
        tracks = [t for t in tracks.replace(" ", "").split(",") if t]
    if not isinstance(tracks, list | tuple):
        raise WorkbenchError(f"tracks must be a list of track names, not {tracks!r}",
                             field="tracks", value=tracks, valid=TRACKS)
    out = []
    for t in tracks:
        name = t.strip().lower() if isinstance(t, str) else None
        if name not in TRACKS:
            raise WorkbenchError(f"unknown track {t!r}; tracks: {', '.join(TRACKS)}",
                                 field="tracks", value=t, valid=TRACKS)
        if name not in out:
            out.append(name)
    if not out:
        raise WorkbenchError(f"no tracks chosen: switch on at least one of {', '.join(TRACKS)}",
                             field="tracks", value=list(tracks), valid=TRACKS)
    return [t for t in TRACKS if t in out]


def _per_track(name, mapping, convert):
    """``{track: value}`` checked by ``convert(label, value)``; errors are on field ``name``."""
    if not mapping:
        return {}
    if not isinstance(mapping, Mapping):
        raise WorkbenchError(f"{name} maps tracks to values, e.g. {{'bass': ...}}, not {mapping!r}",
                             field=name, value=mapping)
    out = {}
    for track, value in mapping.items():
        if track not in TRACKS:
            raise WorkbenchError(f"{name}: unknown track {track!r}; tracks: {', '.join(TRACKS)}",
                                 field=name, value=track, valid=TRACKS)
        try:
            out[track] = convert(f"{name}[{track!r}]", value)
        except WorkbenchError as exc:
            text = str(exc)
            raise WorkbenchError(text if text.startswith(name) else f"{name}[{track!r}]: {text}",
                                 field=name, value=value, valid=exc.valid) from None
    return out


def _key(key):
    from workbench.keys import Key, parse_key

    if key is None or isinstance(key, Key):
        return key
    try:
        return parse_key(key)
    except ValueError as exc:
        raise WorkbenchError(str(exc), field="key", value=key) from None


def _song_inputs(song, style, tempo, meter, repeat, choruses):
    """A Song plays its form ``choruses`` times (``repeat`` if None); the style, meter and tempo
    not given come from the song (its tempo, else the style's usual one). For a progression,
    ``choruses`` is another name for ``repeat``."""
    from workbench.song.model import Song

    times = repeat if choruses is None else choruses
    times = _whole("repeat" if choruses is None else "choruses", times, *REPEAT_RANGE)
    if not isinstance(song, Song):
        return song, style or "pop", 120 if tempo is None else tempo, times
    if meter is not None and str(meter).strip() != song.meter:
        raise song.error(f"the song is in {song.meter}; it cannot be played in {meter}",
                         token=str(meter))
    style = style or song.workbench_style
    if tempo is None:
        tempo = song.tempo or get_style(style).default_tempo
    return song.progression(times), style, tempo, 1


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


def generate(progression, style=None, tracks=None, tempo=None, meter=None, key=None, seed=0,
             swing=None, humanize=DEFAULT_HUMANIZE, intensity=0.5, instruments=None, levels=None,
             density=None, count_in=False, repeat=1, ending=True, choruses=None, intro=None,
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

    ``progression`` may be a :class:`~workbench.song.Song`: the band plays its form in playing
    order ``choruses`` times (default ``repeat``), and ``style``/``meter``/``key``/``tempo``
    left None come from the song. Otherwise ``style`` None is pop and ``tempo`` None 120 bpm.
    """
    progression, style, tempo, repeat = _song_inputs(progression, style, tempo, meter, repeat,
                                                      choruses)
    st = get_style(style)
    names = _tracks(tracks)
    tempo = _unit("tempo", tempo, *TEMPO_RANGE)
    if meter is not None:
        meter = str(meter).strip()
        check_meter(st, meter)
    seed = _whole("seed", seed, *SEED_RANGE)
    swing_v = st.default_swing if swing is None else _unit("swing", swing)
    humanize = _unit("humanize", humanize)
    intensity = _unit("intensity", intensity)
    count_in = _flag("count_in", count_in)
    ending = _flag("ending", ending)
    programs = _per_track("instruments", instruments, lambda n, v: program_number(v))
    level = _per_track("levels", levels, _unit)
    dens = _per_track("density", density, _unit)
    key = _key(key)

    prog = _progression(progression, meter, key, st)
    check_meter(st, prog.meter)
    key_obj = prog.key if key is None else key
    intro = arranger.check_intro(intro, bool(prog.sections))  # a Song's progression has them
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
    endings.prepare(ctx, take.kick_bars, key_obj)  # the ending's kicks, in the style
    offset = bpb if count_in else 0.0
    ritard = endings.ritard(st.name, bars, bpb, offset, bool(ending))
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
                       one_bar=name == "bass" and st.name not in TWO_BAR_BASS,
                       steady=name == "bass")
        raw = PARTS[name].play(ctx, rng, st)
        if name == "drums" and ctx.kicks is None:
            ctx.kicks = {round(n[1], 3) for n in raw if n[0] == Drum.KICK}
        if name == "keys" and level.get(name, 1.0) == 0.0:
            ctx.voicings = {}  # a silenced piano leaves the guitar its guide tones
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
        if ritard:
            ritard.notes(notes)  # written into the notes' places: see endings.Ritard
        if lvl == 0.0:
            notes = []
        out_tracks[name] = Track(name, program, CHANNELS[name], name == "drums", notes)

    length = bars * bpb + offset
    chords = _shifted_chords(take, offset)
    return Arrangement(
        tracks=out_tracks, chords=ritard.chords(chords) if ritard else chords, tempo=tempo,
        meter=prog.meter, key=key_obj, style=st.name, seed=seed,
        bars=bars + (1 if count_in else 0), length_beats=length, progression=prog,
        swing=swing_v, count_in=bool(count_in), offset=offset + take.intro_bars * bpb,
        intro_bars=take.intro_bars, plan=plan)


def _finish(raw, shift, scales, plays, bpb, humanize, jit, push, rng, name, nc_spans, changes,
            is_drum, accents):
    """Who plays (the plan), dynamics per bar, feel (push and jitter), register guard, shift,
    no overlapping same-pitch notes.

    The one loop every note goes through, so it is written for speed: what depends only on the
    note's bar or chord (dynamics, who plays, where the harmony changes) is looked up once per
    stretch of notes rather than per note, and no call is made per note beyond building the
    Note and one random draw.
    """
    lo, hi = (0, 127) if is_drum else REGISTERS.get(name, (0, 127))
    raw.sort(key=_by_start)
    last_bar = len(scales) - 1
    stop_at = _stops(plays, bpb)
    # each pitch's push (the drums' is per drum: the ride ahead, the backbeat behind)
    pushes = [push.get(k, 0.0) for k in range(128)] if is_drum else [push] * 128
    change_list = sorted(changes) + [_INF]
    vj = feel.VEL_SPREAD * humanize
    twice_jit = 2 * jit
    rand = rng.random
    eps = EPS
    inv_bpb = 1.0 / bpb
    anticipation = bpb - 0.5
    sounding = [None] * 128  # the last note of each pitch (within 0..127 once in register)
    notes = []
    append = notes.append
    new_note = Note
    # A note's bar b and chord (change_list[j], the first change after it) are worked out with
    # the per-note arithmetic, but only when a note reaches seg_end: a bound a hair (2 eps)
    # below the next bar line or chord change, before which neither can change (raw is sorted
    # by time, and 2 eps is far above the rounding of these sums).
    seg_end = -_INF
    b = j = 0
    for p, s, e, v in raw:
        if s >= seg_end:
            b = int((s + eps) * inv_bpb)
            if b > last_bar:
                b = last_bar
            while change_list[j] <= s + eps:
                j += 1
            playing, stop, scale, bar_start = plays[b], stop_at[b], scales[b], b * bpb
            cut = stop + eps
            prev_change = change_list[j - 1] if j else -_INF
            spill = change_list[j] - eps
            seg_end = min((b + 1) * bpb if b < last_bar else _INF, change_list[j]) - 2 * eps
        if not playing:
            continue
        if e > cut:
            e = stop  # a held note stops where the part lays out
        if p < lo or p > hi:
            while p < lo:
                p += 12
            while p > hi:
                p -= 12
        if accents:
            pos = s - bar_start
            if pos < eps:
                v += 6
            elif -eps < pos - anticipation < eps:
                v += 4
        if humanize:
            r = rand()
            d = pushes[p] + (r - 0.5) * twice_jit
            if s < eps:
                d = 0.0  # the take starts exactly on beat 0
            elif d < 0:
                if prev_change >= s - eps:
                    d = -d  # a change lands on or after its beat: the harmony is never early
                elif nc_spans and any(a - eps <= s + d < b2 - eps for a, b2 in nc_spans):
                    d = 0.0  # never early into a no-chord bar
            if d > 0 and s + d >= spill:
                d = 0.0  # nor does a chord's note spill over into the next chord
            s += d
            if e - s < 0.05:
                e = s + 0.05
            # the velocity's own draw, derived from the same one (one call a note)
            v = int(v * scale + ((r * 7919.0) % 1.0 - 0.5) * vj + 0.5)
        else:
            v = int(v * scale + 0.5)
        if v < 1:
            v = 1
        elif v > 127:
            v = 127
        if shift:  # a count-in (adding 0.0 changes nothing, but costs)
            s += shift
            e += shift
        prev = sounding[p]
        if prev is not None and prev.end > s:
            if prev.start >= s - eps:
                continue  # the same pitch struck twice at once: keep the first
            prev.end = s
        n = new_note(p, s, e, v)
        sounding[p] = n
        append(n)
    if humanize:
        notes.sort(key=_note_start)
    return notes


def _stops(plays, bpb):
    """Per bar, the beat where the part next lays out (infinity if it plays on to the end)."""
    stop_at = [0.0] * len(plays)
    nxt = _INF
    for b in range(len(plays) - 1, -1, -1):
        if not plays[b]:
            nxt = b * bpb
        stop_at[b] = nxt
    return stop_at


_INF = float("inf")
_by_start = itemgetter(1, 0)
_note_start = attrgetter("start")
