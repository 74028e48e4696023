"""One entry for every kind of song source: :func:`read_songs` (the CLI, the service and the app
use it), and :func:`pick_song` to choose one song of a playlist."""

from __future__ import annotations

from pathlib import Path

from workbench.song.model import Song, SongError, SongList

__all__ = ["read_songs", "pick_song", "MAX_SONG_BYTES"]

MAX_SONG_BYTES = 8 * 1024 * 1024  # a 1,000-song playlist link is about 1 MB
_XML_SUFFIXES = (".musicxml", ".xml", ".mxl")


def read_songs(source, paths: bool = True) -> SongList:
    """Songs from an iReal Pro link (or a text/HTML holding one), MusicXML bytes, bar notation
    with form, or (with ``paths``) a path to a file holding any of these. The service and the
    app pass ``paths=False``: text from a visitor is never taken for a file on this machine.

    >>> [s.title for s in read_songs("Title: Vamp\\n| Dm7 | G7 |")]
    ['Vamp']
    """
    if isinstance(source, Path) and not paths:
        raise SongError("reading songs from files is not allowed here", token=source.name)
    if paths and (isinstance(source, Path) or (isinstance(source, str) and _looks_like_path(source))):
        path = Path(source)
        if not path.is_file():
            raise SongError(f"no song file {str(path)!r}", token=str(path))
        if path.stat().st_size > MAX_SONG_BYTES:
            raise SongError(f"{path.name} is larger than {MAX_SONG_BYTES // 2**20} MB",
                            token=str(path))
        if path.suffix.lower() in _XML_SUFFIXES:
            from workbench.song.musicxml import read_musicxml

            return SongList([read_musicxml(path)])
        source = path.read_bytes()
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
        if data[:2] == b"PK" or b"<score-partwise" in data[:4096] or b"<score-timewise" in data[:4096]:
            from workbench.song.musicxml import read_musicxml

            return SongList([read_musicxml(data)])
        source = data.decode("utf-8", errors="replace")
    text = str(source)
    if len(text) > MAX_SONG_BYTES:
        raise SongError(f"the song text is larger than {MAX_SONG_BYTES // 2**20} MB")
    if "irealb://" in text or "irealbook://" in text:
        from workbench.song.ireal import read_ireal

        return read_ireal(text)
    from workbench.song.text import parse_song

    return SongList([parse_song(text)])


def _looks_like_path(text: str) -> bool:
    if "\n" in text or "|" in text or "://" in text or len(text) > 4096:
        return False
    try:
        return Path(text).is_file()
    except OSError:
        return False


def pick_song(songs: SongList, index: object = None) -> Song:
    """The song at playlist position ``index`` (0-based); the only song when ``index`` is None."""
    if index is None:
        if len(songs) + len(songs.errors) > 1:
            listing = ", ".join(f"{s.index}: {s.title}" for s in songs[:5])
            raise SongError(f"the playlist holds {len(songs) + len(songs.errors)} songs: choose "
                            f"one by its index ({listing}{', ...' if len(songs) > 5 else ''})",
                            field="song_index")
        return songs[0]
    if isinstance(index, bool) or not isinstance(index, int):
        try:
            index = int(str(index))
        except ValueError:
            raise SongError(f"the song index must be a whole number, not {index!r}",
                            field="song_index", token=str(index)) from None
    return songs.select(index)
