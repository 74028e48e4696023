"""Settings of the service, from arguments and ``ORCHESTRATOR_*`` environment variables.

Precedence: explicit arguments (``start(port=...)``, CLI flags) > environment > defaults.

=============================  ===============================  =======================
environment variable           setting                          default
=============================  ===============================  =======================
ORCHESTRATOR_HOST              host                             127.0.0.1
ORCHESTRATOR_PORT              port                             8000
ORCHESTRATOR_FOLDER            folder                           generated_accompaniments
ORCHESTRATOR_TOKEN             token                            generated (random)
ORCHESTRATOR_LOG_LEVEL         log_level                        INFO
ORCHESTRATOR_ALLOWED_ORIGINS   allowed_origins (comma list)     none (same host only)
ORCHESTRATOR_ALLOWED_HOSTS     allowed_hosts (comma list)       none (bound addresses only)
ORCHESTRATOR_MAX_FILES         retention_max_files              0 (keep everything)
ORCHESTRATOR_MAX_AGE           retention_max_age (seconds)      0 (keep everything)
ORCHESTRATOR_TRASH             trash (where retention moves to) trash (in the folder)
ORCHESTRATOR_HISTORY           history_size (events)            1000
ORCHESTRATOR_RATE_LIMIT        rate_limit (generations/minute)  60 (0 = off)
ORCHESTRATOR_PUBLIC_URL        public_url (base of file URLs)   http://{host}:{port}
=============================  ===============================  =======================
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import logging
import os
import secrets
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

SERVICE_ID = "ai-band-workbench"  # what GET /health answers as "service": how start() recognises us

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def split_host(host: str) -> str:
    """The name or address of a Host header (``"[::1]:8000"`` → ``"::1"``), lower case."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    if host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


def _ip(host: str):
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _names(value) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(",")
    return tuple(v.strip().rstrip("/") for v in value or () if v and v.strip())


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _env(name: str, default=None, kind=None):
    """``ORCHESTRATOR_{name}``, converted by ``kind``; a bad value is a ValueError naming it."""
    value = os.environ.get("ORCHESTRATOR_" + name)
    if value is None or value == "":
        return default
    if kind is None:
        return value
    try:
        return kind(value)
    except ValueError:
        what = "an integer" if kind is int else "a number"
        raise ValueError(f"ORCHESTRATOR_{name}={value!r} is not {what}") from None


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    folder: Path = Path("generated_accompaniments")
    token: str = ""
    # None = automatic: required when bound beyond loopback, optional on loopback.
    require_token: bool | None = None
    log_level: str = "INFO"
    allowed_origins: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()  # names besides the bound addresses (DNS rebinding)
    public_url: str = ""
    # limits
    max_body_size: int = 1 << 20  # JSON bodies, bytes
    max_upload_size: int = 16 << 20  # POST /api/publish with MIDI bytes
    max_message_size: int = 64 << 10  # one WebSocket message from a client
    # hub
    history_size: int = 1000  # durable events kept for ?since= replay
    queue_size: int = 1000  # per-connection outgoing queue; full = too far behind
    ping_interval: float = 10.0  # WebSocket pings; timeout must not exceed it (tornado >= 6.5)
    ping_timeout: float = 10.0
    ws_writer: str = "raw"  # "raw": the hub's frames straight to the socket; "public": write_message
    heartbeat_timeout: float = 30.0  # HTTP-registered plugins without heartbeat become stale
    # files: retention is off unless configured (a DAW project may use any old file); when on,
    # it moves the service's own generations to ``trash`` (restorable), never others' files
    retention_max_files: int = 0
    retention_max_age: float = 0.0
    retention_interval: float = 60.0
    trash: str = "trash"  # a folder inside ``folder`` (or an absolute path)
    slow_close_timeout: float = 60.0  # a dropped slow client's time to read up to the 4000 close
    # generation
    rate_limit: float = 60.0  # generations per minute per client (0 = off)
    rate_burst: int = 10
    workers: int = 2
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        self.folder = Path(self.folder).expanduser().resolve()
        self.port = int(self.port)
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port {self.port} outside 0–65535")
        self.log_level = str(self.log_level).upper()
        if self.log_level not in LOG_LEVELS:
            raise ValueError(f"log level {self.log_level!r} unknown; valid: {', '.join(LOG_LEVELS)}")
        if self.ws_writer not in ("raw", "public"):
            raise ValueError(f"ws_writer {self.ws_writer!r} unknown; valid: raw, public")
        if self.ping_timeout > self.ping_interval:
            self.ping_timeout = self.ping_interval
        if not self.token:
            self.token = secrets.token_urlsafe(24)
        self.allowed_origins = _names(self.allowed_origins)
        self.allowed_hosts = tuple(split_host(h) for h in _names(self.allowed_hosts))

    @property
    def token_required(self) -> bool:
        if self.require_token is not None:
            return self.require_token
        return not is_loopback(self.host)

    def host_allowed(self, host_header: str) -> bool:
        """Is ``Host`` one of ours? A bound address (any address when bound to all interfaces),
        a loopback name when bound to loopback, the public URL's host or a configured name.
        A foreign *name* is what a DNS-rebinding page sends, so names must be listed."""
        name = split_host(host_header)
        if not name:  # no Host header at all (HTTP/1.0 tools): not a browser
            return True
        if name in self.allowed_hosts or "*" in self.allowed_hosts:
            return True
        bound = self.host.strip("[]").lower()
        wildcard = bound in ("", "0.0.0.0", "::")
        ip = _ip(name)
        if ip is not None:
            if wildcard or (ip.is_loopback and is_loopback(bound)):
                return True
            return ip == _ip(bound)
        if name == bound:
            return True
        if name in LOOPBACK_NAMES and (wildcard or is_loopback(bound)):
            return True
        public = urlsplit(self.public_url).hostname if self.public_url else None
        return name == public

    def origin_allowed(self, origin: str, request_host: str) -> bool:
        """A browser Origin allowed to change state or open a WebSocket: a configured one, or a
        page of this very service (its host:port, the Host being one of ours)."""
        origin = origin.strip().rstrip("/")
        if origin in self.allowed_origins or "*" in self.allowed_origins:
            return True
        try:
            netloc = urlsplit(origin).netloc.lower()
        except ValueError:
            return False
        return bool(netloc) and netloc == request_host.lower() and self.host_allowed(request_host)

    @property
    def connect_host(self) -> str:
        """The host a local client uses to reach us (0.0.0.0 / :: are not connectable)."""
        if self.host in ("0.0.0.0", ""):
            return "127.0.0.1"
        if self.host == "::":
            return "::1"
        return self.host

    def base_url(self, port: int | None = None) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = self.connect_host
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"http://{host}:{port or self.port}"

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        """Defaults < ``ORCHESTRATOR_*`` environment < ``overrides`` (None values ignored)."""
        values = dict(
            host=_env("HOST", "127.0.0.1"),
            port=_env("PORT", 8000, int),
            folder=_env("FOLDER", "generated_accompaniments"),
            token=_env("TOKEN", ""),
            log_level=str(_env("LOG_LEVEL", "INFO")).upper(),
            allowed_origins=_env("ALLOWED_ORIGINS", ""),
            allowed_hosts=_env("ALLOWED_HOSTS", ""),
            public_url=_env("PUBLIC_URL", ""),
            retention_max_files=_env("MAX_FILES", 0, int),
            retention_max_age=_env("MAX_AGE", 0, float),
            trash=_env("TRASH", "trash"),
            ws_writer=_env("WS_WRITER", "raw"),
            history_size=_env("HISTORY", 1000, int),
            rate_limit=_env("RATE_LIMIT", 60, float),
        )
        names = {f.name for f in dataclasses.fields(cls)}
        extra = {}
        for key, value in overrides.items():
            if value is None:
                continue
            if key in names:
                values[key] = value
            else:
                extra[key] = value
        if extra:
            raise TypeError(f"unknown settings {sorted(extra)}; known: {sorted(names - {'extra'})}")
        return cls(**values)


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, plus the record's ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update(fields)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        try:
            return json.dumps(out, default=str, allow_nan=False)
        except ValueError:  # a NaN in a field: the line stays strict JSON
            return json.dumps({k: repr(v) if isinstance(v, float) else v for k, v in out.items()},
                              default=str)


def configure_logging(level: str = "INFO", stream=None, names=("server", "tornado")) -> None:
    """Structured logs (JSON lines) for the ``server`` and ``tornado`` loggers."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLinesFormatter())
    for name in names:
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
    # tornado's per-request access lines duplicate ours
    logging.getLogger("tornado.access").setLevel(logging.WARNING)
