"""Helpers of the service tests (a real service on a free loopback port, HTTP, asyncio)."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from server.config import Settings  # noqa: E402

README_EXAMPLE = '{"chords": ["C", "Am", "F", "G"], "bpm": 120, "key": "C", "tracks": ["bass", "drums"]}'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def settings_for(folder, **overrides) -> Settings:
    values = dict(host="127.0.0.1", port=0, folder=folder, rate_limit=0, ping_interval=5,
                  ping_timeout=5, retention_max_files=0, retention_max_age=0)
    values.update(overrides)
    return Settings(**values)


class Response:
    def __init__(self, status, headers, body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def json(self):
        return json.loads(self.body)


def http(base: str, method: str, path: str, body=None, headers=None, raw: bytes | None = None,
         timeout=30) -> Response:
    """One request with urllib; never raises on HTTP errors."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return Response(resp.status, resp.headers, resp.read())
    except urllib.error.HTTPError as exc:
        return Response(exc.code, exc.headers, exc.read())


def run(coro, timeout=60):
    """Run a coroutine on a fresh loop (the service has its own loop on its own thread)."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


README_BODY = json.loads(README_EXAMPLE)


async def read_until_closed(ws, timeout: float = 20) -> None:
    """Read a Tornado WebSocket client until the service closes it (its close code and reason
    are then on ``ws``): what a slow client sees once it reads again."""
    from tornado.websocket import WebSocketClosedError

    while True:
        try:
            if await asyncio.wait_for(ws.read_message(), timeout) is None:
                return
        except WebSocketClosedError:
            return
