"""MusicXML lead sheets through music21: lead sheets made with music21 read in, songs written
out and read back to the same chords per bar and the same form, full scores."""

from __future__ import annotations

import zipfile

import pytest
from ireal_fixtures import AUTUMN, irealb, song_fields
from test_song_model import AABA, DS_AL_CODA

import workbench
from workbench import SongError, parse_chord, parse_song, read_ireal, read_musicxml

music21 = pytest.importorskip("music21")
from music21 import bar, expressions, harmony, key, metadata, meter, note, repeat, spanner, stream  # noqa: E402


def chords_per_bar(song):
    return [[(o, c.symbol if c is not None else "N.C.") for o, c in b.chords] for b in song.bars]


def notes_per_bar(song):
    return [[(o, c.root, c.bass, c.pitch_classes) if c is not None else (o, None)
             for o, c in b.chords] for b in song.bars]


def form(song):
    return [(b.label, b.repeat_start, b.repeat_end, b.ending, b.segno, b.coda, b.to_coda, b.fine,
             b.jump, b.pickup, b.beats, b.meter) for b in song.bars]


def music21_lead_sheet(path):
    """A lead sheet as a notation program makes one: melody, <harmony> with kinds, degrees and
    bass, a pickup, a rehearsal mark, a repeat with two endings, D.C. al Fine."""
    score = stream.Score()
    score.metadata = metadata.Metadata(title="Made With Music21", composer="A. Tester")
    part = stream.Part()

    def measure(number, symbols, pitches, length=4.0):
        m = stream.Measure(number=number)
        at = 0.0
        for offset, cs in symbols:
            m.insert(offset, cs)
        step = length / len(pitches)
        for p in pitches:
            m.insert(at, note.Note(p, quarterLength=step))
            at += step
        return m

    altered = harmony.ChordSymbol(root="G", kind="dominant-seventh")
    altered.addChordStepModification(harmony.ChordStepModification("add", 9, -1))
    altered.addChordStepModification(harmony.ChordStepModification("alter", 5, 1))
    slash = harmony.ChordSymbol(root="C", kind="major", bass="E")
    m0 = measure(0, [(0, harmony.ChordSymbol(root="G", kind="dominant-seventh"))], ["D4"], 1.0)
    m0.paddingLeft = 3.0
    m0.insert(0, meter.TimeSignature("4/4"))
    m0.insert(0, key.Key("F"))
    m1 = measure(1, [(0, harmony.ChordSymbol(root="F", kind="major-seventh")),
                     (2, harmony.ChordSymbol(root="D", kind="minor-seventh"))], ["A4", "C5"])
    m1.insert(0, expressions.RehearsalMark("A"))
    m1.leftBarline = bar.Repeat(direction="start")
    m2 = measure(2, [(0, harmony.ChordSymbol(root="G", kind="minor-seventh")), (2, altered)],
                 ["B-4", "A4", "G4", "F4"])
    m3 = measure(3, [(0, harmony.ChordSymbol(root="C", kind="dominant-seventh"))], ["E4"])
    m3.rightBarline = bar.Repeat(direction="end")
    m4 = measure(4, [(0, slash), (3, harmony.NoChord())], ["F4"])
    m4.insert(4, repeat.Fine())
    m5 = measure(5, [(0, harmony.ChordSymbol(root="B-", kind="half-diminished-seventh"))], ["D4"])
    m5.insert(0, expressions.RehearsalMark("B"))
    m5.insert(4, repeat.DaCapoAlFine())
    for m in (m0, m1, m2, m3, m4, m5):
        part.append(m)
    part.insert(0, spanner.RepeatBracket(m3, number=1))
    part.insert(0, spanner.RepeatBracket(m4, number=2))
    score.insert(0, part)
    score.write("musicxml", fp=str(path))
    return path


def test_reads_a_music21_lead_sheet(tmp_path):
    song = read_musicxml(music21_lead_sheet(tmp_path / "lead.musicxml"))
    assert (song.title, song.composer, song.key.name, song.meter) == (
        "Made With Music21", "A. Tester", "F major", "4/4")
    assert chords_per_bar(song) == [
        [(0.0, "G7")], [(0.0, "Fmaj7"), (2.0, "Dm7")], [(0.0, "Gm7"), (2.0, "G7b9#5")],
        [(0.0, "C7")], [(0.0, "C/E"), (3.0, "N.C.")], [(0.0, "Bbm7b5")]]
    g7 = song.bars[2].chords[1][1]
    assert g7.pitch_classes == parse_chord("G7b9#5").pitch_classes
    assert song.bars[4].chords[0][1].bass == 4
    assert song.bars[0].pickup and song.bars[0].beats == 1.0
    assert [s.label for s in song.sections] == ["", "A", "B"]
    assert song.bars[1].repeat_start and song.bars[3].repeat_end == 2
    assert song.bars[3].ending == (1,) and song.bars[4].ending == (2,)
    assert song.bars[4].fine and song.bars[5].jump == "D.C. al Fine"
    # pickup, A (ending 1), A (ending 2), B, D.C. → from the top (the pickup is not played
    # again) to Fine, repeats not taken
    assert [i for i, _ in song.playing_order()] == [0, 1, 2, 3, 1, 2, 4, 5, 1, 2, 4]
    melody = song.melody
    assert [n.pitch for n in melody.notes][:3] == [62, 69, 72]
    assert song.bars[2].notes[1].offset == 1.0 and song.bars[2].notes[1].pitch == 69


def test_bytes_and_mxl(tmp_path):
    path = music21_lead_sheet(tmp_path / "lead.musicxml")
    from_bytes = read_musicxml(path.read_bytes())
    mxl = tmp_path / "lead.mxl"
    with zipfile.ZipFile(mxl, "w") as z:  # a compressed MusicXML: container + score
        z.writestr("META-INF/container.xml",
                   '<?xml version="1.0" encoding="UTF-8"?><container><rootfiles>'
                   '<rootfile full-path="lead.musicxml"/></rootfiles></container>')
        z.writestr("lead.musicxml", path.read_bytes())
    for song in (from_bytes, read_musicxml(mxl), read_musicxml(mxl.read_bytes())):
        assert chords_per_bar(song) == chords_per_bar(read_musicxml(path))


@pytest.mark.parametrize("source", ["aaba", "ds", "ireal", "waltz"])
@pytest.mark.parametrize("suffix", [".musicxml", ".mxl"])
def test_round_trip_keeps_chords_per_bar_and_form(tmp_path, source, suffix):
    song = {
        "aaba": lambda: parse_song(AABA),
        "ds": lambda: parse_song(DS_AL_CODA),
        "ireal": lambda: read_ireal(irealb(song_fields("Autumn Leaves", AUTUMN, key="G-",
                                                        tempo=126)))[0],
        "waltz": lambda: parse_song("Title: Waltz\nMeter: 3/4\nTempo: 150\n| pickup D7:1 |: "
                                    "G / Em | Am7b5 (Eb7) | D7sus4 D7#9 D13 | G6/9 :| x3 | Cm6 | "
                                    "C7alt/E | Bb+ | F#dim7 N.C. / |"),
    }[source]()
    path = song.to_musicxml(tmp_path / f"song{suffix}")
    assert path.is_file() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    back = read_musicxml(path)
    assert notes_per_bar(back) == notes_per_bar(song)
    assert chords_per_bar(back) == chords_per_bar(song)  # spelled as written, too
    assert form(back) == form(song)
    for choruses in (1, 2):
        assert back.playing_order(choruses) == song.playing_order(choruses)
    assert (back.title, back.key, back.meter, back.tempo) == (
        song.title or "Untitled", song.key, song.meter, song.tempo)
    assert back.workbench_style == song.workbench_style


def test_written_file_has_harmony_kinds_and_bass(tmp_path):
    path = parse_song("| C7b9/E | Dm7b5 | Fmaj7#11 |").to_musicxml(tmp_path / "s.musicxml")
    xml = path.read_text()
    assert "<kind" in xml and ">dominant<" in xml and ">half-diminished<" in xml
    assert "<bass>" in xml and "<degree>" in xml


def test_full_score_one_part_per_track(tmp_path):
    song = parse_song(AABA)
    arr = workbench.generate(song, tracks="bass,drums,keys", seed=3)
    path = song.to_musicxml(tmp_path / "score.musicxml", arrangement=arr)
    score = music21.converter.parse(str(path))
    names = [p.partName for p in score.parts]
    assert names == ["Chords", "Bass", "Drums", "Keys"]
    chords_part = score.parts[0]
    # the form, and swing's tag (its closing two bars twice more) before the final bar
    assert len(chords_part.getElementsByClass(stream.Measure)) == arr.bars == arr.intro_bars + 36
    marks = [m.content for m in chords_part.recurse().getElementsByClass(expressions.RehearsalMark)]
    assert marks == ["A", "A", "B", "A"]        # the two A's in a row are two sections
    bass = score.parts[1].recurse().notes
    assert len(bass) >= len(arr.tracks["bass"].notes) // 2


def test_errors(tmp_path):
    with pytest.raises(SongError, match="no MusicXML file"):
        read_musicxml(tmp_path / "missing.musicxml")
    with pytest.raises(SongError, match="cannot read the MusicXML"):
        read_musicxml(b"<score-partwise><oops")
    empty = stream.Score()
    empty.insert(0, stream.Part([stream.Measure([note.Note("C4", quarterLength=4)])]))
    path = tmp_path / "melody-only.musicxml"
    empty.write("musicxml", fp=str(path))
    with pytest.raises(SongError, match="no chord symbols"):
        read_musicxml(path)


def test_a_zip_bomb_is_refused_before_music21_unpacks_it(tmp_path, monkeypatch):
    import io

    from workbench.song import musicxml

    monkeypatch.setattr(musicxml, "MAX_UNZIPPED_BYTES", 10_000)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("META-INF/container.xml", "<container/>")
        z.writestr("big.musicxml", "<score-partwise>" + " " * 20_000 + "</score-partwise>")
    data = buffer.getvalue()
    assert len(data) < 2_000
    with pytest.raises(SongError, match="unpacks to .* more than the 10000 allowed"):
        read_musicxml(data)
    path = tmp_path / "big.mxl"
    path.write_bytes(data)
    with pytest.raises(SongError, match="more than the 10000 allowed"):
        read_musicxml(path)
    with pytest.raises(SongError, match="not a readable zip"):
        read_musicxml(b"PK\x03\x04 not really a zip")


def test_read_songs_opens_files_only_when_allowed(tmp_path):
    from workbench import read_songs

    path = tmp_path / "song.txt"
    path.write_text("Title: File Song\n| C | G |")
    assert read_songs(str(path))[0].title == "File Song"
    assert read_songs(path)[0].title == "File Song"
    with pytest.raises(SongError, match="not allowed"):
        read_songs(path, paths=False)
    with pytest.raises(SongError, match="unknown chord"):
        read_songs(str(path), paths=False)  # taken as song text, not opened
    mxl = parse_song("| C | G |").to_musicxml(tmp_path / "s.mxl")
    assert read_songs(mxl.read_bytes(), paths=False)[0].bars[1].symbols == ["G"]


def test_musicxml_text_is_read_too(tmp_path):
    path = parse_song("Title: Text\n| Dm7 | G7 |").to_musicxml(tmp_path / "t.musicxml")
    assert read_musicxml(path.read_text()).title == "Text"


def test_full_score_is_written_as_players_read_it(tmp_path):
    """The feel is left to the players: swung eighths are written as eighths, every note sits on
    the sixteenth grid (no tuplets from the push and jitter), and the notes of a chord struck
    together are one chord."""
    song = parse_song("| Dm7 | G7 | Cmaj7 | A7 |")
    arr = workbench.generate(song, style="swing", tracks="bass,drums,keys", seed=5)
    assert arr.swing > 0
    path = song.to_musicxml(tmp_path / "swing.musicxml", arrangement=arr)
    xml = path.read_text()
    assert "<tuplet" not in xml and "<time-modification>" not in xml
    score = music21.converter.parse(str(path))
    keys = score.parts[3]
    offsets = [float(n.getOffsetInHierarchy(keys)) for n in keys.recurse().notes]
    assert offsets and all((o * 4).is_integer() for o in offsets)
    assert any(len(n.pitches) >= 3 for n in keys.recurse().notes)     # voicings as chords
    assert len(keys.recurse().notes) < len(arr.tracks["keys"].notes)
