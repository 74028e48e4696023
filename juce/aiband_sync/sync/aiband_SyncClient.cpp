namespace aiband
{

namespace
{
    juce::String isoNow()
    {
        return juce::Time::getCurrentTime().toISO8601 (true);
    }

    juce::var object()
    {
        return juce::var (new juce::DynamicObject());
    }

    void setField (juce::var& o, const juce::Identifier& name, const juce::var& value)
    {
        if (auto* d = o.getDynamicObject())
            d->setProperty (name, value);
    }

    /** Track type from a file name {timestamp}_{track}_{key}_{tempo}.mid. */
    juce::String trackFromFilename (const juce::String& name)
    {
        juce::StringArray parts;
        parts.addTokens (name.upToLastOccurrenceOf (".", false, false), "_", "");
        return parts.size() >= 4 ? parts[1] : juce::String();
    }

    constexpr int maxParsedFiles = 256;
    constexpr int maxBuiltRemembered = 256;
    constexpr juce::int64 maxZipBytes = 64 * 1024 * 1024;  // the service's limit too
}

SyncClient::SyncClient (Options o, GenerationPlayer* p)
    : juce::Thread ("aiband sync"), options (std::move (o)), player (p),
      lastSeq (juce::jmax ((juce::int64) 0, options.startSince)), instance (options.startInstance)
{
}

SyncClient::~SyncClient()
{
    stop();
}

void SyncClient::start()
{
    if (isThreadRunning())
        return;
    setState (State::connecting, "starting");
    startThread();
}

void SyncClient::stop()
{
    signalThreadShouldExit();
    notify();
    stopThread (5000);
    setState (State::stopped, "stopped");
}

//==============================================================================
void SyncClient::setTransport (bool isPlaying, double ppqPosition, double bpm) noexcept
{
    transportVersion.fetch_add (1, std::memory_order_acq_rel);   // odd: writing
    hostPlaying.store (isPlaying, std::memory_order_relaxed);
    hostPpq.store (ppqPosition, std::memory_order_relaxed);
    hostBpm.store (bpm, std::memory_order_relaxed);
    transportVersion.fetch_add (1, std::memory_order_acq_rel);   // even: done
}

void SyncClient::setTransport (const juce::AudioPlayHead::PositionInfo& position) noexcept
{
    setTransport (position.getIsPlaying(), position.getPpqPosition().orFallback (0.0),
                  position.getBpm().orFallback (hostBpm.load (std::memory_order_relaxed)));
}

juce::String SyncClient::requestGeneration (const juce::var& request)
{
    auto message = object();
    if (auto* d = request.getDynamicObject())
        for (auto& p : d->getProperties())
            setField (message, p.name, p.value);
    setField (message, "type", "generate_request");
    auto id = message.getProperty ("request_id", {}).toString();
    if (id.isEmpty())
    {
        id = options.pluginId + "-" + juce::String (++requestCounter);
        setField (message, "request_id", id);
    }
    send (message);
    return id;
}

void SyncClient::send (const juce::var& message)
{
    const juce::ScopedLock sl (outboxLock);
    outbox.add (juce::JSON::toString (message, true));
}

SyncClient::Status SyncClient::getStatus() const
{
    const juce::ScopedLock sl (statusLock);
    auto s = status;
    s.state = state.load();
    return s;
}

void SyncClient::setState (State s, const juce::String& detail)
{
    const auto previous = state.exchange (s);
    {
        const juce::ScopedLock sl (statusLock);
        status.detail = detail;
        if (s == State::connected)
            ++status.connections;
    }
    if (previous != s || s == State::connected)
        listeners.call ([&] (Listener& l) { l.stateChanged (s, detail); });
    sendChangeMessage();
}

void SyncClient::reportError (const juce::String& error)
{
    {
        const juce::ScopedLock sl (statusLock);
        status.lastError = error;
    }
    listeners.call ([&] (Listener& l) { l.errorReported (error); });
    sendChangeMessage();
}

//==============================================================================
juce::String SyncClient::getHttpBase() const
{
    juce::String host, path, error;
    int port = 0;
    if (! WebSocket::parseUrl (options.url, host, port, path, error))
        return {};
    return "http://" + (host.containsChar (':') ? "[" + host + "]" : host) + ":" + juce::String (port);
}

juce::String SyncClient::getWebSocketUrl (juce::int64 since, const juce::String& inst) const
{
    juce::String host, path, error;
    int port = 0;
    if (! WebSocket::parseUrl (options.url, host, port, path, error))
        return options.url;

    auto base = options.url.trim().upToFirstOccurrenceOf ("?", false, false);
    auto query = options.url.contains ("?") ? options.url.fromFirstOccurrenceOf ("?", false, false) : juce::String();
    if (path == "/" || path.isEmpty())
        base = "ws://" + getHttpBase().fromFirstOccurrenceOf ("http://", false, false)
             + "/ws/" + juce::URL::addEscapeChars (options.pluginId, true);
    else if (base.endsWith ("/ws/sync") && ! query.contains ("plugin_id="))
        query << (query.isEmpty() ? "" : "&") << "plugin_id=" << juce::URL::addEscapeChars (options.pluginId, true);

    juce::StringArray params;
    if (query.isNotEmpty())
        params.add (query);
    if (since > 0 || inst.isNotEmpty())
        params.add ("since=" + juce::String (since));
    if (inst.isNotEmpty())
        params.add ("instance=" + juce::URL::addEscapeChars (inst, true));
    if (options.token.isNotEmpty())
        params.add ("token=" + juce::URL::addEscapeChars (options.token, true));
    return params.isEmpty() ? base : base + "?" + params.joinIntoString ("&");
}

juce::String SyncClient::absoluteUrl (const juce::String& pathOrUrl) const
{
    // url_path joined to the address we reached the service at (the service's own idea of its
    // public URL may name another interface).
    if (pathOrUrl.startsWithIgnoreCase ("http://") || pathOrUrl.startsWithIgnoreCase ("https://"))
        return getHttpBase() + "/" + pathOrUrl.fromFirstOccurrenceOf ("//", false, false).fromFirstOccurrenceOf ("/", false, false);
    return getHttpBase() + (pathOrUrl.startsWithChar ('/') ? pathOrUrl : "/" + pathOrUrl);
}

bool SyncClient::httpGet (const juce::String& pathOrUrl, juce::MemoryBlock& answer, int& statusCode, juce::String& error)
{
    // Only GETs: the module says everything else over the WebSocket. (JUCE 7.0.5's own HTTP
    // code without curl sends a blank line too many before a POST body.)
    statusCode = 0;
    const auto url = absoluteUrl (pathOrUrl);
    auto stream = juce::URL (url).createInputStream (
        juce::URL::InputStreamOptions (juce::URL::ParameterHandling::inAddress)
            .withConnectionTimeoutMs (5000)
            .withStatusCode (&statusCode)
            .withExtraHeaders (options.token.isNotEmpty() ? "Authorization: token " + options.token : juce::String()));
    if (stream == nullptr)
    {
        error = "GET " + url + " failed (no connection)";
        return false;
    }
    answer.reset();
    stream->readIntoMemoryBlock (answer);
    if (statusCode != 200)
    {
        error = "GET " + url + " answered " + juce::String (statusCode) + ": " + answer.toString().substring (0, 300);
        return false;
    }
    return true;
}

juce::String SyncClient::registerMessage() const
{
    auto message = object();
    if (auto* extra = options.registerInfo.getDynamicObject())
        for (auto& p : extra->getProperties())
            setField (message, p.name, p.value);
    setField (message, "type", "register");
    setField (message, "client", "aiband_sync");
    setField (message, "version", "0.1.0");
    return juce::JSON::toString (message, true);
}

//==============================================================================
void SyncClient::run()
{
    auto backoff = options.minBackoffMs;
    while (! threadShouldExit())
    {
        setState (State::connecting, getWebSocketUrl (lastSeq, instance));

        WebSocket ws;
        const auto result = ws.connect (getWebSocketUrl (lastSeq, instance), {}, options.connectTimeoutMs);
        if (result.wasOk())
        {
            backoff = options.minBackoffMs;
            const auto wasConfirmed = session (ws);
            if (! wasConfirmed)
                backoff = juce::jmin (backoff * 2, options.maxBackoffMs);
        }
        else
        {
            reportError (result.getErrorMessage());
            setState (State::disconnected, result.getErrorMessage());
        }

        if (threadShouldExit())
            break;
        wait (backoff);
        backoff = juce::jmin (backoff * 2, options.maxBackoffMs);
    }
}

bool SyncClient::session (WebSocket& ws)
{
    bool confirmed = false;
    lastHeartbeatMs = juce::Time::getMillisecondCounterHiRes();
    sentPpq = -1.0;  // tell the new connection where we are

    while (! threadShouldExit())
    {
        WebSocket::Message message;
        const auto got = ws.read (message, 10);

        if (got == WebSocket::ReadStatus::closed)
        {
            const auto detail = "closed " + juce::String (message.closeCode)
                              + (message.closeReason.isNotEmpty() ? ": " + message.closeReason : juce::String());
            setState (State::disconnected, detail);
            return confirmed;
        }
        if (got == WebSocket::ReadStatus::message && message.type == WebSocket::Message::Type::text)
        {
            if (handleMessage (message.text) == "connection_confirmed" && ! confirmed)
            {
                confirmed = true;
                ws.sendText (registerMessage());  // answered by "registered"
            }
        }

        const auto now = juce::Time::getMillisecondCounterHiRes();
        if (now - lastHeartbeatMs >= options.heartbeatIntervalMs)
        {
            auto hb = object();
            setField (hb, "type", "heartbeat");
            setField (hb, "timestamp", isoNow());
            auto st = object();
            setField (st, "playing", hostPlaying.load());
            setField (st, "generation", getStatus().generation);
            setField (hb, "status", st);
            ws.sendText (juce::JSON::toString (hb, true));
            lastHeartbeatMs = now;
        }

        sendTransportIfDue (ws, false);

        juce::StringArray toSend;
        {
            const juce::ScopedLock sl (outboxLock);
            toSend.swapWith (outbox);
        }
        for (int i = 0; i < toSend.size(); ++i)
            if (! ws.sendText (toSend[i]))
            {
                // Keep the unsent ones, in order, for the next connection.
                const juce::ScopedLock sl (outboxLock);
                for (int j = toSend.size(); --j >= i;)
                    outbox.insert (0, toSend[j]);
                break;
            }
    }
    ws.close (1000, "client stopping");
    return confirmed;
}

void SyncClient::sendTransportIfDue (WebSocket& ws, bool force)
{
    bool playing = false;
    double ppq = 0, bpm = 120;
    for (int attempt = 0; attempt < 100; ++attempt)
    {
        const auto v1 = transportVersion.load (std::memory_order_acquire);
        if ((v1 & 1) != 0)
            continue;
        playing = hostPlaying.load (std::memory_order_relaxed);
        ppq = hostPpq.load (std::memory_order_relaxed);
        bpm = hostBpm.load (std::memory_order_relaxed);
        if (transportVersion.load (std::memory_order_acquire) == v1)
            break;
    }
    if (transportVersion.load() == 0)
        return;  // the host never told us anything

    const auto now = juce::Time::getMillisecondCounterHiRes();
    const bool changedPlay = playing != sentPlaying;
    const bool moved = std::abs (ppq - sentPpq) > 1.0e-6 || std::abs (bpm - sentBpm) > 1.0e-6;
    const auto since = now - lastTransportMs;
    // Start/stop go out at once (within 20 ms of the last update); positions at the set rate.
    if (! force && ! ((changedPlay && since >= 20) || (moved && since >= options.transportIntervalMs)))
        return;

    auto m = object();
    setField (m, "type", "transport_update");
    setField (m, "isPlaying", playing);
    setField (m, "currentBeat", ppq);
    setField (m, "tempo", bpm);
    setField (m, "timestamp", isoNow());
    if (ws.sendText (juce::JSON::toString (m, true)))
    {
        sentPlaying = playing;
        sentPpq = ppq;
        sentBpm = bpm;
        lastTransportMs = now;
    }
}

juce::String SyncClient::handleMessage (const juce::String& text)
{
    const auto message = juce::JSON::parse (text);
    if (! message.isObject())
    {
        reportError ("not a JSON object from the service: " + text.substring (0, 200));
        return {};
    }

    const auto type = message["type"].toString();
    const auto seqVar = message["seq"];
    if (seqVar.isInt() || seqVar.isInt64() || seqVar.isDouble())
    {
        lastSeq = juce::jmax (lastSeq, (juce::int64) seqVar);
        const juce::ScopedLock sl (statusLock);
        status.lastSeq = lastSeq;
    }

    listeners.call ([&] (Listener& l) { l.messageReceived (message, text); });

    if (type == "connection_confirmed")
    {
        const auto newInstance = message["instance"].toString();
        if (newInstance.isNotEmpty() && newInstance != instance)
        {
            // Another run of the service: its seqs start again, and it replays from 0.
            lastSeq = 0;
            instance = newInstance;
        }
        if ((bool) message.getProperty ("since_reset", false))
            lastSeq = 0;
        findLocalFolder();
        {
            const juce::ScopedLock sl (statusLock);
            status.instance = instance;
            status.lastSeq = lastSeq;
        }
        setState (State::connected, "connected to " + message["server"].toString() + " " + instance);
    }
    else if (type == "midi_ready")
    {
        const auto generation = message["generation"].toString();
        if (firstNotice.find (generation) == firstNotice.end())
            firstNotice[generation] = juce::Time::getMillisecondCounterHiRes();
        // The whole-band file is not played (its parts come as their own files): fetch it once
        // the generation is with the player.
        if (player != nullptr && message["track_type"].toString() == "band")
            deferred.add (message);
        else
            ensureFile (message);
    }
    else if (type == "files_ready")
    {
        const auto generation = message["generation"].toString();
        if (firstNotice.find (generation) == firstNotice.end())
            firstNotice[generation] = juce::Time::getMillisecondCounterHiRes();
        juce::Array<juce::var> records;
        double length = 0;
        if (auto* files = message["files"].getArray())
            for (auto& record : *files)
            {
                records.add (record);
                length = juce::jmax (length, (double) record.getProperty ("duration", 0.0));
            }
        buildGeneration (generation, records, length);
    }
    else if (type == "generation_complete" || type == "generation_result")
    {
        // Normally files_ready came first; a service that skipped it still gets us playing.
        const auto generation = message["generation"].toString();
        if (generation.isNotEmpty() && ! built.contains (generation))
        {
            juce::Array<juce::var> records;
            if (auto* files = message["files"].getArray())
                for (auto& f : *files)
                {
                    if (f.isObject()) { records.add (f); continue; }
                    auto record = object();
                    setField (record, "filename", f.toString());
                    setField (record, "track_type", trackFromFilename (f.toString()));
                    setField (record, "generation", generation);
                    records.add (record);
                }
            buildGeneration (generation, records, (double) message.getProperty ("length_beats", 0.0));
        }
    }
    else if (type == "notification")
    {
        if ((bool) message.getProperty ("history_gap", false))
            recoverFromGap (message["files"]);
    }
    else if (type == "file_deleted")
    {
        const auto name = message["filename"].toString();
        parsed.erase (name);
        parsedOrder.removeString (name);
    }
    else if (type == "error")
    {
        reportError (message["error"].toString() + ": " + message["detail"].toString());
    }
    return type;
}

const ParsedTrack* SyncClient::ensureFile (const juce::var& record)
{
    const auto filename = record["filename"].toString();
    if (filename.isEmpty())
        return nullptr;
    if (auto it = parsed.find (filename); it != parsed.end())
        return it->second.get();

    const auto started = juce::Time::getMillisecondCounterHiRes();
    juce::MemoryBlock bytes;
    juce::String origin ("disk");
    if (readLocal (record, bytes))
    {
    }
    else if (takeFromZip (record, bytes))
    {
        origin = "zip";
    }
    else
    {
        origin = "http";
        auto where = record["url_path"].toString();
        if (where.isEmpty())
            where = record["url"].toString();
        if (where.isEmpty())
            where = "/files/" + juce::URL::addEscapeChars (filename, false);

        int code = 0;
        juce::String error;
        if (! httpGet (where, bytes, code, error))
        {
            reportError (error);
            return nullptr;
        }
    }

    auto track = std::make_unique<ParsedTrack>();
    const auto result = ParsedTrack::parse (bytes.getData(), bytes.getSize(), *track);
    if (result.failed())
    {
        reportError (filename + ": " + result.getErrorMessage());
        return nullptr;
    }
    track->filename = filename;
    track->trackType = record["track_type"].toString();
    if (track->trackType.isEmpty())
        track->trackType = trackFromFilename (filename);
    track->generation = record["generation"].toString();
    track->origin = origin;

    if (options.mirrorFolder != juce::File())
    {
        // The plugin's folder layout, atomically: temp/{name}.part, then {track_type}/{name}.
        auto temp = options.mirrorFolder.getChildFile ("temp").getChildFile (filename + ".part");
        auto target = options.mirrorFolder.getChildFile (track->trackType).getChildFile (filename);
        temp.getParentDirectory().createDirectory();
        target.getParentDirectory().createDirectory();
        if (! temp.replaceWithData (bytes.getData(), bytes.getSize()) || ! temp.moveFileTo (target))
            reportError ("could not write " + target.getFullPathName());
    }

    const auto millis = juce::Time::getMillisecondCounterHiRes() - started;
    listeners.call ([&] (Listener& l) { l.fileParsed (*track, millis); });
    {
        const juce::ScopedLock sl (statusLock);
        ++status.filesParsed;
    }

    auto* raw = track.get();
    parsed[filename] = std::move (track);
    parsedOrder.add (filename);
    while (parsedOrder.size() > maxParsedFiles)
    {
        parsed.erase (parsedOrder[0]);
        parsedOrder.remove (0);
    }
    return raw;
}

void SyncClient::buildGeneration (const juce::String& id, const juce::Array<juce::var>& records, double lengthBeats,
                                  bool fromGap)
{
    // The parts first; the whole-band file (not played: its parts are) after the hand-over.
    std::vector<const ParsedTrack*> parts;
    for (auto& record : records)
    {
        if (record["track_type"].toString() == "band")
            deferred.add (record);
        else if (auto* track = ensureFile (record))
            parts.push_back (track);
    }
    if (parts.empty() || built.contains (id) || (fromGap && builtFromGap.contains (id)))
    {
        fetchDeferred();
        return;
    }

    auto generation = Generation::fromTracks (id, parts, lengthBeats);
    const auto noticed = firstNotice.count (id) != 0 ? firstNotice[id] : juce::Time::getMillisecondCounterHiRes();
    const auto millis = juce::Time::getMillisecondCounterHiRes() - noticed;

    // Hand over first, then tell the listeners: the player only frees generations in
    // collectGarbage(), which runs on this thread (in setNextGeneration), so `ref` stays valid
    // for the callbacks.
    std::unique_ptr<Generation> unplayed;
    const Generation* ref = generation.get();
    if (player != nullptr)
        player->setNextGeneration (std::move (generation));
    else
        unplayed = std::move (generation);
    listeners.call ([&] (Listener& l) { l.generationReady (*ref, millis); });

    auto& done = fromGap ? builtFromGap : built;  // one from a gap may be rebuilt complete
    done.add (id);
    while (done.size() > maxBuiltRemembered)
        done.remove (0);
    firstNotice.erase (id);
    if (firstNotice.size() > (size_t) maxBuiltRemembered)  // generations that never completed
        firstNotice.clear();
    {
        const juce::ScopedLock sl (statusLock);
        status.generation = id;
        ++status.generationsReady;
    }
    sendChangeMessage();
    fetchDeferred();
}

void SyncClient::fetchDeferred()
{
    const auto pending = deferred;
    deferred.clear();
    for (auto& record : pending)
        ensureFile (record);
}

void SyncClient::findLocalFolder()
{
    localFolder = juce::File();
    if (! options.readLocalFiles || instance.isEmpty())
        return;
    int code = 0;
    juce::String error;
    juce::MemoryBlock body;
    if (! httpGet ("/api/info", body, code, error))
        return;
    const auto folder = juce::JSON::parse (body.toString())["folder"].toString();
    if (folder.isEmpty() || ! juce::File::isAbsolutePath (folder))
        return;
    const juce::File candidate (folder);
    // Only the service's own folder carries its instance marker: same machine, same files.
    if (candidate.getChildFile ("meta").getChildFile (".instance-" + instance).existsAsFile())
        localFolder = candidate;
}

bool SyncClient::takeFromZip (const juce::var& record, juce::MemoryBlock& bytes)
{
    // Over HTTP, the first file of a generation brings the whole generation in one request;
    // its other files (announced next) are then already here.
    if (! options.fetchZips)
        return false;
    const auto generation = record["generation"].toString();
    if (generation.isNotEmpty() && ! zipsTried.contains (generation))
        fetchZip (generation);
    auto it = zipped.find (record["filename"].toString());
    if (it == zipped.end())
        return false;
    bytes = std::move (it->second);
    zipped.erase (it);
    return bytes.getSize() > 0;
}

void SyncClient::fetchZip (const juce::String& generation)
{
    zipsTried.add (generation);
    while (zipsTried.size() > maxBuiltRemembered)
        zipsTried.remove (0);

    juce::MemoryBlock body;
    int code = 0;
    juce::String error;
    // A generation the service has no list of (files without a sidecar) or an older service
    // answers 404: then each file is downloaded on its own, as before.
    if (! httpGet ("/api/generations/" + juce::URL::addEscapeChars (generation, true) + "/files.zip",
                   body, code, error))
        return;

    zipped.clear();  // what an earlier generation's ZIP held and nobody asked for
    juce::ZipFile zip (new juce::MemoryInputStream (body, false), true);
    juce::int64 total = 0;
    for (int i = 0; i < zip.getNumEntries(); ++i)
    {
        const auto* entry = zip.getEntry (i);
        const auto name = entry->filename;
        // plain file names only, and no more than a generation can hold
        total += entry->uncompressedSize;
        if (name.isEmpty() || name.containsAnyOf ("/\\:") || name.startsWithChar ('.') || total > maxZipBytes)
            continue;
        if (std::unique_ptr<juce::InputStream> in { zip.createStreamForEntry (i) })
        {
            juce::MemoryBlock bytes;
            in->readIntoMemoryBlock (bytes);
            if (bytes.getSize() == (size_t) entry->uncompressedSize)
                zipped[name] = std::move (bytes);
        }
    }
}

bool SyncClient::readLocal (const juce::var& record, juce::MemoryBlock& bytes) const
{
    if (localFolder == juce::File())
        return false;
    const auto filename = record["filename"].toString();
    auto path = record["path"].toString();
    if (path.isEmpty() && record["track_type"].toString().isNotEmpty())
        path = record["track_type"].toString() + "/" + filename;  // the folder's layout
    // A plain "{track}/{name}" inside the folder: nothing absolute, no "..", no hidden parts.
    if (path.isEmpty() || path.startsWithChar ('/') || path.containsChar ('\\') || path.containsChar (':')
        || ! path.endsWith ("/" + filename))
        return false;
    for (auto& part : juce::StringArray::fromTokens (path, "/", ""))
        if (part.isEmpty() || part.startsWithChar ('.'))
            return false;
    const auto file = localFolder.getChildFile (path);
    if (! file.isAChildOf (localFolder) || file.isSymbolicLink() || ! file.existsAsFile())
        return false;
    return file.loadFileAsData (bytes) && bytes.getSize() > 0;
}

void SyncClient::recoverFromGap (const juce::var& lostFiles)
{
    // Some missed events are gone from the history. The service lists the files they announced
    // (`files`; older services don't: then GET /api/files). Fetch them all, and give the player
    // the newest of their generations now: if the replay that follows still holds its
    // files_ready, that one replaces it, complete.
    juce::var list = lostFiles;
    if (! list.isArray())
    {
        juce::MemoryBlock body;
        int code = 0;
        juce::String error;
        if (! httpGet ("/api/files?limit=200", body, code, error))
        {
            reportError (error);
            return;
        }
        const auto answer = juce::JSON::parse (body.toString());
        list = answer.isArray() ? answer : answer["files"];
    }
    const auto* records = list.getArray();
    if (records == nullptr || records->isEmpty())
        return;

    juce::String newest;  // generation ids start with their timestamp: they sort by age
    for (auto& record : *records)
        newest = juce::jmax (newest, record["generation"].toString());

    juce::Array<juce::var> newestRecords;
    double length = 0;
    for (auto& record : *records)
    {
        if (record["generation"].toString() != newest)
            ensureFile (record);
        else
        {
            newestRecords.add (record);
            length = juce::jmax (length, (double) record.getProperty ("duration", 0.0));
        }
    }
    buildGeneration (newest, newestRecords, length, true);
}

} // namespace aiband
