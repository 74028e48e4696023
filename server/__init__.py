"""The sync service: Tornado HTTP + WebSocket, started from the notebook's kernel.

>>> from server import start
>>> svc = start()                 # doctest: +SKIP  (own thread and loop; idempotent)
>>> svc.url, svc.token, svc.folder  # doctest: +SKIP
>>> svc.publish(arrangement)      # doctest: +SKIP  (midi_ready to every plugin)
>>> svc.stop()                    # doctest: +SKIP

Standalone: ``python -m server --port 8000``. Reference plugin client: ``python -m server.client``.
Protocol: docs/protocol.md.
"""

__version__ = "0.1.0"

from .kernel import AttachedHandle, ServiceHandle, current, start, stop  # noqa: E402

__all__ = ["start", "stop", "current", "ServiceHandle", "AttachedHandle", "__version__"]
