"""The engine's checks are the one place of each rule: every bad argument of ``generate`` is a
WorkbenchError naming its field, its value and (where there is a closed list) the valid ones."""

from __future__ import annotations

import pytest

import workbench
from workbench.errors import WorkbenchError
from workbench.progression import parse_meter


@pytest.mark.parametrize("kwargs, field, valid", [
    ({"tempo": 500}, "tempo", (20, 300)),
    ({"tempo": float("nan")}, "tempo", (20, 300)),
    ({"tempo": "fast"}, "tempo", (20, 300)),
    ({"seed": 1.5}, "seed", None),
    ({"seed": True}, "seed", None),
    ({"repeat": 65}, "repeat", (1, 64)),
    ({"count_in": "no"}, "count_in", (True, False)),
    ({"ending": "yes"}, "ending", (True, False)),
    ({"swing": 2}, "swing", (0.0, 1.0)),
    ({"style": "polka"}, "style", None),
    ({"style": ["pop"]}, "style", None),
    ({"style": "waltz", "meter": "4/4"}, "meter", ("3/4",)),
    ({"tracks": ["bass", "tuba"]}, "tracks", workbench.TRACKS),
    ({"tracks": []}, "tracks", workbench.TRACKS),
    ({"instruments": {"tuba": 1}}, "instruments", workbench.TRACKS),
    ({"instruments": {"bass": 300}}, "instruments", None),
    ({"levels": {"bass": 2}}, "levels", (0.0, 1.0)),
    ({"density": {"drums": "lots"}}, "density", (0.0, 1.0)),
    ({"key": "H major"}, "key", None),
])
def test_every_bad_argument_names_its_field(kwargs, field, valid):
    with pytest.raises(WorkbenchError) as err:
        workbench.generate(["C", "G"], **kwargs)
    assert err.value.field == field, err.value
    if valid is not None:
        assert tuple(err.value.valid) == tuple(valid)
    body = err.value.to_dict()
    assert body["field"] == field and str(err.value) == body["detail"]


def test_good_values_in_other_forms_are_taken():
    arr = workbench.generate(["C", "G"], tempo="96", seed=3.0, count_in=1, repeat="2")
    assert (arr.tempo, arr.seed, arr.count_in) == (96.0, 3, True)


def test_one_meter_parser():
    m = parse_meter("6/8")
    assert (m.text, m.beats_per_bar, m.unit, m.numerator, m.denominator) == ("6/8", 3.0, 0.5, 6, 8)
    with pytest.raises(WorkbenchError) as err:
        parse_meter("7/3")
    assert err.value.field == "meter"


def test_one_file_name_scheme_and_one_atomic_writer(tmp_path):
    from workbench.files import file_name, generation_id, parse_file_name, write_atomic

    arr = workbench.generate(["F#", "B"], key="F#", tempo=120.0, tracks=["bass"])
    paths = arr.track_paths(tmp_path, "20250824103000")
    assert [p.name for p in paths] == [file_name("20250824103000", part, "F#maj", 120)
                                       for part in ("bass", "band")]
    parsed = parse_file_name(paths[0].name)
    assert parsed is not None and (parsed.part, parsed.key, parsed.tempo) == ("bass", "F#maj", "120")
    assert generation_id(paths[0].name) == generation_id(paths[1].name) == "20250824103000_F#maj_120"
    (tmp_path / "temp").mkdir()
    target = write_atomic(tmp_path / "x.json", b"{}", tmp_path / "temp")
    assert target.read_bytes() == b"{}" and not list((tmp_path / "temp").iterdir())
