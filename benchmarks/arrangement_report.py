"""Does the band play the song? Issue 9's figures for our engine and for MMA on the same changes.

    .venv/bin/python benchmarks/arrangement_report.py [--styles rock,swing] [--bars 16]
        [--seed 1] [--out report.md] [--json report.json]

For every style and every meter it plays (``workbench.styles()``), each example progression
(tests/engine/examples.txt and /work/shared/progressions/examples.txt; 4/4 ones are read again
in 2/4 and 12/8, which have none of their own) is played ``repeat`` times to 16-32 bars by
``workbench.generate`` with its defaults (all five tracks, the style's tempo), and by MMA (Debian
``mma``) with the groove the issue names, on the same chords at the same tempo. Both MIDI files
are read back with mido and measured by the same functions (``arrangement_metrics.py``); each
table row is the mean over that style-meter's takes.

The workbench is imported from ``sys.path``, so ``PYTHONPATH=/work/wt/arranger python
/work/wt/report/benchmarks/arrangement_report.py`` measures that worktree's engine.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from statistics import fmean
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the metrics, next to this file

import arrangement_metrics as m  # noqa: E402
import mido  # noqa: E402

import workbench  # noqa: E402
from workbench.band.endings import groove_bars  # noqa: E402

HERE = Path(__file__).resolve().parent
EXAMPLE_FILES = (HERE.parent / "tests" / "engine" / "examples.txt",
                 Path("/work/shared/progressions/examples.txt"))


class Groove(NamedTuple):
    """An MMA groove and how its bar maps onto ours: ``beats`` MMA beats a bar, each ``scale``
    of our quarter-note beats (MMA writes 6/8 as 4 beats of triplets: scale 3/4; a 4/4
    shuffle bar read as 12/8: scale 3/2)."""

    name: str
    beats: int = 4
    scale: float = 1.0


# The grooves; the meters it does not name (marked) use the nearest groove there is,
# over the same timeline (a 4/4 groove bar carries two 2/4 bars).
GROOVES = {
    "rock": Groove("8BeatSus"),
    "pop": Groove("Pop"),
    "ballad": Groove("BalladSus"),
    "funk": Groove("Funk1"),
    "swing": Groove("Swing1WalkSus"),
    "bossa": Groove("BossaNova1Sus"),
    "shuffle": Groove("ShuffleBoggieSus"),
    "waltz": Groove("WaltzSus", 3),
    "reggae": Groove("SkaSus"),
    "country": Groove("CountrySwingSus"),
}
GROOVES_BY_METER = {
    ("ballad", "6/8"): Groove("Ballad68Sus", 4, 0.75),
    ("ballad", "12/8"): Groove("Ballad68Sus", 4, 0.75),
    ("swing", "3/4"): Groove("JazzWaltzSus", 3),
    ("ballad", "3/4"): Groove("WaltzSus", 3),  # not named by the issue
    ("pop", "3/4"): Groove("WaltzSus", 3),  # not named by the issue
    ("pop", "6/8"): Groove("Ballad68Sus", 4, 0.75),  # not named by the issue
    ("shuffle", "12/8"): Groove("ShuffleBoggieSus", 4, 1.5),  # a swung 4/4 bar is a 12/8 bar
}


def groove_for(style: str, meter: str) -> Groove:
    return GROOVES_BY_METER.get((style, meter), GROOVES[style])


# -- the progressions --------------------------------------------------------------------------

class Example(NamedTuple):
    name: str
    meter: str
    key: str
    text: str


def read_examples(files=EXAMPLE_FILES) -> list[Example]:
    """The example progressions (``name | meter | key | text`` lines), each once."""
    out, seen = [], set()
    for f in files:
        if not f.exists():
            continue
        for line in f.read_text().splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            name, meter, key, text = (p.strip() for p in line.split("|", 3))
            ex = Example(name, meter, key, text)
            if (meter, text) not in seen:
                seen.add((meter, text))
                out.append(ex)
    return out


def examples_for(meter: str, examples) -> list[Example]:
    """The examples written in ``meter``; for 2/4 and 12/8, which have none, the 4/4 ones."""
    own = [e for e in examples if e.meter == meter]
    return own or [e for e in examples if e.meter == "4/4"]


# -- MIDI back to a Take -----------------------------------------------------------------------

class Part(NamedTuple):
    name: str
    channel: int
    program: int
    notes: list


def read_parts(data: bytes, scale: float = 1.0) -> list[Part]:
    """Every track of a MIDI file that plays notes: name, channel, program, notes in our beats."""
    mf = mido.MidiFile(file=io.BytesIO(data))
    tpb = mf.ticks_per_beat
    parts = []
    for track in mf.tracks:
        now, program, channel, name = 0, 0, None, track.name
        sounding, notes = {}, []
        for msg in track:
            now += msg.time
            if msg.type == "program_change":
                program = msg.program
            elif msg.type == "note_on" and msg.velocity > 0:
                channel = msg.channel
                sounding.setdefault((msg.channel, msg.note), []).append((now, msg.velocity))
            elif msg.type in ("note_off", "note_on"):
                started = sounding.get((msg.channel, msg.note))
                if started:
                    s, v = started.pop(0)
                    notes.append(m.N(msg.note, s * scale / tpb, now * scale / tpb, v))
        if notes:
            notes.sort(key=lambda n: (n.start, n.pitch))
            parts.append(Part(name, channel, program, notes))
    return parts


def is_guitar(p: Part) -> bool:
    return "guitar" in p.name.lower() or 24 <= p.program <= 31


def is_keys(p: Part) -> bool:
    return any(w in p.name.lower() for w in ("keys", "piano")) or 0 <= p.program <= 7


def make_take(parts, meter, bpb, tempo, bars, unit, chords, tonic=None) -> m.Take:
    """Roles by channel and name, as both programs name them: channel 10 is the drums; the bass
    is the track called bass (or MMA's Bass-n/Walk) with a bass program (GM 32-39), else the
    lowest such track; every other pitched track is a harmony part."""
    drums = [n for p in parts if p.channel == 9 for n in p.notes]
    pitched = [p for p in parts if p.channel != 9]
    named = [p for p in pitched if p.name.lower().startswith(("bass", "walk"))]
    bass = [p for p in named if 32 <= p.program <= 39]
    if not bass and named:
        bass = [min(named, key=lambda p: fmean(n.pitch for n in p.notes))]
    harmony = {p.name: p.notes for p in pitched if p not in bass}
    onsets = [n.start for p in parts for n in p.notes]
    compound = meter in ("6/8", "12/8")  # straight eighths: our engine ignores swing there
    unit, swing = (unit, 0.0) if compound else m.fit_grid(onsets, unit)
    return m.Take(meter, bpb, tempo, bars, unit, swing, tuple(chords),
                  sorted((n for p in bass for n in p.notes), key=lambda n: n.start), drums,
                  harmony, tuple(p.name for p in pitched if p not in bass and is_guitar(p)),
                  tuple(p.name for p in pitched if p not in bass and is_keys(p)), tonic)


def chord_span(start, duration, chord) -> m.Span:
    """One of our chords (workbench.chords.Chord) over a span of beats, as the metrics see it."""
    return m.span(start, start + duration, chord.root, chord.intervals, chord.bass, chord.symbol)


# -- MMA ---------------------------------------------------------------------------------------

# Our canonical qualities (workbench.chords) in MMA's spelling (MMA/chordtable.py); MMA's
# "dim" is a dim7, so our triad is its "mb5".
MMA_QUALITY = {
    "": "", "maj": "", "m": "m", "dim": "mb5", "aug": "aug", "sus2": "sus2", "sus4": "sus4", "5": "5",
    "6": "6", "m6": "m6", "6/9": "6(add9)", "m69": "m6(add9)", "7": "7", "maj7": "M7",
    "m7": "m7", "mMaj7": "mM7", "m7b5": "m7b5", "dim7": "dim7", "aug7": "aug7",
    "7sus4": "7sus", "9": "9", "maj9": "M9", "m9": "m9", "mMaj9": "mM7(add9)",
    "9sus4": "sus9", "11": "11", "m11": "m11", "13": "13", "maj13": "M13", "m13": "m13",
    "13sus4": "13sus", "7alt": "7alt", "add9": "add9", "madd9": "m(add9)",
}
_ROOT = re.compile(r"[A-G][b#]*")


def mma_chord(chord) -> str:
    """Our chord in MMA's spelling: ``Cmaj7/E`` -> ``CM7/E``, ``N.C.`` -> ``z``.

    >>> from workbench.chords import parse_chord
    >>> mma_chord(parse_chord("Bbmaj7/D")), mma_chord(parse_chord("Edim")), mma_chord(parse_chord("N.C."))
    ('BbM7/D', 'Emb5', 'z')
    """
    if chord.is_no_chord:
        return "z"
    text = chord.symbol.replace("♭", "b").replace("♯", "#")
    root = _ROOT.match(text).group(0)
    q = chord.quality
    if q in MMA_QUALITY:
        quality = MMA_QUALITY[q]
    else:  # base + alterations: MMA writes most the same way (7b9, 7#9, 9#11, ...)
        quality = re.sub(r"^maj", "M", re.sub(r"^mMaj", "mM", q))
    slash = ""
    if chord.bass != chord.root:
        slash = "/" + text[text.rindex("/") + 1:]
    return root + quality + slash


def mma_source(chords, groove: Groove, tempo: float, total_beats: float, seed: int = 1) -> str:
    """An MMA file playing ``chords`` (spans in our beats) with ``groove`` at our ``tempo``;
    ``RndSeed`` makes MMA's random timing and skips the same on every run."""
    bar = groove.beats * groove.scale
    lines = [f"RndSeed {seed}", f"Tempo {tempo / groove.scale:g}", f"Groove {groove.name}"]
    for k in range(math.ceil(total_beats / bar - 1e-6)):
        a = k * bar
        first = m.chord_at(chords, a)
        items = [first.mma if first else "z"]
        for c in chords:
            if a + 1e-6 < c.start < a + bar - 1e-6:
                items.append(f"{c.mma}@{(c.start - a) / groove.scale + 1:g}")
        lines.append(f"{k + 1} " + " ".join(items))
    return "\n".join(lines) + "\n"


class MmaSpan(NamedTuple):
    start: float
    end: float
    mma: str


CACHE = Path(tempfile.gettempdir()) / "arrangement_report_mma"


def run_mma(source: str, folder: Path, name: str, cache: bool = True) -> bytes:
    """MMA's MIDI file for ``source``. Seeded, MMA gives the same bytes for the same source, so
    they are kept in ``CACHE`` (keyed by the source and the mma program) for the next run."""
    exe = Path(shutil.which("mma") or "mma")
    key = hashlib.sha256(f"{exe.stat().st_mtime_ns}:{exe.stat().st_size}\n{source}".encode()).hexdigest()
    cached = CACHE / f"{key[:32]}.mid"
    if cache and cached.exists():
        return cached.read_bytes()
    src = folder / f"{name}.mma"
    out = folder / f"{name}.mid"
    src.write_text(source)
    res = subprocess.run([str(exe), "-f", str(out), str(src)], capture_output=True, text=True)
    if res.returncode or not out.exists():
        raise RuntimeError(f"mma failed on {src}:\n{res.stdout}\n{res.stderr}")
    data = out.read_bytes()
    if cache:
        CACHE.mkdir(exist_ok=True)
        part = cached.with_suffix(f".{os.getpid()}.part")
        part.write_bytes(data)
        os.replace(part, cached)  # atomic: a concurrent run reads a whole file or none
    return data


# -- one take, both ways -----------------------------------------------------------------------

class Job(NamedTuple):
    style: str
    meter: str
    example: str
    ours: m.Take
    mma_source: str
    mma_args: tuple  # (meter, bpb, tempo, bars, unit, chords) for the MMA take
    ending: m.Take | None = None  # our whole take, ending included (``ours`` is its groove)


def our_take(style, meter, ex: Example, bars_wanted: int, seed: int):
    """Our take of an example (None if the example cannot be read in this meter) and the job
    for MMA on the same chords."""
    prog = workbench.parse_progression(ex.text, meter=meter, key=None)
    repeat = max(1, math.ceil(bars_wanted / prog.bars))
    while repeat > 1 and prog.bars * repeat > 32:
        repeat -= 1
    arr = workbench.generate(prog, style=style.name, tempo=style.default_tempo, seed=seed,
                             repeat=repeat, key=ex.key)
    bpb = arr.beats_per_bar
    whole = make_take(read_parts(arr.to_midi_bytes()), arr.meter, bpb, arr.tempo,
                      arr.bars, style.swing_unit,
                      [chord_span(ev.start, ev.duration, ev.chord) for ev in arr.chords],
                      arr.key.tonic)
    ours = groove_of(whole, groove_bars(arr))
    # MMA plays the progression itself, repeated, from beat 0 (no count-in, no intro)
    length = prog.length_beats
    evs = [(ev.start + r * length, ev.duration, ev.chord) for r in range(repeat) for ev in prog.events]
    their_spans = [chord_span(*e) for e in evs]
    mma_spans = [MmaSpan(s.start, s.end, mma_chord(c)) for s, (_, _, c) in zip(their_spans, evs, strict=True)]
    groove = groove_for(style.name, meter)
    total = prog.bars * repeat * bpb
    src = mma_source(mma_spans, groove, arr.tempo, total, seed)
    return Job(style.name, meter, ex.name, ours, src,
               (arr.meter, bpb, arr.tempo, prog.bars * repeat, style.swing_unit, their_spans,
                arr.key.tonic), whole)


def groove_of(take: m.Take, bars: int) -> m.Take:
    """The take's groove: its first ``bars`` bars and one more standing for the ending (the
    figures leave a take's last bar out as its ending; MMA's takes have no other), so that
    our ending's kicks, tag and ritard (workbench.band.endings) are not read as groove."""
    if bars >= take.bars - 1:
        return take
    end = bars * take.bpb

    def cut(notes):
        return [n for n in notes if n.start < end - 1e-6]

    return take._replace(bars=bars + 1, chords=tuple(c for c in take.chords if c.start < end),
                         bass=cut(take.bass), drums=cut(take.drums),
                         harmony={k: cut(v) for k, v in take.harmony.items()})


# -- the figures -------------------------------------------------------------------------------

class Aim(NamedTuple):
    """What issue 9 asks of a figure, as I read it: ``sub`` (a column of a many-column figure,
    or None), ``op`` ("<=" or ">=") and ``target``, a number or "mma" (at least as good as MMA)."""

    sub: str | None
    op: str
    target: float | str

    def met(self, ours, mma) -> bool | None:
        v = ours.get(self.sub) if isinstance(ours, dict) else ours
        t = self.target
        if t == "mma":
            t = mma.get(self.sub) if isinstance(mma, dict) else mma
        if v is None or t is None:
            return None
        return v <= t + 1e-9 if self.op == "<=" else v >= t - 1e-9

    def __str__(self) -> str:
        return f"{self.sub + ' ' if self.sub else ''}{self.op} {self.target if self.target == 'mma' else _fmt(self.target)}"


class Figure(NamedTuple):
    key: str
    title: str
    measure: object  # Take -> float | dict | None
    styles: tuple = ()  # only these styles (empty: all)
    note: str = ""
    aim: Aim | None = None


FIGURES = (
    Figure("notes_per_bar", "Pitched notes per bar", m.notes_per_bar,
           note="Busyness of bass and harmony (no drums). Issue: rock 56, MMA 26."),
    Figure("crowded", "Slots where 3+ pitched parts strike together, per 8 eighths",
           m.crowded_strikes_per_8, note="Lower: parts complement each other. "
           "Issue: rock 6.1 (MMA 1.4), shuffle 6.8 (3.9).", aim=Aim(None, "<=", "mma")),
    Figure("bass_kick", "Kicks met by a bass onset (±40 ms), %", m.bass_kick_coincidence,
           ("funk", "reggae", "rock"), "Higher: kick and bass lock. Issue: funk 63 (MMA 98), "
           "reggae 84 (99).", Aim(None, ">=", 95)),
    Figure("rhythms", "Distinct rhythms per 8 bars", m.distinct_rhythms_per_8,
           note="1 is a loop, about 3 a figure varied at phrase ends, 8 a coin flip each bar. "
           "Issue: funk bass 7.9.", aim=Aim("bass", "<=", 3)),
    Figure("skeleton", "New kick/snare skeletons per 8 bars (repeating none of the bars 1, 2, 4 "
           "before)", m.skeleton_changes_per_8, note="0: a kept figure; 1: a fill every 8 bars; "
           "2: every 4. Issue (counted otherwise): 3.5-7.9. In swing the kick and snare comp "
           "(both bands score high there): read the drum rhythms instead.", aim=Aim(None, "<=", 2)),
    Figure("velocity", "4-bar average velocity: range and start-to-end arc", m.velocity_arc,
           note="Larger: the band builds. Issue: 1.3-4.4.", aim=Aim("arc", ">=", 5)),
    Figure("intro", "Notes per bar: first 4 bars, body, ratio", m.intro_density,
           note="Ratio < 1: the band starts lighter.", aim=Aim("ratio", "<=", 0.85)),
    Figure("crash", "Takes that open with a crash, %", m.opens_with_crash,
           note="Issue: every take opens with a crash."),
    Figure("tonic", "Takes whose bass ends on the key's tonic, %", m.ends_on_tonic,
           note="generate's default ending=True should resolve.", aim=Aim(None, ">=", 100)),
    Figure("timing", "Timing spread, RMS ms from the grid (swung sixteenths or triplets)",
           m.timing_by_part, note="0 is machine-tight. Issue: 1-2 ms at humanize 0.15 "
           "(MMA 3-17); `other` is pads, strings, organ, horns.", aim=Aim("drums", ">=", 3)),
    Figure("comping_sd", "Comping velocity spread (sd)", m.comping_velocity_sd,
           note="Issue: nearly constant, sd 2-3.", aim=Aim("keys", ">=", 5)),
    Figure("motion", "Voice motion per chord change, semitones per voice",
           lambda t: {"guitar": m.motion_per_change(t, t.guitar),
                      "keys": m.motion_per_change(t, t.keys)},
           note="Lower: voices move by step. Issue: guitar 4-5, piano 1.0, MMA guitar 1.1-2.5.",
           aim=Aim("guitar", "<=", 2)),
    Figure("clashes", "Minor 2nd/9th clashes between harmony parts per bar (a non-chord tone)",
           m.clashes_per_bar, note="Issue: 0.6-1.2, MMA about 0.2.", aim=Aim(None, "<=", 0.2)),
    Figure("below_e3", "Harmony notes below E3 (MIDI 52), %", m.below_e3, ("swing",),
           "Lower: out of the walking bass's octave. Issue: 22.", Aim(None, "<=", 5)),
    Figure("leaps", "Walking-bass arrivals at a change approached by a leap of a tritone or more, %",
           m.walking_leap_rate, ("swing",), "Issue: 32.", Aim(None, "<=", 10)),
    Figure("bass_changes", "Bass on the chord's bass at changes, %", m.bass_on_changes,
           note="Must stay >= 98.", aim=Aim(None, ">=", 98)),
    Figure("strong_beats", "Chord tones or usual tensions on strong beats, %", m.strong_beat_tones,
           note="Must stay >= 95.", aim=Aim(None, ">=", 95)),
)


def measure(take: m.Take, figures) -> dict:
    return {f.key: f.measure(take) for f in figures}


def _mean(values):
    """Mean of numbers or of dicts of numbers (per key), ignoring None."""
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    if isinstance(vals[0], dict):
        keys = dict.fromkeys(k for v in vals for k in v)
        return {k: _mean([v.get(k) for v in vals]) for k in keys}
    return fmean(vals)


# -- tables ------------------------------------------------------------------------------------

def _fmt(v) -> str:
    if v is None:
        return "—"
    return f"{v:.2f}" if abs(v) < 10 else f"{v:.1f}" if abs(v) < 100 else f"{v:.0f}"


def table(fig: Figure, rows: dict) -> str:
    """One markdown table: a row per style and meter, ours beside MMA for each sub-figure."""
    rows = {r: v for r, v in rows.items() if not fig.styles or r[0] in fig.styles}
    subs = []
    for v in rows.values():
        for side in ("ours", "mma"):
            x = v[side].get(fig.key)
            if isinstance(x, dict):
                subs += [k for k in x if k not in subs]
    cols = [(s, side) for s in (subs or [None]) for side in ("ours", "mma")]
    head = " | ".join(f"{'ours' if side == 'ours' else 'MMA'}{' ' + s if s else ''}"
                      for s, side in cols)
    lines = [f"**{fig.title}.** {fig.note}".rstrip(), "",
             f"| style | meter | MMA groove | {head} |",
             "|---|---|---|" + "---:|" * len(cols)]
    for (style, meter), v in rows.items():
        cells = []
        for s, side in cols:
            x = v[side].get(fig.key)
            cells.append(_fmt(x.get(s) if isinstance(x, dict) else x))
        lines.append(f"| {style} | {meter} | {v['groove']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# -- main --------------------------------------------------------------------------------------

def build_jobs(styles, bars, seed, examples):
    jobs, skipped = [], []
    for st in styles:
        for meter in st.meters:
            for ex in examples_for(meter, examples):
                try:
                    jobs.append(our_take(st, meter, ex, bars, seed))
                except ValueError as exc:  # e.g. "C:3" cannot be read in a 2/4 bar
                    skipped.append((st.name, meter, ex.name, str(exc).splitlines()[0]))
    return jobs, skipped


def report(styles, bars=16, seed=1, examples=None, cache=True):
    """Measure every take; returns (rows, info) with rows[(style, meter)] = {ours, mma, ...}."""
    if shutil.which("mma") is None:
        sys.exit("mma is not installed (Debian: apt-get install mma)")
    t0 = time.perf_counter()
    examples = read_examples() if examples is None else examples
    jobs, skipped = build_jobs(styles, bars, seed, examples)
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        mids = list(pool.map(lambda ij: run_mma(ij[1].mma_source, Path(tmp), str(ij[0]), cache),
                             enumerate(jobs)))
    t2 = time.perf_counter()
    per_row: dict = {}
    for job, mid in zip(jobs, mids, strict=True):
        groove = groove_for(job.style, job.meter)
        theirs = make_take(read_parts(mid, groove.scale), *job.mma_args)
        row = per_row.setdefault((job.style, job.meter), {"ours": [], "mma": [], "groove": groove.name,
                                                          "takes": 0, "bars": [], "swing": []})
        row["ours"].append(measure(job.ours, FIGURES))
        if job.ending is not None:  # how the take ends is read on the whole take
            row["ours"][-1]["tonic"] = m.ends_on_tonic(job.ending)
        row["mma"].append(measure(theirs, FIGURES))
        row["takes"] += 1
        row["bars"].append(job.ours.bars)
        row["swing"].append(((job.ours.unit, job.ours.swing), (theirs.unit, theirs.swing)))
    rows = {}
    for key, row in per_row.items():
        rows[key] = {
            "groove": row["groove"], "takes": row["takes"],
            "bars": f"{min(row['bars'])}-{max(row['bars'])}",
            "grid": {"ours": sorted(set(s for s, _ in row["swing"])),
                     "mma": sorted(set(s for _, s in row["swing"]))},
            "ours": {f.key: _mean([x[f.key] for x in row["ours"]]) for f in FIGURES},
            "mma": {f.key: _mean([x[f.key] for x in row["mma"]]) for f in FIGURES},
        }
    t3 = time.perf_counter()
    info = {"takes": len(jobs), "skipped": skipped, "seconds": {
        "generate": round(t1 - t0, 2), "mma": round(t2 - t1, 2), "measure": round(t3 - t2, 2)}}
    return rows, info


def scorecard(rows) -> str:
    """Per figure with an aim: in how many style-meter rows ours meets it, and MMA."""
    lines = ["**Scorecard: rows meeting the aim** (aims are my reading of issue 9; "
             "`mma` means at least as good as MMA on the same row).", "",
             "| figure | aim | ours | MMA | ours misses |", "|---|---|---:|---:|---|"]
    for f in FIGURES:
        if f.aim is None:
            continue
        sel = {k: v for k, v in rows.items() if not f.styles or k[0] in f.styles}
        ours = {k: f.aim.met(v["ours"][f.key], v["mma"][f.key]) for k, v in sel.items()}
        theirs = {k: f.aim.met(v["mma"][f.key], v["mma"][f.key]) if f.aim.target != "mma" else None
                  for k, v in sel.items()}
        n = sum(x is not None for x in ours.values())
        misses = ", ".join(f"{s} {mt}" for (s, mt), x in ours.items() if x is False)
        mma_n = sum(x is not None for x in theirs.values())
        mma = f"{sum(bool(x) for x in theirs.values())}/{mma_n}" if mma_n else "—"
        lines.append(f"| {f.title} | {f.aim} | {sum(bool(x) for x in ours.values())}/{n} | "
                     f"{mma} | {misses or '—'} |")
    return "\n".join(lines) + "\n"


# The summary table's columns: (figure, sub-figure or None, header)
SUMMARY = (
    ("notes_per_bar", None, "notes/bar"), ("crowded", None, "3+ strikes/8"),
    ("bass_kick", None, "kick met %"), ("rhythms", "bass", "bass rhythms/8"),
    ("skeleton", None, "new skeletons/8"), ("velocity", "arc", "vel. arc"),
    ("intro", "ratio", "first 4/body"), ("timing", "drums", "drums ms"),
    ("motion", "guitar", "guitar motion"), ("clashes", None, "clashes/bar"),
    ("bass_changes", None, "bass@change %"), ("strong_beats", None, "strong-beat tones %"),
)


def summary(rows) -> str:
    """One table: a row per style and meter, ``ours / MMA`` in each cell, the main figures."""
    lines = ["| style | meter | " + " | ".join(h for _, _, h in SUMMARY) + " |",
             "|---|---|" + "---:|" * len(SUMMARY)]
    for (style, meter), v in rows.items():
        cells = []
        for key, sub, _ in SUMMARY:
            pair = [v[side][key] for side in ("ours", "mma")]
            pair = [x.get(sub) if isinstance(x, dict) else x for x in pair]
            cells.append("—" if pair == [None, None] else f"{_fmt(pair[0])} / {_fmt(pair[1])}")
        lines.append(f"| {style} | {meter} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def markdown(rows, info, args_text, brief=False) -> str:
    out = [f"`{args_text}`: {info['takes']} takes of 16-32 bars (each example repeated), mean per "
           f"style and meter; ours = `generate` defaults at the style's tempo, MMA 21.09 with the "
           f"groove named. Timings: {info['seconds']}.", ""]
    out.append(scorecard(rows))
    out.append("**Summary** (ours / MMA; the figures' tables below say what each measures).\n")
    out.append(summary(rows))
    if not brief:
        out += [table(f, rows) for f in FIGURES]
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--styles", help="comma-separated styles (default: all)")
    ap.add_argument("--bars", type=int, default=16, help="play each example to at least this many bars (max 32)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", help="also write the markdown tables to this file")
    ap.add_argument("--json", help="write the figures as JSON to this file")
    ap.add_argument("--summary", action="store_true",
                    help="print only the scorecard and the summary table, not every figure's table")
    ap.add_argument("--no-cache", action="store_true", help=f"run MMA afresh (not from {CACHE})")
    args = ap.parse_args(argv)
    styles = workbench.styles()
    if args.styles:
        wanted = [s.strip().lower() for s in args.styles.split(",") if s.strip()]
        unknown = [w for w in wanted if w not in {s.name for s in styles}]
        if unknown:
            ap.error(f"unknown style(s) {', '.join(unknown)}; styles: {', '.join(s.name for s in styles)}")
        styles = [s for s in styles if s.name in wanted]
    rows, info = report(styles, args.bars, args.seed, cache=not args.no_cache)
    cmd = "python benchmarks/arrangement_report.py" + "".join(
        f" {a}" for a in (argv if argv is not None else sys.argv[1:]))
    text = markdown(rows, info, cmd)
    print(markdown(rows, info, cmd, brief=True) if args.summary else text)
    if args.out:
        Path(args.out).write_text(text)
    if args.json:
        data = {f"{s} {mt}": v for (s, mt), v in rows.items()}
        Path(args.json).write_text(json.dumps({"rows": data, "info": info}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
