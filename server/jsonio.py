"""JSON in and out of the service: strict both ways.

* In (HTTP bodies, WebSocket messages): no ``NaN`` / ``Infinity`` (Python's json reads them,
  strict parsers downstream do not), no number that overflows to infinity (``1e309``), nesting at
  most :data:`MAX_DEPTH` deep (deeper input used to end in a RecursionError and a 500).
* Out: ``allow_nan=False`` everywhere, so a non-finite number is an error here rather than
  broken JSON in every plugin.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 32


class JsonError(ValueError):
    """Input that is not strict JSON (the message says why)."""


def _constant(name: str):
    raise JsonError(f"{name} is not valid JSON (numbers must be finite)")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonError(f"the number {text[:40]} is too large")
    return value


def loads(raw: bytes | str) -> Any:
    """Parse strict JSON; :class:`JsonError` with a plain reason otherwise."""
    if isinstance(raw, bytes | bytearray):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise JsonError("the body is not UTF-8") from None
    if _too_deep(raw):
        raise JsonError(f"nested more than {MAX_DEPTH} levels deep")
    try:
        return json.loads(raw, parse_constant=_constant, parse_float=_float)
    except json.JSONDecodeError as exc:
        raise JsonError(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:  # pragma: no cover - _too_deep catches it first
        raise JsonError(f"nested more than {MAX_DEPTH} levels deep") from None


def _too_deep(text: str) -> bool:
    """True if brackets outside strings nest deeper than MAX_DEPTH (a linear scan, before the
    recursive parser sees it)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def dumps(obj: Any, compact: bool = True) -> str:
    """Strict JSON out (``allow_nan=False``); unknown objects as their ``str``."""
    return json.dumps(obj, separators=(",", ":") if compact else None, allow_nan=False,
                      default=str)


def size(obj: Any) -> int:
    """Bytes of ``obj`` as JSON (to bound what a client may store)."""
    return len(json.dumps(obj, separators=(",", ":"), allow_nan=False, default=str))
