"""MusicXML lead sheets in and out through music21: :func:`read_musicxml`, :func:`write_musicxml`.

Chords are read from the ``<harmony>`` elements (root, kind, degrees, bass), not from music21's
figure strings (it writes flats as ``-``): the kind and its degrees give the notes, which are
named with the workbench's own chord spelling. The melody, if any, is kept on each bar; repeats,
numbered endings, segno, coda, To Coda, Fine, D.C. and D.S. come from the score's barlines,
brackets and directions; rehearsal marks are the sections.

music21 is imported here only (``import workbench`` never loads it).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO

from workbench.chords import CHORD_TYPES, ChordError, note_name, parse_chord
from workbench.keys import Key, detect_key
from workbench.progression import METERS
from workbench.song.model import Bar, MelodyNote, Song, SongError
from workbench.song.styles import known_style, map_style

__all__ = ["read_musicxml", "write_musicxml", "MAX_UNZIPPED_BYTES"]

MAX_UNZIPPED_BYTES = 64 * 1024 * 1024  # a compressed .mxl may not unpack to more than this

# music21's kind names (it maps them to MusicXML's) with the intervals above the root, mod 12
_KINDS: dict[str, frozenset] = {
    "major": frozenset({0, 4, 7}), "minor": frozenset({0, 3, 7}),
    "augmented": frozenset({0, 4, 8}), "diminished": frozenset({0, 3, 6}),
    "dominant-seventh": frozenset({0, 4, 7, 10}), "major-seventh": frozenset({0, 4, 7, 11}),
    "minor-seventh": frozenset({0, 3, 7, 10}), "diminished-seventh": frozenset({0, 3, 6, 9}),
    "augmented-seventh": frozenset({0, 4, 8, 10}),
    "half-diminished-seventh": frozenset({0, 3, 6, 10}),
    "minor-major-seventh": frozenset({0, 3, 7, 11}), "major-sixth": frozenset({0, 4, 7, 9}),
    "minor-sixth": frozenset({0, 3, 7, 9}), "dominant-ninth": frozenset({0, 4, 7, 10, 2}),
    "major-ninth": frozenset({0, 4, 7, 11, 2}), "minor-ninth": frozenset({0, 3, 7, 10, 2}),
    "dominant-11th": frozenset({0, 4, 7, 10, 2, 5}), "minor-11th": frozenset({0, 3, 7, 10, 2, 5}),
    "dominant-13th": frozenset({0, 4, 7, 10, 2, 9}), "major-13th": frozenset({0, 4, 7, 11, 2, 9}),
    "minor-13th": frozenset({0, 3, 7, 10, 2, 5, 9}), "suspended-second": frozenset({0, 2, 7}),
    "suspended-fourth": frozenset({0, 5, 7}), "power": frozenset({0, 7}),
}
# the workbench's spelling of each kind, to name a chord as the score wrote it (kind + degrees)
_KIND_TEXT = {
    "major": "", "minor": "m", "augmented": "aug", "diminished": "dim", "dominant-seventh": "7",
    "major-seventh": "maj7", "minor-seventh": "m7", "diminished-seventh": "dim7",
    "augmented-seventh": "aug7", "half-diminished-seventh": "m7b5", "minor-major-seventh": "mMaj7",
    "major-sixth": "6", "minor-sixth": "m6", "dominant-ninth": "9", "major-ninth": "maj9",
    "minor-ninth": "m9", "dominant-11th": "11", "minor-11th": "m11", "dominant-13th": "13",
    "major-13th": "maj13", "minor-13th": "m13", "suspended-second": "sus2",
    "suspended-fourth": "sus4", "power": "5",
}
_KIND_ALIASES = {"dominant": "dominant-seventh", "half-diminished": "half-diminished-seventh",
                 "major-minor": "minor-major-seventh", "dominant-ninth": "dominant-ninth"}
# degree → semitones above the root (degrees of <degree-value>)
_DEGREE = {1: 0, 2: 2, 3: 4, 4: 5, 5: 7, 6: 9, 7: 11, 9: 2, 11: 5, 13: 9}
# an interval a chord adds, as (degree, alter) the way lead sheets name it
_ADD = {1: (9, -1), 2: (9, 0), 3: (9, 1), 4: (3, 0), 5: (11, 0), 6: (11, 1), 7: (5, 0),
        8: (13, -1), 9: (13, 0), 10: (7, -1), 11: (7, 0), 0: (1, 0)}
_SUBTRACT = {0: 1, 2: 9, 3: 3, 4: 3, 5: 11, 7: 5, 9: 13, 10: 7, 11: 7, 8: 5, 6: 5}
# canonical chord types by their interval set, to name what a kind and its degrees make
_BY_SET: dict[frozenset, str] = {}
for _type in CHORD_TYPES:
    _BY_SET.setdefault(frozenset(i % 12 for i in parse_chord("C" + _type).intervals), _type)
_NOTE = re.compile(r"[A-G][b#]*")
_JUMP_TEXT = re.compile(r"^\s*(D\.?\s*[CS]\.?|Da\s+Capo|Dal\s+Segno)(?:\s+al\s+(Coda|Fine))?\s*$", re.I)


# ------------------------------------------------------------------------------------ reading
def read_musicxml(source, title: str | None = None) -> Song:
    """A Song from a MusicXML (``.musicxml``/``.xml``) or compressed ``.mxl`` lead sheet: a path,
    the file's bytes or its text. Raises :class:`SongError` naming the bar and the chord it cannot read."""
    from music21 import converter

    name = title
    if isinstance(source, str) and source.lstrip().startswith("<"):
        source = source.encode("utf-8")  # the file's text rather than its path
    _check_zip(source)
    try:
        if isinstance(source, (bytes, bytearray)):
            data = bytes(source)
            suffix = ".mxl" if data[:2] == b"PK" else ".musicxml"
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / f"upload{suffix}"
                path.write_bytes(data)
                score = converter.parse(str(path), format="musicxml")
        else:
            path = Path(source)
            if not path.is_file():
                raise SongError(f"no MusicXML file {str(path)!r}", token=str(path))
            name = name or path.stem
            score = converter.parse(str(path), format="musicxml")
    except SongError:
        raise
    except Exception as error:  # music21 raises many kinds on a damaged file
        raise SongError(f"cannot read the MusicXML: {error}", name) from None
    return _song_from_score(score, name)


def _check_zip(source) -> None:
    """A compressed MusicXML is a zip: refuse one that would unpack to more than
    :data:`MAX_UNZIPPED_BYTES` (a zip bomb) before music21 unpacks it in memory."""
    import io
    import zipfile

    handle: BinaryIO
    if isinstance(source, (bytes, bytearray)):
        if bytes(source[:2]) != b"PK":
            return
        handle = io.BytesIO(bytes(source))
    else:
        path = Path(source)
        if not path.is_file():
            return
        handle = path.open("rb")
        if handle.read(2) != b"PK":
            handle.close()
            return
    try:
        with zipfile.ZipFile(handle) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise SongError("the .mxl file is not a readable zip archive") from None
    finally:
        handle.close()
    if total > MAX_UNZIPPED_BYTES:
        raise SongError(f"the .mxl file unpacks to {total} bytes, more than the "
                        f"{MAX_UNZIPPED_BYTES} allowed")


def _song_from_score(score, name):
    from music21 import harmony, stream

    meta = score.metadata
    title = (meta.title or meta.movementName or name or "") if meta is not None else (name or "")
    song = Song(title=title or "", composer=(meta.composer or "") if meta is not None else "",
                source="musicxml")
    parts = list(score.parts) or [score]
    part = max(parts, key=lambda p: len(p.recurse().getElementsByClass(harmony.ChordSymbol)))
    measures = list(part.getElementsByClass(stream.Measure))
    if not measures or not part.recurse().getElementsByClass(harmony.ChordSymbol):
        raise song.error("the score has no chord symbols (<harmony>) to play")
    index = {id(m): i for i, m in enumerate(measures)}
    meter = None
    fifths = None
    section = ""
    for i, m in enumerate(measures):
        bar = _read_measure(song, m, i, meter)
        meter = bar.meter
        if fifths is None:
            fifths = _key_of(m)
        if bar.label is not None:
            section = bar.label
        bar.section = section
        song.bars.append(bar)
    from music21 import spanner

    for bracket in part.spannerBundle.getByClass(spanner.RepeatBracket):
        spanned = [index[id(m)] for m in bracket.getSpannedElements() if id(m) in index]
        if spanned:
            song.bars[min(spanned)].ending = tuple(bracket.numberRange or [1])
    song.meter = song.bars[0].meter
    first = song.bars[0].comments
    if first and known_style(first[0]):  # lead sheets write the style above the first bar
        song.style = first.pop(0)
    song.workbench_style = map_style(song.style, song.meter)
    chords = [c for b in song.bars for _, c in b.chords if c is not None]
    detected = detect_key(chords)
    if isinstance(fifths, Key):
        song.key = fifths
    elif fifths is not None and detected.fifths != fifths:
        song.key = Key(((fifths * 7) % 12), "major")
    else:
        song.key = detected
    return song


def _key_of(measure):
    from music21 import key

    for k in measure.flatten().getElementsByClass(key.KeySignature):
        if isinstance(k, key.Key):
            return Key(k.tonic.pitchClass, "minor" if k.mode == "minor" else "major")
        return k.sharps
    return None


def _read_measure(song: Song, m, i: int, meter: str | None) -> Bar:
    from music21 import bar as m21bar
    from music21 import chord as m21chord
    from music21 import expressions, harmony, note, repeat, tempo

    flat = m.flatten()
    if m.timeSignature is not None:
        meter = m.timeSignature.ratioString
        if meter not in METERS:
            raise song.error(f"the band cannot play the meter {meter}", i + 1, meter)
    meter = meter or "4/4"
    full = METERS[meter]
    bar = Bar([], full, meter)
    length = float(m.duration.quarterLength)
    if i == 0 and (m.paddingLeft or 0) > 0 and 0 < length < full - 1e-9:
        bar.pickup, bar.beats = True, length
    if isinstance(m.leftBarline, m21bar.Repeat) and m.leftBarline.direction == "start":
        bar.repeat_start = True
    if isinstance(m.rightBarline, m21bar.Repeat) and m.rightBarline.direction == "end":
        bar.repeat_end = max(int(m.rightBarline.times or 2), 2)
    for element in flat:
        if isinstance(element, harmony.ChordSymbol):
            bar.chords.append((round(float(element.offset), 9), _read_harmony(song, element, i)))
        elif isinstance(element, note.Note):
            if element.tie is None or element.tie.type == "start":
                bar.notes.append(MelodyNote(float(element.offset), _tied_length(element),
                                            element.pitch.midi))
        elif isinstance(element, m21chord.Chord):
            bar.notes.append(MelodyNote(float(element.offset), float(element.quarterLength),
                                        max(p.midi for p in element.pitches)))
        elif isinstance(element, expressions.RehearsalMark):
            bar.label = str(element.content).strip()
            if bar.label.lower() == "coda":
                bar.coda = True
        elif isinstance(element, repeat.Segno):
            bar.segno = True
        elif isinstance(element, repeat.Coda):
            if "to" in (element.getText() or "").lower().split():
                bar.to_coda = True
            else:
                bar.coda = True
        elif isinstance(element, repeat.Fine):
            bar.fine = True
        elif isinstance(element, repeat.RepeatExpressionCommand):
            bar.jump = _jump_name(type(element).__name__)
        elif isinstance(element, expressions.TextExpression):
            _read_words(bar, str(element.content))
        elif isinstance(element, tempo.MetronomeMark) and song.tempo is None and element.number:
            song.tempo = float(element.number)
    bar.chords.sort(key=lambda item: item[0])
    return bar


def _tied_length(n) -> float:
    """A note's length with the notes tied to it (within the bar)."""
    length = float(n.quarterLength)
    nxt = n.next("Note") if n.tie is not None else None
    while nxt is not None and nxt.tie is not None and nxt.tie.type in ("continue", "stop") \
            and nxt.activeSite is n.activeSite:
        length += float(nxt.quarterLength)
        nxt = nxt.next("Note") if nxt.tie.type == "continue" else None
    return length


def _jump_name(cls: str) -> str:
    base = "D.C." if cls.startswith("DaCapo") else "D.S."
    return base + (" al Fine" if cls.endswith("AlFine") else " al Coda" if cls.endswith("AlCoda") else "")


def _read_words(bar: Bar, text: str) -> None:
    words = text.strip()
    m = _JUMP_TEXT.match(words)
    if m:
        base = "D.C." if m.group(1).lower().replace(" ", "").startswith(("d.c", "dc", "dacapo")) else "D.S."
        bar.jump = base + (f" al {m.group(2).capitalize()}" if m.group(2) else "")
    elif words.lower() == "fine":
        bar.fine = True
    elif words.lower() in ("to coda", "tocoda"):
        bar.to_coda = True
    elif words:
        bar.comments.append(words)


def _read_harmony(song: Song, cs, i: int):
    """A music21 ChordSymbol (from <harmony>) → Chord (None for N.C.)."""
    from music21 import harmony

    if isinstance(cs, harmony.NoChord) or cs.chordKind in ("none", None):
        return None
    root = cs.root()
    if root is None:
        raise song.error("a chord symbol without a root", i + 1)
    root_name = _name(root)
    kind = _KIND_ALIASES.get(cs.chordKind, cs.chordKind)
    intervals = set(_KINDS.get(kind, ()))
    if not intervals:
        raise song.error(f"unknown chord kind {cs.chordKind!r}", i + 1, cs.chordKind)
    written = _KIND_TEXT.get(kind, "")
    for mod in cs.chordStepModifications:
        degree = int(mod.degree)
        alter = int(mod.interval.semitones) if mod.interval else 0
        plain = _DEGREE.get(degree, 0) % 12
        sign = "b" if alter < 0 else "#" if alter > 0 else ""
        if mod.modType == "add":
            intervals.add((plain + alter) % 12)
            written += sign + str(degree) if sign or degree in (9, 11, 13) else f"add{degree}"
        elif mod.modType == "subtract":
            intervals.discard(plain)
            written += f"no{degree}"
        elif mod.modType == "alter":
            intervals.discard(plain)
            intervals.add((plain + alter) % 12)
            written += sign + str(degree)
    bass = cs.bass()
    tail = f"/{_name(bass)}" if bass is not None and bass.name != root.name else ""
    wanted = frozenset(intervals)
    for text in (cs.chordKindStr or "", written, _quality_text(wanted, kind)):
        try:
            chord = parse_chord(root_name + text + tail)
        except ChordError:
            continue
        if frozenset(x % 12 for x in chord.intervals) == wanted:
            return chord
    raise song.error(f"unknown chord {root_name + (cs.chordKindStr or cs.chordKind) + tail!r}",
                     i + 1, root_name + (cs.chordKindStr or ""))


def _name(pitch) -> str:
    return pitch.step + pitch.accidental.modifier.replace("-", "b") if pitch.accidental else pitch.step


def _quality_text(wanted: frozenset, kind: str) -> str:
    """The workbench quality for an interval set: a chord type, or the nearest one plus
    alterations (``7`` + ``b9#5``)."""
    name = _BY_SET.get(wanted)
    if name is not None:
        return "" if name == "maj" else name
    best = min(_BY_SET, key=lambda s: (len(s ^ wanted), len(s - wanted), _BY_SET[s] != kind))
    base = _BY_SET[best]
    extra = []
    for semis in sorted(wanted - best):
        degree, alter = _ADD[semis]
        extra.append(("b" if alter < 0 else "#" if alter > 0 else "add") + str(degree))
    for semis in sorted(best - wanted):
        extra.append(f"no{_SUBTRACT.get(semis, 5)}")
    return ("" if base == "maj" else base) + "".join(extra)


# ------------------------------------------------------------------------------------ writing
def _kind_of(chord) -> tuple[str, list[tuple[str, int, int]]]:
    """A Chord → (music21 kind, degree modifications [(type, degree, alter)])."""
    have = frozenset(x % 12 for x in chord.intervals)
    kind = min(_KINDS, key=lambda k: (len(_KINDS[k] ^ have), len(_KINDS[k] - have)))
    base = _KINDS[kind]
    mods = []
    extra, missing = sorted(have - base), sorted(base - have)
    if 7 in missing and extra and extra[0] in (6, 8) and 6 not in base and 8 not in base:
        mods.append(("alter", 5, extra[0] - 7))
        missing.remove(7)
        extra.remove(extra[0])
    for semis in extra:
        degree, alter = _ADD[semis]
        mods.append(("add", degree, alter))
    for semis in missing:
        mods.append(("subtract", _SUBTRACT.get(semis, 5), 0))
    return kind, mods


def _chord_symbol(chord):
    from music21 import harmony, pitch

    if chord is None:
        return harmony.NoChord()
    kind, mods = _kind_of(chord)
    text = chord.symbol.replace("♭", "b").replace("♯", "#")
    root = _NOTE.match(text).group()
    cs = harmony.ChordSymbol(root=root.replace("b", "-"), kind=kind)
    if chord.is_slash:
        cs.bass(pitch.Pitch(text.rsplit("/", 1)[-1].replace("b", "-")), allow_add=True)
    for mod_type, degree, alter in mods:
        cs.addChordStepModification(harmony.ChordStepModification(mod_type, degree, alter),
                                    updatePitches=False)
    # the kind's text is the symbol as written (G7sus stays G7sus; the kind says dominant)
    written = text[len(root):]
    cs.chordKindStr = written.rsplit("/", 1)[0] if chord.is_slash else written
    return cs


def write_musicxml(song: Song, path, arrangement=None) -> Path:
    """Write the song as a MusicXML lead sheet (or, with an Arrangement, a full score)."""
    from music21 import metadata, stream

    path = Path(path)
    fmt = "mxl" if path.suffix.lower() == ".mxl" else "musicxml"
    score = stream.Score()
    score.metadata = metadata.Metadata()
    score.metadata.title = song.title or "Untitled"
    if song.composer:
        score.metadata.composer = song.composer
    if arrangement is None:
        score.insert(0, _lead_sheet(song))
    else:
        for part in _full_score(song, arrangement):
            score.insert(0, part)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix or ".musicxml",
                               dir=path.parent)
    os.close(fd)
    try:
        written = Path(score.write(fmt, fp=tmp))
        with open(written, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(written, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _first_attributes(measure, song: Song, meter: str, tempo: float | None):
    from music21 import key
    from music21 import meter as m21meter
    from music21 import tempo as m21tempo

    tonic = note_name(song.key.tonic, song.key.prefers_flats).replace("b", "-")
    measure.insert(0, key.Key(tonic, song.key.mode))
    measure.insert(0, m21meter.TimeSignature(meter))
    if tempo:
        measure.insert(0, m21tempo.MetronomeMark(number=tempo))


def _lead_sheet(song: Song):
    from music21 import bar as m21bar
    from music21 import expressions, note, repeat, spanner, stream
    from music21 import meter as m21meter

    part = stream.Part()
    part.partName = "Lead sheet"
    measures = []
    meter = song.meter
    for i, b in enumerate(song.bars):
        m = stream.Measure(number=i + (0 if song.bars[0].pickup else 1))
        if i == 0:
            _first_attributes(m, song, b.meter, song.tempo)
            if song.style:
                m.insert(0, expressions.TextExpression(song.style))
        elif b.meter != meter:
            m.insert(0, m21meter.TimeSignature(b.meter))
        meter = b.meter
        if b.pickup:
            m.paddingLeft = b.full_beats - b.beats
        if b.label is not None:
            m.insert(0, expressions.RehearsalMark(b.label))
        if b.segno:
            m.insert(0, repeat.Segno())
        if b.coda:
            m.insert(0, repeat.Coda())
        for offset, chord in b.chords:
            m.insert(offset, _chord_symbol(chord))
        _melody(m, b, note)
        if b.to_coda:
            m.insert(b.beats, expressions.TextExpression("To Coda"))
        if b.fine:
            m.insert(b.beats, repeat.Fine())
        if b.jump:
            m.insert(b.beats, _jump_expression(b.jump))
        if b.comments:
            for text in b.comments:
                m.insert(0, expressions.TextExpression(text))
        if b.repeat_start:
            m.leftBarline = m21bar.Repeat(direction="start")
        if b.repeat_end:
            m.rightBarline = m21bar.Repeat(direction="end", times=b.repeat_end)
        part.append(m)
        measures.append(m)
    for start, stop, numbers in _ending_spans(song):
        bracket = spanner.RepeatBracket(measures[start:stop + 1],
                                        number=", ".join(str(n) for n in numbers))
        part.insert(0, bracket)
    return part


def _melody(m, b: Bar, note) -> None:
    """The bar's melody notes, rests filling the gaps (a bar without melody gets one rest)."""
    at = 0.0
    for n in sorted(b.notes):
        if n.offset > at + 1e-6:
            m.insert(at, note.Rest(quarterLength=n.offset - at))
        m.insert(n.offset, note.Note(n.pitch, quarterLength=n.duration))
        at = max(at, n.offset + n.duration)
    if b.beats > at + 1e-6:
        m.insert(at, note.Rest(quarterLength=b.beats - at))


def _jump_expression(jump: str):
    from music21 import repeat

    return {"D.C.": repeat.DaCapo, "D.C. al Fine": repeat.DaCapoAlFine,
            "D.C. al Coda": repeat.DaCapoAlCoda, "D.S.": repeat.DalSegno,
            "D.S. al Fine": repeat.DalSegnoAlFine, "D.S. al Coda": repeat.DalSegnoAlCoda}[jump]()


def _ending_spans(song: Song) -> list[tuple[int, int, tuple]]:
    """(first bar, last bar, numbers) of each ending bracket: to its ``:|``, else one bar."""
    spans = []
    bars = song.bars
    for i, b in enumerate(bars):
        if not b.ending:
            continue
        stop = i
        for k in range(i, len(bars)):
            if k > i and (bars[k].ending or bars[k].label is not None or bars[k].repeat_start):
                break
            if bars[k].repeat_end:
                stop = k
                break
        spans.append((i, stop, b.ending))
    return spans


def _full_score(song: Song, arrangement) -> list:
    """One part for the chords (with the sections of the take) and one per track, in the
    take's playing order."""
    from music21 import chord as music21_chord
    from music21 import expressions, instrument, note, stream
    from music21 import meter as m21meter

    prog = arrangement.progression
    bpb = arrangement.beats_per_bar
    offset = arrangement.offset
    bars = arrangement.bars
    chords = stream.Part()
    chords.partName = "Chords"
    by_bar: dict[int, list] = {}
    for ev in arrangement.chords:
        by_bar.setdefault(int(round((ev.start - offset) // bpb)) + (1 if offset else 0), []).append(ev)
    last_label = None
    for i in range(bars):
        m = stream.Measure(number=i + 1)
        if i == 0:
            _first_attributes(m, song, arrangement.meter, arrangement.tempo)
        played = i - (1 if offset else 0)
        label = prog.section(played) if prog is not None and played >= 0 else ""
        starts = prog is not None and played < len(prog.section_starts) and \
            prog.section_starts[played]
        if label and (label != last_label or starts
                      or prog.chorus(played) != prog.chorus(played - 1)):
            m.insert(0, expressions.RehearsalMark(label))
        last_label = label
        for ev in by_bar.get(i, []):
            chord = None if ev.chord.is_no_chord else ev.chord
            m.insert(round((ev.start - i * bpb) * 12) / 12, _chord_symbol(chord))
        m.insert(0, note.Rest(quarterLength=bpb))
        chords.append(m)
    parts = [chords]
    unit = _swing_unit(arrangement.style)
    flats = arrangement.key.prefers_flats if arrangement.key is not None else False
    names = [note_name(pc, flats).replace("b", "-") for pc in range(12)]   # music21's flats
    for name, track in arrangement.tracks.items():
        part = stream.Part()
        part.partName = name.capitalize()
        inst = instrument.UnpitchedPercussion() if track.is_drum else instrument.instrumentFromMidiProgram(track.program)
        inst.midiChannel = track.channel
        part.insert(0, inst)
        for start, length, pitches in _written_notes(track.notes, arrangement.swing, unit,
                                                     arrangement.length_beats):
            # spelled in the key: named pitches spare music21 its slow enharmonic search
            spelled = [f"{names[p % 12]}{p // 12 - 1}" for p in pitches]
            part.insert(start, note.Note(spelled[0], quarterLength=length) if len(spelled) == 1
                        else music21_chord.Chord(spelled, quarterLength=length))
        part.insert(0, m21meter.TimeSignature(arrangement.meter))
        if not track.notes or track.notes[-1].end < arrangement.length_beats:
            part.insert(arrangement.length_beats - GRID, note.Rest(quarterLength=GRID))
        parts.append(part.makeNotation())
    return parts


GRID = 0.25     # beats: a score is written in sixteenths, the swing and the feel left to players


def _swing_unit(style: str) -> float:
    from workbench.band.styles import get_style
    from workbench.errors import WorkbenchError

    try:
        return get_style(style).swing_unit
    except WorkbenchError:      # a take from a style no longer known
        return 0.5


def _unswing(x: float, swing: float, unit: float) -> float:
    """The straight position a swung one was played from (the inverse of the band's swing):
    swung eighths are written as eighths, as on any chart."""
    if not swing:
        return x
    pair = 2 * unit
    k = x // pair
    g = x - k * pair
    mid = unit * (1.0 + 0.5 * swing)
    f = g * unit / mid if g <= mid else unit + (g - mid) * unit / (pair - mid)
    return k * pair + f


def _written_notes(notes, swing: float, unit: float, length: float):
    """The notes as a player reads them: unswung, on the sixteenth grid (the feel's push and
    jitter gone), notes struck together with the same length as one chord. Sorted
    (start, length, pitches) triples."""
    struck: dict[tuple[float, float], set[int]] = {}
    for n in notes:
        start = round(_unswing(n.start, swing, unit) / GRID) * GRID
        end = round(_unswing(n.end, swing, unit) / GRID) * GRID
        start = min(max(start, 0.0), length - GRID)
        end = min(max(end, start + GRID), length)
        struck.setdefault((start, end - start), set()).add(n.pitch)
    return [(start, dur, sorted(pitches)) for (start, dur), pitches in sorted(struck.items())]
