"""The command line: ``workbench generate "| C Am | F G |" --style pop --out DIR``,
``workbench generate --song FILE_OR_LINK [--index N] --choruses 3``, ``workbench songs
FILE_OR_LINK`` and ``workbench styles``. Errors in the input are one line on stderr and exit
status 2."""

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
    g.add_argument("progression", nargs="?", help='bar notation, e.g. "| C Am | F G |"')
    g.add_argument("--song", default=None, metavar="FILE_OR_LINK",
                   help="a song instead: an iReal Pro link or playlist (or a file holding one), "
                        "a MusicXML file (.musicxml, .xml, .mxl) or a text file in bar notation")
    g.add_argument("--index", type=int, default=None,
                   help="which song of a playlist (0-based, as `workbench songs` lists them)")
    g.add_argument("--choruses", type=int, default=None,
                   help="play the song's form N times (default: --repeat)")
    g.add_argument("--style", default=None,
                   help="a style (see `workbench styles`; default pop, or the song's)")
    g.add_argument("--tempo", type=float, default=None, help="bpm (default: the style's)")
    g.add_argument("--meter", default=None, help="4/4, 3/4, 6/8, 2/4, 12/8")
    g.add_argument("--key", default=None, help="e.g. C, Am, 'Bb major' (default: detected)")
    g.add_argument("--tracks", default=",".join(TRACKS), help="comma-separated, default all")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--swing", type=float, default=None, help="0 straight .. 0.67 triplet .. 1")
    g.add_argument("--humanize", type=float, default=None,
                   help="0 exact .. 1 loose (default: the band's natural feel, 0.5)")
    g.add_argument("--intensity", type=float, default=0.5, help="0 soft and sparse .. 1 busy")
    g.add_argument("--count-in", action="store_true", help="one bar of sticks first")
    g.add_argument("--loop", action="store_true",
                   help="no held final chord: keep the groove to the end, for looping")
    g.add_argument("--repeat", type=int, default=1, help="play the progression N times")
    g.add_argument("--arc", default="build",
                   help="build (default), flat, or intensities per chorus, e.g. 0.3,0.5,0.8")
    g.add_argument("--intro", action=argparse.BooleanOptionalAction, default=None,
                   help="an intro in the style before bar 1 (default: off for a progression)")
    g.add_argument("--program", action="append", default=[], metavar="TRACK=PROGRAM",
                   help="GM program for a track, number or name (repeatable)")
    g.add_argument("--level", action="append", default=[], metavar="TRACK=0..1",
                   help="velocity scale for a track (repeatable)")
    g.add_argument("--density", action="append", default=[], metavar="TRACK=0..1",
                   help="how busy a track plays (repeatable)")
    g.add_argument("--timestamp", default=None, help="YYYYMMDDHHMMSS (default: now)")
    g.add_argument("--out", default="generated_accompaniments", help="output folder")
    r = sub.add_parser("render", help="the same as generate, as loudness-normalised audio files "
                       "(WAV/FLAC): the mix and, with --stems, one file per track")
    for action in g._actions[1:]:                 # every generate option, then the audio ones
        r._add_action(action)
    r.add_argument("--format", default="wav", help="wav, flac or wav,flac (with --out FILE.wav "
                   "or FILE.flac: from the extension)")
    r.add_argument("--stems", action="store_true", help="one file per track besides the mix")
    r.add_argument("--loudness", type=float, default=-14.0, help="LUFS of the mix (default -14)")
    r.add_argument("--soundfont", default=None, help="GM soundfont (default: found)")
    r.add_argument("--midi", action="store_true", help="also write the MIDI files, same names")
    sub.add_parser("styles", help="list the styles")
    ls = sub.add_parser("songs", help="list the songs of a playlist, file or link")
    ls.add_argument("source", metavar="FILE_OR_LINK")
    sub.add_parser("programs", help="list the General MIDI instruments (for --program)")
    return p


def _render(args, arrangement) -> int:
    """Audio files in the MIDI files' layout and names (see ``Arrangement.render``)."""
    timestamp = args.timestamp
    if args.midi:
        midi_paths = arrangement.write(args.out, timestamp=timestamp)
        timestamp = midi_paths[-1].name[:14]
        for path in midi_paths:
            print(path)
    from workbench.audio import AudioError

    fmt = None if args.out.lower().endswith((".wav", ".flac")) else args.format
    try:
        paths = arrangement.render(args.out, stems=args.stems, format=fmt, timestamp=timestamp,
                                   soundfont=args.soundfont, loudness=args.loudness)
    except AudioError as exc:          # no soundfont at the given path, FluidSynth missing...
        raise ValueError(str(exc)) from None
    for path in paths:
        print(path)
    return 0


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


def _read_songs(source: str):
    import os

    from workbench.song.sources import read_songs

    if not os.path.exists(source) and "://" not in source and "|" not in source:
        raise ValueError(f"no song file or link {source!r}")
    return read_songs(source)


def _generate(args) -> int:
    from workbench.band.generate import generate
    from workbench.band.styles import get_style

    out = Path(args.out)
    to_file = args.command == "render" and args.out.lower().endswith((".wav", ".flac"))
    if out.exists() and not out.is_dir() and not to_file:
        raise ValueError(f"--out {args.out!r} is a file, not a folder: give a folder for the "
                         f"MIDI files")
    if (args.song is None) == (args.progression is None):
        raise ValueError("give a progression or --song FILE_OR_LINK (one of them)")
    if args.song is not None:
        from workbench.song.sources import pick_song

        source = pick_song(_read_songs(args.song), args.index)
        tempo = args.tempo
    else:
        source = args.progression
        tempo = args.tempo if args.tempo is not None else get_style(args.style or "pop").default_tempo
    arrangement = generate(
        source, style=args.style, tracks=args.tracks, tempo=tempo, meter=args.meter,
        key=args.key, seed=args.seed, swing=args.swing,
        intensity=args.intensity, count_in=args.count_in, repeat=args.repeat,
        ending=not args.loop, choruses=args.choruses, arc=args.arc, intro=args.intro,
        **({} if args.humanize is None else {"humanize": args.humanize}),
        instruments=_pairs("--program", args.program, _program) or None,
        levels=_pairs("--level", args.level, float) or None,
        density=_pairs("--density", args.density, float) or None)
    if args.command == "render":
        return _render(args, arrangement)
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


def _songs(args) -> int:
    songs = _read_songs(args.source)
    rows = sorted([(s.index or 0, s) for s in songs] + [(e.index or 0, e) for e in songs.errors],
                  key=lambda row: row[0])
    if songs.name:
        print(f"{songs.name}: {len(rows)} songs")
    for index, item in rows:
        if isinstance(item, ValueError):
            print(f"{index:4d}  ! {item}")
            continue
        form = " ".join(sec.label or "-" for sec in item.sections)
        style = f"{item.style} → {item.workbench_style}" if item.style else item.workbench_style
        tempo = f"{item.tempo:g} bpm" if item.tempo else "-"
        print(f"{index:4d}  {item.title or '(untitled)'} | {item.composer or '-'} | "
              f"{item.key.name} | {item.meter} | {tempo} | {style} | {len(item.bars)} bars | {form}")
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
        if args.command == "songs":
            return _songs(args)
        if args.command == "programs":
            return _programs()
        return _generate(args)
    except (ValueError, OSError) as exc:  # ChordError, ProgressionError are ValueErrors
        print(f"workbench: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
