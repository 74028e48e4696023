"""Render an :class:`~workbench.arrangement.Arrangement` to audio: a streamed preview for the
page, and loudness-normalised WAV/FLAC files of the mix and the stems for the musician.

Two engines, chosen automatically:

* ``"fluidsynth"``: FluidSynth (``pyfluidsynth`` + the system ``libfluidsynth``) with a General
  MIDI soundfont. The soundfont is found automatically (:func:`find_soundfont`), or given by the
  ``soundfont=`` argument or the ``WORKBENCH_SOUNDFONT`` environment variable.
* ``"builtin"``: a small numpy synthesiser (additive tones with envelopes, noise drums), so that
  sound always works, even without FluidSynth or a soundfont.

Three ways to use it:

* :func:`stream` renders block by block, the first block (half a second of music) within a few
  milliseconds, so the page can play before the song is rendered; :func:`encode` makes each
  block a small self-contained Ogg Vorbis file.
* :func:`render` gives the whole song at once (:class:`Audio`).
* :func:`mixdown` renders each track on its own and sums them, all brought to one loudness;
  :func:`write_audio` / :func:`write_parts` write WAV or FLAC files
  (``Arrangement.render(path)`` and ``python -m workbench render`` use them).

>>> from workbench.audio import render_wav                     # doctest: +SKIP
>>> wav = render_wav(arrangement)                              # doctest: +SKIP

Rendering is plain CPU work with no UI: the widgets call it from a worker thread. Same song,
same samples: every render uses a fresh synthesizer (see below).
"""

from __future__ import annotations

import datetime as _dt
import heapq
import io
import logging
import os
import sys
import threading
import time
import wave
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workbench.errors import WorkbenchError

log = logging.getLogger(__name__)

SAMPLE_RATE = 22050          # the preview: plenty to judge a band, half the bytes of 44.1 kHz
FILE_SAMPLE_RATE = 44100     # the files a musician takes into a DAW
TAIL_SECONDS = 1.5           # let the last notes ring out
FIRST_BLOCK = 0.5            # seconds in the first streamed block: sound starts after this much
LONGEST_BLOCK = 8.0          # blocks double up to this (fewer messages for long songs)
FLUIDSYNTH_GAIN = 0.45       # FluidSynth's master gain: headroom for a five-piece band
# Preview level: the stream cannot be normalised before it is all rendered, so it gets a fixed
# gain per engine and a soft clip above -1 dBFS. Measured over the ten styles (32 bars, seed
# 1): FluidSynth at gain 0.45 gives -24..-13 LUFS, peaks -10..+0.6 dBFS (funk); the built-in
# synthesiser -16..-11 LUFS, peaks -0.3..+3.2 dBFS, hence its -6 dB.
PREVIEW_GAIN = {"fluidsynth": 1.0, "builtin": 0.5}
# libsndfile's compression level for the Ogg Vorbis preview (0 best .. 1 smallest): 0.5 is
# about 88 kbit/s at 22.05 kHz stereo, 0.7 MB per 32 bars at 120 bpm (see README, Audio out).
PREVIEW_COMPRESSION = 0.5
LOUDNESS_TARGET = -14.0      # LUFS, integrated (streaming services' reference level)
PEAK_CEILING = -1.0          # dBFS: the loudness gain never pushes a sample peak above this
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


def _events(arrangement, tracks: set[int] | None = None):
    """Per-note arrays in seconds: start, end, pitch, velocity, channel, track index (only
    the tracks whose index is in ``tracks``, when given)."""
    spb = 60.0 / float(arrangement.tempo)
    rows = []
    for t_index, track in enumerate(arrangement.tracks.values()):
        if tracks is not None and t_index not in tracks:
            continue
        for n in track.notes:
            rows.append((n.start * spb, max(n.end, n.start + 1e-3) * spb, n.pitch, n.velocity,
                         track.channel, t_index))
    if not rows:
        return np.zeros((0, 6))
    return np.asarray(rows, dtype=np.float64)


def _length_seconds(arrangement) -> float:
    """The song and its ring-out: the same for the band and for each stem, so they line up."""
    spb = 60.0 / float(arrangement.tempo)
    end = float(arrangement.length_beats)
    for track in arrangement.tracks.values():
        if track.notes:
            end = max(end, max(n.end for n in track.notes))
    return end * spb + TAIL_SECONDS


# --------------------------------------------------------------------------------------------
# FluidSynth
#
# Every render gets a fresh synthesizer: a reused one carries voice, chorus and reverb state
# (and its 64-sample block phase) from the last render, so the same song would not come out as
# the same samples twice. A fresh one is cheap because FluidSynth shares the loaded soundfont's
# samples between synthesizers (~0.08 s and ~13 MB each after the first load), and the next one
# is made ahead of time in the background, so a render starts at once.

_synth_lock = threading.Lock()
_spares: dict[tuple[str, int], tuple[object, int]] = {}
_making: dict[tuple[str, int], threading.Event] = {}     # spares being made
_write_float = None


def _new_synth(soundfont: Path, sample_rate: int):
    import fluidsynth

    t0 = time.perf_counter()
    synth = fluidsynth.Synth(gain=FLUIDSYNTH_GAIN, samplerate=float(sample_rate))
    sfid = synth.sfload(str(soundfont))
    if sfid < 0:
        synth.delete()
        raise AudioError(f"FluidSynth could not load the soundfont {str(soundfont)!r}")
    synth.set_reverb(roomsize=0.4, damping=0.3, width=0.8, level=0.35)
    log.debug("synthesizer for %s ready in %.3f s", soundfont, time.perf_counter() - t0)
    return synth, sfid


def _take_synth(soundfont: Path, sample_rate: int):
    """A fresh synthesizer: the spare made in advance if there is one (waiting for it if it is
    being made: that is quicker than making another beside it), else a new one."""
    key = (str(soundfont), int(sample_rate))
    with _synth_lock:
        making = _making.get(key)
    if making is not None:
        making.wait(5.0)
    with _synth_lock:
        spare = _spares.pop(key, None)
    return spare if spare is not None else _new_synth(soundfont, sample_rate)


def prepare(soundfont: str | os.PathLike | None = None, sample_rate: int = SAMPLE_RATE,
            background: bool = True) -> None:
    """Make the next render's synthesizer now (in a thread unless ``background=False``), so
    that rendering starts without loading anything. Does nothing without FluidSynth."""
    try:
        sf = find_soundfont(soundfont)
    except AudioError:
        return
    if sf is None or not fluidsynth_available():
        return
    key = (str(sf), int(sample_rate))
    with _synth_lock:
        making = _making.get(key)
        if key in _spares or (making is not None and background):
            return
        if making is None:
            done = _making[key] = threading.Event()
    if making is not None:          # being made in the background: wait for it
        making.wait(10.0)
        return

    def work():
        try:
            made = _new_synth(sf, sample_rate)
        except Exception as exc:  # a broken soundfont: the render will say so
            log.warning("could not prepare a synthesizer: %s", exc)
            made = None
        with _synth_lock:
            if made is not None:
                _spares[key] = made
            del _making[key]
        done.set()

    if background:
        threading.Thread(target=work, daemon=True, name="workbench-synth").start()
    else:
        work()


def _writer():
    """``fluid_synth_write_float``: float output, so no dither noise (which would make renders
    differ) and no 16-bit clipping before the loudness is set."""
    global _write_float
    if _write_float is None:
        import ctypes

        import fluidsynth

        fn = fluidsynth._fl.fluid_synth_write_float
        fn.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int,
                       ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
        fn.restype = ctypes.c_int
        _write_float = fn
    return _write_float


def _timeline(arrangement, sample_rate: int, tracks: set[int] | None):
    """MIDI events in time order, made lazily: (frame, kind 1=on 0=off, channel, pitch,
    velocity), offs first at equal frames. Lazy, so the first block of a 500-bar song costs only
    its own notes (each track's notes are sorted by start: merge them, hold the offs in a heap).
    """
    fpb = 60.0 / float(arrangement.tempo) * sample_rate          # frames per beat

    def ons(track):
        ch = int(track.channel)
        for n in track.notes:
            yield int(round(n.start * fpb)), ch, n

    sources = [ons(t) for i, t in enumerate(arrangement.tracks.values())
               if tracks is None or i in tracks]
    offs: list[tuple[int, int, int]] = []
    for frame, ch, n in heapq.merge(*sources, key=lambda item: item[0]):
        while offs and offs[0][0] <= frame:
            off, och, pitch = heapq.heappop(offs)
            yield off, 0, och, pitch, 0
        yield frame, 1, ch, int(n.pitch), max(1, min(127, int(n.velocity)))
        end = max(int(round(max(n.end, n.start + 1e-3) * fpb)), frame + 1)
        heapq.heappush(offs, (end, ch, int(n.pitch)))
    while offs:
        off, och, pitch = heapq.heappop(offs)
        yield off, 0, och, pitch, 0


def _stream_fluidsynth(arrangement, made, soundfont: Path, sample_rate: int, bounds, tracks):
    """Yield the song as float32 (n, 2) blocks ending at the frames in ``bounds``, played by
    ``made`` = (synth, soundfont id), which is deleted at the end."""
    synth, sfid = made
    write = _writer()
    events = _timeline(arrangement, sample_rate, tracks)
    pending = next(events, None)
    try:
        for track in arrangement.tracks.values():
            synth.program_select(int(track.channel), sfid, 128 if track.is_drum else 0,
                                 int(track.program))
        pos = 0
        for end in bounds:
            out = np.zeros((end - pos, 2), dtype=np.float32)
            start = pos
            while True:
                to = min(pending[0] if pending is not None else end, end)
                if to > pos:
                    view = out[pos - start:to - start]
                    write(synth.synth, to - pos, view.ctypes.data, 0, 2, view.ctypes.data, 1, 2)
                    pos = to
                if pos >= end:
                    break
                assert pending is not None  # (pos < end: an event is due)
                _, kind, ch, pitch, vel = pending
                if kind:
                    synth.noteon(ch, pitch, vel)
                else:
                    synth.noteoff(ch, pitch)
                pending = next(events, None)
            yield out
            if end == bounds[0] and not sys.is_finalizing():
                # the next render's synthesizer, made now that the first block is out (not at
                # the end, which is when the next Generate tends to come)
                prepare(soundfont, sample_rate)
    finally:
        synth.delete()


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


def _stream_builtin(arrangement, sample_rate: int, bounds, tracks):
    """The built-in synthesiser, one block at a time: each note's sound is added to the blocks
    it overlaps, and notes are made only when their block comes (lazily, like FluidSynth's)."""
    spb = 60.0 / float(arrangement.tempo)
    cache: dict[tuple, np.ndarray] = {}

    def notes(track):
        pan = _PAN.get(track.name, 0.5)
        gains = np.array([np.cos(pan * np.pi / 2), np.sin(pan * np.pi / 2)], dtype=np.float32)
        voice = None if track.is_drum else _voice_for(int(track.program), track.name)
        for note in track.notes:
            start = int(round(note.start * spb * sample_rate))
            if track.is_drum:
                key = ("drum", note.pitch)
                if key not in cache:
                    # noise seeded by the pitch: the same sound whatever order notes come in
                    rng = np.random.default_rng(int(note.pitch))
                    cache[key] = _drum(int(note.pitch), sample_rate, rng)
            else:
                n_on = max(1, int(round((note.end - note.start) * spb * sample_rate)))
                n_on = min(n_on, 8 * sample_rate)
                key = (voice, note.pitch, n_on // 64)    # quantise lengths: ~3 ms buckets
                if key not in cache:
                    cache[key] = _tone(voice or "", int(note.pitch), (n_on // 64) * 64 or 1,
                                       sample_rate)
            amp = (note.velocity / 127.0) ** 1.5 * 0.5
            yield start, cache[key], amp, gains

    placed = heapq.merge(*(notes(t) for i, t in enumerate(arrangement.tracks.values())
                           if tracks is None or i in tracks), key=lambda item: item[0])
    nxt = next(placed, None)
    active: list = []
    pos = 0
    for end in bounds:
        out = np.zeros((end - pos, 2), dtype=np.float32)
        while nxt is not None and nxt[0] < end:
            active.append(nxt)
            nxt = next(placed, None)
        keep = []
        for item in active:
            start, sig, amp, gains = item
            a, b = max(start, pos), min(start + len(sig), end)
            if b > a:
                out[a - pos:b - pos] += (amp * sig[a - start:b - start])[:, None] * gains
            if start + len(sig) > end:
                keep.append(item)
        active = keep
        pos = end
        yield out


# --------------------------------------------------------------------------------------------
# public API


def _engine(soundfont, engine: str) -> Path | None:
    """The soundfont to render with, or None for the built-in synthesiser."""
    if engine not in ENGINES:
        raise AudioError(f"unknown audio engine {engine!r}: choose one of {', '.join(ENGINES)}")
    if engine == "builtin":
        return None
    sf = find_soundfont(soundfont)
    if engine == "fluidsynth" and sf is None:
        raise AudioError("no General MIDI soundfont found: install fluid-soundfont-gm or set "
                         "WORKBENCH_SOUNDFONT")
    if sf is not None and not fluidsynth_available():
        if engine == "fluidsynth":
            raise AudioError("FluidSynth is not available: install libfluidsynth3 and "
                             "pyfluidsynth")
        return None
    return sf


def block_bounds(frames: int, sample_rate: int, first: float = FIRST_BLOCK,
                 longest: float = LONGEST_BLOCK) -> list[int]:
    """End frames of the blocks a song is rendered in: ``first`` seconds, then twice as long
    each time up to ``longest``. A short first block is what makes sound start at once.

    >>> block_bounds(10 * 100, 100, first=0.5, longest=4)
    [50, 150, 350, 750, 1000]
    """
    bounds, pos, size = [], 0, max(1, int(first * sample_rate))
    while pos < frames:
        pos = min(frames, pos + size)
        bounds.append(pos)
        size = min(size * 2, max(1, int(longest * sample_rate)))
    return bounds


@dataclass
class Stream:
    """A render in progress: iterate ``blocks`` for float32 (n, 2) arrays, in order, that add
    up to ``frames`` frames. Raw engine level: see :data:`PREVIEW_GAIN` and :func:`mixdown`."""

    blocks: Generator[np.ndarray, None, None]
    frames: int
    sample_rate: int
    engine: str
    soundfont: str | None

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate

    @property
    def source(self) -> str:
        """What made the sound, in words for the page."""
        return ("FluidSynth · " + Path(self.soundfont or "").name if self.engine == "fluidsynth"
                else "built-in synthesiser")


def stream(arrangement, *, soundfont: str | os.PathLike | None = None, engine: str = "auto",
           sample_rate: int = SAMPLE_RATE, tracks: Iterable[str] | None = None,
           first: float = FIRST_BLOCK, longest: float = LONGEST_BLOCK) -> Stream:
    """Render ``arrangement`` block by block (see :func:`block_bounds`): the first block is
    ready after a few milliseconds of work, whatever the song's length. ``tracks`` (names)
    renders only those parts, at the same level as in the whole band (a stem)."""
    sf = _engine(soundfont, engine)
    names = list(arrangement.tracks)
    if tracks is not None:
        tracks = list(tracks)
        for name in tracks:
            if name not in arrangement.tracks:
                raise AudioError(f"no track {name!r} in this arrangement (has {', '.join(names)})")
    indices = None if tracks is None else {names.index(name) for name in tracks}
    frames = int(round(_length_seconds(arrangement) * sample_rate))
    bounds = block_bounds(frames, sample_rate, first, longest)
    if sf is not None:
        try:
            synth = _take_synth(sf, sample_rate)
        except Exception as exc:  # a broken soundfont must not silence the app
            if engine == "fluidsynth":
                raise AudioError(f"FluidSynth failed: {exc}") from exc
            log.warning("FluidSynth failed (%s); using the built-in synthesiser", exc)
        else:
            blocks = _stream_fluidsynth(arrangement, synth, sf, sample_rate, bounds, indices)
            return Stream(blocks, frames, sample_rate, "fluidsynth", str(sf))
    blocks = _stream_builtin(arrangement, sample_rate, bounds, indices)
    return Stream(blocks, frames, sample_rate, "builtin", None)


def preview_level(block: np.ndarray, engine: str) -> np.ndarray:
    """A streamed block at the preview's level: the engine's fixed gain, then a soft clip that
    leaves everything below -1 dBFS alone (sample by sample, so blocks join seamlessly).

    >>> preview_level(np.array([[0.5, -2.0]], dtype=np.float32), "fluidsynth").round(2)
    array([[ 0.5, -1. ]], dtype=float32)
    """
    x = block * np.float32(PREVIEW_GAIN.get(engine, 1.0))
    knee = np.float32(0.89)
    over = np.abs(x) > knee
    if over.any():
        room = np.float32(1.0) - knee
        x[over] = np.sign(x[over]) * (knee + room * np.tanh((np.abs(x[over]) - knee) / room))
    return x


def _collect(s: Stream, progress, cancel) -> np.ndarray:
    out = np.empty((s.frames, 2), dtype=np.float32)
    pos = 0
    for block in s.blocks:
        if cancel is not None and cancel():
            s.blocks.close()                     # frees the synthesizer
            raise RenderCancelled()
        out[pos:pos + len(block)] = block
        pos += len(block)
        if progress is not None:
            progress(pos / max(s.frames, 1))
    return out


def render(arrangement, *, soundfont: str | os.PathLike | None = None, engine: str = "auto",
           sample_rate: int = SAMPLE_RATE, progress: Callable[[float], None] | None = None,
           cancel: Callable[[], bool] | None = None) -> Audio:
    """Render ``arrangement`` to stereo audio, peak at -1 dBFS.

    ``engine``: ``"auto"`` (FluidSynth when it and a soundfont are available, else built-in),
    ``"fluidsynth"`` (an error if not possible) or ``"builtin"``. ``progress(fraction)`` is
    called now and then; ``cancel()`` returning True stops the render (``RenderCancelled``).
    """
    t0 = time.perf_counter()
    s = stream(arrangement, soundfont=soundfont, engine=engine, sample_rate=sample_rate,
               first=1.0, longest=1.0)
    samples = _collect(s, progress, cancel)
    peak = float(np.abs(samples).max()) if len(samples) else 0.0
    if peak > 1e-4:                 # same loudness whichever engine: peak at -1 dBFS
        samples *= 0.89 / peak
    return Audio(samples=samples, sample_rate=sample_rate, engine=s.engine,
                 soundfont=s.soundfont, seconds=time.perf_counter() - t0)


# --------------------------------------------------------------------------------------------
# encoding

# name -> (libsndfile format, subtype, MIME type). WAV and FLAC in 24 bits for the files a
# musician takes away; Ogg Vorbis for the preview sent to the page (Chromium decodes it, each
# block is a complete file, and libsndfile encodes it with no extra codec to install).
FORMATS = {
    "wav": ("WAV", "PCM_24", "audio/wav"),
    "flac": ("FLAC", "PCM_24", "audio/flac"),
    "ogg": ("OGG", "VORBIS", "audio/ogg"),
}


def encode(samples: np.ndarray, sample_rate: int, fmt: str,
           quality: float = PREVIEW_COMPRESSION) -> bytes:
    """The bytes of a whole audio file: ``fmt`` is ``"wav"``, ``"flac"`` or ``"ogg"``.
    ``quality`` is libsndfile's compression level for Ogg Vorbis (0 best .. 1 smallest)."""
    import soundfile

    if fmt not in FORMATS:
        raise AudioError(f"unknown audio format {fmt!r}: choose one of {', '.join(FORMATS)}")
    major, subtype, _ = FORMATS[fmt]
    buf = io.BytesIO()
    if fmt == "ogg":
        soundfile.write(buf, np.clip(samples, -1.0, 1.0), int(sample_rate), format=major,
                        subtype=subtype, compression_level=quality)
    else:
        # round to 24 bits here: libsndfile rounds floats differently for WAV and FLAC, and the
        # two files of one part should hold the same samples
        top = 2 ** 23
        pcm = np.round(np.clip(samples, -1.0, (top - 1) / top) * top).astype(np.int32) << 8
        soundfile.write(buf, pcm, int(sample_rate), format=major, subtype=subtype)
    return buf.getvalue()


# Audio file names this module does not write: a path ending so is a mistake, not a folder.
OTHER_AUDIO_EXTENSIONS = (".ogg", ".oga", ".opus", ".mp3", ".m4a", ".aac", ".aif", ".aiff",
                          ".wma", ".mid", ".midi")


FILE_FORMATS = ("wav", "flac")


def check_format(fmt: str) -> str:
    """``fmt`` if it is a file format written here, else a :class:`WorkbenchError` naming it."""
    if fmt not in FILE_FORMATS:
        raise WorkbenchError(f"unknown audio file format {fmt!r}: choose wav or flac",
                             field="format", value=fmt, valid=FILE_FORMATS)
    return fmt


def format_of(path: str | os.PathLike) -> str:
    """The format a file name asks for (``.wav`` or ``.flac``); an error names the others."""
    ext = Path(path).suffix.lower().lstrip(".")
    if ext not in FILE_FORMATS:
        raise WorkbenchError(f"{str(path)!r}: audio files are .wav or .flac, not "
                             f"{ext or 'no extension'!r}", field="path", value=str(path),
                             valid=FILE_FORMATS)
    return ext


# --------------------------------------------------------------------------------------------
# the mix and the stems, loudness-normalised


@dataclass
class Mixdown:
    """The band and one signal per track (float32 (n, 2)), all scaled by the same ``gain``:
    the stems add up to the mix. ``loudness`` is the mix's integrated loudness (LUFS, ITU-R
    BS.1770 via pyloudnorm) after the gain."""

    mix: np.ndarray
    stems: dict[str, np.ndarray]
    sample_rate: int
    gain: float
    loudness: float
    peak_limited: bool        # the target would have clipped: the gain stops at the ceiling
    engine: str
    soundfont: str | None

    def parts(self) -> dict[str, np.ndarray]:
        """The stems, then the band (the order and names of the MIDI files)."""
        return {**self.stems, "band": self.mix}


def loudness_gain(samples: np.ndarray, sample_rate: int, target: float = LOUDNESS_TARGET,
                  ceiling: float = PEAK_CEILING) -> tuple[float, float, bool]:
    """(gain, loudness after it, peak_limited): the gain that brings ``samples`` to ``target``
    LUFS integrated, or less when the sample peak would pass ``ceiling`` dBFS (no limiter, so
    stems given the same gain still add up to the mix)."""
    import pyloudnorm

    peak = float(np.abs(samples).max()) if len(samples) else 0.0
    if peak < 1e-6:
        return 1.0, float("-inf"), False
    measured = pyloudnorm.Meter(sample_rate).integrated_loudness(samples.astype(np.float64))
    gain_db = target - measured if np.isfinite(measured) else 0.0
    limited = 20 * np.log10(peak) + gain_db > ceiling
    if limited:
        gain_db = ceiling - 20 * np.log10(peak)
    return float(10 ** (gain_db / 20)), float(measured + gain_db), bool(limited)


def mixdown(arrangement, *, soundfont=None, engine: str = "auto",
            sample_rate: int = FILE_SAMPLE_RATE, loudness: float = LOUDNESS_TARGET,
            progress: Callable[[float], None] | None = None,
            cancel: Callable[[], bool] | None = None) -> Mixdown:
    """Render each track on its own (a fresh synthesizer each: same song, same samples), sum
    them into the mix and scale all by one gain to ``loudness`` LUFS (see
    :func:`loudness_gain`)."""
    names = list(arrangement.tracks)
    stems: dict[str, np.ndarray] = {}
    used = None
    for i, name in enumerate(names):
        s = stream(arrangement, soundfont=soundfont, engine=engine, sample_rate=sample_rate,
                   tracks=[name], first=1.0, longest=1.0)
        used = used or s
        step = (lambda f, i=i: progress((i + f) / len(names))) if progress else None
        stems[name] = _collect(s, step, cancel)
    if used is None:
        raise AudioError("this arrangement has no tracks to render")
    mix = np.asarray(np.sum(list(stems.values()), axis=0, dtype=np.float32))
    gain, measured, limited = loudness_gain(mix, sample_rate, loudness)
    mix *= gain
    for name in names:
        stems[name] *= gain
    return Mixdown(mix, stems, sample_rate, gain, measured, limited, used.engine, used.soundfont)


def _atomic_write(path: Path, data: bytes, overwrite: bool) -> None:
    """Write ``data`` beside ``path``, fsync, then rename into place: a reader sees the whole
    file or none. Without ``overwrite`` an existing file is never replaced."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        with open(tmp, "xb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)          # fails if the name is taken: nothing is clobbered
    finally:
        tmp.unlink(missing_ok=True)


def write_audio(path: str | os.PathLike, samples: np.ndarray, sample_rate: int,
                overwrite: bool = False) -> Path:
    """Write a WAV or FLAC file (format from the extension), atomically."""
    path = Path(path)
    fmt = format_of(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{str(path)!r} exists; choose another name or pass overwrite=True")
    _atomic_write(path, encode(samples, sample_rate, fmt), overwrite)
    return path


def write_parts(folder: str | os.PathLike, parts: dict[str, tuple[str, np.ndarray]],
                sample_rate: int, formats=("wav",), timestamp=None) -> list[Path]:
    """Write ``parts`` = {subfolder: (name after the timestamp, samples)} as
    ``folder/{subfolder}/{timestamp}_{name}.{format}`` for each format: the MIDI files' layout
    and names. The timestamp moves on a second while any of the names is taken."""
    from workbench.midi import TIMESTAMP_FORMAT, parse_timestamp

    folder = Path(folder)
    for fmt in formats:
        check_format(fmt)
    when = parse_timestamp(timestamp)
    while True:
        ts = when.strftime(TIMESTAMP_FORMAT)
        paths = [(folder / sub / f"{ts}_{name}.{fmt}", samples, fmt)
                 for sub, (name, samples) in parts.items() for fmt in formats]
        if not any(p.exists() for p, _, _ in paths):
            break
        when += _dt.timedelta(seconds=1)
    for path, samples, fmt in paths:
        _atomic_write(path, encode(samples, sample_rate, fmt), overwrite=False)
    return [p for p, _, _ in paths]


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
