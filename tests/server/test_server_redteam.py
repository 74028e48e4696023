"""The red-team findings of issue 10, one test (or a few) per hole; each failed before its fix."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import re
import shutil
import socket
import time

import pytest
import websockets
from server_testlib import README_BODY, http, read_until_closed, run, settings_for
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from server.kernel import run_service

SMALL = dict(README_BODY, chords=["C", "G"], tracks=["bass"])


def raw_request(port: int, head: str, body: bytes = b"") -> tuple[int, bytes]:
    """One request written by hand (chunked bodies, odd Host headers); (status, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(head.encode() + body)
        data = b""
        try:
            while chunk := s.recv(65536):
                data += chunk
                top, sep, rest = data.partition(b"\r\n\r\n")
                length = re.search(rb"(?i)content-length: *(\d+)", top)
                if sep and length and len(rest) >= int(length[1]):
                    break
        except ConnectionResetError:
            pass
    status_line, _, rest = data.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


async def recv_type(ws, kind: str, timeout: float = 10) -> dict:
    """The next message of type ``kind`` (skipping others, e.g. a transport snapshot)."""
    while True:
        m = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if m.get("type") == kind:
            return m


# ---------------------------------------------------------------------------- 1. linked folders
def ready(svc):
    """Wait until the service has checked its engine (and made its track folders), so that a
    test changing the folders does not race with it."""
    deadline = time.time() + 30
    while not svc.service.engine_ok and time.time() < deadline:
        time.sleep(0.01)
    return svc


@pytest.fixture
def outside(tmp_path):
    out = tmp_path / "outside"
    out.mkdir()
    return out


def test_delete_through_a_linked_track_folder_touches_nothing_outside(make_service, outside):
    svc = make_service()
    rec = http(svc.url, "POST", "/api/generate", SMALL).json["files"][0]
    assert rec["track_type"] == "bass"
    # the track folder is swapped for a link to a folder elsewhere holding a file of that name
    victim = outside / rec["filename"]
    victim.write_bytes(b"MThd precious")
    shutil.rmtree(svc.folder / "bass")
    os.symlink(outside, svc.folder / "bass")
    r = http(svc.url, "DELETE", "/api/files/" + rec["filename"])
    assert r.status in (400, 404), r.body
    assert victim.read_bytes() == b"MThd precious"
    assert http(svc.url, "GET", "/files/" + rec["filename"]).status in (400, 404)


def test_a_generation_zip_never_reads_through_a_link(make_service, outside):
    """The ZIP of a generation reads its files the way a download does: a file swapped for a
    link to a secret elsewhere (or a linked track folder) is left out, never packed."""
    import io
    import zipfile

    svc = make_service()
    r = http(svc.url, "POST", "/api/generate", dict(SMALL, tracks=["bass", "drums"])).json
    secret = outside / "secret.txt"
    secret.write_bytes(b"the secret")
    drums = next(f for f in r["files"] if f["track_type"] == "drums")
    (svc.folder / drums["path"]).unlink()
    os.symlink(secret, svc.folder / drums["path"])
    bass = next(f for f in r["files"] if f["track_type"] == "bass")
    shutil.rmtree(svc.folder / "bass")
    os.symlink(outside, svc.folder / "bass")
    (outside / bass["filename"]).write_bytes(b"MThd elsewhere")
    got = http(svc.url, "GET", f"/api/generations/{r['generation']}/files.zip")
    if got.status == 200:
        with zipfile.ZipFile(io.BytesIO(got.body)) as zf:
            names = zf.namelist()
            assert drums["filename"] not in names and bass["filename"] not in names
            assert all(b"secret" not in zf.read(n) and b"elsewhere" not in zf.read(n)
                       for n in names)
    else:
        assert got.status == 404, got.body


def test_retention_through_a_linked_folder_touches_nothing_outside(make_service, outside):
    svc = make_service(retention_max_files=2, trash="trash")
    first = http(svc.url, "POST", "/api/generate", SMALL).json["files"][0]
    victim = outside / first["filename"]
    victim.write_bytes(b"MThd precious")
    shutil.rmtree(svc.folder / "bass")
    os.symlink(outside, svc.folder / "bass")
    http(svc.url, "POST", "/api/generate", dict(SMALL, tracks=["drums"]))
    http(svc.url, "POST", "/api/generate", dict(SMALL, tracks=["drums"]))
    assert victim.read_bytes() == b"MThd precious"


def test_publish_into_a_linked_new_track_folder_writes_nothing(make_service, outside):
    import base64

    svc = ready(make_service())
    os.symlink(outside, svc.folder / "strings")
    data = base64.b64encode(b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0").decode()
    r = http(svc.url, "POST", "/api/publish", {"files": [
        {"track_type": "strings", "filename": "20250101000000_strings_Cmaj_120.mid",
         "data": data}]})
    assert r.status == 400 and r.json["error"] == "unsafe path", r.body
    assert list(outside.iterdir()) == []


def test_generation_into_a_linked_track_folder_writes_nothing(make_service, outside):
    svc = ready(make_service())
    shutil.rmtree(svc.folder / "pad", ignore_errors=True)
    os.symlink(outside, svc.folder / "pad")
    r = http(svc.url, "POST", "/api/generate", dict(SMALL, tracks=["bass", "pad"]))
    assert 400 <= r.status < 500 and r.json["error"] == "unsafe path", (r.status, r.body)
    assert "pad" in r.json["detail"]
    assert list(outside.iterdir()) == []


def test_linked_temp_or_meta_folder_is_refused(make_service, outside):
    svc = ready(make_service())
    shutil.rmtree(svc.folder / "temp")
    os.symlink(outside, svc.folder / "temp")
    r = http(svc.url, "POST", "/api/generate", SMALL)
    assert 400 <= r.status < 500 and r.json["error"] == "unsafe path", (r.status, r.body)
    assert list(outside.iterdir()) == []


# ---------------------------------------------------------------------------- 2. Host, Origin, CSRF
def test_cross_site_posts_are_refused(service):
    before = len(http(service.url, "GET", "/api/files").json["files"])
    for path in ("/api/generate", "/api/transport/start"):
        r = http(service.url, "POST", path, raw=json.dumps(README_BODY).encode(),
                 headers={"Content-Type": "text/plain", "Origin": "http://evil.example"})
        assert r.status == 403, (path, r.status, r.body)
        assert r.json["error"] == "origin not allowed"
    # a JSON content type from another origin: refused just the same
    r = http(service.url, "POST", "/api/generate", README_BODY,
             headers={"Origin": "http://evil.example"})
    assert r.status == 403
    r = http(service.url, "DELETE", "/api/files/x.mid", headers={"Origin": "null"})
    assert r.status == 403
    assert len(http(service.url, "GET", "/api/files").json["files"]) == before
    assert service.transport()["isPlaying"] is False


def test_json_routes_need_a_json_content_type(service):
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        r = http(service.url, "POST", "/api/generate", raw=json.dumps(README_BODY).encode(),
                 headers={"Content-Type": ctype})
        assert r.status == 415 and r.json["error"] == "unsupported media type", (ctype, r.body)
    r = http(service.url, "POST", "/api/transport/start", raw=b"{}",
             headers={"Content-Type": "text/plain;charset=UTF-8"})
    assert r.status == 415
    ok = http(service.url, "POST", "/api/transport/stop")  # no body at all: fine (curl -X POST)
    assert ok.status == 200
    ok = http(service.url, "POST", "/api/transport/stop", raw=b"{}",
              headers={"Content-Type": "application/json; charset=utf-8"})
    assert ok.status == 200


def test_dns_rebinding_host_is_refused(service):
    port = service.port
    for host in (f"evil.example:{port}", "evil.example", f"attacker.localhost.evil:{port}"):
        status, body = raw_request(port, f"GET /api/files HTTP/1.1\r\nHost: {host}\r\n"
                                         "Connection: close\r\n\r\n")
        assert status == 403, (host, status)
        assert json.loads(body)["error"] == "host not allowed"
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "127.0.0.1", f"[::1]:{port}"):
        status, _ = raw_request(port, f"GET /api/files HTTP/1.1\r\nHost: {host}\r\n"
                                      "Connection: close\r\n\r\n")
        assert status == 200, host

    upgrade = ("GET /ws/rebind HTTP/1.1\r\nHost: evil.example:{port}\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Sec-WebSocket-Version: 13\r\n{origin}\r\n")
    for origin in (f"Origin: http://evil.example:{port}\r\n", ""):  # a page, a native client
        status, body = raw_request(port, upgrade.format(port=port, origin=origin))
        assert status == 403 and json.loads(body)["error"] == "host not allowed", (origin, status)


def test_configured_names_are_allowed_hosts(make_service):
    svc = make_service(allowed_hosts="band.local")
    status, _ = raw_request(svc.port, f"GET /api/files HTTP/1.1\r\nHost: band.local:{svc.port}\r\n"
                                      "Connection: close\r\n\r\n")
    assert status == 200


# ---------------------------------------------------------------------------- 3. memory bounds
def test_plugin_info_and_status_are_bounded(service):
    big = "x" * 900_000  # under the body limit, far over the info bound
    r = http(service.url, "POST", "/api/plugin/register", {"plugin_id": "fat", "blob": big})
    assert r.status == 413 and r.json["field"] == "info", r.body[:300]
    many = {f"k{i}": i for i in range(500)}
    r = http(service.url, "POST", "/api/plugin/register", {"plugin_id": "wide", **many})
    assert r.status == 413
    r = http(service.url, "POST", "/api/plugin/heartbeat", {"plugin_id": "fat",
                                                             "status": {"blob": big[:100000]}})
    assert r.status == 413 and r.json["field"] == "status"

    async def ws():
        async with websockets.connect(service.ws_url + "/ws/chatty") as c:
            await c.recv()
            for _ in range(20):
                await c.send(json.dumps({"type": "status", "status": {"blob": "y" * 60000}}))
                m = await recv_type(c, "error")
                assert m["field"] == "status"
            await c.send(json.dumps({"type": "status", "status": {"playing": True}}))
            m = await recv_type(c, "status_response")
            assert m["plugin"]["status"] == {"playing": True}

    run(ws())
    status = http(service.url, "GET", "/api/plugin/status")
    assert len(status.body) < 200_000
    hub = service.service.hub
    assert sum(len(json.dumps(p["info"])) + len(json.dumps(p["status"]))
               for p in hub.plugins.values()) < 100_000


def test_plugin_table_is_bounded(make_service):
    svc = make_service()
    hub = svc.service.hub
    for i in range(hub.MAX_PLUGINS + 50):
        svc._call(hub.register, f"p{i}", {"name": "n"})
    assert len(hub.plugins) <= hub.MAX_PLUGINS


# ---------------------------------------------------------------------------- 4. rate limits
def test_rate_limit_cannot_be_evaded_with_fresh_ids(make_service):
    svc = make_service(rate_limit=6, rate_burst=3)
    answers = [http(svc.url, "POST", "/api/generate", dict(SMALL, plugin_id=f"id{i}"),
                    headers={"X-Plugin-Id": f"hdr{i}"}).status for i in range(6)]
    assert answers[:3] == [200, 200, 200] and set(answers[3:]) == {429}, answers


def test_invalid_requests_are_not_charged_and_do_not_clear_buckets(make_service):
    svc = make_service(rate_limit=6, rate_burst=2)
    assert http(svc.url, "POST", "/api/generate", SMALL).status == 200
    assert http(svc.url, "POST", "/api/generate", SMALL).status == 200
    assert http(svc.url, "POST", "/api/generate", SMALL).status == 429
    # many invalid requests (with fresh ids): answered 400 or 429, never a reset of the bucket
    for i in range(30):
        r = http(svc.url, "POST", "/api/generate", {"chords": ["Hx7"], "plugin_id": f"z{i}"},
                 headers={"X-Plugin-Id": f"z{i}"})
        assert r.status in (400, 429)
    assert http(svc.url, "POST", "/api/generate", SMALL).status == 429

    fresh = make_service(rate_limit=6, rate_burst=2)
    for _ in range(5):
        r = http(fresh.url, "POST", "/api/generate", {"chords": ["C"], "bpm": 999})
        assert r.status == 400
    assert http(fresh.url, "POST", "/api/generate", SMALL).status == 200  # none were charged


def test_full_bucket_table_evicts_refilled_buckets_first(monkeypatch):
    from server import generation

    clock = [1000.0]
    monkeypatch.setattr(generation.time, "monotonic", lambda: clock[0])
    limiter = generation.RateLimiter(6, 2)
    limiter.max_buckets = 3
    for i in range(3):
        limiter.check(f"old{i}")
    clock[0] += 60.0  # the old ones have refilled: forgetting them costs nothing
    limiter.check("victim")
    limiter.check("victim")
    assert limiter.check("victim") > 0  # empty now
    for i in range(2):  # new clients keep coming, more than the table holds
        limiter.check(f"new{i}")
        assert len(limiter.buckets) <= 3
    assert "victim" in limiter.buckets and limiter.check("victim") > 0  # still empty


def test_a_stranger_using_my_plugin_id_does_not_spend_my_budget(make_service):
    svc = make_service(rate_limit=6, rate_burst=2)
    limiter = svc.service.generator.limiter

    async def ws():
        async with websockets.connect(svc.ws_url + "/ws/victim") as c:
            await c.recv()
            await c.send(json.dumps({"type": "generate_request", "chord_progression": "C-G",
                                     "track_types": ["bass"]}))
            while json.loads(await asyncio.wait_for(c.recv(), 30))["type"] != "generation_result":
                pass

    run(ws())
    # the bucket is the peer's address, not the id the client chose
    assert list(limiter.buckets) == ["127.0.0.1"], list(limiter.buckets)


# ---------------------------------------------------------------------------- 5. restarts
def _generate_n(svc, n):
    names = []
    for i in range(n):
        body = dict(SMALL, chords=["C", "G", "Am"][: 1 + i % 3], tracks=["bass", "drums"])
        names += [f["filename"] for f in http(svc.url, "POST", "/api/generate", body).json["files"]]
    return names


async def files_heard(ws, quiet: float = 2.0) -> set[str]:
    """The file names of the midi_ready messages received until ``quiet`` s pass without any."""
    heard = set()
    while True:
        try:
            m = json.loads(await asyncio.wait_for(ws.recv(), quiet))
        except TimeoutError:
            return heard
        if m["type"] == "midi_ready":
            heard.add(m["filename"])


def test_history_is_rebuilt_from_the_index_after_a_restart(tmp_path):
    folder = tmp_path / "band"
    first = run_service(settings_for(folder))
    old_instance = first.service.instance
    _generate_n(first, 1)
    missed = _generate_n(first, 3)
    first.stop()
    second = run_service(settings_for(folder))
    try:
        async def ws():
            url = second.ws_url + f"/ws/back?since=4&instance={old_instance}"
            async with websockets.connect(url) as c:
                hello = json.loads(await c.recv())
                assert hello["since_reset"] is True
                return await files_heard(c)

        heard = run(ws())
        assert set(missed) <= heard
    finally:
        second.stop()


def test_history_gap_lists_the_files_to_fetch(tmp_path):
    folder = tmp_path / "band"
    first = run_service(settings_for(folder))
    names = _generate_n(first, 4)  # 4 generations x 3 files (bass, drums, band)
    first.stop()
    second = run_service(settings_for(folder, history_size=5))
    try:
        async def ws():
            async with websockets.connect(second.ws_url + "/ws/gap?since=0&instance=old") as c:
                json.loads(await c.recv())
                gap = json.loads(await c.recv())
                assert gap["type"] == "notification" and gap["history_gap"] is True
                listed = {f["filename"] for f in gap["files"]}
                assert all(set(f) >= {"filename", "url_path", "track_type"} for f in gap["files"])
                return listed, await files_heard(c)

        listed, heard = run(ws())
        assert listed | heard == set(names) and listed and not listed & heard
    finally:
        second.stop()


def test_start_cleans_temp_leftovers_and_groups_sidecarless_files(tmp_path):
    folder = tmp_path / "band"
    first = run_service(settings_for(folder))
    names = _generate_n(first, 1)
    first.stop()
    gen = names[0].replace("_bass_", "_", 1)[: -len(".mid")]
    (folder / "meta" / f"{gen}.json").unlink()  # killed before the sidecar was written
    (folder / "temp" / "20250101000000_bass_Cmaj_120.123-4.tmp").write_bytes(b"half")
    second = run_service(settings_for(folder))
    try:
        assert not list((folder / "temp").glob("*.tmp"))
        files = http(second.url, "GET", "/api/files").json["files"]
        assert {f["filename"] for f in files} == set(names)  # nothing a user may keep is lost
        assert {f["generation"] for f in files} == {gen}
    finally:
        second.stop()


# ---------------------------------------------------------------------------- 6. transport
@pytest.mark.parametrize("raw", [b'{"currentBeat": NaN}', b'{"currentBeat": 1e309}',
                                 b'{"tempo": Infinity}', b'{"currentBeat": -5}'])
def test_transport_rejects_non_finite_and_negative_values(make_service, raw):
    svc = make_service()
    before = svc.transport()
    r = http(svc.url, "POST", "/api/transport/sync", raw=raw)
    assert r.status == 400, r.body
    after = http(svc.url, "GET", "/api/transport/position")
    assert after.status == 200
    state = json.loads(after.body, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    assert state["currentBeat"] == before["currentBeat"] and state["tempo"] == before["tempo"]

    async def ws():  # and every later connection_confirmed stays strict JSON
        async with websockets.connect(svc.ws_url + "/ws/strict") as c:
            await c.send(raw[:-1] + b', "type": "transport_update"}')
            hello = json.loads(await c.recv(), parse_constant=lambda c: pytest.fail(c))
            error = json.loads(await c.recv(), parse_constant=lambda c: pytest.fail(c))
            assert error["type"] == "error"
            return hello

    run(ws())

    async def again():
        async with websockets.connect(svc.ws_url + "/ws/strict2") as c:
            return json.loads(await c.recv(), parse_constant=lambda c: pytest.fail(c))

    assert run(again())["transport"]["currentBeat"] == before["currentBeat"]


def test_no_nan_ever_leaves_the_service(make_service):
    svc = make_service()
    with pytest.raises(ValueError):
        svc._call(svc.service.hub.publish, "notification", message="x", value=float("nan"))


# ---------------------------------------------------------------------------- 7. clear errors
def test_deeply_nested_json_is_a_400_not_a_500(service):
    deep = b"[" * 100000 + b"]" * 100000
    for path in ("/api/generate", "/api/plugin/register", "/api/transport/sync", "/api/publish"):
        r = http(service.url, "POST", path, raw=deep)
        assert r.status == 400 and r.json["error"] == "invalid JSON", (path, r.status, r.body[:200])
    r = http(service.url, "POST", "/api/plugin/register",
             raw=b'{"plugin_id": "d", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}")
    assert r.status == 400

    async def ws():
        async with websockets.connect(service.ws_url + "/ws/deep") as c:
            await c.recv()
            await c.send(b'{"type": "status", "s": ' + b"[" * 30000 + b"]" * 30000 + b"}")
            m = await recv_type(c, "error")
            assert m["error"] == "invalid JSON"

    run(ws())


@pytest.mark.parametrize("body,field", [
    ({"files": 5}, "files"),
    ({"paths": "bass/x.mid"}, "paths"),
    ({"paths": ["bass/\x00.mid"]}, None),
    ({"files": [{"track_type": "bass", "filename": "a\x00.mid", "data": "TVRoZA=="}]}, None),
    ({"files": [{"track_type": ["bass"], "filename": 3, "data": 5}]}, "files"),
])
def test_bad_publish_bodies_are_400(service, body, field):
    r = http(service.url, "POST", "/api/publish", body)
    assert r.status == 400, r.body
    if field:
        assert r.json["field"] == field


def test_bad_publish_meta_is_refused_before_anything_is_announced(service, tmp_path):
    import workbench

    arr = workbench.generate(["C", "G"], tracks=["bass"], seed=3)
    paths = arr.write(service.folder)
    rel = [str(p.relative_to(service.folder)) for p in paths]
    seq = service.service.hub.seq
    for meta in ({"chords": 5}, {"chords": [5, None]}, {"chords": [{"symbol": 5}]}, []):
        r = http(service.url, "POST", "/api/publish", {"paths": rel, "meta": meta})
        assert r.status == 400 and r.json["field"].startswith("meta"), (meta, r.body)
    assert service.service.hub.seq == seq  # no midi_ready went out
    r = http(service.url, "POST", "/api/publish", {"paths": rel, "meta": {"chords": ["C", "G"]}})
    assert r.status == 200 and r.json["chords"] == ["C", "G"]


def test_full_disk_is_507_with_a_clear_message(make_service, monkeypatch):
    import workbench.files

    svc = make_service()

    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(workbench.files, "_write_all", full)
    r = http(svc.url, "POST", "/api/generate", SMALL)
    assert r.status == 507, r.body
    assert r.json["error"] == "insufficient storage" and "No space left" in r.json["detail"]

    async def ws():
        async with websockets.connect(svc.ws_url + "/ws/full") as c:
            await c.recv()
            await c.send(json.dumps({"type": "generate_request", "chord_progression": "C-G"}))
            m = json.loads(await asyncio.wait_for(c.recv(), 30))
            assert m["type"] == "error" and m["error"] == "insufficient storage"

    run(ws())


def test_chunked_body_over_the_limit_is_413_json(service):
    port = service.port
    head = (f"POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
            "Connection: close\r\n\r\n")
    chunk = b"x" * 65536
    body = b"".join(b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(40)) + b"0\r\n\r\n"
    status, text = raw_request(port, head, body)
    assert status == 413 and json.loads(text)["error"] == "payload too large", (status, text)


def test_token_in_the_query_is_never_logged(make_service, caplog, monkeypatch):
    import logging

    svc = make_service()
    from server import handlers

    def boom(self):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(handlers.FileListHandler, "get", boom)
    caplog.set_level(logging.DEBUG)
    for name in ("server", "tornado"):
        monkeypatch.setattr(logging.getLogger(name), "propagate", True)
    r = http(svc.url, "GET", f"/api/files?token={svc.token}&x=1")
    assert r.status == 500
    assert svc.token not in caplog.text and "kaboom" in caplog.text


@pytest.mark.parametrize("extra,field", [
    ({"count_in": "no"}, "count_in"),
    ({"ending": "yes"}, "ending"),
    ({"seed": 1.5}, "seed"),
    ({"instruments": {"tuba": 1}}, "instruments"),
    ({"levels": {"bass": 2}}, "levels"),
    ({"density": {"drums": "lots"}}, "density"),
    ({"swing": "x"}, "swing"),
])
def test_engine_errors_are_blamed_on_the_right_field(service, extra, field):
    r = http(service.url, "POST", "/api/generate", dict(SMALL, **extra))
    assert r.status == 400 and r.json["field"] == field, r.body


# ---------------------------------------------------------------------------- 8. slow clients
def test_every_slow_client_hears_why_it_was_dropped(make_service):
    svc = make_service(queue_size=16)
    hub = svc.service.hub
    loop = asyncio.new_event_loop()

    async def connect(i):
        return await websocket_connect(HTTPRequest(svc.ws_url + f"/ws/slow{i}"))

    slow = [loop.run_until_complete(connect(i)) for i in range(10)]
    pad = "x" * 60000
    for i in range(300):
        svc._call(hub.publish, "notification", message=pad, n=i)
    assert hub.stats["slow_closed"] == 10
    time.sleep(6)  # longer than Tornado's own 5 s wait for a closing client

    for ws in slow:
        loop.run_until_complete(read_until_closed(ws))
    loop.close()
    codes = [(ws.close_code, ws.close_reason) for ws in slow]
    assert all(c == 4000 and "since=" in (r or "") for c, r in codes), codes


# ---------------------------------------------------------------------------- 9. retention
def test_retention_is_off_by_default():
    from server.config import Settings

    s = Settings(folder="x")
    assert s.retention_max_files == 0 and s.retention_max_age == 0


def test_retention_moves_to_a_restorable_trash_and_spares_foreign_files(make_service, tmp_path):
    folder = tmp_path / "band"
    (folder / "bass").mkdir(parents=True)
    foreign = folder / "bass" / "20200101000000_bass_Cmaj_120.mid"  # the user's own, older
    foreign.write_bytes(b"MThd mine")
    svc = make_service(folder=folder, retention_max_files=3, trash="trash")
    first = [f["filename"] for f in http(svc.url, "POST", "/api/generate", SMALL).json["files"]]
    http(svc.url, "POST", "/api/generate", SMALL)
    http(svc.url, "POST", "/api/generate", SMALL)
    assert foreign.read_bytes() == b"MThd mine"
    listed = {f["filename"] for f in http(svc.url, "GET", "/api/files").json["files"]}
    assert not set(first) & listed
    for name in first:  # in the trash, whole, restorable
        track = name.split("_")[1]
        assert not (folder / track / name).exists()
        found = list((folder / "trash").rglob(name))
        assert len(found) == 1 and found[0].read_bytes()[:4] == b"MThd"


def test_reference_client_fetches_what_a_history_gap_lists(tmp_path):
    from server.client import PluginClient

    folder = tmp_path / "band"
    first = run_service(settings_for(folder))
    names = _generate_n(first, 4)
    old_instance = first.service.instance
    first.stop()
    second = run_service(settings_for(folder, history_size=4))
    client = PluginClient(second.ws_url, "mirror", mirror=tmp_path / "mirror", since=12,
                          register=False)
    client.instance = old_instance  # it was connected to the first run
    client.start_thread()
    try:
        for name in names:
            client.submit(client.wait_for(
                lambda m, n=name: m["type"] == "downloaded" and m["filename"] == n, timeout=30))
        for name in names:
            track = name.split("_")[1]
            assert (tmp_path / "mirror" / track / name).read_bytes() == \
                (folder / track / name).read_bytes()
    finally:
        client.stop_thread()
        second.stop()
