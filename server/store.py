"""The file store: an in-memory index of the MIDI files in the shared folder.

Layout (the DAW plugin's, see docs/protocol.md)::

    {folder}/{track}/{YYYYMMDDHHMMSS}_{track}_{key}_{tempo}.mid   written by the engine
    {folder}/temp/                                               files being written
    {folder}/meta/{generation}.json                              one sidecar per generation

The index is built from disk once (``rebuild``) and then kept up to date by ``add_files`` /
``delete`` / ``enforce_retention``: no request scans the folder. File names are unique across
tracks (the track is part of the name), so the public name of a file is its base name.

Downloads hold a reference (``acquire`` / ``release``); retention and DELETE never unlink a
file while it is referenced (the unlink happens when the last download ends).

Links: every path is checked to be a regular file in a real (not linked) sub-folder of the
real folder *before* anything is read, written, moved or deleted (a linked ``bass/`` must not
let a DELETE or a generation reach a folder elsewhere).

A generation's files can also be fetched as one ZIP (``generation_zip``): a plugin on another
machine then makes one request a generation instead of one a file.

Retention (off unless configured) moves whole generations of the service's own (those with a
sidecar) into the trash folder, laid out like the folder (``trash/bass/…``,
``trash/meta/….json``): moving them back restores them. Files the service did not index with a
sidecar (a user's own, a CLI run's) are never touched.
"""

from __future__ import annotations

import bisect
import builtins
import io
import json
import logging
import os
import re
import stat
import threading
import time
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from workbench.files import (
    TEMP_KEEP,
    FolderLock,
    generation_id,
    parse_file_name,
    write_atomic,
    write_batch,
)

from .jsonio import dumps

log = logging.getLogger("server.store")

RESERVED_DIRS = {"temp", "meta", "trash"}
TRACK_RE = re.compile(r"[A-Za-z0-9]{1,32}")
MAX_ZIP_BYTES = 64 * 2**20      # a generation's files in one answer, at most
ZIP_CACHE = 8                   # generations' ZIPs kept (every plugin fetches the newest)


class UnsafePath(ValueError):
    """A file name that tries to leave the folder (traversal, absolute, links)."""


class GenerationTooLarge(ValueError):
    """A generation's files are more bytes than one ZIP may carry."""


def check_name(name: str) -> str:
    """Validate a public file name (already URL-decoded). Raises :class:`UnsafePath`."""
    if not name or len(name) > 255:
        raise UnsafePath("empty or too long file name")
    if "\x00" in name or "/" in name or "\\" in name or name.startswith((".", "~")):
        raise UnsafePath(f"file name {name!r} must be a plain name (no path, no leading dot)")
    if ".." in name or "%" in name or os.path.isabs(name):
        raise UnsafePath(f"file name {name!r} is not allowed")
    return name


def file_url_path(filename: str) -> str:
    """The URL path of a file: ``/files/`` + the name percent-encoded ('#' → %23)."""
    return "/files/" + quote(filename, safe="")


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


@dataclass(eq=False)
class FileRecord:
    filename: str
    track_type: str
    path: Path  # absolute
    relpath: str  # "bass/2025..._bass_Cmaj_120.mid"
    size: int
    mtime: float
    timestamp: str  # YYYYMMDDHHMMSS from the name (or the mtime)
    key: str | None = None
    tempo: float | None = None
    generation: str | None = None
    duration: float | None = None  # beats
    refs: int = 0
    deleted: bool = False
    owned: bool = False  # indexed with a sidecar: the service wrote it (retention may move it)
    seq: int = 0  # seq of its midi_ready (0: not announced in this run)
    _dict: dict | None = field(default=None, repr=False)
    _json: bytes | None = field(default=None, repr=False)

    @property
    def etag(self) -> str:
        return f'"{self.size:x}-{int(self.mtime * 1e6):x}"'

    @property
    def sort_key(self):
        return (self.timestamp, self.filename)

    def to_json(self, base_url: str = "") -> bytes:
        if self._json is None:
            self._json = dumps(self.to_dict(base_url), compact=False).encode()
        return self._json

    def to_dict(self, base_url: str = "") -> dict:
        if self._dict is None:
            path = file_url_path(self.filename)
            tempo = self.tempo
            if tempo is not None and float(tempo).is_integer():
                tempo = int(tempo)
            self._dict = {
                "filename": self.filename,
                "file_id": self.filename,
                "track_type": self.track_type,
                "key": self.key,
                "tempo": tempo,
                "duration": self.duration,
                "size": self.size,
                "created": _iso(self.mtime),
                "generation": self.generation,
                "path": self.relpath,
                "url": base_url + path,
                "url_path": path,
            }
        return self._dict


class FileStore:
    def __init__(
        self,
        folder: Path,
        base_url: str = "",
        max_files: int = 0,
        max_age: float = 0.0,
        trash: str = "trash",
    ):
        self.folder = Path(folder).resolve()
        self.trash = self.folder / trash  # an absolute ``trash`` replaces the folder part
        self.base_url = base_url.rstrip("/")
        self.max_files = int(max_files)
        self.max_age = float(max_age)
        self._lock = threading.RLock()
        self._by_name: dict[str, FileRecord] = {}
        self._order: builtins.list[FileRecord] = []  # ascending by (timestamp, filename)
        self._generations: dict[str, dict] = {}
        self._version = 0
        self._list_cache: dict[tuple, bytes] = {}
        self._zip_cache: OrderedDict[str, tuple[int, bytes]] = OrderedDict()
        self._real_folder = ""

    # ------------------------------------------------------------------ building
    def ensure_folders(self, tracks=()):
        self.folder.mkdir(parents=True, exist_ok=True)
        self._real_folder = os.path.realpath(self.folder)
        for sub in ("temp", "meta", *tracks):
            try:
                self.real_dir(sub)
            except UnsafePath as exc:
                log.warning("%s", exc)
        try:
            # our temp/: the engine's writers (notebooks, the CLI) leave it in place
            (Path(self.real_dir("temp")) / TEMP_KEEP).touch()
        except (UnsafePath, OSError) as exc:
            log.warning("temp/: %s", exc)

    def real_dir(self, sub: str) -> Path:
        """``folder/sub``, created if missing; UnsafePath if it is a link or not a folder of
        its own inside the real folder (checked before anything is written there)."""
        path = self.folder / sub
        try:
            os.mkdir(path)
        except FileExistsError:
            pass
        base = self._real_folder or os.path.realpath(self.folder)
        if os.path.islink(path) or os.path.realpath(path) != os.path.join(base, sub) \
                or not os.path.isdir(path):
            raise UnsafePath(f"{sub}/ in the service's folder is a symbolic link or not a folder "
                             f"(it leads to {os.path.realpath(path)}): nothing is written there; "
                             f"make it a plain folder")
        return path

    def check_dirs(self, tracks=()) -> None:
        """Every folder a write will touch (temp/, meta/, the tracks') is a real folder here."""
        for sub in ("temp", "meta", *tracks):
            self.real_dir(sub)

    def inside(self, path: Path) -> bool:
        """Is ``path`` a regular file (not a link) whose real path is itself, in the folder?"""
        try:
            st = os.lstat(path)
        except OSError:
            return False
        base = self._real_folder or os.path.realpath(self.folder)
        real = os.path.realpath(path)
        return stat.S_ISREG(st.st_mode) and real == str(path) and real.startswith(base + os.sep)

    def _clean_temp(self) -> int:
        """Remove leftovers of writers killed mid-write (``temp/*.tmp``, ``*.part``), holding
        the writers' lock on temp/ so that no live writer loses its file."""
        temp = self.real_dir("temp")
        removed = 0
        with FolderLock(temp):
            for item in os.scandir(temp):
                if item.is_file(follow_symlinks=False) and item.name.endswith((".tmp", ".part")):
                    try:
                        os.unlink(item.path)
                        removed += 1
                    except OSError:
                        pass
        if removed:
            log.info("removed %d unfinished file(s) from temp/", removed)
        return removed

    def rebuild(self) -> int:
        """Index the folder from disk (at start). Returns the number of files indexed.

        Files without a sidecar (a generation killed before it was written, a user's own
        files) are indexed with the generation their name gives and never touched by
        retention; unfinished temporary files are removed."""
        self.ensure_folders()
        self._clean_temp()
        records: dict[str, FileRecord] = {}
        generations: dict[str, dict] = {}
        meta_dir = self.folder / "meta"
        for sidecar in sorted(meta_dir.glob("*.json")):
            try:
                meta = json.loads(sidecar.read_text())
                generations[meta.get("id") or sidecar.stem] = meta
            except (OSError, ValueError) as exc:
                log.warning("unreadable sidecar %s: %s", sidecar, exc)
        by_file_meta = {}
        for gen_id, meta in generations.items():
            for f in meta.get("files", ()):
                by_file_meta[f.get("filename")] = (gen_id, meta)
        with os.scandir(self.folder) as top:
            for entry in top:
                if entry.name in RESERVED_DIRS or entry.name.startswith("."):
                    continue
                if not entry.is_dir(follow_symlinks=False):
                    continue
                with os.scandir(entry.path) as sub:
                    for item in sub:
                        if not item.name.endswith(".mid") or not item.is_file(follow_symlinks=False):
                            continue  # symlinks are never indexed
                        try:
                            check_name(item.name)
                        except UnsafePath:
                            continue
                        rec = self._record_from_disk(Path(item.path), entry.name, item.stat())
                        gm = by_file_meta.get(rec.filename)
                        if gm:
                            rec.generation = gm[0]
                            rec.duration = gm[1].get("length_beats")
                            rec.owned = True
                        else:
                            rec.generation = generation_id(rec.filename)
                        records[rec.filename] = rec
        with self._lock:
            self._by_name = records
            self._order = sorted(records.values(), key=lambda r: r.sort_key)
            self._generations = generations
            self._changed()
        return len(records)

    def _record_from_disk(self, path: Path, track: str, st) -> FileRecord:
        parsed = parse_file_name(path.name)
        if parsed:
            ts, key, tempo = parsed.timestamp, parsed.key, float(parsed.tempo)
        else:
            ts = time.strftime("%Y%m%d%H%M%S", time.gmtime(st.st_mtime))
            key, tempo = None, None
        return FileRecord(
            filename=path.name,
            track_type=track,
            path=path,
            relpath=f"{track}/{path.name}",
            size=st.st_size,
            mtime=st.st_mtime,
            timestamp=ts,
            key=key,
            tempo=tempo,
        )

    def _changed(self):
        self._version += 1
        self._list_cache.clear()

    # ------------------------------------------------------------------ adding
    def add_files(self, paths, meta: dict | None = None, sidecar: bool = True) -> builtins.list[FileRecord]:
        """Index files already written into the folder (by the engine) and write the sidecar.

        ``paths``: absolute or folder-relative paths ``{track}/{name}.mid``. ``meta``: chords,
        key, tempo, meter, style, seed, bars, length_beats... Returns the records in order.
        ``sidecar=False``: the caller writes it later with :meth:`write_sidecar` (so that plugins
        hear about the files one fsync sooner).
        """
        meta = dict(meta or {})
        new: builtins.list[FileRecord] = []
        for p in paths:
            path = self.safe_existing_path(p)
            track = path.parent.name
            rec = self._record_from_disk(path, track, path.lstat())
            rec.duration = meta.get("length_beats")
            rec.owned = True
            new.append(rec)
        if not new:
            return []
        band = next((r for r in new if r.track_type == "band"), new[-1])
        gen_id = self._generation_id(band)
        for rec in new:
            rec.generation = gen_id
        meta["id"] = gen_id
        meta["created"] = _iso(time.time())
        meta["files"] = [
            {"filename": r.filename, "track_type": r.track_type, "path": r.relpath} for r in new
        ]
        with self._lock:
            self._generations[gen_id] = meta
            for rec in new:
                old = self._by_name.pop(rec.filename, None)
                if old is not None:
                    self._order.remove(old)
                self._by_name[rec.filename] = rec
                bisect.insort(self._order, rec, key=lambda r: r.sort_key)
            self._changed()
        if sidecar:
            self.write_sidecar(gen_id)
        return new

    def next_timestamp(self, now: float | None = None) -> str:
        """The timestamp (local time, YYYYMMDDHHMMSS) to name a new generation: now, or the
        newest indexed one if a name clash moved it ahead of the clock (by under 10 minutes),
        so that names keep the order in which generations were made."""
        now = time.time() if now is None else now
        ts = time.strftime("%Y%m%d%H%M%S", time.localtime(now))
        with self._lock:
            newest = self._order[-1].timestamp if self._order else ""
        if newest > ts and newest <= time.strftime("%Y%m%d%H%M%S", time.localtime(now + 600)):
            return newest
        return ts

    def write_sidecar(self, gen_id: str | None):
        meta = self._generations.get(gen_id or "")
        if gen_id is None:
            return
        if meta is not None:
            self._write_sidecar(gen_id, meta)

    def _generation_id(self, rec: FileRecord) -> str:
        return generation_id(rec.filename) or rec.filename[: -len(".mid")]

    def _write_sidecar(self, gen_id: str, meta: dict):
        data = json.dumps(meta, indent=1, default=str, allow_nan=False).encode()
        write_atomic(self.real_dir("meta") / f"{gen_id}.json", data, self.real_dir("temp"))

    def write_uploaded(self, files: builtins.list[tuple[str, str, bytes]], meta: dict | None = None):
        """Write MIDI bytes uploaded by an attached process (``POST /api/publish``).

        ``files``: (track_type, filename, data). Atomic (temp/, fsync, replace), never overwrites:
        if a name is taken, the timestamp of the whole batch moves on by one second.
        """
        parsed = []
        for track, name, data in files:
            check_name(name)
            if not TRACK_RE.fullmatch(track or "") or track in RESERVED_DIRS:
                raise UnsafePath(f"bad track_type {track!r}")
            m = parse_file_name(name)
            if not m or m.part != track:
                raise UnsafePath(
                    f"file name {name!r} must look like YYYYMMDDHHMMSS_{track}_KEY_TEMPO.mid"
                )
            parsed.append((track, m, data))
        self.check_dirs({t for t, _, _ in parsed})  # before a byte is written
        with self._lock:
            shift = 0
            while True:
                names = []
                for track, m, _ in parsed:
                    ts = _shift_ts(m.timestamp, shift)
                    names.append(f"{ts}_{track}_{m.key}_{m.tempo}.mid")
                if not any(
                    (self.folder / t / n).exists() or n in self._by_name
                    for (t, _, _), n in zip(parsed, names, strict=True)
                ):
                    break
                shift += 1
            written = write_batch([(self.folder / track / name, data) for (track, _, data), name
                                   in zip(parsed, names, strict=True)], self.real_dir("temp"))
        return self.add_files(written, meta)

    # ------------------------------------------------------------------ reading
    def safe_existing_path(self, p) -> Path:
        """Resolve a path given by a client (publish) and make sure it stays in the folder."""
        if "\x00" in str(p):
            raise UnsafePath("a path may not contain NUL")
        p = Path(p)
        if not p.is_absolute():
            if ".." in p.parts:
                raise UnsafePath(f"{str(p)!r} leaves the folder")
            p = self.folder / p
        if p.is_symlink():
            raise UnsafePath(f"{p.name!r} is a symbolic link")
        real = os.path.realpath(p)
        base = self._real_folder or os.path.realpath(self.folder)
        if os.path.commonpath([real, base]) != base:
            raise UnsafePath(f"{str(p)!r} is outside the folder")
        rel = Path(real).relative_to(base)
        if len(rel.parts) != 2 or rel.parts[0] in RESERVED_DIRS:
            raise UnsafePath(f"{str(rel)!r} is not {{track}}/{{name}}.mid")
        check_name(rel.parts[1])
        if not os.path.isfile(real):
            raise FileNotFoundError(str(rel))
        return Path(real)

    def get(self, filename: str) -> FileRecord | None:
        check_name(filename)
        return self._by_name.get(filename)

    def acquire(self, filename: str) -> FileRecord | None:
        """Look a file up for download and hold it (never deleted while held)."""
        check_name(filename)
        with self._lock:
            rec = self._by_name.get(filename)
            if rec is None:
                return None
            # the indexed path must still be a regular file inside the folder (not a link)
            try:
                st = os.lstat(rec.path)
            except FileNotFoundError:
                self._forget(rec)
                return None
            if not stat.S_ISREG(st.st_mode) or not self.inside(rec.path):
                log.warning("refusing %s: not a regular file inside the folder", rec.path)
                return None
            rec.refs += 1
            return rec

    def release(self, rec: FileRecord):
        with self._lock:
            rec.refs -= 1
            if rec.refs <= 0 and rec.deleted:
                self._unlink(rec)

    def list(self, track: str | None = None, offset: int = 0, limit: int | None = None):
        """(total, records) newest first, optionally of one track."""
        with self._lock:
            items = self._order
            if track:
                items = [r for r in items if r.track_type == track]
            total = len(items)
            end = total - offset
            start = 0 if limit is None else max(0, end - limit)
            page = items[start:max(end, 0)][::-1]
        return total, page

    def list_json(self, track=None, offset=0, limit=None) -> bytes:
        """The JSON body of GET /api/files, cached until the index changes."""
        key = (self._version, track, offset, limit)
        body = self._list_cache.get(key)
        if body is None:
            total, page = self.list(track, offset, limit)
            tail = json.dumps({"total": total, "count": len(page), "offset": offset,
                               "limit": limit, "tracks": self.tracks()})
            # each record's JSON is cached: the list is a join, not a serialisation
            body = b'{"files": [' + b", ".join(r.to_json(self.base_url) for r in page) + \
                b"], " + tail[1:].encode()
            if len(self._list_cache) > 64:
                self._list_cache.clear()
            self._list_cache[key] = body
        return body

    def tracks(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self._order:
            counts[r.track_type] = counts.get(r.track_type, 0) + 1
        return counts

    def generation(self, gen_id: str | None) -> dict | None:
        return self._generations.get(gen_id or "")

    def generation_zip(self, gen_id: str) -> bytes | None:
        """The files of generation ``gen_id`` (as its sidecar lists them) in one ZIP, each under
        its file name, deflated; None if the generation is unknown or none of its files is left.

        Built once per generation and index version, so that ten plugins fetching the newest
        generation cost one build. Each file is read the way a download reads it (held, a
        regular file inside the folder). Raises :class:`GenerationTooLarge` over ``MAX_ZIP_BYTES``.
        """
        check_name(gen_id)
        with self._lock:
            version = self._version
            cached = self._zip_cache.get(gen_id)
            if cached is not None and cached[0] == version:
                self._zip_cache.move_to_end(gen_id)
                return cached[1]
            meta = self._generations.get(gen_id)
        if meta is None:
            return None
        names = [f["filename"] for f in meta.get("files", ()) if isinstance(f, dict)]
        records = [r for r in map(self.acquire, names) if r is not None]
        try:
            if not records:
                return None
            total = sum(r.size for r in records)
            if total > MAX_ZIP_BYTES:
                raise GenerationTooLarge(f"generation {gen_id!r} is {total} bytes, over the "
                               f"{MAX_ZIP_BYTES} a ZIP may hold")
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
                for rec in records:
                    info = zipfile.ZipInfo(rec.filename, time.localtime(rec.mtime)[:6])
                    info.compress_type = zipfile.ZIP_DEFLATED
                    with open(rec.path, "rb") as fh:
                        zf.writestr(info, fh.read())
            data = out.getvalue()
        finally:
            for rec in records:
                self.release(rec)
        with self._lock:
            self._zip_cache[gen_id] = (version, data)
            self._zip_cache.move_to_end(gen_id)
            while len(self._zip_cache) > ZIP_CACHE:
                self._zip_cache.popitem(last=False)
        return data

    def latest(self, n: int = 20) -> builtins.list[FileRecord]:
        with self._lock:
            return self._order[-n:][::-1]

    def __len__(self):
        return len(self._by_name)

    @property
    def version(self) -> int:
        return self._version

    # ------------------------------------------------------------------ removing
    def delete(self, filename: str) -> FileRecord | None:
        """Remove a file from the index now; unlink it now or when its last download ends."""
        check_name(filename)
        with self._lock:
            rec = self._by_name.get(filename)
            if rec is None:
                return None
            if not self.inside(rec.path):
                self._forget(rec)  # not ours any more (its folder became a link): never touched
                raise UnsafePath(f"{rec.relpath} is no longer a file inside the folder (a linked "
                                 "folder?): it was not deleted")
            self._forget(rec)
            rec.deleted = True
            if rec.refs <= 0:
                self._unlink(rec)
            return rec

    def _forget(self, rec: FileRecord):
        if self._by_name.get(rec.filename) is rec:
            del self._by_name[rec.filename]
            i = bisect.bisect_left(self._order, rec.sort_key, key=lambda r: r.sort_key)
            if i < len(self._order) and self._order[i] is rec:
                del self._order[i]
            else:
                self._order.remove(rec)
            self._changed()

    def _unlink(self, rec: FileRecord):
        if not self.inside(rec.path):
            log.warning("not deleting %s: no longer a file inside the folder", rec.path)
            return
        try:
            os.unlink(rec.path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("could not delete %s: %s", rec.path, exc)
        gen = self._generations.get(rec.generation or "")
        if gen is not None and not any(
            f["filename"] in self._by_name for f in gen.get("files", ())
        ):
            self._generations.pop(rec.generation or "", None)
            try:
                os.unlink(self.folder / "meta" / f"{rec.generation}.json")
            except OSError:
                pass

    def _to_trash(self, rec: FileRecord) -> bool:
        """Move a file (and, with its generation's last file, the sidecar) into the trash,
        laid out like the folder so that moving it back restores it."""
        if not self.inside(rec.path):
            log.warning("retention: %s is no longer a file inside the folder: left alone", rec.path)
            return False
        target = self.trash / rec.track_type / rec.filename
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if os.path.islink(target.parent) or target.exists():
                raise OSError(f"{target} is a link or taken")
            os.replace(rec.path, target)
        except OSError as exc:
            log.warning("retention could not move %s to the trash: %s", rec.path, exc)
            return False
        gen = self._generations.get(rec.generation or "")
        if gen is not None and not any(f["filename"] in self._by_name for f in gen.get("files", ())):
            self._generations.pop(rec.generation or "", None)
            sidecar = self.folder / "meta" / f"{rec.generation}.json"
            try:
                (self.trash / "meta").mkdir(parents=True, exist_ok=True)
                os.replace(sidecar, self.trash / "meta" / sidecar.name)
            except OSError:
                pass
        return True

    def announced_between(self, since: int, upto: int) -> builtins.list[dict]:
        """Files still indexed whose midi_ready had a seq in (since, upto]: what a plugin
        told of a history gap should fetch."""
        with self._lock:
            recs = [r for r in self._order if since < r.seq <= upto]
        return [{k: r.to_dict(self.base_url)[k] for k in
                 ("filename", "track_type", "generation", "url", "url_path", "size")}
                for r in recs]

    def _group_key(self, rec: FileRecord) -> str:
        """The generation a file belongs to (from the sidecar, else from its name)."""
        if rec.generation:
            return rec.generation
        return generation_id(rec.filename) or rec.filename

    def _generations_of(self, records):
        """Group ``records`` (sorted by name) into generations, lazily: the files of one
        generation share its timestamp, so a group is complete when the timestamp changes."""
        ts, block = None, {}
        for rec in records:
            if rec.timestamp != ts:
                yield from block.values()
                ts, block = rec.timestamp, {}
            block.setdefault(self._group_key(rec), []).append(rec)
        yield from block.values()

    def enforce_retention(self, now: float | None = None, keep=()) -> builtins.list[str]:
        """:meth:`retention_pass`, answering the names of the files removed."""
        return [r.filename for r in self.retention_pass(now, keep)]

    def retention_pass(self, now: float | None = None, keep=()) -> builtins.list[FileRecord]:
        """Delete whole generations, oldest first: while more than ``max_files`` files are kept,
        and those older than ``max_age``. Returns the records removed.

        A generation is removed with all its files (never some tracks of a band and not the
        others) and never while one of its files is being downloaded: it waits for the next
        pass, and the count limit does not make up for it by removing newer generations. The
        generations in ``keep`` (ids: the one just announced), or without ``keep`` the newest,
        are never removed to honour the count (only by age)."""
        now = time.time() if now is None else now
        removed: builtins.list[FileRecord] = []
        with self._lock:
            if not self._order or (self.max_files <= 0 and self.max_age <= 0):
                return removed  # retention is off (the default)
            excess = len(self._order) - self.max_files if self.max_files > 0 else 0
            cutoff = now - self.max_age if self.max_age > 0 else None
            if excess <= 0 and (cutoff is None
                                or min(r.mtime for r in self._order[:64]) >= cutoff):
                return removed  # the common case: nothing to do, no grouping
            # oldest first (by name, as listed); ``keep`` (the generation just announced, even if
            # a name clash put it before another), else the newest, is safe from the count
            protected = set(keep) or {self._group_key(self._order[-1])}
            ordered = self._generations_of(list(self._order))
            count_blocked = False
            for recs in ordered:
                key = self._group_key(recs[0])
                too_many = excess > 0 and not count_blocked and key not in protected
                too_old = cutoff is not None and max(r.mtime for r in recs) < cutoff
                if not (too_many or too_old):
                    count_done = excess <= 0 or count_blocked
                    if count_done and (cutoff is None or min(r.mtime for r in recs) >= cutoff):
                        break  # nothing more to remove: the rest is newer
                    continue
                if not all(r.owned for r in recs):
                    continue  # not written by the service (no sidecar): never touched
                if any(r.refs > 0 for r in recs):
                    if too_many:
                        count_blocked = True  # being downloaded: keep it, retry next pass
                    continue
                for rec in recs:
                    self._forget(rec)
                    rec.deleted = True
                    if self._to_trash(rec):
                        removed.append(rec)
                excess -= len(recs)
        if removed:
            log.info("retention removed %d file(s)", len(removed))
        return removed


def _shift_ts(ts: str, seconds: int) -> str:
    if not seconds:
        return ts
    t = datetime.strptime(ts, "%Y%m%d%H%M%S").timestamp() + seconds
    return datetime.fromtimestamp(t).strftime("%Y%m%d%H%M%S")
