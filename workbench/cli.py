"""The command line: ``workbench generate "| C Am | F G |" --style pop --out DIR`` and
``workbench styles``. Errors in the input are one line on stderr and exit status 2."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbench.instruments import TRACKS


class _Formatter(argparse.HelpFormatter):
    """argparse asks ``shutil`` for the terminal width (1.5 ms of imports on every run); the
    width only matters for --help, so take it from $COLUMNS."""

    def __init__(self, prog):
        import os

        width = os.environ.get("COLUMNS", "")
        super().__init__(prog, width=int(width) - 2 if width.isdigit() else 98)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message):  # one line, exit 2, like every other input error here
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="workbench", description="AI Band Workbench: chord progression in, a band "
                "out as MIDI files.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    g = sub.add_parser("generate", help="play a progression as a band and write MIDI files")
    g.add_argument("progression", help='bar notation, e.g. "| C Am | F G |"')
    g.add_argument("--style", default="pop", help="a style (see `workbench styles`)")
    g.add_argument("--tempo", type=float, default=None, help="bpm (default: the style's)")
    g.add_argument("--meter", default=None, help="4/4, 3/4, 6/8, 2/4, 12/8")
    g.add_argument("--key", default=None, help="e.g. C, Am, 'Bb major' (default: detected)")
    g.add_argument("--tracks", default=",".join(TRACKS), help="comma-separated, default all")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--swing", type=float, default=None, help="0 straight .. 0.67 triplet .. 1")
    g.add_argument("--humanize", type=float, default=0.0, help="0 exact .. 1 loose")
    g.add_argument("--intensity", type=float, default=0.5, help="0 soft and sparse .. 1 busy")
    g.add_argument("--count-in", action="store_true", help="one bar of sticks first")
    g.add_argument("--loop", action="store_true",
                   help="no held final chord: keep the groove to the end, for looping")
    g.add_argument("--repeat", type=int, default=1, help="play the progression N times")
    g.add_argument("--program", action="append", default=[], metavar="TRACK=PROGRAM",
                   help="GM program for a track, number or name (repeatable)")
    g.add_argument("--level", action="append", default=[], metavar="TRACK=0..1",
                   help="velocity scale for a track (repeatable)")
    g.add_argument("--density", action="append", default=[], metavar="TRACK=0..1",
                   help="how busy a track plays (repeatable)")
    g.add_argument("--timestamp", default=None, help="YYYYMMDDHHMMSS (default: now)")
    g.add_argument("--out", default="generated_accompaniments", help="output folder")
    sub.add_parser("styles", help="list the styles")
    sub.add_parser("programs", help="list the General MIDI instruments (for --program)")
    return p


def _pairs(option, items, convert=str):
    out = {}
    for item in items:
        track, sep, value = item.partition("=")
        if not sep or not track.strip() or not value.strip():
            raise ValueError(f"{option} wants TRACK=VALUE, not {item!r}")
        try:
            out[track.strip()] = convert(value.strip())
        except ValueError:
            raise ValueError(f"{option} {item!r}: {value!r} is not a number") from None
    return out


def _program(value):
    return int(value) if value.isdigit() else value


def _generate(args) -> int:
    from workbench.band.generate import generate
    from workbench.band.styles import get_style

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {args.out!r} is a file, not a folder: give a folder for the "
                         f"MIDI files")
    tempo = args.tempo if args.tempo is not None else get_style(args.style).default_tempo
    arrangement = generate(
        args.progression, style=args.style, tracks=args.tracks, tempo=tempo, meter=args.meter,
        key=args.key, seed=args.seed, swing=args.swing, humanize=args.humanize,
        intensity=args.intensity, count_in=args.count_in, repeat=args.repeat,
        ending=not args.loop,
        instruments=_pairs("--program", args.program, _program) or None,
        levels=_pairs("--level", args.level, float) or None,
        density=_pairs("--density", args.density, float) or None)
    try:
        paths = arrangement.write(out, timestamp=args.timestamp)
    except OSError as exc:
        raise OSError(f"cannot write the MIDI files into --out {args.out!r}: "
                      f"{exc.strerror or exc}") from None
    for path in paths:
        print(path)
    return 0


def _styles() -> int:
    from workbench.band.styles import styles

    for s in styles():
        swing = f", {swing_text(s.default_swing)}" if s.default_swing else ""
        print(f"{s.name:8} {', '.join(s.meters):20} {s.default_tempo:3d} bpm{swing}: {s.description}")
    return 0


def swing_text(swing: float) -> str:
    """Swing as a musician reads it: the long:short ratio of a swung pair (0 straight 1:1,
    2/3 triplet 2:1, 1 dotted 3:1).

    >>> swing_text(2 / 3), swing_text(0.62), swing_text(0)
    ('swing 2:1 (triplet)', 'swing 1.9:1', 'straight')
    """
    if swing <= 0:
        return "straight"
    long = 0.5 + 0.25 * min(swing, 1.0)       # the long note's share of the pair
    ratio = long / (1 - long)
    label = f"{ratio:.1f}".rstrip("0").rstrip(".")
    return f"swing {label}:1" + (" (triplet)" if label == "2" else "")


def _programs() -> int:
    from workbench.instruments import GM_PROGRAMS

    for number, name in enumerate(GM_PROGRAMS):
        print(f"{number:3d} {name}")
    return 0


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "styles":
            return _styles()
        if args.command == "programs":
            return _programs()
        return _generate(args)
    except (ValueError, OSError) as exc:  # ChordError, ProgressionError are ValueErrors
        print(f"workbench: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
