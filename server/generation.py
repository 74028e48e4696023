"""Generation: request JSON → ``workbench.generate`` → ``Arrangement.write`` → hub events.

The only module of the service that touches the engine (``workbench``). Requests from HTTP
(``POST /api/generate``, ``/generate``, ``/api/midi/generate``), from plugins over the WebSocket
(``generation_request`` / ``generate_request``) and from the notebook (``svc.generate(...)``)
all go through :meth:`Generator.generate`; arrangements made in the notebook go through
:meth:`Generator.announce` after :func:`write_arrangement`.

The engine runs in a thread pool so the IOLoop keeps serving while a band is being generated.
"""

from __future__ import annotations

import asyncio
import errno
import itertools
import logging
import math
import re
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from workbench.errors import WorkbenchError

from .hub import Hub
from .store import FileRecord, FileStore, UnsafePath

log = logging.getLogger("server.generation")

TRACK_ALIASES = {"drum": "drums", "piano": "keys", "pads": "pad", "guitars": "guitar"}
MAX_CHORDS = 512
MAX_REPEAT = 64
MAX_SONG_CHARS = 1 << 20  # an iReal playlist link or a base64 MusicXML (the body limit is 1 MB)


class RequestError(ValueError):
    """A bad request, answered as 400 ``{"error", "detail", "field", "value", "valid"...}``."""

    def __init__(self, detail: str, field: str | None = None, value=None, valid=None,
                 error: str = "invalid request", status: int = 400, **extra):
        super().__init__(detail)
        self.status = status
        self.body: dict[str, Any] = {"error": error, "detail": detail}
        if field is not None:
            self.body["field"] = field
        if value is not None:
            self.body["value"] = value
        if valid is not None:
            self.body["valid"] = list(valid)
        self.body.update({k: v for k, v in extra.items() if v is not None})

    @classmethod
    def from_engine(cls, exc: WorkbenchError, rename: dict | None = None,
                    error: str = "invalid request", **extra) -> RequestError:
        """The engine's error as a 400, its field renamed to the request's own name."""
        field = exc.field
        if field is not None and rename:
            field = rename.get(field, field)
        return cls(str(exc), field=field, value=_jsonable(exc.value), valid=exc.valid,
                   error=error, **extra)

    @classmethod
    def from_os_error(cls, exc: OSError) -> RequestError:
        """A full disk is 507 with the system's words; other I/O failures a clear 500."""
        what = exc.strerror or str(exc)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return cls(f"{what}: the service's folder is full; free some space and try again",
                       error="insufficient storage", status=507)
        return cls(f"the service could not write its files: {what}", error="storage error",
                   status=500)


def _jsonable(value):
    """A value echoed in an error body: JSON types only, texts shortened."""
    if value is None or isinstance(value, bool | int | float):
        return value if not isinstance(value, float) or math.isfinite(value) else None
    if isinstance(value, str):
        return value[:200]
    if isinstance(value, list | tuple | dict):
        text = repr(value)
        return value if len(text) <= 200 else text[:200]
    return str(value)[:200]


# ---------------------------------------------------------------------------- engine facts
def _wb():
    import workbench  # noqa: PLC0415  (lazy: the service starts even while the engine loads)

    return workbench


@lru_cache(maxsize=1)
def valid_tracks() -> tuple[str, ...]:
    return tuple(_wb().TRACKS)


@lru_cache(maxsize=1)
def style_infos() -> dict:
    return {s.name: s for s in _wb().styles()}


def engine_available() -> bool:
    try:
        valid_tracks()
        style_infos()
        return True
    except Exception:
        return False


# ---------------------------------------------------------------------------- requests
@dataclass
class GenerationRequest:
    """A request as the engine's arguments. Values are passed on as given: the engine checks
    them (one place for each rule) and its errors are reported under the request's own names
    (``renames``: engine argument → request field)."""

    chords: list[str] | None = None  # one symbol per bar (the original API)
    text: str | None = None  # bar notation "| C Am | F G |"
    tempo: object = 120
    key: object = None
    tracks: object = None
    style: object = "pop"
    meter: object = None
    seed: object = 0
    repeat: object = 1
    duration: float | None = None  # beats wanted (the plugin's generate_request)
    options: dict = field(default_factory=dict)
    request_id: str | None = None
    source_field: str = "chords"
    renames: dict = field(default_factory=dict)
    song: str | None = None  # an iReal Pro link (or playlist), a song in bar notation
    musicxml: bytes | None = None  # a MusicXML / .mxl lead sheet (base64 in the JSON)
    song_index: object = None  # which song of a playlist (0-based)
    choruses: object = None  # times the song's form is played (default: repeat)


def _number(body, names, default, lo, hi):
    """A number only the service knows (``duration``): checked here."""
    for name in names:
        if name in body and body[name] is not None:
            value = body[name]
            if isinstance(value, bool) or not isinstance(value, int | float) or \
                    not lo <= value <= hi:
                raise RequestError(f"{name} must be a number from {lo} to {hi}, not {value!r}",
                                   field=name, value=_jsonable(value), valid=[lo, hi])
            return float(value)
    return default


def _split_dash(text: str) -> list[str] | None:
    """'C-Am-F-G' (the plugin's chord_progression) → ['C', 'Am', 'F', 'G']."""
    if "|" in text or re.search(r"\s", text.strip()):
        return None
    parts = [p for p in text.split("-") if p]
    return parts if len(parts) > 1 else None


def _first(body: dict, *names):
    """(name, value) of the first of ``names`` present (not None) in ``body``."""
    for name in names:
        if body.get(name) is not None:
            return name, body[name]
    return names[0], None


OPTIONS = ("swing", "humanize", "intensity", "count_in", "ending", "instruments", "levels",
           "density", "intro", "arc")


def parse_request(body) -> GenerationRequest:
    """Rename a request's JSON fields to the engine's arguments. Only the request's shape is
    checked here (where the chords are, the size bounds of the service); every musical rule
    (tempo range, styles, meters, tracks, keys, seeds...) is the engine's."""
    if not isinstance(body, dict):
        raise RequestError("the request body must be a JSON object", field="body")
    req = GenerationRequest()
    raw = None
    for name in ("chords", "progression", "chord_progression"):
        if body.get(name) not in (None, "", []):
            raw, req.source_field = body[name], name
            break
    if _song_fields(body, req, raw):
        pass
    elif raw is None:
        raise RequestError(
            "give the chords: 'chords' (a list like [\"C\", \"Am\", \"F\", \"G\"]), "
            "'progression' (text like \"| C Am | F G |\"), 'chord_progression' (\"C-Am-F-G\"), "
            "'song' (an iReal Pro link) or 'musicxml' (a lead sheet, base64)",
            field="chords",
        )
    elif isinstance(raw, list):
        bad = next((i for i, c in enumerate(raw) if not (isinstance(c, str) and c.strip())), None)
        if bad is not None:
            raise RequestError(f"{req.source_field}[{bad}] must be a chord symbol (a text)",
                               field=req.source_field, value=_jsonable(raw[bad]), index=bad)
        req.chords = [c.strip() for c in raw]
    elif isinstance(raw, str):
        req.chords = _split_dash(raw)
        req.text = None if req.chords else raw
    else:
        raise RequestError(f"{req.source_field} must be a list of chord symbols or a text",
                           field=req.source_field, value=_jsonable(raw))
    if req.chords is not None and len(req.chords) > MAX_CHORDS:
        raise RequestError(f"at most {MAX_CHORDS} chords", field=req.source_field)
    if req.text is not None and len(req.text) > 8 * MAX_CHORDS:
        raise RequestError("progression text too long", field=req.source_field)

    renames = {"progression": req.source_field}
    tempo_name, tempo = _first(body, "bpm", "tempo")
    tracks_name, tracks = _first(body, "tracks", "track_types")
    meter_name, meter = _first(body, "meter", "time_signature")
    renames.update(tempo=tempo_name, tracks=tracks_name, meter=meter_name)
    req.renames = renames
    song = req.song is not None or req.musicxml is not None  # a song brings its tempo and style
    req.tempo = (None if song else 120) if tempo is None else tempo
    if isinstance(tracks, list):  # the plugins' own names for the tracks
        tracks = [TRACK_ALIASES.get(t.lower(), t) if isinstance(t, str) else t for t in tracks]
    req.tracks = tracks
    req.meter = meter
    req.style = body.get("style", None if song else "pop")
    req.seed = body.get("seed", 0)
    req.repeat = body.get("repeat", 1)
    req.key = body.get("key") or None
    req.duration = _number(body, ("duration",), None, 1, 4096)
    req.options = {name: body[name] for name in OPTIONS if body.get(name) is not None}
    if req.duration is not None and "ending" not in req.options:
        # A plugin asking for so many beats gets exactly that: a loop (no tonic tag bar after it)
        req.options["ending"] = False
    rid = body.get("request_id") or body.get("id")
    req.request_id = str(rid)[:64] if rid is not None else None
    return req


def clean_meta(meta) -> dict:
    """The ``meta`` of ``POST /api/publish`` (what a sidecar says), checked before anything is
    written or announced: known fields of the right types only."""
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise RequestError("meta must be an object", field="meta", value=_jsonable(meta))
    out: dict = {}
    texts = ("progression", "key", "key_name", "meter", "style")
    numbers = ("tempo", "length_beats")
    whole = ("seed", "bars")
    for name in texts:
        if meta.get(name) is not None:
            if not isinstance(meta[name], str) or len(meta[name]) > 4096:
                raise RequestError(f"meta.{name} must be a text", field=f"meta.{name}")
            out[name] = meta[name]
    for name in numbers + whole:
        value = meta.get(name)
        if value is not None:
            ok = isinstance(value, int | float) and not isinstance(value, bool) and \
                math.isfinite(value) and (name not in whole or float(value).is_integer())
            if not ok:
                raise RequestError(f"meta.{name} must be a number", field=f"meta.{name}",
                                   value=_jsonable(value))
            out[name] = value
    tracks = meta.get("tracks")
    if tracks is not None:
        if not isinstance(tracks, list) or not all(isinstance(t, str) for t in tracks):
            raise RequestError("meta.tracks must be a list of track names", field="meta.tracks")
        out["tracks"] = tracks[:64]
    chords = meta.get("chords")
    if chords is not None:
        if not isinstance(chords, list) or len(chords) > 64 * MAX_CHORDS:
            raise RequestError("meta.chords must be a list of chords", field="meta.chords")
        out["chords"] = [_clean_chord(c, i) for i, c in enumerate(chords)]
    return out


def _clean_chord(chord, i: int) -> dict:
    """A chord of meta.chords: a symbol, or {"symbol", "bar", "start", "duration"}."""
    if isinstance(chord, str):
        chord = {"symbol": chord}
    if not isinstance(chord, dict) or not isinstance(chord.get("symbol"), str):
        raise RequestError(f"meta.chords[{i}] must be a chord symbol or an object with a "
                           "'symbol' text", field="meta.chords", index=i)
    out = {"symbol": chord["symbol"][:64]}
    for name in ("bar", "start", "duration"):
        value = chord.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or not math.isfinite(value)):
            raise RequestError(f"meta.chords[{i}].{name} must be a number",
                               field="meta.chords", index=i)
        out[name] = value
    return out


def _chord_position(req: GenerationRequest, symbol, bar):
    """(index, bar) of the first chord the engine cannot read."""
    wb = _wb()
    items = req.chords
    if items is None:
        items = [t for t in re.split(r"[\s|,]+", req.text or "") if t and t not in ("%", "-")]
    index = None
    for i, item in enumerate(items):
        if symbol is not None and item == symbol:
            index = i
            break
        try:
            wb.parse_chord(item)
        except Exception:
            index = i
            break
    if bar is None and req.chords is not None and index is not None:
        bar = index + 1
    if symbol is None and index is not None:
        symbol = items[index]
    return index, bar, symbol


# ---------------------------------------------------------------------------- the engine run
def arrangement_meta(arr, request: GenerationRequest | None = None) -> dict:
    """The sidecar of a generation: chords, key, tempo, meter, style, seed (+ files, added later)."""
    key = getattr(arr, "key", None)
    chords = []
    for ev in getattr(arr, "chords", None) or []:
        chord = getattr(ev, "chord", None)
        chords.append({
            "symbol": getattr(chord, "symbol", str(chord)),
            "bar": getattr(ev, "bar", None),
            "start": getattr(ev, "start", None),
            "duration": getattr(ev, "duration", None),
        })
    prog = getattr(arr, "progression", None)
    text = None
    if prog is not None:
        try:
            text = prog.to_text()
        except Exception:
            text = getattr(prog, "text", None)
    tempo = float(getattr(arr, "tempo", 0) or 0)
    meta = {
        "chords": chords,
        "progression": text,
        "key": getattr(key, "short", str(key)) if key is not None else None,
        "key_name": getattr(key, "name", None),
        "tempo": int(tempo) if tempo.is_integer() else tempo,
        "meter": getattr(arr, "meter", None),
        "style": getattr(arr, "style", None),
        "seed": getattr(arr, "seed", None),
        "bars": getattr(arr, "bars", None),
        "length_beats": getattr(arr, "length_beats", None),
        "tracks": list(getattr(arr, "tracks", {}) or {}),
    }
    if request is not None:
        meta["request"] = {
            "chords": request.chords, "progression": request.text, "key": request.key,
            "tempo": request.tempo, "style": request.style, "meter": request.meter,
            "seed": request.seed, "tracks": request.tracks, "repeat": request.repeat,
            **request.options,
        }
    return meta


def write_arrangement(arr, store: FileStore, request=None, sidecar=True) -> list[FileRecord]:
    """Write an Arrangement into the store's folder with the engine's atomic writer and index it
    (UnsafePath, before a byte is written, if a folder it needs is a link)."""
    store.check_dirs([*arr.tracks, "band"])
    paths = arr.write(store.folder, timestamp=store.next_timestamp())
    return store.add_files(paths, arrangement_meta(arr, request), sidecar=sidecar)


def _song_fields(body: dict, req: GenerationRequest, raw) -> bool:
    """Read ``song`` / ``musicxml`` (+ ``song_index``, ``choruses``); whether the request is one."""
    import base64
    import binascii

    given = [name for name in ("song", "musicxml") if body.get(name) not in (None, "")]
    if not given:
        return False
    if raw is not None or len(given) > 1:
        raise RequestError(f"give one source: {', '.join(given + ([req.source_field] if raw is not None else []))} "
                           "were all given", field=given[-1])
    name = req.source_field = given[0]
    value = body[name]
    if not isinstance(value, str):
        raise RequestError(f"{name} must be a text", field=name)
    if len(value) > MAX_SONG_CHARS:
        raise RequestError(f"{name} is longer than {MAX_SONG_CHARS} characters", field=name)
    if name == "song":
        req.song = value
    else:
        try:
            req.musicxml = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise RequestError("musicxml must be the file's bytes in base64", field=name) from None
    req.song_index = body.get("song_index")  # the engine checks it (pick_song)
    req.choruses = body.get("choruses")  # the engine checks it, as it does repeat
    return True


def _run_song(req: GenerationRequest, store: FileStore, sidecar=True) -> list[FileRecord]:
    """The engine reads the song (the playlist's ``song_index``) and plays its form."""
    wb = _wb()
    from workbench.song.sources import pick_song

    try:
        songs = wb.read_songs(req.musicxml if req.musicxml is not None else req.song, paths=False)
        song = pick_song(songs, req.song_index)
        arr = wb.generate(song, style=req.style, tracks=req.tracks, tempo=req.tempo, key=req.key,
                          seed=req.seed, meter=req.meter, repeat=req.repeat,
                          choruses=req.choruses, **req.options)
    except wb.SongError as exc:
        field = exc.field if exc.field not in (None, "song", "progression") else req.source_field
        raise RequestError(str(exc), error="bad song", field=field, value=_jsonable(exc.token),
                           bar=exc.bar, song=exc.song, song_index=exc.index) from None
    except WorkbenchError as exc:
        raise RequestError.from_engine(exc, req.renames) from None
    return _write(arr, store, req, sidecar)


def run_engine(req: GenerationRequest, store: FileStore, sidecar=True) -> list[FileRecord]:
    """Parse, generate, write, index. Runs in a worker thread. Raises RequestError."""
    wb = _wb()
    from workbench.band.styles import get_style

    if req.song is not None or req.musicxml is not None:
        return _run_song(req, store, sidecar)
    source = req.chords if req.chords is not None else req.text
    try:
        meter = req.meter
        if meter is None:  # 4/4 unless the style cannot play it (a waltz)
            meters = get_style(req.style).meters
            meter = "4/4" if "4/4" in meters else meters[0]
        prog = wb.parse_progression(source, meter=meter, key=req.key)
    except (wb.ProgressionError, wb.ChordError) as exc:
        raise _chord_error(req, exc) from None
    except WorkbenchError as exc:
        raise RequestError.from_engine(exc, req.renames) from None
    repeat = req.repeat
    if req.duration:
        per_pass = float(prog.bars) * float(prog.beats_per_bar)
        repeat = max(1, min(MAX_REPEAT, math.ceil(req.duration / per_pass)))
    kwargs = dict(style=req.style, tracks=req.tracks, tempo=req.tempo, key=req.key,
                  seed=req.seed, meter=meter, repeat=repeat, **req.options)
    try:
        arr = wb.generate(prog, **kwargs)
    except (wb.ProgressionError, wb.ChordError) as exc:
        raise _chord_error(req, exc) from None
    except WorkbenchError as exc:
        raise RequestError.from_engine(exc, req.renames) from None
    return _write(arr, store, req, sidecar)


def _write(arr, store: FileStore, req: GenerationRequest, sidecar: bool) -> list[FileRecord]:
    """Write and index a take; a full disk or an unsafe folder answered with its own status."""
    try:
        return write_arrangement(arr, store, req, sidecar=sidecar)
    except UnsafePath as exc:
        raise RequestError(str(exc), error="unsafe path", status=409) from None
    except OSError as exc:
        raise RequestError.from_os_error(exc) from None


def _chord_error(req: GenerationRequest, exc) -> RequestError:
    """A chord the engine could not read, with its bar and index in the request."""
    symbol = getattr(exc, "symbol", None)
    index, bar, symbol = _chord_position(req, symbol, getattr(exc, "bar", None))
    if isinstance(exc, WorkbenchError) and exc.field not in (None, "progression"):
        return RequestError.from_engine(exc, req.renames)  # e.g. an unknown meter
    return RequestError(
        str(exc) + (f" (chord {index + 1} of the request)" if index is not None else ""),
        error="bad chord", field=req.source_field, value=symbol, bar=bar, index=index,
    )


# ---------------------------------------------------------------------------- rate limit
class RateLimiter:
    """A token bucket per client (its peer address): ``rate`` generations per minute, bursts of
    ``burst``. At most ``max_buckets`` buckets: the least recently used goes first, one at a
    time (a flood of new clients cannot reset everybody's bucket at once)."""

    max_buckets = 4096

    def __init__(self, rate_per_minute: float, burst: int):
        self.rate = rate_per_minute / 60.0
        self.burst = max(1, burst)
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def check(self, client: str) -> float:
        """0 if allowed (and counted), else the seconds to wait."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic()
        tokens, last = self.buckets.pop(client, (float(self.burst), now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        allowed = tokens >= 1.0
        self.buckets[client] = (tokens - 1.0 if allowed else tokens, now)  # most recent last
        while len(self.buckets) > self.max_buckets:
            self._evict_one(now)
        return 0.0 if allowed else (1.0 - tokens) / self.rate

    def _evict_one(self, now: float) -> None:
        """Forget a bucket that has refilled (nothing lost) among the oldest 64, else the
        least recently used one."""
        for client, (tokens, last) in itertools.islice(self.buckets.items(), 64):
            if tokens + (now - last) * self.rate >= self.burst:
                del self.buckets[client]
                return
        self.buckets.popitem(last=False)

    def refund(self, client: str) -> None:
        """Give back the token of a request that turned out invalid (not charged)."""
        if client in self.buckets:
            tokens, last = self.buckets[client]
            self.buckets[client] = (min(self.burst, tokens + 1.0), last)


# ---------------------------------------------------------------------------- the generator
def file_event(rec: FileRecord, base_url: str) -> dict:
    d = rec.to_dict(base_url)
    return {k: d[k] for k in ("filename", "url", "url_path", "track_type", "key", "tempo",
                              "duration", "generation", "size", "path", "file_id")}


class Generator:
    def __init__(self, store: FileStore, hub: Hub, executor, rate_limit=60.0, rate_burst=10):
        self.store = store
        self.hub = hub
        self.executor = executor
        self.limiter = RateLimiter(rate_limit, rate_burst)
        self.count = 0
        self.pending_sidecars: set[str | None] = set()

    async def generate(self, body, client: str | None = None, requester=None) -> dict:
        """Validate, rate-limit, generate in the pool, announce. Returns the HTTP answer."""
        loop = asyncio.get_running_loop()
        if client is not None:
            wait = self.limiter.check(client)
            if wait > 0:
                raise RequestError(
                    f"too many generations from {client}; retry in {math.ceil(wait)} s",
                    error="rate limited", status=429, retry_after=math.ceil(wait),
                )
        try:
            req, records = await loop.run_in_executor(self.executor, self._work, body)
        except RequestError as exc:
            if client is not None and exc.status < 500:
                self.limiter.refund(client)  # an invalid request is not charged
            raise
        result = self.announce(records, request_id=req.request_id, requester=requester)
        if records:  # the sidecar after the announcement: plugins need not wait for its fsync
            gen = records[0].generation
            self.pending_sidecars.add(gen)
            loop.run_in_executor(self.executor, self._write_sidecar, gen)
        return result

    def retention(self, keep=()) -> list[str]:
        """Apply the store's retention (IOLoop thread); ``file_deleted`` for each file removed.
        ``keep``: generation ids never removed for the count (the one just announced)."""
        removed = self.store.retention_pass(keep=keep)
        trash = self.store.trash
        for rec in removed:
            moved = trash / rec.track_type / rec.filename
            where = str(moved.relative_to(self.store.folder)) if moved.is_relative_to(
                self.store.folder) else str(moved)
            self.hub.publish("file_deleted", filename=rec.filename, track_type=rec.track_type,
                             generation=rec.generation, reason="retention", trash=where)
        return [r.filename for r in removed]

    def _write_sidecar(self, gen: str | None) -> None:
        try:
            self.store.write_sidecar(gen)
        except OSError as exc:  # the files are announced; without a sidecar they are kept
            log.error("could not write the sidecar of %s: %s", gen, exc)  # (and never retained)
        finally:
            self.pending_sidecars.discard(gen)

    def flush_sidecars(self) -> None:
        """Write the sidecars still queued (at shutdown: the pool may drop queued work)."""
        for gen in list(self.pending_sidecars):
            self._write_sidecar(gen)

    def restore_history(self) -> int:
        """At start: a ``midi_ready`` (``"restored": true``) for every indexed file, oldest
        first, so a plugin reconnecting after a restart hears of every file that exists (what
        the history cannot hold is listed in its ``history_gap``). No plugin is connected yet."""
        base = self.store.base_url
        records = self.store.list()[1][::-1]
        for rec in records:
            rec.seq = self.hub.publish("midi_ready", **file_event(rec, base), restored=True)["seq"]
        return len(records)

    def _work(self, body):
        req = parse_request(body)
        return req, run_engine(req, self.store, sidecar=False)

    def announce(self, records: list[FileRecord], request_id=None, requester=None,
                 source: str = "service") -> dict:
        """Tell every plugin about new files (IOLoop thread). Returns the generation summary."""
        self.count += 1
        base = self.store.base_url
        files = [file_event(r, base) for r in records]
        gen_id = records[0].generation if records else None
        meta = self.store.generation(gen_id) or {}
        with self.hub.batch():  # one write per plugin for the whole announcement
            return self._announce(records, files, gen_id, meta, request_id, requester)

    def _announce(self, records, files, gen_id, meta, request_id, requester) -> dict:
        for rec, f in zip(records, files, strict=True):
            rec.seq = self.hub.publish("midi_ready", **f)["seq"]
        by_track = {f["track_type"]: f for f in files}
        summary = {
            "generation": gen_id,
            "request_id": request_id,
            "requested_by": requester,
            "key": meta.get("key"),
            "tempo": meta.get("tempo"),
            "meter": meta.get("meter"),
            "style": meta.get("style"),
            "seed": meta.get("seed"),
            "bars": meta.get("bars"),
            "length_beats": meta.get("length_beats"),
            "chords": [c["symbol"] for c in meta.get("chords", [])],
            "bass_file": by_track.get("bass", {}).get("filename"),
            "drum_file": by_track.get("drums", {}).get("filename"),
            "band_file": by_track.get("band", {}).get("filename"),
        }
        self.hub.publish("files_ready", generation=gen_id, count=len(files), files=files)
        done = self.hub.publish("generation_complete", **summary, files=[f["filename"] for f in files])
        tracks = ", ".join(f["track_type"] for f in files if f["track_type"] != "band")
        self.hub.publish(
            "notification", level="info", generation=gen_id,
            message=f"New band {' '.join(summary['chords'])} in {summary['key']} at "
                    f"{summary['tempo']} bpm: {tracks}",
        )
        self.retention(keep=(gen_id,) if gen_id else ())
        return {"success": True, "status": "success", **summary, "files": files,
                "seq": done["seq"], "bass_url": by_track.get("bass", {}).get("url"),
                "drum_url": by_track.get("drums", {}).get("url")}
