"""start() from a notebook: thread, idempotence, stop/start, attach across processes; the CLIs."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from server_testlib import README_BODY, ROOT, free_port, http

import server
from server.client import PluginClient

PY = sys.executable
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}


def _band(seed=1):
    import workbench

    return workbench.generate(["C", "Am", "F", "G"], style="pop", tracks=["bass", "drums"],
                              tempo=120, key="C", seed=seed)


def test_start_is_idempotent_and_stop_frees_the_port(tmp_path):
    port = free_port()
    svc = server.start(port=port, folder=tmp_path / "band")
    try:
        assert server.start(port=port) is svc and not svc.attached
        assert svc.url == f"http://127.0.0.1:{port}" and svc.ws_url.startswith("ws://")
        assert svc.token and svc.folder == (tmp_path / "band").resolve()
        assert http(svc.url, "GET", "/health").json["service"] == "ai-band-workbench"
        events = []
        svc.on_event(events.append)
        records = svc.publish(_band())
        assert [r["track_type"] for r in records] == ["bass", "drums", "band"]
        assert all((svc.folder / r["path"]).is_file() for r in records)
        assert [e["type"] for e in events][:3] == ["midi_ready"] * 3
        assert events[-1]["type"] == "notification"
        assert svc.events(since=0)[-1]["seq"] == events[-1]["seq"]
        out = svc.generate(chords=["Am", "F", "C", "G"], bpm=100, key="Am", tracks=["bass"])
        assert out["bass_file"] and out["key"] == "Amin"
        with pytest.raises(ValueError, match="tuba"):
            svc.generate(chords=["C"], tracks=["tuba"])
        assert svc.transport()["isPlaying"] is False
        assert svc.set_transport(is_playing=True, tempo=100)["isPlaying"] is True
        assert svc.plugins() == []
    finally:
        svc.stop()
    with socket.socket() as s:  # nobody listens on the port any more (TIME_WAIT aside)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen()
    svc2 = server.start(port=port, folder=tmp_path / "band")
    try:
        assert svc2 is not svc and svc2.running
        assert len(svc2.files()) == 5  # the index is rebuilt from disk
    finally:
        svc2.stop()


def test_port_held_by_something_else_gives_a_clear_error(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        threading.Thread(target=lambda: s.accept()[0].close(), daemon=True).start()
        with pytest.raises(RuntimeError, match=r"in use .* start\(port="):
            server.start(port=port, folder=tmp_path)
    assert server.current() is None


HOLDER = textwrap.dedent("""
    import json, sys
    from server import start
    svc = start(port=int(sys.argv[1]), folder=sys.argv[2])
    print(json.dumps({"attached": svc.attached, "url": svc.url, "token": svc.token}), flush=True)
    sys.stdin.read()   # serve until the test closes our stdin
""")

PUBLISHER = textwrap.dedent("""
    import json, sys, time
    import workbench
    from server import start
    svc = start(port=int(sys.argv[1]), folder=sys.argv[2])
    seen = []
    svc.on_event(seen.append)            # over /ws/sync for an attached handle (connected on return)
    arr = workbench.generate(["Dm", "G", "C"], style="rock", tracks=["bass", "keys"], tempo=140,
                             key="C", seed=5)
    files = svc.publish(arr)
    gen = svc.generate(chords=["E", "A"], bpm=90, key="E", tracks=["drums"])
    deadline = time.time() + 10
    while sum(e["type"] == "midi_ready" for e in seen) < 5 and time.time() < deadline:
        time.sleep(0.02)
    print(json.dumps({"attached": svc.attached, "folder": str(svc.folder),
                      "files": [f["filename"] for f in files],
                      "generated": [f["filename"] for f in gen["files"]],
                      "events_seen": sum(e["type"] == "midi_ready" for e in seen),
                      "plugins": [p["plugin_id"] for p in svc.plugins()],
                      "history": len(svc.events(since=0)),
                      "transport": svc.transport()["tempo"]}), flush=True)
    svc.stop()
""")


@pytest.mark.parametrize("same_folder", [True, False], ids=["same-folder", "upload"])
def test_two_processes_share_one_port(tmp_path, same_folder):
    port = free_port()
    folder = tmp_path / "shared"
    holder = subprocess.Popen([PY, "-c", HOLDER, str(port), str(folder)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=ENV, cwd=tmp_path)
    try:
        first = json.loads(holder.stdout.readline())
        assert first["attached"] is False
        plugin = PluginClient(f"ws://127.0.0.1:{port}", "daw-shared",
                              mirror=tmp_path / "mirror").start_thread()
        plugin.submit(plugin.wait_for(lambda m: m["type"] == "connection_confirmed"))
        other = folder if same_folder else tmp_path / "elsewhere"
        out = subprocess.run([PY, "-c", PUBLISHER, str(port), str(other)], capture_output=True,
                             text=True, env=ENV, cwd=tmp_path, timeout=120)
        assert out.returncode == 0, out.stderr
        second = json.loads(out.stdout.strip().splitlines()[-1])
        assert second["attached"] is True and second["folder"] == str(folder.resolve())
        names = second["files"] + second["generated"]
        assert len(names) == 3 + 2 and second["events_seen"] == 5
        assert "daw-shared" in second["plugins"] and second["history"] == 11
        for name in names:
            plugin.submit(plugin.wait_for(
                lambda m, n=name: m["type"] == "downloaded" and m["filename"] == n, timeout=30))
            track = name.split("_")[1]
            assert (tmp_path / "mirror" / track / name).read_bytes() == \
                (folder / track / name).read_bytes()
        plugin.stop_thread()
    finally:
        holder.stdin.close()
        holder.wait(30)
    assert holder.returncode == 0


def test_standalone_cli_prints_url_and_token(tmp_path):
    port = free_port()
    proc = subprocess.Popen([PY, "-m", "server", "--host", "127.0.0.1", "--port", str(port),
                             "--folder", str(tmp_path / "gen"), "--token", "tok123"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
                            cwd=tmp_path)
    try:
        lines = [proc.stdout.readline() for _ in range(4)]
        text = "".join(lines)
        assert f"http://127.0.0.1:{port}" in text and "tok123" in text
        assert http(f"http://127.0.0.1:{port}", "GET", "/health").json["status"] == "healthy"
        # the reference client as a program: JSON lines, files mirrored
        client = subprocess.Popen([PY, "-m", "server.client", "--url", f"ws://127.0.0.1:{port}",
                                   "--plugin-id", "cli1", "--mirror", str(tmp_path / "mirror"),
                                   "--token", "tok123"], stdout=subprocess.PIPE, text=True,
                                  env=ENV, cwd=tmp_path)
        try:
            hello = json.loads(client.stdout.readline())
            assert hello["type"] == "connection_confirmed" and hello["plugin_id"] == "cli1"
            r = http(f"http://127.0.0.1:{port}", "POST", "/api/generate", README_BODY,
                     headers={"Authorization": "token tok123"})
            assert r.status == 200
            seen = set()
            deadline = time.time() + 30
            while len(seen) < 3 and time.time() < deadline:
                msg = json.loads(client.stdout.readline())
                if msg["type"] == "downloaded":
                    seen.add(msg["filename"])
            assert seen == {f["filename"] for f in r.json["files"]}
        finally:
            client.send_signal(signal.SIGINT)
            client.wait(10)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0
    logs = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any(rec["msg"] == "service started" for rec in logs)
    assert all({"ts", "level", "logger", "msg"} <= set(rec) for rec in logs)


def test_bad_configuration_is_a_one_line_error(monkeypatch, capsys, tmp_path):
    from server.__main__ import main
    from server.config import Settings

    monkeypatch.setenv("ORCHESTRATOR_PORT", "abc")
    with pytest.raises(ValueError, match="ORCHESTRATOR_PORT='abc' is not an integer"):
        Settings.from_env()
    assert main(["--folder", str(tmp_path)]) == 2
    assert "ORCHESTRATOR_PORT='abc'" in capsys.readouterr().err
    monkeypatch.setenv("ORCHESTRATOR_PORT", "8000")
    monkeypatch.setenv("ORCHESTRATOR_LOG_LEVEL", "loud")
    assert main(["--folder", str(tmp_path)]) == 2
    assert "log level 'LOUD' unknown" in capsys.readouterr().err
    monkeypatch.setenv("ORCHESTRATOR_LOG_LEVEL", "debug")
    assert Settings.from_env(folder=tmp_path).log_level == "DEBUG"


def test_attached_on_event_hears_an_event_published_right_after(make_service):
    """on_event returns once its listener is connected: nothing published after it is missed
    (it used to return at once, and a test hid the race with a sleep)."""
    from server.config import Settings
    from server.kernel import AttachedHandle

    svc = make_service()
    hub = svc.service.hub
    for run in range(10):
        attached = AttachedHandle(Settings(port=svc.port, folder=svc.folder), None,
                                  {"instance": svc.service.instance})
        seen = []
        try:
            attached.on_event(seen.append)
            svc._call(hub.publish, "notification", message=f"run {run}")
            deadline = time.time() + 5
            while time.time() < deadline and not any(
                    e.get("message") == f"run {run}" for e in seen):
                time.sleep(0.01)
            assert any(e.get("message") == f"run {run}" for e in seen), (run, seen)
        finally:
            attached.stop()
