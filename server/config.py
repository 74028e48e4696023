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
ORCHESTRATOR_MAX_FILES         retention_max_files              2000 (0 = unlimited)
ORCHESTRATOR_MAX_AGE           retention_max_age (seconds)      604800 (7 days, 0 = off)
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

SERVICE_ID = "ai-band-workbench"  # what GET /health answers as "service": how start() recognises us

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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
    heartbeat_timeout: float = 30.0  # HTTP-registered plugins without heartbeat become stale
    # files
    retention_max_files: int = 2000
    retention_max_age: float = 7 * 24 * 3600.0
    retention_interval: float = 60.0
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
        if self.ping_timeout > self.ping_interval:
            self.ping_timeout = self.ping_interval
        if not self.token:
            self.token = secrets.token_urlsafe(24)
        if isinstance(self.allowed_origins, str):
            self.allowed_origins = tuple(
                o.strip().rstrip("/") for o in self.allowed_origins.split(",") if o.strip()
            )

    @property
    def token_required(self) -> bool:
        if self.require_token is not None:
            return self.require_token
        return not is_loopback(self.host)

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
            public_url=_env("PUBLIC_URL", ""),
            retention_max_files=_env("MAX_FILES", 2000, int),
            retention_max_age=_env("MAX_AGE", 7 * 24 * 3600, float),
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
        return json.dumps(out, default=str)


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
