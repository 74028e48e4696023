/*
  What the sync client prepares off the audio thread: parsed MIDI files (ParsedTrack) and a whole
  generation ready to play (Generation): every track's events merged into one array sorted by
  beat, each on its track's MIDI channel. A Generation is immutable once handed to the player.
*/

#pragma once

namespace aiband
{

/** MIDI channel (1-16) for a track type: bass 1, keys 2, pad 3, guitar 4, drums 10 (General
    MIDI's percussion channel); other types get 0 here and the next free channel in a Generation. */
int defaultChannelForTrack (const juce::String& trackType) noexcept;

/** One MIDI file of a generation, parsed with juce::MidiFile. Beats are quarter notes. */
struct ParsedTrack
{
    struct Note
    {
        int pitch = 0;
        double start = 0;       // beats from the file's start
        double length = 0;      // beats
        int velocity = 0;
        int channel = 1;        // as written in the file (1-16)
    };

    juce::String filename, trackType, generation;
    juce::String origin;        // where the bytes came from: "disk" (the service's folder) or "http"
    double tempo = 120.0;       // bpm, from the first tempo event
    int numerator = 4, denominator = 4;
    double lengthBeats = 0;     // the file's end (end-of-track events included)
    int program = -1;           // the track's first program change, -1 when none
    int ticksPerQuarter = 0;
    std::vector<Note> notes;    // sorted by start, then pitch

    /** Parses Standard MIDI File bytes (format 0 or 1, ticks per quarter note). */
    static juce::Result parse (const void* data, size_t numBytes, ParsedTrack& result);
};

/** One event for the audio thread: raw MIDI bytes at a beat of the generation. */
struct PlayerEvent
{
    double beat = 0;
    juce::uint8 data[3] {};
    juce::uint8 size = 3;
    juce::uint8 track = 0;      // index into Generation::tracks

    bool isNoteOn() const noexcept   { return (data[0] & 0xF0) == 0x90 && data[2] > 0; }
    bool isNoteOff() const noexcept  { return (data[0] & 0xF0) == 0x80 || ((data[0] & 0xF0) == 0x90 && data[2] == 0); }
};

/** A generation ready for GenerationPlayer. Build it on a background thread with fromTracks(). */
class Generation
{
public:
    struct TrackInfo
    {
        juce::String trackType, filename;
        int channel = 1;        // 1-16
        int program = -1;
        int numNotes = 0;
    };

    juce::String id;            // the service's generation id, e.g. 20250824103000_Cmaj_120
    double lengthBeats = 0;     // one pass; the player loops it
    double tempo = 120.0;
    int numerator = 4, denominator = 4;
    std::vector<TrackInfo> tracks;
    std::vector<PlayerEvent> events;        // sorted by beat; at one beat offs, then others, then ons
    std::vector<PlayerEvent> startEvents;   // program changes, sent when the generation starts
    double preparedAtMs = 0;    // juce::Time::getMillisecondCounterHiRes() when built

    /** Merges parsed tracks (the whole-band file is skipped: its parts come as their own files).
        Overlapping notes of one pitch are cut where the next one starts, notes are kept inside
        [0, length], and each track gets its own channel. `lengthBeats` <= 0: the longest file. */
    static std::unique_ptr<Generation> fromTracks (const juce::String& id,
                                                   const std::vector<const ParsedTrack*>& parts,
                                                   double lengthBeats = 0);

    double beatsPerBar() const noexcept  { return numerator * 4.0 / juce::jmax (1, denominator); }
};

} // namespace aiband
