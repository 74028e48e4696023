"""WebSocket protocol against a real service, with Tornado's client and with `websockets`."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import websockets
from server_testlib import README_BODY, http, read_until_closed, run
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from server.client import PluginClient


def _post_generate(service, body=README_BODY):
    loop = asyncio.get_running_loop()
    return loop.run_in_executor(None, lambda: http(service.url, "POST", "/api/generate", body))


def test_connection_confirmed_and_notification_after_generate(service, tmp_path):
    async def main():
        tornado_client = PluginClient(service.ws_url, "daw-tornado", mirror=tmp_path / "mirror")
        task = asyncio.create_task(tornado_client.run())
        hello = await tornado_client.wait_for(lambda m: m["type"] == "connection_confirmed")
        assert {"server_time", "transport", "latest_seq"} <= set(hello)
        assert set(hello["transport"]) >= {"isPlaying", "currentBeat", "tempo", "timestamp"}
        async with websockets.connect(service.ws_url + "/ws/sync?plugin_id=wslib") as ws:
            first = json.loads(await ws.recv())
            assert first["type"] == "connection_confirmed" and first["plugin_id"] == "wslib"
            answer = (await _post_generate(service)).json
            got = []
            while not got or got[-1]["type"] != "notification":
                got.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
        kinds = [m["type"] for m in got]
        assert kinds == ["midi_ready"] * 3 + ["files_ready", "generation_complete", "notification"]
        seqs = [m["seq"] for m in got]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        ready = got[0]
        assert {"filename", "url", "track_type", "key", "tempo", "duration"} <= set(ready)
        # C Am F G ends off the tonic: the band adds a bar on C (issue 9's ending)
        assert ready["duration"] == 20.0 and ready["key"] == "Cmaj" and ready["tempo"] == 120
        assert {f["filename"] for f in got[3]["files"]} == {f["filename"] for f in answer["files"]}
        assert got[4]["bass_file"] == answer["bass_file"]
        assert got[5]["message"]
        # the Tornado-based reference client got the same and mirrored the files atomically
        await tornado_client.wait_for(lambda m: m["type"] == "notification")
        for f in answer["files"]:
            await tornado_client.wait_for(
                lambda m, f=f: m["type"] == "downloaded" and m["filename"] == f["filename"])
            assert (tmp_path / "mirror" / f["track_type"] / f["filename"]).read_bytes() == \
                (service.folder / f["path"]).read_bytes()
        assert not list((tmp_path / "mirror" / "temp").iterdir())
        await tornado_client.close()
        await task

    run(main())


def test_reconnect_with_since_replays_missed_events(service):
    async def main():
        async with websockets.connect(service.ws_url + "/ws/p-since") as ws:
            hello = json.loads(await ws.recv())
            last = hello["latest_seq"]
        # while disconnected: two generations happen
        a = (await _post_generate(service)).json
        b = (await _post_generate(service, {**README_BODY, "seed": 7})).json
        async with websockets.connect(service.ws_url + f"/ws/p-since?since={last}") as ws:
            hello = json.loads(await ws.recv())
            assert hello["type"] == "connection_confirmed" and hello["since"] == last
            replay = []
            while len(replay) < 12:
                replay.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
        names = [m["filename"] for m in replay if m["type"] == "midi_ready"]
        assert names == [f["filename"] for f in a["files"]] + [f["filename"] for f in b["files"]]
        assert [m["seq"] for m in replay] == list(range(last + 1, last + 13))

    run(main())


def test_reference_client_resumes_after_a_drop(service, tmp_path):
    async def main():
        client = PluginClient(service.ws_url, "daw-resume", mirror=tmp_path / "m",
                              heartbeat_interval=0.5)
        task = asyncio.create_task(client.run())
        await client.wait_for(lambda m: m["type"] == "connection_confirmed")
        seen = client.last_seq
        client.ws.close()  # the network drops...
        await client.wait_for(lambda m: m["type"] == "disconnected")
        answer = (await _post_generate(service)).json  # ...while a band is generated
        for f in answer["files"]:
            await client.wait_for(lambda m, f=f: m.get("filename") == f["filename"]
                                  and m["type"] == "downloaded", timeout=15)
        assert client.connections == 2
        hellos = client.of_type("connection_confirmed")
        assert hellos[0]["since"] is None and hellos[1]["since"] == seen
        hb = await client.wait_for(lambda m: m["type"] == "heartbeat_response", timeout=5)
        assert hb["latest_seq"] >= 1
        await client.close()
        await task

    run(main())


def test_generate_request_over_websocket(service):
    async def main():
        requester = PluginClient(service.ws_url, "juce-req", register=False)
        other = PluginClient(service.ws_url, "juce-other", register=False)
        tasks = [asyncio.create_task(c.run()) for c in (requester, other)]
        for c in (requester, other):
            await c.wait_for(lambda m: m["type"] == "connection_confirmed")
        await requester.send({"type": "generate_request", "chord_progression": "C-Am-F-G",
                              "track_types": ["bass", "drums"], "tempo": 110, "duration": 32,
                              "key": "C", "request_id": "r1"})
        result = await requester.wait_for(lambda m: m["type"] == "generation_result", 30)
        assert result["request_id"] == "r1" and result["bass_file"] and result["length_beats"] == 32
        done = await other.wait_for(lambda m: m["type"] == "generation_complete", 30)
        assert done["requested_by"] == "juce-req" and done["request_id"] == "r1"
        await requester.wait_for(lambda m: m["type"] == "generation_complete")
        # the original's name for it, and a bad request
        await requester.send({"type": "generation_request", "chord_progression": "C-Zz",
                              "request_id": "r2"})
        err = await requester.wait_for(lambda m: m["type"] == "error", 30)
        assert err["request_id"] == "r2" and err["value"] == "Zz" and err["index"] == 1
        for c in (requester, other):
            await c.close()
        await asyncio.gather(*tasks)

    run(main())


def test_transport_update_is_relayed_to_others_not_the_sender(service):
    async def main():
        async with websockets.connect(service.ws_url + "/ws/daw-a") as a, \
                websockets.connect(service.ws_url + "/ws/sync?plugin_id=nb") as b:
            await a.recv()
            await b.recv()
            await a.send(json.dumps({"type": "transport_update", "isPlaying": True,
                                     "currentBeat": 8.0, "tempo": 128}))
            sync = json.loads(await asyncio.wait_for(b.recv(), 5))
            assert sync["type"] == "transport_sync" and sync["isPlaying"] is True
            assert sync["tempo"] == 128 and 8.0 <= sync["currentBeat"] < 8.5
            assert sync["source"] == "daw-a" and sync["timestamp"].endswith("Z")
            await a.send(json.dumps({"type": "heartbeat"}))
            reply = json.loads(await asyncio.wait_for(a.recv(), 5))
            assert reply["type"] == "heartbeat_response"  # no transport_sync echoed to a
            await a.send(json.dumps({"type": "transport_update", "isPlaying": False}))
            await asyncio.wait_for(b.recv(), 5)
        assert service.transport()["isPlaying"] is False

    run(main())


def test_unknown_type_and_bad_json_get_errors_connection_stays(service):
    async def main():
        async with websockets.connect(service.ws_url + "/ws/daw-err") as ws:
            assert json.loads(await ws.recv())["type"] == "connection_confirmed"
            # an earlier test moved the transport: its current state comes next
            assert json.loads(await ws.recv())["snapshot"] is True
            await ws.send(json.dumps({"type": "dance"}))
            err = json.loads(await ws.recv())
            assert err["type"] == "error" and "dance" in err["detail"] and "heartbeat" in err["valid"]
            await ws.send("{not json")
            assert json.loads(await ws.recv())["type"] == "error"
            await ws.send(json.dumps({"type": "transport_update", "tempo": 999}))
            err = json.loads(await ws.recv())
            assert err["type"] == "error" and err["field"] == "tempo"
            await ws.send(json.dumps({"type": "status", "status": {"playing": False}}))
            st = json.loads(await ws.recv())
            assert st["type"] == "status_response" and st["plugin"]["status"] == {"playing": False}
            await ws.send(json.dumps({"type": "ping", "timestamp": 1.5}))
            pong = json.loads(await ws.recv())
            assert pong["type"] == "pong" and pong["echo"] == 1.5
            await ws.send(json.dumps({"type": "register", "name": "AI Band", "version": "1.0"}))
            reg = json.loads(await ws.recv())
            assert reg["type"] == "registered" and reg["plugin"]["info"]["name"] == "AI Band"
            await ws.send(json.dumps({"type": "heartbeat"}))
            assert json.loads(await ws.recv())["type"] == "heartbeat_response"
            await ws.ping()  # protocol-level pings still answered by Tornado

    run(main())


def test_message_size_limit(make_service):
    svc = make_service(max_message_size=1024)

    async def main():
        async with websockets.connect(svc.ws_url + "/ws/big", max_size=None) as ws:
            await ws.recv()
            await ws.send(json.dumps({"type": "status", "pad": "x" * 4096}))
            with pytest.raises(websockets.ConnectionClosed) as info:
                await asyncio.wait_for(ws.recv(), 5)
            assert info.value.rcvd is None or info.value.rcvd.code == 1009

    run(main())


def test_origins(make_service):
    svc = make_service(allowed_origins="https://daw.example")

    async def main():
        base = svc.ws_url + "/ws/o1"
        async with websockets.connect(base) as ws:  # native client: no Origin
            assert json.loads(await ws.recv())["type"] == "connection_confirmed"
        async with websockets.connect(base, origin="https://daw.example") as ws:
            await ws.recv()
        async with websockets.connect(base, origin=f"http://127.0.0.1:{svc.port}") as ws:
            await ws.recv()  # a page of this very service
        with pytest.raises(websockets.InvalidStatus) as info:
            async with websockets.connect(base, origin="https://evil.example"):
                pass
        assert info.value.response.status_code == 403

    run(main())


def test_slow_client_does_not_delay_others_and_is_closed(make_service):
    svc = make_service(queue_size=32)
    fast = PluginClient(svc.ws_url, "fast", register=False).start_thread()
    fast.submit(fast.wait_for(lambda m: m["type"] == "connection_confirmed"))

    async def never_reads():
        # Tornado's client stops reading frames when its 1-message read queue is full
        slow = await websocket_connect(HTTPRequest(svc.ws_url + "/ws/slow"))
        await asyncio.sleep(0.2)
        return slow

    loop = asyncio.new_event_loop()
    slow = loop.run_until_complete(never_reads())
    hub = svc.service.hub
    pad = "x" * 60000
    t0 = time.perf_counter()
    worst = 0.0
    for i in range(400):
        t = time.perf_counter()
        svc._call(hub.publish, "notification", message=pad, n=i)
        worst = max(worst, time.perf_counter() - t)
    fast.submit(fast.wait_for(lambda m: m.get("n") == 399, timeout=20))
    elapsed = time.perf_counter() - t0
    assert elapsed < 10 and worst < 0.5, (elapsed, worst)
    assert [m["n"] for m in fast.of_type("notification")] == list(range(400))
    stats = http(svc.url, "GET", "/api/plugins/stats").json
    assert stats["slow_closed"] >= 1
    assert not any(c["plugin_id"] == "slow" for c in stats["connections"])

    # the slow client finally reads: the close tells it how to resume
    loop.run_until_complete(read_until_closed(slow, 10))
    loop.close()
    assert slow.close_code == 4000 and "since=" in slow.close_reason
    fast.stop_thread()


def test_bounded_history_reports_a_gap(make_service):
    svc = make_service(history_size=5)
    hub = svc.service.hub
    for i in range(10):
        svc._call(hub.publish, "notification", message=f"n{i}")

    async def main():
        async with websockets.connect(svc.ws_url + "/ws/gap?since=2") as ws:
            hello = json.loads(await ws.recv())
            assert hello["latest_seq"] == 10
            gap = json.loads(await ws.recv())
            assert gap["type"] == "notification" and gap["history_gap"] is True
            replay = [json.loads(await ws.recv()) for _ in range(5)]
            assert [m["seq"] for m in replay] == [6, 7, 8, 9, 10]
        # a seq from an earlier run of the service (bigger than latest_seq): full replay
        async with websockets.connect(svc.ws_url + "/ws/gap?since=999") as ws:
            hello = json.loads(await ws.recv())
            assert hello["since_reset"] is True and hello["since"] == 0
        # ... or smaller, but from another instance (the service restarted and went past it)
        instance = svc.service.instance
        async with websockets.connect(svc.ws_url + "/ws/gap?since=8&instance=0ld") as ws:
            hello = json.loads(await ws.recv())
            assert hello["since_reset"] is True and hello["since"] == 0
            assert hello["instance"] == instance
        async with websockets.connect(svc.ws_url + f"/ws/gap?since=8&instance={instance}") as ws:
            hello = json.loads(await ws.recv())
            assert hello["since_reset"] is False and hello["since"] == 8
            assert [json.loads(await ws.recv())["seq"] for _ in range(2)] == [9, 10]

    run(main())


def test_reconnecting_plugin_gets_the_current_transport(make_service):
    svc = make_service()

    async def main():
        async with websockets.connect(svc.ws_url + "/ws/t0") as ws:
            json.loads(await ws.recv())
            with pytest.raises(TimeoutError):  # nobody moved the transport yet: no snapshot
                await asyncio.wait_for(ws.recv(), 0.2)
        svc.set_transport(is_playing=True, beat=8.0, tempo=90)
        svc._call(svc.service.hub.publish, "notification", message="missed")
        async with websockets.connect(svc.ws_url + "/ws/t1?since=1") as ws:
            hello = json.loads(await ws.recv())
            assert hello["transport"]["isPlaying"] is True
            missed = json.loads(await ws.recv())
            assert missed["type"] == "notification" and missed["seq"] == 2
            # after the replay: the state now, as the transport_sync a plugin already handles
            snap = json.loads(await ws.recv())
            assert snap["type"] == "transport_sync" and snap["snapshot"] is True
            assert "seq" not in snap and snap["isPlaying"] is True and snap["tempo"] == 90.0
            assert snap["currentBeat"] >= 8.0 and snap["timestamp"].endswith("Z")

    run(main())


def test_reference_client_sends_its_instance_and_survives_a_restart(tmp_path):
    """A service restarted on the same port has new seqs: the plugin still gets every file."""
    from server_testlib import settings_for

    from server.kernel import run_service

    folder = tmp_path / "band"
    first = run_service(settings_for(folder))
    port = first.port
    client = PluginClient(first.ws_url, "daw-restart", register=False).start_thread()
    try:
        client.submit(client.wait_for(lambda m: m["type"] == "connection_confirmed"))
        for i in range(5):  # the plugin has seen seqs up to 5 or so
            first.set_transport(beat=float(i))
        client.submit(client.wait_for(lambda m: m.get("seq") == 5))
        assert client.instance == first.service.instance
        first.stop()
        client.submit(client.wait_for(lambda m: m["type"] == "disconnected"))
        second = run_service(settings_for(folder, port=port))
        try:
            for i in range(20):  # the new run passes the plugin's last seq before it is back
                second.set_transport(beat=float(i))
            answer = second.generate(**README_BODY)
            hello = client.submit(client.wait_for(
                lambda m: m["type"] == "connection_confirmed" and m["instance"] != client.messages[
                    0]["instance"], timeout=15))
            assert hello["since_reset"] is True
            names = {f["filename"] for f in answer["files"]}
            for name in names:
                client.submit(client.wait_for(
                    lambda m, n=name: m["type"] == "midi_ready" and m["filename"] == n))
        finally:
            second.stop()
    finally:
        client.stop_thread()


def test_dead_plugin_is_dropped_by_ping_timeout(make_service):
    import socket

    svc = make_service(ping_interval=0.3, ping_timeout=0.3)
    s = socket.create_connection(("127.0.0.1", svc.port))
    s.sendall(b"GET /ws/zombie HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    assert b" 101 " in s.recv(4096)  # then never answers a ping
    try:
        deadline = time.time() + 5
        while time.time() < deadline:
            stats = http(svc.url, "GET", "/api/plugins/stats").json
            if not stats["connections"]:
                break
            time.sleep(0.1)
        assert stats["connections"] == [] and stats["active_connections"] == 0
        zombie = next(p for p in stats["plugins"] if p["plugin_id"] == "zombie")
        assert zombie["connected"] is False
    finally:
        s.close()


def test_notebooks_are_told_when_plugins_come_and_go(service):
    """A notebook's listener (role=notebook) hears plugin_connected / plugin_disconnected; the
    DAW plugins don't (also the JUCE default endpoint /ws/sync is a plugin, not a notebook)."""
    async def presence(ws, timeout=5):
        while True:  # skipping the transport snapshot a (re)connecting client gets
            msg = json.loads(await asyncio.wait_for(ws.recv(), timeout))
            if msg["type"] != "transport_sync":
                return msg

    async def main():
        base = service.ws_url
        async with websockets.connect(base + "/ws/sync?plugin_id=nb-1&role=notebook") as nb:
            assert json.loads(await nb.recv())["type"] == "connection_confirmed"
            async with websockets.connect(base + "/ws/sync?plugin_id=juce-1") as daw:
                assert json.loads(await daw.recv())["type"] == "connection_confirmed"
                came = await presence(nb)
                assert came["type"] == "plugin_connected" and "seq" not in came
                assert (came["plugin_id"], came["role"], came["connections"]) == ("juce-1", "plugin", 1)
                status = {p["plugin_id"]: p for p in
                          http(service.url, "GET", "/api/plugin/status").json["plugins"]}
                assert status["juce-1"]["role"] == "plugin" and status["nb-1"]["role"] == "notebook"
            went = await presence(nb)
            assert went["type"] == "plugin_disconnected" and went["plugin_id"] == "juce-1"
            assert went["connections"] == 0
        async with websockets.connect(base + "/ws/daw-2") as daw:
            await daw.recv()
            async with websockets.connect(base + "/ws/juce-3"):
                with pytest.raises(asyncio.TimeoutError):   # nothing for a DAW plugin
                    await presence(daw, 0.3)
        async with websockets.connect(base + "/ws/sync?plugin_id=x&role=boss") as bad:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await bad.recv()
            assert closed.value.rcvd.code == 1008 and "role" in closed.value.rcvd.reason

    run(main())
