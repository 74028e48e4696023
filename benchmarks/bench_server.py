"""Benchmarks of the sync service (loopback only, bounded loops). Not tests: they print figures.

    .venv/bin/python benchmarks/bench_server.py            # all of them
    .venv/bin/python benchmarks/bench_server.py notify transport broadcast publish files memory
    .venv/bin/python benchmarks/bench_server.py --quick    # shorter runs

The service runs as its own process (``python -m server``); the plugins run in other processes
(``bench_server.py _worker``), each holding many WebSocket connections (a minimal asyncio
WebSocket reader, so that the clients' own Python overhead weighs as little as possible on the
two cores shared with the service).

* notify:    POST /api/generate → each ``midi_ready`` received by each of 10 plugins. Latency from
             the service announcing the file (event ``time``) to the plugin reading it; also from
             the POST being sent (includes the engine). Target p99 ≤ 10 ms.
* transport: one DAW plugin sends ``transport_update`` at 100 Hz; 100 plugins receive the
             ``transport_sync``. Latency send → receive. Target p99 ≤ 5 ms.
* broadcast: 1,000 plugins connected; a transport change is broadcast; time until the last of
             them has it. Target ≤ 100 ms.
* publish:   1,000 plugins connected, 50 of which never read; 20 generations (3 files each)
             are announced: every one of the 950 readers must get every ``midi_ready``; latency
             from the announcement (event ``time``) to each reader. Target p99 < 100 ms.
* files:     GET /api/files with 5,000 files in the folder (index warm, and cold: the index just
             changed). Target ≤ 20 ms.
* memory:    RSS of the service process idle and with 1,000 plugins connected.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def raise_nofile(n=20000):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(soft, n), hard), hard))
    except (ValueError, OSError):
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def summary(ms: list[float]) -> dict:
    return {"n": len(ms), "p50_ms": round(pct(ms, 50), 3), "p99_ms": round(pct(ms, 99), 3),
            "max_ms": round(max(ms), 3) if ms else None}


# ---------------------------------------------------------------------------- the service
class Service:
    def __init__(self, folder: Path, *extra):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws = f"ws://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [PY, "-m", "server", "--port", str(self.port), "--folder", str(folder),
             "--log-level", "WARNING", "--rate-limit", "0", "--max-files", "0", "--max-age", "0",
             *extra], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            preexec_fn=lambda: raise_nofile())
        for _ in range(300):
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as r:
                    if json.loads(r.read())["status"] == "healthy":
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("service did not start: " + self.proc.stderr.read().decode()[-2000:])

    def rss_mb(self) -> float:
        import psutil

        return psutil.Process(self.proc.pid).memory_info().rss / 2**20

    def post(self, path, body):
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read())

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# ---------------------------------------------------------------------------- plugin workers
class Workers:
    """Processes each holding ``per`` WebSocket connections; they report receive times."""

    def __init__(self, ws_url: str, total: int, procs: int, mode: str):
        self.procs = []
        per = [total // procs + (1 if i < total % procs else 0) for i in range(procs)]
        for i, n in enumerate(per):
            p = subprocess.Popen([PY, __file__, "_worker", ws_url, str(n), f"w{i}", mode],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=ENV,
                                 preexec_fn=lambda: raise_nofile())
            self.procs.append(p)
        for p in self.procs:
            line = p.stdout.readline()
            if not line.startswith("READY"):
                raise RuntimeError(f"worker failed: {line!r}")

    def results(self) -> list:
        out = []
        for p in self.procs:
            p.stdin.write("STOP\n")
            p.stdin.flush()
        for p in self.procs:
            out.extend(json.loads(p.stdout.readline()))
            p.wait(30)
        return out


class RawPlugin(asyncio.Protocol):
    """A minimal WebSocket client (handshake + frame parsing, nothing else), so that the
    figures measure the service rather than the benchmark's clients."""

    def __init__(self, host: str, path: str, on_text):
        self.request = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n").encode()
        self.on_text = on_text
        self.buf = bytearray()
        self.open = asyncio.get_running_loop().create_future()
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data):
        t = time.time()
        self.buf += data
        if not self.open.done():
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if b" 101 " not in self.buf[:end]:
                self.open.set_exception(RuntimeError(bytes(self.buf[:end]).decode()))
                return
            del self.buf[:end + 4]
            self.open.set_result(True)
        buf = self.buf
        while len(buf) >= 2:
            n, off = buf[1] & 0x7F, 2
            if n == 126:
                if len(buf) < 4:
                    return
                n, off = int.from_bytes(buf[2:4], "big"), 4
            elif n == 127:
                if len(buf) < 10:
                    return
                n, off = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < off + n:
                return
            opcode = buf[0] & 0x0F
            payload = bytes(buf[off:off + n])
            del buf[:off + n]
            if opcode == 1:
                self.on_text(payload, t)
            elif opcode == 9:  # ping -> pong (client frames are masked; a zero mask is valid)
                self.transport.write(bytes([0x8A, 0x80 | len(payload)]) + b"\0\0\0\0" + payload)

    def close(self):
        if self.transport is not None:
            self.transport.close()


def worker_main(ws_url: str, n: int, prefix: str, mode: str):
    """[(key, receive time, server time)] for every matching message, printed at STOP."""
    raise_nofile()
    records = []
    host, port = ws_url.split("//", 1)[1].split(":")
    want = b'"midi_ready"' if mode in ("notify", "publish") else b'"transport_sync"'

    raw = []

    def on_text(payload: bytes, t: float):
        if want in payload and b'"seq"' in payload:  # events (not a snapshot on connect)
            raw.append((payload, t))  # parsed after the run: the client's work stays small

    async def main():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        threading.Thread(target=lambda: (sys.stdin.readline(), loop.call_soon_threadsafe(stop.set)),
                         daemon=True).start()
        conns = []
        for i in range(n):
            for attempt in range(20):
                try:
                    _, proto = await loop.create_connection(
                        lambda i=i: RawPlugin(host, f"/ws/{prefix}-{i}", on_text), host, int(port))
                    await proto.open
                    if mode == "silent":  # a plugin that never reads (its buffers fill up)
                        proto.transport.pause_reading()
                    conns.append(proto)
                    break
                except OSError:
                    await asyncio.sleep(0.05 * (attempt + 1))
        print("READY", flush=True)
        await stop.wait()
        await asyncio.sleep(0.2)
        for c in conns:
            c.close()

    asyncio.run(main())
    for payload, t in raw:
        d = json.loads(payload)
        key = d["filename"] if mode in ("notify", "publish") else d["currentBeat"]
        records.append((key, t, d["time"]))
    print(json.dumps(records), flush=True)


# ---------------------------------------------------------------------------- benchmarks
def bench_notify(quick: bool) -> dict:
    rounds = 15 if quick else 50
    with tempfile.TemporaryDirectory() as tmp:
        svc = Service(Path(tmp) / "gen")
        try:
            svc.post("/api/generate", {"chords": ["C", "G"], "tracks": ["bass"]})  # warm up
            workers = Workers(svc.ws, 10, 2, "notify")
            sent = {}
            register = []
            for i in range(rounds):
                t = time.perf_counter()
                svc.post("/api/plugin/register", {"plugin_id": f"reg{i}"})
                register.append((time.perf_counter() - t) * 1000)
                t0 = time.time()
                answer = svc.post("/api/generate", {"chords": ["C", "Am", "F", "G"], "bpm": 120,
                                                    "key": "C", "tracks": ["bass", "drums"],
                                                    "seed": i})
                for f in answer["files"]:
                    sent[f["filename"]] = t0
                time.sleep(0.05)
            recs = workers.results()
        finally:
            svc.stop()
    notify = [(t - server_t) * 1000 for _, t, server_t in recs]
    end_to_end = [(t - sent[k]) * 1000 for k, t, _ in recs if k in sent]
    return {"plugins": 10, "generations": rounds, "files_per_generation": 3,
            "announce_to_plugin": summary(notify), "post_to_plugin": summary(end_to_end),
            "register_http": summary(register), "target_p99_ms": 10}


def bench_transport(quick: bool) -> dict:
    seconds = 3 if quick else 10
    updates = 100 * seconds
    with tempfile.TemporaryDirectory() as tmp:
        svc = Service(Path(tmp) / "gen")
        try:
            workers = Workers(svc.ws, 100, 2, "transport")
            sent = asyncio.run(_daw_sender(svc.ws, updates, 100.0))
            time.sleep(0.3)
            recs = workers.results()
        finally:
            svc.stop()
    lat = [(t - sent[beat]) * 1000 for beat, t, _ in recs if beat in sent]
    by_update: dict[float, float] = {}  # until the last of the 100 has it
    for beat, t, _ in recs:
        if beat in sent:
            by_update[beat] = max(by_update.get(beat, 0.0), (t - sent[beat]) * 1000)
    return {"receivers": 100, "rate_hz": 100, "updates": updates, "received": len(lat),
            "expected": updates * 100, "latency": summary(lat),
            "all_100_received": summary(list(by_update.values())), "target_p99_ms": 5}


async def _daw_sender(ws_url, count, hz):
    from tornado.websocket import websocket_connect

    ws = await websocket_connect(ws_url + "/ws/daw-sender")
    ws.protocol.stream.set_nodelay(True)  # as a real-time plugin should (no Nagle delay)
    await ws.read_message()
    sent = {}
    period = 1.0 / hz
    start = time.perf_counter()
    drain = asyncio.create_task(_drain(ws))
    for i in range(count):
        beat = float(i + 1)
        sent[beat] = time.time()
        await ws.write_message(json.dumps({"type": "transport_update", "isPlaying": False,
                                           "currentBeat": beat, "tempo": 120}))
        delay = start + (i + 1) * period - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
    await asyncio.sleep(0.2)
    drain.cancel()
    ws.close()
    return sent


async def _drain(ws):
    while await ws.read_message() is not None:
        pass


def bench_broadcast(quick: bool, n: int = 1000) -> dict:
    rounds = 10 if quick else 30
    with tempfile.TemporaryDirectory() as tmp:
        svc = Service(Path(tmp) / "gen")
        try:
            idle = svc.rss_mb()
            t = time.perf_counter()
            workers = Workers(svc.ws, n, 4, "broadcast")
            connect_s = time.perf_counter() - t
            connected = svc.rss_mb()
            sent = {}
            for i in range(rounds):
                beat = float(1000 + i)
                sent[beat] = time.time()
                svc.post("/api/transport/sync", {"isPlaying": False, "currentBeat": beat})
                time.sleep(0.25)
            recs = workers.results()
        finally:
            svc.stop()
    per_round: dict[float, list] = {}
    for beat, t, _ in recs:
        if beat in sent:
            per_round.setdefault(beat, []).append(t)
    all_received = [(max(ts) - sent[b]) * 1000 for b, ts in per_round.items()]
    counts = [len(ts) for ts in per_round.values()]
    return {"plugins": n, "broadcasts": rounds, "received_per_broadcast_min": min(counts),
            "all_received_ms": {"median": round(statistics.median(all_received), 2),
                                "max": round(max(all_received), 2)},
            "target_ms": 100, "connect_all_s": round(connect_s, 2),
            "rss_idle_mb": round(idle, 1), "rss_1000_plugins_mb": round(connected, 1),
            "kb_per_plugin": round((connected - idle) * 1024 / n, 1)}


def bench_publish(quick: bool, n: int = 1000, silent: int = 50) -> dict:
    """Generations announced to 1,000 plugins, 50 of which never read."""
    rounds = 8 if quick else 20
    with tempfile.TemporaryDirectory() as tmp:
        svc = Service(Path(tmp) / "gen")
        try:
            readers = Workers(svc.ws, n - silent, 4, "publish")
            stuck = Workers(svc.ws, silent, 1, "silent")
            names = []
            for i in range(rounds):
                body = {"chords": ["C", "Am", "F", "G"], "bpm": 120, "key": "C", "seed": i,
                        "tracks": ["bass", "drums"]}
                names += [f["filename"] for f in svc.post("/api/generate", body)["files"]]
                time.sleep(0.3)
            time.sleep(1.0)
            recs = readers.results()
            stuck.results()
        finally:
            svc.stop()
    got: dict[str, int] = {}
    for name, _, _ in recs:
        got[name] = got.get(name, 0) + 1
    lat = [(t - server_t) * 1000 for name, t, server_t in recs if name in names]
    return {"plugins": n, "never_reading": silent, "files": len(names),
            "every_reader_got_every_file": all(got.get(nm, 0) == n - silent for nm in names),
            "received_per_file_min": min(got.get(nm, 0) for nm in names),
            "announce_to_plugin": summary(lat), "target_p99_ms": 100}


def bench_files(quick: bool, n: int = 5000) -> dict:
    import workbench

    rounds = 20 if quick else 100
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "gen"
        arr = workbench.generate(["C", "Am", "F", "G"], style="pop", tracks=["bass", "drums"],
                                 tempo=120, key="C", seed=1)
        written = arr.write(folder, timestamp="20250101000000")  # real engine output
        t0 = time.mktime(time.strptime("20250101000000", "%Y%m%d%H%M%S"))
        i = len(written)
        while i < n:  # copies of the engine's files under new timestamps
            ts = time.strftime("%Y%m%d%H%M%S", time.localtime(t0 + i))
            for p in written:
                if i >= n:
                    break
                track = p.parent.name
                shutil.copyfile(p, folder / track / p.name.replace("20250101000000", ts))
                i += 1
        svc = Service(folder)
        try:
            conn = http.client.HTTPConnection("127.0.0.1", svc.port)

            def get():
                t = time.perf_counter()
                conn.request("GET", "/api/files")
                resp = conn.getresponse()
                body = resp.read()
                return (time.perf_counter() - t) * 1000, body

            _, body = get()
            total = json.loads(body)["total"]
            warm = [get()[0] for _ in range(rounds)]
            cold = []
            names = [f["filename"] for f in json.loads(body)["files"]]
            for k in range(rounds):
                conn.request("DELETE", "/api/files/" + urllib.request.quote(names[-1 - k], safe=""))
                conn.getresponse().read()
                cold.append(get()[0])
            conn.close()
        finally:
            svc.stop()
    return {"files": total, "body_kb": round(len(body) / 1024), "warm": summary(warm),
            "cold": summary(cold), "target_ms": 20}


BENCHES = {"notify": bench_notify, "transport": bench_transport, "broadcast": bench_broadcast,
           "publish": bench_publish, "files": bench_files}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_worker":
        worker_main(argv[1], int(argv[2]), argv[3], argv[4])
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("which", nargs="*",
                   help="notify transport broadcast publish files memory (default: all)")
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    unknown = set(args.which) - {*BENCHES, "memory"}
    if unknown:
        p.error(f"unknown benchmark(s) {sorted(unknown)}; choose from {[*BENCHES, 'memory']}")
    run(args.which, args.quick, echo=True)
    return 0


def run(which=None, quick=False, echo=False) -> dict:
    """Run the named benchmarks (default all); returns {name: figures}."""
    which = list(which or BENCHES)
    raise_nofile()
    results = {}
    for name in which:
        if name == "memory":
            name = "broadcast"  # the memory figures come with the 1,000-plugin broadcast
        if name in results:
            continue
        t = time.perf_counter()
        results[name] = BENCHES[name](quick)
        results[name]["bench_seconds"] = round(time.perf_counter() - t, 1)
        if echo:
            print(json.dumps({name: results[name]}), flush=True)
    return results


if __name__ == "__main__":
    sys.exit(main())
