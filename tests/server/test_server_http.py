"""The HTTP API against a real service: the original's endpoints, the plugin team's, errors."""

from __future__ import annotations

import json
import shlex
import subprocess
import time
import urllib.parse

from server_testlib import README_BODY, http

CURL_EXAMPLE = """curl -X POST "http://localhost:8000/api/generate" \\
     -H "Content-Type: application/json" \\
     -d '{
       "chords": ["C", "Am", "F", "G"],
       "bpm": 120,
       "key": "C",
       "tracks": ["bass", "drums"]
     }'"""


def test_readme_curl_example_verbatim(service):
    command = CURL_EXAMPLE.replace("localhost:8000", f"localhost:{service.port}")
    out = subprocess.run(["bash", "-c", command + " -s -w '\\n%{http_code}'"],
                         capture_output=True, text=True, timeout=60)
    body, _, code = out.stdout.rpartition("\n")
    assert code == "200", (code, body, out.stderr)
    answer = json.loads(body)
    assert answer["success"] is True
    tracks = {f["track_type"] for f in answer["files"]}
    assert tracks == {"bass", "drums", "band"}
    assert answer["bass_file"].endswith(".mid") and "_bass_Cmaj_120" in answer["bass_file"]
    assert answer["drum_file"].endswith(".mid") and "_drums_Cmaj_120" in answer["drum_file"]
    for f in answer["files"]:
        got = http(service.url, "GET", f["url_path"])
        assert got.status == 200 and got.body.startswith(b"MThd")
        assert got.headers["Content-Type"] == "audio/midi"
        assert f["url"] == service.url + f["url_path"]
        assert (service.folder / f["path"]).is_file()
    # the sidecar of the generation (written just after the plugins are told)
    sidecar = service.folder / "meta" / f"{answer['generation']}.json"
    deadline = time.time() + 5
    while not sidecar.exists() and time.time() < deadline:
        time.sleep(0.01)
    meta = json.loads(sidecar.read_text())
    # ending off the tonic: the take gets a closing bar on C (issue 9)
    assert [c["symbol"] for c in meta["chords"]] == ["C", "Am", "F", "G", "C"]
    assert (meta["key"], meta["tempo"], meta["style"], meta["seed"]) == ("Cmaj", 120, "pop", 0)
    assert meta["meter"] == "4/4" and len(meta["files"]) == 3


def test_root_and_health(service):
    root = http(service.url, "GET", "/")
    assert root.status == 200 and root.json["service"] == "ai-band-workbench"
    health = http(service.url, "GET", "/health").json
    assert health["status"] == "healthy" and health["service"] == "ai-band-workbench"
    assert "token" not in json.dumps(health).replace("token_required", "")


def test_plugin_generate_shape_and_aliases(service):
    # the JUCE client: POST /generate {"chords", "tempo", "key"} and reads bass_file / drum_file
    r = http(service.url, "POST", "/generate", {"chords": ["Dm7", "G7", "Cmaj7"], "tempo": 96,
                                                "key": "C"})
    assert r.status == 200, r.body
    assert r.json["bass_file"] and r.json["drum_file"]
    assert http(service.url, "GET", "/files/" + urllib.parse.quote(r.json["bass_file"])).status == 200
    r = http(service.url, "POST", "/api/midi/generate",
             {"chord_progression": "C-Am-F-G", "track_types": ["keys"], "tempo": 100,
              "key": "C", "style": "rock", "seed": 3})
    assert r.status == 200, r.body
    assert {f["track_type"] for f in r.json["files"]} == {"keys", "band"}
    assert r.json["bass_file"] is None and r.json["tempo"] == 100
    r = http(service.url, "POST", "/api/generate",
             {"progression": "| C Am | F G |", "meter": "3/4", "style": "pop", "bpm": 90,
              "tracks": ["bass"]})
    assert r.status == 200, r.body
    assert r.json["meter"] == "3/4"


def test_sharp_key_filenames_are_url_encoded(service):
    r = http(service.url, "POST", "/api/generate", {"chords": ["F#", "D#m", "B", "C#"], "bpm": 120,
                                                    "key": "F#", "tracks": ["bass"]})
    assert r.status == 200, r.body
    f = next(f for f in r.json["files"] if f["track_type"] == "bass")
    assert "#" in f["filename"] and "%23" in f["url"]
    got = http(service.url, "GET", f["url_path"])
    assert got.status == 200 and got.body.startswith(b"MThd")


def test_file_list_paging_and_filter(service):
    for seed in range(3):
        assert http(service.url, "POST", "/api/generate", {**README_BODY, "seed": seed}).status == 200
    everything = http(service.url, "GET", "/api/files").json
    assert everything["total"] == len(everything["files"]) >= 9
    names = [f["filename"] for f in everything["files"]]
    assert names == sorted(names, key=lambda n: (n[:14], n), reverse=True)  # newest first
    bass = http(service.url, "GET", "/api/files?track=bass").json
    assert bass["files"] and all(f["track_type"] == "bass" for f in bass["files"])
    page1 = http(service.url, "GET", "/api/files?limit=2").json
    page2 = http(service.url, "GET", "/api/files?limit=2&offset=2").json
    assert [f["filename"] for f in page1["files"] + page2["files"]] == names[:4]
    assert http(service.url, "GET", "/files").json["total"] == everything["total"]
    assert http(service.url, "GET", "/api/midi/list").json["total"] == everything["total"]
    bad = http(service.url, "GET", "/api/files?limit=abc")
    assert bad.status == 400 and bad.json["field"] == "limit"


def test_download_etag_304_and_delete(service):
    r = http(service.url, "POST", "/api/generate", README_BODY).json
    f = r["files"][0]
    first = http(service.url, "GET", f["url_path"])
    etag = first.headers["ETag"]
    assert etag
    again = http(service.url, "GET", f["url_path"], headers={"If-None-Match": etag})
    assert again.status == 304 and again.body == b""
    head = http(service.url, "HEAD", f["url_path"])
    assert head.status == 200 and head.body == b""
    assert int(head.headers["Content-Length"]) == len(first.body) == f["size"]
    gone = http(service.url, "DELETE", "/api/files/" + urllib.parse.quote(f["filename"]))
    assert gone.status == 200 and gone.json["deleted"] == f["filename"]
    assert not (service.folder / f["path"]).exists()
    assert http(service.url, "GET", f["url_path"]).status == 404
    assert http(service.url, "DELETE", "/api/files/" + urllib.parse.quote(f["filename"])).status == 404
    other = r["files"][1]
    assert http(service.url, "DELETE", "/api/midi/" + urllib.parse.quote(other["file_id"])).status == 200


def _error(r, status):
    assert r.status == status, (r.status, r.body)
    body = r.json
    assert set(body) >= {"error", "detail"}
    assert "Traceback" not in r.body.decode()
    return body


def test_errors_name_the_bad_field(service):
    u = service.url
    e = _error(http(u, "POST", "/api/generate", raw=b'{"chords": ["C",'), 400)
    assert e["error"] == "invalid JSON"
    e = _error(http(u, "POST", "/api/generate", {"chords": ["C", "Am", "Hx7", "G"], "bpm": 120}), 400)
    assert e["value"] == "Hx7" and e["index"] == 2 and e["bar"] == 3 and "Hx7" in e["detail"]
    e = _error(http(u, "POST", "/api/generate", {"progression": "| C Am | F Qm7 |"}), 400)
    assert e["value"] == "Qm7" and e["bar"] == 2 and e["index"] == 3
    e = _error(http(u, "POST", "/api/generate", {"chords": ["C"], "bpm": 301}), 400)
    assert e["field"] == "bpm" and e["valid"] == [20, 300]
    e = _error(http(u, "POST", "/api/generate", {"chords": ["C"], "tempo": 10}), 400)
    assert e["field"] == "tempo"
    e = _error(http(u, "POST", "/api/generate", {"chords": ["C"], "tracks": ["bass", "tuba"]}), 400)
    assert e["field"] == "tracks" and e["value"] == "tuba" and "drums" in e["valid"]
    e = _error(http(u, "POST", "/api/generate", {"chords": ["C"], "style": "polka"}), 400)
    assert e["field"] == "style" and "pop" in e["valid"] and "pop" in e["detail"]
    e = _error(http(u, "POST", "/api/generate", {"chords": ["C"], "style": "waltz", "meter": "4/4"}), 400)
    assert e["field"] == "meter" and e["valid"] == ["3/4"]
    e = _error(http(u, "POST", "/api/generate", {"chords": ["C"], "key": "H major"}), 400)
    assert e["field"] == "key"
    e = _error(http(u, "POST", "/api/generate", {"bpm": 120}), 400)
    assert e["field"] == "chords"
    e = _error(http(u, "POST", "/api/generate", raw=b"[1, 2]"), 400)
    _error(http(u, "GET", "/api/nothing"), 404)
    _error(http(u, "PUT", "/api/generate", raw=b"{}"), 405)
    _error(http(u, "GET", "/files/nope.mid"), 404)


def test_oversized_body_is_refused_before_it_is_read(service):
    import socket

    with socket.create_connection(("127.0.0.1", service.port), timeout=10) as s:
        s.sendall(b"POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 2097152\r\n\r\n")  # headers only: the body never comes
        head = s.recv(65536)
    assert head.startswith(b"HTTP/1.1 413"), head
    body = json.loads(head.split(b"\r\n\r\n", 1)[1])
    assert body["error"] == "payload too large" and body["limit"] == 1 << 20

    # and with curl sending it all the same
    host, port = "127.0.0.1", service.port
    cmd = (f"curl -s -o /dev/null -w '%{{http_code}}' -X POST http://{host}:{port}/api/generate "
           f"-H 'Content-Type: application/json' -H 'Expect:' --data-binary @-")
    out = subprocess.run(["bash", "-c", cmd], input=b"{" + b" " * (3 << 20) + b"}",
                         capture_output=True, timeout=30)
    assert out.stdout.decode().strip() == "413", out


def test_transport_endpoints(service):
    u = service.url
    assert http(u, "POST", "/api/transport/reset").json["currentBeat"] == 0
    started = http(u, "POST", "/api/transport/start", {"tempo": 120}).json
    assert started["isPlaying"] is True and started["tempo"] == 120 and "T" in started["timestamp"]
    time.sleep(0.3)
    pos = http(u, "GET", "/api/transport/position").json
    assert pos["isPlaying"] and 0.4 < pos["currentBeat"] < 2.0  # 2 beats per second
    stopped = http(u, "POST", "/api/transport/stop").json
    assert stopped["isPlaying"] is False
    b1 = http(u, "GET", "/api/transport/position").json["currentBeat"]
    time.sleep(0.1)
    assert http(u, "GET", "/api/transport/position").json["currentBeat"] == b1
    synced = http(u, "POST", "/api/transport/sync", {"isPlaying": True, "currentBeat": 16,
                                                     "tempo": 90}).json
    assert synced["type"] == "transport_sync" and synced["tempo"] == 90 and synced["seq"] > 0
    e = _error(http(u, "POST", "/api/transport/sync", {"tempo": 5}), 400)
    assert e["field"] == "tempo"
    e = _error(http(u, "POST", "/api/transport/sync", {"currentBeat": "x"}), 400)
    assert e["field"] == "currentBeat"
    http(u, "POST", "/api/transport/stop")


def test_plugin_endpoints(service):
    u = service.url
    reg = http(u, "POST", "/api/plugin/register", {"plugin_id": "juce-1", "version": "0.9"})
    assert reg.status == 200 and reg.json["websocket_url"].endswith("/ws/juce-1")
    hb = http(u, "POST", "/api/plugin/heartbeat", {"plugin_id": "juce-1", "status": {"bpm": 120}})
    assert hb.status == 200 and hb.json["plugin"]["alive"]
    status = http(u, "GET", "/api/plugin/status").json
    assert any(p["plugin_id"] == "juce-1" for p in status["plugins"])
    one = http(u, "GET", "/api/plugin/status?plugin_id=juce-1").json
    assert one["plugin"]["status"] == {"bpm": 120} and one["plugin"]["info"]["version"] == "0.9"
    assert http(u, "GET", "/api/plugin/status?plugin_id=ghost").status == 404
    stats = http(u, "GET", "/api/plugins/stats").json
    assert {"connected_plugins", "latest_seq", "files", "plugins"} <= set(stats)
    e = _error(http(u, "POST", "/api/plugin/register", {"name": "x"}), 400)
    assert e["field"] == "plugin_id"


def test_generation_keeps_the_loop_responsive(service):
    import threading

    times = []

    def ping():
        for _ in range(20):
            t = time.perf_counter()
            http(service.url, "GET", "/health")
            times.append(time.perf_counter() - t)

    threads = [threading.Thread(target=lambda: http(service.url, "POST", "/api/generate",
                                                     {**README_BODY, "tracks": None,
                                                      "repeat": 8}))
               for _ in range(2)]
    for t in threads:
        t.start()
    ping()
    for t in threads:
        t.join()
    assert max(times) < 0.25, max(times)


def test_curl_command_is_shell_safe():
    assert shlex.split(CURL_EXAMPLE)[0] == "curl"


def test_retention_through_the_service(make_service):
    svc = make_service(retention_max_files=4)
    answers = []
    for seed in range(3):
        r = http(svc.url, "POST", "/api/generate", {**README_BODY, "seed": seed})
        assert r.status == 200
        answers.append([f["filename"] for f in r.json["files"]])
    listed = http(svc.url, "GET", "/api/files").json
    # whole generations go (3 files each): only the newest band is left, all its tracks
    assert sorted(f["filename"] for f in listed["files"]) == sorted(answers[-1])
    on_disk = sorted(p.name for p in svc.folder.glob("*/*.mid"))
    assert on_disk == sorted(answers[-1])
    # plugins are told: file_deleted with the reason, for every file of the removed generations
    events = http(svc.url, "GET", "/api/events?since=0").json["events"]
    deleted = [e for e in events if e["type"] == "file_deleted"]
    assert sorted(e["filename"] for e in deleted) == sorted(answers[0] + answers[1])
    assert {e["reason"] for e in deleted} == {"retention"}
    assert all(e["generation"] and e["track_type"] in ("bass", "drums", "band") for e in deleted)


def test_events_and_publish_endpoints(service):
    import base64

    u = service.url
    r = http(u, "POST", "/api/generate", README_BODY).json
    events = http(u, "GET", f"/api/events?since={r['seq'] - 2}").json
    assert [e["type"] for e in events["events"]] == ["files_ready", "generation_complete",
                                                     "notification"][: len(events["events"])]
    assert events["complete"] is True
    # an upload from another process: real MIDI bytes under a fresh name
    band = next(f for f in r["files"] if f["track_type"] == "band")
    data = http(u, "GET", band["url_path"]).body
    name = "20300101000000_band_Cmaj_120.mid"
    up = http(u, "POST", "/api/publish", {"files": [
        {"track_type": "band", "filename": name, "data": base64.b64encode(data).decode()}],
        "meta": {"style": "pop"}})
    assert up.status == 200 and up.json["band_file"] == name
    assert http(u, "GET", "/files/" + name).body == data
    bad = http(u, "POST", "/api/publish", {"files": [
        {"track_type": "band", "filename": "20300101000001_band_Cmaj_120.mid",
         "data": base64.b64encode(b"not midi").decode()}]})
    assert bad.status == 400 and bad.json["field"] == "files"
    assert http(u, "POST", "/api/publish", {"files": [
        {"track_type": "band", "filename": "x.mid", "data": "%%%"}]}).status == 400
    assert http(u, "POST", "/api/publish", {}).status == 400


def test_ending_false_keeps_the_groove_for_a_loop(service):
    import io

    import pretty_midi

    def last_bar_onsets(**extra):
        r = http(service.url, "POST", "/api/generate",
                 {"chords": ["F", "C"], "key": "C", "bpm": 120, "style": "rock", "tracks": ["bass"],
                  **extra})  # ends on the tonic: no tag bar after bar 2
        assert r.status == 200, r.body
        midi = http(service.url, "GET", "/files/" + urllib.parse.quote(r.json["bass_file"])).body
        notes = pretty_midi.PrettyMIDI(io.BytesIO(midi)).instruments[0].notes
        return len({round(n.start, 3) for n in notes if n.start >= 2.0})  # bar 2 at 120 bpm

    assert last_bar_onsets() == 1                  # the held final chord
    assert last_bar_onsets(ending=False) >= 3


def test_a_generation_in_one_zip(service):
    """GET /api/generations/{id}/files.zip: every file of the generation, byte for byte what its
    own download gives; unknown and unsafe names are refused; a deleted file is left out."""
    import io
    import zipfile

    r = http(service.url, "POST", "/api/generate",
             {"chords": ["C", "F", "G", "C"], "tracks": ["bass", "drums", "keys"], "seed": 3})
    assert r.status == 200, r.body
    gen = r.json["generation"]
    path = "/api/generations/" + urllib.parse.quote(gen, safe="") + "/files.zip"
    got = http(service.url, "GET", path)
    assert got.status == 200 and got.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(got.body)) as zf:
        assert zf.testzip() is None
        inside = {name: zf.read(name) for name in zf.namelist()}
    assert sorted(inside) == sorted(f["filename"] for f in r.json["files"])
    for f in r.json["files"]:
        assert inside[f["filename"]] == http(service.url, "GET", f["url_path"]).body
    assert http(service.url, "GET", path).body == got.body          # the same bytes again

    assert _error(http(service.url, "GET", "/api/generations/nope/files.zip"), 404)["field"] == \
        "generation"
    assert http(service.url, "GET", "/api/generations/..%2Fmeta/files.zip").status in (400, 404)
    assert http(service.url, "GET", "/api/generations/.hidden/files.zip").status == 400

    keys = next(f["filename"] for f in r.json["files"] if f["track_type"] == "keys")
    assert http(service.url, "DELETE", "/api/files/" + urllib.parse.quote(keys)).status == 200
    with zipfile.ZipFile(io.BytesIO(http(service.url, "GET", path).body)) as zf:
        assert keys not in zf.namelist() and len(zf.namelist()) == len(inside) - 1
