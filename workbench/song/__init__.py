"""Songs: lead sheets with their form, read from bar notation, iReal Pro and MusicXML.

>>> from workbench.song import parse_song
>>> parse_song("[A] |: C | G :| [B] | F | G |").progression().bars
6
"""

from __future__ import annotations

from workbench.song.model import Bar, MelodyNote, Section, Song, SongError, SongList
from workbench.song.text import parse_song

__all__ = ["Bar", "MelodyNote", "Section", "Song", "SongError", "SongList", "parse_song",
           "read_ireal", "read_musicxml", "read_songs"]


def __getattr__(name):  # the readers load on first use (music21 only for MusicXML)
    if name == "read_ireal":
        from workbench.song.ireal import read_ireal

        return read_ireal
    if name == "read_musicxml":
        from workbench.song.musicxml import read_musicxml

        return read_musicxml
    if name == "read_songs":
        from workbench.song.sources import read_songs

        return read_songs
    raise AttributeError(f"module 'workbench.song' has no attribute {name!r}")
