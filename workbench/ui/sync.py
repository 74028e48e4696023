"""The sync panel: start (or attach to) the service from the kernel, show its URL and token, the
connected plugins (last heartbeat, DAW position) and the latest events; publish every Generate to
the plugins when sync is on; feed the DAW transport position to the piano roll's playhead.

The service runs in its own thread (``server.start``); its events arrive on that thread, so every
widget update here goes through a lock and a small throttle (at most a few refreshes a second).
"""

from __future__ import annotations

import html
import logging
import os
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import ipywidgets as w

from .controls import safe

log = logging.getLogger(__name__)

SHOWN_EVENTS = 8


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def service_port() -> int | None:
    """The port to start the service on: ``$ORCHESTRATOR_PORT`` if set; a free port when run by
    the test suite (nbval, pytest), so tests never collide with a service on 8000; else ``None``
    (the service's own default, 8000, which the DAW plugin expects)."""
    env = os.environ.get("ORCHESTRATOR_PORT")
    if env:
        return int(env)
    if os.environ.get("PYTEST_CURRENT_TEST"):
        return free_port()
    return None


def start_service(**kwargs):
    """``server.start`` with :func:`service_port` unless a port is given."""
    from server import start

    if kwargs.get("port") is None:
        port = service_port()
        if port is not None:
            kwargs["port"] = port
    if kwargs.get("folder") is None and not os.environ.get("ORCHESTRATOR_FOLDER"):
        if os.environ.get("PYTEST_CURRENT_TEST"):
            # under the test suite: leave no generated files in the checkout
            kwargs["folder"] = tempfile.mkdtemp(prefix="workbench-sync-")
        else:
            kwargs["folder"] = project_folder()
    return start(**kwargs)


def project_folder() -> Path | None:
    """The project's ``generated_accompaniments`` when running from a checkout (the notebooks
    run in ``notebooks/``, so the service's relative default would land there); else ``None``
    (the service's default, relative to the working directory)."""
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and (root / "notebooks").is_dir():
        return root / "generated_accompaniments"
    return None


def event_beat(event: dict):
    """(beat, playing, tempo) of a transport event, or None if it carries no position."""
    data: dict = event["data"] if isinstance(event.get("data"), dict) else event
    for name in ("currentBeat", "current_beat", "beat", "position"):
        if name in data:
            try:
                beat = float(data[name])
            except (TypeError, ValueError):
                return None
            playing = bool(data.get("isPlaying", data.get("is_playing", data.get("playing"))))
            return beat, playing, data.get("tempo")
    return None


def is_notebook_listener(plugin: dict) -> bool:
    """True for the event listener of another notebook page attached to the service (server's
    ``AttachedHandle.on_event`` connects with ``role=notebook``): listed, but not a DAW plugin.
    Not the endpoint: DAW plugins connect to ``/ws/sync`` too."""
    return plugin.get("role") == "notebook"



def _age(ts) -> str:
    if isinstance(ts, str):
        try:
            from datetime import datetime

            ts = datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return html.escape(ts)
    try:
        ts = float(ts)
    except (TypeError, ValueError):
        return "–"
    if ts > 1e12:        # milliseconds
        ts /= 1000.0
    return f"{max(0.0, time.time() - ts):.0f} s ago"


class SyncPanel(w.VBox):
    """``SyncPanel(start=False)``; ``panel.start()``; ``panel.publish(arrangement)``.

    ``roll``: a PianoRoll whose DAW playhead follows the transport position.

    While sync is on, the plugin table is also refreshed every ``POLL_SECONDS`` (a plugin that
    connects or only heartbeats publishes no event); a service that stops answering (e.g. the
    Voilà visitor whose kernel ran it has left) is reported and Start is offered again.
    """

    POLL_SECONDS = 2.0
    LOST_AFTER = 3          # failed polls in a row

    def __init__(self, start: bool = False, roll=None, service_kwargs: dict | None = None):
        self.handle: Any = None  # a ServiceHandle or an AttachedHandle
        self.roll = roll
        self.service_kwargs = dict(service_kwargs or {})
        self.events: list[dict] = []
        self.position = None            # (beat, playing, tempo) last seen from the DAW
        self.positions: dict[str, tuple] = {}   # plugin id -> its last transport position
        self.last_published: list[dict] = []
        self._lock = threading.Lock()
        self._refresh_timer: threading.Timer | None = None
        self._last_refresh = 0.0
        self._poll_stop: threading.Event | None = None
        self._failures = 0

        self.start_button = w.Button(description="Start sync service",
                                     tooltip="Start (or attach to) the service the DAW plugin "
                                             "connects to", layout=w.Layout(width="180px"))
        self.start_button.add_class("wb-sync-start")
        self.stop_button = w.Button(description="Stop", disabled=True,
                                    tooltip="Stop the service started by this page")
        self.enabled = w.Checkbox(value=False, indent=False,
                                  description="send every Generate to the DAW")
        self.enabled.add_class("wb-sync-enabled")
        self.follow = w.Checkbox(value=False, indent=False, description="playhead follows DAW")
        self.follow.add_class("wb-sync-follow")
        self.info = w.HTML("<i>Sync is off: start the service to send the band to your DAW.</i>")
        self.info.add_class("wb-sync-info")
        self.plugins_html = w.HTML("")
        self.plugins_html.add_class("wb-sync-plugins")
        self.events_html = w.HTML("")
        self.events_html.add_class("wb-sync-events")
        self.message = w.HTML("")
        self.message.add_class("wb-sync-message")
        super().__init__([
            w.HBox([self.start_button, self.stop_button, self.enabled, self.follow],
                   layout=w.Layout(align_items="center", flex_flow="row wrap")),
            self.info, self.message, self.plugins_html, self.events_html,
        ])
        self.add_class("wb-sync")
        self.start_button.on_click(lambda _b: self.start())
        self.stop_button.on_click(lambda _b: self.stop())
        self.follow.observe(self._on_follow, "value")
        if start:
            self.start()

    # ----------------------------------------------------------------------------------------

    def report_error(self, message: str) -> None:
        self.message.value = (f"<span class='wb-error' role='alert' style='color:#b91c1c'>✗ "
                              f"{html.escape(message)}</span>")

    @property
    def running(self) -> bool:
        return self.handle is not None

    @safe
    def start(self):
        if self.handle is not None:
            return self.handle
        try:
            handle = start_service(**self.service_kwargs)
        except Exception as exc:
            log.exception("could not start the sync service")
            self.report_error(f"Could not start the sync service: {exc}")
            return None
        self.handle = handle
        handle.on_event(self._on_event)
        self.enabled.value = True
        self.start_button.disabled = True
        self.stop_button.disabled = bool(getattr(handle, "attached", False))
        self.message.value = ""
        how = "attached to the running service" if getattr(handle, "attached", False) \
            else "service started"
        token = getattr(handle, "token", "") or ""
        self.info.value = (
            f"<div class='wb-sync-url' data-url='{html.escape(handle.url)}' "
            f"data-ws-url='{html.escape(getattr(handle, 'ws_url', ''))}'>"
            f"<b>Sync on</b> ({how}): <code>{html.escape(handle.url)}</code> · "
            f"WebSocket <code>{html.escape(getattr(handle, 'ws_url', ''))}</code> · token "
            f"<code class='wb-token'>{html.escape(token)}</code> · files in "
            f"<code>{html.escape(str(getattr(handle, 'folder', '')))}</code></div>")
        self._failures = 0
        self.refresh()
        self._start_polling(handle)
        return handle

    @safe
    def stop(self):
        handle, self.handle = self.handle, None
        if self._poll_stop is not None:
            self._poll_stop.set()
        if handle is not None:
            handle.stop()
        self._show_off("<i>Sync is off.</i>")

    def _show_off(self, info: str) -> None:
        self.enabled.value = False
        self.start_button.disabled = False
        self.stop_button.disabled = True
        self.info.value = info
        self.plugins_html.value = ""

    def _start_polling(self, handle) -> None:
        if self._poll_stop is not None:
            self._poll_stop.set()
        stop = self._poll_stop = threading.Event()

        def loop():
            while not stop.wait(self.POLL_SECONDS):
                if self.handle is not handle:
                    return
                self.refresh()
                if self._failures >= self.LOST_AFTER:
                    self._lost(handle)
                    return

        threading.Thread(target=loop, daemon=True, name="workbench-sync-poll").start()

    def _lost(self, handle) -> None:
        """The service stopped answering: say so, detach, offer Start again."""
        if self.handle is not handle:
            return
        self.handle = None
        try:
            handle.stop()
        except Exception:
            log.debug("stopping a lost service handle failed", exc_info=True)
        log.warning("sync service at %s stopped answering", handle.url)
        self._show_off("<i>Sync is off.</i>")
        self.report_error(f"The sync service at {handle.url} stopped answering: press “Start "
                          f"sync service” to start it again.")

    def publish(self, arrangement) -> list[dict]:
        """Send the arrangement's files to the plugins (when sync is on). Returns the records."""
        if self.handle is None or not self.enabled.value:
            return []
        try:
            records = self.handle.publish(arrangement)
        except Exception as exc:
            log.exception("publish failed")
            self.report_error(f"Could not send the files to the DAW: {exc}")
            return []
        self.last_published = list(records or [])
        n_plugins = len([p for p in self._plugins() if not is_notebook_listener(p)])
        self.message.value = (f"<span class='wb-ok' style='color:#15803d'>Sent "
                              f"{len(self.last_published)} files to {n_plugins} plugin"
                              f"{'s' if n_plugins != 1 else ''}.</span>")
        self.refresh()
        return self.last_published

    # events from the service thread ------------------------------------------------------------

    def _on_event(self, event: dict) -> None:
        try:
            with self._lock:
                self.events.append(event)
                del self.events[:-50]
                kind = event.get("type", "")
                if "transport" in kind:
                    pos = event_beat(event)
                    if pos is not None:
                        self.position = pos
                        source = event.get("source") or event.get("plugin_id")
                        if source:
                            self.positions[str(source)] = pos
                        self._move_playhead(pos)
            self._schedule_refresh()
        except Exception:
            log.exception("sync event handling failed")

    def _move_playhead(self, pos) -> None:
        roll = self.roll
        if roll is None or not self.follow.value:
            return
        beat, playing, _tempo = pos
        with roll.hold_sync():
            roll.daw_beat = float(beat)
            roll.daw_playing = bool(playing)

    def _on_follow(self, change):
        if self.roll is not None:
            self.roll.follow_daw = bool(change["new"])
            if change["new"] and self.position is not None:
                self._move_playhead(self.position)

    def _schedule_refresh(self, interval: float = 0.25) -> None:
        with self._lock:
            if self._refresh_timer is not None:
                return
            delay = max(0.0, interval - (time.monotonic() - self._last_refresh))
            timer = self._refresh_timer = threading.Timer(delay, self._timed_refresh)
            timer.daemon = True
            timer.start()

    def _timed_refresh(self):
        with self._lock:
            self._refresh_timer = None
            self._last_refresh = time.monotonic()
        self.refresh()

    def _plugins(self) -> list[dict]:
        if self.handle is None:
            return []
        try:
            plugins = list(self.handle.plugins())
        except Exception:
            self._failures += 1
            log.debug("plugins() failed", exc_info=True)
            return []
        self._failures = 0
        return plugins

    def refresh(self) -> None:
        """Redraw the plugin table and the event list."""
        try:
            plugins = self._plugins()
            with self._lock:
                events = list(self.events[-SHOWN_EVENTS:])
                position = self.position
            # the listener of another page that has gone (its kernel shut down or culled) is
            # history, not a page: only connected ones are listed
            own = f"notebook-{os.getpid()}"      # this page's own listener (AttachedHandle)
            plugins = [p for p in plugins if not (is_notebook_listener(p) and (
                not p.get("connected", True) or p.get("plugin_id") == own))]
            rows = []
            for p in plugins:
                pid = str(p.get("plugin_id") or p.get("id") or "?")
                with self._lock:
                    found = self.positions.get(pid)
                if found is None and isinstance(p.get("status"), dict):
                    found = event_beat(p["status"])
                beat = f"{found[0]:.2f}{' ▶' if found[1] else ''}" if found else "–"
                state = "connected" if p.get("connected", True) else "disconnected"
                if is_notebook_listener(p):
                    state += " (another notebook page, not a DAW)"
                seen = p.get("last_heartbeat") or p.get("last_seen")
                rows.append(f"<tr data-plugin='{html.escape(pid)}'><td>{html.escape(pid)}</td>"
                            f"<td>{state}</td><td>{_age(seen)}</td><td>{beat}</td></tr>")
            daw = ""
            if position is not None:
                state = "playing" if position[1] else "stopped"
                daw = f" · DAW at beat <b class='wb-daw-beat'>{position[0]:.2f}</b> ({state})"
            if self.handle is not None:
                table = ("<table class='wb-plugins'><tr><th>plugin</th><th></th>"
                         "<th>last heartbeat</th><th>DAW position (beat)</th></tr>" + "".join(rows) + "</table>") if rows \
                    else "<i>No plugin connected yet.</i>"
                # connected now: a plugin that left stays listed (its last position) but
                # does not count
                n_daw = len([p for p in plugins if not is_notebook_listener(p)
                             and p.get("connected", True)])
                self.plugins_html.value = (f"<div data-plugins='{n_daw}'><b>DAW plugins "
                                           f"connected: {n_daw}</b>{daw}{table}</div>")
            items = "".join(f"<li><code>{html.escape(_summary(e))}</code></li>"
                            for e in reversed(events))
            self.events_html.value = (f"<b>Latest events</b><ul class='wb-events'>{items}</ul>"
                                      if items else "")
        except Exception:
            log.exception("sync panel refresh failed")


def _summary(event: dict) -> str:
    kind = event.get("type", "?")
    seq = event.get("seq", "")
    bits = [f"#{seq}" if seq != "" else "", kind]
    for name in ("filename", "plugin_id", "track_type"):
        if event.get(name):
            bits.append(str(event[name]))
    pos = event_beat(event) if "transport" in kind else None
    if pos is not None:
        bits.append(f"beat {pos[0]:.2f}{' ▶' if pos[1] else ''}")
    return " ".join(b for b in bits if b)
