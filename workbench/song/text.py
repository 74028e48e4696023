"""Songs in bar notation with form: :func:`parse_song` reads it, :func:`song_to_text` writes it.

Everything :func:`~workbench.progression.parse_progression` reads is a song too (one section,
no repeats). On top of it:

* header lines first, ``Name: value``: ``Title``, ``Composer``, ``Key``, ``Meter``, ``Tempo``,
  ``Style`` (iReal style names like "Medium Swing" are kept and mapped to a band style);
* ``[Intro]``, ``[A]``, ``[Chorus]``: a section label before the bar that starts it;
  ``[Coda]`` starts the coda; an intro is played once, before the first chorus;
* ``|:`` and ``:|`` repeat (``:| x3`` plays the part three times); ``1.``, ``2.``, ``1,2.`` at
  the start of a bar begin a numbered ending;
* inside a bar, anywhere: ``Segno``, ``Fine``, ``To Coda`` (leave for the coda after this bar on
  the last pass), ``D.C.``, ``D.C. al Fine``, ``D.C. al Coda``, ``D.S.``, ``D.S. al Fine``,
  ``D.S. al Coda`` (jump after this bar), ``fermata``;
* ``/`` holds the chord before it for one share of the bar (``| C / / G |``: C three beats);
  a bar of only ``/`` lets the previous chord go on; ``(Gb7)`` is an alternate chord, written
  small and not played; ``3/4`` first in a bar changes the meter; ``pickup`` first in the first
  bar makes it a pickup (give its length: ``| pickup G7:1 |``).

>>> song = parse_song('''Title: Blue Form
... [A] |: C7 | F7 :|
... [B] | G7 | F7 | C7 / / G7 |''')
>>> [e.chord.symbol for e in song.progression().events]
['C7', 'F7', 'C7', 'F7', 'G7', 'F7', 'C7', 'G7']
>>> parse_song("| C | Hx7 |")
Traceback (most recent call last):
...
workbench.song.model.SongError: bar 2: unknown chord 'Hx7': unknown root 'H' (roots are A to G, with b, #, ♭ or ♯)
"""

from __future__ import annotations

import re

from workbench.chords import ChordError, parse_chord
from workbench.keys import detect_key, parse_key
from workbench.progression import METERS, ChordEvent
from workbench.song.model import Bar, Song
from workbench.song.styles import map_style

__all__ = ["parse_song", "song_to_text", "is_song_text"]

_HEADER = re.compile(r"^\s*(title|composer|key|meter|time|tempo|style)\s*:\s*(.*?)\s*$", re.I)
_TOKEN = re.compile(r"""
    (?P<label>\[[^\]\n|]*\])
  | (?P<both>:\|\|?:)
  | (?P<end>:\|(?:[ \t]*x[ \t]*(?P<times>\d+)\b)?)
  | (?P<start>\|\|?:)
  | (?P<double>\|\|)
  | (?P<bar>\|)
  | (?P<newline>\n)
  | (?P<jump>D\.[CS]\.(?:[ \t]+al[ \t]+(?:Coda|Fine))?)
  | (?P<tocoda>To[ \t]*Coda\b)
  | (?P<word>(?:[^\s|:\[]|:(?!\|))+)
  | (?P<space>[ \t\r]+)
""", re.X)
# what only song notation has (parse_progression reads the rest)
_SONG_SYNTAX = re.compile(r"""
    ^[ \t]*(?:title|composer|key|meter|time|tempo|style)[ \t]*:
  | \[[^\]\n|]*\] | \|: | :\| | \([A-G][^)\s]*\)
  | (?<![^\s|])(?:segno|fine|coda|to[ \t]*coda|d\.[cs]\.|pickup|fermata|/|\d+(?:[.,]\d+)*\.)(?![^\s|])
""", re.I | re.M | re.X)
_ENDING = re.compile(r"^\d+(?:[.,]\d+)*\.$")
_LENGTH = re.compile(r"^(.*?):(\d+(?:\.\d+)?)$")


def parse_song(text, meter: str | None = None, key=None, title: str | None = None) -> Song:
    """Read a song in bar notation with form (see the module's docstring).

    ``meter``, ``key`` and ``title`` are used when the text has no header for them; the key is
    otherwise detected from the chords.
    """
    if isinstance(text, (list, tuple)):
        text = "| " + " | ".join(str(item) for item in text) + " |"
    text = str(text).replace("\r\n", "\n")
    head: dict[str, str] = {}
    lines = text.split("\n")
    while lines and (not lines[0].strip() or _HEADER.match(lines[0])):
        m = _HEADER.match(lines[0])
        if m:
            head[m.group(1).lower()] = m.group(2)
        lines.pop(0)
    body = "\n".join(lines)
    if "|" not in body and "[" not in body:  # "C Am F G": one bar an item, as parse_progression
        items = [t for t in re.split(r"[\s,]+", body) if t]
        body = "| " + " | ".join(items) + " |" if items else ""
    song = Song(title=head.get("title", title or ""), composer=head.get("composer", ""),
                style=head.get("style", ""), source="text")
    meter = head.get("meter") or head.get("time") or meter or "4/4"
    if meter not in METERS:
        raise song.error(f"unknown meter {meter!r}; known meters: {', '.join(METERS)}", token=meter)
    song.meter = meter
    tempo = head.get("tempo")
    if tempo:
        try:
            song.tempo = float(tempo.split()[0])
        except ValueError:
            raise song.error(f"cannot read the tempo {tempo!r}; write it like 'Tempo: 120'",
                             token=tempo) from None
    _Reader(song).read(body)
    if not song.bars:
        raise song.error("empty song: type chords like '| C Am | F G |'")
    song.workbench_style = map_style(song.style, song.meter)
    key = head.get("key") or key
    if key:
        try:
            song.key = parse_key(key)
        except ValueError as error:
            raise song.error(str(error), token=str(key)) from None
    else:
        song.key = detect_key(_weighted(song))
    return song


def is_song_text(text) -> bool:
    """Whether ``text`` uses song notation (header lines, sections, repeats, marks) beyond what
    :func:`~workbench.progression.parse_progression` reads.

    >>> is_song_text("| C Am | F G |"), is_song_text("[A] |: C | G :|")
    (False, True)
    """
    return isinstance(text, str) and _SONG_SYNTAX.search(text) is not None


def _weighted(song: Song) -> list[ChordEvent]:
    out = []
    for bar in song.bars:
        for k, (offset, chord) in enumerate(bar.chords):
            end = bar.chords[k + 1][0] if k + 1 < len(bar.chords) else bar.beats
            if chord is not None:
                out.append(ChordEvent(chord, 0, 0.0, end - offset))
    return out


class _Reader:
    """Tokens → bars. One object per text so the state of the bar being read stays together."""

    def __init__(self, song: Song):
        self.song = song
        self.meter = song.meter
        self.words: list[str] = []
        self.marks: dict = {}
        self.label: str | None = None
        self.section = ""
        self.repeat_start = False
        self.newline = True  # nothing read yet counts as a fresh line

    def error(self, message, token=None, bar=None):
        return self.song.error(message, bar or len(self.song.bars) + 1, token)

    def read(self, text: str) -> None:
        previous = None  # the last barline kind
        for m in _TOKEN.finditer(text):
            kind = m.lastgroup if m.lastgroup != "times" else "end"
            if kind == "space":
                continue
            if kind == "newline":
                self.newline = True
                continue
            if kind == "label":
                if self.words:
                    raise self.error(f"the section label {m.group()} is inside a bar; put it "
                                     "before the bar line that starts the section", m.group())
                self.label = m.group()[1:-1].strip()
                self.newline = True  # a label is layout, like a line break
                continue
            if kind == "jump":
                self.marks["jump"] = " ".join(m.group().split())
                self.words.append("")  # a mark makes the bar a bar
                continue
            if kind == "tocoda":
                self.marks["to_coda"] = True
                self.words.append("")
                continue
            if kind == "word":
                self.words.append(m.group())
                continue
            # a barline: close the bar being read
            if any(self.words):
                self.close()
            elif self.words or self.marks:
                raise self.error("a bar holds only form marks: write a chord, N.C., / or % in it")
            elif previous == "bar" and kind == "bar" and not self.newline:
                raise self.error("empty bar: write a chord, N.C., / or % in it")
            if kind in ("end", "both"):
                if not self.song.bars:
                    raise self.error("':|' closes a repeat before any bar", ":|")
                times = int(m.group("times")) if m.group("times") else 2
                if times < 2:
                    raise self.error(f"a repeat plays at least twice, not x{times}", m.group())
                self.song.bars[-1].repeat_end = times
            if kind in ("start", "both"):
                self.repeat_start = True
            previous = kind
            self.newline = False
        if any(self.words):
            self.close()
        elif self.words:
            raise self.error("a bar holds only form marks: write a chord, N.C., / or % in it")

    def close(self) -> None:
        song, number = self.song, len(self.song.bars) + 1
        words = [w for w in self.words if w]
        self.words = []
        marks, self.marks = self.marks, {}
        bar = Bar([], 0.0, self.meter, repeat_start=self.repeat_start, **marks)
        self.repeat_start = False
        if self.label is not None:
            bar.label = self.label
            self.section = self.label
            if self.label.lower() == "coda":
                bar.coda = True
            self.label = None
        bar.section = self.section
        chords: list[tuple[str, str | None]] = []  # (word, length)
        first = True
        for word in words:
            lower = word.lower()
            if first and _ENDING.match(word):
                bar.ending = tuple(int(n) for n in re.split(r"[.,]", word) if n)
                continue
            if first and word in METERS and not chords:
                self.meter = bar.meter = word
                continue
            if lower == "pickup" and first and not chords:
                if number != 1:
                    raise self.error("only the first bar can be a pickup", word)
                bar.pickup = True
                continue
            if lower in ("segno", "𝄋"):
                bar.segno = True
            elif lower in ("coda", "𝄌"):
                if chords:
                    bar.to_coda = True
                else:
                    bar.coda = True
            elif lower == "fine":
                bar.fine = True
            elif lower == "fermata":
                bar.fermata = True
            else:
                first = False
                m = _LENGTH.match(word)
                chords.append((m.group(1), m.group(2)) if m else (word, None))
                continue
        if not chords:
            raise self.error("a bar holds only form marks: write a chord, N.C., / or % in it")
        self._fill(bar, chords, number)
        song.bars.append(bar)

    def _fill(self, bar: Bar, chords, number: int) -> None:
        full = METERS[bar.meter]
        unit = 4.0 / int(bar.meter.split("/")[1])
        if [w for w, _ in chords] == ["%"]:
            if not self.song.bars:
                raise self.error("'%' has no previous bar to repeat", "%")
            before = self.song.bars[-1]
            bar.chords, bar.alternates, bar.beats = list(before.chords), list(before.alternates), full
            return
        entries: list[list] = []  # [symbol or "/", Chord or None, length or None]
        alternates: list[tuple[int, object]] = []
        for word, length in chords:
            if word.startswith("(") and word.endswith(")") and length is None:
                if not entries:
                    raise self.error(f"the alternate chord {word} has no chord before it", word)
                alternates.append((len(entries) - 1, self._chord(word[1:-1], number)))
                continue
            if word == "%":
                raise self.error("'%' repeats a whole bar: write it alone in its bar", word)
            if word == "":
                raise self.error("a length needs a chord before it; write it like 'C:2'")
            chord = None if word == "/" else self._chord(word, number)
            beats = None
            if length is not None:
                beats = float(length) * unit
                if beats <= 0:
                    raise self.error(f"cannot read the length of {word}:{length}", f"{word}:{length}")
            entries.append([word, chord, beats])
        given = sum(e[2] for e in entries if e[2] is not None)
        open_count = sum(1 for e in entries if e[2] is None)
        words = " ".join(w for w, _ in chords)
        if bar.pickup:
            if open_count:
                raise self.error("give the pickup's length: write it like '| pickup G7:1 |'", words)
            if given >= full - 1e-9:
                raise self.error(f"a pickup is shorter than a {bar.meter} bar ({words!r})", words)
            full = given
        elif open_count == 0 and abs(given - full) > 1e-9:
            raise self.error(f"beats add up to {given / unit:g} but a {bar.meter} bar has "
                             f"{full / unit:g} ({words!r})", words)
        elif open_count and given >= full - 1e-9:
            raise self.error(f"beats add up to {given / unit:g} or more but a {bar.meter} bar "
                             f"has {full / unit:g} ({words!r})", words)
        share = (full - given) / open_count if open_count else 0.0
        offset = 0.0
        offsets = []
        for word, chord, beats in entries:
            offsets.append(offset)
            if word != "/":
                bar.chords.append((round(offset, 9), chord))
            offset += beats if beats is not None else share
        bar.alternates = [(round(offsets[i], 9), c) for i, c in alternates]
        bar.beats = full

    def _chord(self, symbol: str, number: int):
        try:
            chord = parse_chord(symbol)
        except ChordError as error:
            raise self.error(f"unknown chord {symbol!r}: {error.reason}", symbol, number) from None
        return None if chord.is_no_chord else chord


# ------------------------------------------------------------------------------------ writing
def song_to_text(song: Song, bars_per_line: int = 4) -> str:
    """The song in bar notation; :func:`parse_song` reads it back to the same playing order."""
    head = []
    if song.title:
        head.append(f"Title: {song.title}")
    if song.composer:
        head.append(f"Composer: {song.composer}")
    head.append(f"Key: {song.key.name}")
    head.append(f"Meter: {song.meter}")
    if song.tempo:
        head.append(f"Tempo: {song.tempo:g}")
    if song.style:
        head.append(f"Style: {song.style}")
    out = ["\n".join(head), "\n"]
    meter = song.meter
    in_line = 0
    for i, bar in enumerate(song.bars):
        if i == 0 or bar.label is not None or in_line == bars_per_line:
            if i:
                out.append("\n")
            if bar.label is not None:
                out.append(f"[{bar.label}] ")
            out.append("|:" if bar.repeat_start else "|")
            in_line = 0
        elif bar.repeat_start:
            out.append(":" if out[-1].endswith("|") and not out[-1].endswith(":|") else " |:")
        words = []
        if bar.ending:
            words.append(",".join(str(n) for n in bar.ending) + ".")
        if bar.meter != meter:
            words.append(bar.meter)
            meter = bar.meter
        if bar.pickup:
            words.append("pickup")
        if bar.coda and (bar.label or "").lower() != "coda":
            words.append("Coda")
        if bar.segno:
            words.append("Segno")
        words.extend(_chord_words(bar))
        if bar.fermata:
            words.append("fermata")
        if bar.to_coda:
            words.append("To Coda")
        if bar.fine:
            words.append("Fine")
        if bar.jump:
            words.append(bar.jump)
        out.append(" " + " ".join(words) + " ")
        if bar.repeat_end:
            out.append(":|" + (f" x{bar.repeat_end}" if bar.repeat_end != 2 else ""))
        else:
            out.append("|")
        in_line += 1
    return "".join(out) + "\n"


def _chord_words(bar: Bar) -> list[str]:
    unit = 4.0 / int(bar.meter.split("/")[1])
    spans = []  # (offset, symbol)
    if not bar.chords:
        return ["/"]
    if bar.chords[0][0] > 1e-9:
        spans.append((0.0, "/"))
    spans.extend((o, c.symbol if c is not None else "N.C.") for o, c in bar.chords)
    lengths = [(spans[k + 1][0] if k + 1 < len(spans) else bar.beats) - o
               for k, (o, _) in enumerate(spans)]
    explicit = bar.pickup or len({round(x, 6) for x in lengths}) > 1
    words = []
    for (offset, symbol), length in zip(spans, lengths, strict=True):
        words.append(f"{symbol}:{length / unit:g}" if explicit else symbol)
        for alt_offset, alt in bar.alternates:
            if abs(alt_offset - offset) < 1e-9:
                words.append(f"({alt.symbol})")
    placed = {round(o, 6) for o, _ in spans}
    words.extend(f"({alt.symbol})" for o, alt in bar.alternates if round(o, 6) not in placed)
    return words

