/*  Shared by the C++ tests: allocation counting, a fake host play head, a synth that checks the
    MIDI stream (no note-off without its note-on, no note left sounding), generation builders. */

#pragma once

#include <aiband_sync/aiband_sync.h>
#include <iostream>
#include <map>
#include <thread>

namespace aiband_test
{
    extern thread_local bool countingThisThread;
    extern std::atomic<long> allocations;

    /** Counts the allocations this thread makes while it is alive. */
    struct AllocationCounter
    {
        AllocationCounter()   { start = allocations.load(); countingThisThread = true; }
        ~AllocationCounter()  { countingThisThread = false; }
        long count() const    { return allocations.load() - start; }
        long start;
    };

    /** One MIDI event as the synth would get it: when (host samples since the start) and what. */
    struct Sent
    {
        juce::int64 sample;
        int status, data1, data2;
        double beat;     // the host's beat at that sample
        bool isOn() const  { return (status & 0xF0) == 0x90 && data2 > 0; }
        bool isOff() const { return (status & 0xF0) == 0x80 || ((status & 0xF0) == 0x90 && data2 == 0); }
        int channel() const { return (status & 0x0F) + 1; }
    };

    /** A DAW in miniature: a play head that moves block by block, jumps, loops and stops. */
    struct FakeHost
    {
        double sampleRate = 48000.0, bpm = 120.0;
        int numerator = 4, denominator = 4;
        double ppq = 0.0;
        juce::int64 clock = 0;          // samples played so far (never jumps back)
        bool looping = false;
        double loopStart = 0, loopEnd = 0;
        bool provideLastBar = true;
        juce::MidiBuffer midi;
        std::vector<Sent> sent;

        FakeHost()  { midi.ensureSize (1 << 16); }

        double samplesPerBeat() const  { return sampleRate * 60.0 / bpm; }
        double barLength() const       { return numerator * 4.0 / denominator; }

        juce::AudioPlayHead::PositionInfo position (bool playing) const
        {
            juce::AudioPlayHead::PositionInfo pos;
            pos.setIsPlaying (playing);
            pos.setBpm (bpm);
            pos.setPpqPosition (ppq);
            pos.setTimeInSamples (clock);
            pos.setTimeSignature (juce::AudioPlayHead::TimeSignature { numerator, denominator });
            if (provideLastBar)
                pos.setPpqPositionOfLastBarStart (std::floor (ppq / barLength() + 1e-9) * barLength());
            pos.setIsLooping (looping);
            if (looping)
                pos.setLoopPoints (juce::AudioPlayHead::LoopPoints { loopStart, loopEnd });
            return pos;
        }

        /** One processBlock of n samples. */
        void block (aiband::GenerationPlayer& player, int n, bool playing = true)
        {
            midi.clear();
            player.process (position (playing), n, midi);
            for (const auto meta : midi)
            {
                const auto* d = meta.data;
                sent.push_back ({ clock + meta.samplePosition, d[0], meta.numBytes > 1 ? d[1] : 0,
                                  meta.numBytes > 2 ? d[2] : 0, ppq + meta.samplePosition / samplesPerBeat() });
            }
            if (playing)  // the clock counts samples played, so it lines up with beats
            {
                clock += n;
                ppq += n / samplesPerBeat();
                if (looping && ppq >= loopEnd)
                    ppq = loopStart + (ppq - loopEnd);
            }
        }

        /** Blocks of `blockSize` until the play head reaches `beat`. */
        void playUntil (aiband::GenerationPlayer& player, double beat, int blockSize)
        {
            while (ppq < beat - 1e-9)
                block (player, blockSize);
        }

        void stop (aiband::GenerationPlayer& player, int blockSize = 512)  { block (player, blockSize, false); }
    };

    /** A player that took `first` while the host was stopped, and a host at beat 0. */
    struct Rig
    {
        aiband::GenerationPlayer player;
        FakeHost host;

        explicit Rig (std::unique_ptr<aiband::Generation> first, double sampleRate = 48000.0, int blockSize = 512)
        {
            host.sampleRate = sampleRate;
            player.prepareToPlay (sampleRate, blockSize);
            player.setNextGeneration (std::move (first));
            host.stop (player, blockSize);
            host.sent.clear();
        }
    };

    /** The sample of the first note-on on `channel` (1-16) at or after `from`, -1 if none. */
    inline juce::int64 firstNoteOn (const std::vector<Sent>& sent, int channel, juce::int64 from = 0, int pitch = -1)
    {
        for (auto& e : sent)
            if (e.isOn() && e.channel() == channel && e.sample >= from && (pitch < 0 || e.data1 == pitch))
                return e.sample;
        return -1;
    }

    /** Plays the MIDI stream and remembers the problems a real synth would have. */
    struct Synth
    {
        int sounding[16][128] {};
        juce::StringArray problems;

        void play (const std::vector<Sent>& events, size_t from = 0)
        {
            for (size_t i = from; i < events.size(); ++i)
            {
                const auto& e = events[i];
                auto& n = sounding[e.channel() - 1][e.data1 & 127];
                if (e.isOn())
                {
                    if (n > 0)
                        problems.add ("note " + juce::String (e.data1) + " struck again while sounding at sample " + juce::String (e.sample));
                    ++n;
                }
                else if (e.isOff())
                {
                    if (n == 0)
                        problems.add ("note-off without note-on for " + juce::String (e.data1) + " at sample " + juce::String (e.sample));
                    else
                        --n;
                }
            }
        }

        int numSounding() const
        {
            int count = 0;
            for (auto& ch : sounding)
                for (auto n : ch)
                    count += n;
            return count;
        }
    };

    /** A track of notes {pitch, start, length, velocity} (beats). */
    inline aiband::ParsedTrack track (const juce::String& type, std::initializer_list<std::array<double, 4>> notes,
                                      double lengthBeats, double tempo = 120.0)
    {
        aiband::ParsedTrack t;
        t.trackType = type;
        t.filename = type + ".mid";
        t.tempo = tempo;
        t.lengthBeats = lengthBeats;
        for (auto& n : notes)
            t.notes.push_back ({ (int) n[0], n[1], n[2], (int) n[3], 1 });
        return t;
    }

    inline std::unique_ptr<aiband::Generation> generation (const juce::String& id, std::vector<aiband::ParsedTrack> tracks,
                                                           double lengthBeats = 0)
    {
        std::vector<const aiband::ParsedTrack*> parts;
        for (auto& t : tracks)
            parts.push_back (&t);
        return aiband::Generation::fromTracks (id, parts, lengthBeats);
    }
}
