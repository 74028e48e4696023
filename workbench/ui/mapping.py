"""Pure logic behind the controls: no widgets, unit-tested without a browser.

* :data:`PRESETS` — well-known progressions (name -> text, meter).
* :func:`default_state` — the control values on first load (Generate works right away).
* :func:`check_progression` — live validation of the progression box, in plain words.
* :func:`generate_kwargs` — THE mapping from control values to ``workbench.generate(**kwargs)``
  (a renaming only: the engine checks the values and its errors name the field).
* :func:`friendly_error` — any exception from the engine as one plain sentence, naming the
  control its ``field`` is about.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from workbench.band.generate import REPEAT_RANGE, TEMPO_RANGE  # noqa: F401  (the sliders' ends)
from workbench.errors import WorkbenchError

# name -> (progression text, meter). The first ones are the project's examples
# (shared/progressions/examples.txt); then classics every musician knows.
PRESETS: dict[str, tuple[str, str]] = {
    "Pop I–V–vi–IV (G)": ("| G | D | Em | C |", "4/4"),
    "Doo-wop I–vi–IV–V (C)": ("| C | Am | F | G |", "4/4"),
    "ii–V–I major (Bb)": ("| Cm7 | F7 | Bbmaj7 | Bbmaj7 |", "4/4"),
    "ii–V–i minor (A)": ("| Bm7b5 | E7b9 | Am6 | Am6 |", "4/4"),
    "12-bar blues (C)": ("| C7 | C7 | C7 | C7 |\n| F7 | F7 | C7 | C7 |\n| G7 | F7 | C7 | G7 |",
                         "4/4"),
    "Minor vamp (Dm)": ("| Dm7 | Dm7 | Gm7 | A7 |", "4/4"),
    "Two chords a bar (F)": ("| F Dm | Gm7 C7 | F Bb | C7 F |", "4/4"),
    "Explicit beats (C)": ("| C:3 G/B:1 | Am:2 Am/G:2 | F:4 | G:2 G7:2 |", "4/4"),
    "Repeat bar (Em)": ("| Em | % | Am | B7 |", "4/4"),
    "Descending bass (C)": ("| C | C/B | Am | Am/G |\n| F | C/E | Dm7 | G7sus4 G7 |", "4/4"),
    "Waltz 3/4 (G)": ("| G | Em | Am7 | D7 |", "3/4"),
    "Jig 6/8 (D)": ("| D | G | D | A7 |", "6/8"),
    "Stop-time N.C. (E)": ("| E | A | N.C. | B7 |", "4/4"),
    "Altered dominants (C)": ("| Dm9 | G7alt | Cmaj9 | A7#9 |\n| Dm11 | G13 | C6/9 | C6/9 |",
                              "4/4"),
    "Pachelbel's Canon (D)": ("| D | A | Bm | F#m |\n| G | D | G | A |", "4/4"),
    "Andalusian cadence (Am)": ("| Am | G | F | E7 |", "4/4"),
    "Autumn-leaves changes (Gm)": ("| Cm7 | F7 | Bbmaj7 | Ebmaj7 |\n| Am7b5 | D7 | Gm6 | Gm6 |",
                                   "4/4"),
    "Rhythm changes A (Bb)": ("| Bb G7 | Cm7 F7 | Bb G7 | Cm7 F7 |\n"
                              "| Bb Bb7 | Eb Ebm | Bb F7 | Bb |", "4/4"),
    "Minor blues (Cm)": ("| Cm7 | Cm7 | Cm7 | Cm7 |\n| Fm7 | Fm7 | Cm7 | Cm7 |\n"
                         "| Ab7 | G7 | Cm7 | G7 |", "4/4"),
    "Reggae one-drop I–IV (A)": ("| A | D | A | E |", "4/4"),
    "Country I–IV–V (G)": ("| G | G | C | C |\n| D | D | G | G |", "4/4"),
    "Bossa ii–V (C)": ("| Dm9 | G13 | Cmaj9 | A7b9 |", "4/4"),
}

DEFAULT_PRESET = "Pop I–V–vi–IV (G)"

TRACK_DEFAULTS = {
    # level and density per track when the app opens
    "bass": (0.85, 0.5),
    "drums": (0.8, 0.5),
    "keys": (0.7, 0.5),
    "pad": (0.55, 0.5),
    "guitar": (0.6, 0.5),
}

# TEMPO_RANGE and REPEAT_RANGE (the sliders' ends) are the engine's own limits, imported above
STYLE_PROGRAM = -1        # instrument choice "the style's own"

#: engine argument -> the control's label (how an error is reported beside its control)
CONTROL_LABELS = {
    "progression": "Progression", "style": "Style", "tracks": "Tracks", "tempo": "Tempo",
    "meter": "Meter", "key": "Key", "seed": "Seed", "swing": "Swing", "humanize": "Humanize",
    "intensity": "Intensity", "instruments": "Instrument", "levels": "Level",
    "density": "Density", "count_in": "Count-in", "repeat": "Repeat", "ending": "Ending",
}


def tracks():
    from workbench.instruments import TRACKS

    return TRACKS


def default_state() -> dict:
    """Control values on first load: a valid progression, every track on."""
    text, meter = PRESETS[DEFAULT_PRESET]
    return {
        "progression": text,
        "repeat": 1,
        "key": "auto",
        "tempo": 110,
        "meter": meter,
        "style": "pop",
        "tracks": {name: {"on": True, "program": STYLE_PROGRAM,
                          "level": TRACK_DEFAULTS.get(name, (0.7, 0.5))[0],
                          "density": TRACK_DEFAULTS.get(name, (0.7, 0.5))[1]}
                   for name in tracks()},
        "swing": None,            # None: the style's own swing
        "humanize": 0.5,          # the band's own feel (workbench.band.feel.DEFAULT_HUMANIZE)
        "intensity": 0.5,
        "arc": "build",           # the arranger builds over the choruses; or "flat"
        "seed": 1,
        "count_in": False,
    }


class ControlError(WorkbenchError):
    """A control value that can't be used (the engine's WorkbenchError, as the UI names it)."""


def generate_kwargs(state: dict) -> dict:
    """Keyword arguments of ``workbench.generate`` for these control values.

    Only renames: the values go to the engine as they are and ``generate`` raises a
    WorkbenchError naming the field of a bad one (:func:`friendly_error` reports it).
    """
    s = copy.deepcopy(state)
    strips = s.get("tracks", {})
    on = [name for name in tracks() if strips.get(name, {}).get("on", False)]
    key = s.get("key") or "auto"
    tempo = s.get("tempo")
    text = str(s.get("progression", "")).strip()
    return {
        "progression": _song_or_text(text, s.get("meter", "4/4")) if text else text,
        "style": s.get("style", "pop"),
        "tracks": on,
        "tempo": int(tempo) if isinstance(tempo, float) and tempo.is_integer() else tempo,
        "meter": s.get("meter", "4/4"),
        "key": None if key == "auto" else key,
        "seed": s.get("seed", 0),
        "swing": s.get("swing"),
        "humanize": s.get("humanize", 0.0),
        "intensity": s.get("intensity", 0.5),
        "instruments": {n: strips[n]["program"] for n in on
                        if strips[n].get("program", STYLE_PROGRAM) != STYLE_PROGRAM},
        "levels": {n: strips[n]["level"] for n in on},
        "density": {n: strips[n]["density"] for n in on},
        "count_in": s.get("count_in", False),
        "repeat": s.get("repeat", 1),
        "arc": s.get("arc", "build"),
    }


def _song_or_text(text: str, meter: str):
    """A text in song notation (form, header lines) is read as a Song; repeat is its choruses."""
    from workbench.song.text import is_song_text, parse_song

    return parse_song(text, meter=meter) if is_song_text(text) else text


# --------------------------------------------------------------------------------------------
# validation


@dataclass
class Check:
    ok: bool
    message: str                  # plain words, shown under the box
    progression: Any = None       # the parsed Progression when ok
    bar: int | None = None
    symbol: str | None = None


def check_progression(text: str, meter: str = "4/4") -> Check:
    """Parse the progression box; on error say which chord in which bar, in plain words."""
    from workbench import parse_progression

    if not str(text).strip():
        return Check(False, "Type a chord progression, e.g. | C | Am | F | G |")
    song = None
    try:
        song = _song_or_text(text, meter)
        prog = song.progression() if not isinstance(song, str) else parse_progression(text, meter=meter)
    except Exception as exc:  # ProgressionError, ChordError, ValueError from the engine
        return Check(False, friendly_error(exc), None, getattr(exc, "bar", None),
                     getattr(exc, "symbol", None))
    if not isinstance(song, str):
        form = " ".join(sec.label or "-" for sec in song.sections)
        name = f"“{song.title}”, " if song.title else ""
        return Check(True, f"Song {name}{len(song.bars)} bars written, {prog.bars} played a "
                           f"chorus, {prog.meter}, form {form}, key {song.key.name}", prog)
    bars = prog.bars
    how = "detected" if prog.key_detected else "given"
    return Check(True, f"{bars} bar{'s' if bars != 1 else ''} in {prog.meter}, "
                       f"key {prog.key.name} ({how})", prog)


def friendly_error(exc: BaseException) -> str:
    """One plain sentence for an exception from the engine or the controls (no traceback)."""
    bar = getattr(exc, "bar", None)
    symbol = getattr(exc, "symbol", None)
    text = str(exc).strip() or exc.__class__.__name__
    if isinstance(exc, (ValueError, KeyError, TypeError)) and text:
        text = text[0].upper() + text[1:]
    label = CONTROL_LABELS.get(getattr(exc, "field", None) or "")
    if label and not bar and label.lower() not in text.lower():
        text = f"{label}: {text}"  # which control to fix
    if symbol and bar and symbol not in text:
        text = f"Bar {bar}: “{symbol}”: {text}"
    elif bar and f"bar {bar}" not in text.lower():
        text = f"Bar {bar}: {text}"
    if not isinstance(exc, ValueError):
        text = f"Something went wrong: {text}"
    return text


_MAJOR_NAMES = ["C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
_MINOR_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B"]


def key_choices() -> list[tuple[str, str]]:
    """(label, value) for the key dropdown: auto plus the 24 major and minor keys."""
    out = [("Auto (detect)", "auto")]
    out += [(f"{n} major", f"{n} major") for n in _MAJOR_NAMES]
    out += [(f"{n} minor", f"{n} minor") for n in _MINOR_NAMES]
    return out


def transpose_key(value: str, semitones: int) -> str:
    """A key-dropdown value moved by ``semitones`` ("auto" stays "auto")."""
    if not value or value == "auto":
        return "auto"
    from workbench import parse_key

    key = parse_key(value)
    pc = (key.tonic + int(semitones)) % 12
    names = _MAJOR_NAMES if key.mode == "major" else _MINOR_NAMES
    return f"{names[pc]} {key.mode}"


def transpose_text(text: str, semitones: int, meter: str = "4/4") -> str:
    """The progression text moved by ``semitones`` (raises the engine's error if unreadable)."""
    from workbench import parse_progression

    song = _song_or_text(text, meter)
    if not isinstance(song, str):
        return song.transpose(semitones).to_text()
    return parse_progression(text, meter=meter).transpose(semitones).to_text()
