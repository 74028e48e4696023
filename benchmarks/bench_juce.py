"""Benchmarks of the JUCE module, through ``aiband_probe`` (juce/build/; built by ``make juce``).

    .venv/bin/python benchmarks/bench_juce.py [--runs 20] [--quick]

* ready:   a notebook publishes 32 bars x 5 tracks (+ the band file); the probe reads (from the
           service's folder when it is on this machine, as here) or downloads (--http-only, a
           DAW on another machine: the generation as one ZIP; --no-zip: file by file) and parses every file and hands the generation to
           GenerationPlayer. Figures: from the
           probe receiving the first ``midi_ready`` to the hand-over (the probe's own clock),
           and from the service announcing it (event ``time``) to the hand-over (wall clocks of
           one machine). Target <= 20 ms.
* player:  GenerationPlayer.process on that generation, 512-sample blocks at 48 kHz, 5 tracks,
           timed inside the probe around each call. Target <= 10 us per block.
* fanout:  10 probes connected; a publish; the time from the announcement until the last of
           them has the generation ready for its audio thread (folder, HTTP as one ZIP, HTTP file
           by file). Target <= 50 ms.

The service runs in this process (its own thread and loop, as in a notebook); the probes are
separate processes. Loopback only.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "juce"))

from juce_probe import Probe, build_probe  # noqa: E402
from server_testlib import settings_for  # noqa: E402

import workbench  # noqa: E402
from server.kernel import run_service  # noqa: E402

CHORDS = ["C", "Am", "F", "G", "Em", "A7", "Dm7", "G7"] * 4  # 32 bars (the arranger may add an intro)


def band(seed: int):
    return workbench.generate(CHORDS, style="pop", tempo=120, key="C", seed=seed)


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def summary(name, values, unit="ms", target=None):
    line = (f"{name:<44} median {statistics.median(values):7.2f} {unit}   p95 {pct(values, 0.95):7.2f}"
            f" {unit}   max {max(values):7.2f} {unit}   (n={len(values)})")
    if target is not None:
        line += f"   target <= {target} {unit}: {'ok' if pct(values, 0.95) <= target else 'MISSED'}"
    print(line, flush=True)


def publish_and_wait(svc, probes, seed):
    arr = band(seed)
    records = svc.publish(arr)
    generation = records[0]["generation"]
    readies = [p.wait_for(lambda x, g=generation: x.get("ready") == g, 30, "ready") for p in probes]
    announced = min(e["time"] for e in probes[0].events("midi_ready") if e["generation"] == generation)
    for ready in readies:
        assert ready["tracks"] == 5 and ready["length_beats"] == arr.length_beats, ready
    return records, readies, announced


def probe_args(how: str) -> list[str]:
    """The probe's flags for each way of getting the files."""
    return {"from the folder": [], "over HTTP": ["--http-only"],
            "over HTTP, file by file": ["--http-only", "--no-zip"]}[how]


def bench_ready(svc, runs, how="from the folder"):
    probe = Probe(svc.url.replace("http://", "ws://"), "bench-ready", *probe_args(how))
    try:
        probe.wait_for(lambda x: x.get("state") == "connected", 30, "connection")
        publish_and_wait(svc, [probe], 999)  # warm-up
        client_ms, wall_ms = [], []
        for seed in range(runs):
            _, (ready,), announced = publish_and_wait(svc, [probe], seed)
            client_ms.append(ready["ms"])
            wall_ms.append((ready["t"] - announced) * 1000)
        summary(f"ready ({how}): first midi_ready -> player", client_ms, target=20)
        summary(f"ready ({how}): announced -> player", wall_ms, target=20)
    finally:
        probe.stop()


def bench_player(svc, runs):
    times, busy, maxima = [], [], []
    for seed in range(max(3, runs // 4)):
        probe = Probe(svc.url.replace("http://", "ws://"), f"bench-player-{seed}", "--expect", "6",
                      "--timeout", "60", "--simulate-beats", "512", "--block", "512",
                      "--sample-rate", "48000")
        try:
            probe.wait_for(lambda x: x.get("state") == "connected", 30, "connection")
            svc.publish(band(100 + seed))
            sim = probe.wait_for(lambda x: "simulation" in x, 60, "simulation")["simulation"]
            assert sim["hanging_notes"] == 0
            assert sim["midi_events"] > 1000, sim
            times.append(sim["us_per_block"])
            busy.append(sim["us_per_block_with_events"])
            maxima.append(sim["us_per_block_max"])
        finally:
            probe.stop()
    blocks = sim["blocks"]
    summary(f"player: mean per 512-sample block ({blocks}/run)", times, "us", target=10)
    summary("player: mean per block with MIDI events in it", busy, "us", target=10)
    summary("player: slowest block of a run", maxima, "us")


def bench_fanout(svc, runs, count=10, how="from the folder"):
    probes = [Probe(svc.url.replace("http://", "ws://"), f"bench-fan-{i}", *probe_args(how))
              for i in range(count)]
    try:
        for p in probes:
            p.wait_for(lambda x: x.get("state") == "connected", 30, "connection")
        publish_and_wait(svc, probes, 998)  # warm-up
        last, first = [], []
        for seed in range(max(3, runs // 2)):
            _, readies, announced = publish_and_wait(svc, probes, 200 + seed)
            last.append((max(r["t"] for r in readies) - announced) * 1000)
            first.append((min(r["t"] for r in readies) - announced) * 1000)
        summary(f"fanout ({how}): announced -> last of {count} ready", last, target=50)
        summary(f"fanout ({how}): announced -> first of {count} ready", first)
    finally:
        for p in probes:
            p.stop()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="5 runs")
    ap.add_argument("which", nargs="*", default=["ready", "player", "fanout"])
    args = ap.parse_args(argv)
    runs = 5 if args.quick else args.runs
    build_probe()
    with tempfile.TemporaryDirectory() as tmp:
        svc = run_service(settings_for(Path(tmp) / "band"))
        try:
            for name in args.which:
                if name == "ready":
                    for how in ("from the folder", "over HTTP", "over HTTP, file by file"):
                        bench_ready(svc, runs, how)
                elif name == "player":
                    bench_player(svc, runs)
                elif name == "fanout":
                    for how in ("from the folder", "over HTTP", "over HTTP, file by file"):
                        bench_fanout(svc, runs, how=how)
                else:
                    ap.error(f"unknown benchmark {name!r}: ready, player, fanout")
        finally:
            svc.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
