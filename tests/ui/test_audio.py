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
