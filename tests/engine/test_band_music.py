"""Does the band sound right? Checked on every example progression, slash chords, N.C., each
style in each meter it plays, several seeds: the bass names each chord, strong beats are chord
tones or the usual tensions, keys voicings keep 3rd and 7th and move smoothly, registers hold,
nothing pitched sounds under N.C., drums are GM on channel 10, the final chord is held."""

from __future__ import annotations

from pathlib import Path

import pytest

import workbench
from workbench.band.endings import ENDINGS
from workbench.instruments import GM_DRUM_NAMES, REGISTERS

# The project's copy of ../shared/progressions/examples.txt (test_keys.py checks that they agree),
# so that a clean clone tests them too.
EXAMPLES_FILE = Path(__file__).with_name("examples.txt")


def _examples():
    out = []
    for line in EXAMPLES_FILE.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, meter, key, prog = (part.strip() for part in line.split("|", 3))
        out.append((name, meter, prog))
    return out


EXAMPLES = _examples()
# Per meter: slash chords, N.C., sevenths, two chords a bar (all in the meter's bar notation).
EXTRA = {
    "4/4": "| C | Am7 | Dm7 G7/B | C/E | Fmaj7 | N.C. | G7sus4 | Cmaj7 | Em7b5 A7b9 | Dm | "
           "Bb7 | Am/G | D/F# | F6 | G13 | C |",
    "3/4": "| C | Am7 | Dm7 | G7/B | C/E | N.C. | F | Fm6 | Cmaj7 | A7 | Dm7 | G7 | C |",
    "6/8": "| D | Bm7 | G | A7/C# | D/F# | N.C. | Em7 | A7 | Dmaj7 | G | A7sus4 | D |",
    "2/4": "| C | C | Am | Am | F | G7/B | C/E | N.C. | Dm7 | G7 | C | C |",
    "12/8": "| C7 | F7 | C7 | C7 | F7 | F7 | C7 | A7 | Dm7 | G7 | C7 N.C. | G7 |",
}
JAZZ = ("| Dm9 | G7alt | Cmaj7 | A7b9 | Bm7b5 | E7#9 | Am6 | D13 | Ebdim7 | Dm7 G7 | "
        "Bb13#11 | C7b5 | F#m7b5 B7#5 | Em7 A7 | Dm11 G7b9 | Caug | Csus2 | C5 | CmMaj7 | "
        "Fm6 | Bb9sus4 | Eb/G | Cadd9 | C6/9 |")
SEEDS = (0, 5)
STRONG_ONLY = {("swing", "bass")}  # walking bass: passing/approach notes between strong beats


# In every meter: endings (two chords in the final bar, both held; a final bar half or wholly
# N.C.) and three chords to a bar (changes off the patterns' grid).
ANY_METER = {
    "ending-two-chords": "| C | Am7 | F G7 |",
    "ending-half-nc": "| C | F | G7 N.C. |",
    "ending-nc": "| C | Dm7 | N.C. |",
    "three-a-bar": "| Cm6 Am7 Bb7 | Dm7 G7 Cmaj7 | E7b9 F#m7b5 Ebdim7 | C |",
}


def _cases():
    cases = []
    for style in workbench.styles():
        for name, meter, prog in EXAMPLES:
            if meter in style.meters:
                cases.append((style.name, meter, name, prog))
        for meter in style.meters:
            cases.append((style.name, meter, f"extra-{meter}", EXTRA[meter]))
            cases.extend((style.name, meter, name, p) for name, p in ANY_METER.items())
        if "4/4" in style.meters:
            cases.append((style.name, "4/4", "jazz-chords", JAZZ))
    return cases


CASES = _cases()


def _ids(case):
    return f"{case[0]}-{case[1]}-{case[2]}"


# -- music arithmetic, written independently of the band's own ---------------------------------

def _low(chord):
    return {i for i in chord.intervals if i < 12}


def allowed_pcs(chord):
    """Chord tones plus the usual tensions: 9; 13 on major and dominant; 11 on minor."""
    low = _low(chord)
    pcs = set(chord.pitch_classes) | {chord.bass, (chord.root + 2) % 12}
    if 4 in low:
        pcs.add((chord.root + 9) % 12)
    elif 3 in low:
        pcs.add((chord.root + 5) % 12)
    return pcs


def third_and_seventh(chord):
    """The chord's 3rd and 7th pitch classes, or None if it is not a seventh chord with a 3rd."""
    low = _low(chord)
    third = 4 if 4 in low else 3 if 3 in low else None
    seventh = 11 if 11 in low else 10 if 10 in low else None
    if seventh is None and low >= {3, 6, 9}:
        seventh = 9
    if third is None or seventh is None:
        return None
    return (chord.root + third) % 12, (chord.root + seventh) % 12


def felt_beats(meter):
    num, den = (int(x) for x in meter.split("/"))
    if den == 8 and num % 3 == 0:
        return [i * 1.5 for i in range(num // 3)]
    return [i * 4.0 / den for i in range(num)]


def strong_beats(meter):
    if meter == "4/4":
        return [0.0, 2.0]
    return [0.0] if meter in ("3/4", "2/4") else felt_beats(meter)


def chord_at(arr, t):
    for ev in arr.chords:
        if ev.start - 1e-6 <= t < ev.start + ev.duration - 1e-6:
            return ev
    return None


def on_grid(arr, t, positions, tol=0.1):
    bpb = arr.beats_per_bar
    pos = (t - arr.offset) % bpb
    return any(abs(pos - p) < tol or abs(pos - p - bpb) < tol for p in positions)


def voicings(arr, track="keys"):
    """Per chord, the distinct pitches of a track that start inside it (chords it skips left out)."""
    out = []
    notes = arr.tracks[track].notes
    for ev in arr.chords:
        if ev.chord.is_no_chord:
            continue
        ps = sorted({n.pitch for n in notes if ev.start - 1e-6 <= n.start < ev.start + ev.duration - 1e-6})
        if ps:
            out.append((ev, ps))
    return out


# -- the checks ------------------------------------------------------------------------------

# How far the feel may move a note off its beat (humanize is on by default: at most 0.031
# beats at humanize=1, see test_band_api). A chord change is never early.
FEEL = 0.032


def check_bass_on_changes(arr):
    """The bass note on every change of chord (a repeated chord, ``| C7 | % |``, is no change:
    a walking bass walks on through it)."""
    bass = arr.tracks["bass"].notes
    before = None
    for ev in arr.chords:
        repeated = before is not None and ev.chord == before.chord
        before = ev
        if ev.chord.is_no_chord or repeated:
            continue
        got = [n.pitch % 12 for n in bass if -1e-6 <= n.start - ev.start <= FEEL]
        assert ev.chord.bass in got, (
            f"bass at beat {ev.start} ({ev.chord.symbol}) plays {got}, wants pc {ev.chord.bass}")


def check_strong_beats(arr):
    for name, track in arr.tracks.items():
        if track.is_drum:
            continue
        grid = strong_beats(arr.meter) if (arr.style, name) in STRONG_ONLY else felt_beats(arr.meter)
        for n in track.notes:
            if not on_grid(arr, n.start, grid):
                continue
            ev = chord_at(arr, n.start)
            assert ev is not None and not ev.chord.is_no_chord, f"{name} note outside the chords"
            assert n.pitch % 12 in allowed_pcs(ev.chord), (
                f"{name} plays pc {n.pitch % 12} at beat {n.start} over {ev.chord.symbol}")


def check_keys_voicings(arr, track="keys"):
    vs = voicings(arr, track)
    for ev, ps in vs:
        need = third_and_seventh(ev.chord)
        if need:
            pcs = {p % 12 for p in ps}
            assert set(need) <= pcs, f"{track} on {ev.chord.symbol} lack 3rd/7th: {ps}"
    moves = []
    for (_, a), (ev, b) in zip(vs, vs[1:], strict=False):
        moves.extend(min(abs(p - q) for q in a) for p in b)
        leap = abs(sum(b) / len(b) - sum(a) / len(a))
        assert leap <= 7, f"{track} hand leaps {leap:.1f} semitones into {ev.chord.symbol}: {a} -> {b}"
    if moves:
        assert sum(moves) / len(moves) <= 3.0, f"{track} voices move {sum(moves) / len(moves):.2f} on average"


def check_registers(arr):
    for name, (lo, hi) in REGISTERS.items():
        if name in arr.tracks:
            ps = [n.pitch for n in arr.tracks[name].notes]
            assert all(lo <= p <= hi for p in ps), f"{name} leaves {lo}-{hi}: {min(ps)}-{max(ps)}"


def check_no_chord(arr):
    spans = [(ev.start, ev.start + ev.duration) for ev in arr.chords if ev.chord.is_no_chord]
    for name, track in arr.tracks.items():
        if track.is_drum:
            continue
        for n in track.notes:
            for a, b in spans:
                assert not (n.start < b - 1e-6 and n.end > a + 1e-6), (
                    f"{name} sounds {n.start}-{n.end} in the N.C. at {a}-{b}")


def check_drums(arr):
    d = arr.tracks["drums"]
    assert d.is_drum and d.channel == 9
    assert d.notes and all(n.pitch in GM_DRUM_NAMES for n in d.notes)


STRUM = 0.1  # a strummed or rolled chord starts within this of its beat


def check_ending(arr):
    """The final bar is the ending: each of its chords struck once, by everyone together (the
    keys may roll it where the style rolls it) and held to the next, the last to the end or,
    where the style ends on a short button, for its stab; the drums catch each with the kick
    and the style's final cymbal, which rings to the very end; no groove left in it."""
    style_end = ENDINGS[arr.style]
    final_bar = arr.chords[-1].bar
    ending = [ev for ev in arr.chords if ev.bar == final_bar]
    bar_start = ending[0].start
    played = [ev for ev in ending if not ev.chord.is_no_chord]
    end = arr.length_beats
    cymbal = style_end.cymbal[0]
    for name, track in arr.tracks.items():
        late = [n for n in track.notes if n.start >= bar_start - 1e-6]
        spread = STRUM + (style_end.spread if name == "keys" else 0.0)
        for n in late:
            ev = chord_at(arr, n.start)
            assert n.start - ev.start < spread, f"{name} grooves on in the final bar at {n.start}"
            if not track.is_drum:
                let_go = ev.start + ev.duration
                if ev is arr.chords[-1] and style_end.stab:
                    let_go = min(let_go, ev.start + style_end.stab)
                assert abs(n.end - let_go) < 1e-6, f"{name} does not hold {ev.chord.symbol}"
                assert n.pitch % 12 in allowed_pcs(ev.chord), f"{name} holds pc {n.pitch % 12} on {ev.chord.symbol}"
        for ev in played:
            struck = [n for n in late if abs(n.start - ev.start) < spread]
            assert struck, f"{name} does not strike {ev.chord.symbol} in the final bar"
            if track.is_drum:
                assert sum(n.pitch == cymbal for n in struck) == 1 and any(n.pitch == 36 for n in struck)
        if track.is_drum:
            rings = [n for n in late if n.pitch == cymbal]
            assert rings and max(n.end for n in rings) >= end - 1e-6, "no cymbal rings to the end"
        elif played:
            assert max(n.end for n in late) >= min(played[-1].start + played[-1].duration,
                                                   played[-1].start + (style_end.stab or end)) - 1e-6


def check_keys_chord_on_the_change(arr):
    """Where the keys strike a seventh chord's change, that one stroke holds its 3rd and 7th."""
    notes = arr.tracks["keys"].notes
    for ev in arr.chords:
        need = not ev.chord.is_no_chord and third_and_seventh(ev.chord)
        window = FEEL + (ENDINGS[arr.style].spread if ev is arr.chords[-1] else 0.0)  # rolled
        stroke = {n.pitch % 12 for n in notes if -1e-6 <= n.start - ev.start <= window}
        if need and stroke:
            assert set(need) <= stroke, f"keys strike {ev.chord.symbol} without 3rd/7th: {stroke}"


def check_pad_voicings(arr):
    check_keys_voicings(arr, "pad")


ALL_CHECKS = (check_bass_on_changes, check_strong_beats, check_keys_voicings,
              check_keys_chord_on_the_change, check_pad_voicings, check_registers, check_no_chord,
              check_drums, check_ending)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_band_sounds_right(case):
    style, meter, _, prog = case
    for seed in SEEDS:
        arr = workbench.generate(prog, style=style, meter=meter, seed=seed)
        for check in ALL_CHECKS:
            check(arr)


@pytest.mark.parametrize("style", [s.name for s in workbench.styles()])
def test_band_sounds_right_when_busy_and_with_a_count_in(style):
    meter = workbench.styles()[[s.name for s in workbench.styles()].index(style)].meters[0]
    arr = workbench.generate(EXTRA[meter], style=style, meter=meter, seed=11, intensity=1.0,
                             density={t: 1.0 for t in workbench.TRACKS}, count_in=True, repeat=2)
    for check in ALL_CHECKS:
        check(arr)
    arr = workbench.generate(EXTRA[meter], style=style, meter=meter, seed=12, intensity=0.0)
    for check in ALL_CHECKS:
        check(arr)


@pytest.mark.parametrize("style", [s.name for s in workbench.styles()])
def test_humanized_takes_keep_registers_and_silence(style):
    """Humanize moves notes off the grid, never out of the register or into an N.C. bar."""
    for meter in next(s for s in workbench.styles() if s.name == style).meters:
        for seed in (1, 2, 3):
            arr = workbench.generate(EXTRA[meter], style=style, meter=meter, seed=seed,
                                     humanize=1.0, intensity=0.8)
            check_registers(arr)
            check_no_chord(arr)
            check_drums(arr)
            for t in arr.tracks.values():
                assert all(0 <= n.start < n.end <= arr.length_beats + 1e-9 for n in t.notes)
