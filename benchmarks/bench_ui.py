"""UI speed: a control change -> generation + piano-roll widget state, for 32 bars x 5 tracks;
and audio rendering time, FluidSynth (one reused synthesizer) vs the built-in synthesiser.

    .venv/bin/python benchmarks/bench_ui.py [--repeat 30] [--json] [--browser [--clicks 20]]

``--browser`` also measures the whole path in the real app (``make app``'s launcher,
workbench.ui.voila_app with voila.json), Debian's Chromium driven by Playwright:

* page load -> usable: from ``goto`` to the piano roll drawn (the controls and Generate work),
  with the pool of pre-started kernels (voila.json: 2) and without (``--pool_size=0``);
* memory per visitor: the app's RSS (Voilà, kernels, sync service) with ``--visitors`` pages
  open, less the RSS with none, divided by their number (each visitor costs the kernel it got
  and the pool's refill);
* a click on "New variation" with 32 bars loaded, timed in the page until the piano roll is
  redrawn (kernel round trip, generation, widget state, comm message, canvas draw).

Budget (issue 4): control change -> generation and redraw <= 150 ms for 32 bars.
Budgets (issue 11): click Generate -> Play would sound <= 300 ms (32 bars x 5 tracks, and x 16);
compressed audio sent <= 1.5 MB per 32 bars.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_in_browser import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    PROGRESSION_32,
    app_rss_mb,
    click_to_redraw_ms,
    kernel_counts,
    voila_app,
)


def _median_ms(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), max(times)


def _page_with_32_bars(p, url: str, ready: str):
    """Chromium on the app, waited for ``ready``, with the 32-bar progression typed in and drawn."""
    browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(url, timeout=90_000)
    page.wait_for_selector(ready, timeout=90_000)
    page.locator(".wb-progression textarea").fill(PROGRESSION_32)
    page.wait_for_selector(".wb-roll[data-bars='32']", timeout=60_000)
    return browser, page


def browser_click_to_redraw(clicks: int) -> list[float]:
    """Milliseconds from a click on "New variation" to the redrawn roll, in the Voilà app."""
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="bench-ui-"))
    with voila_app(folder, folder / "voila.log") as app, sync_playwright() as p:
        browser, page = _page_with_32_bars(p, app["url"], ".wb-roll[data-ready='1']")
        page.get_by_role("tab", name="Feel & variation").click()
        times = click_to_redraw_ms(page, clicks)
        browser.close()
    return times


def _wait_counts(url, condition, timeout=180.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        counts = kernel_counts(url)
        if condition(counts) or time.monotonic() > deadline:
            return counts
        time.sleep(0.1)     # polling the server's kernel counts


def browser_load_and_memory(loads: int, visitors: int, pool: int | None) -> dict:
    """Page load -> usable (ms, each visit after the pool has refilled) and, with the pool,
    memory per visitor (MB)."""
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="bench-ui-"))
    args = [] if pool is None else [f"--pool_size={pool}"]
    out: dict = {}
    with voila_app(folder, folder / "voila.log", *args, "--WorkbenchVoila.max_kernels=0") as app, \
            sync_playwright() as p:
        url = app["url"]
        full = _wait_counts(url, lambda c: c["visitors"] == 0 and c["pooled"] >= (pool or 0)
                            and (pool is not None or c["pooled"] > 0))
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        times = []
        for _ in range(loads):
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            t0 = time.perf_counter()
            page.goto(url, timeout=90_000)
            page.wait_for_selector(".wb-roll[data-ready='1']", timeout=90_000)
            times.append((time.perf_counter() - t0) * 1000)
            page.close(run_before_unload=True)
            _wait_counts(url, lambda c: c["visitors"] == 0 and c["pooled"] == full["pooled"])
        out["load_ms"] = sorted(times)
        if visitors:
            base = app_rss_mb(app["pid"])
            pages = []
            for _ in range(visitors):
                page = browser.new_page(viewport={"width": 1280, "height": 1000})
                page.goto(url, timeout=90_000)
                page.wait_for_selector(".wb-roll[data-ready='1']", timeout=90_000)
                pages.append(page)
            _wait_counts(url, lambda c: c["visitors"] == visitors
                         and c["pooled"] == full["pooled"])
            out["mb_per_visitor"] = (app_rss_mb(app["pid"]) - base) / visitors
            out["rss_base_mb"] = base
            for page in pages:
                page.close(run_before_unload=True)
        browser.close()
    return out


# -- audio: sound at once, bytes sent, audio out (issue 11) ------------------------------------

def audio_stream_figures(arr_32, arr_512) -> dict:
    """Kernel side, no browser: time to the first streamed block (render + Ogg encode) at 32 and
    512 bars; the whole preview; Ogg Vorbis size and a rough quality figure per compression
    level; the audio files (mix + 5 stems, 44.1 kHz, loudness-normalised)."""
    import numpy as np
    import soundfile

    from workbench import audio

    out = {}
    audio.prepare(background=False)
    for label, arr in (("32", arr_32), ("512", arr_512)):
        t0 = time.perf_counter()
        s = audio.stream(arr)
        first = audio.encode(audio.preview_level(next(s.blocks), s.engine), s.sample_rate, "ogg")
        out[f"first_block_ms_{label}"] = (time.perf_counter() - t0) * 1000
        out["engine"] = s.engine
        if label == "32":
            blocks = [first]
            raw = []
            for block in s.blocks:
                raw.append(audio.preview_level(block, s.engine))
                blocks.append(audio.encode(raw[-1], s.sample_rate, "ogg"))
            out["preview_s_32"] = time.perf_counter() - t0
            out["preview_bytes_32"] = sum(map(len, blocks))
            out["preview_seconds_32"] = s.duration
        else:
            s.blocks.close()
        audio.prepare(background=False)
    # size against quality: waveform signal-to-noise of the decoded preview (a rough figure for
    # a perceptual codec: it counts inaudible error too)
    whole = np.concatenate(list(audio.stream(arr_32).blocks))
    whole = audio.preview_level(whole, "fluidsynth")
    levels = {}
    for level in (0.3, 0.5, 0.7):
        pieces, pos = [], 0
        for end in audio.block_bounds(len(whole), audio.SAMPLE_RATE):
            pieces.append(audio.encode(whole[pos:end], audio.SAMPLE_RATE, "ogg", quality=level))
            pos = end
        decoded = np.concatenate([soundfile.read(io.BytesIO(p), dtype="float32")[0]
                                  for p in pieces])
        noise = float(np.mean((decoded - whole) ** 2))
        snr = 10 * np.log10(float(np.mean(whole ** 2)) / max(noise, 1e-20))
        size = sum(map(len, pieces))
        levels[str(level)] = {"bytes": size, "kbps": size * 8 / 1000 / (len(whole) / 22050),
                              "snr_db": snr}
    out["ogg_levels_32"] = levels
    out["wav_bytes_32_uncompressed"] = len(audio.wav_bytes(whole, audio.SAMPLE_RATE))
    t0 = time.perf_counter()
    mix = audio.mixdown(arr_32)
    out["mixdown_s_32"] = time.perf_counter() - t0
    out["mixdown_lufs"] = mix.loudness
    out["mixdown_peak_limited"] = mix.peak_limited
    return out


def browser_click_to_playable(clicks: int) -> dict:
    """In the Voilà app in Chromium: Generate -> data-audio="playable" and -> "ready" (ms), and
    the compressed bytes the page received, at 32 bars x 5 tracks and at 32 bars x 16."""
    from app_in_browser import click_to_playable
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="bench-audio-"))
    result = {}
    with voila_app(folder, folder / "voila.log") as app, sync_playwright() as p:
        browser, page = _page_with_32_bars(p, app["url"], ".wb-player[data-audio='ready']")
        result["32"] = [click_to_playable(page) for _ in range(clicks)]
        repeat = page.locator(".wb-repeat input")
        repeat.fill("16")
        repeat.press("Enter")
        page.wait_for_selector(".wb-roll[data-bars='512']", timeout=60_000)
        result["512"] = [click_to_playable(page, timeout=600_000)
                         for _ in range(max(1, clicks // 5))]
        browser.close()
    return result


def print_audio(results: dict) -> None:
    a = results["audio"]
    print(f"  sound at once ({a['engine']}), kernel side:")
    print(f"    first block (0.5 s) rendered + encoded: 32 bars {a['first_block_ms_32']:.1f} ms, "
          f"512 bars {a['first_block_ms_512']:.1f} ms")
    print(f"    whole preview, 32 bars ({a['preview_seconds_32']:.1f} s of music): "
          f"{a['preview_s_32']:.2f} s, {a['preview_bytes_32'] / 1e6:.2f} MB Ogg Vorbis "
          f"(uncompressed WAV {a['wav_bytes_32_uncompressed'] / 1e6:.2f} MB)")
    for level, row in a["ogg_levels_32"].items():
        print(f"    Ogg Vorbis level {level}: {row['bytes'] / 1e6:.2f} MB per 32 bars, "
              f"{row['kbps']:.0f} kbit/s, SNR {row['snr_db']:.1f} dB")
    print(f"    audio files, mix + 5 stems at 44.1 kHz: {a['mixdown_s_32']:.2f} s, mix at "
          f"{a['mixdown_lufs']:.1f} LUFS{' (peak-limited)' if a['mixdown_peak_limited'] else ''}")
    if "browser_audio" in results:
        for label, runs in results["browser_audio"].items():
            playable = sorted(r["playable_ms"] for r in runs)
            ready = sorted(r["ready_ms"] for r in runs)
            print(f"  in the browser, {label} bars: click -> playable median "
                  f"{statistics.median(playable):.0f} ms (max {playable[-1]:.0f}; budget 300), "
                  f"-> ready median {statistics.median(ready) / 1000:.1f} s, "
                  f"{runs[0]['bytes'] / 1e6:.2f} MB received")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--browser", action="store_true",
                        help="also time click -> redraw in the Voilà app in Chromium")
    parser.add_argument("--clicks", type=int, default=20)
    parser.add_argument("--loads", type=int, default=5, help="page loads timed, per setting")
    parser.add_argument("--visitors", type=int, default=3, help="pages open for the memory")
    args = parser.parse_args(argv)

    import workbench
    from workbench import audio
    from workbench.ui import mapping
    from workbench.ui.pianoroll import roll_state

    state = mapping.default_state()
    state.update(progression=PROGRESSION_32, tempo=120)
    seed = [0]

    def change_and_generate():
        seed[0] += 1
        state["seed"] = seed[0]                   # a control change
        arr = workbench.generate(**mapping.generate_kwargs(state))
        return roll_state(arr)

    change_and_generate()
    arr = workbench.generate(**mapping.generate_kwargs(state))
    assert arr.bars == 32 and len(arr.tracks) == 5
    results = {"bars": arr.bars, "notes": sum(len(t.notes) for t in arr.tracks.values())}
    results["generate_ms"], _ = _median_ms(
        lambda: workbench.generate(**mapping.generate_kwargs(state)), args.repeat)
    results["state_ms"], _ = _median_ms(lambda: roll_state(arr), args.repeat)
    results["change_to_state_ms"], results["change_to_state_max_ms"] = _median_ms(
        change_and_generate, args.repeat)

    # the whole Workbench path (widgets, no kernel: comm messages are not sent)
    from workbench.ui import Workbench

    app = Workbench(state=state, audio_engine="builtin", generate_on_load=False)
    results["workbench_refresh_ms"], _ = _median_ms(
        lambda: app.refresh(audio=False), args.repeat)

    # audio: 32 bars at 120 bpm = 64 s of music
    t0 = time.perf_counter()
    builtin = audio.render(arr, engine="builtin")
    results["builtin_render_s"] = time.perf_counter() - t0
    results["audio_seconds"] = builtin.duration
    if audio.fluidsynth_available() and audio.find_soundfont():
        t0 = time.perf_counter()
        audio.render(arr, engine="fluidsynth")
        results["fluidsynth_first_render_s"] = time.perf_counter() - t0   # loads the soundfont
        t0 = time.perf_counter()
        audio.render(arr, engine="fluidsynth")
        results["fluidsynth_render_s"] = time.perf_counter() - t0         # spare synthesizer
    results["wav_bytes"] = len(builtin.to_wav())
    long = dict(state, repeat=16)
    results["audio"] = audio_stream_figures(arr, workbench.generate(**mapping.generate_kwargs(long)))
    if args.browser:
        results["browser_audio"] = browser_click_to_playable(args.clicks)
    if args.browser:
        pooled = browser_load_and_memory(args.loads, args.visitors, pool=None)
        cold = browser_load_and_memory(args.loads, 0, pool=0)
        results["browser_load_pool_ms"] = statistics.median(pooled["load_ms"])
        results["browser_load_pool_max_ms"] = pooled["load_ms"][-1]
        results["browser_load_no_pool_ms"] = statistics.median(cold["load_ms"])
        results["mb_per_visitor"] = pooled["mb_per_visitor"]
        results["app_idle_mb"] = pooled["rss_base_mb"]
        times = sorted(browser_click_to_redraw(args.clicks))
        results["browser_click_to_redraw_ms"] = statistics.median(times)
        results["browser_click_to_redraw_max_ms"] = times[-1]

    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(f"32 bars x 5 tracks, {results['notes']} notes")
        print(f"  generate                          {results['generate_ms']:8.2f} ms (median)")
        print(f"  piano-roll widget state           {results['state_ms']:8.2f} ms (median)")
        print(f"  control change -> gen + state     {results['change_to_state_ms']:8.2f} ms "
              f"(median; max {results['change_to_state_max_ms']:.2f}; budget 150)")
        print(f"  Workbench.refresh (no audio)      {results['workbench_refresh_ms']:8.2f} ms (median)")
        print(f"  audio, {results['audio_seconds']:.1f} s of music:")
        print(f"    built-in synthesiser            {results['builtin_render_s']:8.2f} s")
        if "fluidsynth_render_s" in results:
            print(f"    FluidSynth, first (loads sf2)   {results['fluidsynth_first_render_s']:8.2f} s")
            print(f"    FluidSynth, synth made in advance {results['fluidsynth_render_s']:8.2f} s")
        print(f"  WAV of the whole song (before)    {results['wav_bytes'] / 1e6:8.2f} MB")
        print_audio(results)
        if args.browser:
            print(f"  in the browser (Voilà + Chromium): page load -> usable "
                  f"{results['browser_load_pool_ms']:.0f} ms with the pool (median of "
                  f"{args.loads}; max {results['browser_load_pool_max_ms']:.0f}), "
                  f"{results['browser_load_no_pool_ms']:.0f} ms without")
            print(f"  memory: {results['mb_per_visitor']:.0f} MB per visitor (app idle with "
                  f"its pool: {results['app_idle_mb']:.0f} MB)")
            print(f"  in the browser (Voilà + Chromium): click -> roll redrawn "
                  f"{results['browser_click_to_redraw_ms']:.1f} ms (median of {args.clicks}; "
                  f"max {results['browser_click_to_redraw_max_ms']:.1f}; budget 150)")
    ok = results["change_to_state_ms"] <= 150
    ok = ok and results["audio"]["preview_bytes_32"] <= 1.5e6
    if "browser_audio" in results:
        ok = ok and all(statistics.median(r["playable_ms"] for r in runs) <= 300
                        for runs in results["browser_audio"].values())
    if args.browser:
        ok = ok and results["browser_click_to_redraw_ms"] <= 150
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
