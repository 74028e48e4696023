"""The pad (strings, warm synth, organ): the chord held, as an open (drop-2) voicing led
smoothly from the last one; re-struck every bar when the density is high. A repeated chord
(``| C | % |``) is tied over, as strings would bow on, unless the pad re-strikes anyway."""

from __future__ import annotations

from workbench.band.common import EPS, lead, shape
from workbench.instruments import REGISTERS

WINDOW = REGISTERS["pad"]
CENTER = 62.0
VELOCITY = {"ballad": 62, "swing": 50, "bossa": 52, "reggae": 56, "funk": 66, "rock": 64}


def play(ctx, rng, style) -> list:
    out: list = []
    add = out.append
    prev = None
    lo, hi = WINDOW
    base_vel = VELOCITY.get(style.name, 60)
    restrike = ctx.density > 0.65
    bpb = ctx.bpb
    held = None  # (index in out of the last chord's notes, how many) while it may be tied on
    for ev in ctx.events:
        if ev.nc:
            held = None
            continue
        final = ctx.final(ev)
        if held is not None and not restrike and not final and ev.chord == ev.prev.chord:
            first, count = held
            for i in range(first, first + count):  # tie: the same notes ring on
                p, s, _, v = out[i]
                out[i] = (p, s, ev.end, v)
            continue
        sh = shape(ev.chord)
        v = lead(prev, sh.voicing_pcs(False), lo, hi, CENTER, drop2=True)
        prev = v
        cuts = [ev.start]
        if restrike and not final:
            b = int((ev.start + EPS) // bpb) + 1
            while b * bpb < ev.end - EPS:
                cuts.append(b * bpb)
                b += 1
        cuts.append(ev.end)
        for i in range(len(cuts) - 1):
            vel = base_vel + (4 if i == 0 else 0) + int(rng.random() * 6)
            for p in v:
                add((p, cuts[i], cuts[i + 1], vel))
        held = (len(out) - len(v), len(v))
    return out
