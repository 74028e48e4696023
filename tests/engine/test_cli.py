"""The command line, run as a subprocess the way a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True,
                          text=True, cwd=cwd or ROOT, timeout=60, env=env)


def test_generate_writes_files_and_prints_their_paths(tmp_path):
    r = run("generate", "| C Am | F G |", "--style", "pop", "--tempo", "120", "--meter", "4/4",
            "--tracks", "bass,drums,keys", "--seed", "1", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    paths = [Path(line) for line in r.stdout.splitlines()]
    assert [p.parent.name for p in paths] == ["bass", "drums", "keys", "band"]
    assert all(p.exists() and p.is_relative_to(tmp_path) for p in paths)
    assert all(p.name.endswith("_Cmaj_120.mid") for p in paths)
    assert r.stderr == ""


def test_same_seed_same_bytes_through_the_cli(tmp_path):
    """Byte for byte across processes, whatever their string hashing (PYTHONHASHSEED)."""
    import os

    outs = []
    for i in range(2):
        env = {**os.environ, "PYTHONHASHSEED": str(i + 1)}
        r = run("generate", "| Dm7 | G7 | Cmaj7 | A7 |", "--style", "swing", "--seed", "3",
                "--humanize", "0.4", "--count-in", "--repeat", "2", "--timestamp",
                "20261123103000", "--out", str(tmp_path / str(i)), env=env)
        assert r.returncode == 0, r.stderr
        outs.append([Path(p).read_bytes() for p in r.stdout.split()])
    assert outs[0] == outs[1]


def test_styles_lists_every_style_with_meters():
    r = run("styles")
    assert r.returncode == 0
    for name in ("rock", "pop", "ballad", "funk", "swing", "bossa", "shuffle", "waltz", "reggae",
                 "country"):
        assert any(line.startswith(name) for line in r.stdout.splitlines())
    assert "3/4" in r.stdout and "12/8" in r.stdout


@pytest.mark.parametrize("args,message", [
    (("generate", "| C | Hx7 |"), "Hx7"),
    (("generate", "| C | G |", "--style", "polka"), "polka"),
    (("generate", "| C | G |", "--style", "waltz", "--meter", "4/4"), "3/4"),
    (("generate", "| C | G |", "--tracks", "bass,tuba"), "tuba"),
    (("generate", "| C | G |", "--tempo", "500"), "tempo"),
    (("generate", "| C | G |", "--swing", "2"), "swing"),
    (("generate", "| C | G |", "--tempo", "fast"), "tempo"),
    (("generate", "| C | G |", "--arc", "loud"), "'loud'"),
    (("generate",), "progression"),
    ((), "command"),
])
def test_bad_input_is_one_line_on_stderr_and_exit_2(tmp_path, args, message):
    r = run(*args, "--out", str(tmp_path)) if args and args[0] == "generate" and len(args) > 1 \
        else run(*args)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert lines and message in lines[-1]
    if args and args[0] == "generate" and len(args) > 1:
        assert len(lines) == 1
    assert not list(tmp_path.rglob("*.mid"))


def test_console_script_is_registered():
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["workbench"] == "workbench.cli:main"


def test_per_track_options(tmp_path):
    import pretty_midi

    r = run("generate", "| Am | Dm | E7 | Am |", "--style", "bossa", "--tracks", "bass,keys",
            "--program", "bass=35", "--program", "keys=Electric Piano 2", "--level", "keys=0.5",
            "--density", "bass=1", "--key", "Am", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    band = Path(r.stdout.split()[-1])
    assert band.name.endswith("_band_Amin_128.mid")  # the style's default tempo
    pm = pretty_midi.PrettyMIDI(str(band))
    assert [(i.name, i.program) for i in pm.instruments] == [("bass", 35), ("keys", 5)]
    r = run("generate", "| C |", "--level", "keys", "--out", str(tmp_path))
    assert r.returncode == 2 and "TRACK=VALUE" in r.stderr


def test_loop_keeps_the_groove_to_the_end(tmp_path):
    import pretty_midi

    def last_bar_bass_starts(*extra, bar_seconds=2.0):
        out = tmp_path / ("loop" if extra else "held")
        r = run("generate", "| C | G |", "--style", "rock", "--tracks", "bass", "--out", str(out),
                *extra)
        assert r.returncode == 0, r.stderr
        notes = pretty_midi.PrettyMIDI(r.stdout.split()[0]).instruments[0].notes
        return len({n.start for n in notes if n.start >= bar_seconds})  # 2 s a bar at 120 bpm

    # held: the band resolves G to a held bar of C (the tonic tag), bar 3
    assert last_bar_bass_starts(bar_seconds=4.0) == 1
    assert last_bar_bass_starts("--loop") >= 3


def test_console_script_runs():
    script = Path(sys.executable).parent / "workbench"
    if not script.exists():
        pytest.skip("project not installed into this interpreter's environment")
    r = subprocess.run([str(script), "styles"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "swing" in r.stdout


def test_unknown_program_name_says_how_to_find_the_names(tmp_path):
    r = run("generate", "| C | F |", "--program", "keys=Rhodes", "--out", str(tmp_path / "o"))
    assert r.returncode == 2
    assert "'Rhodes'" in r.stderr and "workbench programs" in r.stderr
    assert "Electric Piano 1" in r.stderr
    r = run("generate", "| C | F |", "--program", "keys=piano", "--out", str(tmp_path / "o"))
    assert "'Acoustic Grand Piano'" in r.stderr
    listing = run("programs")
    assert listing.returncode == 0 and "  4 Electric Piano 1" in listing.stdout.splitlines()
    assert len(listing.stdout.splitlines()) == 128


def test_a_failed_run_leaves_no_folder_and_a_good_run_no_temp(tmp_path):
    r = run("generate", "| C | Hx7 |", "--out", str(tmp_path / "new" / "out"))
    assert r.returncode == 2 and not (tmp_path / "new").exists()
    r = run("generate", "| C | F |", "--out", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "band", "bass", "drums", "guitar", "keys", "pad"]


@pytest.mark.parametrize("out,message", [
    ("/etc/passwd", "--out '/etc/passwd' is a file, not a folder"),
    ("/etc/passwd/x", "cannot write the MIDI files into --out '/etc/passwd/x'"),
])
def test_out_that_is_a_file_is_named(out, message):
    r = run("generate", "| C | F |", "--out", out)
    assert r.returncode == 2
    assert r.stderr.strip() == f"workbench: error: {message}" or message in r.stderr
    assert "Errno" not in r.stderr and "temp" not in r.stderr


def test_styles_print_swing_as_a_ratio():
    out = run("styles").stdout
    assert "swing 2:1 (triplet)" in out          # shuffle
    assert "0.6666" not in out and "swing 0." not in out
