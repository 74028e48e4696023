"""Keys: :class:`Key`, reading key names, detecting the key of a progression, roman numerals.

>>> parse_key("Bb").short, parse_key("F# minor").name
('Bbmaj', 'F# minor')
>>> from workbench.chords import parse_chord
>>> detect_key([parse_chord(s) for s in ("Dm7", "G7", "Cmaj7")]).name
'C major'
>>> roman_numeral(parse_chord("Bm7b5"), parse_key("Am"))
'iiø7'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from workbench.chords import Chord, note_pc

__all__ = ["Key", "parse_key", "detect_key", "roman_numeral", "MAJOR_SCALE", "MINOR_SCALE"]

MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)  # natural minor; harmony also uses the raised 7th
# how keys are usually written (fewest accidentals; F# major and Eb minor by convention)
_MAJOR_NAMES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_MINOR_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B")
# key signature: sharps (+) or flats (-) of each major tonic
_MAJOR_FIFTHS = (0, -5, 2, -3, 4, -1, 6, 1, -4, 3, -2, 5)


@dataclass(frozen=True)
class Key:
    """A key: tonic pitch class and mode ("major" or "minor")."""

    tonic: int
    mode: str = "major"

    def __post_init__(self):
        if self.mode not in ("major", "minor"):
            raise ValueError(f"unknown mode {self.mode!r}; modes are 'major' and 'minor'")

    @property
    def tonic_name(self) -> str:
        return (_MAJOR_NAMES if self.mode == "major" else _MINOR_NAMES)[self.tonic % 12]

    @property
    def name(self) -> str:
        """``"Bb major"``"""
        return f"{self.tonic_name} {self.mode}"

    @property
    def short(self) -> str:
        """``"Bbmaj"`` / ``"Amin"``, as in the plugin's file names."""
        return self.tonic_name + ("maj" if self.mode == "major" else "min")

    @property
    def fifths(self) -> int:
        """Sharps (positive) or flats (negative) of the key signature (MIDI key signature)."""
        major_tonic = self.tonic if self.mode == "major" else (self.tonic + 3) % 12
        fifths = _MAJOR_FIFTHS[major_tonic]
        # the enharmonic key that matches the tonic's spelling (Eb minor: 6 flats, not 6 sharps)
        if "b" in self.tonic_name and fifths > 0:
            return fifths - 12
        if "#" in self.tonic_name and fifths < 0:
            return fifths + 12
        return fifths

    @property
    def prefers_flats(self) -> bool:
        return self.fifths < 0 or (self.fifths == 0 and self.mode == "minor" and self.tonic in (2, 7, 0, 5))

    @property
    def scale(self) -> tuple[int, ...]:
        """Pitch classes of the scale (natural minor for minor keys)."""
        steps = MAJOR_SCALE if self.mode == "major" else MINOR_SCALE
        return tuple((self.tonic + s) % 12 for s in steps)

    def transpose(self, semitones: int) -> Key:
        return Key((self.tonic + semitones) % 12, self.mode)

    def __str__(self) -> str:
        return self.name


_KEY = re.compile(r"\s*([A-Ga-g][b#♭♯]?)\s*(major|maj|minor|min|m|M|)\s*", re.IGNORECASE)


def parse_key(text: str | Key) -> Key:
    """Read a key name: ``"C"``, ``"Am"``, ``"A minor"``, ``"Bbmaj"``, ``"F# min"``.

    >>> parse_key("c minor")
    Key(tonic=0, mode='minor')
    """
    if isinstance(text, Key):
        return text
    m = _KEY.fullmatch(str(text))
    if not m:
        raise ValueError(f"unknown key {text!r}; write it like 'C', 'Am', 'Bb major' or 'F# minor'")
    tonic, mode = m.group(1), m.group(2)
    minor = mode.lower() in ("minor", "min") or mode == "m"
    return Key(note_pc(tonic[0].upper() + tonic[1:]), "minor" if minor else "major")


def _has_major_third(chord: Chord) -> bool:
    return 4 in chord.intervals


def _is_tonic(chord: Chord, key: Key) -> float:
    """1 for the key's home chord; 0.5 for a dominant 7th on the tonic of a major key (the
    blues lives on it, but it also just asks for the next key's IV); else 0."""
    if chord.root != key.tonic:
        return 0.0
    if key.mode == "minor":
        return float(chord.has_minor_third)
    if chord.has_minor_third:
        return 0.0
    return 0.5 if 10 in chord.intervals else 1.0


def _weighted(chords) -> list[tuple[Chord, float]]:
    out = []
    for item in chords:
        chord = getattr(item, "chord", item)
        duration = float(getattr(item, "duration", 1.0))
        if not chord.is_no_chord:
            out.append((chord, duration))
    return out


def _score(key: Key, items: list[tuple[Chord, float]], total: float) -> float:
    scale = set(key.scale)
    if key.mode == "minor":
        scale.add((key.tonic + 11) % 12)  # harmonic minor's leading tone (V7 → i)
    fit = tonic = 0.0
    for chord, duration in items:
        pcs = chord.pitch_classes
        fit += duration * sum(pc in scale for pc in pcs) / len(pcs)
        tonic += duration * _is_tonic(chord, key)
    score = fit / total + tonic / total
    score += 0.5 * _is_tonic(items[0][0], key) + 0.5 * _is_tonic(items[-1][0], key)
    dominant = (key.tonic + 7) % 12
    resolutions = sum(
        1 for (a, _), (b, _) in zip(items, items[1:], strict=False)
        if a.root == dominant and _has_major_third(a) and _is_tonic(b, key) == 1.0
    )
    return score + 0.25 * min(resolutions, 2)


def detect_key(chords: Iterable) -> Key:
    """The most likely key of a chord sequence (Chords or ChordEvents, weighted by duration).

    Scores each of the 24 keys by how well the chords fit its scale, how long and where
    (first, last) its home chord sounds, and dominant → tonic resolutions.

    >>> from workbench.chords import parse_chord
    >>> detect_key([parse_chord(s) for s in ("Bm7b5", "E7b9", "Am6")]).name
    'A minor'
    """
    items = _weighted(chords)
    if not items:
        return Key(0, "major")
    total = sum(d for _, d in items) or 1.0
    candidates = [Key(t, m) for m in ("major", "minor") for t in range(12)]
    # ties go to the first chord's root, then major
    first_root = items[0][0].root
    return max(candidates, key=lambda k: (round(_score(k, items, total), 9), k.tonic == first_root, k.mode == "major"))


_NUMERALS = ("I", "II", "III", "IV", "V", "VI", "VII")
# semitones above the tonic → (accidental, scale degree index), relative to the key's own scale
_MAJOR_DEGREES = (("", 0), ("b", 1), ("", 1), ("b", 2), ("", 2), ("", 3), ("#", 3), ("", 4),
                  ("b", 5), ("", 5), ("b", 6), ("", 6))
_MINOR_DEGREES = (("", 0), ("b", 1), ("", 1), ("", 2), ("#", 2), ("", 3), ("#", 3), ("", 4),
                  ("", 5), ("#", 5), ("", 6), ("#", 6))
_SUFFIX = {
    "maj": "", "m": "", "dim": "°", "aug": "+", "m7b5": "ø7", "dim7": "°7", "m7": "7", "m6": "6",
    "m9": "9", "m11": "11", "m13": "13", "mMaj7": "maj7", "m69": "6/9", "madd9": "add9", "aug7": "+7",
}


def roman_numeral(chord: Chord, key: Key) -> str:
    """The chord's roman numeral in the key; case follows the chord's third.

    A chord tone in the bass is an inversion, in figured-bass style: triads ``6`` and ``64``,
    seventh chords ``65``, ``43`` and ``42``. Another bass note (``C/D``) leaves it as it is.

    >>> from workbench.chords import parse_chord
    >>> [roman_numeral(parse_chord(s), Key(0)) for s in ("C", "Am7", "G7", "Bb", "F/A")]
    ['I', 'vi7', 'V7', 'bVII', 'IV6']
    >>> [roman_numeral(parse_chord(s), Key(0)) for s in ("C/E", "C/G", "G7/B", "G7/D", "G7/F")]
    ['I6', 'I64', 'V65', 'V43', 'V42']
    """
    if chord.is_no_chord:
        return "N.C."
    interval = (int(chord.root or 0) - key.tonic) % 12  # (not N.C.: it has a root)
    prefix, degree = (_MAJOR_DEGREES if key.mode == "major" else _MINOR_DEGREES)[interval]
    numeral = _NUMERALS[degree]
    if chord.has_minor_third or chord.quality in ("dim", "dim7", "m7b5"):
        numeral = numeral.lower()
    return prefix + numeral + _inversion(chord, _SUFFIX.get(chord.quality, chord.quality))


_TRIADS = {"maj", "m", "dim", "aug"}
_SEVENTHS = {"7", "maj7", "m7", "m7b5", "dim7", "mMaj7", "aug7"}


def _inversion(chord: Chord, suffix: str) -> str:
    """The suffix with the inversion figure of the chord's bass (see :func:`roman_numeral`)."""
    if chord.bass is None or chord.bass == chord.root or chord.bass not in chord.pitch_classes:
        return suffix
    above = (chord.bass - (chord.root or 0)) % 12  # (a chord with a bass has a root)
    step = "third" if above in (3, 4) else "fifth" if above in (6, 7, 8) else "seventh"
    if chord.quality in _TRIADS and step != "seventh":
        return suffix + {"third": "6", "fifth": "64"}[step]
    if chord.quality in _SEVENTHS:
        return suffix.removesuffix("7") + {"third": "65", "fifth": "43", "seventh": "42"}[step]
    return suffix
