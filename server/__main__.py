"""``python -m server``: the sync service as a standalone process.

    python -m server --host 127.0.0.1 --port 8000 --folder generated_accompaniments [--token T]

Prints the URL and the token, logs JSON lines on stderr, stops cleanly on Ctrl-C / SIGTERM.
Every option also comes from the environment (ORCHESTRATOR_HOST, _PORT, _FOLDER, _TOKEN,
_LOG_LEVEL, _MAX_FILES, _MAX_AGE, _TRASH, _HISTORY, _RATE_LIMIT, _ALLOWED_ORIGINS,
_ALLOWED_HOSTS, _PUBLIC_URL).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from tornado.netutil import bind_sockets

from .config import SERVICE_ID, Settings, configure_logging


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m server", description=__doc__.split("\n\n")[0])
    p.add_argument("--host", help="interface to bind (default 127.0.0.1; 0.0.0.0 needs the token)")
    p.add_argument("--port", type=int, help="port (default 8000; 0 picks a free one)")
    p.add_argument("--folder", help="where MIDI files go (default generated_accompaniments)")
    p.add_argument("--token", help="access token (default: generated and printed)")
    p.add_argument("--require-token", action="store_true", default=None,
                   help="require the token even on loopback")
    p.add_argument("--log-level", help="DEBUG, INFO (default), WARNING, ERROR")
    p.add_argument("--allowed-origin", action="append", dest="allowed_origins",
                   help="a browser origin allowed to open WebSockets (repeatable)")
    p.add_argument("--allowed-host", action="append", dest="allowed_hosts",
                   help="a host name clients use to reach the service (repeatable; the bound "
                        "addresses and localhost are always allowed)")
    p.add_argument("--max-files", type=int, dest="retention_max_files",
                   help="retention: keep at most N files (default 0 = all); older generations "
                        "of the service move to the trash folder")
    p.add_argument("--max-age", type=float, dest="retention_max_age",
                   help="retention: move generations older than N seconds to the trash "
                        "(default 0 = never)")
    p.add_argument("--trash", help="where retention moves files (default: trash/ in the folder)")
    p.add_argument("--history", type=int, dest="history_size",
                   help="events kept for reconnecting plugins (?since=)")
    p.add_argument("--rate-limit", type=float, help="generations per minute per client (0 = off)")
    return p.parse_args(argv)


async def serve(settings: Settings, sockets) -> None:
    from .app import Service

    service = Service(settings, port=settings.port)
    await service.start(sockets)
    print(f"AI Band sync service on {service.store.base_url}", flush=True)
    print(f"  WebSocket: {service.store.base_url.replace('http', 'ws', 1)}/ws/sync", flush=True)
    print(f"  folder:    {settings.folder}", flush=True)
    print(f"  token:     {settings.token}"
          f"{'  (required)' if settings.token_required else '  (optional on loopback)'}",
          flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    await stop.wait()
    await service.shutdown()


def main(argv=None) -> int:
    args = vars(parse_args(argv))
    for name in ("allowed_origins", "allowed_hosts"):
        if args.get(name):
            args[name] = ",".join(args[name])
    try:
        settings = Settings.from_env(**args)
    except ValueError as exc:
        print(f"python -m server: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    try:
        sockets = bind_sockets(settings.port, settings.host, reuse_port=False)
    except OSError as exc:
        from .kernel import _probe

        health = _probe(settings.connect_host, settings.port, timeout=2)
        if health.get("service") == SERVICE_ID:
            print(f"the band sync service already runs on {settings.host}:{settings.port} "
                  f"(instance {health.get('instance')}); nothing to do.", file=sys.stderr)
        else:
            print(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}. "
                  f"Choose another --port or stop the program using it.", file=sys.stderr)
        return 2
    settings.port = sockets[0].getsockname()[1]
    asyncio.run(serve(settings, sockets))
    return 0


if __name__ == "__main__":
    sys.exit(main())
