"""Standard MIDI File encoding and atomic, never-overwriting file writing.

Why a hand-written encoder rather than mido/pretty_midi/music21: writing the six files of a
32-bar band has a 5 ms budget, and those libraries build one Python object per MIDI event (and
take 50-500 ms just to import). Here each track becomes one sorted list of packed ints and one
``bytearray``; a track chunk is encoded once and reused by its own file and the band file.

Format 1, 480 ticks per quarter note. Track 0 is the conductor (name, tempo, time signature,
key signature); each following track carries its name, a program change and its notes.
"""

from __future__ import annotations

import datetime as _dt
import os
import struct
import threading
from pathlib import Path

from workbench.files import FolderLock, write_batch
from workbench.progression import parse_meter

PPQ = 480

_MAJOR_SHARPS = {0: 0, 7: 1, 2: 2, 9: 3, 4: 4, 11: 5, 6: 6, 1: -5, 8: -4, 3: -3, 10: -2, 5: -1}


def key_signature(tonic: int, mode: str, name: str = "") -> tuple[int, int]:
    """(sharps or -flats, 0 major / 1 minor) for a key; the spelled name picks Gb over F#."""
    minor = mode.startswith("min")
    sf = _MAJOR_SHARPS[(tonic + 3) % 12 if minor else tonic % 12]
    head = name.split(" ")[0] if name else ""
    if sf == 6 and ("b" in head[1:] or "♭" in head):
        sf = -6
    elif sf == -5 and ("#" in head or "♯" in head):
        sf = 7
    return sf, 1 if minor else 0


def _varlen(value: int) -> bytes:
    """MIDI variable-length quantity."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def _meta(kind: int, data: bytes) -> bytes:
    return b"\xff" + bytes((kind,)) + _varlen(len(data)) + data


def _chunk(body: bytes | bytearray) -> bytes:
    return b"MTrk" + struct.pack(">I", len(body)) + bytes(body)


def _text(text: str) -> bytes:
    return text.encode("utf-8", "replace")


def conductor_chunk(name: str, tempo: float, meter: str, key_sf: int, key_minor: int,
                    length_beats: float) -> bytes:
    """Track 0: name, time signature, key signature, tempo, end of track after the last bar."""
    m = parse_meter(meter)
    num, den = m.numerator, m.denominator
    # MIDI clocks per metronome click: a dotted quarter in compound meters, else the beat unit.
    clocks = 36 if den == 8 and num % 3 == 0 and num > 3 else 24 * 4 // den
    body = bytearray(b"\x00")
    body += _meta(0x03, _text(name))
    body += b"\x00" + _meta(0x58, bytes((num, den.bit_length() - 1, clocks, 8)))
    body += b"\x00" + _meta(0x59, struct.pack(">bB", key_sf, key_minor))
    usec = max(1, min(0xFFFFFF, round(60_000_000 / tempo)))
    body += b"\x00" + _meta(0x51, usec.to_bytes(3, "big"))
    body += _varlen(max(0, round(length_beats * PPQ))) + b"\xff\x2f\x00"
    return _chunk(body)


def track_chunk(name: str, channel: int, program: int, notes, length_beats: float = 0.0) -> bytes:
    """One instrument track. ``notes`` are objects with pitch/start/end/velocity in beats.

    Events are packed as ints ``tick<<17 | on<<16 | pitch<<8 | velocity`` so one ``sorted`` call
    orders them (note-offs before note-ons at the same tick, so a repeated pitch re-strikes).
    Note-offs are written as note-ons with velocity 0 under running status: a byte fewer per
    event to build and to read, and every SMF reader understands it.
    """
    keys: list[int] = []
    add = keys.append
    for n in notes:
        s = round(n.start * PPQ)
        e = round(n.end * PPQ)
        if e <= s:
            e = s + 1
        p = n.pitch << 8
        add((s << 17) | 0x10000 | p | n.velocity)
        add((e << 17) | p)
    keys.sort()
    data: list[int] = []
    app = data.append
    ext = data.extend
    prev = 0
    if keys:  # the first event carries the status byte; the rest run on it
        k = keys[0]
        prev = k >> 17
        ext(_varlen(prev))
        ext((0x90 | channel, (k >> 8) & 0x7F, k & 0x7F))
    for k in keys[1:]:
        t = k >> 17
        d = t - prev
        prev = t
        if d < 0x80:
            app(d)
        elif d < 0x4000:
            ext(((d >> 7) | 0x80, d & 0x7F))
        else:
            ext(_varlen(d))
        ext(((k >> 8) & 0x7F, k & 0x7F))
    end = max(prev, round(length_beats * PPQ))
    body = (b"\x00" + _meta(0x03, _text(name)) + bytes((0x00, 0xC0 | channel, program & 0x7F))
            + bytes(data) + _varlen(end - prev) + b"\xff\x2f\x00")
    return _chunk(body)


def smf(chunks) -> bytes:
    """A format-1 Standard MIDI File from track chunks (the first being the conductor)."""
    chunks = list(chunks)
    return b"MThd" + struct.pack(">IHHH", 6, 1, len(chunks), PPQ) + b"".join(chunks)


# ---------------------------------------------------------------------------------------------
# Atomic writing

_LOCK = threading.Lock()
_RESERVED: set[str] = set()  # target paths promised to a writer in this process, not yet on disk
TIMESTAMP_FORMAT = "%Y%m%d%H%M%S"


def parse_timestamp(timestamp) -> _dt.datetime:
    """None (now, local time), a datetime, or a "YYYYMMDDHHMMSS" string."""
    if timestamp is None:
        return _dt.datetime.now().replace(microsecond=0)
    if isinstance(timestamp, _dt.datetime):
        return timestamp.replace(microsecond=0)
    text = str(timestamp)
    try:
        if len(text) != 14 or not text.isdigit():
            raise ValueError
        return _dt.datetime.strptime(text, TIMESTAMP_FORMAT)
    except ValueError:
        raise ValueError(f"timestamp {timestamp!r} is not YYYYMMDDHHMMSS") from None


def reserve(folder: Path, names, timestamp=None) -> tuple[str, list[Path]]:
    """Pick the first timestamp (from ``timestamp``, one second at a time) at which every
    ``folder/sub/{ts}_{suffix}.mid`` for ``names`` = [(sub, suffix)] is free on disk and not
    promised to another writer of this process; promise them. Returns (ts, paths)."""
    when = parse_timestamp(timestamp)
    step = _dt.timedelta(seconds=1)
    base = os.fspath(folder)
    parts = [(os.path.join(base, sub, ""), "_" + suffix + ".mid") for sub, suffix in names]
    exists = os.path.exists
    with _LOCK:
        while True:
            ts = when.strftime(TIMESTAMP_FORMAT)
            paths = [head + ts + tail for head, tail in parts]
            if not any(p in _RESERVED or exists(p) for p in paths):
                _RESERVED.update(paths)
                return ts, [Path(p) for p in paths]
            when += step


def write_files(folder, entries, timestamp=None) -> list[Path]:
    """Write ``entries`` = [(subfolder, suffix, data)] atomically; return the final paths.

    ``data`` is bytes or a function returning them (called in order, so a band file can reuse
    the track chunks encoded for the files before it). Each file is written under
    ``folder/temp/``, all are fsync'ed, then ``os.replace``d to
    ``folder/subfolder/{ts}_{suffix}.mid`` in the order given: a watcher (the DAW plugin) sees
    whole files or nothing. All entries share one timestamp, moved on a
    second at a time until no name is taken.
    """
    folder = Path(folder)
    temp = folder / "temp"
    made = _make_dirs([temp, *(folder / sub for sub in dict.fromkeys(s for s, _, _ in entries))])
    try:
        with FolderLock(temp):
            paths = _write_locked(folder, temp, entries, timestamp)
            # no empty temp/ left in the user's folder; removed under the lock, so a writer
            # waiting for it sees it is gone and makes a new one (FolderLock). The sync
            # service's temp/ holds files.TEMP_KEEP, so it is not empty and stays.
            _remove_empty([temp])
    except BaseException:
        _remove_empty(made)         # a failed run leaves no empty folder tree behind
        raise
    return paths


def _make_dirs(dirs) -> list[Path]:
    """Create the folders (parents too); return the ones created, deepest first."""
    made: list[Path] = []
    try:
        _make_missing(dirs, made)
    except BaseException:
        _remove_empty(sorted(made, key=lambda p: len(p.parts), reverse=True))
        raise
    return sorted(set(made), key=lambda p: len(p.parts), reverse=True)


def _make_missing(dirs, made: list[Path]) -> None:
    for d in dirs:
        missing = []
        p = d
        while not p.exists() and p != p.parent:
            missing.append(p)
            p = p.parent
        for m in reversed(missing):
            m.mkdir(exist_ok=True)
            made.append(m)


def _remove_empty(dirs) -> None:
    for d in dirs:
        try:
            d.rmdir()               # only if empty; another writer's files keep it
        except OSError:
            pass


def _write_locked(folder: Path, temp: Path, entries, timestamp) -> list[Path]:
    """Choose free names, then write them all at once (:func:`workbench.files.write_batch`)."""
    _, paths = reserve(folder, [(sub, suffix) for sub, suffix, _ in entries], timestamp)
    try:
        return write_batch([(path, data) for path, (_, _, data) in zip(paths, entries,
                                                                        strict=True)], temp)
    finally:
        with _LOCK:
            _RESERVED.difference_update(os.fspath(p) for p in paths)
