"""The sync panel against the real service (free port) and the reference plugin client."""

from __future__ import annotations

import threading

import pytest

import workbench
from workbench.ui import SyncPanel, Workbench
from workbench.ui.sync import free_port


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    from server import kernel

    if kernel.current() is not None:
        kernel.stop()
    handle = kernel.start(port=free_port(), folder=tmp_path_factory.mktemp("files"))
    yield handle
    handle.stop()


@pytest.fixture
def plugin(service, tmp_path):
    from server.client import PluginClient

    client = PluginClient(service.ws_url, "ui-test-daw", mirror=tmp_path / "mirror",
                          token=service.token).start_thread()
    client.submit(client.wait_for(lambda m: m.get("type") == "connection_confirmed"))
    yield client
    client.stop_thread()


def test_panel_attaches_shows_url_and_publishes(service, plugin, arrangement):
    panel = SyncPanel(start=True)
    assert panel.handle is service                     # start() is idempotent per kernel
    assert service.url in panel.info.value and service.token in panel.info.value
    n = len(plugin.messages)
    records = panel.publish(arrangement)
    assert len(records) == len(arrangement.tracks) + 1
    plugin.submit(plugin.wait_for(
        lambda m: m.get("type") == "downloaded" and "_band_" in m.get("filename", ""),
        timeout=10, start=n))
    ready = [m for m in plugin.messages[n:] if m.get("type") == "midi_ready"]
    assert {m["track_type"] for m in ready} == {*arrangement.tracks, "band"}
    panel.refresh()
    assert "ui-test-daw" in panel.plugins_html.value
    assert "midi_ready" in panel.events_html.value


def test_daw_position_moves_the_playhead(service, plugin, arrangement):
    app = Workbench(audio_engine="builtin", sync=True)
    app.sync.follow.value = True
    assert app.roll.follow_daw
    got = threading.Event()
    service.on_event(lambda e: got.set() if e.get("type") == "transport_sync" else None)
    plugin.submit(plugin.send_transport(True, 6.5, 120.0))
    assert got.wait(10)
    assert app.sync.position[0] == pytest.approx(6.5)
    assert app.roll.daw_beat == pytest.approx(6.5) and app.roll.daw_playing
    app.sync.refresh()
    assert "6.50" in app.sync.plugins_html.value


def test_generate_with_sync_on_sends_files(service, plugin):
    app = Workbench(audio_engine="builtin", sync=True)
    assert app.sync.enabled.value
    n = len(plugin.messages)
    app.controls.progression.value = "| F | Dm | Gm7 | C7 |"     # live preview: not sent
    assert not [m for m in plugin.messages[n:] if m.get("type") == "midi_ready"]
    app.controls.generate.click()
    plugin.submit(plugin.wait_for(lambda m: m.get("type") == "midi_ready"
                                  and m.get("track_type") == "band", timeout=10, start=n))
    assert "sent 6 files" in app.status.value
    assert workbench.parse_key("F").name in app.status.value


def test_panel_shows_a_plugin_that_sends_no_events(service, tmp_path):
    """A plugin that connects and only heartbeats publishes no event: the panel polls."""
    from server.client import PluginClient

    panel = SyncPanel()
    panel.POLL_SECONDS = 0.05
    panel.start()
    seen = threading.Event()
    panel.plugins_html.observe(
        lambda change: seen.set() if "data-plugin='quiet-daw'" in change["new"] else None,
        "value")
    client = PluginClient(service.ws_url, "quiet-daw", token=service.token).start_thread()
    try:
        client.submit(client.wait_for(lambda m: m.get("type") == "connection_confirmed"))
        assert seen.wait(10)
    finally:
        client.stop_thread()
        panel._poll_stop.set()


def test_panel_hears_plugins_come_and_go_without_polling(service):
    """The service's plugin_connected / plugin_disconnected update the panel at once."""
    from server.client import PluginClient

    panel = SyncPanel()
    panel.POLL_SECONDS = 3600  # polling out of the picture
    panel.start()
    came, went = threading.Event(), threading.Event()

    def watch(change):
        row = change["new"].partition("data-plugin='brief-daw'")[2].partition("</tr>")[0]
        if "<td>connected</td>" in row:
            came.set()
        if came.is_set() and "<td>disconnected</td>" in row:
            went.set()

    panel.plugins_html.observe(watch, "value")
    client = PluginClient(service.ws_url, "brief-daw", token=service.token,
                          register=False).start_thread()
    try:
        client.submit(client.wait_for(lambda m: m.get("type") == "connection_confirmed"))
        assert came.wait(5)
        assert any(e.get("type") == "plugin_connected" for e in panel.events)
    finally:
        client.stop_thread()
    assert went.wait(5)
    assert "data-plugins='0'" in panel.plugins_html.value   # gone: no longer counted
    panel._poll_stop.set()


class _Vanishing:
    """The real service's handle, until ``gone`` is set: then it answers nothing, like the
    service of a Voilà visitor who has left (stop() detaches, it never stops the real one)."""

    attached = True

    def __init__(self, real):
        self.real = real
        self.url, self.ws_url, self.token, self.folder = real.url, real.ws_url, real.token, \
            real.folder
        self.gone = threading.Event()
        self.stopped = False

    def plugins(self):
        if self.gone.is_set():
            raise ConnectionRefusedError(f"nothing answers at {self.url}")
        return self.real.plugins()

    def on_event(self, callback):
        return callback

    def stop(self):
        self.stopped = True


def test_panel_reports_a_service_that_stopped_answering(service, monkeypatch):
    handle = _Vanishing(service)
    monkeypatch.setattr("workbench.ui.sync.start_service", lambda **kw: handle)
    panel = SyncPanel()
    panel.POLL_SECONDS = 0.02
    panel.start()
    assert panel.running and panel.start_button.disabled
    lost = threading.Event()
    panel.message.observe(lambda change: lost.set() if "stopped answering" in change["new"]
                          else None, "value")
    handle.gone.set()
    assert lost.wait(10)
    assert not panel.running and handle.stopped
    assert not panel.start_button.disabled and not panel.enabled.value
    assert service.url in panel.message.value
