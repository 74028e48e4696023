"""The file store: index rebuilt from disk, sidecars, retention (count, age, never mid-download)."""

from __future__ import annotations

import json
import os
import time

import pytest

from server.generation import arrangement_meta
from server.store import FileStore, UnsafePath, check_name


@pytest.fixture(scope="module")
def band():
    import workbench

    return workbench.generate(["C", "Am", "F", "G"], style="pop", tracks=["bass", "drums"],
                              tempo=120, key="C", seed=2)


def _write(store, band, ts):
    paths = band.write(store.folder, timestamp=ts)
    return store.add_files(paths, arrangement_meta(band))


def test_index_sidecar_and_rebuild(tmp_path, band):
    store = FileStore(tmp_path / "f", base_url="http://h:1")
    store.rebuild()
    recs = _write(store, band, "20250101120000")
    assert [r.track_type for r in recs] == ["bass", "drums", "band"]
    assert recs[0].filename == "20250101120000_bass_Cmaj_120.mid"
    assert recs[0].duration == band.length_beats and recs[0].key == "Cmaj" and recs[0].tempo == 120
    gen = recs[0].generation
    meta = json.loads((store.folder / "meta" / f"{gen}.json").read_text())
    assert meta["style"] == "pop" and meta["seed"] == 2 and len(meta["files"]) == 3
    again = FileStore(tmp_path / "f", base_url="http://h:1")
    assert again.rebuild() == 3
    r = again.get(recs[0].filename)
    assert r.generation == gen and r.duration == band.length_beats
    d = r.to_dict("http://h:1")
    assert d["url"] == "http://h:1/files/20250101120000_bass_Cmaj_120.mid"
    total, page = again.list(track="drums")
    assert total == 1 and page[0].track_type == "drums"


def test_names_are_checked():
    for bad in ("../x.mid", "a/b.mid", "a\\b.mid", "/etc/passwd", ".hidden.mid", "..", "x\x00.mid",
                "%2e%2e.mid", ""):
        with pytest.raises(UnsafePath):
            check_name(bad)
    assert check_name("20250101120000_bass_F#maj_120.mid")


def test_retention_by_count_keeps_newest(tmp_path, band):
    store = FileStore(tmp_path / "f", max_files=4)
    store.rebuild()
    for i in range(3):
        _write(store, band, f"2025010112000{i}")
    removed = store.enforce_retention()
    assert len(removed) == 5 and len(store) == 4
    assert all(n.startswith("2025010112000") for n in removed)
    left = sorted(r.filename for r in store.list()[1])
    assert left == ["20250101120001_drums_Cmaj_120.mid", "20250101120002_band_Cmaj_120.mid",
                    "20250101120002_bass_Cmaj_120.mid", "20250101120002_drums_Cmaj_120.mid"]
    for name in removed:
        assert not any(store.folder.rglob(name))
    # sidecars of fully removed generations go too
    assert len(list((store.folder / "meta").glob("*.json"))) == 2


def test_retention_by_age(tmp_path, band):
    store = FileStore(tmp_path / "f", max_age=3600)
    store.rebuild()
    old = _write(store, band, "20240101120000")
    new = _write(store, band, "20250101120000")
    past = time.time() - 7200
    for r in old:
        os.utime(r.path, (past, past))
    store.rebuild()
    assert sorted(store.enforce_retention()) == sorted(r.filename for r in old)
    assert {r.filename for r in store.list()[1]} == {r.filename for r in new}


def test_retention_and_delete_wait_for_downloads(tmp_path, band):
    store = FileStore(tmp_path / "f", max_files=3)
    store.rebuild()
    first = _write(store, band, "20250101120000")
    held = store.acquire(first[0].filename)  # a download in progress
    _write(store, band, "20250101120001")
    removed = store.enforce_retention()
    assert held.filename not in removed and held.path.exists()
    assert {r.filename for r in first[1:]} <= set(removed) and len(store) == 3
    store.max_files = 2
    assert held.filename not in store.enforce_retention()  # still downloading: newer ones go
    assert len(store) == 2
    store.release(held)
    store.max_files = 1
    assert store.enforce_retention() == [held.filename] and not held.path.exists()
    # DELETE while downloading: gone from the index now, from the disk when the download ends
    second = store.list()[1][0]
    held = store.acquire(second.filename)
    store.delete(second.filename)
    assert store.get(second.filename) is None and held.path.exists()
    store.release(held)
    assert not held.path.exists()


def test_uploads_never_overwrite(tmp_path, band):
    store = FileStore(tmp_path / "f")
    store.rebuild()
    recs = _write(store, band, "20250101120000")
    data = [(r.track_type, r.filename, r.path.read_bytes()) for r in recs]
    again = store.write_uploaded(data, {"style": "pop"})
    assert [r.filename[:14] for r in again] == ["20250101120001"] * 3
    assert len(store) == 6
    with pytest.raises(UnsafePath):
        store.write_uploaded([("bass", "../evil.mid", b"MThd")])
    with pytest.raises(UnsafePath):
        store.write_uploaded([("meta", "20250101120000_meta_Cmaj_120.mid", b"MThd")])
