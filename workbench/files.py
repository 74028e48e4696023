"""The two file conventions every writer shares: how a MIDI file is named, and how any file
appears on disk atomically.

Names (the DAW plugin's scheme)::

    {YYYYMMDDHHMMSS}_{part}_{key}_{tempo}.mid      e.g. 20250824103000_bass_F#maj_120.mid

>>> name = file_name("20250824103000", "bass", "F#maj", 120)
>>> name, parse_file_name(name).key, generation_id(name)
('20250824103000_bass_F#maj_120.mid', 'F#maj', '20250824103000_F#maj_120')

Atomic writing: each file is written under a temporary name in a ``temp`` folder on the same
file system, all are fsync'ed, then each is renamed (``os.replace``) into place, so a watcher
(the DAW plugin, the service's index) sees whole files or nothing. ``write_atomic`` is the one
way the workbench, the service and the reference client put a file on disk.
"""

from __future__ import annotations

import itertools
import os
import re
from pathlib import Path
from typing import NamedTuple

__all__ = ["NAME_RE", "FileName", "FolderLock", "file_name", "name_suffix", "parse_file_name", "generation_id",
           "write_atomic", "write_batch"]

NAME_RE = re.compile(
    r"^(?P<ts>\d{14})_(?P<part>[A-Za-z0-9]+)_(?P<key>[^_/\\\x00]+)_(?P<tempo>\d+(?:\.\d+)?)\.mid$"
)


class FileName(NamedTuple):
    """A parsed file name: timestamp, part (track or "band"), key (short form), tempo (bpm)."""

    timestamp: str
    part: str
    key: str
    tempo: str


def name_suffix(part: str, key: str, tempo: float) -> str:
    """``{part}_{key}_{tempo}``: the name after the timestamp (the tempo as a whole number)."""
    return f"{part}_{key}_{int(tempo)}"


def file_name(timestamp: str, part: str, key: str, tempo: float) -> str:
    return f"{timestamp}_{name_suffix(part, key, tempo)}.mid"


def parse_file_name(name: str) -> FileName | None:
    """The parts of a name written by the workbench, or None for any other name."""
    m = NAME_RE.match(name)
    return FileName(m["ts"], m["part"], m["key"], m["tempo"]) if m else None


def generation_id(name: str) -> str | None:
    """The generation a file belongs to: its name without the part (``{ts}_{key}_{tempo}``)."""
    parsed = parse_file_name(name)
    if parsed is None:
        return None
    return f"{parsed.timestamp}_{parsed.key}_{parsed.tempo}"


# ---------------------------------------------------------------------------------------------
# Atomic writing

_COUNTER = itertools.count()
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def write_batch(items, temp: Path | str) -> list[Path]:
    """Write ``items`` = [(target path, bytes or a function returning bytes)] atomically.

    Every file is written into ``temp`` (``{stem}.{pid}-{n}.tmp``), then all are fsync'ed
    together (on ext4 six files sync in about the time of two), then renamed into place in the
    order given. On any error the temporary files are removed and nothing is renamed (if a
    rename itself fails, the files renamed before it stay, whole). Targets are overwritten:
    callers choose free names (:func:`workbench.midi.reserve`)."""
    temp = Path(temp)
    tag = f"{os.getpid()}-{next(_COUNTER)}"
    temps: list[Path] = []
    fds: list[int] = []
    targets = [Path(target) for target, _ in items]
    try:
        try:
            for target, (_, data) in zip(targets, items, strict=True):
                if callable(data):
                    data = data()
                tmp = temp / f"{target.stem}.{tag}.tmp"
                fds.append(os.open(tmp, _FLAGS, 0o644))
                temps.append(tmp)
                _write_all(fds[-1], data)
            for fd in fds:
                os.fsync(fd)
        finally:
            for fd in fds:
                os.close(fd)
        for tmp, target in zip(temps, targets, strict=True):
            os.replace(tmp, target)
    except BaseException:
        for tmp in temps:
            try:
                tmp.unlink()
            except FileNotFoundError:
                pass
        raise
    return targets


# A temp/ holding this file belongs to a long-lived writer of the folder (the sync service):
# the other writers, who remove the temp/ they leave empty, leave that one in place.
TEMP_KEEP = ".keep"


class FolderLock:
    """Another process (a second notebook, the CLI, the service) may write into the same folder
    in the same second: writers hold an advisory lock on ``temp/`` from choosing the names until
    the files are in place (and the service holds it while it clears leftovers from ``temp/``).
    Where there is no ``fcntl`` (Windows) only this process's writers are kept apart."""

    def __init__(self, path: Path | str):
        self.path = path
        self.fd: int | None = None

    def __enter__(self) -> FolderLock:
        try:
            import fcntl
        except ImportError:
            return self
        path = Path(self.path)
        while True:
            path.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:  # removed by the writer before us (no empty temp/ left)
                continue
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                current = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                current = False
            if current:
                self.fd = fd
                return self
            os.close(fd)  # we locked a temp/ that was removed meanwhile: lock the new one

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing releases the lock
            self.fd = None


def write_atomic(target: Path | str, data: bytes, temp: Path | str | None = None) -> Path:
    """Write one file atomically (through ``temp``, default the target's own folder)."""
    target = Path(target)
    return write_batch([(target, data)], temp if temp is not None else target.parent)[0]
