"""Source style names (iReal Pro's "Medium Swing", "Bossa Nova", ...) → the band's styles.

>>> map_style("Medium Up Swing", "4/4"), map_style("Jazz Waltz", "3/4"), map_style("", "12/8")
('swing', 'swing', 'shuffle')
"""

from __future__ import annotations

from workbench.band.styles import STYLES

# words in the source's style text → band style, first match wins (so "Bossa" beats "Latin")
_WORDS = (
    ("jazz waltz", "swing"), ("bossa", "bossa"), ("samba", "bossa"), ("latin", "bossa"), ("afox", "bossa"),
    ("bai", "bossa"), ("cha cha", "bossa"), ("bolero", "ballad"), ("tango", "bossa"),
    ("waltz", "waltz"), ("ballad", "ballad"), ("shuffle", "shuffle"), ("blues", "shuffle"),
    ("swing", "swing"), ("bop", "swing"), ("jazz", "swing"), ("gypsy", "swing"),
    ("funk", "funk"), ("rnb", "funk"), ("r&b", "funk"), ("soul", "funk"), ("disco", "funk"),
    ("reggae", "reggae"), ("ska", "reggae"), ("country", "country"), ("bluegrass", "country"),
    ("rock", "rock"), ("even 8", "pop"), ("even 16", "funk"), ("pop", "pop"),
)
# what plays a meter when the mapped style cannot
_BY_METER = {"3/4": "waltz", "6/8": "ballad", "12/8": "shuffle", "2/4": "country"}


def known_style(text: str) -> bool:
    """Whether ``text`` names a style (has one of the style words)."""
    lower = (text or "").lower()
    return any(word in lower for word, _ in _WORDS)


def map_style(text: str, meter: str = "4/4") -> str:
    """The band style for a source's style text that plays ``meter`` (a jazz waltz in 3/4 is
    swing, a "Medium Swing" in 12/8 is a shuffle)."""
    lower = (text or "").lower()
    style = next((s for word, s in _WORDS if word in lower), "pop")
    if meter in STYLES[style].meters:
        return style
    fallback = _BY_METER.get(meter)
    if fallback and meter in STYLES[fallback].meters:
        return fallback
    return next((s.name for s in STYLES.values() if meter in s.meters), style)
