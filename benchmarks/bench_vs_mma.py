"""The same 32-bar job through our CLI and through MMA (Musical MIDI Accompaniment, the Debian
``mma`` package) on this machine: alternating runs, medians and the ratio ours/mma.

    .venv/bin/python benchmarks/bench_vs_mma.py [--runs 15] [--style rock --groove 50sRock]

Both are whole command-line runs (interpreter start, reading the chords, generating, writing
MIDI), which is what a user waits for. MMA writes one band file; we write six (five tracks and
the band) atomically.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EIGHT = ["C", "Am7", "Dm7", "G7", "Cmaj7", "F", "Fm6", "G7"]
CHORDS = EIGHT * 4  # 32 bars, one chord a bar


def mma_file(groove: str, tempo: int) -> str:
    lines = [f"Tempo {tempo}", f"Groove {groove}"]
    lines += [f"{i} {c}" for i, c in enumerate(CHORDS, 1)]
    return "\n".join(lines) + "\n"


# Both programs are Python: let both use their bytecode caches (Debian ships MMA's compiled;
# ours is compiled by the warm-up run), whatever PYTHONDONTWRITEBYTECODE this shell has.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(cmd, cwd) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=ENV)
    return (time.perf_counter() - t) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--style", default="rock")
    ap.add_argument("--groove", default="50sRock")
    ap.add_argument("--tempo", type=int, default=120)
    args = ap.parse_args()
    mma = shutil.which("mma")
    if mma is None:
        sys.exit("mma is not installed (Debian: apt-get install mma)")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "job.mma").write_text(mma_file(args.groove, args.tempo))
        text = "| " + " | ".join(CHORDS) + " |"
        ours_cmd = [sys.executable, "-m", "workbench", "generate", text, "--style", args.style,
                    "--tempo", str(args.tempo), "--seed", "1", "--out", str(tmp / "ours")]
        mma_cmd = [mma, "-f", str(tmp / "mma.mid"), str(tmp / "job.mma")]
        timed(ours_cmd, ROOT), timed(mma_cmd, tmp)  # warm the OS file cache for both
        ours, theirs = [], []
        for _ in range(args.runs):
            ours.append(timed(ours_cmd, ROOT))
            theirs.append(timed(mma_cmd, tmp))
        assert (tmp / "mma.mid").stat().st_size > 0
        written = len(list((tmp / "ours").rglob("*.mid")))
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"32 bars, {args.runs} alternating runs each")
    print(f"  ours: python -m workbench generate --style {args.style}  median {a:7.1f} ms "
          f"({written // (args.runs + 1)} files a run)")
    print(f"  mma:  Groove {args.groove}                          median {b:7.1f} ms (1 file a run)")
    print(f"  ratio ours/mma = {a / b:.2f}")


if __name__ == "__main__":
    main()
