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
import math
import re
import time
from dataclasses import dataclass, field
from functools import lru_cache

from .hub import Hub
from .store import FileRecord, FileStore

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
        self.body = {"error": error, "detail": detail}
        if field is not None:
            self.body["field"] = field
        if value is not None:
            self.body["value"] = value
        if valid is not None:
            self.body["valid"] = list(valid)
        self.body.update({k: v for k, v in extra.items() if v is not None})


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
    chords: list[str] | None = None  # one symbol per bar (the original API)
    text: str | None = None  # bar notation "| C Am | F G |"
    tempo: float = 120.0
    key: str | None = None
    tracks: list[str] | None = None
    style: str = "pop"
    meter: str | None = None
    seed: int = 0
    repeat: int = 1
    duration: float | None = None  # beats wanted (the plugin's generate_request)
    options: dict = field(default_factory=dict)
    request_id: str | None = None
    source_field: str = "chords"
    song: str | None = None  # an iReal Pro link (or playlist), a song in bar notation
    musicxml: bytes | None = None  # a MusicXML / .mxl lead sheet (base64 in the JSON)
    song_index: int | None = None  # which song of a playlist (0-based)
    choruses: int | None = None  # times the song's form is played (default: repeat)


def _number(body, names, default, lo, hi, kind=float):
    for name in names:
        if name in body and body[name] is not None:
            value = body[name]
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise RequestError(f"{name} must be a number", field=name, value=value)
            try:
                num = kind(float(value)) if kind is int else float(value)
            except (TypeError, ValueError):
                raise RequestError(f"{name} must be a number, got {value!r}", field=name,
                                   value=value) from None
            if not (lo <= num <= hi) or (isinstance(num, float) and math.isnan(num)):
                raise RequestError(f"{name} {value} outside {lo}–{hi}", field=name, value=value,
                                   valid=[lo, hi])
            return num
    return default


def _split_dash(text: str) -> list[str] | None:
    """'C-Am-F-G' (the plugin's chord_progression) → ['C', 'Am', 'F', 'G']."""
    if "|" in text or re.search(r"\s", text.strip()):
        return None
    parts = [p for p in text.split("-") if p]
    return parts if len(parts) > 1 else None


def parse_request(body) -> GenerationRequest:
    """Validate the JSON of a generation request (cheap checks; the engine does the rest)."""
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
        if not raw or not all(isinstance(c, str) and c.strip() for c in raw):
            bad = next((i for i, c in enumerate(raw) if not (isinstance(c, str) and c.strip())), 0)
            raise RequestError(f"{req.source_field}[{bad}] must be a chord symbol (a string)",
                               field=req.source_field, value=raw[bad] if raw else None, index=bad)
        req.chords = [c.strip() for c in raw]
    elif isinstance(raw, str):
        dashed = _split_dash(raw)
        if dashed:
            req.chords = dashed
        else:
            req.text = raw
    else:
        raise RequestError(f"{req.source_field} must be a list of chord symbols or a text",
                           field=req.source_field, value=raw)
    if req.chords is not None and len(req.chords) > MAX_CHORDS:
        raise RequestError(f"at most {MAX_CHORDS} chords", field=req.source_field)
    if req.text is not None and len(req.text) > 8 * MAX_CHORDS:
        raise RequestError("progression text too long", field=req.source_field)

    song = req.song is not None or req.musicxml is not None  # a song brings its tempo and style
    req.tempo = _number(body, ("bpm", "tempo"), None if song else 120.0, 20, 300)
    req.seed = _number(body, ("seed",), 0, 0, 2**31 - 1, kind=int)
    req.repeat = _number(body, ("repeat",), 1, 1, MAX_REPEAT, kind=int)
    req.duration = _number(body, ("duration",), None, 1, 4096)

    tracks = body.get("tracks", body.get("track_types"))
    tname = "tracks" if "tracks" in body else "track_types"
    valid = valid_tracks()
    if tracks is not None:
        if isinstance(tracks, str):
            tracks = [t for t in re.split(r"[,\s]+", tracks) if t]
        if not isinstance(tracks, list) or not tracks:
            raise RequestError(f"{tname} must be a non-empty list of track names", field=tname,
                               value=tracks, valid=valid)
        clean = []
        for t in tracks:
            name = TRACK_ALIASES.get(str(t).lower(), str(t).lower())
            if name not in valid:
                raise RequestError(f"unknown track {t!r}; valid tracks: {', '.join(valid)}",
                                   field=tname, value=t, valid=valid)
            if name not in clean:
                clean.append(name)
        req.tracks = clean

    styles = style_infos()
    style = body.get("style", None if song else "pop")
    if (style is not None or not song) and (not isinstance(style, str) or style not in styles):
        raise RequestError(f"unknown style {style!r}; valid styles: {', '.join(styles)}",
                           field="style", value=style, valid=list(styles))
    req.style = style

    meter = body.get("meter") or body.get("time_signature")
    if meter is not None:
        meters = tuple(getattr(styles.get(style), "meters", ()) or ())
        if not isinstance(meter, str) or (meters and meter not in meters):
            raise RequestError(f"meter {meter!r} not supported by style {style!r}; valid: "
                               f"{', '.join(meters)}", field="meter", value=meter, valid=meters)
        req.meter = meter

    key = body.get("key")
    if key is not None and key != "":
        if not isinstance(key, str) or len(key) > 16:
            raise RequestError("key must be a text like 'C', 'Am', 'Bb major'", field="key",
                               value=key)
        try:
            _wb().parse_key(key)
        except (ValueError, KeyError) as exc:
            raise RequestError(f"unknown key {key!r}: {exc}", field="key", value=key) from None
        req.key = key

    for name in ("swing", "humanize", "intensity"):
        if body.get(name) is not None:
            req.options[name] = _number(body, (name,), None, 0, 1)
    if body.get("count_in") is not None:
        req.options["count_in"] = bool(body["count_in"])
    if body.get("ending") is not None:
        req.options["ending"] = bool(body["ending"])
    for name in ("instruments", "levels", "density"):
        if body.get(name) is not None:
            if not isinstance(body[name], dict):
                raise RequestError(f"{name} must be an object {{track: value}}", field=name)
            req.options[name] = body[name]
    rid = body.get("request_id") or body.get("id")
    req.request_id = str(rid)[:64] if rid is not None else None
    return req


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
    """Write an Arrangement into the store's folder with the engine's atomic writer and index it."""
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
    req.song_index = _number(body, ("song_index",), None, 0, 100000, kind=int)
    req.choruses = _number(body, ("choruses",), None, 1, MAX_REPEAT, kind=int)
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
        raise RequestError(str(exc), error="bad song", field=field, value=exc.token, bar=exc.bar,
                           song=exc.song, song_index=exc.index) from None
    except ValueError as exc:
        raise RequestError(str(exc), field=getattr(exc, "field", None),
                           value=getattr(exc, "value", None)) from None
    return write_arrangement(arr, store, req, sidecar=sidecar)


def run_engine(req: GenerationRequest, store: FileStore, sidecar=True) -> list[FileRecord]:
    """Parse, generate, write, index. Runs in a worker thread. Raises RequestError."""
    wb = _wb()
    if req.song is not None or req.musicxml is not None:
        return _run_song(req, store, sidecar)
    source = req.chords if req.chords is not None else req.text
    meter = req.meter
    if meter is None:  # 4/4 unless the style cannot play it (a waltz)
        meters = tuple(getattr(style_infos().get(req.style), "meters", ()) or ())
        meter = "4/4" if not meters or "4/4" in meters else meters[0]
    try:
        prog = wb.parse_progression(source, meter=meter, key=req.key)
    except (wb.ProgressionError, wb.ChordError) as exc:
        symbol = getattr(exc, "symbol", None)
        index, bar, symbol = _chord_position(req, symbol, getattr(exc, "bar", None))
        raise RequestError(
            str(exc) + (f" (chord {index + 1} of the request)" if index is not None else ""),
            error="bad chord", field=req.source_field, value=symbol, bar=bar, index=index,
        ) from None
    repeat = req.repeat
    if req.duration:
        per_pass = float(getattr(prog, "bars", 1) or 1) * float(
            getattr(prog, "beats_per_bar", 4) or 4
        )
        repeat = max(1, min(MAX_REPEAT, math.ceil(req.duration / per_pass)))
    kwargs = dict(style=req.style, tracks=req.tracks, tempo=req.tempo, key=req.key,
                  seed=req.seed, meter=meter, **req.options)
    if repeat != 1:
        kwargs["repeat"] = repeat
    try:
        arr = wb.generate(prog, **kwargs)
    except (wb.ProgressionError, wb.ChordError) as exc:
        raise RequestError(str(exc), error="bad chord", field=req.source_field,
                           value=getattr(exc, "symbol", None), bar=getattr(exc, "bar", None)) from None
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        fieldname = next((f for f in ("style", "meter", "tempo", "key", "track", "swing",
                                      "humanize", "intensity", "instrument", "level", "density")
                          if f in msg.lower()), None)
        fieldname = {"track": "tracks", "instrument": "instruments", "level": "levels"}.get(
            fieldname, fieldname)
        raise RequestError(msg, field=fieldname) from None
    return write_arrangement(arr, store, req, sidecar=sidecar)


# ---------------------------------------------------------------------------- rate limit
class RateLimiter:
    """A token bucket per client: ``rate`` generations per minute, bursts of ``burst``."""

    def __init__(self, rate_per_minute: float, burst: int):
        self.rate = rate_per_minute / 60.0
        self.burst = max(1, burst)
        self.buckets: dict[str, tuple[float, float]] = {}

    def check(self, client: str) -> float:
        """0 if allowed (and counted), else the seconds to wait."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic()
        tokens, last = self.buckets.get(client, (float(self.burst), now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self.buckets[client] = (tokens - 1.0, now)
            if len(self.buckets) > 10000:
                self.buckets.clear()
            return 0.0
        self.buckets[client] = (tokens, now)
        return (1.0 - tokens) / self.rate


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
        req, records = await loop.run_in_executor(self.executor, self._work, body)
        result = self.announce(records, request_id=req.request_id, requester=requester)
        if records:  # the sidecar after the announcement: plugins need not wait for its fsync
            loop.run_in_executor(self.executor, self.store.write_sidecar, records[0].generation)
        return result

    def retention(self, keep=()) -> list[str]:
        """Apply the store's retention (IOLoop thread); ``file_deleted`` for each file removed.
        ``keep``: generation ids never removed for the count (the one just announced)."""
        removed = self.store.retention_pass(keep=keep)
        for rec in removed:
            self.hub.publish("file_deleted", filename=rec.filename, track_type=rec.track_type,
                             generation=rec.generation, reason="retention")
        return [r.filename for r in removed]

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
        for f in files:
            self.hub.publish("midi_ready", **f)
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
            "chords": [c.get("symbol") for c in meta.get("chords", [])],
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
