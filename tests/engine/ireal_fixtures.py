"""Test helpers: iReal Pro links built from the format's description (no real app exports).

``chart()`` is written in iReal's plain chart language; :func:`irealb` scrambles it the way the
app does (the block shuffle is its own inverse, see ``workbench.song.ireal``) and URL-encodes
the song fields, so the reader is tested on links shaped like the app's.
"""

from __future__ import annotations

from urllib.parse import quote

from workbench.song.ireal import MARKER, scramble_block


def scramble(chart: str) -> str:
    """Plain chart → the scrambled chart field of an irealb:// song (marker included)."""
    out = []
    while len(chart) > 51:
        out.append(scramble_block(chart[:50]))
        chart = chart[50:]
    return MARKER + "".join(out) + chart


def song_fields(title, chart, composer="Composer Test", style="Medium Swing", key="C",
                groove="", tempo=0, repeats=3) -> str:
    return "=".join([title, composer, "", style, key, "n", scramble(chart), groove, str(tempo),
                     str(repeats)])


def irealb(*songs, playlist: str | None = None) -> str:
    """An irealb:// link of one song's fields or of a playlist (songs joined by ===)."""
    body = "===".join(songs)
    if playlist is not None or len(songs) > 1:
        body += "===" + (playlist or "Playlist")
    return "irealb://" + quote(body, safe="")


def irealbook(title, chart, composer="Composer Test", style="Medium Swing", key="C") -> str:
    """The older, unscrambled format: title=composer=style=key=n=chart."""
    return "irealbook://" + quote("=".join([title, composer, style, key, "n", chart]), safe="")


def html_export(link: str, title: str = "My playlist") -> str:
    """An HTML page like the app's "share as HTML": the link in an anchor."""
    return (f"<!DOCTYPE html><html><head><title>{title}</title></head><body><h3>"
            f'<a href="{link}">{title}</a></h3><br/>Made with iReal Pro</body></html>')


# Charts written as iReal writes them: XyQ (three blank cells), LZ (a barline), Kcl (repeat bar)
AUTUMN = ("{*AT44C-7XyQ|F7XyQ|Bb^7XyQ|Eb^7XyQ|A-7b5XyQ|D7b9XyQ|N1G-6XyQ|G-6XyQ}"
          "XyQLZN2G-6XyQ|G-6XyQ]*B[A-7b5XyQ|D7b9XyQ|G-6XyQKcl  LZC-7XyQ|F7XyQ|Bb^7XyQ|Eb^7XyQ]"
          "[*CA-7b5XyQ|D7b9XyQ|G-7 C7LZF-7 Bb7|Eb^7XyQ|A-7b5XyQ|D7b9XyQ|G-6XyQ|G-6XyQZ")
