"""Song speed: reading a 1,000-song iReal Pro playlist, and a 3-chorus AABA standard with an
intro through ``generate``. Prints medians (and the first, cold read); targets 0.5 s and 10 ms.

    .venv/bin/python benchmarks/bench_song.py [--runs 20] [--songs 1000]

The playlist is built with the tests' iReal helpers (``tests/engine/ireal_fixtures.py``): six
chart shapes (AABA with endings, a blues with bar repeats, D.S. al Coda with Fine, a waltz, a
bossa with alternates, a 12/8 blues), 32-40 bars each, in twelve keys, scrambled as irealb://.
The take is ``generate(song, choruses=3)`` with the engine's defaults: the song's own [Intro]
section, whatever the arranger (issue 9) adds around it, and the ending.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "engine"))

from bench_engine import median_ms  # noqa: E402  (one way of timing for every benchmark)

KEYS = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
CHARTS = [  # (style, key suffix, chart in iReal's language with {root} placeholders)
    ("Medium Swing", "",
     "*i[T44{r}^7 {r}6 |D-7 G7 ]{{*A{r}^7XyQ|A-7XyQ|D-7XyQ|G7XyQ|N1{r}^7XyQ|A7b9XyQ|D-7XyQ|G7XyQ}}"
     "XyQ|N2{r}^7XyQ|F7XyQ|{r}^7XyQ|{r}7XyQ]*B[F^7XyQKcl  LZF-7XyQ|Bb7XyQ|E-7XyQ|A7XyQ|D-7XyQ|"
     "G7sus G7b9]*A[{r}^7XyQ|A-7XyQ|D-7XyQ|G7XyQ|{r}^7 A-7|D-7 G7|{r}69XyQ|x Z"),
    ("Blues", "", "[T44{r}7XyQ|F7XyQ|{r}7XyQKcl  LZF7XyQKcl  LZ{r}7XyQ|A7b13XyQ|D-7XyQ|G7XyQ|"
     "{r}7 A7|D-7 G7 Z{{*A{r}7XyQ|F7XyQ|{r}7XyQKcl  LZF7XyQKcl  LZ{r}7XyQKcl  LZD-7XyQ|G7XyQ|"
     "{r}7 A7b9|D-7 G7<3x> }}"),
    ("Medium Up Swing", "",
     "*A[T44S{r}^7XyQ|E-7 A7|D-7XyQ|G7 QXyQ|{r}^7XyQ|C7XyQ|F^7XyQ|F-7 Bb7 <Fine>]*B[E-7b5XyQ|"
     "A7b9XyQ|D-7XyQKcl  LZG7sus XyQ|G7b9XyQ|{r}^7XyQ|{r}7#9 <D.S. al Coda>]Q[{r}^7XyQ|A7alt XyQ|"
     "D-9 G13|{r}^9XyQZ"),
    ("Jazz Waltz", "", "*A[T34{r}^7  |A-7  |D-7  |G7  |{r}^7  |E-7b5  |A7b9  |D-7  |G7sus  |"
     "G7  |E-7  |A7  |D-7  |G7  |{r}^7  |x  ]*B[F^7  |F-6  |E-7  |A7  |D-7  |G7  |{r}^7  |"
     "{r}^7  Z"),
    ("Bossa Nova", "-", "*A[T44{r}-7(F7) XyQ|F-7 XyQ|D-7b5XyQ|G7b9XyQ|{r}-7XyQ|F-7XyQ|"
     "D-7b5XyQ|G7alt XyQ]*B[Eb-7XyQ|Ab7XyQ|Db^7XyQ|p XyQ|D-7b5XyQ|G7b9XyQ|{r}-6XyQ|"
     "D-7b5 G7b9Z"),
    ("Slow Blues", "", "[T12{r}7XyQ|F7XyQ|{r}7XyQ|x |F7XyQ|F#o7XyQ|{r}7XyQ|A7XyQ|D-7XyQ|G7XyQ|"
     "{r}7 A7|D-7 G7 Z"),
]


def playlist(count: int) -> str:
    from ireal_fixtures import irealb, song_fields

    songs = []
    for i in range(count):
        style, minor, chart = CHARTS[i % len(CHARTS)]
        root = KEYS[(i // len(CHARTS)) % 12]
        songs.append(song_fields(f"Standard {i + 1:04d}", chart.format(r=root), style=style,
                                 key=root + minor, tempo=100 + i % 120))
    return irealb(*songs, playlist="Benchmark")


AABA = """Title: Standard
Style: Medium Swing
Tempo: 160
[Intro] | Dm7 G7 | Em7 A7 | Dm7 G7 | C6 |
[A] |: Cmaj7 | Am7 | Dm7 | G7 |1. Em7 | A7 | Dm7 | G7 :|2. Em7 | A7 | Dm7 G7 | C6 ||
[B] | Gm7 | C7 | Fmaj7 | Fmaj7 | Am7 | D7 | Dm7 | G7 |
[A] | Cmaj7 | Am7 | Dm7 | G7 | Em7 A7 | Dm7 G7 | C6 | C6 |"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--songs", type=int, default=1000)
    args = ap.parse_args()

    import workbench

    link = playlist(args.songs)
    t = time.perf_counter()
    songs = workbench.read_ireal(link)
    cold = (time.perf_counter() - t) * 1000
    assert len(songs) == args.songs and not songs.errors, songs.errors[:3]
    bars = sum(len(s.bars) for s in songs)
    read = median_ms(lambda: workbench.read_ireal(link), args.runs)
    print(f"read_ireal, {args.songs}-song playlist ({len(link) / 1e6:.2f} MB link, {bars} bars): "
          f"first {cold:.0f} ms, median {read:.0f} ms (target 500 ms)")

    song = workbench.parse_song(AABA)
    prog = song.progression(3)
    form = median_ms(lambda: song.progression(3), args.runs * 10)
    take = median_ms(lambda: workbench.generate(song, choruses=3, seed=1), args.runs * 5)
    bars = workbench.generate(song, choruses=3, seed=1).bars
    print(f"3-chorus AABA with intro ({prog.bars} bars played, {bars} in the take, 5 tracks): "
          f"song.progression(3) {form:.2f} ms, generate(song, choruses=3) {take:.2f} ms "
          "(target 10 ms)")


if __name__ == "__main__":
    main()
