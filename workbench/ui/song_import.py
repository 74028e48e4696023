"""``SongImport``: bring a lead sheet into the workbench and take it out again.

Paste an iReal Pro link (a playlist shows a searchable song list), song notation, or upload a
MusicXML file; the chosen song goes into the chord box as text (with its form, so it can be
edited) and sets key, meter, style and tempo; ``choruses`` is how often the band plays the form
(the controls' repeat). Export buttons give the song as a MusicXML lead sheet and, with the last
take, a full score. Reading and writing are the engine's (:mod:`workbench.song`); this module only
lays out widgets and reports the engine's errors.
"""

from __future__ import annotations

import base64
import html
import logging
import tempfile
from pathlib import Path

import ipywidgets as w

from . import mapping

log = logging.getLogger(__name__)


def song_label(song) -> str:
    """One line of the song list: ``12 · Autumn Leaves — Joseph Kosma (G minor, Medium Swing)``."""
    style = song.style or song.workbench_style
    who = f" — {song.composer}" if song.composer else ""
    return f"{song.index if song.index is not None else 0} · {song.title or '(untitled)'}{who} " \
           f"({song.key.name}, {style})"


def matches(song, query: str) -> bool:
    """Whether every word of ``query`` is in the song's title, composer or style."""
    text = f"{song.title} {song.composer} {song.style} {song.workbench_style}".lower()
    return all(word in text for word in query.lower().split())


class SongImport(w.VBox):
    """The import box. ``SongImport(controls, workbench=None)``: ``controls`` is the app's
    :class:`~workbench.ui.controls.Controls` (the chord box it fills); ``workbench`` the
    :class:`~workbench.ui.app.Workbench` whose last take the full-score export uses."""

    LIST_LIMIT = 500  # rows shown at once; the search narrows a large playlist

    def __init__(self, controls, workbench=None):
        self.controls = controls
        self.workbench = workbench
        self.songs = None  # the SongList read
        self.song = None   # the Song loaded into the chord box
        self.source = w.Textarea(placeholder="Paste an iReal Pro link (irealb://…), a playlist, "
                                 "an HTML export or a song in bar notation, then Read",
                                 rows=2, layout=w.Layout(width="calc(100% - 12px)"))
        self.source.add_class("wb-song-source")
        self.read_button = w.Button(description="Read", icon="book", button_style="info")
        self.read_button.add_class("wb-song-read")
        self.upload = w.FileUpload(accept=".musicxml,.xml,.mxl", multiple=False,
                                   description="MusicXML…")
        self.upload.add_class("wb-song-upload")
        self.search = w.Text(placeholder="search title, composer, style",
                             layout=w.Layout(width="260px"))
        self.search.add_class("wb-song-search")
        self.list = w.Select(options=[], rows=8, layout=w.Layout(width="calc(100% - 12px)"))
        self.list.add_class("wb-song-list")
        self.choruses = w.BoundedIntText(value=controls.repeat.value,
                                         min=mapping.REPEAT_RANGE[0],
                                         max=mapping.REPEAT_RANGE[1], description="choruses",
                                         layout=w.Layout(width="140px"),
                                         style={"description_width": "60px"})
        self.choruses.add_class("wb-choruses")
        self.export_lead = w.Button(description="Lead sheet", icon="download",
                                    tooltip="The song in the chord box as a MusicXML lead sheet")
        self.export_score = w.Button(description="Full score", icon="download",
                                     tooltip="The last take as a MusicXML score, a part per track")
        self.export_lead.add_class("wb-export-lead")
        self.export_score.add_class("wb-export-score")
        self.downloads = w.HTML("")
        self.status = w.HTML("", layout=w.Layout(min_height="22px"))
        self.status.add_class("wb-song-status")
        super().__init__([
            self.source,
            w.HBox([self.read_button, self.upload, self.search, self.choruses],
                   layout=w.Layout(flex_flow="row wrap", align_items="center")),
            self.status,
            self.list,
            w.HBox([w.HTML("<b>MusicXML:</b>"), self.export_lead, self.export_score,
                    self.downloads], layout=w.Layout(flex_flow="row wrap", align_items="center")),
        ])
        self.add_class("wb-song-import")
        self.list.layout.display = "none"
        self.read_button.on_click(self._on_read)
        self.upload.observe(self._on_upload, "value")
        self.search.observe(self._on_search, "value")
        self.list.observe(self._on_pick, "value")
        self.choruses.observe(self._on_choruses, "value")
        controls.repeat.observe(self._on_repeat, "value")
        self.export_lead.on_click(self._on_export_lead)
        self.export_score.on_click(self._on_export_score)

    # -- reading ---------------------------------------------------------------------------------
    def report_error(self, message: str) -> None:
        self.status.value = (f"<span class='wb-error' role='alert' style='color:#b91c1c'>✗ "
                             f"{html.escape(message)}</span>")

    def _ok(self, message: str) -> None:
        self.status.value = f"<span class='wb-ok' style='color:#334155'>{html.escape(message)}</span>"

    def read(self, source):
        """Read a link, text or MusicXML bytes (never a path: a Voilà visitor's text is not a
        file on the server); a playlist fills the song list, a single song is loaded at once.
        Returns the SongList, or None (the error is shown)."""
        from workbench.song.sources import read_songs

        try:
            songs = read_songs(source, paths=False)
        except ValueError as exc:
            self.report_error(mapping.friendly_error(exc))
            return None
        except Exception as exc:  # a failure the engine did not foresee: shown, and logged
            log.exception("reading a song failed")
            self.report_error(mapping.friendly_error(exc))
            return None
        self.songs = songs
        self.search.value = ""
        self._fill_list("")
        if len(songs) == 1 and not songs.errors:
            self.list.layout.display = "none"
            self.load(songs[0])
        else:
            self.list.layout.display = None
            bad = ""
            if songs.errors:
                first = songs.errors[0]
                bad = (f" · {len(songs.errors)} could not be read (e.g. {first})")
            name = f"“{songs.name}”: " if songs.name else ""
            self._ok(f"{name}{len(songs)} songs{bad}. Pick one; type to search.")
        return songs

    def _fill_list(self, query: str) -> None:
        songs = [s for s in (self.songs or []) if matches(s, query)] if query else list(self.songs or [])
        shown = songs[:self.LIST_LIMIT]
        self.list.unobserve(self._on_pick, "value")
        self.list.options = [(song_label(s), i) for i, s in enumerate(shown)]
        self.list.value = None
        self._shown = shown
        self.list.observe(self._on_pick, "value")

    def load(self, song) -> None:
        """Put ``song`` into the chord box as text and set key, meter, style and tempo from it."""
        from workbench.band.styles import get_style

        self.song = song
        style = song.workbench_style
        state = {"progression": song.to_text(), "meter": song.meter, "key": song.key.name,
                 "style": style, "tempo": int(round(song.tempo or get_style(style).default_tempo))}
        lo, hi = mapping.TEMPO_RANGE
        state["tempo"] = min(max(state["tempo"], lo), hi)
        self.controls.set_state(state)
        played = ""
        try:
            played = f", {song.progression().bars} bars a chorus"
        except ValueError as exc:
            played = f" (cannot be played: {exc})"
        self._ok(f"Loaded “{song.title or 'untitled'}”: {len(song.bars)} bars written{played}, "
                 f"form {' '.join(s.label or '-' for s in song.sections)}.")

    # -- callbacks -------------------------------------------------------------------------------
    def _guard(self, fn, *args):
        try:
            return fn(*args)
        except Exception as exc:  # the UI boundary: never a traceback in the page
            log.exception("song import callback failed")
            self.report_error(mapping.friendly_error(exc))
            return None

    def _on_read(self, _button=None):
        text = self.source.value.strip()
        if not text:
            self.report_error("Paste an iReal Pro link, a playlist or a song first.")
            return
        self._guard(self.read, text)

    def _on_upload(self, change):
        files = change["new"]
        if not files:
            return
        item = files[0] if isinstance(files, (list, tuple)) else next(iter(files.values()))
        data = bytes(item["content"])
        self._guard(self.read, data)

    def _on_search(self, change):
        self._guard(self._fill_list, change["new"])

    def _on_pick(self, change):
        index = change["new"]
        if index is None:
            return
        self._guard(self.load, self._shown[index])

    def _on_choruses(self, change):
        if self.controls.repeat.value != change["new"]:
            self.controls.repeat.value = change["new"]

    def _on_repeat(self, change):
        if self.choruses.value != change["new"]:
            self.choruses.value = change["new"]

    # -- writing ---------------------------------------------------------------------------------
    def current_song(self):
        """The song in the chord box now (it may have been edited since it was loaded)."""
        from workbench.song.text import parse_song

        state = self.controls.state()
        return parse_song(state["progression"], meter=state["meter"],
                          key=None if state["key"] == "auto" else state["key"])

    def export(self, full_score: bool = False) -> str:
        """Write the MusicXML and offer it as a download link; returns the link's HTML."""
        song = self.current_song()
        arrangement = None
        if full_score:
            arrangement = getattr(self.workbench, "arrangement", None)
            if arrangement is None:
                raise ValueError("generate a take first: the full score is the last take")
        name = (song.title or "song").strip().replace("/", "-") or "song"
        suffix = "score" if full_score else "lead sheet"
        with tempfile.TemporaryDirectory() as folder:
            path = song.to_musicxml(Path(folder) / "song.musicxml", arrangement=arrangement)
            data = path.read_bytes()
        filename = f"{name} ({suffix}).musicxml"
        href = "data:application/vnd.recordare.musicxml+xml;base64," + base64.b64encode(data).decode()
        link = (f"<a class='wb-download wb-musicxml' download='{html.escape(filename)}' "
                f"href='{href}'>⤓ {html.escape(filename)}</a>")
        self.downloads.value = link
        self._ok(f"{filename}: {len(data) // 1024 + 1} KB ready to download.")
        return link

    def _on_export_lead(self, _button=None):
        self._guard(self.export, False)

    def _on_export_score(self, _button=None):
        self._ok("Writing the full score…")
        self._guard(self.export, True)
