"""General MIDI facts the band needs: program names, the drum map, tracks, channels, registers.

One table each, so that the parts, the MIDI writer and the UI agree on them.
"""

from __future__ import annotations

from workbench.errors import WorkbenchError

TRACKS = ("bass", "drums", "keys", "pad", "guitar")

#: MIDI channel (0-based) per track; drums on channel 10 (index 9) as General MIDI requires.
CHANNELS = {"bass": 0, "keys": 1, "pad": 2, "guitar": 3, "drums": 9}

#: Lowest and highest MIDI pitch each pitched part may use (inclusive). Bass E1..G3 keeps a
#: four-string bass; keys C3..C6 is the comping hand; pad and guitar sit around them.
REGISTERS = {
    "bass": (28, 55),
    "keys": (48, 84),
    "pad": (48, 79),
    "guitar": (40, 76),
}

#: Default GM program per track when a style does not choose one.
DEFAULT_PROGRAMS = {"bass": 33, "drums": 0, "keys": 0, "pad": 48, "guitar": 25}

#: The 128 General MIDI Level 1 program names, index = program number (0-based).
GM_PROGRAMS = (
    "Acoustic Grand Piano", "Bright Acoustic Piano", "Electric Grand Piano", "Honky-tonk Piano",
    "Electric Piano 1", "Electric Piano 2", "Harpsichord", "Clavinet",
    "Celesta", "Glockenspiel", "Music Box", "Vibraphone",
    "Marimba", "Xylophone", "Tubular Bells", "Dulcimer",
    "Drawbar Organ", "Percussive Organ", "Rock Organ", "Church Organ",
    "Reed Organ", "Accordion", "Harmonica", "Tango Accordion",
    "Acoustic Guitar (nylon)", "Acoustic Guitar (steel)", "Electric Guitar (jazz)",
    "Electric Guitar (clean)", "Electric Guitar (muted)", "Overdriven Guitar",
    "Distortion Guitar", "Guitar Harmonics",
    "Acoustic Bass", "Electric Bass (finger)", "Electric Bass (pick)", "Fretless Bass",
    "Slap Bass 1", "Slap Bass 2", "Synth Bass 1", "Synth Bass 2",
    "Violin", "Viola", "Cello", "Contrabass",
    "Tremolo Strings", "Pizzicato Strings", "Orchestral Harp", "Timpani",
    "String Ensemble 1", "String Ensemble 2", "Synth Strings 1", "Synth Strings 2",
    "Choir Aahs", "Voice Oohs", "Synth Voice", "Orchestra Hit",
    "Trumpet", "Trombone", "Tuba", "Muted Trumpet",
    "French Horn", "Brass Section", "Synth Brass 1", "Synth Brass 2",
    "Soprano Sax", "Alto Sax", "Tenor Sax", "Baritone Sax",
    "Oboe", "English Horn", "Bassoon", "Clarinet",
    "Piccolo", "Flute", "Recorder", "Pan Flute",
    "Blown Bottle", "Shakuhachi", "Whistle", "Ocarina",
    "Lead 1 (square)", "Lead 2 (sawtooth)", "Lead 3 (calliope)", "Lead 4 (chiff)",
    "Lead 5 (charang)", "Lead 6 (voice)", "Lead 7 (fifths)", "Lead 8 (bass + lead)",
    "Pad 1 (new age)", "Pad 2 (warm)", "Pad 3 (polysynth)", "Pad 4 (choir)",
    "Pad 5 (bowed)", "Pad 6 (metallic)", "Pad 7 (halo)", "Pad 8 (sweep)",
    "FX 1 (rain)", "FX 2 (soundtrack)", "FX 3 (crystal)", "FX 4 (atmosphere)",
    "FX 5 (brightness)", "FX 6 (goblins)", "FX 7 (echoes)", "FX 8 (sci-fi)",
    "Sitar", "Banjo", "Shamisen", "Koto",
    "Kalimba", "Bagpipe", "Fiddle", "Shanai",
    "Tinkle Bell", "Agogo", "Steel Drums", "Woodblock",
    "Taiko Drum", "Melodic Tom", "Synth Drum", "Reverse Cymbal",
    "Guitar Fret Noise", "Breath Noise", "Seashore", "Bird Tweet",
    "Telephone Ring", "Helicopter", "Applause", "Gunshot",
)

#: The General MIDI percussion key map (channel 10), note number -> name.
GM_DRUM_NAMES = {
    31: "Sticks", 35: "Acoustic Bass Drum", 36: "Bass Drum 1", 37: "Side Stick",
    38: "Acoustic Snare", 39: "Hand Clap", 40: "Electric Snare", 41: "Low Floor Tom",
    42: "Closed Hi-Hat", 43: "High Floor Tom", 44: "Pedal Hi-Hat", 45: "Low Tom",
    46: "Open Hi-Hat", 47: "Low-Mid Tom", 48: "Hi-Mid Tom", 49: "Crash Cymbal 1",
    50: "High Tom", 51: "Ride Cymbal 1", 52: "Chinese Cymbal", 53: "Ride Bell",
    54: "Tambourine", 55: "Splash Cymbal", 56: "Cowbell", 57: "Crash Cymbal 2",
    58: "Vibraslap", 59: "Ride Cymbal 2", 60: "Hi Bongo", 61: "Low Bongo",
    62: "Mute Hi Conga", 63: "Open Hi Conga", 64: "Low Conga", 65: "High Timbale",
    66: "Low Timbale", 67: "High Agogo", 68: "Low Agogo", 69: "Cabasa", 70: "Maracas",
    71: "Short Whistle", 72: "Long Whistle", 73: "Short Guiro", 74: "Long Guiro",
    75: "Claves", 76: "Hi Wood Block", 77: "Low Wood Block", 78: "Mute Cuica",
    79: "Open Cuica", 80: "Mute Triangle", 81: "Open Triangle",
}


class Drum:
    """GM drum note numbers by name, for readable pattern tables."""

    STICKS = 31
    KICK = 36
    SIDE_STICK = 37
    SNARE = 38
    CLAP = 39
    TOM_FLOOR_LO = 41
    HAT = 42
    TOM_FLOOR_HI = 43
    PEDAL_HAT = 44
    TOM_LO = 45
    OPEN_HAT = 46
    TOM_MID = 47
    TOM_HI_MID = 48
    CRASH = 49
    TOM_HI = 50
    RIDE = 51
    RIDE_BELL = 53
    TAMBOURINE = 54
    COWBELL = 56
    CABASA = 69
    SHAKER = 70


def program_number(value) -> int:
    """A GM program from a number (0-127) or a name (case-insensitive, e.g. "acoustic bass").

    A bad one is a :class:`WorkbenchError` with ``field="instruments"`` (where programs come from).
    """
    if isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value <= 127:
            return value
        raise WorkbenchError(f"GM program {value} is outside 0-127", field="instruments",
                             value=value)
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return program_number(int(text))
        wanted = text.lower()
        for number, name in enumerate(GM_PROGRAMS):
            if name.lower() == wanted:
                return number
        raise WorkbenchError(_unknown_program(text), field="instruments", value=value,
                             valid=GM_PROGRAMS)
    raise WorkbenchError(f"not a GM program: {value!r}", field="instruments", value=value)


def _unknown_program(text: str) -> str:
    """Names like the one given (a word of it, or spelt alike), then where to find them all.

    >>> _unknown_program("piano")[:60]
    "unknown GM program name 'piano'; did you mean 'Acoustic Gran"
    """
    import difflib

    wanted = text.lower()
    like = [n for n in GM_PROGRAMS if any(word in n.lower().split() for word in wanted.split())]
    like += [n for n in difflib.get_close_matches(text, GM_PROGRAMS, n=4, cutoff=0.6)
             if n not in like]
    hint = f"; did you mean {', '.join(repr(n) for n in like[:6])}?" if like else ""
    return (f"unknown GM program name {text!r}{hint} Use a number 0-127 or one of the 128 "
            f"General MIDI names: `workbench programs` lists them (a Rhodes is "
            f"'Electric Piano 1', a Hammond 'Drawbar Organ').")


def program_name(program: int, is_drum: bool = False) -> str:
    """A readable name for a program (drum kits are named as kits)."""
    if is_drum:
        return "Drum Kit" if program == 0 else f"Drum Kit {program}"
    return GM_PROGRAMS[program]
