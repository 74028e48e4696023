"""WebSocket routes ``/ws/{plugin_id}`` and ``/ws/sync`` (messages: docs/protocol.md).

The handler only translates between frames and the hub: outgoing messages go through the hub's
per-connection queue and writer task; incoming ones are dispatched by ``type``.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import time
from typing import Any

from tornado.iostream import IOStream
from tornado.web import HTTPError
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from . import __version__
from .config import SERVICE_ID
from .generation import RequestError
from .handlers import ApiError, RedactedLogs, check_host, check_origin_header, check_token
from .hub import SLOW_CLIENT_CODE, Connection, TooLarge, TransportError, now_iso, split_frames
from .jsonio import JsonError, dumps, loads

log = logging.getLogger("server.ws")

PLUGIN_ID_RE = re.compile(r"^[A-Za-z0-9_.\-:@]{1,64}$")
_anon = itertools.count(1)

INCOMING = ("heartbeat", "ping", "transport_update", "generation_request", "generate_request",
            "status", "register")


def _short_text(value, limit: int = 64):
    """A client's timestamp echoed back or to others: a short text, a number, or nothing."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return value if isinstance(value, str) and len(value) <= limit else None


class PluginSocket(RedactedLogs, WebSocketHandler):
    kind = "plugin"

    @property
    def service(self):
        return self.application.service

    # ------------------------------------------------------------------ handshake
    def prepare(self):
        """Host (DNS rebinding), Origin (a browser page elsewhere) and token, before the
        upgrade: refused with a JSON body."""
        settings = self.service.settings
        try:
            check_host(self, settings)
            check_origin_header(self, settings)
            check_token(self, settings)
        except ApiError as exc:
            self.set_status(exc.status_code)
            for k, v in exc.headers.items():
                self.set_header(k, v)
            self.set_header("Content-Type", "application/json; charset=UTF-8")
            self.finish(dumps(exc.body))

    def check_origin(self, origin: str) -> bool:
        """Browsers send Origin: configured origins and pages of this service only (native
        clients such as the JUCE plugin send none; Tornado lets them through without asking)."""
        return self.service.settings.origin_allowed(origin, self.request.host)

    def get_compression_options(self):
        return None  # small JSON messages: latency over bytes

    # ------------------------------------------------------------------ lifecycle
    def open(self, plugin_id: str | None = None):
        self.set_nodelay(True)
        hub = self.service.hub
        pid = plugin_id or self.get_query_argument("plugin_id", None) or f"sync-{next(_anon)}"
        self.conn = None
        if not PLUGIN_ID_RE.match(pid):
            self.close(1008, "plugin id: 1-64 letters, digits or _.-:@")
            return
        since_raw = self.get_query_argument("since", None)
        since = None
        if since_raw not in (None, ""):
            try:
                since = max(0, int(since_raw))
            except ValueError:
                self.close(1008, "since must be an integer (the last seq received)")
                return
        # a seq of an earlier run of the service (bigger than ours, or the plugin says which
        # instance it came from and it is not this one): replay all we have
        instance = self.get_query_argument("instance", None)
        reset = since is not None and (
            since > hub.seq or (instance not in (None, "") and instance != self.service.instance))
        if reset:
            since = 0
        role = self.get_query_argument("role", "plugin")
        if role not in ("plugin", "notebook"):
            self.close(1008, "role must be plugin or notebook")
            return
        conn = Connection(hub, pid, self.kind, self._write_frame, self._close_conn,
                          remote=self.request.remote_ip or "", alive=self._alive, role=role)
        self.conn = conn
        s = self.service.settings
        hello = {
            "type": "connection_confirmed",
            "plugin_id": pid,
            "connection": conn.id,
            "server": SERVICE_ID,
            "version": __version__,
            "server_time": now_iso(),
            "latest_seq": hub.seq,
            "since": since,
            "since_reset": reset,
            "instance": self.service.instance,
            "transport": hub.transport.to_dict(),
            "files_url": self.service.store.base_url + "/files",
            "heartbeat_interval": s.ping_interval,
            "max_message_size": s.max_message_size,
        }
        hub.add(conn, since, hello)
        self.service.sockets.add(self)
        log.info("ws open plugin_id=%s kind=%s since=%s", pid, self.kind, since)

    def _close_conn(self, code: int, reason: str) -> None:
        """Close; a slow client (4000) gets longer than Tornado's 5 s to read up to the close
        frame, which tells it the ``since`` to resume from."""
        ws: Any = self.ws_connection  # (close() forgets it); private parts used if present
        self.close(code, reason)
        waiting = getattr(ws, "_waiting", None)
        if code == SLOW_CLIENT_CODE and waiting is not None and hasattr(ws, "_abort"):
            loop = ws.stream.io_loop
            loop.remove_timeout(waiting)
            ws._waiting = loop.add_timeout(
                loop.time() + self.service.settings.slow_close_timeout, ws._abort)

    def _alive(self) -> bool:
        ws = self.ws_connection
        return ws is not None and not ws.is_closing()

    def _write_frame(self, frame: bytes):
        """Write frames built once by the hub (the same bytes for every client: server frames
        are not masked). Returns a Future done once flushed, or None if already sent.

        Two writers (setting ``ws_writer``): ``"public"`` hands each message to Tornado's
        ``write_message``; ``"raw"`` (the default) writes the hub's ready-made frames straight
        to the socket when nothing is buffered, else through the IOStream, saving a frame build
        and a Future per client per message. README "Speed" has the figures of both."""
        ws = self.ws_connection
        if ws is None or ws.is_closing():
            raise WebSocketClosedError()
        if self.service.settings.ws_writer == "public":
            fut = None
            for payload in split_frames(frame):
                fut = self.write_message(payload)
            return fut
        stream: Any = ws.stream
        if type(stream) is IOStream and hasattr(stream, "socket") and not stream.writing():
            # fast path: nothing buffered, so a direct send keeps the order
            try:
                n = stream.socket.send(frame)
            except (BlockingIOError, InterruptedError):
                n = 0
            except OSError as exc:
                stream.close(exc)
                raise WebSocketClosedError() from exc
            if n == len(frame):
                return None
            frame = frame[n:]
        return stream.write(frame)

    def on_close(self):
        self.service.sockets.discard(self)
        conn = getattr(self, "conn", None)
        if conn is not None:
            self.service.hub.remove(conn)
            log.info("ws close plugin_id=%s code=%s reason=%s", conn.plugin_id, self.close_code,
                     self.close_reason)

    def on_pong(self, data):
        if self.conn is not None:
            self.conn.last_seen = time.time()

    # ------------------------------------------------------------------ incoming
    def on_message(self, message):
        conn = self.conn
        if conn is None or conn.closed:
            return
        conn.last_seen = time.time()
        hub = self.service.hub
        try:
            msg = loads(message)
        except JsonError as exc:
            hub.send(conn, "error", error="invalid JSON", detail=str(exc))
            return
        if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
            hub.send(conn, "error", error="invalid message",
                     detail="a message is a JSON object with a 'type' field")
            return
        kind = msg["type"]
        handler = getattr(self, "msg_" + kind, None) if kind in INCOMING else None
        if handler is None:
            hub.send(conn, "error", error="unknown message type",
                     detail=f"unknown message type {kind!r}; known: {', '.join(INCOMING)}",
                     valid=list(INCOMING), received_type=kind[:64])
            return
        try:
            handler(msg)
        except (ApiError, HTTPError) as exc:
            body = getattr(exc, "body", {"error": "invalid message", "detail": str(exc)})
            hub.send(conn, "error", **body, received_type=kind)
        except TooLarge as exc:
            hub.send(conn, "error", error="payload too large", detail=str(exc), field=exc.field,
                     received_type=kind)
        except TransportError as exc:
            hub.send(conn, "error", error="invalid request", detail=str(exc), field=exc.field,
                     received_type=kind)
        except (ValueError, TypeError) as exc:
            hub.send(conn, "error", error="invalid message", detail=str(exc), received_type=kind)

    def msg_heartbeat(self, msg):
        hub = self.service.hub
        status = msg.get("status") if isinstance(msg.get("status"), dict) else None
        hub.heartbeat(self.conn.plugin_id, status)
        hub.send(self.conn, "heartbeat_response", server_time=now_iso(), latest_seq=hub.seq,
                 transport=hub.transport.to_dict(), echo=_short_text(msg.get("timestamp")))

    def msg_ping(self, msg):
        self.service.hub.send(self.conn, "pong", server_time=now_iso(),
                              echo=_short_text(msg.get("timestamp")))

    def msg_register(self, msg):
        info = {k: v for k, v in msg.items() if k not in ("type", "plugin_id")}
        plugin = self.service.hub.register(self.conn.plugin_id, info, via="websocket")
        self.service.hub.send(self.conn, "registered", plugin=plugin,
                              latest_seq=self.service.hub.seq)

    def msg_status(self, msg):
        hub = self.service.hub
        status = msg.get("status") if isinstance(msg.get("status"), dict) else {
            k: v for k, v in msg.items() if k != "type"}
        plugin = hub.heartbeat(self.conn.plugin_id, status or None)
        hub.send(self.conn, "status_response", plugin=plugin, latest_seq=hub.seq,
                 transport=hub.transport.to_dict(), connected_plugins=len(hub.connections),
                 files=len(self.service.store), server_time=now_iso())

    def msg_transport_update(self, msg):
        from .handlers import _transport_fields

        fields = _transport_fields(msg)
        self.service.update_transport(source=self.conn.plugin_id, exclude=self.conn,
                                      sent_at=_short_text(msg.get("timestamp")), **fields)

    def msg_generation_request(self, msg):
        body = dict(msg)
        body.pop("type", None)
        if isinstance(body.get("request"), dict):  # {"type": ..., "request": {...}}
            body = {**body.pop("request"), **body}
        asyncio.get_running_loop().create_task(self._generate(body, msg["type"]))

    msg_generate_request = msg_generation_request

    async def _generate(self, body, kind):
        conn = self.conn
        hub = self.service.hub
        rid = body.get("request_id") or body.get("id")
        try:
            result = await self.service.generator.generate(
                body, client=self.request.remote_ip or "ws", requester=conn.plugin_id
            )
        except RequestError as exc:
            hub.send(conn, "error", **exc.body, request_id=rid, received_type=kind)
            return
        except Exception as exc:  # engine missing or failing: tell the requester, keep going
            log.exception("generation failed")
            hub.send(conn, "error", error="generation failed", detail=str(exc) or repr(exc),
                     request_id=rid, received_type=kind)
            return
        if not conn.closed:
            hub.send(conn, "generation_result", **{k: v for k, v in result.items()
                                                   if k not in ("seq",)}, event_seq=result["seq"])
