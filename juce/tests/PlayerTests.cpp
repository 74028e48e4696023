/*  GenerationPlayer and Generation with a fake play head: timing, bar-line switches, note-offs,
    and no allocation on the audio thread. */

#include "TestHelpers.h"

using namespace aiband_test;
using aiband::GenerationPlayer;

namespace
{
    std::unique_ptr<aiband::Generation> groove()
    {
        return generation ("groove", {
            track ("bass", { { 36, 0.0, 0.5, 100 }, { 38, 0.5, 0.25, 90 }, { 41, 1.25, 0.6, 80 },
                             { 43, 2.0, 0.3, 70 }, { 45, 3.75, 0.2, 60 } }, 4.0),
            track ("drums", { { 42, 0.125, 0.1, 100 }, { 36, 1.0, 0.1, 110 }, { 38, 3.0, 0.1, 105 } }, 4.0),
        });
    }

    /** Long notes across bar lines and across the end of the generation. */
    std::unique_ptr<aiband::Generation> sustained (const juce::String& id = "sustained")
    {
        return generation (id, {
            track ("bass", { { 40, 0.0, 4.0, 100 }, { 45, 3.5, 1.0, 90 }, { 50, 5.0, 2.0, 80 }, { 52, 7.0, 1.0, 70 } }, 8.0),
            track ("pad", { { 60, 0.0, 8.0, 64 } }, 8.0),
        });
    }

    std::unique_ptr<aiband::Generation> answer (const juce::String& id = "answer")
    {
        return generation (id, { track ("keys", { { 72, 0.0, 1.0, 100 }, { 76, 1.0, 1.0, 100 } }, 4.0) });
    }

    std::vector<Sent> onsOf (const std::vector<Sent>& events)
    {
        std::vector<Sent> out;
        for (auto& e : events)
            if (e.isOn())
                out.push_back (e);
        return out;
    }
}

class GenerationTests : public juce::UnitTest
{
public:
    GenerationTests() : juce::UnitTest ("Generation", "aiband") {}

    void runTest() override
    {
        beginTest ("one MIDI channel per track, drums on 10, the band file skipped");
        {
            auto g = generation ("g", { track ("bass", { { 40, 0, 1, 100 } }, 4), track ("drums", { { 36, 0, 1, 100 } }, 4),
                                        track ("keys", { { 60, 0, 1, 100 } }, 4), track ("pad", { { 64, 0, 1, 100 } }, 4),
                                        track ("guitar", { { 67, 0, 1, 100 } }, 4), track ("strings", { { 70, 0, 1, 100 } }, 4),
                                        track ("band", { { 40, 0, 1, 100 } }, 4) });
            expectEquals ((int) g->tracks.size(), 6);
            std::map<juce::String, int> channels;
            for (auto& t : g->tracks)
                channels[t.trackType] = t.channel;
            expectEquals (channels["bass"], 1);
            expectEquals (channels["keys"], 2);
            expectEquals (channels["pad"], 3);
            expectEquals (channels["guitar"], 4);
            expectEquals (channels["drums"], 10);
            expectEquals (channels["strings"], 5);
            for (auto& e : g->events)
                if (e.data[1] == 36)
                    expectEquals ((int) (e.data[0] & 0x0F), 9);
        }

        beginTest ("events sorted, note-offs first at one beat, overlaps of a pitch cut, notes kept inside the length");
        {
            auto g = generation ("g", { track ("bass", { { 40, 0.0, 2.0, 100 }, { 40, 1.0, 1.0, 90 }, { 41, 3.5, 2.0, 80 },
                                                         { 42, 4.5, 1.0, 80 } }, 4.0) });
            expectEquals ((int) g->events.size(), 6);  // the note at 4.5 is past the end
            for (size_t i = 1; i < g->events.size(); ++i)
                expect (g->events[i - 1].beat <= g->events[i].beat);
            expectEquals (g->events[1].beat, 1.0);  // the first 40 ends where the second starts
            expect (g->events[1].isNoteOff());
            expect (g->events[2].isNoteOn());
            expectEquals (g->events.back().beat, 4.0);  // 41 clamped to the end
        }

        beginTest ("ParsedTrack reads what juce::MidiFile writes: tempo, meter, program, notes in beats");
        {
            juce::MidiMessageSequence conductor, part;
            conductor.addEvent (juce::MidiMessage::tempoMetaEvent (600000), 0);  // 100 bpm
            conductor.addEvent (juce::MidiMessage::timeSignatureMetaEvent (3, 4), 0);
            part.addEvent (juce::MidiMessage::programChange (1, 33), 0);
            part.addEvent (juce::MidiMessage::noteOn (1, 40, (juce::uint8) 100), 0);
            part.addEvent (juce::MidiMessage::noteOff (1, 40), 480);
            part.addEvent (juce::MidiMessage::noteOn (1, 43, (juce::uint8) 77), 720);
            part.addEvent (juce::MidiMessage::noteOn (1, 43, (juce::uint8) 0), 960);  // note-on velocity 0 = off
            part.addEvent (juce::MidiMessage::endOfTrack(), 2880);
            juce::MidiFile file;
            file.setTicksPerQuarterNote (480);
            file.addTrack (conductor);
            file.addTrack (part);
            juce::MemoryOutputStream out;
            expect (file.writeTo (out, 1));

            aiband::ParsedTrack t;
            expect (aiband::ParsedTrack::parse (out.getData(), out.getDataSize(), t).wasOk());
            expectWithinAbsoluteError (t.tempo, 100.0, 1e-9);
            expectEquals (t.numerator, 3);
            expectEquals (t.program, 33);
            expectEquals (t.lengthBeats, 6.0);
            expectEquals ((int) t.notes.size(), 2);
            expectEquals (t.notes[1].pitch, 43);
            expectEquals (t.notes[1].start, 1.5);
            expectEquals (t.notes[1].length, 0.5);
            expectEquals (t.notes[1].velocity, 77);

            const char junk[] = "this is no MIDI file";
            expect (aiband::ParsedTrack::parse (junk, sizeof (junk), t).failed());
        }
    }
};

class GenerationPlayerTests : public juce::UnitTest
{
public:
    GenerationPlayerTests() : juce::UnitTest ("GenerationPlayer", "aiband") {}

    void runTest() override
    {
        beginTest ("events land on their sample, whatever the block size, tempo and sample rate");
        for (double tempo : { 120.0, 97.3, 181.0 })
            for (double rate : { 44100.0, 48000.0 })
            {
                std::vector<Sent> reference;
                for (int blockSize : { 512, 333, 64, 1 })
                {
                    Rig rig (groove(), rate, blockSize);
                    auto& player = rig.player;
                    auto& host = rig.host;
                    host.bpm = tempo;
                    host.playUntil (player, 8.0, blockSize);

                    // Expected: every note of the passes played, on the first sample at or after its time.
                    std::vector<std::pair<juce::int64, int>> expected, actual;
                    const auto spb = rate * 60.0 / tempo;
                    const auto* g = player.getCurrentGeneration();
                    expect (g != nullptr);
                    for (int pass = 0; pass < 3; ++pass)
                        for (auto& e : g->events)
                        {
                            const auto at = (juce::int64) std::ceil ((pass * 4.0 + e.beat) * spb - 1e-4);
                            if (e.isNoteOn() && at < host.clock)
                                expected.push_back ({ at, e.data[1] });
                        }
                    for (auto& e : onsOf (host.sent))
                        actual.push_back ({ e.sample, e.data1 });
                    std::sort (expected.begin(), expected.end());
                    std::sort (actual.begin(), actual.end());
                    if (expected != actual)
                        for (size_t i = 0; i < juce::jmin (expected.size(), actual.size()); ++i)
                            if (expected[i] != actual[i])
                            {
                                std::cout << "expected " << expected[i].first << "/" << expected[i].second << " got "
                                          << actual[i].first << "/" << actual[i].second << " of " << expected.size() << "/" << actual.size() << "\n";
                                break;
                            }
                    expect (expected == actual, "note-ons off their samples at " + juce::String (tempo) + " bpm, "
                                                + juce::String (rate) + " Hz, blocks of " + juce::String (blockSize));
                    // Every block size sends the same stream (compared up to 8 beats: runs end apart).
                    const auto horizon = (juce::int64) (8.0 * spb);
                    std::vector<Sent> upTo;
                    for (auto& e : host.sent)
                        if (e.sample < horizon)
                            upTo.push_back (e);
                    if (reference.empty())
                        reference = upTo;
                    else
                    {
                        const auto& sent = upTo;
                        bool same = reference.size() == sent.size();
                        for (size_t i = 0; same && i < reference.size(); ++i)
                            same = reference[i].sample == sent[i].sample && reference[i].status == sent[i].status
                                && reference[i].data1 == sent[i].data1 && reference[i].data2 == sent[i].data2;
                        expect (same, "blocks of " + juce::String (blockSize) + " send another stream than blocks of 512");
                    }
                    Synth synth;
                    synth.play (host.sent);
                    expect (synth.problems.isEmpty(), synth.problems.joinIntoString ("; "));
                }
            }

        beginTest ("a tempo change moves the events after it, on the new grid");
        {
            Rig rig (groove(), 48000.0, 256);
            auto& player = rig.player;
            auto& host = rig.host;
            host.playUntil (player, 4.0, 256);          // 120 bpm: 24000 samples a beat
            const auto clockAtChange = host.clock;
            const auto ppqAtChange = host.ppq;
            host.bpm = 90.0;                             // 32000 samples a beat
            host.playUntil (player, 8.0, 256);
            for (auto& e : onsOf (host.sent))
                if (e.sample > clockAtChange)
                {
                    const auto beat = ppqAtChange + (double) (e.sample - clockAtChange) / 32000.0;
                    const auto within = std::fmod (beat, 4.0);
                    bool onGrid = false;
                    for (auto& ev : player.getCurrentGeneration()->events)
                        onGrid = onGrid || (ev.isNoteOn() && (within - ev.beat) * 32000.0 > -1.0 && (within - ev.beat) * 32000.0 <= 1e-3);
                    expect (onGrid, "note at sample " + juce::String (e.sample) + " is off the 90 bpm grid");
                }
        }

        for (int numerator : { 4, 3 })
        {
            beginTest ("a new generation starts exactly at the next bar line (" + juce::String (numerator) + "/4)");
            Rig rig (sustained());
            auto& player = rig.player;
            auto& host = rig.host;
            host.numerator = numerator;
            host.playUntil (player, 5.3, 512);
            player.setNextGeneration (answer());
            host.playUntil (player, 14.0, 512);

            const auto bar = numerator == 4 ? 8.0 : 6.0;
            const auto switchSample = std::llround (bar * 24000.0);
            expectEquals (player.getNumSwitches(), 2);
            for (auto& e : host.sent)
                if (e.channel() != 2 && e.isOn())
                    expect (e.sample < switchSample, "the old generation played after the switch");
            expectEquals (firstNoteOn (host.sent, 2), (juce::int64) switchSample);

            Synth before;  // everything up to the switch sample, its note-offs included
            std::vector<Sent> upTo;
            for (auto& e : host.sent)
                if (e.sample < switchSample || (e.sample == switchSample && e.isOff()))
                    upTo.push_back (e);
            before.play (upTo);
            expectEquals (before.numSounding(), 0);
            expect (before.problems.isEmpty(), before.problems.joinIntoString ("; "));
        }

        beginTest ("a switch on a block that starts on the bar line happens at its first sample; no last-bar info needed");
        {
            Rig rig (sustained(), 48000.0, 500);
            auto& player = rig.player;
            auto& host = rig.host;
            host.provideLastBar = false;
            host.playUntil (player, 6.0, 500);
            player.setNextGeneration (answer());
            host.playUntil (player, 9.0, 500);
            expectEquals (firstNoteOn (host.sent, 2), (juce::int64) 192000);  // beat 8, block 384 starts there
        }

        beginTest ("only the newest of several waiting generations plays");
        {
            Rig rig (sustained ("first"));
            auto& player = rig.player;
            auto& host = rig.host;
            host.playUntil (player, 1.0, 512);
            player.setNextGeneration (answer ("second"));
            host.block (player, 512);
            player.setNextGeneration (sustained ("third"));
            host.playUntil (player, 5.0, 512);
            expect (player.getCurrentGeneration() != nullptr && player.getCurrentGeneration()->id == "third");
            expectEquals (player.getNumSwitches(), 2);
        }

        beginTest ("no hanging notes after a stop, and a clean restart");
        {
            Rig rig (sustained());
            auto& player = rig.player;
            auto& host = rig.host;
            host.playUntil (player, 2.7, 512);
            expect (player.getNumActiveNotes() > 0);
            host.stop (player);
            expectEquals (player.getNumActiveNotes(), 0);
            Synth synth;
            synth.play (host.sent);
            expectEquals (synth.numSounding(), 0);
            host.playUntil (player, 9.0, 512);
            host.stop (player);
            synth = {};
            synth.play (host.sent);
            expect (synth.problems.isEmpty(), synth.problems.joinIntoString ("; "));
            expectEquals (synth.numSounding(), 0);
        }

        beginTest ("no hanging notes at a loop wrap inside a block");
        {
            Rig rig (sustained());
            auto& player = rig.player;
            auto& host = rig.host;
            host.looping = true;
            host.loopStart = 0.0;
            host.loopEnd = 6.0;   // note 50 (beats 5-7) and the pad are sounding at the wrap
            host.playUntil (player, 5.9, 512);
            for (int i = 0; i < 600; ++i)  // several wraps, 144000 samples a pass
                host.block (player, 512);
            host.stop (player);
            Synth synth;
            synth.play (host.sent);
            expect (synth.problems.isEmpty(), synth.problems.joinIntoString ("; "));
            expectEquals (synth.numSounding(), 0);
            bool offAtWrap = false, restruck = false;
            for (auto& e : host.sent)
            {
                offAtWrap = offAtWrap || (e.isOff() && e.data1 == 50 && e.sample == 144000);
                restruck = restruck || (e.isOn() && e.data1 == 40 && e.sample == 144000);
            }
            expect (offAtWrap, "no note-off for the note sounding at the loop end");
            expect (restruck, "the loop start's note did not sound right after the wrap");
        }

        beginTest ("no hanging notes after a jump backwards; playing resumes on the grid");
        {
            Rig rig (sustained());
            auto& player = rig.player;
            auto& host = rig.host;
            host.playUntil (player, 5.5, 512);
            const auto jumpClock = host.clock;
            host.ppq = 3.0;  // the user clicks back to beat 3
            host.playUntil (player, 6.0, 512);
            host.stop (player);
            Synth synth;
            synth.play (host.sent);
            expect (synth.problems.isEmpty(), synth.problems.joinIntoString ("; "));
            expectEquals (synth.numSounding(), 0);
            bool offAtJump = false;
            for (auto& e : host.sent)
                offAtJump = offAtJump || (e.isOff() && e.data1 == 50 && e.sample == jumpClock);
            expect (offAtJump, "no note-off at the jump for the note that was sounding");
            expectEquals (firstNoteOn (host.sent, 1, jumpClock, 45), jumpClock + 12000);  // beat 3.5, half a beat after the jump
        }

        beginTest ("nothing allocates on the audio thread: play, switch, loop wrap, jump, stop, restart");
        {
            {
                AllocationCounter probe;  // the counter counts (so this test can fail)
                auto* p = new int (3);
                expectEquals (probe.count(), 1L);
                delete p;
            }
            Rig rig (sustained());
            auto& player = rig.player;
            auto& host = rig.host;
            host.sent.reserve (100000);
            host.playUntil (player, 1.0, 512);
            auto next = answer();
            long counted = 0;
            {
                AllocationCounter counter;
                host.playUntil (player, 3.0, 512);
                counted += counter.count();
            }
            player.setNextGeneration (std::move (next));  // a non-audio thread's call
            {
                AllocationCounter counter;
                host.playUntil (player, 6.0, 512);        // the switch at beat 4
                host.looping = true;
                host.loopStart = 4.0;
                host.loopEnd = 7.0;
                host.playUntil (player, 6.9, 512);
                for (int i = 0; i < 200; ++i)
                    host.block (player, 512);              // wraps
                host.looping = false;
                host.ppq = 1.0;                            // jump back
                host.playUntil (player, 3.0, 512);
                host.stop (player);
                host.playUntil (player, 5.0, 512);
                host.stop (player);
                counted += counter.count();
            }
            expectEquals (counted, 0L);
            expectEquals (player.getNumSwitches(), 2);
            player.collectGarbage();  // frees the retired generation here, not on the audio thread
        }

        beginTest ("an audio thread playing while another thread hands over generations as fast as it can");
        {
            // The lock-free hand-over under contention: every generation is freed exactly once
            // (or the allocator would crash), the audio thread never waits, the last one plays.
            GenerationPlayer player;
            player.prepareToPlay (48000.0, 64);
            std::atomic<bool> done { false };
            std::atomic<int> blocks { 0 };
            std::thread audio ([&]
            {
                FakeHost host;
                host.looping = true;
                host.loopStart = 0.0;
                host.loopEnd = 2.0;  // wraps every 1500 blocks: bar lines come often
                while (! done.load())
                {
                    host.block (player, 64);
                    ++blocks;
                    if (host.sent.size() > 10000)
                        host.sent.clear();
                }
                host.stop (player, 64);
            });
            for (int i = 0; i < 2000; ++i)
                player.setNextGeneration (i % 2 == 0 ? answer ("g" + juce::String (i)) : sustained ("g" + juce::String (i)));
            const auto deadline = juce::Time::getMillisecondCounter() + 5000;
            while (player.hasPendingGeneration() && juce::Time::getMillisecondCounter() < deadline)
            {
                player.collectGarbage();
                juce::Thread::sleep (1);
            }
            done = true;
            audio.join();
            player.collectGarbage();
            expect (blocks.load() > 0);
            expect (! player.hasPendingGeneration());
            expect (player.getCurrentGeneration() != nullptr && player.getCurrentGeneration()->id == "g1999");
            expectEquals (player.getNumActiveNotes(), 0);
        }

        beginTest ("a generation that arrives while stopped replaces the current one at once");
        {
            GenerationPlayer player;
            player.prepareToPlay (48000.0, 512);
            FakeHost host;
            host.stop (player);
            expect (player.getCurrentGeneration() == nullptr);
            player.setNextGeneration (answer ("now"));
            host.stop (player);
            expect (player.getCurrentGeneration() != nullptr && player.getCurrentGeneration()->id == "now");
            host.block (player, 512);
            expect (! host.sent.empty() && host.sent.back().isOn() && host.sent.back().sample == host.clock - 512);
        }
    }
};

static GenerationTests generationTests;
static GenerationPlayerTests generationPlayerTests;
