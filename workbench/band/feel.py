"""Feel: where each player sits against the grid, how the swing breathes with the tempo, which
hits are leaned on, and how loose the band plays by default.

Offsets are in milliseconds (a drummer's push or lay-back is a time, not a fraction of a beat)
and turned into beats at the take's tempo. ``humanize`` scales them: 0 is the exact grid, the
default (:data:`DEFAULT_HUMANIZE`) is the band's natural feel, 1 is loose. The random part is
drawn from the part's own seeded generator, so the same seed gives the same bytes.

>>> round(swing_for_tempo(0.62, 140, 140), 3), round(swing_for_tempo(0.62, 260, 140), 3)
(0.62, 0.341)
>>> offsets("swing", 120)["drums"][51] < 0 < offsets("swing", 120)["drums"][44]
True
"""

from __future__ import annotations

from typing import NamedTuple

from workbench.instruments import Drum as D

DEFAULT_HUMANIZE = 0.5
JITTER_MS = 12.0  # timing spread (+-) at humanize=1
MAX_JITTER = 0.019  # beats: jitter plus offset stay within 0.031 beats at humanize=1
MAX_OFFSET = 0.012  # beats
VEL_SPREAD = 14  # velocity spread (+-half) at humanize=1


class Timing(NamedTuple):
    """Milliseconds each player sits behind (+) or ahead of (-) the beat in one style."""

    bass: float
    keys: float
    pad: float
    guitar: float
    kick: float
    backbeat: float  # snare, side-stick, clap
    hat: float
    ride: float


TIMING = {
    "rock": Timing(bass=0, keys=4, pad=10, guitar=2, kick=0, backbeat=7, hat=0, ride=-3),
    "pop": Timing(bass=2, keys=3, pad=10, guitar=3, kick=0, backbeat=5, hat=-2, ride=-3),
    "ballad": Timing(bass=6, keys=5, pad=14, guitar=6, kick=2, backbeat=8, hat=0, ride=-2),
    "funk": Timing(bass=-3, keys=-2, pad=8, guitar=-2, kick=-2, backbeat=4, hat=-3, ride=-3),
    "swing": Timing(bass=-4, keys=6, pad=12, guitar=4, kick=0, backbeat=8, hat=2, ride=-6),
    "bossa": Timing(bass=0, keys=6, pad=12, guitar=3, kick=-2, backbeat=5, hat=-4, ride=-3),
    "shuffle": Timing(bass=2, keys=6, pad=10, guitar=4, kick=0, backbeat=9, hat=-2, ride=-4),
    "waltz": Timing(bass=0, keys=5, pad=12, guitar=3, kick=0, backbeat=8, hat=-3, ride=-2),
    "reggae": Timing(bass=8, keys=6, pad=12, guitar=5, kick=3, backbeat=10, hat=2, ride=0),
    "country": Timing(bass=-2, keys=2, pad=10, guitar=-2, kick=0, backbeat=4, hat=-2, ride=-3),
}

_BACKBEAT = (D.SNARE, D.SIDE_STICK, D.CLAP)
_HATS = (D.HAT, D.PEDAL_HAT, D.OPEN_HAT, D.TAMBOURINE)
_RIDES = (D.RIDE, D.RIDE_BELL)


def _beats(ms: float, tempo: float) -> float:
    b = ms * tempo / 60000.0
    return max(-MAX_OFFSET, min(MAX_OFFSET, b))


def offsets(style: str, tempo: float) -> dict:
    """Per part the offset in beats: a number for pitched parts, a dict by note for drums."""
    t = TIMING.get(style, TIMING["pop"])
    drums = {}
    for n in _BACKBEAT:
        drums[n] = _beats(t.backbeat, tempo)
    for n in _HATS:
        drums[n] = _beats(t.hat, tempo)
    for n in _RIDES:
        drums[n] = _beats(t.ride, tempo)
    drums[D.KICK] = _beats(t.kick, tempo)
    return {"bass": _beats(t.bass, tempo), "keys": _beats(t.keys, tempo),
            "pad": _beats(t.pad, tempo), "guitar": _beats(t.guitar, tempo), "drums": drums}


def jitter(humanize: float, tempo: float) -> float:
    """The +- spread of a note's timing in beats."""
    return min(JITTER_MS * tempo / 60000.0, MAX_JITTER) * humanize


def swing_for_tempo(default: float, tempo: float, default_tempo: float) -> float:
    """The style's swing at this tempo: as written at the style's tempo, straighter as it gets
    faster (a fast bebop line is nearly even), a touch deeper when slower (up to a triplet)."""
    if default <= 0:
        return default
    if tempo > default_tempo + 30:
        factor = 1.0 - (tempo - default_tempo - 30) / 200.0
    elif tempo < default_tempo - 30:
        factor = 1.0 + (default_tempo - 30 - tempo) / 200.0
    else:
        factor = 1.0
    factor = max(0.45, min(1.2, factor))
    out = default * factor
    return min(out, max(default, 2.0 / 3.0))


def accent(pos: float, bpb: float, change: bool) -> int:
    """Extra velocity of a comping hit at ``pos`` in the bar: the downbeat, a hit on a chord
    change and the anticipation into the next bar are leaned on; the rest stays as written."""
    if pos < 1e-6:
        return 6
    if change:
        return 5
    if abs(pos - (bpb - 0.5)) < 1e-6:
        return 4
    return 0
