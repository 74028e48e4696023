"""``make_app(settings)``: the Tornado application, and ``Service``, the objects behind it.

``Service`` owns the store, the hub, the generator and the HTTP server. It runs on one asyncio
loop: the notebook's background thread (server/kernel.py) or the CLI's main thread
(server/__main__.py).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from concurrent.futures import ThreadPoolExecutor

from tornado.httpserver import HTTPServer
from tornado.ioloop import PeriodicCallback
from tornado.web import Application

from . import handlers as h
from .config import Settings
from .generation import Generator, RequestError, engine_available, valid_tracks
from .hub import Hub, TransportError
from .store import FileStore
from .websocket import PluginSocket

log = logging.getLogger("server")
access_log = logging.getLogger("server.access")


class SyncSocket(PluginSocket):
    kind = "sync"


def _log_request(handler):
    status = handler.get_status()
    level = logging.DEBUG if status < 400 else logging.INFO if status < 500 else logging.ERROR
    if not access_log.isEnabledFor(level):
        return
    req = handler.request
    access_log.log(
        level, "request",
        extra={"fields": {"method": req.method, "path": req.path, "status": status,
                          "ms": round(1000.0 * req.request_time(), 2), "remote": req.remote_ip}},
    )


def routes():
    return [
        (r"/", h.RootHandler),
        (r"/health", h.HealthHandler),
        (r"/api/info", h.InfoHandler),
        (r"/api/generate", h.GenerateHandler),
        (r"/generate", h.GenerateHandler),
        (r"/api/midi/generate", h.GenerateHandler),
        (r"/api/publish", h.PublishHandler),
        (r"/api/files", h.FileListHandler),
        (r"/files", h.FileListHandler),
        (r"/api/midi/list", h.FileListHandler),
        (r"/files/([^/]+)", h.FileHandler),
        (r"/api/generations/([^/]+)/files\.zip", h.GenerationZipHandler),
        (r"/api/files/([^/]+)", h.FileDeleteHandler),
        (r"/api/midi/([^/]+)", h.FileDeleteHandler),
        (r"/api/transport/sync", h.TransportSyncHandler),
        (r"/api/transport/(start|stop|reset)", h.TransportActionHandler),
        (r"/api/transport/position", h.TransportPositionHandler),
        (r"/api/plugin/register", h.PluginRegisterHandler),
        (r"/api/plugin/heartbeat", h.PluginHeartbeatHandler),
        (r"/api/plugin/status", h.PluginStatusHandler),
        (r"/api/plugins/stats", h.PluginStatsHandler),
        (r"/api/events", h.EventsHandler),
        (r"/ws/sync", SyncSocket),
        (r"/ws/([^/]+)", PluginSocket),
    ]


class ServiceApplication(Application):
    """The Tornado application; ``service`` holds the store, hub and generator."""

    service: Service


def make_app(settings: Settings, service: Service | None = None) -> Application:
    """The Tornado application; ``app.service`` holds the store, hub and generator."""
    if service is None:
        return Service(settings).app
    app = ServiceApplication(
        routes(),
        default_handler_class=h.NotFoundHandler,
        websocket_ping_interval=settings.ping_interval,
        websocket_ping_timeout=min(settings.ping_timeout, settings.ping_interval),
        websocket_max_message_size=settings.max_message_size,
        log_function=_log_request,
        compress_response=False,
    )
    app.service = service
    return app


class Service:
    def __init__(self, settings: Settings, port: int | None = None):
        self.settings = settings
        self.port = port or settings.port
        self.instance = secrets.token_hex(8)
        self.store = FileStore(settings.folder, settings.base_url(self.port),
                               settings.retention_max_files, settings.retention_max_age,
                               settings.trash)
        self.hub = Hub(settings.history_size, settings.queue_size, settings.heartbeat_timeout)
        self.hub.gap_files = self.store.announced_between
        self.executor = ThreadPoolExecutor(max(1, settings.workers), thread_name_prefix="band-gen")
        self.generator = Generator(self.store, self.hub, self.executor, settings.rate_limit,
                                   settings.rate_burst)
        self.sockets: set = set()
        self.engine_ok = False
        self.server: HTTPServer | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._housekeeping: PeriodicCallback | None = None
        self.app = make_app(settings, self)

    # ------------------------------------------------------------------ lifecycle
    async def start(self, sockets) -> None:
        """Index the folder, serve on the bound ``sockets`` (on the running loop)."""
        self.loop = asyncio.get_running_loop()
        n = self.store.rebuild()
        self.generator.restore_history()  # plugins reconnecting after a restart hear of them
        self._marker = self.settings.folder / "meta" / f".instance-{self.instance}"
        self._marker.touch()  # lets an attached process see it shares our folder
        self.generator.retention()
        s = self.settings
        self.server = HTTPServer(
            self.app,
            max_body_size=max(s.max_body_size, s.max_upload_size) + 1024,
            idle_connection_timeout=300,
        )
        self.server.add_sockets(sockets)
        self._housekeeping = PeriodicCallback(self.housekeeping, s.retention_interval * 1000)
        self._housekeeping.start()
        self._reaper = PeriodicCallback(self.hub.reap, min(1.0, s.ping_interval) * 1000)
        self._reaper.start()
        self.loop.run_in_executor(self.executor, self._check_engine)
        log.info("service started", extra={"fields": {
            "url": self.store.base_url, "folder": str(s.folder), "files": n,
            "token_required": s.token_required}})

    def _check_engine(self):
        ok = engine_available()
        if ok:
            self.store.ensure_folders((*valid_tracks(), "band"))
        self.engine_ok = ok  # (after the folders exist)
        if not ok:
            log.warning("the band engine (workbench) is not importable yet; generation answers 503")

    def housekeeping(self):
        self.generator.retention()
        self.hub.prune()
        if not self.engine_ok:
            self.loop.run_in_executor(self.executor, self._check_engine)

    async def shutdown(self) -> None:
        """Stop listening (frees the port), close every connection, stop the workers."""
        if self.server is not None:
            self.server.stop()
        if self._housekeeping is not None:
            self._housekeeping.stop()
            self._reaper.stop()
        self.hub.close_all(1001, "server shutting down")
        for _ in range(20):
            if not self.sockets:
                break
            await asyncio.sleep(0.01)
        for handler in list(self.sockets):  # clients that did not answer the close frame
            ws = handler.ws_connection
            if ws is not None and ws.stream is not None:
                ws.stream.close()
        if self.server is not None:
            try:
                await asyncio.wait_for(self.server.close_all_connections(), 2.0)
            except TimeoutError:
                pass
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.generator.flush_sidecars()
        try:
            self._marker.unlink()
        except (OSError, AttributeError):
            pass
        log.info("service stopped")

    # ------------------------------------------------------------------ helpers (loop thread)
    def update_transport(self, source="server", exclude=None, sent_at=None, is_playing=None,
                         beat=None, tempo=None) -> dict:
        """Change the shared transport and broadcast ``transport_sync`` (but to ``exclude``)."""
        try:
            self.hub.transport.update(is_playing, beat, tempo, source=source)
        except TransportError as exc:
            raise h.ApiError(400, "invalid request", str(exc), field=exc.field) from None
        state = self.hub.transport.to_dict(at_update=True)
        extra = {"sent_at": sent_at} if sent_at is not None else {}
        return self.hub.publish("transport_sync", exclude=exclude, **state, **extra)


__all__ = ["Service", "make_app", "RequestError"]
