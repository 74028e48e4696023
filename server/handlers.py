"""HTTP routes: one thin RequestHandler per route; the logic lives in store/hub/generation.

Errors are JSON ``{"error": "...", "detail": "..."}`` (plus ``field`` / ``value`` / ``valid``
when a request field is wrong), never a traceback (``write_error``).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import math
import re
import time
from urllib.parse import parse_qsl, urlencode

from tornado.iostream import StreamClosedError
from tornado.web import Finish, HTTPError, RequestHandler, stream_request_body

from . import __version__
from .config import SERVICE_ID
from .generation import RequestError, clean_meta
from .hub import TooLarge, now_iso
from .jsonio import JsonError, dumps, loads
from .store import GenerationTooLarge, UnsafePath, file_url_path

log = logging.getLogger("server.http")

CHUNK = 64 * 1024


class ApiError(HTTPError):
    def __init__(self, status: int, error: str, detail: str, headers=None, **extra):
        super().__init__(status)
        self.body = {"error": error, "detail": detail, **extra}
        self.headers = headers or {}


def given_token(handler) -> str | None:
    """The token a client sent: ``Authorization: token T`` (or Bearer) or ``?token=T``."""
    auth = handler.request.headers.get("Authorization", "")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() in ("token", "bearer") and value.strip():
            return value.strip()
    return handler.get_query_argument("token", None)


def redacted_uri(request) -> str:
    """The request's URI with the value of ``token`` replaced (logs never hold the token)."""
    path, _, query = request.uri.partition("?")
    if not query or "token" not in query:
        return request.uri
    pairs = [(k, "***" if k == "token" else v) for k, v in parse_qsl(query, keep_blank_values=True)]
    return f"{path}?{urlencode(pairs)}"


class RedactedLogs(RequestHandler):
    """Tornado's own error logs print the URI, query (and token) included: log it redacted."""

    def _request_summary(self) -> str:
        req = self.request
        return f"{req.method} {redacted_uri(req)} ({req.remote_ip})"

    def log_exception(self, typ, value, tb) -> None:
        if isinstance(value, HTTPError):
            if value.log_message:
                log.warning("%d %s: %s", value.status_code, self._request_summary(),
                            value.get_message())
        else:
            log.error("uncaught exception %s", self._request_summary(),
                      exc_info=(typ, value, tb))


def check_host(handler, settings):
    """DNS rebinding: the Host header must name us (a bound address or a configured name)."""
    host = handler.request.headers.get("Host", "")
    if not settings.host_allowed(host):
        raise ApiError(403, "host not allowed",
                       f"Host {host[:100]!r} is not an address of this service; add the name with "
                       "--allowed-host (ORCHESTRATOR_ALLOWED_HOSTS) if it is yours")


def check_origin_header(handler, settings):
    """CSRF: a browser page of another origin may not change anything (nor open a WebSocket)."""
    origin = handler.request.headers.get("Origin")
    if origin is not None and not settings.origin_allowed(origin, handler.request.host):
        raise ApiError(403, "origin not allowed",
                       f"requests from the web page at {origin[:100]!r} are not allowed; add it "
                       "with --allowed-origin (ORCHESTRATOR_ALLOWED_ORIGINS) if it is yours")


STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def check_token(handler, settings):
    """Required beyond loopback; optional on loopback, but a wrong token is always rejected."""
    token = given_token(handler)
    if token is None:
        if settings.token_required:
            raise ApiError(401, "unauthorized",
                           "this endpoint needs the service token: send 'Authorization: token "
                           "<token>' or ?token=<token>", headers={"WWW-Authenticate": "token"})
        return
    if not hmac.compare_digest(token.encode(), settings.token.encode()):
        raise ApiError(401, "unauthorized", "wrong token", headers={"WWW-Authenticate": "token"})


class BaseHandler(RedactedLogs, RequestHandler):
    public = False  # True: no token needed (/ and /health)

    @property
    def service(self):
        return self.application.service

    def set_default_headers(self):
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")
        origin = self.request.headers.get("Origin")
        if origin and origin.rstrip("/") in self.application.service.settings.allowed_origins:
            self.set_header("Access-Control-Allow-Origin", origin)
            self.set_header("Vary", "Origin")
            self.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type")
            self.set_header("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")

    def compute_etag(self):
        return None  # JSON answers change; files set their own ETag

    def prepare(self):
        settings = self.service.settings
        check_host(self, settings)
        if self.request.method in STATE_CHANGING:
            check_origin_header(self, settings)
        if not self.public and self.request.method != "OPTIONS":
            check_token(self, settings)

    def options(self, *args):
        self.set_status(204)

    def write_error(self, status_code, **kwargs):
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, ApiError):
            body = exc.body
            for k, v in exc.headers.items():
                self.set_header(k, v)
        elif isinstance(exc, HTTPError):
            detail = self._reason
            if exc.log_message:
                try:
                    detail = exc.log_message % exc.args
                except TypeError:
                    detail = exc.log_message
            body = {"error": self._reason.lower(), "detail": detail}
        else:
            body = {"error": "internal error",
                    "detail": "the service failed on this request; its log has the details"}
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(dumps(body, compact=False))

    def send_json(self, obj, status: int = 200):
        self.set_status(status)
        self.finish(obj if isinstance(obj, bytes) else dumps(obj, compact=False))

    def int_arg(self, name, default=None, lo=0, hi=10**9):
        raw = self.get_query_argument(name, None)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ApiError(400, "invalid request", f"{name} must be an integer, got {raw!r}",
                           field=name, value=raw) from None
        if not lo <= value <= hi:
            raise ApiError(400, "invalid request", f"{name} must be in {lo}–{hi}", field=name,
                           value=value)
        return value

    def client_id(self) -> str:
        """Who the rate limit counts: the peer address (a client cannot choose it; ids in
        headers or bodies are its own choice and would give it a fresh budget each time)."""
        return str(self.request.remote_ip)


@stream_request_body
class JsonBodyHandler(BaseHandler):
    """A handler with a JSON body, its size bounded (413) before it is read."""

    limit_setting = "max_body_size"

    def prepare(self):
        super().prepare()
        self._limit = getattr(self.service.settings, self.limit_setting)
        self._chunks: list[bytes] = []
        self._size = 0
        self._too_big = False
        headers = self.request.headers
        ctype = headers.get("Content-Type")
        has_body = headers.get("Content-Length", "0") != "0" or "Transfer-Encoding" in headers
        if ctype is not None or has_body:
            mime = (ctype or "").split(";", 1)[0].strip().lower()
            if not JSON_MIME.match(mime):
                raise ApiError(415, "unsupported media type",
                               f"send the body as JSON with 'Content-Type: application/json' "
                               f"(got {ctype!r})", field="Content-Type", value=ctype,
                               valid=["application/json"])
        length = headers.get("Content-Length")
        if length is not None:
            try:
                n = int(length)
            except ValueError:
                raise ApiError(400, "bad request", "invalid Content-Length") from None
            if n > self._limit:
                raise ApiError(413, "payload too large",
                               f"the body has {n} bytes; the limit is {self._limit}",
                               limit=self._limit)

    def data_received(self, chunk):
        if self._too_big:
            return
        self._size += len(chunk)
        if self._size > self._limit:
            # a chunked body (no Content-Length) over the limit: answer now, read no more of it
            self._too_big = True
            self._chunks = []
            self.set_status(413)
            self.finish(dumps({"error": "payload too large",
                               "detail": f"the body is over the limit of {self._limit} bytes",
                               "limit": self._limit}))
            return
        self._chunks.append(chunk)

    def json_body(self, required=True) -> dict:
        if self._too_big:
            raise Finish()  # the 413 is already on its way
        raw = b"".join(self._chunks)
        if not raw.strip():
            if required:
                raise ApiError(400, "invalid JSON", "the request needs a JSON object body")
            return {}
        try:
            body = loads(raw)
        except JsonError as exc:
            raise ApiError(400, "invalid JSON", str(exc)) from None
        if not isinstance(body, dict):
            raise ApiError(400, "invalid JSON", "the body must be a JSON object")
        return body


JSON_MIME = re.compile(r"^application/([a-z0-9.+-]+\+)?json$")


def _request_error(exc: RequestError) -> ApiError:
    headers = {}
    if exc.status == 429:
        headers["Retry-After"] = str(exc.body.get("retry_after", 1))
    body = dict(exc.body)
    return ApiError(exc.status, body.pop("error"), body.pop("detail"), headers=headers, **body)


# ---------------------------------------------------------------------------- service info
class RootHandler(BaseHandler):
    public = True

    def get(self):
        self.send_json({
            "service": SERVICE_ID,
            "message": "AI Band Workbench sync service",
            "version": __version__,
            "status": "running",
            "endpoints": {
                "health": "GET /health",
                "generate": "POST /api/generate (also /generate, /api/midi/generate)",
                "files": "GET /api/files?track=&offset=&limit= (also /files, /api/midi/list)",
                "download": "GET /files/{filename}",
                "generation zip": "GET /api/generations/{generation}/files.zip",
                "delete": "DELETE /api/files/{filename} (also /api/midi/{file_id})",
                "transport": "POST /api/transport/sync|start|stop|reset, "
                             "GET /api/transport/position",
                "plugins": "POST /api/plugin/register|heartbeat, GET /api/plugin/status, "
                           "GET /api/plugins/stats",
                "publish": "POST /api/publish",
                "events": "GET /api/events?since=SEQ",
                "websocket": "/ws/{plugin_id}, /ws/sync (?since=SEQ)",
            },
            "token_required": self.service.settings.token_required,
            "docs": "docs/protocol.md",
        })


class HealthHandler(BaseHandler):
    public = True

    def get(self):
        svc = self.service
        self.send_json({
            "status": "healthy",
            "service": SERVICE_ID,
            "version": __version__,
            "instance": svc.instance,
            "timestamp": now_iso(),
            "uptime": round(time.time() - svc.hub.started, 3),
            "engine": svc.engine_ok,
            "connected_plugins": len(svc.hub.connections),
            "files": len(svc.store),
            "latest_seq": svc.hub.seq,
            "token_required": svc.settings.token_required,
        })


class InfoHandler(BaseHandler):
    """What an attached notebook needs: the folder (to publish in place) and the limits."""

    def get(self):
        s = self.service.settings
        self.send_json({
            "service": SERVICE_ID,
            "instance": self.service.instance,
            "folder": str(s.folder),
            "base_url": self.service.store.base_url,
            "max_body_size": s.max_body_size,
            "max_upload_size": s.max_upload_size,
            "max_message_size": s.max_message_size,
            "history_size": s.history_size,
            "retention": {"max_files": s.retention_max_files, "max_age": s.retention_max_age},
            "rate_limit": s.rate_limit,
        })


# ---------------------------------------------------------------------------- generation
class GenerateHandler(JsonBodyHandler):
    """POST /api/generate, POST /generate, POST /api/midi/generate."""

    async def post(self):
        body = self.json_body()
        try:
            result = await self.service.generator.generate(
                body, client=self.client_id(), requester=body.get("plugin_id") or "http"
            )
        except RequestError as exc:
            raise _request_error(exc) from None
        except (ImportError, AttributeError) as exc:
            log.exception("engine unavailable")
            raise ApiError(503, "engine unavailable",
                           f"the band engine (workbench) could not be used: {exc}") from None
        self.send_json(result)


class PublishHandler(JsonBodyHandler):
    """POST /api/publish: files made by another process (an attached notebook).

    ``{"paths": ["bass/….mid", ...], "meta": {...}}`` for files it wrote into this service's
    folder, or ``{"files": [{"track_type", "filename", "data": base64}], "meta": {...}}``."""

    limit_setting = "max_upload_size"

    def post(self):
        body = self.json_body()
        try:
            meta = clean_meta(body.get("meta"))
        except RequestError as exc:
            raise _request_error(exc) from None
        store = self.service.store
        paths, files = body.get("paths"), body.get("files")
        try:
            if paths is not None:
                if not isinstance(paths, list) or not paths or \
                        not all(isinstance(p, str) for p in paths):
                    raise ApiError(400, "invalid request", "paths must be a list of file paths "
                                   "like 'bass/….mid'", field="paths")
                records = store.add_files(paths, meta)
            elif files is not None:
                records = store.write_uploaded(_uploads(files), meta)
            else:
                raise ApiError(400, "invalid request", "give 'paths' or 'files'", field="files")
        except UnsafePath as exc:
            raise ApiError(400, "unsafe path", str(exc)) from None
        except FileNotFoundError as exc:
            raise ApiError(404, "not found", f"no such file in the folder: {exc}") from None
        except OSError as exc:
            raise _request_error(RequestError.from_os_error(exc)) from None
        result = self.service.generator.announce(records, request_id=body.get("request_id"),
                                                 requester=body.get("source") or "attached")
        self.send_json(result)


def _uploads(files) -> list[tuple[str, str, bytes]]:
    """``files`` of a publish body as (track_type, filename, bytes); 400 naming a bad one."""
    if not isinstance(files, list) or not files:
        raise ApiError(400, "invalid request", "files must be a list of {track_type, filename, "
                       "data} objects", field="files")
    out = []
    for i, f in enumerate(files):
        if not isinstance(f, dict) or not all(
                isinstance(f.get(k), str) for k in ("track_type", "filename", "data")):
            raise ApiError(400, "invalid request", f"files[{i}] must be an object with the texts "
                           "track_type, filename and data (base64)", field="files", index=i)
        try:
            data = base64.b64decode(f["data"], validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(400, "invalid request", f"files[{i}].data is not base64",
                           field="files", index=i) from None
        if not data.startswith(b"MThd"):
            raise ApiError(400, "invalid request", f"files[{i}] is not a Standard MIDI File",
                           field="files", index=i)
        out.append((f["track_type"], f["filename"], data))
    return out


# ---------------------------------------------------------------------------- files
class FileListHandler(BaseHandler):
    """GET /api/files, GET /files, GET /api/midi/list: ?track=&offset=&limit= (newest first)."""

    def get(self):
        track = self.get_query_argument("track", None) or self.get_query_argument(
            "track_type", None)
        limit = self.int_arg("limit", None, 1, 100000)
        offset = self.int_arg("offset", 0)
        page = self.int_arg("page", None, 1)
        if page is not None:
            limit = limit or self.int_arg("per_page", 100, 1, 100000)
            offset = (page - 1) * limit
        self.send_json(self.service.store.list_json(track, offset, limit))


class FileHandler(BaseHandler):
    """GET/HEAD /files/{filename}: the MIDI bytes (audio/midi), ETag, 304."""

    async def get(self, filename, include_body=True):
        store = self.service.store
        try:
            rec = store.acquire(filename)
        except UnsafePath as exc:
            raise ApiError(400, "unsafe path", str(exc)) from None
        if rec is None:
            raise ApiError(404, "not found", f"no file named {filename!r}", field="filename",
                           value=filename)
        try:
            self.set_header("Content-Type", "audio/midi")
            self.set_header("Cache-Control", "no-cache")
            self.set_header("ETag", rec.etag)
            self.set_header("Content-Disposition", f"attachment; filename*=UTF-8''"
                            f"{file_url_path(rec.filename)[len('/files/'):]}")
            inm = self.request.headers.get("If-None-Match", "")
            if inm and (inm.strip() == "*" or rec.etag in [t.strip() for t in inm.split(",")]):
                self.set_status(304)
                self.clear_header("Content-Type")
                self.finish()
                return
            self.set_header("Content-Length", rec.size)
            if not include_body:
                self.finish()
                return
            with open(rec.path, "rb") as fh:
                while chunk := fh.read(CHUNK):
                    self.write(chunk)
                    try:
                        await self.flush()
                    except StreamClosedError:
                        return
            self.finish()
        finally:
            store.release(rec)

    async def head(self, filename):
        await self.get(filename, include_body=False)


class GenerationZipHandler(BaseHandler):
    """GET /api/generations/{generation}/files.zip: all the files of a generation in one ZIP
    (a plugin on another machine: one request a generation, not one a file)."""

    def get(self, gen_id):
        try:
            data = self.service.store.generation_zip(gen_id)
        except UnsafePath as exc:
            raise ApiError(400, "unsafe path", str(exc)) from None
        except GenerationTooLarge as exc:
            raise ApiError(413, "too large", str(exc)) from None
        if data is None:
            raise ApiError(404, "not found", f"no generation named {gen_id!r} with files left",
                           field="generation", value=gen_id)
        self.set_header("Content-Type", "application/zip")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("Content-Disposition",
                        f"attachment; filename*=UTF-8''{file_url_path(gen_id)[7:]}.zip")
        self.finish(data)


class FileDeleteHandler(BaseHandler):
    """DELETE /api/files/{filename}, DELETE /api/midi/{file_id}."""

    def delete(self, filename):
        try:
            rec = self.service.store.delete(filename)
        except UnsafePath as exc:
            raise ApiError(400, "unsafe path", str(exc)) from None
        if rec is None:
            raise ApiError(404, "not found", f"no file named {filename!r}", field="filename",
                           value=filename)
        self.service.hub.publish("file_deleted", filename=rec.filename,
                                 track_type=rec.track_type, generation=rec.generation,
                                 reason="deleted")
        self.send_json({"success": True, "deleted": rec.filename,
                        "pending": rec.refs > 0})


# ---------------------------------------------------------------------------- transport
def _transport_fields(body: dict) -> dict:
    def pick(*names):
        for n in names:
            if n in body and body[n] is not None:
                return body[n]
        return None

    playing = pick("isPlaying", "is_playing", "playing")
    beat = pick("currentBeat", "current_beat", "position", "beat")
    tempo = pick("tempo", "bpm")
    for name, value in (("currentBeat", beat), ("tempo", tempo)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or not math.isfinite(value)):
            raise ApiError(400, "invalid request", f"{name} must be a finite number", field=name,
                           value=value if isinstance(value, str | int) else None)
    if playing is not None and not isinstance(playing, bool):
        raise ApiError(400, "invalid request", "isPlaying must be true or false",
                       field="isPlaying", value=playing)
    return {"is_playing": playing, "beat": beat, "tempo": tempo}


class TransportSyncHandler(JsonBodyHandler):
    """POST /api/transport/sync: the DAW's (or notebook's) transport, relayed to every plugin."""

    def post(self):
        fields = _transport_fields(self.json_body(required=False))
        self.send_json(self.service.update_transport(source="http", **fields))


class TransportActionHandler(JsonBodyHandler):
    """POST /api/transport/start|stop|reset."""

    def post(self, action):
        body = self.json_body(required=False)
        fields = _transport_fields(body)
        if action == "start":
            fields["is_playing"] = True
        elif action == "stop":
            fields["is_playing"] = False
        else:  # reset
            fields["is_playing"], fields["beat"] = False, 0.0
        self.send_json(self.service.update_transport(source="http", **fields))


class TransportPositionHandler(BaseHandler):
    def get(self):
        self.send_json(self.service.hub.transport.to_dict())


# ---------------------------------------------------------------------------- plugins
def _plugin_id(body: dict) -> str:
    pid = body.get("plugin_id") or body.get("id")
    if not isinstance(pid, str) or not pid.strip() or len(pid) > 64:
        raise ApiError(400, "invalid request", "plugin_id (a text up to 64 characters) is needed",
                       field="plugin_id", value=pid)
    return pid.strip()


class PluginRegisterHandler(JsonBodyHandler):
    def post(self):
        body = self.json_body()
        pid = _plugin_id(body)
        info = {k: v for k, v in body.items() if k not in ("plugin_id", "id")}
        try:
            plugin = self.service.hub.register(pid, info, via="http")
        except TooLarge as exc:
            raise ApiError(413, "payload too large", str(exc), field=exc.field) from None
        base = self.service.store.base_url
        ws = base.replace("http", "ws", 1)
        self.send_json({"success": True, "plugin": plugin, "plugin_id": pid,
                        "websocket_url": f"{ws}/ws/{pid}", "sync_url": f"{ws}/ws/sync",
                        "files_url": f"{base}/files", "latest_seq": self.service.hub.seq,
                        "heartbeat_interval": self.service.settings.heartbeat_timeout / 3})


class PluginHeartbeatHandler(JsonBodyHandler):
    def post(self):
        body = self.json_body()
        pid = _plugin_id(body)
        status = body.get("status") if isinstance(body.get("status"), dict) else None
        try:
            plugin = self.service.hub.heartbeat(pid, status)
        except TooLarge as exc:
            raise ApiError(413, "payload too large", str(exc), field=exc.field) from None
        self.send_json({"success": True, "plugin": plugin, "server_time": now_iso(),
                        "latest_seq": self.service.hub.seq,
                        "transport": self.service.hub.transport.to_dict()})


class PluginStatusHandler(BaseHandler):
    def get(self):
        hub = self.service.hub
        pid = self.get_query_argument("plugin_id", None)
        plugins = hub.plugin_list()
        if pid is not None:
            match = [p for p in plugins if p["plugin_id"] == pid]
            if not match:
                raise ApiError(404, "not found", f"no plugin {pid!r}", field="plugin_id",
                               value=pid)
            self.send_json({"plugin": match[0], "transport": hub.transport.to_dict()})
            return
        self.send_json({"plugins": plugins, "count": len(plugins),
                        "connected": sum(1 for p in plugins if p["connected"]),
                        "transport": hub.transport.to_dict(), "latest_seq": hub.seq})


class PluginStatsHandler(BaseHandler):
    def get(self):
        stats = self.service.hub.stats_dict()
        stats["files"] = len(self.service.store)
        stats["generations"] = self.service.generator.count
        self.send_json(stats)


class EventsHandler(BaseHandler):
    """GET /api/events?since=SEQ: the durable events still in the history."""

    def get(self):
        since = self.int_arg("since", 0)
        hub = self.service.hub
        self.send_json({"events": hub.events(since), "latest_seq": hub.seq,
                        "complete": since >= hub.evicted_upto})


class NotFoundHandler(BaseHandler):
    public = True

    def prepare(self):
        raise ApiError(404, "not found", f"no route {self.request.path!r}; see GET /")
