"""The plugin hub: connections, event sequence numbers, bounded history, transport state.

Everything here runs on the service's IOLoop thread (no locks). Other threads hand work to it
with ``IOLoop.add_callback``.

* ``publish(type, **fields)`` gives the event the next ``seq``, serialises it and builds the
  WebSocket frame ONCE, and offers the same bytes to every connection without waiting: a
  connection whose socket is idle writes it at once, a busy one queues it in its own bounded
  queue, drained by that connection's flush callbacks (its writer). A slow client never delays
  the others; one whose queue is full is closed with a reason (code 4000) and can come back
  with ``?since=SEQ``.
* Durable events (files, generations, notifications) are kept in a bounded history for replay;
  ephemeral ones (``transport_sync``) get a ``seq`` too but are not replayed: a (re)connecting
  plugin gets the current transport state in ``connection_confirmed`` and, once anybody has
  moved the transport, as a direct ``transport_sync`` (no ``seq``, ``"snapshot": true``) after
  the replay, so a plugin that only handles ``transport_sync`` is in step at once.
"""

from __future__ import annotations

import itertools
import logging
import math
import struct
import time
from asyncio import Future
from collections import deque
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime

from .jsonio import dumps, size

log = logging.getLogger("server.hub")

EPHEMERAL = {"transport_sync"}
SLOW_CLIENT_CODE = 4000


def now_iso(t: float | None = None) -> str:
    t = time.time() if t is None else t
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TooLarge(ValueError):
    """Plugin info or status over the bounds (``field`` says which)."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


MAX_INFO_BYTES = 2048  # a plugin's stored info, and its status, each as JSON
MAX_INFO_KEYS = 32


def _bounded(field: str, merged: dict) -> dict:
    if len(merged) > MAX_INFO_KEYS:
        raise TooLarge(f"{field} has {len(merged)} keys; the limit is {MAX_INFO_KEYS}", field)
    n = size(merged)
    if n > MAX_INFO_BYTES:
        raise TooLarge(f"{field} is {n} bytes as JSON; the limit is {MAX_INFO_BYTES}", field)
    return merged


def _tempo_range() -> tuple[int, int]:
    from workbench.band.generate import TEMPO_RANGE  # the engine's rule, in one place

    return TEMPO_RANGE


class TransportError(ValueError):
    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


class Transport:
    """The shared transport: the beat advances with the tempo while playing."""

    def __init__(self, tempo: float = 120.0):
        self.is_playing = False
        self.tempo = float(tempo)
        self._beat = 0.0
        self._anchor = time.monotonic()
        self.source = "server"
        self.updated = time.time()  # wall clock of the anchor
        self.changed = False  # set once anybody moved it (then sent to plugins on connect)

    def position(self, now: float | None = None) -> float:
        if not self.is_playing:
            return self._beat
        now = time.monotonic() if now is None else now
        return self._beat + (now - self._anchor) * self.tempo / 60.0

    def update(self, is_playing=None, beat=None, tempo=None, source="server"):
        """Check every value first, then change the state (a refused update changes nothing).
        ValueError (a :class:`TransportError` naming the field) for a bad value."""
        now = time.monotonic()
        if tempo is not None:
            tempo = float(tempo)
            lo, hi = _tempo_range()
            if not (math.isfinite(tempo) and lo <= tempo <= hi):
                raise TransportError(f"tempo {tempo:g} outside {lo}–{hi}", "tempo")
        new_beat = self.position(now) if beat is None else float(beat)
        if not (math.isfinite(new_beat) and new_beat >= 0):
            raise TransportError(f"currentBeat must be a finite number >= 0, not {beat!r}",
                                 "currentBeat")
        if tempo is not None:
            self.tempo = tempo
        self._beat = new_beat
        self._anchor = now
        if is_playing is not None:
            self.is_playing = bool(is_playing)
        self.source = source
        self.updated = time.time()
        self.changed = True

    def to_dict(self, at_update: bool = False) -> dict:
        """The state now, or (``at_update``) exactly as set by the last update: the beat at
        ``timestamp`` (what a relayed ``transport_sync`` carries)."""
        if at_update:
            beat, wall = self._beat, self.updated
        else:
            beat, wall = self.position(), time.time()
        return {
            "isPlaying": self.is_playing,
            "currentBeat": round(beat, 6),
            "tempo": self.tempo,
            "timestamp": now_iso(wall),
            "source": self.source,
        }


def ws_frame(payload: bytes) -> bytes:
    """One complete unmasked WebSocket text frame (RFC 6455), built once per broadcast."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x81, n)
    elif n <= 0xFFFF:
        head = struct.pack("!BBH", 0x81, 126, n)
    else:
        head = struct.pack("!BBQ", 0x81, 127, n)
    return head + payload


def split_frames(blob: bytes) -> list[bytes]:
    """The payloads of complete unmasked frames built by :func:`ws_frame`, concatenated."""
    out = []
    view = memoryview(blob)
    i = 0
    while i < len(view):
        n, off = view[i + 1] & 0x7F, 2
        if n == 126:
            n, off = struct.unpack_from("!H", view, i + 2)[0], 4
        elif n == 127:
            n, off = struct.unpack_from("!Q", view, i + 2)[0], 10
        out.append(bytes(view[i + off:i + off + n]))
        i += off + n
    return out


class Connection:
    """One WebSocket client as the hub sees it: a bounded queue drained as the socket flushes.

    ``write(frame)`` writes one complete frame to the client's stream and returns a Future that
    is done once the stream has flushed it (usually at once). While a frame is in flight the
    following ones wait in ``pending`` (at most ``hub.queue_size``); nothing ever waits for a
    client, and a client whose queue overflows is closed with code 4000.
    """

    def __init__(
        self,
        hub: Hub,
        plugin_id: str,
        kind: str,
        write: Callable[[bytes], Future | None],
        close: Callable[[int, str], None],
        remote: str = "",
        alive: Callable[[], bool] | None = None,
        role: str = "plugin",
    ):
        self.id = next(hub._ids)
        self.alive = alive or (lambda: True)
        self.hub = hub
        self.plugin_id = plugin_id
        self.kind = kind  # the endpoint: "plugin" (/ws/{id}) or "sync" (/ws/sync)
        self.role = role  # who it is: "plugin" (a DAW) or "notebook" (a notebook's listener)
        self.remote = remote
        self._write = write
        self._close = close
        self.pending: deque[tuple[bytes, int, int]] = deque()  # (frames, last seq, how many)
        self.queued = 0  # frames waiting in ``pending``
        self.busy = False
        self.started = False
        self.connected_at = time.time()
        self.last_seen = self.connected_at
        self.sent = 0
        self.last_seq = 0
        self.closed = False

    def start(self):
        self.started = True
        self._pump()

    def offer(self, frame: bytes, seq: int = 0, force: bool = False, count: int = 1) -> bool:
        """Send or queue ``frame`` (``count`` complete WebSocket frames, the last with ``seq``)
        without waiting. False (connection closed) if too far behind."""
        if self.closed:
            return False
        if self.started and not self.busy and not self.pending:
            self._send(frame, seq)
            return True
        if self.queued + count > self.hub.queue_size and not force:
            self.hub.stats["slow_closed"] += 1
            reason = f"too far behind; reconnect with ?since={self.last_seq}"
            log.warning("closing slow client %s (%s): %s", self.plugin_id, self.id, reason)
            self.shutdown(SLOW_CLIENT_CODE, reason)
            return False
        self.pending.append((frame, seq, count))
        self.queued += count
        return True

    def _send(self, frame: bytes, seq: int):
        try:
            fut = self._write(frame)
        except Exception as exc:  # WebSocketClosedError, StreamClosedError
            log.debug("write to %s failed: %r", self.id, exc)
            self.shutdown(1011, "write failed")
            return
        self.sent += 1
        if seq:
            self.last_seq = seq
        if fut is None:
            return
        if fut.done():
            if not fut.cancelled() and fut.exception() is not None:
                self.shutdown(1011, "write failed")
            return
        self.busy = True
        fut.add_done_callback(self._flushed)

    def _flushed(self, fut: Future):
        self.busy = False
        if fut.cancelled() or fut.exception() is not None:
            self.shutdown(1011, "write failed")
            return
        self._pump()

    def _pump(self):
        while self.pending and not self.busy and not self.closed:
            frame, seq, count = self.pending.popleft()
            self.queued -= count
            self._send(frame, seq)

    def shutdown(self, code: int = 1001, reason: str = ""):
        if self.closed:
            return
        self.closed = True
        self.pending.clear()
        self.queued = 0
        try:
            self._close(code, reason)
        except Exception:  # already closed
            pass
        self.hub.remove(self)

    def info(self) -> dict:
        return {
            "connection": self.id,
            "plugin_id": self.plugin_id,
            "kind": self.kind,
            "role": self.role,
            "remote": self.remote,
            "connected_at": now_iso(self.connected_at),
            "last_seen": now_iso(self.last_seen),
            "queued": self.queued,
            "sent": self.sent,
            "last_seq": self.last_seq,
        }


class Hub:
    def __init__(self, history_size: int = 1000, queue_size: int = 1000, heartbeat_timeout=30.0):
        self.seq = 0
        self.history: deque[tuple[int, bytes, dict]] = deque(maxlen=max(1, history_size))
        self.evicted_upto = 0  # highest seq of a durable event dropped from the history
        self.queue_size = max(16, queue_size)
        self.heartbeat_timeout = heartbeat_timeout
        self.connections: dict[int, Connection] = {}
        self.plugins: dict[str, dict] = {}
        self.transport = Transport()
        self._batch: list[tuple[bytes, int, Connection | None]] | None = None
        self.listeners: list[Callable[[dict], None]] = []
        # (since, upto) -> the file records announced in that range that still exist (the
        # service sets it to the store's): sent with a history_gap
        self.gap_files: Callable[[int, int], list[dict]] = lambda since, upto: []
        self.started = time.time()
        self.stats = {"events": 0, "messages": 0, "slow_closed": 0, "connections_total": 0}
        self._ids = itertools.count(1)

    # ------------------------------------------------------------------ events
    def publish(self, type: str, exclude: Connection | None = None, **fields) -> dict:
        """Broadcast one event to every connection (but ``exclude``). Returns the event."""
        seq = self.seq + 1
        event = {"seq": seq, "type": type, "time": round(time.time(), 6), **fields}
        frame = ws_frame(dumps(event).encode())  # serialised and framed once (strict JSON)
        self.seq = seq
        if type not in EPHEMERAL:
            if len(self.history) == self.history.maxlen:
                self.evicted_upto = self.history[0][0]
            self.history.append((seq, frame, event))
        self.stats["events"] += 1
        if self._batch is not None:
            self._batch.append((frame, seq, exclude))
        else:
            for conn in list(self.connections.values()):
                if conn is not exclude:
                    conn.offer(frame, seq)
        self.stats["messages"] += len(self.connections) - (exclude is not None)
        for cb in list(self.listeners):
            try:
                cb(event)
            except Exception:
                log.exception("event listener failed")
        return event

    @contextmanager
    def batch(self):
        """Events published inside go out together: each connection gets them in one write
        (a generation's six events cost one send per plugin, not six), in order, at the end."""
        if self._batch is not None:  # nested: the outer batch sends
            yield
            return
        self._batch = []
        try:
            yield
        finally:
            batch, self._batch = self._batch, None
            self._flush(batch)

    def _flush(self, batch: list[tuple[bytes, int, Connection | None]]) -> None:
        if not batch:
            return
        everyone = b"".join(f for f, _, _ in batch)
        last = batch[-1][1]
        excluded = {id(ex) for _, _, ex in batch if ex is not None}
        for conn in list(self.connections.values()):
            if id(conn) not in excluded:
                conn.offer(everyone, last, count=len(batch))
            else:
                mine = [(f, s) for f, s, ex in batch if ex is not conn]
                if mine:
                    conn.offer(b"".join(f for f, _ in mine), mine[-1][1], count=len(mine))

    def send(self, conn: Connection, type: str, **fields) -> dict:
        """A direct reply to one connection (not an event: no seq, not in the history)."""
        msg = {"type": type, **fields}
        conn.offer(ws_frame(dumps(msg).encode()))
        return msg

    def events(self, since: int = 0) -> list[dict]:
        return [e for s, _, e in self.history if s > since]

    def replay(self, since: int) -> tuple[list[tuple[bytes, int]], bool]:  # (frame, seq)
        """Framed durable events after ``since``; True if some were lost (history too short)."""
        gap = since < self.evicted_upto
        return [(f, s) for s, f, _ in self.history if s > since], gap

    # ------------------------------------------------------------------ connections
    def transport_snapshot(self) -> dict | None:
        """The current transport as a direct ``transport_sync`` (None if nobody moved it)."""
        if not self.transport.changed:
            return None
        return {"type": "transport_sync", "time": round(time.time(), 6),
                **self.transport.to_dict(), "snapshot": True}

    def add(self, conn: Connection, since: int | None = None, hello: dict | None = None):
        """Register a connection: hello first, then the replay, then the transport snapshot,
        then live events (in order)."""
        self.stats["connections_total"] += 1
        if hello is not None:
            conn.offer(ws_frame(dumps(hello).encode()), force=True)
        if since is not None:
            frames, gap = self.replay(since)
            if gap:
                conn.offer(
                    ws_frame(dumps(
                        {
                            "type": "notification",
                            "level": "warning",
                            "message": (
                                f"events after seq {since} up to {self.evicted_upto} are no "
                                "longer in the history; GET /files for the current list"
                            ),
                            "history_gap": True,
                            "oldest_seq": self.history[0][0] if self.history else self.seq + 1,
                            # the files whose midi_ready is gone: fetch these
                            "files": self.gap_files(since, self.evicted_upto),
                        }
                    ).encode()),
                    force=True,
                )
            if frames:  # the replay in one write
                conn.offer(b"".join(f for f, _ in frames), frames[-1][1], force=True,
                           count=len(frames))
        snapshot = self.transport_snapshot()
        if snapshot is not None:
            conn.offer(ws_frame(dumps(snapshot).encode()), force=True)
        self.connections[conn.id] = conn
        p = self.plugins.setdefault(conn.plugin_id, self._new_plugin(conn.plugin_id, "websocket"))
        p["connections"] = p.get("connections", 0) + 1
        p["last_seen"] = time.time()
        p["role"] = conn.role
        conn.start()
        self._presence("plugin_connected", conn, p)

    def remove(self, conn: Connection):
        if self.connections.pop(conn.id, None) is None:
            return
        conn.closed = True
        conn.pending.clear()
        p = self.plugins.get(conn.plugin_id)
        if p is not None:
            p["connections"] = max(0, p.get("connections", 0) - 1)
            p["last_seen"] = time.time()
            self._presence("plugin_disconnected", conn, p)

    def _presence(self, type: str, conn: Connection, plugin: dict):
        """Tell the notebooks (connections with role "notebook", and this process's listeners)
        that a plugin came or went, so their sync panels update at once. Not an event (no seq,
        not replayed) and not sent to DAW plugins: with 1,000 plugins connecting, telling each
        about all the others would cost a million messages for nothing."""
        msg = {"type": type, "time": round(time.time(), 6), "plugin_id": conn.plugin_id,
               "role": conn.role, "connections": plugin.get("connections", 0)}
        frame = None
        for other in self.connections.values():
            if other.role == "notebook" and other is not conn:
                frame = frame or ws_frame(dumps(msg).encode())
                other.offer(frame)
        for cb in list(self.listeners):
            try:
                cb(msg)
            except Exception:
                log.exception("event listener failed")

    def reap(self):
        """Forget connections whose closing handshake has begun (e.g. a ping timed out): no
        more sends to them, and their plugin shows as disconnected at once."""
        for conn in list(self.connections.values()):
            if not conn.alive():
                log.info("dropping %s (%s): connection closing", conn.plugin_id, conn.id)
                self.remove(conn)

    def close_all(self, code=1001, reason="server shutting down"):
        for conn in list(self.connections.values()):
            conn.shutdown(code, reason)

    # ------------------------------------------------------------------ plugins
    def _new_plugin(self, plugin_id: str, via: str) -> dict:
        now = time.time()
        return {
            "plugin_id": plugin_id,
            "registered_at": now,
            "last_seen": now,
            "via": via,
            "connections": 0,
            "role": "plugin",
            "info": {},
            "status": {},
        }

    MAX_PLUGINS = 2048  # x (info + status) <= 2 KiB each: the plugin table stays under ~8 MB

    def register(self, plugin_id: str, info: dict | None = None, via: str = "http") -> dict:
        """Remember a plugin and merge its ``info`` (TooLarge past the bounds: nothing stored)."""
        old = self.plugins.get(plugin_id)
        merged = _bounded("info", {**(old["info"] if old else {}), **(info or {})})
        if old is None and len(self.plugins) >= self.MAX_PLUGINS:
            self._forget_oldest_idle()
        p = self.plugins.setdefault(plugin_id, self._new_plugin(plugin_id, via))
        p["info"] = merged
        p["last_seen"] = time.time()
        return self.plugin_dict(p)

    def _forget_oldest_idle(self):
        idle = [p for p in self.plugins.values() if p["connections"] == 0]
        for p in sorted(idle, key=lambda p: p["last_seen"])[: max(1, len(idle) // 10)]:
            del self.plugins[p["plugin_id"]]

    def heartbeat(self, plugin_id: str, status: dict | None = None) -> dict:
        old = self.plugins.get(plugin_id)
        merged = _bounded("status", {**(old["status"] if old else {}), **(status or {})})
        if old is None and len(self.plugins) >= self.MAX_PLUGINS:
            self._forget_oldest_idle()
        p = self.plugins.setdefault(plugin_id, self._new_plugin(plugin_id, "http"))
        p["last_seen"] = time.time()
        p["status"] = merged
        return self.plugin_dict(p)

    def plugin_dict(self, p: dict) -> dict:
        alive = p["connections"] > 0 or time.time() - p["last_seen"] < self.heartbeat_timeout
        return {
            "plugin_id": p["plugin_id"],
            "connected": p["connections"] > 0,
            "connections": p["connections"],
            "alive": alive,
            "via": p["via"],
            "role": p.get("role", "plugin"),
            "registered_at": now_iso(p["registered_at"]),
            "last_seen": now_iso(p["last_seen"]),
            "info": p["info"],
            "status": p["status"],
        }

    def plugin_list(self) -> list[dict]:
        self.prune()
        return [self.plugin_dict(p) for p in self.plugins.values()]

    def prune(self):
        """Forget plugins with no connection that missed heartbeats for 10 timeouts."""
        limit = time.time() - 10 * self.heartbeat_timeout
        for pid in [
            k for k, p in self.plugins.items() if p["connections"] == 0 and p["last_seen"] < limit
        ]:
            del self.plugins[pid]

    def stats_dict(self) -> dict:
        plugins = self.plugin_list()
        return {
            "connected_plugins": sum(1 for p in plugins if p["connected"]),
            "registered_plugins": len(plugins),
            "active_connections": len(self.connections),
            "latest_seq": self.seq,
            "history": len(self.history),
            "uptime": round(time.time() - self.started, 3),
            **self.stats,
            "plugins": plugins,
            "connections": [c.info() for c in self.connections.values()],
        }
