"""Audio rendering: FluidSynth with one reused synthesizer, else the built-in synthesiser."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest

from workbench import audio

HAVE_FS = audio.fluidsynth_available() and audio.find_soundfont() is not None


def test_builtin_render_has_the_song_length_and_sound(arrangement):
    result = audio.render(arrangement, engine="builtin")
    assert result.engine == "builtin"
    song = arrangement.length_beats * 60 / arrangement.tempo
    assert song <= result.duration <= song + audio.TAIL_SECONDS + 0.01
    assert result.samples.shape[1] == 2
    assert 0.5 < float(np.abs(result.samples).max()) <= 0.9
    # sound throughout the song, not just at the start
    half = len(result.samples) // 2
    assert np.abs(result.samples[half:half + 2000]).max() > 0.01


def test_builtin_is_deterministic(arrangement):
    a = audio.render(arrangement, engine="builtin").to_wav()
    b = audio.render(arrangement, engine="builtin").to_wav()
    assert a == b


def test_wav_bytes_are_a_valid_wav(arrangement):
    data = audio.render_wav(arrangement, engine="builtin", sample_rate=16000)
    with wave.open(io.BytesIO(data)) as w:
        assert w.getnchannels() == 2 and w.getsampwidth() == 2 and w.getframerate() == 16000
        assert w.getnframes() > 16000 * 4


def test_write_wav(arrangement, tmp_path):
    path = audio.write_wav(arrangement, tmp_path / "out" / "band.wav", engine="builtin")
    assert path.read_bytes()[:4] == b"RIFF"


def test_progress_and_cancel(blues):
    seen = []
    audio.render(blues, engine="builtin", progress=seen.append)
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)
    with pytest.raises(audio.RenderCancelled):
        audio.render(blues, engine="builtin", cancel=lambda: True)


def test_unknown_engine_is_named(arrangement):
    with pytest.raises(audio.AudioError, match="'midi'"):
        audio.render(arrangement, engine="midi")


def test_soundfont_from_env_and_argument(tmp_path, monkeypatch):
    sf = tmp_path / "my.sf2"
    sf.write_bytes(b"RIFF")
    monkeypatch.setenv("WORKBENCH_SOUNDFONT", str(sf))
    assert audio.find_soundfont() == sf
    other = tmp_path / "other.sf2"
    other.write_bytes(b"RIFF")
    assert audio.find_soundfont(other) == other          # the argument wins
    monkeypatch.setenv("WORKBENCH_SOUNDFONT", str(tmp_path / "missing.sf2"))
    with pytest.raises(audio.AudioError, match="missing.sf2"):
        audio.find_soundfont()


def test_auto_falls_back_to_builtin_without_soundfont(arrangement, monkeypatch):
    monkeypatch.setattr(audio, "SOUNDFONT_CANDIDATES", ())
    monkeypatch.delenv("WORKBENCH_SOUNDFONT", raising=False)
    assert audio.find_soundfont() is None
    assert audio.render(arrangement).engine == "builtin"
    with pytest.raises(audio.AudioError, match="soundfont"):
        audio.render(arrangement, engine="fluidsynth")


def test_broken_soundfont_falls_back_to_builtin(arrangement, tmp_path):
    if not audio.fluidsynth_available():
        pytest.skip("no FluidSynth")
    bad = tmp_path / "broken.sf2"
    bad.write_bytes(b"not a soundfont")
    assert audio.render(arrangement, soundfont=bad).engine == "builtin"


@pytest.mark.skipif(not HAVE_FS, reason="FluidSynth or a GM soundfont is missing")
def test_fluidsynth_renders_the_same_samples_every_time(arrangement, blues):
    first = audio.render(arrangement, engine="fluidsynth")
    assert first.engine == "fluidsynth" and first.soundfont
    second = audio.render(blues, engine="fluidsynth")
    assert np.abs(second.samples).max() > 0.5
    song = blues.length_beats * 60 / blues.tempo
    assert second.duration == pytest.approx(song + audio.TAIL_SECONDS, abs=0.01)
    # a fresh synthesizer per render: nothing of the 12-bar blues leaks into the next render,
    # and the same song comes out as the same samples
    again = audio.render(arrangement, engine="fluidsynth")
    assert np.array_equal(again.samples, first.samples)
    # the next render's synthesizer is made in advance
    audio.prepare(background=False)
    assert audio._spares


# -- streaming ---------------------------------------------------------------------------------

def _decode(data: bytes) -> np.ndarray:
    import soundfile

    return soundfile.read(io.BytesIO(data), dtype="float32")[0]


@pytest.mark.parametrize("engine", ["builtin", pytest.param("fluidsynth", marks=pytest.mark.skipif(
    not HAVE_FS, reason="FluidSynth or a GM soundfont is missing"))])
def test_stream_blocks_add_up_to_the_whole_render(blues, engine):
    s = audio.stream(blues, engine=engine)
    blocks = list(s.blocks)
    sizes = [len(b) for b in blocks]
    assert sizes[0] == int(audio.FIRST_BLOCK * s.sample_rate)           # sound starts early
    assert sizes[1] == 2 * sizes[0] and max(sizes) <= audio.LONGEST_BLOCK * s.sample_rate
    assert sum(sizes) == s.frames
    whole = audio.render(blues, engine=engine)
    streamed = np.concatenate(blocks)
    peak = float(np.abs(streamed).max())
    # render() is the same samples, peak-normalised: blocks join without a seam
    assert np.allclose(streamed * (0.89 / peak), whole.samples, atol=1e-5)


def test_first_block_of_a_long_song_is_quick():
    import time

    import workbench

    text = "| C | Am | F | G | Dm7 | G7 | C | C |"
    long = workbench.generate(text, style="pop", tempo=120, seed=1, repeat=16)   # 128 bars
    t0 = time.perf_counter()
    s = audio.stream(long, engine="builtin")
    first = next(s.blocks)
    t1 = time.perf_counter()
    rest = sum(len(b) for b in s.blocks)
    t2 = time.perf_counter()
    assert len(first) + rest == s.frames
    # lazily: the first block costs its own notes, not the whole song's (a relative measure,
    # so a slow or busy machine does not matter; the benchmark gives the figures)
    assert t1 - t0 < 0.1 * (t2 - t1)


def test_stream_of_one_track_is_that_stem(arrangement):
    with pytest.raises(audio.AudioError, match="'cello'"):
        audio.stream(arrangement, tracks=["cello"], engine="builtin")
    bass = np.concatenate(list(audio.stream(arrangement, tracks=["bass"], engine="builtin").blocks))
    both = np.concatenate(list(audio.stream(arrangement, tracks=["bass", "drums"],
                                            engine="builtin").blocks))
    drums = np.concatenate(list(audio.stream(arrangement, tracks=["drums"],
                                             engine="builtin").blocks))
    assert np.allclose(bass + drums, both, atol=1e-6)


def test_preview_blocks_are_self_contained_ogg_vorbis(blues):
    s = audio.stream(blues, engine="builtin")
    total = 0
    for block in s.blocks:
        data = audio.encode(audio.preview_level(block, s.engine), s.sample_rate, "ogg")
        assert data[:4] == b"OggS" and b"vorbis" in data[:64]
        decoded = _decode(data)
        assert decoded.shape == block.shape                  # exact length: gapless joins
        total += len(data)
    # 12 bars at 100 bpm: ~30 s; the budget is 1.5 MB per 32 bars
    assert total < 1.5e6 * blues.bars / 32


def test_preview_level_soft_clips_only_above_the_knee():
    x = np.array([[0.1, -0.5], [0.88, -0.88], [1.5, -3.0]], dtype=np.float32)
    y = audio.preview_level(x, "fluidsynth")
    assert np.array_equal(y[:2], x[:2])
    assert (np.abs(y[2]) <= 1.0).all() and (np.abs(y[2]) > 0.89).all()
    assert np.allclose(audio.preview_level(x[:1], "builtin"), x[:1] * audio.PREVIEW_GAIN["builtin"])


def test_block_bounds():
    assert audio.block_bounds(1000, 100, first=0.5, longest=4) == [50, 150, 350, 750, 1000]
    assert audio.block_bounds(30, 100, first=0.5) == [30]
    assert audio.block_bounds(0, 100) == []
