"""AI Band Workbench: chord progression in, a band out as MIDI.

The flow, one module each: a lead sheet → :class:`Song` (:func:`parse_song`, :func:`read_ireal`,
:func:`read_musicxml`) or text → :func:`parse_progression` (a :class:`Progression`) →
:func:`generate` (the band) → :class:`Arrangement` → :meth:`Arrangement.write` (MIDI files).

>>> import workbench
>>> arr = workbench.generate("| C Am | F G |", style="pop", tempo=120, seed=1)  # doctest: +SKIP
>>> arr.write("generated_accompaniments")                                       # doctest: +SKIP

Names are imported lazily so that ``import workbench`` stays fast (no music21, no widgets).
"""

from importlib import import_module

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "Chord": "workbench.chords",
    "ChordError": "workbench.chords",
    "parse_chord": "workbench.chords",
    "Key": "workbench.keys",
    "parse_key": "workbench.keys",
    "detect_key": "workbench.keys",
    "roman_numeral": "workbench.keys",
    "ChordEvent": "workbench.progression",
    "Progression": "workbench.progression",
    "ProgressionError": "workbench.progression",
    "parse_progression": "workbench.progression",
    "METERS": "workbench.progression",
    "Note": "workbench.arrangement",
    "Track": "workbench.arrangement",
    "Arrangement": "workbench.arrangement",
    "TRACKS": "workbench.instruments",
    "generate": "workbench.band.generate",
    "styles": "workbench.band.styles",
    "StyleInfo": "workbench.band.styles",
    "Song": "workbench.song.model",
    "SongError": "workbench.song.model",
    "SongList": "workbench.song.model",
    "parse_song": "workbench.song.text",
    "read_ireal": "workbench.song.ireal",
    "read_musicxml": "workbench.song.musicxml",
    "read_songs": "workbench.song.sources",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        if name in ("ui", "audio"):
            return import_module(f"workbench.{name}")
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # cache: next access skips __getattr__
    return value


def __dir__():
    return __all__ + ["__version__"]
