"""The :class:`Song`: a chart with its form (sections, repeats, endings, D.C./D.S., Coda, Fine).

``song.bars`` are the written bars in chart order; :meth:`Song.progression` unrolls them into
the playing order as a :class:`~workbench.progression.Progression` the band can play, with the
section label and the chorus of every played bar.

Playing order, as players read a chart:

* ``|: ... :|`` repeats once (``:| x3`` plays the part three times); without a ``|:`` the repeat
  goes back to the start, or to just after the previous ``:|``.
* Numbered endings: on pass *n* the bars of an ending that does not list *n* are skipped, on to
  the ending that does (or the last one).
* ``D.C.`` / ``D.S.`` (after their bar) go back to the top / the segno; after the jump repeats are
  not taken again (the last ending is played), ``al Fine`` stops after the ``Fine`` bar, ``al
  Coda`` leaves at the *To Coda* bar for the coda. A ``Fine`` or a ``D.C.``/``D.S.`` without
  "al ..." ends at Fine if there is one, else at the end.
* ``choruses=n`` plays the form *n* times; the jumps (D.C., D.S., To Coda, Fine) are taken only
  on the last chorus, earlier choruses end where the coda begins. The intro (a section named
  Intro) and a pickup bar are played once, at the start.

>>> from workbench.song.text import parse_song
>>> song = parse_song("[A] |: C | F :| [B] | G | G7 |")
>>> p = song.progression(choruses=2)
>>> [e.chord.symbol for e in p.events], p.sections, p.choruses
(['C', 'F', 'C', 'F', 'G', 'G7', 'C', 'F', 'C', 'F', 'G', 'G7'], ['A', 'A', 'A', 'A', 'B', 'B', 'A', 'A', 'A', 'A', 'B', 'B'], [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from workbench.chords import NO_CHORD, Chord
from workbench.keys import Key
from workbench.progression import METERS, ChordEvent, Progression, ProgressionError

__all__ = ["Bar", "MelodyNote", "Section", "Song", "SongError", "SongList", "JUMPS"]

# the jumps a bar can end with; "al Fine"/"al Coda" say where the last pass leaves
JUMPS = ("D.C.", "D.C. al Fine", "D.C. al Coda", "D.S.", "D.S. al Fine", "D.S. al Coda")
INTRO_LABELS = ("intro", "i")
MAX_PLAYED_BARS = 20000  # a form that unrolls longer than this is broken (a jump loop)


class SongError(ProgressionError):
    """A song that cannot be read or played; names the song, the bar and the token.

    >>> str(SongError("unknown chord 'C7#14'", song="Autumn Leaves", bar=12, token="C7#14"))
    "'Autumn Leaves', bar 12: unknown chord 'C7#14'"

    ``index`` is the song's 0-based position in its playlist (None for a single song).
    """

    def __init__(self, message: str, song: str | None = None, bar: int | None = None,
                 token: str | None = None, field: str = "song", index: int | None = None):
        where = ", ".join(p for p in (repr(song) if song else "", f"bar {bar}" if bar else "") if p)
        ProgressionError.__init__(self, message, field=field, symbol=token)
        self.args = (f"{where}: {message}" if where else message,)
        self.bar = bar
        self.song = song
        self.token = token
        self.reason = message
        self.index = index


class MelodyNote(NamedTuple):
    """A melody note in its bar: ``offset`` and ``duration`` in quarter beats, MIDI ``pitch``."""

    offset: float
    duration: float
    pitch: int


@dataclass(slots=True, eq=False)
class Bar:
    """One written bar. ``chords``: ``(beat offset, Chord)`` pairs, ``None`` for N.C.; an empty
    list means the previous chord goes on. Offsets and ``beats`` are quarter beats (a pickup bar
    is shorter than its meter). The rest is the form written on the bar."""

    chords: list
    beats: float
    meter: str = "4/4"
    section: str = ""            # label of the section this bar is in ("" without labels)
    label: str | None = None     # a section starts here (may repeat the previous label: A A)
    repeat_start: bool = False   # |:
    repeat_end: int = 0          # :| plays the part this many times in all (2 for a plain :|)
    ending: tuple = ()           # a numbered ending starts here: the passes it is played on
    segno: bool = False
    coda: bool = False           # the coda starts here
    to_coda: bool = False        # leave for the coda after this bar (last pass)
    fine: bool = False
    jump: str = ""               # one of JUMPS, taken after this bar
    fermata: bool = False
    pickup: bool = False
    alternates: list = field(default_factory=list)  # (offset, Chord): written small, not played
    notes: list = field(default_factory=list)       # MelodyNote
    comments: list = field(default_factory=list)    # other texts written on the bar

    @property
    def symbols(self) -> list[str]:
        """The chord symbols written in the bar ("N.C." for None)."""
        return [c.symbol if c is not None else "N.C." for _, c in self.chords]

    @property
    def full_beats(self) -> float:
        return METERS[self.meter]


@dataclass
class Section:
    """A section of the chart: its label and its written bars (``start`` is the first bar's
    0-based index in ``song.bars``)."""

    label: str
    start: int
    bars: list

    def __len__(self) -> int:
        return len(self.bars)


@dataclass(eq=False)
class Song:
    """A chart: title, composer, the source's style text and the workbench style it maps to,
    key, meter, tempo (None if the source has none) and the written bars with their form."""

    title: str = ""
    composer: str = ""
    style: str = ""                 # as the source writes it ("Medium Swing")
    workbench_style: str = "pop"    # the band style it maps to
    key: Key = field(default_factory=lambda: Key(0))
    meter: str = "4/4"
    tempo: float | None = None
    bars: list = field(default_factory=list)
    source: str = ""                # "text", "ireal", "musicxml"
    index: int | None = None        # position in its playlist
    repeats: int | None = None      # choruses the source suggests (iReal's repeat count)

    # -- the chart -------------------------------------------------------------------------------
    @property
    def sections(self) -> list[Section]:
        """The sections in chart order; bars before the first label form a section labelled ""."""
        out: list[Section] = []
        for i, bar in enumerate(self.bars):
            if not out or bar.label is not None:
                out.append(Section(bar.label or bar.section or "", i, []))
            out[-1].bars.append(bar)
        return out

    @property
    def melody(self):
        """The melody as a :class:`~workbench.arrangement.Track` in chart order, or None."""
        if not any(b.notes for b in self.bars):
            return None
        from workbench.arrangement import Note, Track

        notes, start = [], 0.0
        for bar in self.bars:
            for n in bar.notes:
                notes.append(Note(n.pitch, start + n.offset, start + n.offset + n.duration, 90))
            start += bar.beats
        return Track("melody", 0, 0, False, notes)

    def __repr__(self) -> str:
        form = " ".join(s.label or "-" for s in self.sections)
        return (f"<Song {self.title!r} {self.key.name} {self.meter}, {len(self.bars)} bars"
                f"{', form ' + form if form.strip('- ') else ''}, style {self.style or self.workbench_style!r}>")

    def error(self, message: str, bar: int | None = None, token: str | None = None) -> SongError:
        return SongError(message, self.title or None, bar, token, index=self.index)

    # -- playing order ---------------------------------------------------------------------------
    def playing_order(self, choruses: int = 1) -> list[tuple[int, int]]:
        """``(written bar index, chorus)`` for every bar played, in order."""
        try:
            count = int(choruses)
        except (TypeError, ValueError):
            count = 0
        if not 1 <= count <= 64 or count != choruses:
            raise SongError(f"choruses must be a whole number from 1 to 64, not {choruses!r}",
                            field="choruses", token=str(choruses))
        choruses = count
        if not self.bars:
            raise self.error("the song has no bars")
        bars = self.bars
        once = {i for i, b in enumerate(bars)
                if b.pickup or (b.section or "").strip().lower() in INTRO_LABELS}
        body_start = next((i for i in range(len(bars)) if i not in once), 0)
        order: list[tuple[int, int]] = []
        for chorus in range(choruses):
            start = 0 if chorus == 0 else body_start
            self._walk(start, chorus, chorus == choruses - 1, order)
        return order

    def _walk(self, i: int, chorus: int, last: bool, order: list) -> None:
        bars = self.bars
        n = len(bars)
        has_jump = any(b.jump for b in bars)
        coda_start = next((k for k, b in enumerate(bars) if b.coda), None)
        segno = next((k for k, b in enumerate(bars) if b.segno), None)
        jumped = ""      # the jump taken ("" before it)
        taken: dict[int, int] = {}  # repeat-end bar → the pass being played through it
        while i < n:
            bar = bars[i]
            if bar.coda and not jumped and i > 0 and (not last or has_jump):
                return  # earlier choruses end where the coda begins; it is reached by a jump
            if bar.ending:
                wanted = max(self._group_endings(i)) if jumped else taken.get(self._repeat_target(i), 1)
                if wanted not in bar.ending:
                    target = self._ending_for(i, wanted)
                    if target is not None and target != i:
                        i = target
                        continue
            order.append((i, chorus))
            if len(order) > MAX_PLAYED_BARS:
                raise self.error("the form never ends (check its repeats and jumps)", i + 1)
            if last and bar.fine and jumped and not jumped.endswith("Coda"):
                return
            if (last and bar.to_coda and coda_start is not None and coda_start > i
                    and (not has_jump or (jumped and not jumped.endswith("Fine")))):
                i = coda_start
                continue
            if bar.repeat_end and not jumped:
                target = self._repeat_target(i)
                done = taken.get(target, 1)
                # an ending closed by :| with another ending after it always goes round again
                if done < bar.repeat_end or self._ending_follows(i):
                    taken[target] = done + 1
                    i = target
                    continue
            if bar.jump and last and not jumped:
                jumped = bar.jump
                if jumped.startswith("D.S."):
                    if segno is None:
                        raise self.error(f"{bar.jump} but the chart has no segno", i + 1, bar.jump)
                    i = segno
                else:  # the top; a pickup is not played again (it would be a bar of rests)
                    i = 1 if bars[0].pickup and n > 1 else 0
                continue
            i += 1

    def _repeat_target(self, i: int) -> int:
        """Where the repeat that bar ``i`` is in starts: its ``|:``, or just after the ``:|``
        before it (a ``:|`` followed by another ending belongs to the same repeat), or the top."""
        for k in range(i, -1, -1):
            if self.bars[k].repeat_start:
                return k
            if k != i and self.bars[k].repeat_end and not (
                    k + 1 < len(self.bars) and self.bars[k + 1].ending):
                return k + 1
        return 0

    def _ending_follows(self, i: int) -> bool:
        """Whether bar ``i`` is in a numbered ending that has a later ending after it."""
        start = next((k for k in range(i, -1, -1) if self.bars[k].ending or self.bars[k].repeat_start), None)
        if start is None or not self.bars[start].ending:
            return False
        for k in range(i + 1, len(self.bars)):
            if self.bars[k].repeat_start:
                return False
            if self.bars[k].ending:
                return True
        return False

    def _group_endings(self, i: int) -> list[int]:
        """The ending numbers of the group the ending at bar ``i`` belongs to."""
        numbers = list(self.bars[i].ending)
        for k in range(i + 1, len(self.bars)):
            b = self.bars[k]
            if b.repeat_start:
                break
            if b.ending:
                numbers.extend(b.ending)
        return numbers or [1]

    def _ending_for(self, i: int, wanted: int) -> int | None:
        """The next ending start after bar ``i`` (same group) that is played on pass ``wanted``;
        the group's last ending if none lists it."""
        last = None
        for k in range(i + 1, len(self.bars)):
            b = self.bars[k]
            if b.repeat_start:
                break
            if b.ending:
                if wanted in b.ending:
                    return k
                last = k
        return last

    def progression(self, choruses: int = 1) -> Progression:
        """The song in playing order as a :class:`Progression` (one event per chord a bar, the
        section label and chorus of each bar in ``sections`` / ``choruses``)."""
        order = self.playing_order(choruses)
        meter = self.meter
        bar_beats = METERS[meter]
        events: list[ChordEvent] = []
        texts: list[str] = []
        sections: list[str] = []
        starts: list[bool] = []
        chorus_of: list[int] = []
        previous: Chord = NO_CHORD
        for number, (index, chorus) in enumerate(order):
            bar = self.bars[index]
            if bar.meter != meter:
                raise self.error(f"the bar is in {bar.meter} but the song is in {meter}: the band "
                                 "plays one meter", index + 1, bar.meter)
            start = number * bar_beats
            first = len(events)
            shift = bar_beats - bar.beats if bar.pickup else 0.0
            items = [(o + shift, c) for o, c in bar.chords]
            if not items or items[0][0] > 1e-9:
                # the bar opens on the chord still sounding (a pickup opens on silence)
                items.insert(0, (0.0, NO_CHORD if bar.pickup else previous))
            for k, (offset, chord) in enumerate(items):
                end = items[k + 1][0] if k + 1 < len(items) else bar_beats
                chord = chord if chord is not None else NO_CHORD
                if end - offset > 1e-9:
                    events.append(ChordEvent(chord, number, start + offset, end - offset))
                previous = chord
            texts.append(_bar_text(events[first:], meter))
            sections.append(bar.section or "")
            starts.append(number == 0 or bar.label is not None)
            chorus_of.append(chorus)
        text = "| " + " | ".join(texts) + " |"
        return Progression(events, meter, bar_beats, len(order), self.key, False, text, texts,
                           sections=sections, choruses=chorus_of, section_starts=starts)

    def transpose(self, semitones: int) -> Song:
        """The same song moved by ``semitones`` (chords, alternates, melody and key), its chords
        spelled for the new key.

        >>> from workbench.song.text import parse_song
        >>> parse_song("[A] | Cm7 F7 | Bbmaj7 (E7) |").transpose(2).bars[1].symbols
        ['Cmaj7']
        """
        from dataclasses import replace

        from workbench.chords import parse_chord
        from workbench.progression import _transpose_token

        key = self.key.transpose(semitones)
        flats = key.prefers_flats

        def move(items):
            return [(o, None if c is None else parse_chord(_transpose_token(c.symbol, semitones, flats)))
                    for o, c in items]

        bars = [replace(b, chords=move(b.chords), alternates=move(b.alternates),
                        notes=[n._replace(pitch=n.pitch + semitones) for n in b.notes],
                        comments=list(b.comments)) for b in self.bars]
        return replace(self, bars=bars, key=key)

    # -- other forms ------------------------------------------------------------------------------
    def to_text(self) -> str:
        """The song in bar notation with its form (see :func:`workbench.song.text.parse_song`)."""
        from workbench.song.text import song_to_text

        return song_to_text(self)

    def to_musicxml(self, path, arrangement=None):
        """Write a MusicXML lead sheet (``.musicxml``/``.xml``, or compressed ``.mxl``) through
        music21; with an :class:`~workbench.arrangement.Arrangement`, a full score with one part
        per track. Returns the path written (atomically)."""
        from workbench.song.musicxml import write_musicxml

        return write_musicxml(self, path, arrangement)


def _bar_text(mine: list[ChordEvent], meter: str) -> str:
    """A played bar's events in parse_progression notation (explicit lengths when they differ)."""
    unit = 4.0 / int(meter.split("/")[1])
    if len({round(e.duration, 6) for e in mine}) <= 1:
        return " ".join(e.chord.symbol for e in mine)
    return " ".join(f"{e.chord.symbol}:{e.duration / unit:g}" for e in mine)


class SongList(list):
    """The songs of a playlist (a ``list`` of :class:`Song`), plus ``name`` (the playlist's)
    and ``errors``: one :class:`SongError` per song that could not be read (its ``index`` is the
    song's position in the playlist, as is each Song's ``index``)."""

    def __init__(self, songs=(), name: str = "", errors=()):
        super().__init__(songs)
        self.name = name
        self.errors: list[SongError] = list(errors)

    def select(self, index: int) -> Song:
        """The song at playlist position ``index`` (0-based); its read error if it had one."""
        for song in self:
            if song.index == index:
                return song
        for error in self.errors:
            if error.index == index:
                raise error
        total = len(self) + len(self.errors)
        raise SongError(f"no song {index!r} in the playlist: it has {total} song"
                        f"{'s' if total != 1 else ''} (0 to {total - 1})", field="song_index",
                        token=str(index))
