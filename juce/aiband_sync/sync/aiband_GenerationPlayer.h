/*
  Plays the current Generation into processBlock's MidiBuffer, in time with the host.

  Threads: setNextGeneration() and collectGarbage() on any thread but the audio thread;
  process(), allNotesOff() and the audio-thread getters on the audio thread only. The audio
  thread never allocates, locks or frees: a new generation arrives through an atomic pointer,
  and generations it is done with go back through a lock-free FIFO to be deleted elsewhere.

  Timing: a generation is laid on the host's timeline from a bar line (its "anchor") and repeats
  every lengthBeats. One that arrives while the transport plays starts at the next bar line;
  one that arrives while it is stopped replaces the current one at once, anchored at beat 0.
  Note-offs for every sounding note are sent on a switch, a stop, a loop wrap and a jump.

  MidiBuffer::addEvent allocates when the buffer is full: JUCE's plugin wrappers reserve their
  buffers; a host of your own should call midiBuffer.ensureSize() in prepareToPlay.
*/

#pragma once

namespace aiband
{

class GenerationPlayer
{
public:
    GenerationPlayer();
    ~GenerationPlayer();

    //==============================================================================
    /** Message thread (prepareToPlay). */
    void prepareToPlay (double sampleRate, int maximumBlockSize) noexcept;

    /** Any thread but the audio thread: the generation to play next (at the next bar line).
        A newer one replaces one still waiting. Also deletes generations the player is done with. */
    void setNextGeneration (std::unique_ptr<Generation> next);

    /** Any thread but the audio thread: deletes the generations the audio thread handed back. */
    void collectGarbage();

    /** Repeat each generation (default) or play it once from its anchor. */
    void setLoopGeneration (bool shouldLoop) noexcept    { loopGeneration = shouldLoop; }

    //==============================================================================
    /** Audio thread: appends this block's events to `midi` (sample offsets 0..numSamples-1). */
    void process (const juce::AudioPlayHead::PositionInfo& position, int numSamples, juce::MidiBuffer& midi) noexcept;

    /** Audio thread: the same with the host's play head (no play head or position: stopped). */
    void process (juce::AudioPlayHead* playHead, int numSamples, juce::MidiBuffer& midi) noexcept;

    /** Audio thread: note-offs for every sounding note at `sampleOffset` (e.g. when bypassed). */
    void allNotesOff (juce::MidiBuffer& midi, int sampleOffset) noexcept;

    /** Audio thread (or tests): what is playing. */
    const Generation* getCurrentGeneration() const noexcept  { return current; }
    int getNumActiveNotes() const noexcept;

    /** Any thread: generations switched to so far, and whether one is waiting. */
    int getNumSwitches() const noexcept                     { return switches.load(); }
    bool hasPendingGeneration() const noexcept              { return pending.load() != nullptr || queuedFlag.load(); }

private:
    void takePending() noexcept;
    void renderSpan (double virtualStartPpq, int s0, int s1, double barLength, const double* lastBarStart, juce::MidiBuffer&) noexcept;
    void renderCurrent (double virtualStartPpq, int s0, int s1, juce::MidiBuffer&) noexcept;
    void locate (double ppq) noexcept;
    void switchToQueued (double anchorPpq, juce::MidiBuffer&, int sampleOffset) noexcept;
    void emit (const PlayerEvent&, juce::MidiBuffer&, int sampleOffset) noexcept;
    void sendStartEvents (juce::MidiBuffer&, int sampleOffset) noexcept;
    bool retire (Generation*) noexcept;

    double sampleRate = 44100.0;
    double samplesPerBeat = 22050.0;
    std::atomic<Generation*> pending { nullptr };
    std::atomic<bool> queuedFlag { false };
    std::atomic<int> switches { 0 };
    std::atomic<bool> loopGeneration { true };

    // Audio-thread state.
    Generation* current = nullptr;
    Generation* queued = nullptr;
    double anchor = 0;
    juce::int64 iteration = 0;
    size_t cursor = 0;
    bool needsLocate = true;
    bool wasPlaying = false;
    double expectedPpq = 0;
    juce::uint64 activeNotes[16][2] {};

    // Retired generations travel back to a non-audio thread through this FIFO.
    static constexpr int garbageCapacity = 32;
    juce::AbstractFifo garbageFifo { garbageCapacity };
    std::array<Generation*, garbageCapacity> garbage {};
    juce::CriticalSection garbageLock;  // between non-audio threads only (reader side)

    JUCE_DECLARE_NON_COPYABLE_WITH_LEAK_DETECTOR (GenerationPlayer)
};

} // namespace aiband
