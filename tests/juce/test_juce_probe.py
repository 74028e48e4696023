"""End to end: the JUCE module (through ``aiband_probe``) against the real service.

The service runs on a free loopback port in this process; the probe is a separate process
speaking the protocol with the module's own WebSocket client and juce::MidiFile. Notes are
compared with the Arrangement they came from in ticks (480 per quarter note, as written).
"""

from __future__ import annotations

import logging
import time

import pytest
from juce_probe import Probe
from server_testlib import free_port, http, settings_for

import workbench
from server.kernel import run_service

# The first test may build JUCE (make -C juce, a few minutes on a busy 2-core machine) when
# `make juce` has not run before pytest; `make test` builds it first.
pytestmark = pytest.mark.timeout(1200)

PPQ = 480
CHORDS = ["C", "Am", "F", "G", "Em", "A7", "Dm7", "G7"]


def ticks(beats: float) -> int:
    return round(beats * PPQ)


def expected_notes(arr, track: str) -> list[tuple]:
    tracks = list(arr.tracks) if track == "band" else [track]
    notes = [(n.pitch, ticks(n.start), ticks(n.end) - ticks(n.start), n.velocity)
             for name in tracks for n in arr.tracks[name].notes]
    return sorted(notes, key=lambda n: (n[1], n[0], n[2], n[3]))


def probe_notes(line: dict) -> list[tuple]:
    notes = [(p, ticks(s), ticks(s + ln) - ticks(s), v) for p, s, ln, v in line["note_list"]]
    return sorted(notes, key=lambda n: (n[1], n[0], n[2], n[3]))


def assert_same_notes(probe_files: dict, records: list[dict], arr, origin="disk"):
    assert {r["filename"] for r in records} <= set(probe_files)
    for record in records:
        line = probe_files[record["filename"]]
        expected = expected_notes(arr, record["track_type"])
        assert line["track_type"] == record["track_type"]
        assert line["notes"] == len(expected), record["filename"]
        assert probe_notes(line) == expected, record["filename"]
        assert line["tempo"] == pytest.approx(arr.tempo, abs=1e-3)
        assert line["length_beats"] == pytest.approx(arr.length_beats)
        assert line["origin"] == origin


@pytest.mark.slow
def test_probe_receives_every_generation_across_a_restart(probe_binary, tmp_path):
    port = free_port()
    folder = tmp_path / "band"
    svc = run_service(settings_for(folder, port=port))
    probe = None
    try:
        seen: list[dict] = []
        svc.on_event(seen.append)
        # 3 generations: 6 + 4 + 6 files; then 4 beats of simulated transport in real time.
        mirror = tmp_path / "mirror"
        probe = Probe(f"ws://127.0.0.1:{port}", "juce-e2e", "--notes", "--expect", "16",
                      "--timeout", "120", "--simulate-beats", "4", "--tempo", "240", "--realtime",
                      "--mirror", str(mirror))
        probe.wait_for(lambda x: x.get("state") == "connected", what="connection")
        first_instance = probe.events("connection_confirmed")[0]["instance"]
        registered = probe.wait_for(lambda x: x.get("event", {}).get("type") == "registered",
                                    what="registered")["event"]
        assert registered["plugin"]["info"]["client"] == "aiband_sync"
        assert http(svc.url, "GET", "/api/plugin/status?plugin_id=juce-e2e").json["plugin"][
            "role"] == "plugin"

        # 1. A notebook publishes an Arrangement (5 tracks + the band file).
        arr1 = workbench.generate(CHORDS, style="pop", tempo=126, key="C", seed=7)
        records1 = svc.publish(arr1)
        assert len(records1) == 6
        # 2. Somebody asks over HTTP (JSON content type, as the service requires).
        body = {"chords": CHORDS[:4], "bpm": 98, "key": "A", "style": "funk", "seed": 3,
                "tracks": ["bass", "drums", "keys"]}
        answer = http(svc.url, "POST", "/api/generate", body).json
        assert answer["success"], answer
        arr2 = workbench.generate(CHORDS[:4], style=answer["style"], tempo=98, key="A",
                                  seed=answer["seed"], meter=answer["meter"],
                                  tracks=["bass", "drums", "keys"])
        records2 = answer["files"]
        files = probe.wait_files([r["filename"] for r in records1 + records2])
        assert_same_notes(files, records1, arr1)
        assert_same_notes(files, records2, arr2)
        ready = probe.wait_for(lambda x: x.get("ready") == answer["generation"], what="ready")
        assert ready["tracks"] == 3
        channels = {c["track_type"]: c["channel"] for c in ready["channels"]}
        assert channels == {"bass": 1, "drums": 10, "keys": 2}

        # 3. The service goes away (a kernel culled); a band is made while the probe is cut off.
        svc.stop()
        probe.wait_for(lambda x: x.get("state") == "disconnected", what="disconnection")
        n_lines = len(probe.lines)
        probe.wait_for(lambda x: "error" in x and "cannot connect" in x["error"]
                       and probe.lines.index(x) >= n_lines, what="a failed reconnection")
        svc = run_service(settings_for(folder, port=port))
        seen_after: list[dict] = []
        svc.on_event(seen_after.append)
        arr3 = workbench.generate(CHORDS[4:], style="rock", tempo=140, key="D", seed=11)
        records3 = svc.publish(arr3)
        third = records3[0]["generation"]

        # 4. It reconnects with since+instance, is replayed the whole new history, plays.
        files = probe.wait_files([r["filename"] for r in records3], timeout=60)
        assert_same_notes(files, records3, arr3)
        confirmed = probe.events("connection_confirmed")
        assert len(confirmed) >= 2
        assert confirmed[-1]["instance"] != first_instance
        assert confirmed[-1]["since_reset"] is True
        assert confirmed[-1]["latest_seq"] >= len(records3)  # published before it was back: replayed
        replayed = [e for e in probe.events("midi_ready") if e.get("generation") == third]
        assert len(replayed) == len(records3)

        # Nothing announced was missed: every midi_ready of both runs became a parsed file,
        # mirrored byte for byte in the plugin's folder layout, nothing left in temp/.
        announced = {e["filename"] for e in seen + seen_after if e.get("type") == "midi_ready"}
        assert announced <= set(probe.files())
        for record in records1 + records2 + records3:
            copy = mirror / record["track_type"] / record["filename"]
            assert copy.read_bytes() == (folder / record["path"]).read_bytes()
        assert not list((mirror / "temp").iterdir())

        # 5. The simulated DAW plays the newest band; its transport reaches the notebook.
        summary = probe.wait_for(lambda x: "simulation" in x, timeout=30, what="simulation")
        sim = summary["simulation"]
        assert sim["generation"] == third
        assert sim["hanging_notes"] == 0
        assert sim["midi_events"] > 0
        assert probe.wait_exit(30) == 0
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            mine = [e for e in seen_after
                    if e.get("type") == "transport_sync" and e.get("source") == "juce-e2e"]
            if mine and mine[-1]["isPlaying"] is False:
                break
            time.sleep(0.05)
        playing = [e for e in mine if e["isPlaying"]]
        assert len(playing) >= 3, mine  # ~10 a second while the simulated DAW plays (1 s)
        beats = [e["currentBeat"] for e in playing]
        assert beats == sorted(beats) and 0 <= beats[0] < beats[-1] <= 4.0
        assert mine[-1]["isPlaying"] is False
        assert mine[-1]["currentBeat"] == pytest.approx(sim["end_beat"], abs=1e-6)
        assert mine[-1]["tempo"] == pytest.approx(240.0)
        # The only errors were the refused reconnections while the service was away.
        errors = [x["error"] for x in probe.lines if "error" in x]
        assert errors and all("cannot connect" in e for e in errors), errors
    finally:
        if probe is not None:
            probe.stop()
        svc.stop()


def test_probe_asks_for_a_band_and_plays_it(probe_binary, tmp_path):
    svc = run_service(settings_for(tmp_path / "band"))
    probe = Probe(svc.url.replace("http://", "ws://"), "juce-gen", "--http-only", "--notes",
                  "--generate", "Dm7-G7-Cmaj7",
                  "--generate-tracks", "bass,drums", "--generate-tempo", "110", "--expect", "3",
                  "--timeout", "60", "--simulate-beats", "16", "--print-midi")
    try:
        request_id = probe.wait_for(lambda x: "requested" in x, what="request")["requested"]
        result = probe.wait_for(lambda x: x.get("event", {}).get("type") == "generation_result",
                                what="generation_result")["event"]
        assert result["request_id"] == request_id
        assert result["tempo"] == 110
        assert probe.wait_exit(60) == 0
        arr = workbench.generate(["Dm7", "G7", "Cmaj7"], tempo=110, seed=result["seed"],
                                 style=result["style"], meter=result["meter"],
                                 tracks=["bass", "drums"])
        assert_same_notes(probe.files(), result["files"], arr, origin="zip")
        midi = [x for x in probe.lines if "midi" in x]
        channels = {m["midi"][0] & 0x0F for m in midi if m["midi"][0] & 0xF0 == 0x90}
        assert channels == {0, 9}  # bass on 1, drums on 10
        sim = next(x["simulation"] for x in probe.lines if "simulation" in x)
        assert sim["hanging_notes"] == 0
        ons = sum(1 for m in midi if m["midi"][0] & 0xF0 == 0x90 and m["midi"][2] > 0)
        offs = sum(1 for m in midi if m["midi"][0] & 0xF0 == 0x80
                   or (m["midi"][0] & 0xF0 == 0x90 and m["midi"][2] == 0))
        assert ons == offs > 0
    finally:
        probe.stop()
        svc.stop()


def test_over_http_a_generation_comes_in_one_zip_or_file_by_file(probe_binary, tmp_path):
    """A DAW on another machine: the module fetches a generation as one ZIP (one request, not
    six), and with fetchZips off (--no-zip) file by file; both give the same notes."""
    requests: list[str] = []

    class Requests(logging.Handler):
        def emit(self, record):
            fields = record.fields  # type: ignore[attr-defined]
            requests.append(f"{fields['method']} {fields['path']}")

    access = logging.getLogger("server.access")     # one record a request
    handler, level = Requests(), access.level
    access.addHandler(handler)
    access.setLevel(logging.DEBUG)
    svc = run_service(settings_for(tmp_path / "band"))
    ws = svc.url.replace("http://", "ws://")
    zip_probe = Probe(ws, "juce-zip", "--http-only", "--notes", "--expect", "6", "--timeout", "60")
    file_probe = Probe(ws, "juce-files", "--http-only", "--no-zip", "--notes", "--expect", "6",
                       "--timeout", "60")
    try:
        for p in (zip_probe, file_probe):
            p.wait_for(lambda x: x.get("state") == "connected", what="connection")
        requests.clear()
        arr = workbench.generate(CHORDS, style="bossa", tempo=132, key="F", seed=5)
        records = svc.publish(arr)
        assert zip_probe.wait_exit(60) == 0 and file_probe.wait_exit(60) == 0
        assert_same_notes(zip_probe.files(), records, arr, origin="zip")
        assert_same_notes(file_probe.files(), records, arr, origin="http")
    finally:
        zip_probe.stop()
        file_probe.stop()
        svc.stop()
        access.removeHandler(handler)
        access.setLevel(level)
    zips = [r for r in requests if "/files.zip" in r]
    files = [r for r in requests if "GET /files/" in r]
    assert len(zips) == 1 and len(files) == len(records), requests


def test_probe_reports_a_wrong_token_and_a_bad_url(probe_binary, tmp_path):
    svc = run_service(settings_for(tmp_path / "band", token="right-token"))
    try:
        wrong = Probe(svc.url.replace("http://", "ws://"), "juce-tok", "--token", "nope",
                      "--timeout", "2")
        line = wrong.wait_for(lambda x: "error" in x and "401" in x["error"], what="401")
        assert "refused" in line["error"] or "answered" in line["error"]
        assert wrong.wait_exit(10) == 0
        assert not wrong.events("connection_confirmed")

        right = Probe(svc.url.replace("http://", "ws://"), "juce-tok", "--token", "right-token",
                      "--timeout", "2")
        right.wait_for(lambda x: x.get("state") == "connected", what="connection")
        right.wait_exit(10)
    finally:
        svc.stop()

    bad = Probe("http://127.0.0.1:1", "juce-bad")
    assert bad.wait_exit(10) == 2
    assert "not a ws:// URL" in bad.stderr_text()


def test_probe_recovers_the_newest_band_after_a_history_gap(probe_binary, tmp_path):
    """Resuming from a seq the history no longer holds: the service says history_gap, the
    module fetches the file list and still gets the newest band to the player."""
    svc = run_service(settings_for(tmp_path / "band", history_size=1))
    try:
        svc.publish(workbench.generate(CHORDS[:4], seed=1))
        records = svc.publish(workbench.generate(CHORDS[4:], seed=2, tracks=["bass", "keys"]))
        newest = records[0]["generation"]
        instance = http(svc.url, "GET", "/health").json["instance"]
        probe = Probe(svc.url.replace("http://", "ws://"), "juce-gap", "--since", "1",
                      "--instance", instance, "--timeout", "30")
        try:
            gap = probe.wait_for(lambda x: x.get("event", {}).get("history_gap") is True,
                                 what="history_gap")["event"]
            assert gap["type"] == "notification"
            ready = probe.wait_for(lambda x: x.get("ready") == newest, what="ready after the gap")
            assert {c["track_type"] for c in ready["channels"]} == {"bass", "keys"}
            # Only the last event (the notification) was left to replay: the files came from
            # the gap's list, not from replayed midi_ready / files_ready events.
            assert not probe.events("midi_ready") and not probe.events("files_ready")
            lost = {f["filename"] for f in gap["files"]}
            assert {r["filename"] for r in records} <= lost
            probe.wait_files(lost)
        finally:
            probe.stop()
    finally:
        svc.stop()
