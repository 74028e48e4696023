"""Chord progressions in bar notation → :class:`Progression` (a timeline of :class:`ChordEvent`).

Notation, as musicians type it:

* ``| C Am | F G |``: bars between bar lines; chords in a bar share it equally.
* ``| C:3 G/B:1 |``: explicit lengths, counted in the meter's beat (quarters in x/4, eighths in
  x/8); chords without a length share what is left of the bar.
* ``%`` repeats the previous bar; ``N.C.`` is no chord; line breaks and spaces are free.
* Text without bar lines (``"C Am F G"`` or ``"C, Am, F, G"``) and lists (``["C", "Am"]``) hold
  one bar per item; a list item may hold several chords (``["C Am", "F G"]``).

Times are in quarter-note beats everywhere: a 6/8 bar lasts 3.0 beats.

>>> p = parse_progression("| C Am | F G |")
>>> p.bars, p.key.name, [(e.chord.symbol, e.start, e.duration) for e in p.events][:2]
(2, 'C major', [('C', 0.0, 2.0), ('Am', 2.0, 2.0)])
>>> try:
...     parse_progression("| C | Hx7 |")
... except ProgressionError as error:
...     print(error, error.bar, error.symbol)
bar 2: unknown chord 'Hx7': unknown root 'H' (roots are A to G, with b, #, ♭ or ♯) 2 Hx7
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from workbench.chords import Chord, ChordError, note_name, note_pc, parse_chord
from workbench.errors import WorkbenchError
from workbench.keys import Key, detect_key, parse_key

__all__ = ["METERS", "Meter", "ChordEvent", "Progression", "ProgressionError", "parse_progression", "parse_meter"]

# meter → quarter-note beats per bar
METERS: dict[str, float] = {
    "4/4": 4.0, "3/4": 3.0, "2/4": 2.0, "6/8": 3.0, "12/8": 6.0, "9/8": 4.5,
    "5/4": 5.0, "7/8": 3.5, "6/4": 6.0, "2/2": 4.0,
}


class ProgressionError(WorkbenchError):
    """A progression that cannot be read. ``bar`` (1-based) and ``symbol`` say where and what."""

    def __init__(self, message: str, bar: int | None = None, symbol: str | None = None,
                 index: int | None = None, field: str = "progression"):
        super().__init__(f"bar {bar}: {message}" if bar is not None else message,
                         field=field, value=symbol)
        self.bar = bar
        self.symbol = symbol
        self.index = index  # 1-based position of the chord within its bar


@dataclass
class ChordEvent:
    """One chord on the timeline: ``bar`` is 0-based, ``start``/``duration`` in quarter beats."""

    chord: Chord
    bar: int
    start: float
    duration: float

    @property
    def end(self) -> float:
        return self.start + self.duration


@dataclass
class Progression:
    """A progression: chord events in time order, its meter and its key."""

    events: list[ChordEvent]
    meter: str
    beats_per_bar: float
    bars: int
    key: Key
    key_detected: bool = False
    text: str = ""
    _bar_texts: list[str] = field(default_factory=list, repr=False)
    # The form, one entry per bar in playing order (filled by ``Song.progression``, or by
    # ``generate`` for ``repeat``): the section label of each bar ("A", "B", "Intro", "Chorus";
    # "" where the chart has none) and the chorus it belongs to (0-based). Empty lists: one
    # chorus without labels. The arranger reads these to shape the take over the form.
    sections: list[str] = field(default_factory=list)
    choruses: list[int] = field(default_factory=list)
    # Per bar, whether a section of the chart starts there: a label change says it too, but
    # not two sections of the same name in a row (the two A's of AABA). Empty: label changes.
    section_starts: list[bool] = field(default_factory=list)

    @property
    def chords(self) -> list[Chord]:
        return [e.chord for e in self.events]

    @property
    def length_beats(self) -> float:
        return self.bars * self.beats_per_bar

    def __len__(self) -> int:
        return self.bars

    def section(self, bar: int) -> str:
        """The section label of 0-based ``bar`` ("" when the progression has no labels)."""
        return self.sections[bar] if bar < len(self.sections) else ""

    def chorus(self, bar: int) -> int:
        """The 0-based chorus that 0-based ``bar`` is in (0 without form)."""
        return self.choruses[bar] if bar < len(self.choruses) else 0

    def to_text(self) -> str:
        """Bar notation that reads back to the same progression.

        >>> parse_progression(["C", "Am F"]).to_text()
        '| C | Am F |'
        """
        return "| " + " | ".join(self._bar_texts) + " |"

    def transpose(self, semitones: int) -> Progression:
        """The same progression moved by ``semitones``, spelled for the new key.

        >>> parse_progression("| Cm7 F7 | Bbmaj7 |").transpose(2).to_text()
        '| Dm7 G7 | Cmaj7 |'
        """
        key = self.key.transpose(semitones)
        flats = key.prefers_flats
        bars = [" ".join(_transpose_token(t, semitones, flats) for t in bar.split()) for bar in self._bar_texts]
        return parse_progression("| " + " | ".join(bars) + " |", meter=self.meter,
                                 key=None if self.key_detected else key)


_NOTE = re.compile(r"[A-G][b#♭♯]*")


def _transpose_token(token: str, semitones: int, flats: bool) -> str:
    symbol, _, beats = token.partition(":")
    if parse_chord(symbol).is_no_chord:
        return token

    def move(m: re.Match | None) -> str:
        assert m is not None  # a readable chord starts with its root
        return note_name(note_pc(m.group(0)) + semitones, flats)

    root = _NOTE.match(symbol)
    out = move(root) + symbol[root.end() if root else 0:]
    slash = out.rfind("/")
    bass = _NOTE.fullmatch(out[slash + 1:]) if slash > 0 else None
    if bass:
        out = out[:slash + 1] + move(bass)
    return out + (":" + beats if beats else "")


class Meter(NamedTuple):
    """A meter as every module needs it: ``"6/8"`` → Meter("6/8", 3.0, 0.5) (quarter beats a
    bar, quarter beats per counted beat), with its ``numerator`` (6) and ``denominator`` (8)."""

    text: str
    beats_per_bar: float
    unit: float

    @property
    def numerator(self) -> int:
        return round(self.beats_per_bar / self.unit)

    @property
    def denominator(self) -> int:
        return round(4.0 / self.unit)


@lru_cache(maxsize=64)
def parse_meter(meter: str) -> Meter:
    """The one meter parser: ``"6/8"`` → Meter("6/8", 3.0, 0.5); unknown ones are a
    ProgressionError (field "meter") listing the known meters."""
    text = str(meter).strip()
    if text not in METERS:
        raise ProgressionError(f"unknown meter {meter!r}; known meters: {', '.join(METERS)}",
                               field="meter", symbol=text)
    denominator = int(text.split("/")[1])
    return Meter(text, METERS[text], 4.0 / denominator)


def _split_bars(source) -> list[str]:
    if source is None:
        return []
    if isinstance(source, (list, tuple)):
        bars = [str(item) for item in source]
    else:
        text = str(source)
        if "|" in text:
            parts = text.split("|")
            # Blank pieces are not bars where they are layout: before the first bar line, after
            # the last, a double bar line "||", or a line break between "|" and "|". A blank
            # between two bar lines on one line ("| C | | G |") is an empty bar, kept so that
            # it is reported (dropping it would silently shorten the song).
            if not text.replace("|", "").strip():
                return []
            bars = [b for i, b in enumerate(parts)
                    if b.strip() or (0 < i < len(parts) - 1 and b and "\n" not in b)]
        else:
            bars = [t for t in re.split(r"[\s,]+", text) if t]
    return [" ".join(b.split()) for b in bars]


def _format_beats(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def parse_progression(source, meter: str = "4/4", key: str | Key | None = None) -> Progression:
    """Read a progression; the key is given or detected from the chords.

    >>> p = parse_progression("| C:3 G/B:1 | % |", key="C")
    >>> [(e.chord.symbol, e.bar, e.start, e.duration) for e in p.events]
    [('C', 0, 0.0, 3.0), ('G/B', 0, 3.0, 1.0), ('C', 1, 4.0, 3.0), ('G/B', 1, 7.0, 1.0)]
    """
    meter, bar_beats, unit = parse_meter(meter)
    bars = _split_bars(source)
    if not bars:
        raise ProgressionError("empty progression: type chords like '| C Am | F G |'")
    events: list[ChordEvent] = []
    bar_texts: list[str] = []
    previous: list[tuple[Chord, float]] | None = None
    previous_text = ""
    for number, bar_text in enumerate(bars, start=1):
        if bar_text == "%":
            if previous is None:
                raise ProgressionError("'%' has no previous bar to repeat", number, "%")
            contents, bar_text = previous, previous_text
        else:
            contents = _read_bar(bar_text, number, meter, bar_beats, unit)
        start = (number - 1) * bar_beats
        for chord, duration in contents:
            events.append(ChordEvent(chord, number - 1, start, duration))
            start += duration
        bar_texts.append(bar_text)
        previous, previous_text = contents, bar_text
    if key is None:
        detected, found = detect_key(events), True
    else:
        try:
            detected, found = parse_key(key), False
        except ValueError as error:
            raise ProgressionError(str(error), field="key", symbol=str(key)) from None
    text = source if isinstance(source, str) else "| " + " | ".join(bar_texts) + " |"
    return Progression(events, meter, bar_beats, len(bars), detected, found, text, bar_texts)


def _read_bar(bar_text: str, number: int, meter: str, bar_beats: float, unit: float):
    tokens = bar_text.split()
    if not tokens:
        raise ProgressionError("empty bar: write a chord, N.C. or % in it", number)
    chords: list[Chord] = []
    lengths: list[float | None] = []
    for index, token in enumerate(tokens, start=1):
        symbol, colon, beats = token.partition(":")
        if colon and not symbol:
            raise ProgressionError(f"the length {token!r} has no chord before it; write it like 'C:2'",
                                   number, token, index)
        try:
            chords.append(parse_chord(symbol))
        except ChordError as error:
            raise ProgressionError(f"unknown chord {symbol!r}: {error.reason}", number, symbol, index) from None
        if colon:
            try:
                length = float(beats) * unit
            except ValueError:
                length = -1.0
            if length <= 0:
                raise ProgressionError(f"cannot read the length {beats!r} of {symbol!r}; write it like 'C:2'",
                                       number, token, index)
            lengths.append(length)
        else:
            lengths.append(None)
    given = sum(x for x in lengths if x is not None)
    open_count = lengths.count(None)
    beats_word = f"a {meter} bar has {_format_beats(bar_beats / unit)} ({bar_text!r})"
    if open_count == 0 and abs(given - bar_beats) > 1e-9:
        raise ProgressionError(f"beats add up to {_format_beats(given / unit)} but {beats_word}", number)
    if open_count and given >= bar_beats - 1e-9:
        raise ProgressionError(f"beats add up to {_format_beats(given / unit)} or more but {beats_word}", number)
    share = (bar_beats - given) / open_count if open_count else 0.0
    return [(c, length if length is not None else share) for c, length in zip(chords, lengths, strict=True)]
