"""Controls -> generate() arguments and live validation: pure functions, no widgets."""

from __future__ import annotations

import pytest

import workbench
from workbench.errors import WorkbenchError
from workbench.ui import mapping


def test_default_state_generates_on_first_load():
    kwargs = mapping.generate_kwargs(mapping.default_state())
    assert kwargs["tracks"] == list(workbench.TRACKS)
    assert kwargs["key"] is None and kwargs["swing"] is None
    arr = workbench.generate(**kwargs)
    # four bars and a bar of G: the band ends on the tonic
    assert arr.bars == 5 and set(arr.tracks) == set(workbench.TRACKS)


def test_mapping_of_every_control():
    s = mapping.default_state()
    s.update(progression="| Dm7 | G7 | Cmaj7 | % |", repeat=2, key="C major", tempo=96,
             meter="4/4", style="swing", swing=0.6, humanize=0.3, intensity=0.8, seed=42,
             count_in=True, arc="flat")
    s["tracks"]["guitar"]["on"] = False
    s["tracks"]["keys"].update(program=4, level=0.4, density=0.9)
    kw = mapping.generate_kwargs(s)
    assert kw == {
        "progression": "| Dm7 | G7 | Cmaj7 | % |", "style": "swing",
        "tracks": ["bass", "drums", "keys", "pad"], "tempo": 96, "meter": "4/4",
        "key": "C major", "seed": 42, "swing": 0.6, "humanize": 0.3, "intensity": 0.8,
        "instruments": {"keys": 4},
        "levels": {n: s["tracks"][n]["level"] for n in ("bass", "drums", "keys", "pad")},
        "density": {n: s["tracks"][n]["density"] for n in ("bass", "drums", "keys", "pad")},
        "count_in": True, "repeat": 2, "arc": "flat",
    }
    assert kw["levels"]["keys"] == 0.4
    arr = workbench.generate(**kw)
    assert "guitar" not in arr.tracks
    assert arr.tracks["keys"].program == 4
    assert arr.key.name == "C major"


def test_style_instruments_are_not_overridden():
    kw = mapping.generate_kwargs(mapping.default_state())
    assert kw["instruments"] == {}                  # every strip on "style's instrument"
    s = mapping.default_state()
    s["tracks"]["bass"]["program"] = 35
    assert mapping.generate_kwargs(s)["instruments"] == {"bass": 35}


def test_mapping_does_not_mutate_state():
    s = mapping.default_state()
    before = repr(s)
    mapping.generate_kwargs(s)
    assert repr(s) == before


@pytest.mark.parametrize("change, field, words", [
    ({"progression": "   "}, "progression", "empty"),
    ({"tempo": 500}, "tempo", "500"),
    ({"tempo": "fast"}, "tempo", "fast"),
    ({"repeat": 65}, "repeat", "65"),
    ({"count_in": "no"}, "count_in", "no"),
])
def test_bad_controls_are_named_by_the_engine(change, field, words):
    """The mapping only renames; the engine's error names the field, reported as the control."""
    s = mapping.default_state()
    s.update(change)
    with pytest.raises(WorkbenchError) as err:
        workbench.generate(**mapping.generate_kwargs(s))
    assert err.value.field == field and words in str(err.value)
    text = mapping.friendly_error(err.value)
    assert mapping.CONTROL_LABELS[field].lower().replace("-", "_") in \
        text.lower().replace("-", "_") and words.lower() in text.lower()


def test_all_tracks_off_is_a_plain_error():
    s = mapping.default_state()
    for strip in s["tracks"].values():
        strip["on"] = False
    with pytest.raises(WorkbenchError, match="at least one") as err:
        workbench.generate(**mapping.generate_kwargs(s))
    assert err.value.field == "tracks"


def test_slider_ends_are_the_engine_limits():
    from workbench.band import generate

    assert mapping.TEMPO_RANGE == generate.TEMPO_RANGE == (20, 300)
    assert mapping.REPEAT_RANGE == generate.REPEAT_RANGE


def test_validation_names_the_wrong_chord_and_its_bar():
    check = mapping.check_progression("| C | Am | Hx7 | G |")
    assert not check.ok
    assert "Hx7" in check.message and "3" in check.message
    assert check.bar == 3 and check.symbol == "Hx7"
    assert "Traceback" not in check.message


def test_validation_ok_reports_bars_and_detected_key():
    check = mapping.check_progression("| G | D | Em | C |")
    assert check.ok
    assert "4 bars" in check.message and "G major" in check.message
    assert check.progression.bars == 4


@pytest.mark.parametrize("text", ["", "| C:3 G:3 |", "| C | Am:3 F:3 |"])
def test_validation_other_mistakes_are_plain_words(text):
    check = mapping.check_progression(text)
    assert not check.ok and check.message
    assert "Traceback" not in check.message


def test_validation_uses_the_meter():
    assert mapping.check_progression("| C:3 | G:3 |", meter="3/4").ok


@pytest.mark.parametrize("name", list(mapping.PRESETS))
def test_every_preset_parses_and_generates(name):
    text, meter = mapping.PRESETS[name]
    check = mapping.check_progression(text, meter)
    assert check.ok, f"{name}: {check.message}"
    style = "waltz" if meter == "3/4" else ("ballad" if meter in ("6/8", "12/8") else "pop")
    workbench.generate(text, style=style, meter=meter, seed=1)


def test_presets_include_the_project_examples():
    texts = {t for t, _ in mapping.PRESETS.values()}
    assert "| G | D | Em | C |" in texts
    assert "| Bm7b5 | E7b9 | Am6 | Am6 |" in texts
    assert len(mapping.PRESETS) >= 14


def test_transpose_text():
    up = mapping.transpose_text("| C | Am | F | G7 |", 2)
    assert workbench.parse_progression(up).events[0].chord.root == 2
    assert "D" in up and "Bm" in up and "A7" in up


def test_key_choices_cover_24_keys_and_auto():
    values = [v for _, v in mapping.key_choices()]
    assert values[0] == "auto" and len(values) == 25
    for v in values[1:]:
        workbench.parse_key(v)


def test_friendly_error_plain_words():
    try:
        workbench.generate("| C | G |", style="nope")
    except ValueError as exc:
        text = mapping.friendly_error(exc)
    assert "nope" in text and "Traceback" not in text
    assert mapping.friendly_error(RuntimeError("disk full")).startswith("Something went wrong")


def test_transpose_key_moves_a_chosen_key_and_keeps_auto():
    assert mapping.transpose_key("auto", 3) == "auto"
    assert mapping.transpose_key("G major", 1) == "Ab major"
    assert mapping.transpose_key("A minor", -2) == "G minor"
    assert mapping.transpose_key("B major", 1) == "C major"
    values = {v for _, v in mapping.key_choices()}
    assert all(mapping.transpose_key(v, n) in values for v in values for n in range(-12, 13))
