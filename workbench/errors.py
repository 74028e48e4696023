"""Errors that carry their field: raised by the engine, reported (never re-judged) by the service
and the UI.

Every error a user can cause is a :class:`WorkbenchError`, a ``ValueError`` that says which input
(``field``) was wrong, what it was (``value``) and, where there is a closed list, what would have
been accepted (``valid``). The service turns one into a 400 JSON body with the same fields; the UI
shows its message beside the control that ``field`` names.

>>> try:
...     raise WorkbenchError("tempo 500 is outside 20-300 bpm", field="tempo", value=500)
... except ValueError as error:
...     print(error.field, error.value, error)
tempo 500 tempo 500 is outside 20-300 bpm
"""

from __future__ import annotations

__all__ = ["WorkbenchError"]


class WorkbenchError(ValueError):
    """A bad input: ``field`` names the parameter, ``value`` what it was, ``valid`` the choices."""

    def __init__(self, message: str, field: str | None = None, value=None, valid=None):
        super().__init__(message)
        self.field = field
        self.value = value
        self.valid = tuple(valid) if valid is not None else None

    def to_dict(self) -> dict:
        """The error as the service and the UI report it."""
        body: dict = {"detail": str(self)}
        if self.field is not None:
            body["field"] = self.field
        if self.value is not None:
            body["value"] = self.value
        if self.valid is not None:
            body["valid"] = list(self.valid)
        return body
