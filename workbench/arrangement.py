"""The band's output as plain containers: :class:`Note`, :class:`Track`, :class:`Arrangement`.

Shaped like pretty_midi's objects (a track is a program, a channel and a list of notes) but in
beats, the unit of the whole workbench. MIDI encoding and file writing live in
:mod:`workbench.midi`; this module only says what goes into which file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from workbench import midi
from workbench.files import file_name, name_suffix
from workbench.instruments import TRACKS, program_name
from workbench.keys import Key
from workbench.progression import ChordEvent, Progression, parse_meter


@dataclass(slots=True)
class Note:
    """One note: MIDI pitch, start and end in quarter-note beats, velocity 1-127."""

    pitch: int
    start: float
    end: float
    velocity: int

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass
class Track:
    """One part of the band: its GM program, MIDI channel and notes (sorted by start)."""

    name: str
    program: int
    channel: int
    is_drum: bool = False
    notes: list[Note] = field(default_factory=list)

    @property
    def instrument_name(self) -> str:
        return program_name(self.program, self.is_drum)

    def __repr__(self) -> str:
        return (f"Track({self.name!r}, program={self.program} ({self.instrument_name}), "
                f"channel={self.channel + 1}, notes={len(self.notes)})")


@dataclass
class Arrangement:
    """A generated band: tracks, the chord timeline they follow, tempo, meter and key.

    ``chords`` are on the arrangement's own timeline (shifted by a count-in, repeated when the
    progression was), so ``chords[i].start`` lines up with the notes.
    """

    tracks: dict[str, Track]
    chords: list[ChordEvent]
    tempo: float
    meter: str
    key: Key
    style: str
    seed: int
    bars: int
    length_beats: float
    progression: Progression | None = None  # the Progression played
    swing: float = 0.0
    count_in: bool = False
    offset: float = 0.0  # beat where bar 1 of the progression starts (after count-in and intro)
    intro_bars: int = 0  # bars of intro the arranger put before bar 1
    plan: list = field(default_factory=list, repr=False)  # the arranger's BarPlan per bar

    # -- summaries -------------------------------------------------------------------------------
    @property
    def beats_per_bar(self) -> float:
        return parse_meter(self.meter).beats_per_bar

    @property
    def duration_seconds(self) -> float:
        return self.length_beats * 60.0 / self.tempo

    def seconds(self, beats: float) -> float:
        """Beats to seconds at this arrangement's tempo."""
        return beats * 60.0 / self.tempo

    def to_dict(self) -> dict:
        """A JSON-ready summary (no notes): what the UI and the service show about a take."""
        return {
            "style": self.style,
            "seed": self.seed,
            "tempo": self.tempo,
            "meter": self.meter,
            "key": self.key.short,
            "key_name": self.key.name,
            "bars": self.bars,
            "length_beats": self.length_beats,
            "duration_seconds": round(self.duration_seconds, 3),
            "beats_per_bar": self.beats_per_bar,
            "swing": self.swing,
            "count_in": self.count_in,
            "offset": self.offset,
            "intro_bars": self.intro_bars,
            "chords": [
                {"symbol": ev.chord.symbol, "start": ev.start, "duration": ev.duration,
                 "bar": ev.bar}
                for ev in self.chords
            ],
            "tracks": {
                name: {"program": t.program, "instrument": t.instrument_name,
                       "channel": t.channel, "is_drum": t.is_drum, "notes": len(t.notes)}
                for name, t in self.tracks.items()
            },
        }

    def notes_array(self, track: str):
        """The track's notes as a numpy array with columns pitch, start, end, velocity."""
        import numpy as np

        notes = self.tracks[track].notes
        return np.array([(n.pitch, n.start, n.end, n.velocity) for n in notes],
                        dtype=float).reshape(len(notes), 4)

    # -- MIDI ------------------------------------------------------------------------------------
    def _conductor(self) -> bytes:
        sf, mi = midi.key_signature(self.key.tonic, self.key.mode, getattr(self.key, "name", ""))
        title = f"AI Band Workbench: {self.style} {self.key.short} {self.tempo:g} bpm"
        return midi.conductor_chunk(title, self.tempo, self.meter, sf, mi, self.length_beats)

    def _track_chunk(self, name: str) -> bytes:
        t = self.tracks[name]
        return midi.track_chunk(name, t.channel, t.program, t.notes, self.length_beats)

    def to_midi_bytes(self, track: str | None = None) -> bytes:
        """A Standard MIDI File: one track (by name) or, with None, the whole band."""
        if track is not None and track not in self.tracks:
            raise ValueError(f"no track {track!r} in this arrangement (has {', '.join(self.tracks)})")
        names = [track] if track is not None else list(self.tracks)
        return midi.smf([self._conductor()] + [self._track_chunk(n) for n in names])

    def file_suffix(self, part: str) -> str:
        """``{part}_{key}_{tempo}``: the file name after the timestamp (:mod:`workbench.files`)."""
        return name_suffix(part, self.key.short, self.tempo)

    def track_paths(self, folder, timestamp: str) -> list[Path]:
        """Where :meth:`write` puts each file for a given timestamp (band last)."""
        folder = Path(folder)
        parts = list(self.tracks) + ["band"]
        return [folder / p / file_name(timestamp, p, self.key.short, self.tempo) for p in parts]

    def write(self, folder, timestamp: str | None = None) -> list[Path]:
        """Write one file per track into ``folder/{track}/`` and the band into ``folder/band/``.

        Names are ``{timestamp}_{track}_{key}_{tempo}.mid``; the band file is last in the list.
        Atomic (written in ``folder/temp/``, fsync'ed, renamed) and never overwriting: if a name
        is taken the timestamp moves on a second. ``timestamp`` defaults to now (YYYYMMDDHHMMSS).
        """
        conductor = self._conductor()
        chunks = {}

        def track_file(name):
            def encode():
                chunks[name] = self._track_chunk(name)
                return midi.smf((conductor, chunks[name]))
            return encode

        entries = [(name, self.file_suffix(name), track_file(name)) for name in self.tracks]
        entries.append(("band", self.file_suffix("band"),
                        lambda: midi.smf([conductor, *(chunks[n] for n in self.tracks)])))
        return midi.write_files(folder, entries, timestamp)

    # -- audio -----------------------------------------------------------------------------------
    def render(self, path, *, stems: bool = False, format: str | None = None,
               timestamp: str | None = None, soundfont=None, engine: str = "auto",
               sample_rate: int = 44100, loudness: float = -14.0,
               overwrite: bool = False) -> list[Path]:
        """Render the band to audio files, loudness-normalised; returns the paths (band last).

        ``path`` ending in ``.wav`` or ``.flac``: the mix goes there (format from the extension)
        and, with ``stems``, one file per track beside it (``song.wav`` -> ``song_bass.wav``...).
        Any other ``path`` is a folder laid out like :meth:`write`:
        ``folder/{track}/{timestamp}_{track}_{key}_{tempo}.wav`` and ``folder/band/...``, the
        MIDI files' names; ``format`` is ``"wav"`` (default), ``"flac"`` or ``"wav,flac"``.

        The mix is ``loudness`` LUFS integrated (less if its peak would pass -1 dBFS); stems
        share its gain, so they add up to the mix. Same song, same bytes (with FluidSynth and
        with the built-in synthesiser). Files appear atomically and are never overwritten
        unless ``overwrite``.

        >>> band.render("song.flac", stems=True)              # doctest: +SKIP
        [PosixPath('song_bass.flac'), ..., PosixPath('song.flac')]
        """
        from workbench import audio

        path = Path(path)
        file_mode = path.suffix.lower() in (".wav", ".flac")
        if not file_mode and path.suffix.lower() in audio.OTHER_AUDIO_EXTENSIONS:
            audio.format_of(path)               # an error naming the formats written
        formats = [f.strip().lower() for f in (format or "wav").split(",") if f.strip()]
        for f in formats:
            audio.check_format(f)
        if file_mode and format is not None and formats != [audio.format_of(path)]:
            raise audio.WorkbenchError(f"format {format!r} does not match the file name "
                                       f"{str(path)!r}", field="format", value=format)
        names = [*self.tracks, "band"] if stems else ["band"]
        targets = {name: path if name == "band" else path.with_name(
            f"{path.stem}_{name}{path.suffix}") for name in names}
        if file_mode and not overwrite:
            for target in targets.values():     # before rendering: no half-written set
                if target.exists():
                    raise FileExistsError(f"{str(target)!r} exists; choose another name or "
                                          "pass overwrite=True")
        mix = audio.mixdown(self, soundfont=soundfont, engine=engine, sample_rate=sample_rate,
                            loudness=loudness)
        parts = {name: mix.parts()[name] for name in names}
        if file_mode:
            return [audio.write_audio(targets[name], samples, mix.sample_rate, overwrite)
                    for name, samples in parts.items()]
        named = {name: (self.file_suffix(name), samples) for name, samples in parts.items()}
        return audio.write_parts(path, named, mix.sample_rate, formats, timestamp)

    # -- display ---------------------------------------------------------------------------------
    def __repr__(self) -> str:
        parts = ", ".join(f"{n}:{len(t.notes)}" for n, t in self.tracks.items())
        key = getattr(self.key, "short", self.key)
        return (f"<Arrangement {self.style} {key} {self.tempo:g} bpm {self.meter}, "
                f"{self.bars} bars, seed {self.seed}, notes {{{parts}}}>")

    def _repr_mimebundle_(self, include=None, exclude=None):
        try:
            from workbench.ui.pianoroll import arrangement_mimebundle

            return arrangement_mimebundle(self, include=include, exclude=exclude)
        except Exception:  # no UI installed (or it failed): a display must never raise
            return {"text/plain": repr(self)}


__all__ = ["Note", "Track", "Arrangement", "TRACKS"]
