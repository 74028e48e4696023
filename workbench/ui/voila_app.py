"""``python -m workbench.ui.voila_app``: the Voilà app for a small band sharing one machine.

``make app`` runs this. It is Voilà with the settings in the repository's ``voila.json``
(pool of pre-started kernels, culling of idle kernels, the template without CDN links) plus what
Voilà lacks:

* **Closing a page frees its kernel.** Voilà's page posts ``/voila/api/shutdown/<id>`` on
  unload with the ``_xsrf`` cookie, but Voilà never sets that cookie, so the server refuses the
  post (403 ``'_xsrf' argument missing``) and the kernel lives on. The app page sets the cookie
  here. The safety net for pages that vanish without a word (a crashed browser, a lost network):
  a visitor's kernel with no page connected for ``disconnected_timeout`` seconds is shut down.
  Jupyter's idle culling (``MappingKernelManager.cull_idle_timeout``, also set) alone would not
  do: the app's kernel is never idle while its sync panel polls the service.
* **A cap on visitors** (``--WorkbenchVoila.max_kernels``): past it a visitor gets a short page
  saying the app is full (HTTP 503) instead of one more kernel of ~250 MB.
* **One sync service for everyone**: started here as its own process (``python -m server``) so it
  outlives any visitor; every kernel's ``start()`` attaches to it, so all visitors' files reach
  the same plugins.

``GET /workbench/api/kernels`` answers ``{"visitors", "pooled", "kernels", "max_kernels"}`` (the
browser test and ``benchmarks/bench_ui.py`` read it).
"""

from __future__ import annotations

import html
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import tornado.ioloop
import tornado.web
from traitlets import Bool, Int, Unicode, default
from voila.app import Voila
from voila.tornado.handler import TornadoVoilaHandler

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "share" / "jupyter"      # voila/templates/workbench: the page without CDNs


def pooled_kernel_ids(kernel_manager) -> set[str]:
    """Kernels started ahead of visitors (Voilà's preheat pool), not yet given to anyone."""
    ids = set()
    for pool in getattr(kernel_manager, "_pools", {}).values():
        for task in pool:
            if task.done() and not task.cancelled() and task.exception() is None:
                ids.add(task.result().get("kernel_id"))
    return ids


def kernel_counts(kernel_manager, max_kernels: int) -> dict:
    kernels = set(kernel_manager.list_kernel_ids())
    pooled = pooled_kernel_ids(kernel_manager) & kernels
    return {"visitors": len(kernels - pooled), "pooled": len(pooled), "kernels": len(kernels),
            "max_kernels": max_kernels}


def kernels_to_shut_down(visitors, connections, watch, ever_connected, now, timeout, grace):
    """The visitors' kernels that have had no page connected for too long.

    ``watch`` maps kernel id -> when it was first seen without a page; it is updated in place
    (entries dropped for kernels with a page, or gone). ``ever_connected`` (updated in place too)
    holds kernels a page has connected to: those get ``timeout`` seconds; a kernel no page has
    connected to yet gets ``timeout + grace``, because its page may still be loading.

    >>> watch, seen = {}, set()
    >>> kernels_to_shut_down({"k"}, {}, watch, seen, 0.0, 10, 60)
    []
    >>> kernels_to_shut_down({"k"}, {}, watch, seen, 30.0, 10, 60)   # still loading, maybe
    []
    >>> kernels_to_shut_down({"k"}, {}, watch, seen, 70.0, 10, 60)
    ['k']
    """
    lost = []
    for kid in sorted(visitors):
        if connections.get(kid, 0) > 0:
            ever_connected.add(kid)
            watch.pop(kid, None)
            continue
        since = watch.setdefault(kid, now)
        limit = timeout if kid in ever_connected else timeout + grace
        if now - since >= limit:
            watch.pop(kid, None)
            lost.append(kid)
    for kid in set(watch) - set(visitors):
        del watch[kid]
    ever_connected.intersection_update(visitors)
    return lost


FULL_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>AI Band Workbench is full</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:4em auto">
<h1>The workbench is full right now</h1>
<p class="wb-full" data-visitors="{visitors}" data-max="{max}">{visitors} pages are open, and
this machine is set to serve at most {max} at once. Close the workbench in another tab or
wait a minute (pages left open without a connection are closed after
{cull} seconds), then <a href="">reload this page</a>.</p></body></html>"""


class AppHandler(TornadoVoilaHandler):
    """Voilà's page handler with the visitor cap and the ``_xsrf`` cookie set."""

    async def get(self, path=None):
        max_kernels = self.settings.get("workbench_max_kernels", 0)
        if max_kernels > 0:
            counts = kernel_counts(self.kernel_manager, max_kernels)
            if counts["visitors"] >= max_kernels:
                self.log.warning("app full: %s visitors (max %s)", counts["visitors"],
                                 max_kernels)
                self.set_status(503)
                self.set_header("Retry-After", "30")
                self.set_header("Content-Type", "text/html; charset=utf-8")
                self.finish(FULL_PAGE.format(
                    visitors=counts["visitors"], max=max_kernels,
                    cull=html.escape(str(self.settings.get("workbench_cull_after", "")))))
                return
        # Reading the token sets the _xsrf cookie that Voilà's unload beacon sends back.
        self.xsrf_token  # noqa: B018
        await super().get(path)


class KernelCountHandler(tornado.web.RequestHandler):
    def initialize(self, app):
        self.app = app

    def get(self):
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(kernel_counts(self.app.kernel_manager, self.app.max_kernels)))


class WorkbenchVoila(Voila):
    """Voilà plus the visitor cap, the shutdown fix and the shared sync service."""

    name = "workbench-app"
    description = __doc__.split("\n\n")[0]

    max_kernels = Int(8, config=True,
                      help="Most visitors (kernels) served at once; 0 = no cap.")
    start_service = Bool(True, config=True,
                         help="Start the sync service as its own process (unless it runs).")
    service_port = Int(config=True, help="Port of the sync service (ORCHESTRATOR_PORT, 8000).")
    service_folder = Unicode(config=True, help="Where the MIDI files go (ORCHESTRATOR_FOLDER).")
    disconnected_timeout = Int(40, config=True,
                               help="Shut down a visitor's kernel after this many seconds with "
                                    "no page connected (0 = never).")
    disconnected_interval = Int(10, config=True, help="How often to look for them (s).")
    page_load_grace = Int(60, config=True,
                          help="Extra seconds for a kernel no page has connected to yet (its "
                               "page may still be loading).")

    @default("log_format")
    def _log_format_default(self):
        # times in the log: "how long did that page take to connect" is the question it answers
        return "%(asctime)s [%(name)s]%(highlevel)s %(message)s"

    @default("config_file_paths")
    def _config_file_paths_default(self):
        return [str(ROOT), *super()._config_file_paths_default()]

    @default("service_port")
    def _service_port_default(self):
        return int(os.environ.get("ORCHESTRATOR_PORT") or 8000)

    @default("service_folder")
    def _service_folder_default(self):
        return os.environ.get("ORCHESTRATOR_FOLDER") or str(ROOT / "generated_accompaniments")

    def initialize(self, argv=None):
        # the repository's template (voila/templates/workbench) before the installed ones
        paths = [str(TEMPLATES), *filter(None, os.environ.get("JUPYTER_PATH", "").split(
            os.pathsep))]
        os.environ["JUPYTER_PATH"] = os.pathsep.join(dict.fromkeys(paths))
        super().initialize(argv)
        self._service = None

    def start(self):
        # kernels (pooled ones too) copy this environment when they start: set it first
        os.environ["ORCHESTRATOR_PORT"] = str(self.service_port)
        os.environ["ORCHESTRATOR_FOLDER"] = str(Path(self.service_folder).resolve())
        os.environ.setdefault("ORCHESTRATOR_TOKEN", secrets.token_urlsafe(24))
        if self.start_service:
            self._service = run_service(self.service_port, self.log)
        super().start()

    def listen(self):
        if self.disconnected_timeout > 0:
            self._orphans: dict[str, float] = {}
            self._connected: set[str] = set()
            self._note_connections(self.kernel_manager)
            tornado.ioloop.PeriodicCallback(self._shutdown_orphans,
                                            self.disconnected_interval * 1000).start()
        super().listen()

    def _note_connections(self, km):
        """Remember every kernel a page connects to, however briefly (a page that connects and
        goes between two sweeps is still a page that loaded, not one still loading)."""
        notify_connect = km.notify_connect

        def note_and_notify(kernel_id):
            self._connected.add(kernel_id)
            notify_connect(kernel_id)

        km.notify_connect = note_and_notify

    async def _shutdown_orphans(self):
        """Shut down the visitors' kernels that no page has been connected to for a while."""
        km = self.kernel_manager
        visitors = set(km.list_kernel_ids()) - pooled_kernel_ids(km)
        connections = getattr(km, "_kernel_connections", {})
        now = time.monotonic()
        for kid in kernels_to_shut_down(visitors, connections, self._orphans, self._connected,
                                        now, self.disconnected_timeout, self.page_load_grace):
            self.log.info("kernel %s: no page connected for a while, shutting it down", kid)
            try:
                await km.shutdown_kernel(kid)
            except Exception as exc:        # already gone
                self.log.warning("shutting down kernel %s: %r", kid, exc)

    def init_handlers(self):
        self.app.settings["workbench_max_kernels"] = self.max_kernels
        self.app.settings["workbench_cull_after"] = self.disconnected_timeout
        handlers = [(h[0], AppHandler, *h[2:]) if len(h) > 1 and h[1] is TornadoVoilaHandler
                    else h for h in super().init_handlers()]
        api = (r"/workbench/api/kernels", KernelCountHandler, {"app": self})
        return [api, *handlers]

    def stop(self):
        try:
            super().stop()
        finally:
            proc, self._service = self._service, None
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()


def run_service(port: int, log) -> subprocess.Popen | None:
    """``python -m server`` on ``port`` unless our service already answers there."""
    from server.config import SERVICE_ID
    from server.kernel import _probe

    health = _probe("127.0.0.1", port, timeout=2)
    if health.get("service") == SERVICE_ID:
        log.info("sync service already running on port %s: the kernels attach to it", port)
        return None
    if health:
        raise SystemExit(f"port {port} is used by another program; set ORCHESTRATOR_PORT "
                         f"to a free port for the sync service")
    proc = subprocess.Popen([sys.executable, "-m", "server", "--port", str(port)],
                            env=dict(os.environ, ORCHESTRATOR_LOG_LEVEL="WARNING"))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the sync service exited with {proc.returncode}")
        if _probe("127.0.0.1", port, timeout=1).get("service") == SERVICE_ID:
            log.info("sync service on port %s (pid %s)", port, proc.pid)
            return proc
        time.sleep(0.1)       # polling a process that is still starting
    proc.kill()
    raise SystemExit(f"the sync service did not answer on port {port} within 30 s")


main = WorkbenchVoila.launch_instance

if __name__ == "__main__":
    main()
