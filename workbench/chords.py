"""Chord symbols as lead sheets write them → :class:`Chord` (plain data).

One dictionary of chord types (:data:`CHORD_TYPES`), each defined by its scale degrees and
listing its aliases, in the spirit of the *tonal* library. Degrees (``"b3"``, ``"#11"``,
``"bb7"``) give both the semitones and the spelling, so ``Ebdim7`` is spelled Eb Gb Bbb Dbb,
as theory books do.

Altered chords are a base type plus alterations (``7b9#11`` = ``7`` + ``b9`` + ``#11``), so
every combination is read without listing it.

>>> parse_chord("D/F#").note_names
('D', 'F#', 'A')
>>> parse_chord("Bb13#11").pitch_classes
(10, 2, 5, 8, 0, 4, 7)
>>> try:
...     parse_chord("Hx7")
... except ChordError as error:
...     print(error)
cannot read chord 'Hx7': unknown root 'H' (roots are A to G, with b, #, ♭ or ♯)

music21 is not used here: it costs ~2 ms a chord and misreads some symbols (see tests).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Chord", "ChordError", "CHORD_TYPES", "parse_chord", "note_name", "note_pc"]


class ChordError(ValueError):
    """A chord symbol that cannot be read; the message names the symbol and the part."""

    def __init__(self, symbol: str, reason: str):
        super().__init__(f"cannot read chord {symbol!r}: {reason}")
        self.symbol = symbol
        self.reason = reason


# canonical name: (degrees, aliases). The canonical name is also an alias.
CHORD_TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "maj": ("1 3 5", ("", "M", "maj", "major", "Maj")),
    "m": ("1 b3 5", ("m", "min", "-", "mi", "minor")),
    "dim": ("1 b3 b5", ("dim", "°", "o", "m(b5)", "mb5")),
    "aug": ("1 3 #5", ("aug", "+", "+5", "(#5)")),
    "sus2": ("1 2 5", ("sus2",)),
    "sus4": ("1 4 5", ("sus4", "sus")),
    "5": ("1 5", ("5",)),
    "6": ("1 3 5 6", ("6", "maj6", "M6")),
    "m6": ("1 b3 5 6", ("m6", "min6", "-6")),
    "6/9": ("1 3 5 6 9", ("6/9", "69", "6add9")),
    "m69": ("1 b3 5 6 9", ("m69", "m6/9", "-69", "min69", "-6/9")),
    "7": ("1 3 5 b7", ("7", "dom7", "dom")),
    # Δ is the Greek capital delta; lead sheets and fonts also give △ (triangle) and ∆ (increment)
    "maj7": ("1 3 5 7", ("maj7", "M7", "Δ", "Δ7", "△", "△7", "∆", "∆7", "^7", "^", "ma7", "j7", "Maj7")),
    "m7": ("1 b3 5 b7", ("m7", "min7", "-7", "mi7")),
    "mMaj7": ("1 b3 5 7", ("mMaj7", "m(maj7)", "mM7", "m^7", "-Δ7", "-^7", "-^", "minmaj7", "m(M7)", "mmaj7", "-maj7", "mΔ7", "mΔ")),
    "m7b5": ("1 b3 b5 b7", ("m7b5", "ø", "ø7", "Ø", "Ø7", "h", "h7", "min7b5", "-7b5", "m7(b5)", "mi7b5")),
    "dim7": ("1 b3 b5 bb7", ("dim7", "°7", "o7")),
    "aug7": ("1 3 #5 b7", ("aug7", "+7", "7+")),
    "7sus4": ("1 4 5 b7", ("7sus4", "7sus")),
    "7sus4add3": ("1 3 4 5 b7", ("7sus4add3", "7susadd3", "7add3sus")),  # iReal's 7add3sus
    "9": ("1 3 5 b7 9", ("9",)),
    "maj9": ("1 3 5 7 9", ("maj9", "M9", "Δ9", "△9", "∆9", "^9", "ma9")),
    "m9": ("1 b3 5 b7 9", ("m9", "min9", "-9", "mi9")),
    "mMaj9": ("1 b3 5 7 9", ("mMaj9", "m(maj9)", "-Δ9", "-^9", "m^9")),
    "mb6": ("1 b3 5 b6", ("mb6", "-b6", "m(b6)")),
    "9sus4": ("1 4 5 b7 9", ("9sus4", "9sus")),
    "11": ("1 5 b7 9 11", ("11",)),
    "m11": ("1 b3 5 b7 9 11", ("m11", "min11", "-11", "mi11")),
    "13": ("1 3 5 b7 9 13", ("13",)),
    "maj13": ("1 3 5 7 9 13", ("maj13", "M13", "Δ13", "△13", "∆13", "^13", "ma13")),
    "m13": ("1 b3 5 b7 9 11 13", ("m13", "min13", "-13", "mi13")),
    "13sus4": ("1 4 5 b7 9 13", ("13sus4", "13sus")),
    "7alt": ("1 3 b7 b9 #9 #11 b13", ("7alt", "alt")),
    "add9": ("1 3 5 9", ("add9", "add2", "2", "(add9)")),
    "madd9": ("1 b3 5 9", ("madd9", "m(add9)", "madd2", "-add9", "m2")),
}

_ALIASES: dict[str, str] = {
    alias: name for name, (_, aliases) in CHORD_TYPES.items() for alias in (name, *aliases)
}

_LETTERS = "CDEFGAB"
_LETTER_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_ACCIDENTAL = {"b": -1, "#": 1, "♭": -1, "♯": 1}
# semitones and letter steps of the plain degrees (major scale, extended)
_DEGREE = {1: 0, 2: 2, 3: 4, 4: 5, 5: 7, 6: 9, 7: 11, 9: 14, 11: 17, 13: 21}

_ROOT = re.compile(r"([A-Ga-g])([b#♭♯]*)")
_ALTERATION = re.compile(r"(add|no)?([b#]?)(2|4|5|6|9|11|13)")
_SUS_LAST = re.compile(r"^(7|9|13)([b#]\d+.*?)sus4?$")
_NO_CHORD = {"N.C.", "N.C", "NC", "N.C.)", "n.c.", "nc"}


def _degree(token: str) -> tuple[int, int]:
    """``"b9"`` → (13 semitones, 8 letter steps)."""
    shift = 0
    while token and token[0] in "b#":
        shift += -1 if token[0] == "b" else 1
        token = token[1:]
    number = int(token)
    return _DEGREE[number] + shift, number - 1


def note_pc(name: str) -> int:
    """Pitch class of a note name.

    >>> note_pc("F#"), note_pc("Bb"), note_pc("Cb")
    (6, 10, 11)
    """
    m = _ROOT.fullmatch(name)
    if not m:
        raise ValueError(f"unknown note name {name!r}")
    return (_LETTER_PC[m.group(1).upper()] + sum(_ACCIDENTAL[a] for a in m.group(2))) % 12


def note_name(pc: int, flats: bool = False) -> str:
    """A plain spelling of a pitch class, with sharps or flats.

    >>> note_name(10), note_name(10, flats=True)
    ('A#', 'Bb')
    """
    names = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B") if flats else (
        "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
    return names[pc % 12]


def _spell(letter: str, pc: int) -> str:
    offset = (pc - _LETTER_PC[letter] + 6) % 12 - 6  # -6..5, 0 = natural
    return letter + ("#" * offset if offset > 0 else "b" * -offset)


@dataclass(frozen=True)
class Chord:
    """A chord: root and bass pitch classes, its intervals, pitch classes and spelled notes.

    ``pitch_classes`` lists the chord tones root first; a slash bass that is not a chord tone
    (``Bb/C``) comes first. ``root`` and ``bass`` are None for N.C. (no chord).
    """

    symbol: str
    root: int | None
    bass: int | None
    quality: str
    intervals: tuple[int, ...]
    pitch_classes: tuple[int, ...]
    note_names: tuple[str, ...]

    @property
    def is_no_chord(self) -> bool:
        return self.root is None

    @property
    def has_minor_third(self) -> bool:
        return 3 in self.intervals and 4 not in self.intervals

    @property
    def is_slash(self) -> bool:
        return self.bass is not None and self.bass != self.root

    def __str__(self) -> str:
        return self.symbol


NO_CHORD = Chord("N.C.", None, None, "N.C.", (), (), ())


def _quality(symbol: str, text: str) -> tuple[str, tuple[str, ...]]:
    """Quality text → (canonical name, degrees). Base type plus alterations if not an alias."""
    name = _ALIASES.get(text)
    if name is not None:
        return name, tuple(CHORD_TYPES[name][0].split())
    # longest alias that leaves only alterations behind, e.g. "7" + "b9#11", "maj7" + "(#11)"
    for cut in range(len(text), -1, -1):
        base = _ALIASES.get(text[:cut])
        if base is None:
            continue
        rest = text[cut:].replace("(", "").replace(")", "").replace(",", "").replace(" ", "")
        alterations = []
        pos = 0
        while pos < len(rest):
            m = _ALTERATION.match(rest, pos)
            if not m or m.end() == pos:
                break
            alterations.append(m.groups())
            pos = m.end()
        if pos != len(rest) or not alterations:
            continue
        degrees = list(CHORD_TYPES[base][0].split())
        for kind, accidental, number in alterations:
            target = accidental + number
            if kind == "no":
                degrees = [d for d in degrees if d.lstrip("b#") != number]
                continue
            if kind is None and number in ("2", "4", "6"):
                break  # "7-2" style nonsense: not an alteration
            if kind is None:  # an alteration replaces the plain degree of that number
                same = ("5",) if number == "5" else (number, {"9": "2", "11": "4", "13": "6"}.get(number, ""))
                degrees = [d for d in degrees if d.lstrip("b#") not in same]
            if target not in degrees:
                degrees.append(target)
        else:
            suffix = "".join((k or "") + a + n for k, a, n in alterations)
            degrees.sort(key=lambda d: _degree(d)[0])
            return ("" if base == "maj" else base) + suffix, tuple(degrees)
    # iReal writes the sus last ("7b9sus"): read it as the sus chord plus its alterations
    moved = _SUS_LAST.sub(r"\1sus4\2", text)
    if moved != text:
        return _quality(symbol, moved)
    raise ChordError(symbol, f"unknown quality {text!r}")


def parse_chord(symbol: str) -> Chord:
    """Read a chord symbol.

    >>> c = parse_chord("Am7/G")
    >>> c.root, c.bass, c.quality, c.note_names
    (9, 7, 'm7', ('A', 'C', 'E', 'G'))
    >>> parse_chord("N.C.").is_no_chord
    True
    """
    if not isinstance(symbol, str):  # checked before the cache, which cannot hash a list
        raise ChordError(str(symbol), "a chord symbol must be text")
    return _parse_chord(symbol)


@lru_cache(maxsize=4096)
def _parse_chord(symbol: str) -> Chord:
    text = symbol.strip()
    if not text:
        raise ChordError(symbol, "empty chord symbol")
    if text in _NO_CHORD or text.upper() in ("N.C.", "NC", "N.C"):
        return NO_CHORD
    m = _ROOT.match(text)
    if not m or not m.group(1).isupper():
        raise ChordError(symbol, f"unknown root {text[:1]!r} (roots are A to G, with b, #, ♭ or ♯)")
    root_letter, root_acc = m.group(1), m.group(2)
    rest = text[m.end():]
    bass = None
    slash = rest.rfind("/")
    if slash >= 0 and not rest[slash + 1:].isdigit():  # "6/9" is a quality, not a slash chord
        bass_text = rest[slash + 1:]
        if not _ROOT.fullmatch(bass_text) or not bass_text[0].isupper():
            raise ChordError(symbol, f"unknown bass note {bass_text!r}")
        bass = note_pc(bass_text)
        rest = rest[:slash]
    quality_text = rest.replace("♭", "b").replace("♯", "#")
    root = note_pc(root_letter + root_acc)
    quality, degrees = _quality(symbol, quality_text)
    letter_index = _LETTERS.index(root_letter)
    intervals, pcs, names = [], [], []
    for d in degrees:
        semis, steps = _degree(d)
        pc = (root + semis) % 12
        intervals.append(semis)
        if pc not in pcs:
            pcs.append(pc)
            names.append(_spell(_LETTERS[(letter_index + steps) % 7], pc))
    if bass is None:
        bass = root
    elif bass not in pcs:
        pcs.insert(0, bass)
        names.insert(0, bass_text[0] + bass_text[1:].replace("♭", "b").replace("♯", "#"))
    return Chord(text, root, bass, quality, tuple(intervals), tuple(pcs), tuple(names))
