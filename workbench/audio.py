"""Render an :class:`~workbench.arrangement.Arrangement` to audio (WAV bytes).

Two engines, chosen automatically:

* ``"fluidsynth"``: FluidSynth (``pyfluidsynth`` + the system ``libfluidsynth``) with a General
  MIDI soundfont. The soundfont is found automatically (:func:`find_soundfont`), or given by the
  ``soundfont=`` argument or the ``WORKBENCH_SOUNDFONT`` environment variable. Loading the
  soundfont dominates the cost, so ONE synthesizer per (soundfont, sample rate) is created and
  reused for every render (guarded by a lock: a FluidSynth synth is not re-entrant).
* ``"builtin"``: a small numpy synthesiser (additive tones with envelopes, noise drums), so that
  sound always works, even without FluidSynth or a soundfont.

>>> from workbench.audio import render_wav                     # doctest: +SKIP
>>> wav = render_wav(arrangement)                              # doctest: +SKIP

Rendering is plain CPU work with no UI: the widgets call it from a worker thread.
"""

from __future__ import annotations

import io
import logging
import os
import threading
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

SAMPLE_RATE = 22050          # plenty for a preview; halves the bytes sent to the browser
TAIL_SECONDS = 1.5           # let the last notes ring out
ENGINES = ("auto", "fluidsynth", "builtin")

# Where Debian, Ubuntu, Fedora, Arch and Homebrew put a General MIDI soundfont.
SOUNDFONT_CANDIDATES = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/sounds/sf2/TimGM6mb.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/usr/share/soundfonts/default.sf2",
    "/usr/share/soundfonts/FluidR3_GM2-2.sf2",
    "/usr/share/sounds/sf3/default-GM.sf3",
    "/usr/share/sounds/sf3/MuseScore_General.sf3",
    "/opt/homebrew/share/soundfonts/default.sf2",
    "/usr/local/share/soundfonts/default.sf2",
)


class AudioError(RuntimeError):
    """Rendering failed (bad soundfont path, unknown engine...): the message says what."""


class RenderCancelled(Exception):
    """Raised inside :func:`render` when its ``cancel`` callable returns True."""


@dataclass
class Audio:
    """Rendered audio: float32 samples shaped (n, 2) in -1..1."""

    samples: np.ndarray
    sample_rate: int
    engine: str            # "fluidsynth" or "builtin"
    soundfont: str | None
    seconds: float         # wall-clock render time

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate

    def to_wav(self) -> bytes:
        return wav_bytes(self.samples, self.sample_rate)


# --------------------------------------------------------------------------------------------
# soundfont discovery


def find_soundfont(path: str | os.PathLike | None = None) -> Path | None:
    """The soundfont to use: ``path`` if given, else ``$WORKBENCH_SOUNDFONT``, else the first
    well-known location that exists (see ``SOUNDFONT_CANDIDATES``), else ``None``.

    An explicit path (argument or environment variable) that does not exist is an error: the
    user asked for it, so silently using another would hide a typo.
    """
    for given, origin in ((path, "soundfont"), (os.environ.get("WORKBENCH_SOUNDFONT"), "WORKBENCH_SOUNDFONT")):
        if given:
            p = Path(given).expanduser()
            if not p.is_file():
                raise AudioError(f"{origin}: no soundfont file at {str(p)!r}")
            return p
    for candidate in SOUNDFONT_CANDIDATES:
        p = Path(candidate)
        if p.is_file():
            return p.resolve()
    return None


def fluidsynth_available() -> bool:
    try:
        import fluidsynth  # noqa: F401  (pyfluidsynth; needs libfluidsynth)
    except Exception:  # ImportError, OSError from ctypes when the C library is missing
        return False
    return True


# --------------------------------------------------------------------------------------------
# events


def _events(arrangement):
    """Per-note arrays in seconds: start, end, pitch, velocity, channel, track index."""
    spb = 60.0 / float(arrangement.tempo)
    rows = []
    for t_index, track in enumerate(arrangement.tracks.values()):
        for n in track.notes:
            rows.append((n.start * spb, max(n.end, n.start + 1e-3) * spb, n.pitch, n.velocity,
                         track.channel, t_index))
    if not rows:
        return np.zeros((0, 6))
    return np.asarray(rows, dtype=np.float64)


def _length_seconds(arrangement, events) -> float:
    spb = 60.0 / float(arrangement.tempo)
    end = float(arrangement.length_beats) * spb
    if len(events):
        end = max(end, float(events[:, 1].max()))
    return end + TAIL_SECONDS


# --------------------------------------------------------------------------------------------
# FluidSynth

_synth_lock = threading.Lock()
_synths: dict[tuple[str, int], tuple[object, int]] = {}


def _get_synth(soundfont: Path, sample_rate: int):
    """The one synthesizer for this soundfont and rate (created on first use). Call with
    ``_synth_lock`` held."""
    key = (str(soundfont), int(sample_rate))
    if key not in _synths:
        import fluidsynth

        t0 = time.perf_counter()
        synth = fluidsynth.Synth(gain=0.45, samplerate=float(sample_rate))
        sfid = synth.sfload(str(soundfont))
        if sfid < 0:
            synth.delete()
            raise AudioError(f"FluidSynth could not load the soundfont {str(soundfont)!r}")
        synth.set_reverb(roomsize=0.4, damping=0.3, width=0.8, level=0.35)
        _synths[key] = (synth, sfid)
        log.info("loaded soundfont %s in %.2f s", soundfont, time.perf_counter() - t0)
    return _synths[key]


def _render_fluidsynth(arrangement, soundfont: Path, sample_rate: int, progress, cancel):
    ev = _events(arrangement)
    total = int(round(_length_seconds(arrangement, ev) * sample_rate))
    # (sample, kind 0=off 1=on, channel, pitch, velocity); offs first at equal times
    on = [(int(round(s * sample_rate)), 1, int(ch), int(p), int(v)) for s, _, p, v, ch, _ in ev]
    off = [(int(round(e * sample_rate)), 0, int(ch), int(p), 0) for _, e, p, _, ch, _ in ev]
    timeline = sorted(on + off)
    out = np.zeros(total * 2, dtype=np.int16)
    with _synth_lock:
        synth, sfid = _get_synth(soundfont, sample_rate)
        for ch in range(16):
            synth.cc(ch, 120, 0)          # all sound off: cut what a cancelled render left
        synth.system_reset()
        synth.get_samples(sample_rate // 2)   # flush reverb/chorus tails of the last render
        for track in arrangement.tracks.values():
            bank = 128 if track.is_drum else 0
            synth.program_select(int(track.channel), sfid, bank, int(track.program))
        pos = 0
        last_report = 0
        step = max(sample_rate // 2, 1)

        def advance(to):
            nonlocal pos, last_report
            to = min(to, total)
            while pos < to:
                n = min(to - pos, 8192)
                out[pos * 2:(pos + n) * 2] = synth.get_samples(n)[: n * 2]
                pos += n
                if pos - last_report >= step:
                    last_report = pos
                    if cancel is not None and cancel():
                        raise RenderCancelled()
                    if progress is not None:
                        progress(pos / total)

        try:
            for sample, kind, ch, pitch, vel in timeline:
                advance(sample)
                if kind:
                    synth.noteon(ch, pitch, max(1, min(127, vel)))
                else:
                    synth.noteoff(ch, pitch)
            advance(total)
        finally:
            for ch in range(16):
                synth.cc(ch, 123, 0)   # all notes off, so a cancelled render leaves silence
    samples = out.reshape(-1, 2).astype(np.float32) / 32768.0
    return samples


# --------------------------------------------------------------------------------------------
# the built-in synthesiser

# Partial amplitudes and envelope (attack s, decay time constant s, sustain level, release s)
_VOICES = {
    "bass": ((1.0, 0.5, 0.25, 0.12), (0.005, 0.35, 0.55, 0.06)),
    "piano": ((1.0, 0.45, 0.25, 0.12, 0.06), (0.004, 0.5, 0.25, 0.15)),
    "organ": ((1.0, 0.6, 0.4, 0.3, 0.2), (0.01, 1.0, 0.9, 0.05)),
    "guitar": ((1.0, 0.6, 0.35, 0.2, 0.1, 0.05), (0.003, 0.3, 0.15, 0.1)),
    "pad": ((1.0, 0.5, 0.33, 0.25, 0.2), (0.25, 2.0, 0.8, 0.4)),
    "lead": ((1.0, 0.5, 0.33, 0.25), (0.01, 0.6, 0.7, 0.1)),
}


def _voice_for(program: int, name: str) -> str:
    if name in ("bass",) or 32 <= program <= 39:
        return "bass"
    if program <= 7 or 8 <= program <= 15:
        return "piano"
    if 16 <= program <= 23:
        return "organ"
    if 24 <= program <= 31:
        return "guitar"
    if 40 <= program <= 55 or 88 <= program <= 103:
        return "pad"
    return "lead"


_PAN = {"bass": 0.5, "drums": 0.5, "keys": 0.38, "pad": 0.65, "guitar": 0.3}


def _tone(voice: str, pitch: int, n_on: int, sr: int) -> np.ndarray:
    partials, (att, dec, sus, rel) = _VOICES[voice]
    n_rel = int(rel * sr)
    n = n_on + n_rel
    t = np.arange(n, dtype=np.float32) / sr
    f0 = 440.0 * 2 ** ((pitch - 69) / 12)
    wave_ = np.zeros(n, dtype=np.float32)
    for k, a in enumerate(partials, start=1):
        f = f0 * k
        if f > sr * 0.45:
            break
        # higher partials die away faster (brighter attack, mellow tail)
        damp = np.exp(-t * (k - 1) * (2.0 if voice != "organ" else 0.0)).astype(np.float32)
        wave_ += a * damp * np.sin(2 * np.pi * f * t, dtype=np.float32)
    env = np.empty(n, dtype=np.float32)
    n_att = max(1, min(int(att * sr), n_on))
    env[:n_att] = np.linspace(0, 1, n_att, dtype=np.float32)
    tt = t[n_att:n_on] - t[n_att] if n_on > n_att else t[:0]
    env[n_att:n_on] = sus + (1 - sus) * np.exp(-tt / dec)
    level = env[n_on - 1] if n_on > 0 else 0.0
    env[n_on:] = level * np.linspace(1, 0, n - n_on, dtype=np.float32)
    return wave_ * env / sum(partials)


def _drum(pitch: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    def decay(seconds, tau):
        n = int(seconds * sr)
        return np.exp(-np.arange(n, dtype=np.float32) / (tau * sr)), n

    if pitch in (35, 36):                          # kick: pitch-swept sine
        env, n = decay(0.35, 0.09)
        t = np.arange(n, dtype=np.float32) / sr
        freq = 50 + 90 * np.exp(-t / 0.03)
        return 1.2 * env * np.sin(2 * np.pi * np.cumsum(freq) / sr).astype(np.float32)
    if pitch in (38, 40, 37, 39):                  # snare / rim / clap: noise + body
        env, n = decay(0.25, 0.06)
        t = np.arange(n, dtype=np.float32) / sr
        noise = rng.standard_normal(n).astype(np.float32)
        body = np.sin(2 * np.pi * 190 * t).astype(np.float32)
        amt = 0.35 if pitch == 37 else 0.6
        return amt * env * (0.7 * noise + 0.5 * body)
    if pitch in (42, 44, 46):                      # hi-hats: high-passed noise
        env, n = decay(0.4 if pitch == 46 else 0.08, 0.12 if pitch == 46 else 0.02)
        noise = np.diff(rng.standard_normal(n + 1)).astype(np.float32)
        return 0.22 * env * noise
    if pitch in (49, 51, 52, 53, 55, 57, 59):      # cymbals
        env, n = decay(1.2, 0.35 if pitch in (51, 59, 53) else 0.6)
        noise = np.diff(rng.standard_normal(n + 1)).astype(np.float32)
        return (0.12 if pitch in (51, 59) else 0.2) * env * noise
    if 41 <= pitch <= 50:                          # toms
        env, n = decay(0.4, 0.12)
        t = np.arange(n, dtype=np.float32) / sr
        f = 80 + (pitch - 41) * 18
        return 0.8 * env * np.sin(2 * np.pi * f * t * (1 + 0.3 * np.exp(-t / 0.05)))
    env, n = decay(0.12, 0.03)                     # percussion: a short click
    return 0.25 * env * rng.standard_normal(n).astype(np.float32)


def _render_builtin(arrangement, sample_rate: int, progress, cancel):
    ev = _events(arrangement)
    total = int(round(_length_seconds(arrangement, ev) * sample_rate))
    out = np.zeros((total, 2), dtype=np.float32)
    rng = np.random.default_rng(0)                 # deterministic noise
    cache: dict[tuple, np.ndarray] = {}
    key: tuple
    tracks = list(arrangement.tracks.values())
    n_notes = max(len(ev), 1)
    done = 0
    for track in tracks:
        pan = _PAN.get(track.name, 0.5)
        gains = np.array([np.cos(pan * np.pi / 2), np.sin(pan * np.pi / 2)], dtype=np.float32)
        voice = None if track.is_drum else _voice_for(int(track.program), track.name)
        for note in track.notes:
            start = int(round(note.start * 60.0 / arrangement.tempo * sample_rate))
            if track.is_drum:
                key = ("drum", note.pitch)
                if key not in cache:
                    cache[key] = _drum(int(note.pitch), sample_rate, rng)
            else:
                n_on = max(1, int(round((note.end - note.start) * 60.0 / arrangement.tempo
                                        * sample_rate)))
                n_on = min(n_on, 8 * sample_rate)
                key = (voice, note.pitch, n_on // 64)    # quantise lengths: ~3 ms buckets
                if key not in cache:
                    cache[key] = _tone(voice or "", int(note.pitch), (n_on // 64) * 64 or 1,
                                       sample_rate)
            sig = cache[key]
            end = min(start + len(sig), total)
            if end > start:
                amp = (note.velocity / 127.0) ** 1.5 * 0.5
                out[start:end] += (amp * sig[: end - start])[:, None] * gains
            done += 1
            if done % 256 == 0:
                if cancel is not None and cancel():
                    raise RenderCancelled()
                if progress is not None:
                    progress(done / n_notes)
    return out


# --------------------------------------------------------------------------------------------
# public API


def render(arrangement, *, soundfont: str | os.PathLike | None = None, engine: str = "auto",
           sample_rate: int = SAMPLE_RATE, progress: Callable[[float], None] | None = None,
           cancel: Callable[[], bool] | None = None) -> Audio:
    """Render ``arrangement`` to stereo audio.

    ``engine``: ``"auto"`` (FluidSynth when it and a soundfont are available, else built-in),
    ``"fluidsynth"`` (an error if not possible) or ``"builtin"``. ``progress(fraction)`` is
    called now and then; ``cancel()`` returning True stops the render (``RenderCancelled``).
    """
    if engine not in ENGINES:
        raise AudioError(f"unknown audio engine {engine!r}: choose one of {', '.join(ENGINES)}")
    t0 = time.perf_counter()
    sf = None
    if engine in ("auto", "fluidsynth"):
        sf = find_soundfont(soundfont)
        if engine == "fluidsynth" and sf is None:
            raise AudioError("no General MIDI soundfont found: install fluid-soundfont-gm or set "
                             "WORKBENCH_SOUNDFONT")
        if sf is not None and not fluidsynth_available():
            if engine == "fluidsynth":
                raise AudioError("FluidSynth is not available: install libfluidsynth3 and "
                                 "pyfluidsynth")
            sf = None
    used = "builtin"
    samples = None
    if sf is not None:
        try:
            samples = _render_fluidsynth(arrangement, sf, sample_rate, progress, cancel)
            used = "fluidsynth"
        except RenderCancelled:
            raise
        except Exception as exc:  # a broken soundfont must not silence the app
            if engine == "fluidsynth":
                raise AudioError(f"FluidSynth failed: {exc}") from exc
            log.warning("FluidSynth failed (%s); using the built-in synthesiser", exc)
            sf = None
    if samples is None:
        samples = _render_builtin(arrangement, sample_rate, progress, cancel)
    peak = float(np.abs(samples).max()) if len(samples) else 0.0
    if peak > 1e-4:                 # same loudness whichever engine: peak at -1 dBFS
        samples = samples * (0.89 / peak)
    if progress is not None:
        progress(1.0)
    return Audio(samples=samples.astype(np.float32, copy=False), sample_rate=sample_rate,
                 engine=used, soundfont=str(sf) if sf else None,
                 seconds=time.perf_counter() - t0)


def wav_bytes(samples: np.ndarray, sample_rate: int) -> bytes:
    """16-bit PCM WAV (mono if ``samples`` is 1-D, else one channel per column)."""
    samples = np.asarray(samples, dtype=np.float32)
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(int(sample_rate))
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


def render_wav(arrangement, **kwargs) -> bytes:
    """:func:`render` then :func:`wav_bytes`: the bytes of a WAV file."""
    return render(arrangement, **kwargs).to_wav()


def write_wav(arrangement, path: str | os.PathLike, **kwargs) -> Path:
    """Render and write a WAV file; returns its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(render_wav(arrangement, **kwargs))
    return path
