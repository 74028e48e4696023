"""Security: traversal attempts read nothing, token rules, rate limit."""

from __future__ import annotations

import asyncio
import json
import os
import socket

import pytest
import websockets
from server_testlib import README_BODY, http, run

SECRET = b"TOP-SECRET-CONTENT"


def raw_get(port: int, target: str) -> tuple[int, bytes]:
    """Send a request line exactly as written (no client-side normalisation of '..')."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


@pytest.fixture
def bait(make_service, tmp_path):
    """A service whose folder has a symlink pointing out of it, and a secret next to it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "20250101000000_bass_Cmaj_120.mid"
    secret.write_bytes(SECRET)
    folder = tmp_path / "band"
    (folder / "bass").mkdir(parents=True)
    os.symlink(secret, folder / "bass" / "20250101000001_bass_Cmaj_120.mid")
    os.symlink(outside, folder / "drums")  # a linked track folder
    (folder / "secret.txt").write_bytes(SECRET)
    return make_service(folder=folder)


ATTEMPTS = [
    "/files/../secret.txt",
    "/files/..%2Fsecret.txt",
    "/files/%2e%2e%2fsecret.txt",
    "/files/%2E%2E/secret.txt",
    "/files/..%5Csecret.txt",
    "/files/%252e%252e%252fsecret.txt",
    "/files/%2Fetc%2Fpasswd",
    "/files//etc/passwd",
    "/files/bass%2F20250101000001_bass_Cmaj_120.mid",
    "/files/20250101000001_bass_Cmaj_120.mid",  # the symlink out of the folder
    "/files/20250101000000_bass_Cmaj_120.mid",  # reachable only through the linked folder
    "/files/..",
    "/files/.%2e",
    "/files/secret.txt%00.mid",
    "/../secret.txt",
    "/files/../../../../etc/passwd",
]


@pytest.mark.parametrize("target", ATTEMPTS)
def test_traversal_attempts_read_nothing(bait, target):
    status, body = raw_get(bait.port, target)
    assert status in (400, 404), (target, status, body[:200])
    assert SECRET not in body and b"root:" not in body
    if body:
        assert set(json.loads(body)) >= {"error", "detail"}


def test_delete_cannot_escape(bait):
    for target in ("..%2Fsecret.txt", "%2e%2e%2fsecret.txt", "20250101000001_bass_Cmaj_120.mid"):
        r = http(bait.url, "DELETE", "/api/files/" + target)
        assert r.status in (400, 404)
    assert (bait.folder / "secret.txt").read_bytes() == SECRET
    assert (bait.folder.parent / "outside" / "20250101000000_bass_Cmaj_120.mid").exists()


def test_publish_paths_cannot_escape(bait):
    for p in ("../outside/20250101000000_bass_Cmaj_120.mid", "/etc/passwd",
              "bass/20250101000001_bass_Cmaj_120.mid", "drums/20250101000000_bass_Cmaj_120.mid"):
        r = http(bait.url, "POST", "/api/publish", {"paths": [p]})
        assert r.status in (400, 404), (p, r.body)
    assert http(bait.url, "GET", "/api/files").json["total"] == 0


def test_token_optional_on_loopback_but_a_wrong_one_is_rejected(service):
    assert http(service.url, "GET", "/api/files").status == 200
    ok = {"Authorization": f"token {service.token}"}
    assert http(service.url, "GET", "/api/files", headers=ok).status == 200
    wrong = http(service.url, "GET", "/api/files", headers={"Authorization": "token nope"})
    assert wrong.status == 401 and wrong.json["error"] == "unauthorized"
    assert http(service.url, "GET", "/api/files?token=nope").status == 401
    assert http(service.url, "GET", f"/api/files?token={service.token}").status == 200


def test_token_required_beyond_loopback(make_service):
    # what binding 0.0.0.0 implies (tests stay on loopback): require_token
    svc = make_service(require_token=True, token="s3cret")
    u = svc.url
    assert http(u, "GET", "/").status == 200 and http(u, "GET", "/health").status == 200
    for method, path, body in [("GET", "/api/files", None), ("GET", "/files", None),
                               ("POST", "/api/generate", README_BODY),
                               ("GET", "/api/transport/position", None),
                               ("POST", "/api/plugin/register", {"plugin_id": "x"}),
                               ("GET", "/api/plugins/stats", None),
                               ("DELETE", "/api/files/x.mid", None),
                               ("GET", "/files/x.mid", None)]:
        r = http(u, method, path, body)
        assert r.status == 401, (path, r.status)
        assert r.headers["WWW-Authenticate"] == "token"
    assert http(u, "GET", "/api/files", headers={"Authorization": "token s3cret"}).status == 200
    assert http(u, "GET", "/api/files", headers={"Authorization": "Bearer s3cret"}).status == 200
    assert http(u, "GET", "/api/files?token=s3cret").status == 200

    async def ws():
        with pytest.raises(websockets.InvalidStatus) as info:
            async with websockets.connect(svc.ws_url + "/ws/daw"):
                pass
        assert info.value.response.status_code == 401
        async with websockets.connect(svc.ws_url + "/ws/daw?token=s3cret") as c:
            assert json.loads(await c.recv())["type"] == "connection_confirmed"
        async with websockets.connect(svc.ws_url + "/ws/sync",
                                      additional_headers={"Authorization": "token s3cret"}) as c:
            assert json.loads(await c.recv())["type"] == "connection_confirmed"

    run(ws())


def test_settings_require_token_beyond_loopback():
    from server.config import Settings

    assert Settings(host="0.0.0.0", folder="x").token_required
    assert Settings(host="192.168.1.5", folder="x").token_required
    assert not Settings(host="127.0.0.1", folder="x").token_required
    assert not Settings(host="::1", folder="x").token_required
    assert not Settings(host="localhost", folder="x").token_required
    assert len(Settings(folder="x").token) >= 20  # generated when not given


def test_rate_limit_on_generation(make_service):
    svc = make_service(rate_limit=6, rate_burst=2)
    bad = dict(README_BODY, chords=["C"], tracks=["bass"])
    assert http(svc.url, "POST", "/api/generate", bad).status == 200
    assert http(svc.url, "POST", "/api/generate", bad).status == 200
    r = http(svc.url, "POST", "/api/generate", bad)
    assert r.status == 429 and int(r.headers["Retry-After"]) >= 1
    assert r.json["error"] == "rate limited"
    # the budget is the peer's: a plugin id of the client's choosing is no new budget
    other = http(svc.url, "POST", "/api/generate", bad, headers={"X-Plugin-Id": "daw2"})
    assert other.status == 429

    async def ws():
        async with websockets.connect(svc.ws_url + "/ws/greedy") as c:
            await c.recv()
            errors = []
            for i in range(3):
                await c.send(json.dumps({"type": "generate_request", "chord_progression": "C-G",
                                         "request_id": str(i)}))
            while len(errors) < 1:
                m = json.loads(await asyncio.wait_for(c.recv(), 30))
                if m["type"] == "error":
                    errors.append(m)
            assert errors[0]["error"] == "rate limited"

    run(ws())
