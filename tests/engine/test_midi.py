"""MIDI out: the files say what the Arrangement says (read back with music21 and pretty_midi),
and they are written atomically, named as the plugin expects, never overwritten."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

import workbench
from workbench import midi

PROG = "| C Am7 | Dm7 G7/B | C/E N.C. | F6 G7sus4 | Bb | Ebmaj7 | Ab | G7 |"


@pytest.fixture(scope="module")
def arr():
    return workbench.generate(PROG, style="funk", tempo=97.5, key="C", seed=4, humanize=0.6,
                              count_in=True)


def _music21_read(path):
    """Notes (pitch, start, end, velocity, channel), programs, names and meta from music21's reader."""
    from music21 import midi as m21

    mf = m21.MidiFile()
    mf.open(str(path))
    mf.read()
    mf.close()
    ppq = mf.ticksPerQuarterNote
    tracks = []
    for tr in mf.tracks:
        t = 0
        info = {"name": None, "program": None, "notes": [], "meta": {}}
        pending = {}
        for e in tr.events:
            if e.isDeltaTime():
                t += e.time
                continue
            kind = getattr(e.type, "name", str(e.type))
            if kind == "SEQUENCE_TRACK_NAME":
                info["name"] = e.data.decode()
            elif kind == "PROGRAM_CHANGE":
                info["program"] = e.data
            elif kind in ("SET_TEMPO", "TIME_SIGNATURE", "KEY_SIGNATURE"):
                info["meta"][kind] = e.data
            elif kind == "NOTE_ON" and e.velocity > 0:
                pending.setdefault((e.channel, e.pitch), []).append((t, e.velocity))
            elif kind in ("NOTE_OFF", "NOTE_ON"):
                start, vel = pending[(e.channel, e.pitch)].pop(0)
                info["notes"].append((e.pitch, start / ppq, t / ppq, vel, e.channel - 1))
        tracks.append(info)
    return mf, tracks


def _expected(track):
    return sorted((n.pitch, n.start, n.end, n.velocity, track.channel) for n in track.notes)


def _same_notes(got, want, ppq=480):
    got, want = sorted(got), sorted(want)
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=False):
        assert g[0] == w[0] and g[3] == w[3] and g[4] == w[4], (g, w)
        assert abs(g[1] - w[1]) <= 1 / ppq + 1e-9 and abs(g[2] - w[2]) <= 1 / ppq + 1e-9, (g, w)


def test_band_file_read_back_with_music21(arr, tmp_path):
    path = tmp_path / "band.mid"
    path.write_bytes(arr.to_midi_bytes())
    mf, tracks = _music21_read(path)
    assert mf.format == 1 and mf.ticksPerQuarterNote == 480
    conductor, parts = tracks[0], tracks[1:]
    assert int.from_bytes(conductor["meta"]["SET_TEMPO"], "big") == round(60_000_000 / 97.5)
    assert conductor["meta"]["TIME_SIGNATURE"][:2] == bytes((4, 2))
    assert conductor["meta"]["KEY_SIGNATURE"] == bytes((0, 0))
    assert [p["name"] for p in parts] == list(arr.tracks)
    for info, track in zip(parts, arr.tracks.values(), strict=False):
        assert info["program"] == track.program
        _same_notes(info["notes"], _expected(track))


def test_each_written_file_read_back_with_music21(arr, tmp_path):
    """What ``write`` puts on disk (not only ``to_midi_bytes``), file by file."""
    paths = arr.write(tmp_path, timestamp="20261123103000")
    for path in paths:
        _, tracks = _music21_read(path)
        conductor, parts = tracks[0], tracks[1:]
        assert int.from_bytes(conductor["meta"]["SET_TEMPO"], "big") == round(60_000_000 / 97.5)
        assert conductor["meta"]["TIME_SIGNATURE"][:2] == bytes((4, 2))
        assert conductor["meta"]["KEY_SIGNATURE"] == bytes((0, 0))
        names = [path.parent.name] if path.parent.name != "band" else list(arr.tracks)
        assert [p["name"] for p in parts] == names
        for info, name in zip(parts, names, strict=True):
            assert info["program"] == arr.tracks[name].program
            _same_notes(info["notes"], _expected(arr.tracks[name]))


def test_each_written_file_read_back_with_pretty_midi(arr, tmp_path):
    import pretty_midi

    paths = arr.write(tmp_path, timestamp="20261123103000")
    assert len(paths) == 6 and paths[-1].parent.name == "band"
    for path in paths:
        pm = pretty_midi.PrettyMIDI(str(path))
        times, tempi = pm.get_tempo_changes()
        assert list(times) == [0.0] and abs(tempi[0] - 97.5) < 0.01
        assert [(ts.numerator, ts.denominator) for ts in pm.time_signature_changes] == [(4, 4)]
        assert [k.key_number for k in pm.key_signature_changes] == [0]  # C major
        names = [path.parent.name] if path.parent.name != "band" else list(arr.tracks)
        assert [i.name for i in pm.instruments] == names
        spb = 60.0 / 97.5
        for inst, name in zip(pm.instruments, names, strict=False):
            track = arr.tracks[name]
            assert inst.program == track.program and inst.is_drum == track.is_drum
            got = [(n.pitch, n.start / spb, n.end / spb, n.velocity, track.channel) for n in inst.notes]
            _same_notes(got, _expected(track))


@pytest.mark.parametrize("meter,style,expect", [("3/4", "waltz", (3, 4)), ("6/8", "ballad", (6, 8)),
                                                ("12/8", "shuffle", (12, 8)), ("2/4", "country", (2, 4))])
def test_meter_and_key_signatures(tmp_path, meter, style, expect):
    import pretty_midi

    a = workbench.generate("| Am | Dm | E7 | Am |", style=style, meter=meter, key="Am", tempo=90)
    path = tmp_path / "x.mid"
    path.write_bytes(a.to_midi_bytes("bass"))
    pm = pretty_midi.PrettyMIDI(str(path))
    ts = pm.time_signature_changes[0]
    assert (ts.numerator, ts.denominator) == expect
    assert pretty_midi.key_number_to_key_name(pm.key_signature_changes[0].key_number) == "A minor"


@pytest.mark.parametrize("tonic,mode,name,want", [
    (0, "major", "C major", (0, 0)), (7, "major", "G major", (1, 0)), (5, "major", "F major", (-1, 0)),
    (10, "major", "Bb major", (-2, 0)), (9, "minor", "A minor", (0, 1)), (4, "minor", "E minor", (1, 1)),
    (6, "major", "F# major", (6, 0)), (6, "major", "Gb major", (-6, 0)), (3, "minor", "Eb minor", (-6, 1)),
    (2, "minor", "D minor", (-1, 1))])
def test_key_signature_numbers(tonic, mode, name, want):
    assert midi.key_signature(tonic, mode, name) == want


def test_names_and_layout(arr, tmp_path):
    paths = arr.write(tmp_path, timestamp="20261123103000")
    key = arr.key.short
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        f"{t}/20261123103000_{t}_{key}_97.mid" for t in list(arr.tracks) + ["band"]]
    assert paths == arr.track_paths(tmp_path, "20261123103000")
    assert not (tmp_path / "temp").exists()
    assert all(p.read_bytes()[:4] == b"MThd" for p in paths)


def test_a_second_write_in_the_same_second_moves_on(arr, tmp_path):
    first = arr.write(tmp_path, timestamp="20261123103059")
    before = {p: p.read_bytes() for p in first}
    second = arr.write(tmp_path, timestamp="20261123103059")
    assert all("20261123103100_" in p.name for p in second)
    assert all(p.read_bytes() == data for p, data in before.items())
    # one taken name (another track's) is enough to move the whole set on
    (tmp_path / "keys" / f"20261123103101_keys_{arr.key.short}_97.mid").write_bytes(b"x")
    third = arr.write(tmp_path, timestamp="20261123103100")
    assert all("20261123103102_" in p.name for p in third)


def test_odd_folder_names(arr, tmp_path):
    folder = tmp_path / "my {take} 100%"
    paths = arr.write(str(folder), timestamp="20261123103000")
    assert all(p.exists() and p.parent.parent == folder for p in paths)


def test_default_timestamp_is_now(arr, tmp_path):
    import re

    paths = arr.write(tmp_path)
    assert re.fullmatch(r"\d{14}_band_\w+_97\.mid", paths[-1].name)


def test_bad_timestamp(arr, tmp_path):
    with pytest.raises(ValueError, match="YYYYMMDDHHMMSS"):
        arr.write(tmp_path, timestamp="yesterday")


def test_concurrent_writers_do_not_collide(arr, tmp_path):
    results, errors = [], []

    def go():
        try:
            results.append(arr.write(tmp_path, timestamp="20261123103000"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    names = [p for r in results for p in r]
    assert len(names) == len(set(names)) == 8 * 6
    assert len({r[-1].name[:14] for r in results}) == 8
    assert not (tmp_path / "temp").exists()


def test_writers_in_several_processes_do_not_collide(tmp_path):
    import subprocess
    import sys

    code = ("import sys, workbench; a = workbench.generate('| C | G |', seed=int(sys.argv[1]));"
            "[a.write(sys.argv[2], timestamp='20261123103000') for _ in range(5)]")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(i), str(tmp_path)])
             for i in range(4)]
    assert all(p.wait(timeout=60) == 0 for p in procs)
    bands = sorted(p.name for p in (tmp_path / "band").iterdir())
    assert len(bands) == len(set(bands)) == 20
    for name in ("bass", "drums", "keys", "pad", "guitar"):
        assert len(list((tmp_path / name).iterdir())) == 20
    assert not (tmp_path / "temp").exists()


def test_atomic_no_partial_file_visible(arr, tmp_path, monkeypatch):
    """Files appear in their folders only by rename, after their bytes are synced."""
    events = []
    real_replace, real_fsync = os.replace, os.fsync

    def spy_replace(src, dst):
        src, dst = Path(src), Path(dst)
        assert src.parent == tmp_path / "temp" and src.exists()
        assert not dst.exists()
        events.append(("replace", dst.name))
        return real_replace(src, dst)

    def spy_fsync(fd):
        events.append(("fsync", fd))
        return real_fsync(fd)

    monkeypatch.setattr(os, "replace", spy_replace)
    monkeypatch.setattr(os, "fsync", spy_fsync)
    paths = arr.write(tmp_path, timestamp="20261123103000")
    assert [e[1] for e in events if e[0] == "replace"] == [p.name for p in paths]
    assert sum(1 for e in events if e[0] == "fsync") >= 6
    first_replace = next(i for i, e in enumerate(events) if e[0] == "replace")
    assert all(e[0] == "fsync" for e in events[:first_replace])


def test_failed_write_leaves_no_temp_files(arr, tmp_path, monkeypatch):
    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        arr.write(tmp_path, timestamp="20261123103000")
    assert not (tmp_path / "temp").exists()
    assert list(tmp_path.iterdir()) == []      # no empty folder tree either
    monkeypatch.undo()
    # the names were released: the same timestamp is free again
    assert "20261123103000_" in arr.write(tmp_path, timestamp="20261123103000")[0].name


def test_a_failed_write_into_a_new_folder_removes_the_folders_it_made(arr, tmp_path,
                                                                    monkeypatch):
    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        arr.write(tmp_path / "new" / "takes")
    assert list(tmp_path.iterdir()) == []


def test_a_service_folder_keeps_its_temp(arr, tmp_path):
    # the sync service marks its temp/ as its own (it writes there too); a user's folder is
    # left without an empty temp/
    from workbench.files import TEMP_KEEP

    (tmp_path / "temp").mkdir()
    (tmp_path / "temp" / TEMP_KEEP).touch()
    arr.write(tmp_path, timestamp="20261123103000")
    assert (tmp_path / "temp").is_dir()
    arr.write(tmp_path / "mine", timestamp="20261123103000")
    assert not (tmp_path / "mine" / "temp").exists()


def test_to_midi_bytes_single_track_and_unknown(arr):
    data = arr.to_midi_bytes("drums")
    assert data[:4] == b"MThd" and data.count(b"MTrk") == 2
    with pytest.raises(ValueError, match="no track"):
        arr.to_midi_bytes("tuba")


def test_drums_on_channel_10_in_the_file(arr, tmp_path):
    path = tmp_path / "d.mid"
    path.write_bytes(arr.to_midi_bytes("drums"))
    _, tracks = _music21_read(path)
    assert {n[4] for n in tracks[1]["notes"]} == {9}


def test_long_delta_times_and_empty_tracks(tmp_path):
    import pretty_midi

    a = workbench.generate("| C | N.C. | N.C. | N.C. | N.C. | N.C. | N.C. | N.C. | N.C. | C |",
                           style="ballad", tracks=["bass", "keys"], tempo=40)
    path = tmp_path / "x.mid"
    path.write_bytes(a.to_midi_bytes())
    pm = pretty_midi.PrettyMIDI(str(path))
    assert [len(i.notes) for i in pm.instruments] == [len(t.notes) for t in a.tracks.values()]
    assert abs(pm.get_end_time() - a.duration_seconds) < 0.01
