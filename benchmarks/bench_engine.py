"""Engine speed: ``generate`` (32 bars x 5 tracks) per style, writing the six files, and
``import workbench`` in a fresh interpreter. Prints medians; targets 5 ms, 5 ms, 300 ms.

    .venv/bin/python benchmarks/bench_engine.py [--runs 200] [--folder DIR]

The write figure depends on the file system: ``--folder`` picks where the files go.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# 32 bars: sevenths, slash chords, two chords a bar, an N.C.
EIGHT = "| C | Am7 | Dm7 G7 | Cmaj7 | F | Fm6 | Em7 A7/C# | Dm7 G7 |"
SONG = " ".join([EIGHT] * 4).replace("| |", "|")
SONG_BY_METER = {
    "4/4": SONG,
    "3/4": SONG.replace("Dm7 G7", "Dm7").replace("Em7 A7/C#", "Em7"),
    "2/4": SONG.replace("Dm7 G7", "Dm7").replace("Em7 A7/C#", "Em7"),
    "6/8": SONG,
    "12/8": SONG,
}


def median_ms(fn, runs: int) -> float:
    fn()  # warm caches once, as a session would after its first take
    times = []
    gc.collect()
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def import_ms(code: str, runs: int) -> float:
    script = ("import time; t = time.perf_counter(); " + code +
              "; print((time.perf_counter() - t) * 1000)")
    out = [float(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                check=True).stdout) for _ in range(runs)]
    return statistics.median(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--folder", default=None,
                    help="where to write (a temporary folder in it; default: the system's temp)")
    args = ap.parse_args()

    import workbench

    print(f"generate: 32 bars x 5 tracks, median of {args.runs} (target <= 5 ms)")
    worst = 0.0
    for style in workbench.styles():
        for meter in style.meters:
            prog = workbench.parse_progression(SONG_BY_METER[meter], meter=meter)
            assert prog.bars == 32, prog.bars
            ms = median_ms(lambda p=prog, s=style.name: workbench.generate(p, style=s, seed=1),
                           args.runs)
            worst = max(worst, ms)
            print(f"  {style.name:8} {meter:5} {ms:6.2f} ms")
    ms = median_ms(lambda: workbench.generate(SONG, style="pop", seed=1), args.runs)
    print(f"  pop from text (parse included) {ms:.2f} ms; slowest style {worst:.2f} ms")
    ms = median_ms(lambda: workbench.generate(SONG, style="funk", seed=1, humanize=0.5,
                                              intensity=1.0), args.runs)
    print(f"  funk, humanize 0.5, intensity 1 {ms:.2f} ms")

    arr = workbench.generate(SONG, style="pop", seed=1)
    notes = sum(len(t.notes) for t in arr.tracks.values())
    stamps = (f"20260101{h:02d}{m:02d}{x:02d}" for h in range(24) for m in range(60)
              for x in range(60))
    with tempfile.TemporaryDirectory(dir=args.folder) as tmp:
        # a new timestamp each take, as in use (the same second would step past earlier takes)
        ms = median_ms(lambda: arr.write(tmp, timestamp=next(stamps)), args.runs)
    print(f"write: 6 files ({notes} notes, atomic + fsync) median {ms:.2f} ms (target <= 5 ms) "
          f"in {Path(tmp).parent}")
    ms = median_ms(lambda: arr.to_midi_bytes(), args.runs)
    print(f"to_midi_bytes (band, in memory) median {ms:.2f} ms")

    n = max(5, args.runs // 20)
    print(f"import, fresh interpreter, median of {n} (target <= 300 ms)")
    print(f"  import workbench                       {import_ms('import workbench', n):6.1f} ms")
    print(f"  import workbench + generate + Arrangement "
          f"{import_ms('import workbench; workbench.generate; workbench.Arrangement', n):6.1f} ms")


if __name__ == "__main__":
    main()
