"""The reference plugin client: what the JUCE plugin does, in ~300 lines of Python.

    python -m server.client --url ws://127.0.0.1:8000 --plugin-id daw1 --mirror DIR \\
        [--token T] [--transport-demo]

What it does, in order (read it as the example for plugin developers):

1. ``POST /api/plugin/register`` with its id (optional, tells the service who it is).
2. Opens ``/ws/{plugin_id}``; the first message is ``connection_confirmed`` (server time,
   transport state, ``latest_seq``).
3. Remembers the ``seq`` of every event it receives and the service's ``instance`` (from
   ``connection_confirmed``). When the connection drops it reconnects (backing off 0.2 s → 5 s)
   with ``?since=<last seq>&instance=<instance>``: the service first replays what it missed (all
   it has if it is a new instance, i.e. it restarted), then sends the current transport.
4. For each ``midi_ready`` it downloads ``url`` (``GET /files/{name}``, the name URL-encoded)
   into ``DIR/temp/`` and moves it atomically to ``DIR/{track_type}/{filename}``; so too each
   file a ``history_gap`` notification lists (events the service's history no longer holds).
5. Sends ``heartbeat`` every few seconds; with ``--transport-demo`` it plays a fake DAW transport
   (``transport_update`` at 10 Hz), which the service relays to everyone else as
   ``transport_sync``.
6. Prints every message as one JSON line on stdout (local happenings have ``"local": true``).

As a library (tests, notebooks)::

    client = PluginClient("ws://127.0.0.1:8000", "daw1", mirror="mirror")
    client.start_thread()                 # or: await client.run() on your own loop
    ...; client.messages; client.downloaded; client.stop_thread()
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from workbench.files import write_atomic

log = logging.getLogger("server.client")


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class PluginClient:
    def __init__(
        self,
        url: str = "ws://127.0.0.1:8000",
        plugin_id: str = "daw1",
        mirror: str | os.PathLike | None = None,
        token: str | None = None,
        kind: str = "plugin",  # "plugin": /ws/{plugin_id}; "sync": /ws/sync?plugin_id=...
        since: int | None = None,
        heartbeat_interval: float = 5.0,
        register: bool = True,
        reconnect: bool = True,
        on_event: Callable[[dict], None] | None = None,
        echo: bool = False,
        role: str = "plugin",  # "notebook": a notebook's listener, told when plugins come and go
    ):
        parts = urlsplit(url if "://" in url else "ws://" + url)
        scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
        self.ws_base = urlunsplit((scheme, parts.netloc, "", "", ""))
        self.http_base = urlunsplit(({"ws": "http", "wss": "https"}[scheme], parts.netloc, "", "",
                                     ""))
        self.plugin_id = plugin_id
        self.kind = kind
        self.role = role
        self.mirror = Path(mirror) if mirror else None
        self.token = token
        self.last_seq = since  # None: fresh start, no replay
        self.instance: str | None = None  # the service run our seqs belong to
        self.heartbeat_interval = heartbeat_interval
        self.register_first = register
        self.reconnect = reconnect
        self.echo = echo
        self.listeners: list[Callable[[dict], None]] = [on_event] if on_event else []
        self.messages: list[dict] = []  # everything received, in order
        self.downloaded: list[Path] = []
        self.connections = 0
        self.connected = threading.Event()  # set once the first connection_confirmed arrived
        self.ws: WebSocketClientConnection | None = None
        self._seen_files: set[str] = set()
        self._new = asyncio.Event()
        self._closing = False
        self._tasks: set[asyncio.Task] = set()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # ------------------------------------------------------------------ URLs and HTTP
    @property
    def ws_url(self) -> str:
        if self.kind == "sync":
            path = f"/ws/sync?plugin_id={quote(self.plugin_id)}"
        else:
            path = f"/ws/{quote(self.plugin_id, safe='')}"
        if self.role != "plugin":
            path += ("&" if "?" in path else "?") + f"role={quote(self.role)}"
        if self.last_seq is not None:
            path += ("&" if "?" in path else "?") + f"since={self.last_seq}"
            if self.instance:  # a restarted service (new instance) replays everything
                path += f"&instance={quote(self.instance, safe='')}"
        return self.ws_base + path

    def _headers(self) -> dict:
        return {"Authorization": f"token {self.token}"} if self.token else {}

    async def http(self, method: str, path: str, body: dict | None = None) -> dict:
        """A JSON request to the service (``path`` like ``/api/files``)."""
        req = HTTPRequest(self.http_base + path, method=method, headers={
            **self._headers(), "Content-Type": "application/json"},
            body=None if body is None else json.dumps(body, allow_nan=False),
            allow_nonstandard_methods=True)
        resp = await AsyncHTTPClient().fetch(req)
        return json.loads(resp.body or b"{}")

    # ------------------------------------------------------------------ running
    async def run(self, transport_demo: bool = False) -> None:
        """Connect, and reconnect with ``since`` until :meth:`close`."""
        self._new = self._new or asyncio.Event()
        if self.register_first:
            try:
                await self.http("POST", "/api/plugin/register", {
                    "plugin_id": self.plugin_id, "name": "reference client",
                    "version": "1", "capabilities": ["midi_ready", "transport_sync"]})
            except Exception as exc:  # the service may not be up yet: the WebSocket retries
                self._local("register_failed", error=str(exc))
        if transport_demo:
            self._spawn(self._transport_demo())
        delay = 0.2
        while not self._closing:
            try:
                self.ws = await websocket_connect(
                    HTTPRequest(self.ws_url, headers=self._headers(), connect_timeout=10),
                    ping_interval=self.heartbeat_interval, ping_timeout=self.heartbeat_interval,
                    max_message_size=16 << 20)
            except Exception as exc:
                if not self.reconnect or self._closing:
                    raise
                self._local("connect_failed", error=str(exc), retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            # small real-time messages: no Nagle delay (else a 2nd quick update waits ~40 ms
            # for the ACK of the first)
            protocol: Any = self.ws.protocol
            protocol.stream.set_nodelay(True)
            delay = 0.2
            self.connections += 1
            heartbeat = self._spawn(self._heartbeat())
            try:
                await self._receive()
            finally:
                heartbeat.cancel()
            self._local("disconnected", code=self.ws.close_code, reason=self.ws.close_reason,
                        last_seq=self.last_seq)
            if not self.reconnect:
                break
            if not self._closing:
                await asyncio.sleep(0.05)

    async def _receive(self):
        while True:
            text = await self.ws.read_message()
            if text is None:
                return
            try:
                msg = json.loads(text)
            except ValueError:
                continue
            if msg.get("type") == "connection_confirmed":
                self.instance = msg.get("instance") or self.instance
                self.connected.set()
                if msg.get("since_reset"):
                    self.last_seq = 0  # the service restarted: its seqs start again
            seq = msg.get("seq")
            if isinstance(seq, int):
                self.last_seq = max(self.last_seq or 0, seq)
            elif msg.get("type") == "connection_confirmed" and self.last_seq is None:
                self.last_seq = msg.get("latest_seq", 0)  # from now on, resume from here
            self._deliver(msg)
            if msg.get("type") == "midi_ready" and self.mirror is not None:
                self._spawn(self._download(msg))
            elif msg.get("history_gap") and self.mirror is not None:
                # events lost from the history: the service lists the files to fetch
                for record in msg.get("files") or ():
                    if isinstance(record, dict) and isinstance(record.get("filename"), str):
                        self._spawn(self._download(record))

    def _deliver(self, msg: dict):
        msg.setdefault("received_at", time.time())
        self.messages.append(msg)
        if self._new is not None:
            self._new.set()
        if self.echo:
            print(json.dumps(msg), flush=True)
        for cb in list(self.listeners):
            try:
                cb(msg)
            except Exception:
                log.exception("listener failed")

    def _local(self, kind: str, **fields):
        self._deliver({"type": kind, "local": True, "plugin_id": self.plugin_id, **fields})

    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _heartbeat(self):
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            await self.send({"type": "heartbeat", "timestamp": _now_iso()})

    async def _download(self, msg: dict):
        """GET the file and move it into DIR/{track}/ atomically (DIR/temp/ first)."""
        name = msg["filename"]
        if name in self._seen_files or "/" in name or "\\" in name or name.startswith("."):
            return
        self._seen_files.add(name)
        # url_path + the address we reached the service at works from any machine; "url" is
        # built from the service's public URL setting
        url = self.http_base + msg["url_path"] if msg.get("url_path") else msg["url"]
        try:
            resp = await AsyncHTTPClient().fetch(HTTPRequest(url, headers=self._headers()))
        except (HTTPClientError, OSError) as exc:
            self._seen_files.discard(name)
            self._local("download_failed", filename=name, error=str(exc))
            return
        track = msg.get("track_type") or "other"
        assert self.mirror is not None  # (downloads only happen with a mirror)
        target_dir = self.mirror / track
        temp_dir = self.mirror / "temp"
        target_dir.mkdir(parents=True, exist_ok=True)
        temp_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(target_dir / name, resp.body, temp_dir)  # whole files or nothing
        self.downloaded.append(target_dir / name)
        self._local("downloaded", filename=name, path=str(target_dir / name),
                    size=len(resp.body))

    async def _transport_demo(self, tempo: float = 120.0, hz: float = 10.0):
        start = time.monotonic()
        while not self._closing:
            beat = (time.monotonic() - start) * tempo / 60.0
            await self.send_transport(True, beat, tempo)
            await asyncio.sleep(1.0 / hz)

    # ------------------------------------------------------------------ sending
    async def send(self, msg: dict) -> bool:
        ws = self.ws
        if ws is None or ws.protocol is None:
            return False
        try:
            await ws.write_message(json.dumps(msg, allow_nan=False))
            return True
        except Exception:
            return False

    async def send_transport(self, is_playing: bool, beat: float, tempo: float) -> bool:
        return await self.send({"type": "transport_update", "isPlaying": is_playing,
                                "currentBeat": beat, "tempo": tempo, "timestamp": _now_iso()})

    async def request_generation(self, chord_progression="C-Am-F-G", track_types=("bass", "drums"),
                                 tempo=120, key="C", **extra) -> bool:
        return await self.send({"type": "generate_request", "chord_progression": chord_progression,
                                "track_types": list(track_types), "tempo": tempo, "key": key,
                                **extra})

    async def wait_for(self, predicate: Callable[[dict], bool], timeout: float = 10.0,
                       start: int = 0) -> dict:
        """The first message (from index ``start``) matching ``predicate``; TimeoutError else."""
        self._new = self._new or asyncio.Event()
        deadline = time.monotonic() + timeout
        i = start
        while True:
            while i < len(self.messages):
                msg = self.messages[i]
                i += 1
                if predicate(msg):
                    return msg
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{self.plugin_id}: no matching message in {timeout} s")
            self._new.clear()
            try:
                await asyncio.wait_for(self._new.wait(), remaining)
            except TimeoutError:
                pass

    def of_type(self, kind: str) -> list[dict]:
        return [m for m in self.messages if m.get("type") == kind]

    async def close(self):
        self._closing = True
        for task in list(self._tasks):
            task.cancel()
        if self.ws is not None:
            self.ws.close()

    # ------------------------------------------------------------------ on a thread
    def start_thread(self, transport_demo: bool = False) -> PluginClient:
        """Run on a daemon thread with its own loop (for notebooks and sync code)."""
        ready = threading.Event()

        def main():
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            self._new = asyncio.Event()
            ready.set()
            try:
                loop.run_until_complete(self.run(transport_demo))
            except Exception as exc:
                log.warning("client stopped: %r", exc)
            finally:
                loop.run_until_complete(asyncio.sleep(0))
                loop.close()

        self._thread = threading.Thread(target=main, name=f"plugin-client:{self.plugin_id}",
                                        daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def submit(self, coro, timeout: float = 30.0):
        """Run a coroutine of this client on its thread and wait for the result."""
        if self._loop is None:
            raise RuntimeError("the client is not running on a thread: call start_thread()")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def stop_thread(self, timeout: float = 5.0):
        if self._thread is None:
            return
        if self._loop is not None and not self._loop.is_closed():
            try:
                asyncio.run_coroutine_threadsafe(self.close(), self._loop).result(timeout)
            except Exception:
                pass
        self._thread.join(timeout)
        self._thread = None


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m server.client",
                                description="Reference plugin client for the band sync service.")
    p.add_argument("--url", default="ws://127.0.0.1:8000", help="service, ws://host:port")
    p.add_argument("--plugin-id", default="daw1")
    p.add_argument("--mirror", help="download each midi_ready file into DIR/{track}/")
    p.add_argument("--token", default=os.environ.get("ORCHESTRATOR_TOKEN"))
    p.add_argument("--since", type=int, help="replay events after this seq on the first connect")
    p.add_argument("--sync", action="store_true", help="use /ws/sync instead of /ws/{plugin_id}")
    p.add_argument("--transport-demo", action="store_true",
                   help="send a playing transport (120 bpm) at 10 Hz")
    p.add_argument("--heartbeat", type=float, default=5.0, help="seconds between heartbeats")
    args = p.parse_args(argv)
    client = PluginClient(args.url, args.plugin_id, mirror=args.mirror, token=args.token,
                          kind="sync" if args.sync else "plugin", since=args.since,
                          heartbeat_interval=args.heartbeat, echo=True)
    try:
        asyncio.run(client.run(transport_demo=args.transport_demo))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
