"""The style registry: what each style is, which meters it plays, its default tempo and feel.

The patterns themselves live with the part that plays them (``bass.py``, ``drums.py``, ...);
this module only describes the styles, so listing them costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.errors import WorkbenchError


@dataclass(frozen=True)
class StyleInfo:
    """A style as the UI and the CLI show it.

    ``default_swing`` is 0 (straight) .. 1 (dotted), 2/3 being a triplet feel; ``swing_unit``
    says which subdivision swings (0.5 = eighths, 0.25 = sixteenths). ``programs`` are the GM
    programs the style picks for the pitched parts (overridable per call).
    """

    name: str
    description: str
    meters: tuple[str, ...]
    default_tempo: int
    default_swing: float = 0.0
    swing_unit: float = 0.5
    programs: tuple[tuple[str, int], ...] = ()
    phrase_bars: int = 4

    def program(self, track: str, fallback: int) -> int:
        for name, program in self.programs:
            if name == track:
                return program
        return fallback


_STYLES = (
    StyleInfo(
        "rock", "Straight-eighth rock: driving root bass, power-chord guitar, kick 1 & 3, "
        "backbeat on 2 & 4, crash after fills.",
        ("4/4", "2/4"), 120, 0.0, 0.5,
        (("bass", 34), ("keys", 18), ("pad", 48), ("guitar", 29)), 4),
    StyleInfo(
        "pop", "Modern pop: pushed bass and piano, D-D-U-U-D-U strummed acoustic, warm pad; "
        "4/4, also a lilting 3/4 and 6/8.",
        ("4/4", "3/4", "6/8"), 110, 0.0, 0.5,
        (("bass", 33), ("keys", 0), ("pad", 89), ("guitar", 25)), 4),
    StyleInfo(
        "ballad", "Slow ballad: arpeggiated piano and picked guitar over long bass notes, strings, "
        "side-stick; 4/4, 3/4, 6/8 and 12/8.",
        ("4/4", "3/4", "6/8", "12/8"), 72, 0.0, 0.5,
        (("bass", 35), ("keys", 0), ("pad", 48), ("guitar", 24)), 4),
    StyleInfo(
        "funk", "Sixteenth-note funk: syncopated octave-popping slap bass with ghost notes, "
        "clavinet stabs, scratchy guitar, ghosted snare.",
        ("4/4",), 100, 0.0, 0.25,
        (("bass", 36), ("keys", 7), ("pad", 50), ("guitar", 28)), 4),
    StyleInfo(
        "swing", "Medium swing: walking bass with approach notes, ride-cymbal spang-a-lang, "
        "hi-hat on 2 & 4, rootless piano comping, swung eighths; also a jazz waltz in 3/4.",
        ("4/4", "3/4"), 140, 0.62, 0.5,
        (("bass", 32), ("keys", 0), ("pad", 49), ("guitar", 26)), 8),
    StyleInfo(
        "bossa", "Bossa nova: root-fifth bass in a dotted rhythm, rim-click clave, syncopated "
        "nylon guitar and Rhodes.",
        ("4/4", "2/4"), 128, 0.0, 0.5,
        (("bass", 32), ("keys", 4), ("pad", 49), ("guitar", 24)), 8),
    StyleInfo(
        "shuffle", "Blues shuffle: triplet-feel boogie bass and guitar, shuffled hi-hat, "
        "backbeat; 4/4 swung or 12/8.",
        ("4/4", "12/8"), 96, 2 / 3, 0.5,
        (("bass", 33), ("keys", 0), ("pad", 16), ("guitar", 27)), 4),
    StyleInfo(
        "waltz", "Waltz in 3/4: oom-pah-pah, the bass on 1 with fifth pick-ups, chords on 2 "
        "and 3, brushed snare.",
        ("3/4",), 150, 0.0, 0.5,
        (("bass", 32), ("keys", 0), ("pad", 48), ("guitar", 24)), 4),
    StyleInfo(
        "reggae", "Roots reggae: one-drop drums (kick and rim on 3), guitar skank and organ on "
        "the offbeats, melodic bass.",
        ("4/4",), 76, 0.2, 0.5,
        (("bass", 33), ("keys", 16), ("pad", 89), ("guitar", 27)), 4),
    StyleInfo(
        "country", "Country two-beat: boom-chick alternating bass (root, lower fifth), train "
        "beat on the snare, bass-strum guitar.",
        ("4/4", "2/4"), 112, 0.0, 0.5,
        (("bass", 33), ("keys", 3), ("pad", 48), ("guitar", 25)), 4),
)

STYLES: dict[str, StyleInfo] = {s.name: s for s in _STYLES}


def styles() -> list[StyleInfo]:
    """Every style, in a stable order."""
    return list(_STYLES)


def get_style(name) -> StyleInfo:
    """The style called ``name`` (case-insensitive); a WorkbenchError listing the styles else."""
    if isinstance(name, StyleInfo):
        return name
    style = STYLES.get(name.strip().lower()) if isinstance(name, str) else None
    if style is None:
        raise WorkbenchError(f"unknown style {name!r}; styles: {', '.join(STYLES)}",
                             field="style", value=name, valid=STYLES)
    return style


def check_meter(style: StyleInfo, meter: str) -> None:
    """A WorkbenchError naming the meters a style plays if ``meter`` is not one of them."""
    if meter not in style.meters:
        raise WorkbenchError(
            f"meter {meter} is not played by {style.name}; it supports {', '.join(style.meters)}",
            field="meter", value=meter, valid=style.meters)
