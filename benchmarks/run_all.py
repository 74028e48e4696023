"""Every benchmark, one after the other, each in its own interpreter (``make bench``).

    .venv/bin/python benchmarks/run_all.py [--quick]

Separate processes keep one benchmark's warm caches, threads and sockets out of the next one's
figures. ``--quick`` passes shorter runs where a script supports them (for a smoke check; the
README's figures come from the full runs).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# (script, full-run arguments, quick-run arguments)
BENCHMARKS = [
    ("bench_engine.py", ["--runs", "200"], ["--runs", "20"]),
    ("bench_song.py", ["--runs", "20"], ["--runs", "3"]),
    ("bench_vs_mma.py", ["--runs", "21"], ["--runs", "5"]),
    ("bench_vs_mma.py", ["--runs", "21", "--style", "swing", "--groove", "Swing"],
     ["--runs", "5", "--style", "swing", "--groove", "Swing"]),
    ("bench_server.py", [], ["--quick"]),
    ("bench_ui.py", ["--repeat", "30"], ["--repeat", "5"]),
    ("bench_juce.py", ["--runs", "20"], ["--quick"]),
    ("arrangement_report.py", ["--summary"], ["--summary", "--styles", "rock,swing"]),
]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="shorter runs (smoke check)")
    args = ap.parse_args(argv)
    failed = []
    for script, full, quick in BENCHMARKS:
        cmd = [sys.executable, str(HERE / script), *(quick if args.quick else full)]
        print(f"\n$ {' '.join(['python', 'benchmarks/' + script, *cmd[2:]])}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call(cmd, cwd=HERE.parent)
        print(f"({script}: {time.perf_counter() - t0:.1f} s, exit {rc})", flush=True)
        if rc:
            failed.append(script)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
