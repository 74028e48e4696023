"""Does the arc show in the sound? RMS loudness (dBFS) per bar and per 4 bars of a rendered take.

    .venv/bin/python benchmarks/loudness_over_form.py [--style rock] [--example doo-wop | --text
        "| C | Am | F | G |"] [--bars 32] [--seed 1] [--kw arc='"build"'] [--mma] [--png FILE]
        [--tail 3]

The take is generated with ``generate``'s defaults (plus any ``--kw name=value``, the value read
as JSON, e.g. ``--kw intensity=0.8``), rendered the way the app does (``workbench.audio.render``:
FluidSynth with the GM soundfont, peak-normalised to -1 dBFS), and its loudness printed bar by
bar with an ASCII bar, then per 4 bars; ``--mma`` renders MMA's take of the same changes with
the FluidSynth command line and the same soundfont, beside it. A band that builds gets louder
over the form; a loop stays within a dB or two.

Like arrangement_report.py, it imports the workbench from ``sys.path`` (``PYTHONPATH=<worktree>``).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import arrangement_report as report  # noqa: E402

import workbench  # noqa: E402
from workbench import audio  # noqa: E402

FLOOR_DB = -60.0


def rms_db(samples: np.ndarray) -> float:
    """RMS level of a stretch of float samples (-1..1, any channels) in dBFS (sine peak 1 = -3)."""
    if samples.size == 0:
        return FLOOR_DB
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return max(FLOOR_DB, 20.0 * math.log10(rms)) if rms > 0 else FLOOR_DB


def per_bar(samples: np.ndarray, rate: int, bar_seconds: float, bars: int, group: int = 1) -> list:
    """dBFS of each ``group`` bars of the take (the render's ringing tail left out)."""
    out = []
    for b in range(0, bars, group):
        a = int(round(b * bar_seconds * rate))
        e = int(round(min(b + group, bars) * bar_seconds * rate))
        out.append(rms_db(samples[a:e]))
    return out


def ascii_rows(levels, label: str, lo: float, hi: float, width: int = 40) -> list[str]:
    """One line per level: the label, the dB value and a bar from ``lo`` to ``hi`` dB."""
    span = max(hi - lo, 1e-6)
    return [f"{label} {i + 1:3d} {v:6.1f} dB " + "#" * max(0, round(width * (v - lo) / span))
            for i, v in enumerate(levels)]


def render_mma(job, groove, sample_rate: int, folder: Path) -> np.ndarray:
    """MMA's take of the job's changes, rendered by the FluidSynth command line with the same
    soundfont, peak-normalised like ours."""
    mid = report.run_mma(job.mma_source, folder, "mma")
    (folder / "mma.mid").write_bytes(mid)
    wav = folder / "mma.wav"
    sf = audio.find_soundfont()
    subprocess.run(["fluidsynth", "-ni", "-q", "-g", "0.45", "-r", str(sample_rate), "-F", str(wav),
                    str(sf), str(folder / "mma.mid")], check=True, capture_output=True)
    with wave.open(str(wav)) as w:
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32)
        data = data.reshape(-1, w.getnchannels()) / 32768.0
    peak = float(np.abs(data).max()) if data.size else 0.0
    return data * (0.89 / peak) if peak > 1e-4 else data


def print_tail(arr, samples: np.ndarray, rate: int, bars: int) -> None:
    """RMS per half beat over the take's last ``bars`` bars, one line a bar: the ending's kicks
    (loud hits, quiet gaps), a tag, a ritard (the final chord late), the button or the held
    chord dying away."""
    bpb = arr.beats_per_bar
    first = max(0, arr.bars - bars)
    spb = arr.seconds(1.0)
    print(f"\nours: the last {bars} bars, RMS dB per half beat (the final chord at beat "
          f"{arr.chords[-1].start - (arr.bars - 1) * bpb:.2f} of the last bar)")
    for b in range(first, arr.bars):
        row = []
        t = b * bpb
        while t < (b + 1) * bpb - 1e-9:
            a, e = int(round(t * spb * rate)), int(round((t + 0.5) * spb * rate))
            row.append(f"{rms_db(samples[a:e]):6.1f}")
            t += 0.5
        print(f"bar {b + 1:3d} " + "".join(row))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--style", default="rock")
    ap.add_argument("--meter", help="default: the style's first meter")
    ap.add_argument("--example", default="doo-wop", help="a name from the examples file")
    ap.add_argument("--text", help="a progression in bar notation (instead of --example)")
    ap.add_argument("--bars", type=int, default=32, help="repeat the progression to this many bars")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--kw", action="append", default=[], metavar="NAME=JSON",
                    help="more generate() arguments, e.g. --kw intensity=0.8 --kw 'arc=\"build\"'")
    ap.add_argument("--mma", action="store_true", help="also render MMA's take of the same changes")
    ap.add_argument("--png", help="also plot the per-bar levels to this PNG (matplotlib)")
    ap.add_argument("--tail", type=int, default=0, metavar="BARS",
                    help="also print our last BARS bars half a beat at a time (the ending)")
    args = ap.parse_args(argv)

    style = next((s for s in workbench.styles() if s.name == args.style.lower()), None)
    if style is None:
        ap.error(f"unknown style {args.style!r}; styles: {', '.join(s.name for s in workbench.styles())}")
    meter = args.meter or style.meters[0]
    if args.text:
        ex = report.Example("text", meter, "", args.text)
    else:
        found = [e for e in report.read_examples() if e.name == args.example]
        if not found:
            ap.error(f"no example {args.example!r}; examples: "
                     f"{', '.join(e.name for e in report.read_examples())}")
        ex = found[0]
    extra = {}
    for item in args.kw:
        name, _, value = item.partition("=")
        try:
            extra[name.strip()] = json.loads(value)
        except json.JSONDecodeError:
            extra[name.strip()] = value
    if audio.find_soundfont() is None or not audio.fluidsynth_available():
        sys.exit("FluidSynth or the GM soundfont is missing (Debian: fluidsynth fluid-soundfont-gm)")

    prog = workbench.parse_progression(ex.text, meter=meter)
    repeat = max(1, math.ceil(args.bars / prog.bars))
    arr = workbench.generate(prog, style=style.name, tempo=style.default_tempo, seed=args.seed,
                             repeat=repeat, key=ex.key or None, **extra)
    rendered = audio.render(arr, engine="fluidsynth")
    bar_s = arr.seconds(arr.beats_per_bar)
    series = {"ours": (rendered.samples, rendered.sample_rate)}
    if args.mma:
        if shutil.which("mma") is None:
            sys.exit("mma is not installed (Debian: apt-get install mma)")
        job = report.our_take(style, meter, ex._replace(meter=meter), args.bars, args.seed)
        with tempfile.TemporaryDirectory() as tmp:
            series["MMA"] = (render_mma(job, report.groove_for(style.name, meter),
                                        rendered.sample_rate, Path(tmp)), rendered.sample_rate)

    print(f"{style.name} {arr.meter} {arr.tempo:g} bpm, {ex.name} x{repeat} = {arr.bars} bars, "
          f"seed {args.seed}{', ' + str(extra) if extra else ''}; FluidSynth "
          f"({Path(rendered.soundfont).name}), peak -1 dBFS, RMS per bar")
    levels = {}
    for name, (samples, rate) in series.items():
        bars = arr.bars if name == "ours" else prog.bars * repeat
        levels[name] = (per_bar(samples, rate, bar_s, bars), per_bar(samples, rate, bar_s, bars, 4))
    every = [v for one, _ in levels.values() for v in one if v > FLOOR_DB]
    hi = max(every) if every else 0.0
    lo = hi - 12.0  # a fixed 12 dB window: a loop looks flat, a build climbs (3 marks a dB)
    for name, (one, four) in levels.items():
        print(f"\n{name}: per bar ({lo:.0f} to {hi:.0f} dB)")
        print("\n".join(ascii_rows(one, "bar", lo, hi)))
        print(f"{name}: per 4 bars")
        print("\n".join(ascii_rows(four, "4 bars", lo, hi)))
        body = [v for v in four if v > FLOOR_DB]
        if len(body) >= 2:
            print(f"{name}: first 4 bars {body[0]:.1f} dB, loudest 4 {max(body):.1f} dB, "
                  f"last 4 {body[-1]:.1f} dB, range {max(body) - min(body):.1f} dB")
    if args.tail:
        print_tail(arr, *series["ours"], args.tail)
    if args.png:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(8, 3))
        for name, (one, _) in levels.items():
            ax.step(range(1, len(one) + 1), one, where="mid", label=name)
        ax.set(xlabel="bar", ylabel="RMS dBFS", title=f"{style.name} {arr.meter}: loudness over the form")
        ax.legend()
        fig.tight_layout()
        fig.savefig(args.png, dpi=100)
        print(f"\nplot: {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
