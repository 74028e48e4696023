namespace aiband
{

int defaultChannelForTrack (const juce::String& trackType) noexcept
{
    const auto t = trackType.toLowerCase();
    if (t == "bass")                   return 1;
    if (t == "keys" || t == "piano")   return 2;
    if (t == "pad" || t == "pads")     return 3;
    if (t == "guitar")                 return 4;
    if (t == "drums" || t == "drum")   return 10;
    return 0;
}

juce::Result ParsedTrack::parse (const void* data, size_t numBytes, ParsedTrack& result)
{
    juce::MemoryInputStream in (data, numBytes, false);
    juce::MidiFile file;
    int format = 0;
    if (! file.readFrom (in, true, &format))
        return juce::Result::fail ("not a Standard MIDI File (" + juce::String ((int) numBytes) + " bytes)");

    const auto tpq = (int) file.getTimeFormat();
    if (tpq <= 0)
        return juce::Result::fail ("SMPTE time division is not supported (ticks per quarter note expected)");

    result.ticksPerQuarter = tpq;
    result.notes.clear();
    result.program = -1;
    bool haveTempo = false, haveMeter = false;
    double lastTick = 0;

    for (int t = 0; t < file.getNumTracks(); ++t)
    {
        juce::MidiMessageSequence seq (*file.getTrack (t));
        seq.updateMatchedPairs();

        for (int i = 0; i < seq.getNumEvents(); ++i)
        {
            const auto& m = seq.getEventPointer (i)->message;
            lastTick = juce::jmax (lastTick, m.getTimeStamp());

            if (m.isTempoMetaEvent() && ! haveTempo)
            {
                result.tempo = 60.0 / m.getTempoSecondsPerQuarterNote();
                haveTempo = true;
            }
            else if (m.isTimeSignatureMetaEvent() && ! haveMeter)
            {
                m.getTimeSignatureInfo (result.numerator, result.denominator);
                haveMeter = true;
            }
            else if (m.isProgramChange() && result.program < 0)
            {
                result.program = m.getProgramChangeNumber();
            }
            else if (m.isNoteOn())
            {
                const auto off = seq.getTimeOfMatchingKeyUp (i);
                Note n;
                n.pitch = m.getNoteNumber();
                n.start = m.getTimeStamp() / tpq;
                n.length = juce::jmax (0.0, (off > m.getTimeStamp() ? off : m.getTimeStamp()) / tpq - n.start);
                n.velocity = m.getVelocity();
                n.channel = m.getChannel();
                result.notes.push_back (n);
                lastTick = juce::jmax (lastTick, off);
            }
        }
    }

    std::stable_sort (result.notes.begin(), result.notes.end(), [] (const Note& a, const Note& b)
    {
        return a.start != b.start ? a.start < b.start : a.pitch < b.pitch;
    });
    result.lengthBeats = lastTick / tpq;
    return juce::Result::ok();
}

std::unique_ptr<Generation> Generation::fromTracks (const juce::String& id,
                                                    const std::vector<const ParsedTrack*>& parts,
                                                    double lengthBeats)
{
    auto g = std::make_unique<Generation>();
    g->id = id;

    std::vector<const ParsedTrack*> used;
    for (auto* p : parts)
        if (p != nullptr && ! p->trackType.equalsIgnoreCase ("band"))
            used.push_back (p);

    double longest = 0;
    for (auto* p : used)
        longest = juce::jmax (longest, p->lengthBeats);
    g->lengthBeats = lengthBeats > 0 ? lengthBeats : longest;
    if (! used.empty())
    {
        g->tempo = used.front()->tempo;
        g->numerator = used.front()->numerator;
        g->denominator = used.front()->denominator;
    }

    // Channels: the fixed ones first, then the free ones in order for other track types.
    bool taken[17] {};
    std::vector<int> channels;
    for (auto* p : used)
    {
        auto ch = defaultChannelForTrack (p->trackType);
        if (ch > 0 && taken[ch])
            ch = 0;
        if (ch > 0)
            taken[ch] = true;
        channels.push_back (ch);
    }
    for (auto& ch : channels)
        if (ch == 0)
            for (int c = 1; c <= 16; ++c)
                if (c != 10 && ! taken[c]) { ch = c; taken[c] = true; break; }

    const auto length = g->lengthBeats;
    size_t total = 0;
    for (auto* p : used)
        total += p->notes.size() * 2;
    g->events.reserve (total);

    for (size_t t = 0; t < used.size(); ++t)
    {
        const auto& part = *used[t];
        const auto ch = channels[t] > 0 ? channels[t] : 16;  // more than 15 tracks share the last
        g->tracks.push_back ({ part.trackType, part.filename, ch, part.program, (int) part.notes.size() });

        if (part.program >= 0)
        {
            PlayerEvent pc;
            pc.data[0] = (juce::uint8) (0xC0 | (ch - 1));
            pc.data[1] = (juce::uint8) part.program;
            pc.size = 2;
            pc.track = (juce::uint8) t;
            g->startEvents.push_back (pc);
        }

        // A note of a pitch ends at the latest where the next one of that pitch starts, so a
        // note-off never cuts a later note (notes are sorted by start).
        double nextStart[128];
        for (auto& s : nextStart)
            s = std::numeric_limits<double>::max();
        std::vector<double> ends (part.notes.size());
        for (size_t i = part.notes.size(); i-- > 0;)
        {
            const auto& n = part.notes[i];
            ends[i] = juce::jmin (n.start + n.length, nextStart[n.pitch & 127]);
            nextStart[n.pitch & 127] = n.start;
        }

        for (size_t i = 0; i < part.notes.size(); ++i)
        {
            const auto& n = part.notes[i];
            if (length > 0 && n.start >= length)
                continue;
            const auto end = length > 0 ? juce::jmin (ends[i], length) : ends[i];
            if (end <= n.start)
                continue;  // cut to nothing by a later note of the same pitch
            PlayerEvent on, off;
            on.beat = n.start;
            on.data[0] = (juce::uint8) (0x90 | (ch - 1));
            on.data[1] = (juce::uint8) n.pitch;
            on.data[2] = (juce::uint8) juce::jlimit (1, 127, n.velocity);
            on.track = (juce::uint8) t;
            off = on;
            off.beat = end;
            off.data[0] = (juce::uint8) (0x80 | (ch - 1));
            off.data[2] = 0;
            g->events.push_back (on);
            g->events.push_back (off);
        }
    }

    auto rank = [] (const PlayerEvent& e) { return e.isNoteOff() ? 0 : (e.isNoteOn() ? 2 : 1); };
    std::stable_sort (g->events.begin(), g->events.end(), [&] (const PlayerEvent& a, const PlayerEvent& b)
    {
        if (a.beat != b.beat)
            return a.beat < b.beat;
        return rank (a) < rank (b);
    });

    g->preparedAtMs = juce::Time::getMillisecondCounterHiRes();
    return g;
}

} // namespace aiband
