"""Audio out: the mix and the stems as loudness-normalised WAV/FLAC files, from the API
(``Arrangement.render``), the CLI (``workbench render``) and the player's downloads. Files are
read back with soundfile (libsndfile) and measured with pyloudnorm."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile

from workbench import audio

ROOT = Path(__file__).resolve().parents[2]
HAVE_FS = audio.fluidsynth_available() and audio.find_soundfont() is not None
ENGINES = ["builtin", pytest.param("fluidsynth", marks=pytest.mark.skipif(
    not HAVE_FS, reason="FluidSynth or a GM soundfont is missing"))]


def read(path) -> tuple[np.ndarray, int]:
    data, rate = soundfile.read(str(path), dtype="float64")
    return data, rate


@pytest.mark.parametrize("engine", ENGINES)
def test_mixdown_stems_add_up_and_the_mix_is_at_the_target(arrangement, engine):
    m = audio.mixdown(arrangement, engine=engine, sample_rate=22050)
    assert list(m.stems) == list(arrangement.tracks)
    assert np.allclose(sum(m.stems.values()), m.mix, atol=1e-5)
    measured = pyloudnorm.Meter(22050).integrated_loudness(m.mix.astype(np.float64))
    assert measured == pytest.approx(m.loudness, abs=0.05)
    peak_db = 20 * np.log10(np.abs(m.mix).max())
    if m.peak_limited:            # the target would have clipped: the peak sits at the ceiling
        assert peak_db == pytest.approx(audio.PEAK_CEILING, abs=0.01)
        assert m.loudness < audio.LOUDNESS_TARGET
    else:
        assert m.loudness == pytest.approx(audio.LOUDNESS_TARGET, abs=0.05)
        assert peak_db <= audio.PEAK_CEILING + 0.01


def test_quiet_target_is_met_exactly(arrangement):
    m = audio.mixdown(arrangement, engine="builtin", sample_rate=22050, loudness=-23.0)
    assert not m.peak_limited and m.loudness == pytest.approx(-23.0, abs=0.05)


@pytest.mark.parametrize("engine", ENGINES)
def test_render_to_files_stems_and_names(arrangement, tmp_path, engine):
    paths = arrangement.render(tmp_path / "song.flac", stems=True, engine=engine)
    assert [p.name for p in paths] == [f"song_{t}.flac" for t in arrangement.tracks] + ["song.flac"]
    mix, rate = read(paths[-1])
    assert rate == audio.FILE_SAMPLE_RATE and mix.shape[1] == 2
    assert soundfile.info(str(paths[-1])).subtype == "PCM_24"
    stems = sum(read(p)[0] for p in paths[:-1])
    assert np.abs(stems - mix).max() < 1e-5            # 24-bit rounding of six files
    # a .wav beside it holds the same samples
    wav = arrangement.render(tmp_path / "song.wav", engine=engine)
    assert np.array_equal(read(wav[0])[0], mix)


@pytest.mark.parametrize("engine", ENGINES)
def test_same_song_same_bytes(arrangement, tmp_path, engine):
    a = arrangement.render(tmp_path / "a", format="wav,flac", stems=True, engine=engine,
                           timestamp="20261125120000")
    b = arrangement.render(tmp_path / "b", format="wav,flac", stems=True, engine=engine,
                           timestamp="20261125120000")
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    assert [p.relative_to(tmp_path / "a") for p in a] == [p.relative_to(tmp_path / "b") for p in b]
    assert [digest(p) for p in a] == [digest(p) for p in b]


def test_folder_layout_and_names_are_the_midi_files(arrangement, tmp_path):
    midi = arrangement.write(tmp_path, timestamp="20261125120000")
    wavs = arrangement.render(tmp_path, stems=True, format="wav,flac", engine="builtin",
                              timestamp="20261125120000")
    assert {p.with_suffix("") for p in wavs} == {p.with_suffix("") for p in midi}
    assert wavs[-1].parent.name == "band" and wavs[-1].suffix == ".flac"
    # taken names move the timestamp on, like the MIDI writer: nothing is overwritten
    again = arrangement.render(tmp_path, engine="builtin", timestamp="20261125120000")
    assert again[0].name.startswith("20261125120001_band_")


def test_bad_names_are_clear_and_nothing_is_overwritten(arrangement, tmp_path):
    with pytest.raises(ValueError, match="'ogg'"):
        arrangement.render(tmp_path / "song.ogg", engine="builtin")
    with pytest.raises(ValueError, match="'mp3'") as bad:
        arrangement.render(tmp_path, format="mp3", engine="builtin")
    assert bad.value.field == "format" and bad.value.valid == ("wav", "flac")
    with pytest.raises(ValueError, match="does not match"):
        arrangement.render(tmp_path / "song.wav", format="flac", engine="builtin")
    keep = tmp_path / "mine.wav"
    keep.write_bytes(b"user data")
    with pytest.raises(FileExistsError, match="mine.wav"):
        arrangement.render(keep, engine="builtin")
    assert keep.read_bytes() == b"user data"
    arrangement.render(keep, engine="builtin", overwrite=True)
    assert read(keep)[0].shape[1] == 2
    assert not list(tmp_path.glob(".*.tmp"))              # no temp files left behind


def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "workbench", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def test_cli_render(tmp_path):
    r = run_cli("render", "| C Am | F G |", "--style", "pop", "--tempo", "120", "--stems",
                "--format", "wav,flac", "--midi", "--timestamp", "20261125120000",
                "--out", "out", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    printed = [Path(line) for line in r.stdout.split()]
    mids = [p for p in printed if p.suffix == ".mid"]
    audios = [p for p in printed if p.suffix in (".wav", ".flac")]
    assert len(mids) == 6 and len(audios) == 12
    assert {p.with_suffix("") for p in audios} == {p.with_suffix("") for p in mids}
    assert "out/band/20261125120000_band_Cmaj_120.wav" in r.stdout
    mix, _ = read(tmp_path / "out/band/20261125120000_band_Cmaj_120.wav")
    loud = pyloudnorm.Meter(audio.FILE_SAMPLE_RATE).integrated_loudness(mix)
    assert loud <= -14.0 + 0.05 and (loud >= -14.05 or np.abs(mix).max() > 0.88)
    # one file, format from its extension
    r = run_cli("render", "| C | G |", "--out", "take.flac", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert soundfile.info(str(tmp_path / "take.flac")).format == "FLAC"


def test_cli_render_bad_input_is_one_line(tmp_path):
    r = run_cli("render", "| C | G |", "--out", "x", "--format", "aiff", cwd=tmp_path)
    assert r.returncode == 2 and "'aiff'" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("render", "| C | G |", "--out", "x.mp3", cwd=tmp_path)
    assert r.returncode == 2 and "x.mp3" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("render", "| C | G |", "--out", "x", "--soundfont", "nope.sf2", cwd=tmp_path)
    assert r.returncode == 2 and "nope.sf2" in r.stderr and "Traceback" not in r.stderr


# -- the player ---------------------------------------------------------------------------------

def test_player_streams_blocks_and_resends_what_a_page_missed(blues):
    from workbench.ui.player import Player

    p = Player(engine="builtin", background=False)
    sent = []
    p.send = lambda content, buffers=None: sent.append((content, buffers))
    p.render(blues)
    blocks = [c for c, _ in sent if c["type"] == "block"]
    assert p.complete and p.blocks == len(blocks) > 3 and p.version == 1
    assert [b["index"] for b in blocks] == list(range(len(blocks)))
    assert blocks[0]["frames"] == int(audio.FIRST_BLOCK * p.sample_rate)
    assert sum(b["frames"] for b in blocks) == round(p.duration * p.sample_rate)
    joined = np.concatenate([soundfile.read(io.BytesIO(bufs[0]), dtype="float32")[0]
                             for c, bufs in sent if c["type"] == "block"])
    assert len(joined) == sum(b["frames"] for b in blocks)
    assert p.sent_bytes == sum(len(bufs[0]) for c, bufs in sent if c["type"] == "block")
    # a page that opened late asks from block 2 on: it gets exactly those
    sent.clear()
    p._on_message(p, {"type": "want", "version": 1, "have": 2}, [])
    assert [c["index"] for c, _ in sent] == list(range(2, len(blocks)))
    sent.clear()
    p._on_message(p, {"type": "want", "version": 0, "have": 0}, [])   # an old render: nothing
    assert sent == []


def test_player_export_names_like_the_midi_files(arrangement):
    from workbench.ui.player import Player

    p = Player(engine="builtin", background=False)
    p.send = lambda content, buffers=None: None
    p.render(arrangement, timestamp="20261125120000")
    assert p.parts == [*arrangement.tracks, "band"]
    name, data = p.export("band", "flac")
    assert name == "20261125120000_band_Cmaj_120.flac" and data[:4] == b"fLaC"
    name, data = p.export("bass", "wav")
    assert name == "20261125120000_bass_Cmaj_120.wav" and data[:4] == b"RIFF"
    assert soundfile.info(io.BytesIO(data)).samplerate == audio.FILE_SAMPLE_RATE
    with pytest.raises(audio.AudioError, match="'cello'"):
        p.export("cello", "wav")
    with pytest.raises(ValueError, match="'mp3'"):
        p.export("band", "mp3")
