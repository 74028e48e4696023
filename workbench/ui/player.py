"""Audio player widget: renders an Arrangement to WAV off the UI thread and plays it in the page.

``Player(arrangement)`` renders (FluidSynth + GM soundfont when available, else the built-in
synthesiser, see :mod:`workbench.audio`) in a worker thread; the page gets the WAV as bytes and
plays it with Web Audio (play/stop/loop). A :class:`~workbench.ui.pianoroll.PianoRoll` given the
same ``group`` draws the moving playhead: ``Player(arr, group=roll.group)`` or
``player.link(roll)``.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from pathlib import Path

import anywidget
import traitlets

from workbench import audio as _audio

log = logging.getLogger(__name__)
HERE = Path(__file__).parent


class Player(anywidget.AnyWidget):
    _esm = HERE / "player.js"
    _css = HERE / "workbench.css"

    audio = traitlets.Bytes(b"").tag(sync=True)
    version = traitlets.Int(0).tag(sync=True)
    rendering = traitlets.Bool(False).tag(sync=True)
    progress = traitlets.Float(0.0).tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    tempo = traitlets.Float(120.0).tag(sync=True)
    length_beats = traitlets.Float(0.0).tag(sync=True)
    loop = traitlets.Bool(False).tag(sync=True)
    group = traitlets.Unicode("").tag(sync=True)

    def __init__(self, arrangement=None, *, soundfont=None, engine: str = "auto",
                 sample_rate: int = _audio.SAMPLE_RATE, background: bool = True, **kwargs):
        kwargs.setdefault("group", uuid.uuid4().hex)
        super().__init__(**kwargs)
        self.soundfont = soundfont
        self.engine = engine
        self.sample_rate = sample_rate
        self.background = background
        self.last_audio: _audio.Audio | None = None
        self.on_rendered = None           # callback(Audio) after each successful render
        self._arrangement = None
        self._job = 0
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._done.set()
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

    def render(self, arrangement) -> None:
        """Render ``arrangement`` (in a worker thread unless ``background=False``). A newer
        call supersedes an unfinished one."""
        self._arrangement = arrangement
        with self._lock:
            self._job += 1
            job = self._job
            self._done.clear()
            with self.hold_sync():
                self.tempo = float(arrangement.tempo)
                self.length_beats = float(arrangement.length_beats)
                self.audio = b""
                self.progress = 0.0
                self.status = "Rendering audio…"
                self.rendering = True
        if self.background:
            threading.Thread(target=self._work, args=(arrangement, job), daemon=True,
                             name="workbench-audio").start()
        else:
            self._work(arrangement, job)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the latest render finished (for scripts and tests)."""
        return self._done.wait(timeout)

    def _work(self, arrangement, job: int) -> None:
        stale = lambda: job != self._job  # noqa: E731
        last = [0.0]

        def progress(fraction):
            now = time.perf_counter()
            if now - last[0] > 0.1:
                last[0] = now
                with self._lock:
                    if not stale():
                        self.progress = float(fraction)
                        self.status = f"Rendering audio… {int(fraction * 100)}%"

        try:
            result = _audio.render(arrangement, soundfont=self.soundfont, engine=self.engine,
                                   sample_rate=self.sample_rate, progress=progress, cancel=stale)
            wav = result.to_wav()
        except _audio.RenderCancelled:
            return
        except Exception as exc:
            log.exception("audio rendering failed")
            with self._lock:
                if not stale():
                    with self.hold_sync():
                        self.rendering = False
                        self.status = f"No sound: {exc}"
                    self._done.set()
            return
        with self._lock:
            if stale():
                return
            self.last_audio = result
            source = ("FluidSynth · " + Path(result.soundfont or "").name
                      if result.engine == "fluidsynth" else "built-in synthesiser")
            with self.hold_sync():
                self.audio = wav
                self.version += 1
                self.progress = 1.0
                self.status = f"{source} · {result.duration:.1f} s · rendered in {result.seconds:.2f} s"
                self.rendering = False
            self._done.set()
        if self.on_rendered is not None:
            try:
                self.on_rendered(result)
            except Exception:
                log.exception("on_rendered callback failed")

    @property
    def wav(self) -> bytes:
        return bytes(self.audio)

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        view = anywidget.AnyWidget._repr_mimebundle_(self, include=include, exclude=exclude)
        data = dict(view[0] if isinstance(view, tuple) else (view or {}))
        bars = getattr(self._arrangement, "bars", 0)
        text = f"Audio player ({bars} bars at {self.tempo:g} bpm)"
        data["text/plain"] = text
        data["text/html"] = f"<p>{text}</p>"
        return data
