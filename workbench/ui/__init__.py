"""The workbench UI: ``Workbench()`` shows everything; the pieces work alone too.

>>> from workbench.ui import Workbench, PianoRoll, Player   # doctest: +SKIP
>>> Workbench()                    # the whole UI (JupyterLab, Notebook 7, Voilà)
>>> PianoRoll(arrangement)         # just the piano roll
>>> Player(arrangement).link(roll) # audio, moving the roll's playhead

ipywidgets and anywidget are imported only when one of these names is used (``import workbench``
never imports this package).
"""

from __future__ import annotations

import logging
import os
import tempfile
from importlib import import_module
from pathlib import Path

_EXPORTS = {
    "Workbench": "workbench.ui.app",
    "download_links": "workbench.ui.app",
    "PianoRoll": "workbench.ui.pianoroll",
    "arrangement_mimebundle": "workbench.ui.pianoroll",
    "arrangement_svg": "workbench.ui.pianoroll",
    "roll_state": "workbench.ui.pianoroll",
    "Player": "workbench.ui.player",
    "Controls": "workbench.ui.controls",
    "TrackStrip": "workbench.ui.controls",
    "SyncPanel": "workbench.ui.sync",
    "SongImport": "workbench.ui.song_import",
    "start_service": "workbench.ui.sync",
    "generate_kwargs": "workbench.ui.mapping",
    "check_progression": "workbench.ui.mapping",
    "default_state": "workbench.ui.mapping",
    "PRESETS": "workbench.ui.mapping",
}

__all__ = sorted(_EXPORTS) + ["setup_logging"]

_logging_ready = False


def setup_logging() -> Path:
    """Send the UI's logs (with tracebacks) to a file instead of the page: the Voilà app must
    never show a traceback. The file is ``$WORKBENCH_UI_LOG`` or ``<tmp>/workbench-ui.log``."""
    global _logging_ready
    path = Path(os.environ.get("WORKBENCH_UI_LOG")
                or Path(tempfile.gettempdir()) / "workbench-ui.log")
    if not _logging_ready:
        _logging_ready = True
        try:
            handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
        except OSError:
            handler = logging.NullHandler()
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s %(threadName)s: %(message)s"))
        for name in ("workbench.ui", "workbench.audio"):
            logger = logging.getLogger(name)
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)
            logger.propagate = False
    return path


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench.ui' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
