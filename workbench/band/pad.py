"""The pad (strings, warm synth, organ): the chord held, as an open (drop-2) voicing led
smoothly from the last one; re-struck every bar when the density is high. A repeated chord
(``| C | % |``) is tied over, as strings would bow on, unless the pad re-strikes anyway. The
arranger decides where the pad plays at all; it re-enters on a bar line when brought in."""

from __future__ import annotations

from workbench.band import endings
from workbench.band.common import EPS, lead, shape
from workbench.instruments import REGISTERS

WINDOW = (52, REGISTERS["pad"][1])  # above E3: the bass's octave stays the bass's
CENTER = 62.0
VELOCITY = {"ballad": 62, "swing": 50, "bossa": 52, "reggae": 56, "funk": 66, "rock": 64}


def play(ctx, rng, style) -> list:
    out: list = []
    add = out.append
    prev = None
    lo, hi = WINDOW
    base_vel = VELOCITY.get(style.name, 60)
    bpb = ctx.bpb
    plan = ctx.plan

    def enters(b):  # the pad comes in at this bar line (the arranger brings it in here)
        return 0 < b < len(plan) and "pad" in plan[b].plays and "pad" not in plan[b - 1].plays
    held = None  # (index in out of the last chord's notes, how many) while it may be tied on
    for ev in ctx.events:
        if ev.nc:
            held = None
            continue
        final = ctx.final(ev)
        hits = endings.hits_in(ctx, ev)
        if hits or (not final and ev.start >= ctx.groove_end - EPS):
            # the ending's kicks: the strings hit with the band and leave space between
            sh = shape(ev.chord)
            v = prev = lead(prev, sh.voicing_pcs(False), lo, hi, CENTER, drop2=True)
            for h in hits:
                hv = v if not h.slide else lead(v, shape(h.chord).voicing_pcs(False), lo, hi,
                                                CENTER, drop2=True)
                for p in hv:
                    add((p, h.at, h.end, base_vel + 10))
            if held is not None:  # a chord tied into the kicks lets go where they start
                first, count = held
                for i in range(first, first + count):
                    p, s, e, v2 = out[i]
                    out[i] = (p, s, min(e, ctx.groove_end), v2)
            held = None
            if ev.start >= ctx.groove_end - EPS:
                continue
        first_bar = int((ev.start + EPS) // bpb)
        restrike = ctx.bar_density(first_bar) > 0.65
        if (held is not None and not restrike and not final and ev.chord == ev.prev.chord
                and not enters(first_bar)):
            first, count = held
            for i in range(first, first + count):  # tie: the same notes ring on
                p, s, _, v = out[i]
                out[i] = (p, s, endings.groove_stop(ctx, ev), v)
            continue
        sh = shape(ev.chord)
        v = lead(prev, sh.voicing_pcs(False), lo, hi, CENTER, drop2=True)
        prev = v
        cuts = [ev.start]
        stop = endings.final_end(ctx, ev) if final else endings.groove_stop(ctx, ev)
        if not final:
            b = first_bar + 1
            while b * bpb < stop - EPS:
                if restrike or enters(b):
                    cuts.append(b * bpb)
                b += 1
        cuts.append(stop)
        for i in range(len(cuts) - 1):
            vel = base_vel + (4 if i == 0 else 0) + int(rng.random() * 6)
            if final:
                vel = endings.final_velocity(ctx, vel)
            for p in v:
                add((p, cuts[i], cuts[i + 1], vel))
        held = (len(out) - len(v), len(v))
    return out
