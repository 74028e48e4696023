"""iReal Pro links → :class:`~workbench.song.model.Song`: :func:`read_ireal`.

A link is ``irealb://`` (current; the chart is scrambled) or ``irealbook://`` (older, plain),
URL-encoded. Songs are separated by ``===`` (a playlist ends with its name); a song's fields by
``=``: title, composer, (unused), style, key, transpose, chart, groove, tempo, repeats in the
current format, title, composer, style, key, (unused), chart in the older one.

The chart is a row of cells, 16 a line; a cell is not a beat. Its language:

* barlines ``|`` ``[`` ``]`` ``{`` ``}`` (repeat) ``Z`` (final); ``T44`` ``T34`` ``T68`` ``T12``
  (12/8) time signatures; ``*A`` ``*B`` ``*i`` (intro) ``*v`` (verse) section marks; ``N1``
  ``N2`` ``N3`` numbered endings; ``S`` segno; ``Q`` coda (the last one starts the coda, the
  others say "to coda"); ``<D.S. al Coda>``, ``<Fine>``, ``<3x>`` and other texts; ``f``
  fermata; ``U`` end; ``s``/``l`` small/large chords; ``Y`` vertical space; ``,`` separator;
* chords ``C^7``, ``D-7``, ``Eh7``, ``Bo7``, ``G7b9#5``, ``F7sus``, ``C/E``, an alternate chord
  in parentheses (written small, not played), ``n`` N.C., ``p`` a slash (the chord goes on),
  ``W/G`` the previous chord over a new bass, ``x`` repeat the previous bar, ``r`` repeat the
  previous two bars; a blank cell lengthens the chord before it.

Scrambling (``irealb://``): the chart starts with ``1r34LbKcu7``; then each 50-character block
(while more than 51 are left) has its first five characters swapped with its last five in
mirror order, and characters 10-23 with 26-39; finally ``Kcl`` → ``| x``, ``LZ`` → ``" |"`` and
``XyQ`` → three blank cells.
"""

from __future__ import annotations

import gc
import re
from functools import lru_cache
from urllib.parse import unquote

from workbench.chords import ChordError, parse_chord
from workbench.keys import detect_key, parse_key
from workbench.progression import METERS
from workbench.song.model import Bar, Song, SongError, SongList
from workbench.song.styles import map_style

__all__ = ["read_ireal", "unscramble", "scramble_block", "MARKER"]

MARKER = "1r34LbKcu7"
_LINK = re.compile(r"(irealb(?:ook)?)://([^\"'<>\s]*)")
_TIMES = {"44": "4/4", "34": "3/4", "24": "2/4", "54": "5/4", "64": "6/4", "22": "2/2",
          "68": "6/8", "98": "9/8", "12": "12/8", "78": "7/8"}
# chord slots a bar of each meter has, the unit iReal spreads a bar's chords over
_SLOTS = {"4/4": 4, "3/4": 3, "2/4": 2, "5/4": 5, "6/4": 6, "2/2": 4, "6/8": 2, "9/8": 3,
          "12/8": 4, "7/8": 7}
_SECTIONS = {"i": "Intro", "v": "Verse"}
_TOKEN = re.compile(r"""
    (?P<chord>([A-GW][b#]?)((?:sus|alt|add|[-+^\dhob#ø])*)(?:/([A-G][b#]?))?(?:\(([^)]*)\))?)
  | (?P<alt>\(([^)]*)\))
  | (?P<space>[ ]+)
  | (?P<bar>[|\[\]{}Z])
  | (?P<time>T\d\d)
  | (?P<section>\*[A-Za-z])
  | (?P<ending>N\d)
  | (?P<comment><[^>]*>)
  | (?P<mark>[SQUfslYnxrp,\n\r\t])
  | (?P<other>.)
""", re.X | re.S)
_ALT_CHORD = re.compile(r"^([A-G][b#]?)((?:sus|alt|add|[-+^\dhob#ø])*)(?:/([A-G][b#]?))?$")
_JUMP = re.compile(r"^D\.\s*([CS])\.(?:\s*al\s*(Coda|Fine))?", re.I)
_TIMES_TEXT = re.compile(r"^(\d+)\s*x$", re.I)
_HOLD = object()  # a cell where the chord before goes on ("p", or a bar opening on a slash)


def scramble_block(block: str) -> str:
    """iReal's 50-character block shuffle; it is its own inverse (scrambles and unscrambles)."""
    return (block[45:50][::-1] + block[5:10] + block[26:40][::-1] + block[24:26]
            + block[10:24][::-1] + block[40:45] + block[0:5][::-1])


def unscramble(chart: str) -> str:
    """The plain chart of an ``irealb://`` song (the text after :data:`MARKER`)."""
    out = []
    while len(chart) > 51:
        out.append(scramble_block(chart[:50]))
        chart = chart[50:]
    out.append(chart)
    return _expand("".join(out))


def _expand(chart: str) -> str:
    return chart.replace("Kcl", "| x").replace("LZ", " |").replace("XyQ", "   ")


def read_ireal(text: str) -> SongList:
    """The songs of an iReal Pro link, or of a text (an HTML export) holding one.

    Returns a :class:`~workbench.song.model.SongList` (a list of Songs with ``name`` and
    ``errors``): a song that cannot be read is left out and its :class:`SongError` (naming the
    song, the bar and the token) is in ``errors``. Raises SongError if no song can be read.
    """
    links = _LINK.findall(str(text))
    if not links:
        raise SongError("no iReal Pro link: expected text holding irealb://... or irealbook://...",
                        token=str(text)[:40])
    songs: list[Song] = []
    errors: list[SongError] = []
    # A playlist is tens of thousands of small lists and bars and no reference cycles: the
    # cyclic collector walking them while they are made was half the reading time.
    paused = gc.isenabled()
    gc.disable()
    try:
        name = _read_links(links, songs, errors)
    finally:
        if paused:
            gc.enable()
    if not songs:
        if errors:
            raise errors[0]
        raise SongError("the iReal Pro link holds no song", token=str(text)[:40])
    return SongList(songs, name, errors)


def _read_links(links, songs: list, errors: list) -> str:
    """Read every song of the links into ``songs`` / ``errors``; the playlist's name."""
    name = ""
    for scheme, payload in links:
        parts = unquote(payload).split("===")
        if len(parts) > 1:
            name = name or parts.pop().strip()
        for part in parts:
            if not part.strip():
                continue
            index = len(songs) + len(errors)
            try:
                song = _read_song(part, scheme == "irealbook")
            except SongError as error:
                error.index = index
                errors.append(error)
                continue
            song.index = index
            songs.append(song)
    return name


def _title(text: str) -> str:
    """iReal files titles as "Gentle Rain, The"."""
    m = re.match(r"^(.*), (A|An|The)$", text)
    return f"{m.group(2)} {m.group(1)}" if m else text


def _composer(text: str) -> str:
    """iReal files composers last name first ("Kosma Joseph")."""
    words = text.split()
    return f"{words[1]} {words[0]}" if len(words) == 2 else text


def _read_song(part: str, old: bool) -> Song:
    fields = part.split("=")
    title = _title(fields[0].strip()) or None
    if old:
        if len(fields) < 6:
            raise SongError(f"damaged song: {len(fields)} fields where the irealbook format has 6",
                            title, token=part[:40])
        composer, style, key_text, chart, groove, tempo, repeats = (
            fields[1], fields[2], fields[3], _expand(fields[5]), "", "", "")
    else:
        if len(fields) < 7:
            raise SongError(f"damaged song: {len(fields)} fields where the irealb format has 7 "
                            "or more", title, token=part[:40])
        composer, style, key_text, chart = fields[1], fields[3], fields[4], fields[6]
        groove = fields[7] if len(fields) > 7 else ""
        tempo = fields[8] if len(fields) > 8 else ""
        repeats = fields[9] if len(fields) > 9 else ""
        if not chart.startswith(MARKER):
            raise SongError(f"damaged chart: it does not start with iReal's marker {MARKER}",
                            title, token=chart[:20])
        chart = unscramble(chart[len(MARKER):])
    song = Song(title=title or "", composer=_composer(composer.strip()), style=style.strip(),
                source="ireal")
    _Chart(song).read(chart)
    if not song.bars:
        raise song.error("the chart has no bars")
    song.meter = song.bars[0].meter
    song.workbench_style = map_style(f"{song.style} {groove}", song.meter)
    if tempo.strip().isdigit() and int(tempo) > 0:
        song.tempo = float(tempo)
    if repeats.strip().isdigit() and int(repeats) > 0:
        song.repeats = int(repeats)
    key_text = key_text.strip()
    if key_text:
        try:
            song.key = parse_key(key_text[:-1] + "m" if key_text.endswith("-") else key_text)
        except ValueError:
            raise song.error(f"unknown key {key_text!r}", token=key_text) from None
    else:
        song.key = detect_key(c for b in song.bars for _, c in b.chords if c is not None)
    return song


class _Chart:
    """Chart text → bars (one object per song: the state of the bar being read)."""

    def __init__(self, song: Song):
        self.song = song
        self.bars = song.bars
        self.meter = "4/4"
        self.section = ""
        self.cells: list = []       # [chord | None | _HOLD, weight, small]
        self.alternates: list = []  # (cell index, Chord)
        self.flags: dict = {}
        self.copy: str | None = None  # "x" / "r": the bar repeats earlier bars
        self.then = None            # after "r": what the next (blank) bar plays
        self.small = False
        self.times = 0              # <3x>: the next } repeats this often
        self.q_bars: list[int] = []
        self.previous = None        # the last chord read (for W)

    def error(self, message, token=None):
        return self.song.error(message, len(self.bars) + 1, token)

    def read(self, chart: str) -> None:
        for m in _TOKEN.finditer(chart):
            kind = m.lastgroup
            if kind == "chord":
                self._chord(m)
            elif kind == "space":
                if self.cells and not self.cells[-1][2]:
                    self.cells[-1][1] += len(m.group())
            elif kind == "bar":
                self._barline(m.group())
            elif kind == "mark":
                self._mark(m.group())
            elif kind == "alt":
                self._alternate(m.group()[1:-1])
            elif kind == "time":
                meter = _TIMES.get(m.group()[1:])
                if meter is None:
                    raise self.error(f"unknown time signature {m.group()!r}; the band plays "
                                     f"{', '.join(METERS)}", m.group())
                self.meter = meter
            elif kind == "section":
                letter = m.group()[1]
                self.flags["label"] = _SECTIONS.get(letter, letter.upper())
            elif kind == "ending":
                number = int(m.group()[1])
                if number == 0:  # iReal's unnumbered ending: the one after the last
                    number = max((b.ending[-1] for b in self.bars if b.ending), default=0) + 1
                self.flags["ending"] = (number,)
            elif kind == "comment":
                self._comment(m.group()[1:-1])
            else:
                raise self.error(f"unknown token {m.group()!r}", m.group())
        self._close()
        self._codas()

    # -- cells ----------------------------------------------------------------------------------
    def _chord(self, m: re.Match) -> None:
        root, quality, bass, alternate = m.group(2), m.group(3), m.group(4), m.group(5)
        if root == "W":  # invisible root: the chord before, over a new bass
            if self.previous is None:
                raise self.error("'W' (the chord before over a new bass) has no chord before it", "W")
            base = self.previous.symbol.split("/")[0]
            chord = _chord(base, "", bass, self) if bass else self.previous
        else:
            chord = _chord(root, quality, bass, self)
        self.cells.append([chord, 1, self.small])
        self.previous = chord
        if alternate:
            self._alternate(alternate)

    def _alternate(self, text: str) -> None:
        m = _ALT_CHORD.match(text.strip())
        if not m:
            if not text.strip():
                return
            raise self.error(f"unknown alternate chord {text!r}", f"({text})")
        chord = _chord(m.group(1), m.group(2), m.group(3), self)
        self.alternates.append((max(len(self.cells) - 1, 0), chord))

    def _mark(self, c: str) -> None:
        if c == "n":
            self.cells.append([None, 1, self.small])
        elif c == "p":
            if self.cells:
                self.cells[-1][1] += 1
            else:
                self.cells.append([_HOLD, 1, False])
        elif c == "x":
            self.copy = "x"
        elif c == "r":
            self.copy = "r"
        elif c == "s":
            self.small = True
        elif c == "l":
            self.small = False
        elif c == "S":
            self.flags["segno"] = True
        elif c == "Q":
            self.flags["q"] = True
        elif c == "f":
            self.flags["fermata"] = True
        elif c == "U":
            self.flags["fine"] = True
        # Y (vertical space), "," (separator) and line breaks are layout

    def _comment(self, text: str) -> None:
        text = re.sub(r"^\*\d+", "", text).strip()
        jump = _JUMP.match(text)
        if jump:
            self.flags["jump"] = f"D.{jump.group(1).upper()}." + (
                f" al {jump.group(2).capitalize()}" if jump.group(2) else "")
        elif text.lower() == "fine":
            self.flags["fine"] = True
        elif (times := _TIMES_TEXT.match(text)) is not None:
            self.times = int(times.group(1))
        elif text:
            self.flags.setdefault("comments", []).append(text)

    # -- bars -----------------------------------------------------------------------------------
    def _barline(self, c: str) -> None:
        if c == "}":
            target = self._close() or (self.bars[-1] if self.bars else None)
            if target is None:
                raise self.error("'}' closes a repeat before any bar", "}")
            target.repeat_end = max(self.times, 2)
            self.times = 0
            return
        self._close()
        if c == "{":
            self.flags["repeat_start"] = True

    def _close(self) -> Bar | None:
        """End the bar being read; None if it had nothing to play (layout between barlines)."""
        if not self.cells and self.copy is None and self.then is None:
            return None
        full = METERS[self.meter]
        bar = Bar([], full, self.meter, section=self.section)
        flags, self.flags = self.flags, {}
        if self.copy == "x" or self.copy == "r" or (self.then is not None and not self.cells):
            if self.copy == "x":
                source = self.bars[-1] if self.bars else None
                self.then = None
            elif self.copy == "r":
                source = self.bars[-2] if len(self.bars) > 1 else None
                self.then = self.bars[-1] if self.bars else None
            else:
                source, self.then = self.then, None
            if source is None:
                raise self.error(f"'{self.copy}' repeats bars that are not there", self.copy)
            bar.chords, bar.alternates = list(source.chords), list(source.alternates)
        else:
            self.then = None
            self._fill(bar)
        self.copy = None
        self.cells, self.alternates = [], []
        label = flags.pop("label", None)
        if label is not None:
            bar.label = bar.section = self.section = label
        if flags.pop("q", False):
            self.q_bars.append(len(self.bars))
        for name, value in flags.items():
            setattr(bar, name, value)
        self.bars.append(bar)
        return bar

    def _fill(self, bar: Bar) -> None:
        cells = self.cells
        if len(cells) == 1:  # most bars: one chord for the whole bar
            chord = cells[0][0]
            if chord is not _HOLD:
                bar.chords.append((0.0, chord))
            bar.alternates = [(0.0, c) for _, c in self.alternates]
            return
        slots = _SLOTS[bar.meter]
        weights = [1 if small else w for _, w, small in cells]
        n = len(cells)
        if sum(weights) != slots:
            if n > slots or slots % n == 0:
                weights = [1] * n
            else:  # iReal's rule: the spare slots go to the chords from the first on
                while sum(weights) > slots:
                    k = max(range(n), key=lambda i: (weights[i], i))
                    weights[k] -= 1
                k = 0
                while sum(weights) < slots:
                    weights[k % n] += 1
                    k += 1
        unit = bar.beats / sum(weights)
        offset = 0.0
        offsets = []
        for (chord, _, _), w in zip(cells, weights, strict=True):
            offsets.append(offset)
            if chord is not _HOLD:
                bar.chords.append((round(offset, 9), chord))
            offset += w * unit
        bar.alternates = [(round(offsets[i], 9) if i < n else 0.0, c) for i, c in self.alternates]

    def _codas(self) -> None:
        """The last Q starts the coda, the ones before say "to coda" (iReal's convention); a
        lone Q after a D.C./D.S. starts the coda, before it it is the "to coda" of the jump."""
        q = self.q_bars
        if not q:
            return
        jumps = [i for i, b in enumerate(self.bars) if b.jump]
        if len(q) == 1 and jumps and q[0] < jumps[-1]:
            self.bars[q[0]].to_coda = True
            if jumps[-1] + 1 < len(self.bars):
                self.bars[jumps[-1] + 1].coda = True
            return
        self.bars[q[-1]].coda = True
        for i in q[:-1]:
            self.bars[i].to_coda = True


_ALIASES = (("^", "maj"), ("h9", "m9b5"), ("h7", "m7b5"), ("o7", "dim7"))


@lru_cache(maxsize=4096)
def _spelled(root: str, quality: str, bass: str | None):
    """A chord as iReal writes it → Chord, spelled as the workbench writes it when that reads
    to the same notes (``C^7`` → ``Cmaj7``, ``D-7`` → ``Dm7``, ``Eh7`` → ``Em7b5``)."""
    tail = f"/{bass}" if bass else ""
    original = parse_chord(root + quality + tail)
    text = quality
    if text.startswith("-"):
        text = "m" + text[1:]
    for old, new in _ALIASES:
        text = text.replace(old, new)
    text = {"maj": "maj7", "mmaj": "mMaj7", "mmaj7": "mMaj7", "mmaj9": "mMaj9", "h": "m7b5",
            "o": "dim", "69": "6/9", "m69": "m6/9"}.get(text, text)
    if text == quality:
        return original
    try:
        spelled = parse_chord(root + text + tail)
    except ChordError:
        return original
    return spelled if spelled.pitch_classes == original.pitch_classes else original


def _chord(root: str, quality: str, bass: str | None, chart: _Chart):
    try:
        return _spelled(root, quality, bass)
    except ChordError as error:
        token = root + quality + (f"/{bass}" if bass else "")
        raise chart.error(f"unknown chord {token!r}: {error.reason}", token) from None
