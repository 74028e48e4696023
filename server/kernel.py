"""``start()`` from a notebook: the service on its own thread and asyncio loop.

* Not on the kernel's loop (a busy cell would stop it answering) and no nest_asyncio: a daemon
  thread runs its own loop; calls from the notebook are handed over with
  ``call_soon_threadsafe`` / ``run_coroutine_threadsafe``.
* Idempotent per process: the handle is kept in a module variable; ``stop()`` frees the port and
  ``start()`` works again; the service is stopped at interpreter exit (atexit).
* If the port already holds this service (GET /health answers ``"service": "ai-band-workbench"``),
  ``start()`` returns an *attached* handle that publishes through HTTP (``POST /api/publish``),
  so the files of every kernel reach the same plugins. If it holds something else: a clear error.
* No SO_REUSEPORT: a second bind must fail so the collision is seen.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import errno
import json
import logging
import os
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING

from tornado.netutil import bind_sockets

from .config import SERVICE_ID, Settings, configure_logging

if TYPE_CHECKING:
    from .client import PluginClient

log = logging.getLogger("server.kernel")

_handle: ServiceHandle | AttachedHandle | None = None
_handle_lock = threading.RLock()


class PortInUse(RuntimeError):
    pass


class ServiceHandle:
    """A service running in this process (``attached`` is False)."""

    attached = False

    def __init__(self, settings: Settings, service, loop, thread, port: int):
        self.settings = settings
        self._service = service
        self._loop = loop
        self._thread = thread
        self.port = port
        self.url = f"http://{_fmt_host(settings.connect_host)}:{port}"
        self.ws_url = "ws" + self.url[len("http"):]
        self.token = settings.token
        self.folder = Path(settings.folder)
        self._stopped = False

    def __repr__(self):
        state = "stopped" if self._stopped else "running"
        return f"<ServiceHandle {self.url} folder={self.folder} {state}>"

    def _repr_html_(self):
        return (f"<b>Band sync service</b> {'stopped' if self._stopped else 'running'} at "
                f"<code>{self.url}</code> &middot; plugins connect to "
                f"<code>{self.ws_url}/ws/sync</code> &middot; folder <code>{self.folder}</code>")

    @property
    def running(self) -> bool:
        return not self._stopped and self._thread.is_alive()

    @property
    def service(self):
        return self._service

    # ------------------------------------------------------------------ thread hand-over
    def _call(self, fn, *args, timeout: float = 30.0, **kwargs):
        """Run ``fn`` on the service loop and return its result (from any thread)."""
        if not self.running:
            raise RuntimeError("the service is stopped; call server.start() again")
        if threading.current_thread() is self._thread:
            return fn(*args, **kwargs)
        fut: Future = Future()

        def run():
            try:
                fut.set_result(fn(*args, **kwargs))
            except BaseException as exc:
                fut.set_exception(exc)

        self._loop.call_soon_threadsafe(run)
        return fut.result(timeout)

    def _await(self, coro, timeout: float = 120.0):
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("call this from another thread than the service's own")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    # ------------------------------------------------------------------ API
    def publish(self, arrangement) -> list[dict]:
        """Write an Arrangement into the folder and tell every plugin. Returns the file records."""
        from .generation import write_arrangement

        records = write_arrangement(arrangement, self._service.store)
        result = self._call(self._service.generator.announce, records, requester="notebook",
                            source="notebook")
        return result["files"]

    def generate(self, **request) -> dict:
        """Same as POST /api/generate (raises ``RequestError``, a ValueError, on a bad request)."""
        return self._await(self._service.generator.generate(request, requester="notebook"))

    def plugins(self) -> list[dict]:
        return self._call(self._service.hub.plugin_list)

    def transport(self) -> dict:
        return self._call(self._service.hub.transport.to_dict)

    def set_transport(self, is_playing=None, beat=None, tempo=None) -> dict:
        """Move the shared transport (broadcast as transport_sync)."""
        return self._call(self._service.update_transport, "notebook", None, None, is_playing,
                          beat, tempo)

    def events(self, since: int = 0) -> list[dict]:
        return self._call(self._service.hub.events, since)

    def files(self, track=None, limit=None) -> list[dict]:
        store = self._service.store
        return [r.to_dict(store.base_url) for r in store.list(track, 0, limit)[1]]

    def on_event(self, callback):
        """``callback(event)`` for every event, called on the service thread (keep it quick)."""
        self._call(self._service.hub.listeners.append, callback)
        return callback

    def stop(self):
        """Stop serving and free the port. ``start()`` may be called again afterwards."""
        global _handle
        if self._stopped:
            return
        self._stopped = True
        try:
            if self._thread.is_alive():
                asyncio.run_coroutine_threadsafe(self._service.shutdown(), self._loop).result(10)
        except Exception as exc:
            log.warning("service shutdown: %r", exc)
        finally:
            if self._loop.is_running():
                self._loop.call_soon_threadsafe(self._loop.stop)
            if threading.current_thread() is not self._thread:
                self._thread.join(10)
            with _handle_lock:
                if _handle is self:
                    _handle = None


class AttachedHandle:
    """The service runs in another process on the same port: talk to it over HTTP."""

    attached = True

    def __init__(self, settings: Settings, token: str | None, health: dict):
        self.settings = settings
        self.port = settings.port
        self.url = f"http://{_fmt_host(settings.connect_host)}:{settings.port}"
        self.ws_url = "ws" + self.url[len("http"):]
        self.token = token
        self.instance = health.get("instance")
        info = self._request("GET", "/api/info")
        self.folder = Path(info["folder"])
        self.max_upload_size = info.get("max_upload_size", 16 << 20)
        self._listener: PluginClient | None = None
        self._stopped = False

    def __repr__(self):
        return f"<AttachedHandle {self.url} folder={self.folder} (service of another process)>"

    @property
    def running(self) -> bool:
        if self._stopped:
            return False
        try:
            return _probe(self.settings.connect_host, self.port).get("instance") == self.instance
        except OSError:
            return False

    def _request(self, method, path, body=None, timeout=120.0):
        data = None if body is None else json.dumps(body, allow_nan=False).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"token {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as exc:
            try:
                err = json.loads(exc.read())
            except ValueError:
                err = {"error": exc.reason, "detail": str(exc)}
            from .generation import RequestError

            detail = err.get("detail", "")
            if exc.code == 401:
                raise PermissionError(
                    f"the service at {self.url} needs its token: start(token=...) or "
                    f"ORCHESTRATOR_TOKEN ({detail})") from None
            extra = {k: v for k, v in err.items() if k not in ("error", "detail")}
            raise RequestError(detail, error=err.get("error", "error"), status=exc.code,
                               **extra) from None

    def publish(self, arrangement) -> list[dict]:
        from .generation import arrangement_meta

        meta = arrangement_meta(arrangement)
        if _same_dir(self.folder, self.instance):
            # same machine, same folder: the engine writes in place, the service indexes (after
            # the same check as the service's own: no linked folder, before writing)
            from .store import FileStore

            FileStore(self.folder).check_dirs([*arrangement.tracks, "band"])
            paths = arrangement.write(self.folder)
            rel = [str(Path(p).resolve().relative_to(self.folder.resolve())) for p in paths]
            body = {"paths": rel, "meta": meta, "source": "attached"}
        else:
            # another folder (another container...): upload the bytes
            with tempfile.TemporaryDirectory() as tmp:
                paths = arrangement.write(tmp)
                files = [{"track_type": Path(p).parent.name, "filename": Path(p).name,
                          "data": base64.b64encode(Path(p).read_bytes()).decode()}
                         for p in paths]
            body = {"files": files, "meta": meta, "source": "attached"}
        return self._request("POST", "/api/publish", body)["files"]

    def generate(self, **request) -> dict:
        return self._request("POST", "/api/generate", request)

    def plugins(self) -> list[dict]:
        return self._request("GET", "/api/plugin/status")["plugins"]

    def transport(self) -> dict:
        return self._request("GET", "/api/transport/position")

    def set_transport(self, is_playing=None, beat=None, tempo=None) -> dict:
        body = {k: v for k, v in (("isPlaying", is_playing), ("currentBeat", beat),
                                  ("tempo", tempo)) if v is not None}
        return self._request("POST", "/api/transport/sync", body)

    def events(self, since: int = 0) -> list[dict]:
        return self._request("GET", f"/api/events?since={int(since)}")["events"]

    def files(self, track=None, limit=None) -> list[dict]:
        q = urllib.parse.urlencode({k: v for k, v in (("track", track), ("limit", limit)) if v})
        return self._request("GET", "/api/files" + (f"?{q}" if q else ""))["files"]

    def on_event(self, callback, timeout: float = 10.0):
        """Events arrive over a WebSocket (/ws/sync) on the listener's own thread. Returns once
        the listener is connected, so no event published after the call is missed."""
        if self._listener is not None:
            self._listener.listeners.append(callback)
            return callback
        from .client import PluginClient

        listener = PluginClient(self.ws_url, plugin_id=f"notebook-{os.getpid()}",
                                token=self.token, kind="sync", register=False,
                                role="notebook", on_event=callback)
        self._listener = listener.start_thread()
        if not listener.connected.wait(timeout):
            raise RuntimeError(f"could not connect a listener to {self.ws_url}/ws/sync "
                               f"within {timeout:g} s")
        return callback

    def stop(self):
        """Detach (the service itself keeps running in its own process)."""
        global _handle
        self._stopped = True
        if self._listener is not None:
            self._listener.stop_thread()
            self._listener = None
        with _handle_lock:
            if _handle is self:
                _handle = None


# ---------------------------------------------------------------------------- helpers
def _fmt_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _same_dir(folder: Path, instance: str | None) -> bool:
    """True if ``folder`` is the service's folder on this machine (its instance marker is there)."""
    try:
        return bool(instance) and (folder / "meta" / f".instance-{instance}").exists() and \
            os.access(folder, os.W_OK)
    except OSError:
        return False


def _probe(host: str, port: int, timeout: float = 5.0) -> dict:
    """GET /health of whatever listens on the port; {} if it is not an HTTP JSON service."""
    url = f"http://{_fmt_host(host)}:{port}/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return {"http_status": exc.code}
    except (ValueError, urllib.error.URLError, OSError):
        return {}


def run_service(settings: Settings) -> ServiceHandle:
    """Bind the port here (errors are raised to the caller) and serve on a daemon thread."""
    from .app import Service

    if not logging.getLogger("server").handlers:
        level = settings.log_level if os.environ.get("ORCHESTRATOR_LOG_LEVEL") else "WARNING"
        configure_logging(level, names=("server",))
    try:
        sockets = bind_sockets(settings.port, settings.host, reuse_port=False)
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES):
            raise PortInUse(str(exc)) from exc
        raise
    port = sockets[0].getsockname()[1]
    settings.port = port
    ready = threading.Event()
    box: dict = {}

    def main():
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            service = Service(settings, port=port)
            loop.run_until_complete(service.start(sockets))
            box.update(loop=loop, service=service)
        except BaseException as exc:  # reported to start()
            box["error"] = exc
            for s in sockets:
                s.close()
            ready.set()
            loop.close()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for t in tasks:
                t.cancel()
            if tasks:
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.close()

    thread = threading.Thread(target=main, name=f"band-service:{port}", daemon=True)
    thread.start()
    ready.wait(60)
    if "error" in box:
        raise box["error"]
    if "service" not in box:
        raise RuntimeError("the service did not start within 60 s")
    return ServiceHandle(settings, box["service"], box["loop"], thread, port)


def start(host: str | None = None, port: int | None = None, folder=None, token: str | None = None,
          **settings) -> ServiceHandle | AttachedHandle:
    """Start the sync service in the background (or attach to the one on the port).

    >>> svc = start()                 # doctest: +SKIP
    >>> svc.url, svc.token            # doctest: +SKIP
    """
    global _handle
    with _handle_lock:
        if _handle is not None and _handle.running:
            return _handle
        explicit_token = token or os.environ.get("ORCHESTRATOR_TOKEN") or None
        s = Settings.from_env(host=host, port=port, folder=folder, token=token, **settings)
        handle: ServiceHandle | AttachedHandle
        try:
            handle = run_service(s)
        except PortInUse:
            health = _probe(s.connect_host, s.port)
            if health.get("service") != SERVICE_ID:
                what = "a program that is not this service" if not health else \
                    f"another program (GET /health answered {json.dumps(health)[:120]})"
                raise RuntimeError(
                    f"port {s.port} on {s.host} is in use by {what}. Choose another port: "
                    f"start(port={s.port + 1}) or set ORCHESTRATOR_PORT."
                ) from None
            handle = AttachedHandle(s, explicit_token, health)
            log.info("attached to the service at %s", handle.url)
        _handle = handle
        return handle


def stop():
    """Stop (or detach from) the service started by ``start()`` in this process."""
    handle = _handle
    if handle is not None:
        handle.stop()


def current() -> ServiceHandle | AttachedHandle | None:
    return _handle


@atexit.register
def _stop_at_exit():
    handle = _handle
    if handle is not None and not handle.attached:
        try:
            handle.stop()
        except Exception:
            pass
