"""Widget behaviour in Python, no browser: controls, live validation, Workbench, Player."""

from __future__ import annotations

import pytest

import workbench
from workbench.ui import Controls, Player, SyncPanel, Workbench, mapping
from workbench.ui.sync import event_beat, service_port


@pytest.fixture
def app():
    return Workbench(audio_engine="builtin")


def test_controls_defaults_are_valid_and_map_to_generate():
    c = Controls()
    assert c.check.ok
    assert "wb-ok" in c.message.value
    assert mapping.generate_kwargs(c.state()) == mapping.generate_kwargs(mapping.default_state())


def test_live_validation_names_the_chord_and_bar():
    c = Controls()
    c.progression.value = "| C | Am | Hx7 | G |"
    assert not c.check.ok
    assert "Hx7" in c.message.value and "3" in c.message.value and "wb-error" in c.message.value
    c.progression.value = "| C | Am | F | G |"
    assert c.check.ok and "wb-ok" in c.message.value


def test_preset_sets_text_and_meter():
    c = Controls()
    c.presets.value = "Waltz 3/4 (G)"
    assert c.progression.value == "| G | Em | Am7 | D7 |"
    assert c.meter.value == "3/4" and c.check.ok


def test_transpose_buttons():
    c = Controls()
    c.progression.value = "| C | F | G7 | C |"
    c.up.click()
    assert workbench.parse_progression(c.progression.value).events[0].chord.root == 1
    c.down.click()
    c.down.click()
    assert workbench.parse_progression(c.progression.value).events[0].chord.root == 11


def test_transpose_moves_a_chosen_key_with_the_chords(app):
    app.controls.key.value = "G major"
    n = app.generations
    app.controls.up.click()
    assert app.controls.progression.value.split()[1] == "Ab"
    assert app.controls.key.value == "Ab major"
    assert app.arrangement.key.name == "Ab major"
    assert app.generations == n + 1                  # one regeneration, not two


def test_wrong_chord_clears_the_detected_key():
    c = Controls()
    assert "G major" in c.detected.value
    c.progression.value = "| C | Hx7 |"
    assert "G major" not in c.detected.value
    c.progression.value = "| F | C7 | F | F |"
    assert "F major" in c.detected.value


def test_transpose_with_a_wrong_chord_says_so():
    c = Controls()
    c.progression.value = "| C | Hx7 |"
    c.up.click()
    assert "Hx7" in c.message.value and c.progression.value == "| C | Hx7 |"


def test_new_variation_changes_the_seed():
    c = Controls()
    seeds = set()
    for _ in range(5):
        c.variation.click()
        seeds.add(c.seed.value)
    assert len(seeds) > 1


def test_swing_auto_checkbox():
    c = Controls()
    assert c.state()["swing"] is None and c.swing.disabled
    c.swing_auto.value = False
    c.swing.value = 0.4
    assert c.state()["swing"] == 0.4 and not c.swing.disabled


def test_style_description_shown():
    c = Controls()
    c.style.value = "bossa"
    info = {s.name: s for s in workbench.styles()}["bossa"]
    assert info.description[:20] in c.style_info.value.replace("&#x27;", "'")


def test_workbench_generates_on_load(app):
    # the default preset's four bars and the tonic the band ends on
    assert app.arrangement is not None and app.arrangement.bars == 5
    assert app.roll.bars == 5 and app.roll.notes
    assert "wb-ok" in app.status.value
    assert app.downloads.value.count("data:audio/midi;base64,") == 1 + len(workbench.TRACKS)
    assert app.player.wait(30)
    assert app.player.complete and app.player.sent_bytes > 0 and not app.player.rendering


def test_control_change_regenerates(app):
    n = app.generations
    app.controls.tempo.value = 90
    assert app.generations == n + 1 and app.arrangement.tempo == 90
    app.controls.strips["guitar"].on.value = False
    assert "guitar" not in app.arrangement.tracks
    assert [t["name"] for t in app.roll.tracks] == list(app.arrangement.tracks)
    app.controls.progression.value = "| C | Am | F | G | Dm | G7 | C | C |"
    assert app.roll.bars == 8


def test_wrong_chord_keeps_last_preview(app):
    before = app.arrangement
    app.controls.progression.value = "| C | Hx7 |"
    assert app.arrangement is before
    app.controls.generate.click()
    assert "Hx7" in app.status.value and "wb-error" in app.status.value


def test_engine_errors_are_shown_inline(app, monkeypatch):
    # the meter list offers no 4/4 for waltz; a state set from code still can
    state = {**app.controls.state(), "style": "waltz", "meter": "4/4"}
    monkeypatch.setattr(app.controls, "state", lambda: state)
    app.controls.generate.click()
    assert "wb-error" in app.status.value
    assert "3/4" in app.status.value          # the message lists the meters waltz supports
    assert "Traceback" not in app.status.value


def test_all_tracks_off_is_inline(app):
    for strip in app.controls.strips.values():
        strip.on.value = False
    assert "at least one" in app.status.value


def test_player_alone(arrangement):
    p = Player(arrangement, engine="builtin", background=False)
    assert p.wav[:4] == b"RIFF" and p.version == 1 and not p.rendering
    assert "built-in" in p.status
    assert p.length_beats == arrangement.length_beats and p.tempo == arrangement.tempo
    assert "Audio player" in p._repr_mimebundle_()["text/html"]


def test_player_newer_render_wins(arrangement, blues):
    p = Player(engine="builtin")
    p.render(blues)
    p.render(arrangement)
    assert p.wait(30)
    assert p.last_audio.duration < 20           # the 4-bar one, not the 12-bar blues


def test_event_beat_reads_transport_events():
    assert event_beat({"type": "transport_sync", "isPlaying": True, "currentBeat": 5.5,
                       "tempo": 120}) == (5.5, True, 120)
    assert event_beat({"type": "transport_sync", "data": {"currentBeat": 2, "isPlaying": False}}
                      ) == (2.0, False, None)
    assert event_beat({"type": "midi_ready"}) is None


def test_service_port_under_tests_is_free(monkeypatch):
    monkeypatch.delenv("ORCHESTRATOR_PORT", raising=False)
    port = service_port()
    assert port and port != 8000
    monkeypatch.setenv("ORCHESTRATOR_PORT", "8123")
    assert service_port() == 8123


def test_notebook_listeners_are_not_counted_as_daw_plugins():
    from workbench.ui.sync import is_notebook_listener

    assert is_notebook_listener({"plugin_id": "notebook-1234", "role": "notebook"})
    # the JUCE plugin's default endpoint is /ws/sync: the endpoint says nothing about who it is
    assert not is_notebook_listener({"plugin_id": "daw1", "kind": "sync", "role": "plugin"})
    assert not is_notebook_listener({"plugin_id": "daw1"})


def test_sync_panel_off_does_not_publish(arrangement):
    panel = SyncPanel()
    assert not panel.running and panel.publish(arrangement) == []


def test_meter_list_offers_only_the_styles_meters_and_names_their_styles():
    c = Controls()
    styles = {s.name: s for s in workbench.styles()}
    assert [v for _, v in c.meter.options] == list(styles["pop"].meters)
    c.style.value = "waltz"
    assert [v for _, v in c.meter.options] == ["3/4"] and c.meter.value == "3/4"
    label = dict((v, k) for k, v in c.meter.options)["3/4"]
    assert all(name in label for name, s in styles.items() if "3/4" in s.meters)
    assert c.check.ok
    c.style.value = "funk"
    assert c.meter.value == "4/4"
    assert "all styles but waltz" in dict((v, k) for k, v in c.meter.options)["4/4"]


def test_a_preset_in_another_meter_picks_a_style_that_plays_it():
    c = Controls()
    c.style.value = "funk"
    c.presets.value = "Jig 6/8 (D)"
    assert c.meter.value == "6/8" and "6/8" in dict(
        (s.name, s.meters) for s in workbench.styles())[c.style.value]
    assert c.check.ok


def test_a_meter_no_style_plays_is_refused_by_name():
    c = Controls()
    with pytest.raises(ValueError, match="No style plays 5/4"):
        c.set_state({"meter": "5/4"})
    assert c.meter.value == "4/4" and c.check.ok


def test_style_sets_its_tempo_until_the_user_moves_the_slider(app):
    c = app.controls
    c.style.value = "swing"
    assert c.tempo.value == 140 and app.arrangement.tempo == 140
    c.style.value = "ballad"
    assert c.tempo.value == 72
    c.tempo.value = 90                          # the user's choice from now on
    c.style.value = "swing"
    assert c.tempo.value == 90 and app.arrangement.tempo == 90
    assert "follows" not in c.style_info.value
    c.tempo.value = 140                         # back on the style's tempo: follows again
    c.style.value = "waltz"
    assert c.tempo.value == 150


def test_one_regeneration_per_style_change(app):
    n = app.generations
    app.controls.style.value = "waltz"          # meter and tempo change with it
    assert app.generations == n + 1


def test_an_error_marks_the_old_result_stale_until_a_new_one(app):
    title = app.roll.title
    for strip in app.controls.strips.values():
        strip.on.value = False
    assert app.stale and app.roll.title.startswith("Out of date")
    assert "wb-stale" in app.result._dom_classes
    assert app.roll in app.result.children and app.player in app.result.children[1].children
    assert "out of date" in app.downloads.value and "last good result" in app.status.value
    app.controls.strips["bass"].on.value = True
    assert not app.stale and not app.roll.title.startswith("Out of date")
    assert "wb-stale" not in app.result._dom_classes and "out of date" not in app.downloads.value
    assert app.roll.title == title and list(app.arrangement.tracks) == ["bass"]


def test_every_unlabelled_control_gets_an_accessible_name(app):
    named = {cls for cls in app.page.labels}
    for widget, name in app.controls.names.items():
        assert name and set(widget._dom_classes) & named
    assert {"Chord progression", "Tempo (bpm)", "Bass instrument", "Guitar density"} <= set(
        app.page.labels.values())
    assert app.page.submit_from in app.controls.progression._dom_classes
    assert app.page.submit_to in app.controls.generate._dom_classes
    # Generate comes right after the chord box (one Tab away)
    kids = app.children
    assert kids.index(app.controls.text_box) + 1 == kids.index(
        next(k for k in kids if app.controls.generate in getattr(k, "children", ())))
