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


def _generations(store):
    """{generation: sorted track types} of the files indexed."""
    out = {}
    for r in store.list()[1]:
        out.setdefault(r.generation, []).append(r.track_type)
    return {g: sorted(t) for g, t in out.items()}


def test_retention_by_count_removes_whole_generations(tmp_path, band):
    store = FileStore(tmp_path / "f", max_files=4)
    store.rebuild()
    for i in range(3):
        _write(store, band, f"2025010112000{i}")
    removed = store.enforce_retention()
    # 9 files > 4: the two oldest generations go whole (never some tracks of a band)
    assert sorted(removed) == sorted(f"2025010112000{i}_{t}_Cmaj_120.mid"
                                     for i in (0, 1) for t in ("bass", "drums", "band"))
    assert _generations(store) == {"20250101120002_Cmaj_120": ["band", "bass", "drums"]}
    for name in removed:  # moved to the trash, laid out like the folder (restorable)
        track = name.split("_")[1]
        assert not (store.folder / track / name).exists()
        assert (store.folder / "trash" / track / name).read_bytes()[:4] == b"MThd"
    # sidecars of removed generations go too (to trash/meta/)
    assert sorted(p.name for p in (store.folder / "trash" / "meta").glob("*.json")) == \
        ["20250101120000_Cmaj_120.json", "20250101120001_Cmaj_120.json"]
    assert [p.name for p in (store.folder / "meta").glob("*.json")] == \
        ["20250101120002_Cmaj_120.json"]
    # the newest generation is kept even when it alone is over the limit
    store.max_files = 1
    assert store.enforce_retention() == [] and len(store) == 3
    # after a restart (index rebuilt from the sidecars) generations are still removed whole
    _write(store, band, "20250101120003")
    again = FileStore(tmp_path / "f", max_files=4)
    again.rebuild()
    assert sorted(again.enforce_retention()) == sorted(
        f"20250101120002_{t}_Cmaj_120.mid" for t in ("bass", "drums", "band"))


def test_retention_never_touches_files_without_a_sidecar(tmp_path, band):
    store = FileStore(tmp_path / "f", max_files=3)
    store.rebuild()
    for i in range(2):
        _write(store, band, f"2025010112000{i}")
    for sidecar in (store.folder / "meta").glob("*.json"):
        sidecar.unlink()
    again = FileStore(tmp_path / "f", max_files=3)
    again.rebuild()  # grouped by name into their generations, but not the service's to remove
    assert {r.generation for r in again.list()[1]} == {
        "20250101120000_Cmaj_120", "20250101120001_Cmaj_120"}
    assert again.enforce_retention() == [] and len(again) == 6


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
    _write(store, band, "20250101120002")
    # the oldest generation is being downloaded: it stays whole, and the newer ones are not
    # removed in its place (the count waits for the next pass)
    assert store.enforce_retention() == [] and len(store) == 9
    assert all(r.path.exists() for r in first)
    store.release(held)
    removed = store.enforce_retention()
    assert sorted(removed) == sorted(f"2025010112000{i}_{t}_Cmaj_120.mid"
                                     for i in (0, 1) for t in ("bass", "drums", "band"))
    assert not held.path.exists() and len(store) == 3
    # by age: a held generation is skipped, the other old ones go
    store.max_files, store.max_age = 0, 3600
    old = _write(store, band, "20250101120003")
    past = time.time() - 7200
    for r in store.list()[1]:
        os.utime(r.path, (past, past))
        r.mtime = past
    held = store.acquire(old[1].filename)
    assert sorted(store.enforce_retention()) == sorted(
        f"20250101120002_{t}_Cmaj_120.mid" for t in ("bass", "drums", "band"))
    assert all(r.path.exists() for r in old)
    store.release(held)
    assert sorted(store.enforce_retention()) == sorted(r.filename for r in old)
    # DELETE while downloading: gone from the index now, from the disk when the download ends
    new = _write(store, band, "20250101120004")
    held = store.acquire(new[0].filename)
    store.delete(new[0].filename)
    assert store.get(new[0].filename) is None and held.path.exists()
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


def test_retention_keeps_the_generation_just_announced(tmp_path, band):
    store = FileStore(tmp_path / "f", max_files=3)
    store.rebuild()
    first = _write(store, band, "20250101120005")
    past = time.time() - 60
    for r in first:
        os.utime(r.path, (past, past))
        r.mtime = past
    # written later but named earlier (a clash moved the first one's timestamp on)
    later = _write(store, band, "20250101120001")
    assert sorted(store.enforce_retention(keep=(later[0].generation,))) == \
        sorted(r.filename for r in first)
    assert sorted(r.filename for r in store.list()[1]) == sorted(r.filename for r in later)


def test_next_timestamp_keeps_names_in_creation_order(tmp_path, band):
    store = FileStore(tmp_path / "f")
    store.rebuild()
    now = time.time()
    ts_now = time.strftime("%Y%m%d%H%M%S", time.localtime(now))
    assert store.next_timestamp(now) == ts_now
    ahead = time.strftime("%Y%m%d%H%M%S", time.localtime(now + 5))
    _write(store, band, ahead)  # a clash moved a generation 5 s ahead of the clock
    assert store.next_timestamp(now) == ahead
    _write(store, band, "20991231235959")  # a stray far-future name is not followed
    assert store.next_timestamp(now) == ts_now


def test_the_service_temp_folder_outlives_a_notebook_writing_into_it(tmp_path):
    """The service owns its temp/ (files.TEMP_KEEP in it): a notebook's write into the same
    folder, which removes the temp/ it leaves empty elsewhere, leaves this one in place."""
    import workbench
    from server.store import FileStore
    from workbench.files import TEMP_KEEP

    store = FileStore(tmp_path)
    store.ensure_folders(["bass"])
    assert (tmp_path / "temp" / TEMP_KEEP).is_file()
    workbench.generate(["C", "G"], tracks=["bass"]).write(tmp_path)
    assert (tmp_path / "temp").is_dir()
