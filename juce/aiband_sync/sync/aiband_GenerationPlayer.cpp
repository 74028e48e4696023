namespace aiband
{

namespace
{
    // An event sounds on the first sample at or after its exact time. The slack absorbs
    // floating-point noise, so a time that falls on a sample boundary maps to that sample
    // whichever block computes it (rounding to nearest would flip on ties).
    constexpr double sampleSlack = 1.0e-4;

    inline juce::int64 sampleAt (double beat, double blockStartPpq, double samplesPerBeat) noexcept
    {
        return (juce::int64) std::ceil ((beat - blockStartPpq) * samplesPerBeat - sampleSlack);
    }
}

GenerationPlayer::GenerationPlayer() = default;

GenerationPlayer::~GenerationPlayer()
{
    collectGarbage();
    delete pending.exchange (nullptr);
    delete queued;
    delete current;
}

void GenerationPlayer::prepareToPlay (double newSampleRate, int) noexcept
{
    sampleRate = newSampleRate > 0 ? newSampleRate : 44100.0;
    needsLocate = true;
}

void GenerationPlayer::setNextGeneration (std::unique_ptr<Generation> next)
{
    // Whatever was still waiting was never seen by the audio thread: ours to delete.
    delete pending.exchange (next.release());
    collectGarbage();
}

void GenerationPlayer::collectGarbage()
{
    const juce::ScopedLock sl (garbageLock);
    const auto scope = garbageFifo.read (garbageFifo.getNumReady());
    scope.forEach ([this] (int index)
    {
        delete garbage[(size_t) index];
        garbage[(size_t) index] = nullptr;
    });
}

bool GenerationPlayer::retire (Generation* g) noexcept
{
    if (g == nullptr)
        return true;
    if (garbageFifo.getFreeSpace() < 1)
        return false;  // cannot happen (takePending keeps room); leaking beats freeing here
    const auto scope = garbageFifo.write (1);
    scope.forEach ([this, g] (int index) { garbage[(size_t) index] = g; });
    return true;
}

void GenerationPlayer::takePending() noexcept
{
    // Room for the one waiting and the one playing, so both can be handed back later.
    if (pending.load (std::memory_order_relaxed) == nullptr || garbageFifo.getFreeSpace() < 2)
        return;
    if (auto* g = pending.exchange (nullptr, std::memory_order_acq_rel))
    {
        retire (queued);
        queued = g;
        queuedFlag = true;
    }
}

int GenerationPlayer::getNumActiveNotes() const noexcept
{
    int count = 0;
    for (auto& channel : activeNotes)
        for (auto word : channel)
            count += juce::countNumberOfBits ((juce::uint64) word);
    return count;
}

void GenerationPlayer::allNotesOff (juce::MidiBuffer& midi, int sampleOffset) noexcept
{
    for (int ch = 0; ch < 16; ++ch)
        for (int w = 0; w < 2; ++w)
        {
            auto word = activeNotes[ch][w];
            for (int bit = 0; word != 0; ++bit, word >>= 1)
                if ((word & 1) != 0)
                {
                    const juce::uint8 off[3] = { (juce::uint8) (0x80 | ch), (juce::uint8) (w * 64 + bit), 0 };
                    midi.addEvent (off, 3, sampleOffset);
                }
            activeNotes[ch][w] = 0;
        }
}

void GenerationPlayer::emit (const PlayerEvent& e, juce::MidiBuffer& midi, int sampleOffset) noexcept
{
    const int ch = e.data[0] & 0x0F;
    const int note = e.data[1] & 0x7F;
    auto& word = activeNotes[ch][note >> 6];
    const auto bit = (juce::uint64) 1 << (note & 63);

    if (e.isNoteOn())
    {
        if ((word & bit) != 0)  // struck again while sounding: end the old one first
        {
            const juce::uint8 off[3] = { (juce::uint8) (0x80 | ch), (juce::uint8) note, 0 };
            midi.addEvent (off, 3, sampleOffset);
        }
        word |= bit;
    }
    else if (e.isNoteOff())
    {
        if ((word & bit) == 0)
            return;  // its note-on was before a jump or a switch: already ended
        word &= ~bit;
    }
    midi.addEvent (e.data, e.size, sampleOffset);
}

void GenerationPlayer::sendStartEvents (juce::MidiBuffer& midi, int sampleOffset) noexcept
{
    if (current != nullptr)
        for (auto& e : current->startEvents)
            midi.addEvent (e.data, e.size, sampleOffset);
}

void GenerationPlayer::switchToQueued (double anchorPpq, juce::MidiBuffer& midi, int sampleOffset) noexcept
{
    allNotesOff (midi, sampleOffset);
    retire (current);
    current = queued;
    queued = nullptr;
    queuedFlag = false;
    anchor = anchorPpq;
    needsLocate = true;
    ++switches;
    if (wasPlaying)
        sendStartEvents (midi, sampleOffset);
}

void GenerationPlayer::locate (double ppq) noexcept
{
    // `ppq` is the exact time of a block's first sample: events from just under a sample
    // before it belong to that sample (see sampleAt).
    const auto length = current->lengthBeats;
    const auto rel = ppq - anchor;
    double within = rel;

    if (loopGeneration)
    {
        iteration = (juce::int64) std::floor (rel / length);
        within = rel - (double) iteration * length;
    }
    else
    {
        iteration = rel >= length ? 1 : 0;
    }

    const auto& events = current->events;
    const auto target = within - (1.0 - sampleSlack) / samplesPerBeat;
    cursor = (size_t) (std::upper_bound (events.begin(), events.end(), target,
                                         [] (double beat, const PlayerEvent& e) { return beat < e.beat; })
                       - events.begin());
}

void GenerationPlayer::renderCurrent (double virtualStartPpq, int s0, int s1, juce::MidiBuffer& midi) noexcept
{
    if (current == nullptr || s0 >= s1 || current->lengthBeats <= 0 || current->events.empty())
        return;

    if (needsLocate)
    {
        locate (virtualStartPpq + s0 / samplesPerBeat);
        needsLocate = false;
    }

    const auto& events = current->events;
    const auto length = current->lengthBeats;
    const bool loop = loopGeneration;

    for (;;)
    {
        if (! loop && iteration != 0)
            return;
        if (cursor >= events.size())
        {
            ++iteration;
            cursor = 0;
            continue;
        }

        const auto& e = events[cursor];
        const auto beat = anchor + (double) iteration * length + e.beat;
        const auto offset = sampleAt (beat, virtualStartPpq, samplesPerBeat);
        if (offset >= s1)
            return;
        emit (e, midi, (int) juce::jmax ((juce::int64) s0, offset));
        ++cursor;
    }
}

void GenerationPlayer::renderSpan (double virtualStartPpq, int s0, int s1, double barLength,
                                   const double* lastBarStart, juce::MidiBuffer& midi) noexcept
{
    if (s0 >= s1)
        return;

    if (queued != nullptr && barLength > 0)
    {
        // The first bar line that falls on a sample of this span.
        const auto p0 = virtualStartPpq + s0 / samplesPerBeat;
        const auto ref = lastBarStart != nullptr ? *lastBarStart : 0.0;
        const auto slack = (1.0 - sampleSlack) / (samplesPerBeat * barLength);
        auto bar = ref + std::ceil ((p0 - ref) / barLength - slack) * barLength;
        auto sb = sampleAt (bar, virtualStartPpq, samplesPerBeat);
        if (sb < s0)
        {
            bar += barLength;
            sb = sampleAt (bar, virtualStartPpq, samplesPerBeat);
        }
        if (sb < s1)
        {
            renderCurrent (virtualStartPpq, s0, (int) sb, midi);
            switchToQueued (bar, midi, (int) sb);
            renderCurrent (virtualStartPpq, (int) sb, s1, midi);
            return;
        }
    }
    renderCurrent (virtualStartPpq, s0, s1, midi);
}

void GenerationPlayer::process (const juce::AudioPlayHead::PositionInfo& position, int numSamples,
                                juce::MidiBuffer& midi) noexcept
{
    takePending();

    const auto ppq = position.getPpqPosition();
    if (! position.getIsPlaying() || ! ppq.hasValue() || numSamples <= 0)
    {
        if (wasPlaying)
            allNotesOff (midi, 0);
        wasPlaying = false;
        needsLocate = true;
        if (queued != nullptr)  // stopped: nothing to wait for
            switchToQueued (0.0, midi, 0);
        return;
    }

    const auto bpm = position.getBpm().orFallback (current != nullptr ? current->tempo : 120.0);
    samplesPerBeat = sampleRate * 60.0 / juce::jmax (1.0, bpm);
    const auto start = *ppq;
    const auto blockBeats = numSamples / samplesPerBeat;

    const auto tolerance = juce::jmax (1.0e-6, 4.0 / samplesPerBeat);
    const bool jumped = wasPlaying && std::abs (start - expectedPpq) > tolerance;
    if (jumped)
        allNotesOff (midi, 0);
    if (jumped || ! wasPlaying)
        needsLocate = true;
    if (! wasPlaying)
    {
        wasPlaying = true;
        sendStartEvents (midi, 0);
    }

    int numerator = current != nullptr ? current->numerator : 4;
    int denominator = current != nullptr ? current->denominator : 4;
    if (auto ts = position.getTimeSignature())
    {
        numerator = ts->numerator;
        denominator = ts->denominator;
    }
    const auto barLength = numerator * 4.0 / juce::jmax (1, denominator);
    const auto lastBar = position.getPpqPositionOfLastBarStart();
    const double lastBarValue = lastBar.orFallback (0.0);

    if (position.getIsLooping())
    {
        if (auto loop = position.getLoopPoints())
        {
            const auto loopLength = loop->ppqEnd - loop->ppqStart;
            const auto wrapAt = sampleAt (loop->ppqEnd, start, samplesPerBeat);
            if (loopLength > 0 && start < loop->ppqEnd && wrapAt < numSamples)
            {
                const auto k = (int) juce::jmax ((juce::int64) 0, wrapAt);
                renderSpan (start, 0, k, barLength, lastBar.hasValue() ? &lastBarValue : nullptr, midi);
                allNotesOff (midi, k);
                needsLocate = true;
                const auto wrappedStart = loop->ppqStart - k / samplesPerBeat;
                renderSpan (wrappedStart, k, numSamples, barLength, nullptr, midi);
                expectedPpq = wrappedStart + blockBeats;
                return;
            }
        }
    }

    renderSpan (start, 0, numSamples, barLength, lastBar.hasValue() ? &lastBarValue : nullptr, midi);
    expectedPpq = start + blockBeats;
}

void GenerationPlayer::process (juce::AudioPlayHead* playHead, int numSamples, juce::MidiBuffer& midi) noexcept
{
    if (playHead != nullptr)
        if (const auto position = playHead->getPosition())
        {
            process (*position, numSamples, midi);
            return;
        }
    process (juce::AudioPlayHead::PositionInfo(), numSamples, midi);
}

} // namespace aiband
