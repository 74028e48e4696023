/*
  aiband_probe: the aiband_sync module from a terminal.

    aiband_probe --url ws://127.0.0.1:PORT --plugin-id ID [--token T] [--mirror DIR]
                 [--expect N] [--timeout S] [--notes] [--http-only] [--no-zip] [--since SEQ --instance ID]
                 [--simulate-beats B [--sample-rate SR] [--block N] [--tempo BPM]
                  [--print-midi] [--realtime]]
                 [--generate C-Am-F-G [--generate-tracks bass,drums] [--generate-tempo BPM]]

  Prints one JSON line per message from the service ({"event": {...}}), per parsed file
  ({"file", "track_type", "notes", "tempo", "length_beats", ...; with --notes the notes as
  [pitch, start, length, velocity] in beats}), per generation handed to the player
  ({"ready": id, "ms": ...}) and per connection state ({"state": ...}). Files are read from the
  service's folder when it is on this machine, else downloaded (a generation in one ZIP;
  --no-zip: a request a file); --http-only always downloads.
  --since/--instance resume as a plugin would after a restart (replay, history gaps).
  --expect N: exit 0 once N files are parsed (then simulate, if asked); --timeout S: give up
  after S seconds (exit 1 when --expect was not met). --simulate-beats B plays the newest
  generation through GenerationPlayer with a simulated play head for B beats, sending the
  transport to the service as a DAW would, and prints the MIDI it would send the synth
  (--print-midi) and a summary with the time per block.
*/

#include <aiband_sync/aiband_sync.h>
#include <iostream>

namespace
{

juce::CriticalSection printLock;

double wallClock()
{
    using namespace std::chrono;
    return (double) duration_cast<microseconds> (system_clock::now().time_since_epoch()).count() / 1.0e6;
}

void printLine (juce::var object)
{
    if (auto* d = object.getDynamicObject())
        d->setProperty ("t", wallClock());
    const auto text = juce::JSON::toString (object, true, 6);
    const juce::ScopedLock sl (printLock);
    std::cout << text.toStdString() << '\n' << std::flush;
}

juce::var obj()   { return juce::var (new juce::DynamicObject()); }

juce::var with (juce::var o, const juce::Identifier& k, const juce::var& v)
{
    o.getDynamicObject()->setProperty (k, v);
    return o;
}

const char* stateName (aiband::SyncClient::State s)
{
    switch (s)
    {
        case aiband::SyncClient::State::stopped:      return "stopped";
        case aiband::SyncClient::State::connecting:   return "connecting";
        case aiband::SyncClient::State::connected:    return "connected";
        case aiband::SyncClient::State::disconnected: return "disconnected";
    }
    return "?";
}

struct Printer : aiband::SyncClient::Listener
{
    bool withNotes = false;
    std::atomic<int> files { 0 }, generations { 0 };
    juce::WaitableEvent progress;

    void messageReceived (const juce::var& message, const juce::String&) override
    {
        printLine (with (obj(), "event", message));
    }

    void fileParsed (const aiband::ParsedTrack& t, double millis) override
    {
        auto line = obj();
        with (line, "file", t.filename);
        with (line, "track_type", t.trackType);
        with (line, "generation", t.generation);
        with (line, "notes", (int) t.notes.size());
        with (line, "tempo", t.tempo);
        with (line, "length_beats", t.lengthBeats);
        with (line, "meter", juce::String (t.numerator) + "/" + juce::String (t.denominator));
        with (line, "program", t.program);
        with (line, "ms", millis);
        with (line, "origin", t.origin);
        if (withNotes)
        {
            juce::Array<juce::var> notes;
            for (auto& n : t.notes)
                notes.add (juce::Array<juce::var> { n.pitch, n.start, n.length, n.velocity });
            with (line, "note_list", notes);
        }
        printLine (line);
        ++files;
        progress.signal();
    }

    void generationReady (const aiband::Generation& g, double millis) override
    {
        auto line = obj();
        with (line, "ready", g.id);
        with (line, "ms", millis);
        with (line, "tracks", (int) g.tracks.size());
        with (line, "events", (int) g.events.size());
        with (line, "length_beats", g.lengthBeats);
        juce::Array<juce::var> channels;
        for (auto& t : g.tracks)
            channels.add (with (with (obj(), "track_type", t.trackType), "channel", t.channel));
        with (line, "channels", channels);
        printLine (line);
        ++generations;
        progress.signal();
    }

    void stateChanged (aiband::SyncClient::State s, const juce::String& detail) override
    {
        printLine (with (with (obj(), "state", stateName (s)), "detail", detail));
    }

    void errorReported (const juce::String& error) override
    {
        printLine (with (obj(), "error", error));
    }
};

/** The simulated DAW: a play head moving block by block; the probe's thread is the audio thread. */
int simulate (aiband::GenerationPlayer& player, aiband::SyncClient& client, double beats,
              double sampleRate, int blockSize, double tempo, bool printMidi, bool realtime)
{
    juce::MidiBuffer midi;
    midi.ensureSize (1 << 16);
    player.prepareToPlay (sampleRate, blockSize);

    juce::AudioPlayHead::PositionInfo pos;
    pos.setIsPlaying (true);
    pos.setBpm (tempo);
    pos.setTimeSignature (juce::AudioPlayHead::TimeSignature { 4, 4 });

    const auto samplesPerBeat = sampleRate * 60.0 / tempo;
    const auto totalSamples = (juce::int64) std::llround (beats * samplesPerBeat);
    juce::int64 sample = 0;
    int blocks = 0, events = 0, busyBlocks = 0;
    double totalMicros = 0, maxMicros = 0, busyMicros = 0;
    const auto started = juce::Time::getMillisecondCounterHiRes();

    auto run = [&] (bool playing, int n)
    {
        pos.setIsPlaying (playing);
        pos.setTimeInSamples (sample);
        pos.setPpqPosition (sample / samplesPerBeat);
        pos.setPpqPositionOfLastBarStart (std::floor (sample / samplesPerBeat / 4.0) * 4.0);
        midi.clear();
        // steady_clock has nanoseconds here; JUCE's high-resolution ticks are microseconds on Linux.
        const auto t0 = std::chrono::steady_clock::now();
        player.process (pos, n, midi);
        const auto micros = std::chrono::duration<double, std::micro> (std::chrono::steady_clock::now() - t0).count();
        client.setTransport (pos);
        if (playing)
        {
            totalMicros += micros;
            maxMicros = juce::jmax (maxMicros, micros);
            ++blocks;
            if (! midi.isEmpty())
            {
                busyMicros += micros;
                ++busyBlocks;
            }
        }
        for (const auto meta : midi)
        {
            ++events;
            if (! printMidi)
                continue;
            const auto m = meta.getMessage();
            juce::Array<juce::var> bytes;
            for (int i = 0; i < m.getRawDataSize(); ++i)
                bytes.add ((int) m.getRawData()[i]);
            const auto at = sample + meta.samplePosition;
            printLine (with (with (with (obj(), "midi", bytes), "sample", (juce::int64) at), "beat", at / samplesPerBeat));
        }
    };

    while (sample < totalSamples)
    {
        const auto n = (int) juce::jmin ((juce::int64) blockSize, totalSamples - sample);
        run (true, n);
        sample += n;
        if (realtime)
        {
            const auto due = started + sample / sampleRate * 1000.0;
            const auto wait = due - juce::Time::getMillisecondCounterHiRes();
            if (wait > 1)
                juce::Thread::sleep ((int) wait);
        }
    }
    run (false, blockSize);  // the stop: every sounding note ends

    auto summary = obj();
    with (summary, "simulated_beats", beats);
    with (summary, "end_beat", sample / samplesPerBeat);
    with (summary, "blocks", blocks);
    with (summary, "block_size", blockSize);
    with (summary, "midi_events", events);
    with (summary, "us_per_block", blocks > 0 ? totalMicros / blocks : 0.0);
    with (summary, "us_per_block_max", maxMicros);
    with (summary, "blocks_with_events", busyBlocks);
    with (summary, "us_per_block_with_events", busyBlocks > 0 ? busyMicros / busyBlocks : 0.0);
    with (summary, "hanging_notes", player.getNumActiveNotes());
    with (summary, "generation", player.getCurrentGeneration() != nullptr ? player.getCurrentGeneration()->id : juce::String());
    printLine (with (obj(), "simulation", summary));
    return 0;
}

int usage (const juce::String& error)
{
    std::cerr << "aiband_probe: " << error << "\n"
              << "usage: aiband_probe --url ws://127.0.0.1:PORT --plugin-id ID [--token T] [--mirror DIR]\n"
                 "                    [--expect N] [--timeout S] [--notes] [--http-only] [--since SEQ --instance ID]\n"
                 "                    [--simulate-beats B [--sample-rate SR] [--block N] [--tempo BPM] [--print-midi] [--realtime]]\n"
                 "                    [--generate C-Am-F-G [--generate-tracks bass,drums] [--generate-tempo BPM]]\n";
    return 2;
}

} // namespace

int main (int argc, char* argv[])
{
    juce::StringArray args;
    for (int i = 1; i < argc; ++i)
        args.add (juce::CharPointer_UTF8 (argv[i]));

    const juce::StringArray flags { "--url", "--plugin-id", "--token", "--mirror", "--expect", "--timeout",
                                    "--simulate-beats", "--sample-rate", "--block", "--tempo",
                                    "--generate", "--generate-tracks", "--generate-tempo", "--since", "--instance" };
    const juce::StringArray switches { "--notes", "--print-midi", "--realtime", "--http-only", "--no-zip", "--help" };
    juce::StringPairArray values;
    for (int i = 0; i < args.size(); ++i)
    {
        if (switches.contains (args[i]))
        {
            values.set (args[i], "1");
            continue;
        }
        if (! flags.contains (args[i]))
            return usage ("unknown argument '" + args[i] + "'");
        if (i + 1 >= args.size())
            return usage (args[i] + " needs a value");
        values.set (args[i], args[i + 1]);
        ++i;
    }
    if (values.containsKey ("--help"))
        return usage ("help");

    aiband::SyncClient::Options options;
    options.url = values.getValue ("--url", "ws://127.0.0.1:8000");
    options.pluginId = values.getValue ("--plugin-id", "aiband_probe");
    options.token = values["--token"];
    options.readLocalFiles = ! values.containsKey ("--http-only");
    options.fetchZips = ! values.containsKey ("--no-zip");
    options.startSince = values.getValue ("--since", "0").getLargeIntValue();
    options.startInstance = values["--instance"];
    if (values["--mirror"].isNotEmpty())
        options.mirrorFolder = juce::File::getCurrentWorkingDirectory().getChildFile (values["--mirror"]);

    juce::String host, path, error;
    int port = 0;
    if (! aiband::WebSocket::parseUrl (options.url, host, port, path, error))
        return usage ("--url: " + error);

    const auto expect = values.getValue ("--expect", "0").getIntValue();
    const auto timeoutSeconds = values.getValue ("--timeout", "0").getDoubleValue();
    const auto simulateBeats = values.getValue ("--simulate-beats", "0").getDoubleValue();
    const auto sampleRate = values.getValue ("--sample-rate", "48000").getDoubleValue();
    const auto blockSize = values.getValue ("--block", "512").getIntValue();
    if (expect < 0 || timeoutSeconds < 0 || simulateBeats < 0 || sampleRate < 1000 || blockSize < 1)
        return usage ("--expect, --timeout and --simulate-beats must not be negative, --sample-rate >= 1000, --block >= 1");

    Printer printer;
    printer.withNotes = values.containsKey ("--notes");
    aiband::GenerationPlayer player;
    aiband::SyncClient client (options, &player);
    client.addListener (&printer);
    client.start();

    if (values["--generate"].isNotEmpty())
    {
        auto request = obj();
        with (request, "chord_progression", values["--generate"]);
        with (request, "tempo", values.getValue ("--generate-tempo", "120").getDoubleValue());
        juce::Array<juce::var> tracks;
        for (auto& t : juce::StringArray::fromTokens (values.getValue ("--generate-tracks", "bass,drums,keys,pad,guitar"), ",", ""))
            tracks.add (t.trim());
        with (request, "track_types", tracks);
        printLine (with (obj(), "requested", client.requestGeneration (request)));
    }

    const auto deadline = juce::Time::getMillisecondCounterHiRes() + timeoutSeconds * 1000.0;
    int exitCode = 0;
    for (;;)
    {
        if (expect > 0 && printer.files.load() >= expect)
            break;
        const auto left = deadline - juce::Time::getMillisecondCounterHiRes();
        if (timeoutSeconds > 0 && left <= 0)
        {
            if (expect > 0)
            {
                printLine (with (with (obj(), "timeout", timeoutSeconds), "files", printer.files.load()));
                exitCode = 1;
            }
            break;
        }
        printer.progress.wait (timeoutSeconds > 0 ? juce::jmin (200, (int) left + 1) : 200);
    }

    if (exitCode == 0 && simulateBeats > 0)
    {
        // The generation may still be on its way to the player (files come before files_ready).
        const auto until = juce::Time::getMillisecondCounterHiRes() + 5000;
        while (printer.generations.load() == 0 && juce::Time::getMillisecondCounterHiRes() < until)
            printer.progress.wait (50);
        const auto tempo = values.getValue ("--tempo", "120").getDoubleValue();
        simulate (player, client, simulateBeats, sampleRate, blockSize, tempo,
                  values.containsKey ("--print-midi"), values.containsKey ("--realtime"));
        juce::Thread::sleep (300);  // the stop's transport_update goes out on the client's thread
    }

    client.stop();
    client.removeListener (&printer);
    printLine (with (with (obj(), "exit", exitCode), "files", printer.files.load()));
    return exitCode;
}
