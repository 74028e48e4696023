/*  The README's plugin code, compiled and run with a fake host play head (a juce::AudioPlayHead,
    as a DAW gives one), so the documentation cannot drift from the module. */

#include "TestHelpers.h"

namespace
{
    struct HostPlayHead : juce::AudioPlayHead
    {
        juce::AudioPlayHead::PositionInfo info;
        juce::Optional<PositionInfo> getPosition() const override  { return info; }
    };

    /** What README.md shows, minus juce::AudioProcessor (not in this console build). */
    struct MyProcessor
    {
        aiband::GenerationPlayer player;                          // declared before the client,
        aiband::SyncClient sync { [] { aiband::SyncClient::Options o;   // so the client stops first
                                       o.url = "ws://127.0.0.1:1"; o.pluginId = "my-daw";
                                       o.minBackoffMs = 50;
                                       return o; }(), &player };
        juce::AudioPlayHead* head = nullptr;
        juce::AudioPlayHead* getPlayHead() const { return head; }

        MyProcessor()  { sync.start(); }

        void prepareToPlay (double sampleRate, int blockSize) { player.prepareToPlay (sampleRate, blockSize); }

        void processBlock (juce::AudioBuffer<float>& audio, juce::MidiBuffer& midi)
        {
            audio.clear();                                        // it makes MIDI, not sound
            juce::AudioPlayHead::PositionInfo position;           // stopped, unless the host says otherwise
            if (auto* h = getPlayHead())
                if (auto pos = h->getPosition())
                    position = *pos;
            sync.setTransport (position);                         // atomics only
            player.process (position, audio.getNumSamples(), midi);
        }
    };
}

class ReadmeExampleTests : public juce::UnitTest
{
public:
    ReadmeExampleTests() : juce::UnitTest ("README example", "aiband") {}

    void runTest() override
    {
        beginTest ("the README's processBlock plays with a host play head, stays silent without one");
        MyProcessor processor;
        processor.prepareToPlay (48000.0, 512);
        processor.player.setNextGeneration (aiband_test::generation ("g", { aiband_test::track ("bass", { { 40, 0.0, 1.0, 100 } }, 4.0) }));

        juce::AudioBuffer<float> audio (2, 512);
        juce::MidiBuffer midi;
        processor.processBlock (audio, midi);   // no play head: stopped, takes the generation
        expect (midi.isEmpty());
        expect (processor.player.getCurrentGeneration() != nullptr);

        HostPlayHead host;
        host.info.setIsPlaying (true);
        host.info.setPpqPosition (0.0);
        host.info.setBpm (120.0);
        processor.head = &host;
        processor.processBlock (audio, midi);
        expectEquals (midi.getNumEvents(), 1);
        expect ((*midi.begin()).getMessage().isNoteOn());

        host.info.setIsPlaying (false);
        midi.clear();
        processor.processBlock (audio, midi);
        expectEquals (midi.getNumEvents(), 1);
        expect ((*midi.begin()).getMessage().isNoteOff());

        // No service on port 1: the client keeps trying and says why, without blocking anyone.
        for (int i = 0; i < 100 && processor.sync.getStatus().lastError.isEmpty(); ++i)
            juce::Thread::sleep (20);
        expect (processor.sync.getStatus().lastError.contains ("cannot connect"), processor.sync.getStatus().lastError);
        expect (processor.sync.getState() != aiband::SyncClient::State::connected);
    }
};

static ReadmeExampleTests readmeExampleTests;
