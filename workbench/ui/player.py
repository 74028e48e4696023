"""Audio player widget: streams an Arrangement's audio to the page as it renders, and hands out
the mix and the stems as WAV or FLAC files.

``Player(arrangement)`` renders in a worker thread, block by block (:func:`workbench.audio.stream`:
FluidSynth + GM soundfont when available, else the built-in synthesiser). Each block is encoded
as a small self-contained Ogg Vorbis file and sent to the page as bytes the moment it is ready;
the page decodes the blocks and schedules them back to back with Web Audio, so Play works after
the first half second of music is rendered, whatever the song's length. The blocks stay here too,
so a page that opens later (or reloads) asks for what it missed.

Downloads: the page asks for ``(part, format)``; the first request renders the mix and every
stem at 44.1 kHz, loudness-normalised (:func:`workbench.audio.mixdown`), then each file is
encoded on demand and sent back, named like the MIDI files: ``{timestamp}_{part}_{key}_{tempo}``.

A :class:`~workbench.ui.pianoroll.PianoRoll` given the same ``group`` draws the moving playhead:
``Player(arr, group=roll.group)`` or ``player.link(roll)``.
"""

from __future__ import annotations

import io
import logging
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import traitlets

from workbench import audio as _audio

log = logging.getLogger(__name__)
HERE = Path(__file__).parent


class Player(anywidget.AnyWidget):
    _esm = HERE / "player.js"
    _css = HERE / "workbench.css"

    version = traitlets.Int(0).tag(sync=True)          # bumps with every new render
    blocks = traitlets.Int(0).tag(sync=True)           # blocks of this version rendered so far
    complete = traitlets.Bool(False).tag(sync=True)    # all blocks rendered
    sample_rate = traitlets.Int(_audio.SAMPLE_RATE).tag(sync=True)
    duration = traitlets.Float(0.0).tag(sync=True)     # seconds of audio (song + ring-out)
    rendering = traitlets.Bool(False).tag(sync=True)
    progress = traitlets.Float(0.0).tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    tempo = traitlets.Float(120.0).tag(sync=True)
    length_beats = traitlets.Float(0.0).tag(sync=True)
    loop = traitlets.Bool(False).tag(sync=True)
    group = traitlets.Unicode("").tag(sync=True)
    parts = traitlets.List(traitlets.Unicode()).tag(sync=True)   # downloadable: tracks, "band"
    export_status = traitlets.Unicode("").tag(sync=True)

    def __init__(self, arrangement=None, *, soundfont=None, engine: str = "auto",
                 sample_rate: int = _audio.SAMPLE_RATE, background: bool = True, **kwargs):
        kwargs.setdefault("group", uuid.uuid4().hex)
        super().__init__(**kwargs)
        self.soundfont = soundfont
        self.engine = engine
        self.sample_rate = sample_rate
        self.background = background
        self._last: tuple[list, dict] | None = None      # the last complete render's blocks
        self.on_rendered = None           # callback(Audio) after each successful render
        self.timestamp: str | None = None  # names the downloads; None: when it was rendered
        self._arrangement: Any = None
        self._job = 0
        self._chunks: list[tuple[dict, bytes]] = []
        self._mixdown: tuple[int, _audio.Mixdown] | None = None
        self._export_lock = threading.Lock()
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._done.set()
        self.on_msg(self._on_message)
        if engine != "builtin":
            _audio.prepare(soundfont, sample_rate)   # the first render's synthesizer, made now
        if arrangement is not None:
            self.arrangement = arrangement

    def link(self, roll) -> Player:
        """Drive ``roll``'s playhead (a PianoRoll)."""
        self.group = roll.group
        return self

    @property
    def arrangement(self):
        return self._arrangement

    @arrangement.setter
    def arrangement(self, arrangement):
        self.render(arrangement)

    def render(self, arrangement, timestamp: str | None = None) -> None:
        """Render ``arrangement`` (in a worker thread unless ``background=False``). A newer
        call supersedes an unfinished one. ``timestamp`` (YYYYMMDDHHMMSS) names the downloads,
        e.g. the one the MIDI files were written with."""
        self._arrangement = arrangement
        self.timestamp = timestamp or time.strftime("%Y%m%d%H%M%S")
        with self._lock:
            self._job += 1
            job = self._job
            self._done.clear()
            self._chunks = []
            self._mixdown = None
            with self.hold_sync():
                self.version = job
                self.blocks = 0
                self.complete = False
                self.tempo = float(arrangement.tempo)
                self.length_beats = float(arrangement.length_beats)
                self.duration = _audio._length_seconds(arrangement)
                self.progress = 0.0
                self.status = "Rendering audio…"
                self.rendering = True
                self.parts = [*arrangement.tracks, "band"]
                self.export_status = ""
        if self.background:
            threading.Thread(target=self._work, args=(arrangement, job), daemon=True,
                             name="workbench-audio").start()
        else:
            self._work(arrangement, job)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the latest render finished (for scripts and tests)."""
        return self._done.wait(timeout)

    # rendering -----------------------------------------------------------------------------

    def _work(self, arrangement, job: int) -> None:
        t0 = time.perf_counter()
        try:
            s = _audio.stream(arrangement, soundfont=self.soundfont, engine=self.engine,
                              sample_rate=self.sample_rate)
            pos = 0
            last = 0.0
            for index, raw in enumerate(s.blocks):
                if job != self._job:
                    s.blocks.close()             # superseded: free the synthesizer now
                    return
                block = _audio.preview_level(raw, s.engine)
                data = _audio.encode(block, s.sample_rate, "ogg")
                head = {"type": "block", "version": job, "index": index, "start": pos,
                        "frames": len(block), "sample_rate": s.sample_rate}
                pos += len(block)
                with self._lock:
                    if job != self._job:
                        continue
                    self._chunks.append((head, data))
                    self.send(head, [data])
                    now = time.perf_counter()
                    with self.hold_sync():
                        self.blocks = index + 1
                        if now - last > 0.1 or pos >= s.frames:
                            last = now
                            self.progress = pos / max(s.frames, 1)
                            self.status = f"Rendering audio… {int(self.progress * 100)}%"
        except Exception as exc:
            log.exception("audio rendering failed")
            with self._lock:
                if job == self._job:
                    with self.hold_sync():
                        self.rendering = False
                        self.status = f"No sound: {exc}"
                    self._done.set()
            return
        seconds = time.perf_counter() - t0
        with self._lock:
            if job != self._job:
                return
            self._last = (self._chunks, {"sample_rate": s.sample_rate, "engine": s.engine,
                                         "soundfont": s.soundfont, "seconds": seconds})
            kbytes = sum(len(d) for _, d in self._chunks) / 1000
            with self.hold_sync():
                self.complete = True
                self.progress = 1.0
                self.status = (f"{s.source} · {s.duration:.1f} s · rendered in "
                               f"{seconds:.2f} s · {kbytes:.0f} kB")
                self.rendering = False
            self._done.set()
        if self.on_rendered is not None:
            try:
                self.on_rendered(self.last_audio)
            except Exception:
                log.exception("on_rendered callback failed")

    @property
    def sent_bytes(self) -> int:
        """Bytes of compressed audio sent for the current render so far."""
        return sum(len(d) for _, d in self._chunks)

    @property
    def last_audio(self) -> _audio.Audio | None:
        """The last complete render, decoded from the blocks sent to the page. Made on demand:
        the kernel keeps only the compressed blocks (an hour of music as float samples would be
        600 MB per visitor)."""
        last = self._last
        if last is None:
            return None
        import soundfile

        blocks, info = last
        samples = [soundfile.read(io.BytesIO(data), dtype="float32")[0] for _, data in blocks]
        return _audio.Audio(np.concatenate(samples) if samples else np.zeros((0, 2), np.float32),
                            **info)

    @property
    def wav(self) -> bytes:
        """The last render as a 16-bit WAV (preview rate and level), for scripts."""
        if self.last_audio is None:
            return b""
        return self.last_audio.to_wav()

    # messages from the page ----------------------------------------------------------------

    def _on_message(self, _widget, content, _buffers) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "want":
            # a page that opened (or missed messages) after the render started
            with self._lock:
                if content.get("version") != self._job:
                    return
                have = int(content.get("have", 0))
                for head, data in self._chunks[have:]:
                    self.send(head, [data])
        elif kind == "download":
            part, fmt = str(content.get("part", "")), str(content.get("format", ""))
            threading.Thread(target=self._download, args=(part, fmt, self._job), daemon=True,
                             name="workbench-export").start()

    def file_name(self, part: str, fmt: str) -> str:
        """``{timestamp}_{part}_{key}_{tempo}.{fmt}``: the MIDI files' names."""
        ts = self.timestamp if (self.timestamp or "").isdigit() else time.strftime("%Y%m%d%H%M%S")
        return f"{ts}_{self._arrangement.file_suffix(part)}.{fmt}"

    def export(self, part: str, fmt: str) -> tuple[str, bytes]:
        """(file name, bytes) of one loudness-normalised file: ``part`` is a track or "band",
        ``fmt`` "wav" or "flac". The first call renders the mix and all stems."""
        arrangement, job = self._arrangement, self._job
        if arrangement is None:
            raise _audio.AudioError("nothing to export yet: generate first")
        if part not in (*arrangement.tracks, "band"):
            raise _audio.AudioError(f"no part {part!r} (has {', '.join(self.parts)})")
        _audio.check_format(fmt)
        with self._export_lock:
            cached = self._mixdown
            if cached is None or cached[0] != job:
                def progress(f):
                    self.export_status = f"Rendering the audio files… {int(f * 100)}%"

                mix = _audio.mixdown(arrangement, soundfont=self.soundfont, engine=self.engine,
                                     progress=progress, cancel=lambda: job != self._job)
                cached = self._mixdown = (job, mix)
        mix = cached[1]
        return self.file_name(part, fmt), _audio.encode(mix.parts()[part], mix.sample_rate, fmt)

    def _download(self, part: str, fmt: str, job: int) -> None:
        try:
            name, data = self.export(part, fmt)
        except _audio.RenderCancelled:
            return
        except Exception as exc:
            log.exception("export failed")
            self.export_status = f"Could not make the file: {exc}"
            self.send({"type": "file-error", "part": part, "format": fmt, "message": str(exc)})
            return
        if job != self._job:
            return
        assert self._mixdown is not None  # (set just above for this job)
        mix = self._mixdown[1]
        self.export_status = (f"{name} · {len(data) / 1e6:.1f} MB · mix at "
                              f"{mix.loudness:.1f} LUFS"
                              + (" (peak-limited)" if mix.peak_limited else ""))
        self.send({"type": "file", "part": part, "format": fmt, "name": name,
                   "mime": _audio.FORMATS[fmt][2]}, [data])

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        view = anywidget.AnyWidget._repr_mimebundle_(self, include=include, exclude=exclude)
        data = dict(view[0] if isinstance(view, tuple) else (view or {}))
        bars = getattr(self._arrangement, "bars", 0)
        text = f"Audio player ({bars} bars at {self.tempo:g} bpm)"
        data["text/plain"] = text
        data["text/html"] = f"<p>{text}</p>"
        return data
