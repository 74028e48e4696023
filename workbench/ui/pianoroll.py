"""Piano roll of an :class:`~workbench.arrangement.Arrangement`.

* :func:`roll_state` — the widget state (note arrays as bytes), pure and fast: no widgets.
* :func:`arrangement_svg` — a deterministic inline-SVG rendering (exported notebooks, README,
  nbval), same layout as the interactive one.
* :func:`arrangement_mimebundle` — what ``Arrangement._repr_mimebundle_`` returns: the live
  widget view when running in a kernel, plus ``text/html`` (the SVG) and ``text/plain``.
* :class:`PianoRoll` — the interactive anywidget (``pianoroll.js``): one colour per track,
  chord lane with symbols and roman numerals, bar/beat grid, one row per drum sound, zoom and
  scroll, a playhead driven by a :class:`~workbench.ui.player.Player` or by the DAW transport.
"""

from __future__ import annotations

import html
import logging
import uuid
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

HERE = Path(__file__).parent

TRACK_COLORS = {
    "bass": "#2563eb",
    "drums": "#475569",
    "keys": "#dc2626",
    "pad": "#16a34a",
    "guitar": "#d97706",
}
_SPARE_COLORS = ("#9333ea", "#0891b2", "#be185d", "#65a30d")
NOTE_FIELDS = 6    # start, end, pitch, velocity, track index, row


def beats_per_bar(meter: str) -> float:
    """Quarter-note beats in one bar of ``meter`` ("6/8" -> 3.0)."""
    num, den = (int(x) for x in str(meter).split("/"))
    return num * 4.0 / den


def track_color(name: str, index: int) -> str:
    return TRACK_COLORS.get(name, _SPARE_COLORS[index % len(_SPARE_COLORS)])


def section_starts(arrangement) -> dict[int, str]:
    """Bar (on the arrangement's timeline) → the section label that starts there, for songs: a
    new label, the same one in the next chorus, or the chart's next section of the same name
    (the second A of AABA). Read from the arranger's plan, so that an
    intro the band added is labelled and the sections after it sit where they are played."""
    shift = 1 if getattr(arrangement, "count_in", False) else 0
    out, before = {}, None
    for bar in getattr(arrangement, "plan", None) or ():
        here = (bar.section, bar.chorus, bar.kind)
        # a start with the same label, chorus and kind: the chart's next section of that name
        again = bar.section_start and here == before
        if bar.section and (here[:2] != (before or ())[:2] or again):
            out[bar.bar + shift] = bar.section
        before = here
    return out


def _roman(chord, key) -> str:
    if getattr(chord, "is_no_chord", False) or getattr(chord, "root", None) is None:
        return ""
    try:
        from workbench.keys import roman_numeral

        return str(roman_numeral(chord, key))
    except Exception:  # a chord the analysis can't name must not break the drawing
        log.debug("no roman numeral for %r", chord, exc_info=True)
        return ""


def _instrument(track) -> str:
    from workbench.instruments import program_name

    try:
        return program_name(int(track.program), bool(track.is_drum))
    except Exception:
        return f"program {track.program}"


def roll_state(arrangement) -> dict:
    """Everything the piano roll draws, as plain values (``notes`` as float32 bytes).

    Fields of ``notes``, per note: start, end (beats), pitch, velocity, track index, row
    (the pitch for pitched tracks; the drum row for drums).
    """
    from workbench.instruments import GM_DRUM_NAMES

    tracks = list(arrangement.tracks.values())
    drum_pitches = sorted({n.pitch for t in tracks if t.is_drum for n in t.notes}, reverse=True)
    drum_row = {p: i for i, p in enumerate(drum_pitches)}
    pitched = [n.pitch for t in tracks if not t.is_drum for n in t.notes]
    if pitched:
        lo, hi = max(0, min(pitched) - 2), min(127, max(pitched) + 2)
    else:
        lo, hi = 48, 72
    total = sum(len(t.notes) for t in tracks)
    arr = np.empty((total, NOTE_FIELDS), dtype=np.float32)
    i = 0
    meta = []
    for t_index, t in enumerate(tracks):
        k = len(t.notes)
        if k:
            block = np.array([(n.start, n.end, n.pitch, n.velocity) for n in t.notes],
                             dtype=np.float32)
            arr[i:i + k, :4] = block
            arr[i:i + k, 4] = t_index
            if t.is_drum:
                arr[i:i + k, 5] = [drum_row[n.pitch] for n in t.notes]
            else:
                arr[i:i + k, 5] = block[:, 2]
            i += k
        instrument = _instrument(t)
        meta.append({"name": t.name, "label": f"{t.name}: {instrument}", "instrument": instrument,
                     "program": int(t.program), "color": track_color(t.name, t_index),
                     "is_drum": bool(t.is_drum), "count": k})
    key = arrangement.key
    labels = section_starts(arrangement)
    chords = [{"symbol": ev.chord.symbol, "roman": _roman(ev.chord, key),
               "start": float(ev.start), "duration": float(ev.duration), "bar": int(ev.bar) + 1,
               "section": labels.pop(int(ev.bar), "")}
              for ev in arrangement.chords]
    bars = int(arrangement.bars)
    return {
        "notes": arr.tobytes(),
        "tracks": meta,
        "drum_rows": [{"pitch": int(p), "name": GM_DRUM_NAMES.get(p, f"Drum {p}")}
                      for p in drum_pitches],
        "chords": chords,
        "pitch_lo": int(lo),
        "pitch_hi": int(hi),
        "bars": bars,
        "beats_per_bar": beats_per_bar(arrangement.meter),
        "length_beats": float(arrangement.length_beats),
        "meter": str(arrangement.meter),
        "tempo": float(arrangement.tempo),
        "key_name": key.name,
        "title": title(arrangement),
    }


def title(arrangement) -> str:
    bars = int(arrangement.bars)
    return (f"{arrangement.style} · {arrangement.key.name} · {arrangement.tempo:g} bpm · "
            f"{arrangement.meter} · {bars} bar{'s' if bars != 1 else ''}")


def notes_array(state: dict) -> np.ndarray:
    """The note array of a :func:`roll_state` back as (n, 6) float32."""
    return np.frombuffer(state["notes"], dtype=np.float32).reshape(-1, NOTE_FIELDS)


# --------------------------------------------------------------------------------------------
# static SVG


def _f(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))


def arrangement_svg(arrangement, width: int = 960) -> str:
    """A deterministic inline SVG of the arrangement (same inputs, same text)."""
    s = roll_state(arrangement)
    notes = notes_array(s)
    gutter, ruler, lane, semi, drow, legend_h = 104, 16, 34, 3.0, 9.0, 20
    bpb = s["beats_per_bar"]
    length = max(s["length_beats"], s["bars"] * bpb, 1.0)
    ppb = (width - gutter - 4) / length
    top = legend_h + ruler + lane
    pitched_h = (s["pitch_hi"] - s["pitch_lo"] + 1) * semi if len(notes) else 0
    drums_top = top + pitched_h + (6 if pitched_h and s["drum_rows"] else 0)
    height = drums_top + len(s["drum_rows"]) * drow + 4
    esc = html.escape
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{_f(height)}" '
        f'viewBox="0 0 {width} {_f(height)}" role="img" font-family="sans-serif" '
        f'aria-label="Piano roll: {esc(s["title"])}">',
        f"<title>{esc(s['title'])}</title>",
        f'<rect width="{width}" height="{_f(height)}" fill="#fff" stroke="#cbd5e1"/>',
        f'<text x="6" y="14" font-size="12" font-weight="bold" fill="#1e293b">'
        f"{esc(s['title'])}</text>",
    ]
    x: float = gutter + 250
    for t in s["tracks"]:
        out.append(f'<rect x="{x}" y="5" width="9" height="9" fill="{t["color"]}"/>'
                   f'<text x="{x + 12}" y="13" font-size="10" fill="#334155">'
                   f'{esc(t["name"])} ({esc(t["instrument"])})</text>')
        x += 14 + 6.2 * (len(t["name"]) + len(t["instrument"]) + 3)
    X = lambda beat: gutter + beat * ppb  # noqa: E731
    out.append(f'<rect x="{gutter}" y="{legend_h + ruler}" width="{_f(width - gutter)}" '
               f'height="{lane}" fill="#f8fafc"/>')
    lo, hi = s["pitch_lo"], s["pitch_hi"]
    if pitched_h:
        for p in range(lo, hi + 1):
            if p % 12 in (1, 3, 6, 8, 10):
                out.append(f'<rect x="{gutter}" y="{_f(top + (hi - p) * semi)}" '
                           f'width="{_f(width - gutter)}" height="{_f(semi)}" fill="#f1f5f9"/>')
            if p % 12 == 0:
                out.append(f'<text x="{gutter - 28}" y="{_f(top + (hi - p) * semi + 3)}" '
                           f'font-size="9" fill="#334155">C{p // 12 - 1}</text>')
    for i, d in enumerate(s["drum_rows"]):
        y = drums_top + i * drow
        if i % 2 == 0:
            out.append(f'<rect x="{gutter}" y="{_f(y)}" width="{_f(width - gutter)}" '
                       f'height="{_f(drow)}" fill="#f8fafc"/>')
        out.append(f'<text x="4" y="{_f(y + drow - 1.5)}" font-size="8" fill="#334155">'
                   f'{esc(d["name"])}</text>')
    beat = 0.0
    while beat <= length + 1e-9:
        out.append(f'<line x1="{_f(X(beat))}" y1="{top}" x2="{_f(X(beat))}" y2="{_f(height)}" '
                   f'stroke="#e2e8f0" stroke-width="0.5"/>')
        beat += 1.0
    for bar in range(s["bars"] + 1):
        bx = X(bar * bpb)
        out.append(f'<line x1="{_f(bx)}" y1="{legend_h}" x2="{_f(bx)}" y2="{_f(height)}" '
                   f'stroke="#94a3b8" stroke-width="0.8"/>')
        if bar < s["bars"]:
            out.append(f'<text x="{_f(bx + 2)}" y="{legend_h + 11}" font-size="9" '
                       f'fill="#475569">{bar + 1}</text>')
    out.append(f'<text x="4" y="{legend_h + ruler + 14}" font-size="10" fill="#334155">'
               f"chords</text>")
    for c in s["chords"]:
        cx, cw = X(c["start"]), c["duration"] * ppb
        fill = "#e2e8f0" if c["symbol"] == "N.C." else "#e0e7ff"
        out.append(f'<rect x="{_f(cx + 1)}" y="{legend_h + ruler + 2}" '
                   f'width="{_f(max(1.0, cw - 2))}" height="{lane - 4}" fill="{fill}"/>')
        out.append(f'<text x="{_f(cx + 3)}" y="{legend_h + ruler + 14}" font-size="11" '
                   f'font-weight="bold" fill="#1e293b">{esc(c["symbol"])}</text>')
        if c.get("section"):
            out.append(f'<text class="wb-section" x="{_f(cx + 16)}" y="{legend_h + 11}" '
                       f'font-size="10" font-weight="bold" fill="#b45309">'
                       f'{esc(c["section"])}</text>')
        if c["roman"]:
            out.append(f'<text x="{_f(cx + 3)}" y="{legend_h + ruler + 28}" font-size="10" '
                       f'font-family="serif" fill="#4338ca">{esc(c["roman"])}</text>')
    tracks = s["tracks"]
    for t_index, t in enumerate(tracks):
        rows = notes[notes[:, 4] == t_index]
        if not len(rows):
            continue
        out.append(f'<g fill="{t["color"]}">')
        for start, end, _pitch, vel, _ti, row in rows.tolist():
            nx = X(start)
            if t["is_drum"]:
                ny, nh = drums_top + row * drow + 1, drow - 2
                nw = min(max(1.5, (end - start) * ppb), max(2.0, ppb / 4))
            else:
                ny, nh = top + (hi - row) * semi, semi
                nw = max(1.5, (end - start) * ppb - 0.5)
            op = 0.45 + 0.55 * vel / 127
            out.append(f'<rect x="{_f(nx)}" y="{_f(ny)}" width="{_f(nw)}" height="{_f(nh)}" '
                       f'fill-opacity="{op:.2f}"/>')
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)


def arrangement_text(arrangement) -> str:
    counts = ", ".join(f"{name} {len(t.notes)}" for name, t in arrangement.tracks.items())
    chords = " ".join(ev.chord.symbol for ev in arrangement.chords)
    return f"Arrangement({title(arrangement)}; notes: {counts}; chords: {chords})"


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    ip = get_ipython()
    return ip is not None and getattr(ip, "kernel", None) is not None


def arrangement_mimebundle(arrangement, include=None, exclude=None) -> dict:
    """The rich display of an Arrangement: the live PianoRoll widget view when a kernel is
    running (plus the static SVG as ``text/html`` and a ``text/plain`` summary)."""
    bundle = {
        "text/plain": arrangement_text(arrangement),
        "text/html": f'<div class="wb-roll-static">{arrangement_svg(arrangement)}</div>',
    }
    if _in_kernel():
        try:
            bundle.update(_widget_view(PianoRoll(arrangement), include, exclude))
        except Exception:  # the static rendering is always there
            log.warning("piano roll widget unavailable", exc_info=True)
    return bundle


def _widget_view(widget, include=None, exclude=None) -> dict:
    """The widget-view part of a widget's own mimebundle (no text/plain)."""
    view: Any = anywidget.AnyWidget._repr_mimebundle_(widget, include=include, exclude=exclude)
    if isinstance(view, tuple):
        view = view[0]
    return {mime: value for mime, value in (view or {}).items() if mime != "text/plain"}


# --------------------------------------------------------------------------------------------
# the widget

import anywidget  # noqa: E402  (after the pure helpers: they must not need it)
import traitlets  # noqa: E402


class PianoRoll(anywidget.AnyWidget):
    """Interactive piano roll. ``PianoRoll(arrangement)``; ``roll.arrangement = other``."""

    _esm = HERE / "pianoroll.js"
    _css = HERE / "workbench.css"

    notes = traitlets.Bytes(b"").tag(sync=True)
    tracks: traitlets.List = traitlets.List([]).tag(sync=True)
    drum_rows: traitlets.List = traitlets.List([]).tag(sync=True)
    chords: traitlets.List = traitlets.List([]).tag(sync=True)
    pitch_lo = traitlets.Int(48).tag(sync=True)
    pitch_hi = traitlets.Int(72).tag(sync=True)
    bars = traitlets.Int(0).tag(sync=True)
    beats_per_bar = traitlets.Float(4.0).tag(sync=True)
    length_beats = traitlets.Float(0.0).tag(sync=True)
    meter = traitlets.Unicode("4/4").tag(sync=True)
    tempo = traitlets.Float(120.0).tag(sync=True)
    key_name = traitlets.Unicode("").tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    zoom = traitlets.Float(1.0).tag(sync=True)
    autofit = traitlets.Bool(True).tag(sync=True)
    group = traitlets.Unicode("").tag(sync=True)
    follow_daw = traitlets.Bool(False).tag(sync=True)
    daw_beat = traitlets.Float(0.0).tag(sync=True)
    daw_playing = traitlets.Bool(False).tag(sync=True)

    def __init__(self, arrangement=None, **kwargs):
        kwargs.setdefault("group", uuid.uuid4().hex)
        if "zoom" in kwargs:
            kwargs.setdefault("autofit", False)
        super().__init__(**kwargs)
        self._arrangement = None
        if arrangement is not None:
            self.arrangement = arrangement

    @property
    def arrangement(self):
        return self._arrangement

    @arrangement.setter
    def arrangement(self, arrangement):
        self.show(roll_state(arrangement))
        self._arrangement = arrangement

    def show(self, state: dict) -> None:
        """Apply a :func:`roll_state` (one comm message)."""
        names = set(self.trait_names())
        with self.hold_sync():
            for name, value in state.items():
                if name in names:
                    setattr(self, name, value)

    def to_svg(self) -> str:
        return arrangement_svg(self._arrangement) if self._arrangement is not None else ""

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        # the live view, plus a deterministic static rendering for exports and nbval
        bundle = _widget_view(self, include, exclude)
        if self._arrangement is not None:
            bundle["text/plain"] = arrangement_text(self._arrangement)
            bundle["text/html"] = f'<div class="wb-roll-static">{self.to_svg()}</div>'
        else:
            bundle["text/plain"] = "PianoRoll(empty)"
            bundle["text/html"] = "<p>Piano roll: nothing generated yet.</p>"
        return bundle
