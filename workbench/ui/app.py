"""``Workbench``: the whole UI in one object (JupyterLab, Notebook 7, Voilà).

Controls on top, then the piano roll, the player and the download links; the band, the feel and
the DAW sync in tabs. Any change regenerates the preview at once (live preview); Generate also
renders the audio and, with sync on, sends the files to the DAW plugins. Every error is caught
here, at the UI boundary, shown in plain words and logged (never a traceback in the page).
"""

from __future__ import annotations

import base64
import html
import logging
import time

import ipywidgets as w

from . import mapping
from .a11y import PageHelper
from .controls import Controls, safe
from .pianoroll import PianoRoll, arrangement_svg, roll_state
from .player import Player
from .song_import import SongImport
from .sync import SyncPanel

log = logging.getLogger(__name__)


def download_links(arrangement, stale: bool = False) -> str:
    """HTML links (data: URLs) for the band file and one file per track; ``stale``: marked as
    the files of an earlier result."""
    key = arrangement.key.short
    tempo = int(arrangement.tempo)
    links = []
    for name in [None, *arrangement.tracks]:
        data = arrangement.to_midi_bytes(name)
        label = name or "band"
        filename = f"{label}_{key}_{tempo}.mid"
        href = "data:audio/midi;base64," + base64.b64encode(data).decode("ascii")
        links.append(f"<a class='wb-download' download='{html.escape(filename)}' "
                     f"href='{href}' title='{html.escape(filename)} ({len(data)} bytes)' "
                     f"style='margin-right:10px'>⤓ {html.escape(label)}</a>")
    if stale:
        return ("<span class='wb-downloads wb-stale' data-stale='1'><b>MIDI files <span "
                "class='wb-stale-note'>(out of date: the last good result)</span>:</b> "
                + "".join(links) + "</span>")
    return "<span class='wb-downloads'><b>MIDI files:</b> " + "".join(links) + "</span>"


class Workbench(w.VBox):
    """The workbench UI. ``Workbench(sync=True)`` also starts (or attaches to) the sync service.

    Attributes for notebook users: ``controls``, ``roll``, ``player``, ``sync``, ``song_import``
    (iReal Pro / MusicXML in, MusicXML out), ``arrangement``
    (the latest), ``timings`` (ms of the last generation, state building and total).
    """

    def __init__(self, state: dict | None = None, *, sync: bool = False, soundfont=None,
                 audio_engine: str = "auto", service_kwargs: dict | None = None,
                 generate_on_load: bool = True):
        from . import setup_logging

        setup_logging()
        self.arrangement = None
        self.timings: dict[str, float] = {}
        self.generations = 0
        self.controls = Controls(state)
        self.roll = PianoRoll()
        self.player = Player(soundfont=soundfont, engine=audio_engine).link(self.roll)
        self.downloads = w.HTML("")
        self.status = w.HTML("", layout=w.Layout(min_height="22px"))
        self.status.add_class("wb-status")
        self.sync = SyncPanel(start=False, roll=self.roll, service_kwargs=service_kwargs)
        self.song_import = SongImport(self.controls, workbench=self)
        self.tabs = w.Tab([self.controls.band_box, self.controls.feel_box, self.sync,
                           self.song_import])
        for i, title in enumerate(["Band", "Feel & variation", "Sync to DAW", "Import a song"]):
            self.tabs.set_title(i, title)
        actions = w.HBox([*self.controls.action_box.children, self.status],
                         layout=w.Layout(align_items="center", flex_flow="row wrap"))
        # Generate right after the chord box: one Tab away (Ctrl+Enter in the box presses it)
        self.page = PageHelper(names=self.controls.names,
                               submit=(self.controls.progression, self.controls.generate))
        self.stale = False
        # the result: roll, player (audio, WAV links) and MIDI links, marked stale as one
        self.result = w.VBox([self.roll,
                              w.HBox([self.player, self.downloads],
                                     layout=w.Layout(align_items="center",
                                                     flex_flow="row wrap"))])
        self.result.add_class("wb-result")
        super().__init__([self.controls.text_box, actions, self.controls.settings_box, self.tabs,
                          self.result, self.page],
                         layout=w.Layout(width="100%"))
        self.add_class("wb-app")
        self.controls.on_change(self._on_change)
        self.controls.on_generate(self._on_generate)
        if sync:
            self.sync.start()
        if generate_on_load:
            self.refresh(audio=True)

    # ----------------------------------------------------------------------------------------

    def report_error(self, message: str) -> None:
        self.mark_stale()
        note = (" <span class='wb-stale-note'>The roll, audio and files below are the last good "
                "result.</span>") if self.stale else ""
        self.status.value = (f"<span class='wb-error' role='alert' style='color:#b91c1c'>✗ "
                             f"{html.escape(message)}</span>{note}")

    STALE = "Out of date"

    def mark_stale(self) -> None:
        """The controls no longer give the result on screen (an error): say so on the roll's
        header, the MIDI links and the player (its audio and WAV links), until a new result."""
        if self.arrangement is None or self.stale:
            return
        self.stale = True
        self.roll.title = f"{self.STALE} (the last good result): {self.roll.title}"
        self.result.add_class("wb-stale")
        self.downloads.value = download_links(self.arrangement, stale=True)

    def _clear_stale(self) -> None:
        if self.stale:
            self.stale = False
            self.result.remove_class("wb-stale")

    def refresh(self, audio: bool = True, publish: bool = False):
        """Generate from the controls and redraw; returns the Arrangement or None (error shown)."""
        from workbench import generate

        t0 = time.perf_counter()
        check = self.controls.check
        if not check.ok:
            self.report_error(f"Can't generate yet: {check.message}")
            return None
        try:
            kwargs = mapping.generate_kwargs(self.controls.state())
            arrangement = generate(**kwargs)
        except Exception as exc:
            if not isinstance(exc, ValueError):
                log.exception("generation failed")
            self.report_error(mapping.friendly_error(exc))
            return None
        t1 = time.perf_counter()
        self._clear_stale()
        if audio:   # first: the render streams from a worker thread while the roll is drawn
            self.player.render(arrangement)
        state = roll_state(arrangement)
        self.roll.show(state)
        self.roll._arrangement = arrangement
        t2 = time.perf_counter()
        self.arrangement = arrangement
        self.generations += 1
        self.downloads.value = download_links(arrangement)
        sent = ""
        if publish:
            records = self.sync.publish(arrangement)
            if records:   # audio downloads take the MIDI files' timestamp: the same names
                self.player.timestamp = str(records[0].get("filename", ""))[:14] or None
                sent = f" · sent {len(records)} files to the DAW"
        self.timings = {"generate_ms": (t1 - t0) * 1000, "state_ms": (t2 - t1) * 1000,
                        "total_ms": (time.perf_counter() - t0) * 1000}
        notes = sum(len(t.notes) for t in arrangement.tracks.values())
        self.status.value = (
            f"<span class='wb-ok' data-generation='{self.generations}' style='color:#334155'>"
            f"{arrangement.bars} bars · {len(arrangement.tracks)} tracks · {notes} notes · key "
            f"{html.escape(arrangement.key.name)} · {self.timings['total_ms']:.0f} ms{sent}"
            f"</span>")
        return arrangement

    @safe
    def _on_change(self):
        if not self.controls.live.value:
            return
        if not self.controls.check.ok:
            self.mark_stale()   # the box says what's wrong; the last good preview stays, marked
            return
        self.refresh(audio=True, publish=False)

    @safe
    def _on_generate(self):
        self.refresh(audio=True, publish=True)

    def generate(self):
        """Like pressing Generate."""
        return self.refresh(audio=True, publish=True)

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        data = super()._repr_mimebundle_(include=include, exclude=exclude, **kwargs)
        if isinstance(data, tuple):
            data = data[0]
        data = dict(data or {})
        data["text/plain"] = "Workbench()"
        if self.arrangement is not None:
            data["text/html"] = f"<div class='wb-roll-static'>{arrangement_svg(self.arrangement)}</div>"
        return data
