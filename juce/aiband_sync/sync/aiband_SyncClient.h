/*
  The plugin's link to the workbench's sync service (docs/protocol.md of the workbench).

  Threads:
    - its own background thread ("aiband sync") owns the WebSocket and the HTTP downloads:
      connects, registers (a `register` message), heartbeats, reconnects with back-off and ?since=SEQ&instance=ID,
      downloads and parses every file, builds each Generation and hands it to the player;
      Listener callbacks are called on this thread;
    - the audio thread only calls setTransport() (atomics, no locks, no allocation);
    - the message thread (an editor) reads getStatus() and listens as a ChangeListener:
      change messages are sent whenever the state, an error or the generation changes.
*/

#pragma once

namespace aiband
{

class SyncClient : public juce::ChangeBroadcaster,
                   private juce::Thread
{
public:
    struct Options
    {
        /** The service: "ws://127.0.0.1:8000" (then /ws/{pluginId} is used) or a full
            WebSocket URL such as "ws://127.0.0.1:8000/ws/sync". */
        juce::String url { "ws://127.0.0.1:8000" };
        juce::String pluginId { "juce" };
        juce::String token;                    // only needed when the service requires one
        juce::File mirrorFolder;               // when set, files are also saved there as {track_type}/{filename}
        int heartbeatIntervalMs = 5000;
        int transportIntervalMs = 100;         // at most this often while the transport moves
        int connectTimeoutMs = 3000;
        int minBackoffMs = 200, maxBackoffMs = 5000;
        juce::var registerInfo;                // extra fields for the `register` message (name, version, ...)
        /** Read files straight from the service's folder when it is on this machine (the
            service leaves meta/.instance-{id} there, as for attached notebooks); else HTTP. */
        bool readLocalFiles = true;
        /** When downloading, fetch a generation's files in one request (the service's
            /api/generations/{id}/files.zip) instead of one request a file. */
        bool fetchZips = true;
        /** Where to resume from (e.g. saved with the DAW project): the last seq seen and the
            service instance it came from; 0 and empty for a fresh start. */
        juce::int64 startSince = 0;
        juce::String startInstance;
    };

    enum class State { stopped, connecting, connected, disconnected };

    struct Status
    {
        State state = State::stopped;
        juce::String lastError, instance, generation, detail;
        juce::int64 lastSeq = 0;
        int connections = 0, filesParsed = 0, generationsReady = 0;
    };

    /** Called on the client's thread: keep it short, and hop to the message thread for UI. */
    struct Listener
    {
        virtual ~Listener() = default;
        /** Every message from the service, parsed (the text as received in `raw`). */
        virtual void messageReceived (const juce::var& message, const juce::String& raw) {}
        /** A file downloaded and parsed; `millis` from the start of its download. */
        virtual void fileParsed (const ParsedTrack& track, double millis) {}
        /** A generation just handed to the player (valid during the call only); `millis` from
            its first notification. */
        virtual void generationReady (const Generation& generation, double millis) {}
        virtual void stateChanged (State state, const juce::String& detail) {}
        virtual void errorReported (const juce::String& error) {}
    };

    /** `player` (may be null) receives each new generation; it must outlive the client. */
    explicit SyncClient (Options options, GenerationPlayer* player = nullptr);
    ~SyncClient() override;

    void start();
    void stop();

    /** Add listeners before start() and remove them after stop() (the list is not locked). */
    void addListener (Listener* l)       { listeners.add (l); }
    void removeListener (Listener* l)    { listeners.remove (l); }

    //==============================================================================
    /** Audio thread: the host's transport, sent as transport_update at a bounded rate. */
    void setTransport (bool isPlaying, double ppqPosition, double bpm) noexcept;
    void setTransport (const juce::AudioPlayHead::PositionInfo& position) noexcept;

    /** Any thread: asks the service for a band (a generate_request: track_types,
        chord_progression "C-Am-F-G", tempo, duration, key, ... see docs/protocol.md).
        Returns the request_id it carries. */
    juce::String requestGeneration (const juce::var& request);

    /** Any thread: queues a JSON message for the service. */
    void send (const juce::var& message);

    Status getStatus() const;
    State getState() const noexcept      { return state.load(); }

    /** The URLs this client uses, from Options (for logs and tests). */
    juce::String getWebSocketUrl (juce::int64 since, const juce::String& instance) const;
    juce::String getHttpBase() const;

private:
    void run() override;
    bool session (WebSocket& ws);
    juce::String handleMessage (const juce::String& text);  // returns the message's type
    const ParsedTrack* ensureFile (const juce::var& record);
    void buildGeneration (const juce::String& id, const juce::Array<juce::var>& records, double lengthBeats,
                          bool fromGap = false);
    void recoverFromGap (const juce::var& lostFiles);
    void findLocalFolder();
    void fetchDeferred();
    bool readLocal (const juce::var& record, juce::MemoryBlock& bytes) const;
    bool takeFromZip (const juce::var& record, juce::MemoryBlock& bytes);
    void fetchZip (const juce::String& generation);
    juce::String registerMessage() const;
    void sendTransportIfDue (WebSocket& ws, bool force);
    void setState (State s, const juce::String& detail);
    void reportError (const juce::String& error);

    /** false (and `error`) unless the answer is 200. */
    bool httpGet (const juce::String& pathOrUrl, juce::MemoryBlock& answer, int& status, juce::String& error);
    juce::String absoluteUrl (const juce::String& pathOrUrl) const;

    Options options;
    GenerationPlayer* player;
    juce::ListenerList<Listener> listeners;
    std::atomic<State> state { State::stopped };

    mutable juce::CriticalSection statusLock;
    Status status;

    juce::CriticalSection outboxLock;
    juce::StringArray outbox;

    // Sync-thread state.
    juce::int64 lastSeq = 0;
    juce::String instance;
    juce::File localFolder;                                          // the service's folder, when visible
    juce::Array<juce::var> deferred;                                 // band files, fetched after the hand-over
    std::map<juce::String, juce::MemoryBlock> zipped;                // files of the last ZIP not parsed yet
    juce::StringArray zipsTried;                                     // generations asked for as a ZIP
    std::map<juce::String, std::unique_ptr<ParsedTrack>> parsed;     // by file name
    juce::StringArray parsedOrder;                                   // oldest first, bounded
    std::map<juce::String, double> firstNotice;                      // generation -> ms
    juce::StringArray built;                                         // generations handed over
    juce::StringArray builtFromGap;                                  // ... from a history gap's list
    double lastHeartbeatMs = 0, lastTransportMs = 0;
    bool sentPlaying = false;
    double sentPpq = -1.0, sentBpm = 0;
    std::atomic<int> requestCounter { 0 };

    // Written by the audio thread: a sequence lock over three atomics.
    std::atomic<juce::uint32> transportVersion { 0 };
    std::atomic<bool> hostPlaying { false };
    std::atomic<double> hostPpq { 0.0 }, hostBpm { 120.0 };

    JUCE_DECLARE_NON_COPYABLE_WITH_LEAK_DETECTOR (SyncClient)
};

} // namespace aiband
