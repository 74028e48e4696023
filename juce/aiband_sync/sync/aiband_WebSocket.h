/*
  A small RFC 6455 WebSocket client over juce::StreamingSocket (JUCE has none).

  Client side only, ws:// only (the workbench's service is on loopback or behind a TLS proxy),
  no extensions (no compression: the service never negotiates any). Text and binary messages,
  fragmentation, ping/pong and the closing handshake. Blocking calls with timeouts, meant for
  one background thread (SyncClient's); sends may come from other threads (they are serialised).
  Never use it on the audio thread.
*/

#pragma once

namespace aiband
{

/** SHA-1 of a byte range (the handshake needs it; JUCE's cryptography module has none). */
juce::MemoryBlock sha1 (const void* data, size_t numBytes);

/** The Sec-WebSocket-Accept value a server must answer to a Sec-WebSocket-Key (RFC 6455 4.2.2). */
juce::String webSocketAcceptFor (const juce::String& secWebSocketKey);

//==============================================================================
/** One WebSocket frame as it travels on the wire. */
struct WebSocketFrame
{
    enum Opcode { continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA };

    int opcode = text;
    bool fin = true;
    juce::MemoryBlock payload;
};

/** Appends one frame to `out`. Clients must mask their frames: pass the 4-byte `mask`
    (servers pass nullptr). */
void writeWebSocketFrame (juce::MemoryOutputStream& out, int opcode, const void* payload,
                          size_t numBytes, bool fin, const juce::uint8* mask);

/** Incremental frame decoder: feed() whatever bytes arrived, then call next() until it says
    needMore. Masked frames are unmasked (servers don't mask, but being liberal costs nothing). */
class WebSocketFrameParser
{
public:
    enum class Status { needMore, frame, error };

    explicit WebSocketFrameParser (size_t maxPayloadBytes = 16 * 1024 * 1024);

    void feed (const void* data, size_t numBytes);
    Status next (WebSocketFrame& frame);
    juce::String getError() const                { return error; }
    void reset();

private:
    std::vector<juce::uint8> buffer;
    size_t readPos = 0;
    size_t maxPayload;
    juce::String error;
};

//==============================================================================
/** A connected WebSocket: connect(), then read() and sendText() until it closes. */
class WebSocket
{
public:
    struct Message
    {
        enum class Type { text, binary, close };
        Type type = Type::text;
        juce::String text;            // for text messages (UTF-8 decoded)
        juce::MemoryBlock data;       // for binary messages
        int closeCode = 0;            // for close: 1005 when the peer gave none, 1006 when the connection dropped
        juce::String closeReason;
    };

    enum class ReadStatus { message, timeout, closed };

    WebSocket();
    ~WebSocket();

    /** Connects to `ws://host:port/path?query` and does the opening handshake. `extraHeaders`
        ("Name: value" lines) go into the upgrade request; no Origin is sent (a native client).
        On failure the Result says why (refused, timeout, HTTP status and body, bad accept key). */
    juce::Result connect (const juce::String& url, const juce::StringArray& extraHeaders = {},
                          int timeoutMs = 5000);

    /** Reads until one whole message (or the close) arrives or `timeoutMs` passes. Pings are
        answered and pongs swallowed on the way. After `closed`, `message` holds the close code. */
    ReadStatus read (Message& message, int timeoutMs);

    bool sendText (const juce::String& text);
    bool sendBinary (const void* data, size_t numBytes);
    bool sendPing (const juce::MemoryBlock& payload = {});

    /** Starts the closing handshake (waits briefly for the peer's close) and drops the socket. */
    void close (int code = 1000, const juce::String& reason = {});

    bool isOpen() const noexcept                 { return open.load(); }

    /** Splits a ws:// URL; false (and `error`) when it is not one this client can open. */
    static bool parseUrl (const juce::String& url, juce::String& host, int& port,
                          juce::String& pathAndQuery, juce::String& error);

private:
    bool sendFrame (int opcode, const void* data, size_t numBytes);
    bool fillFromSocket (int timeoutMs);
    void dropSocket();

    std::unique_ptr<juce::StreamingSocket> socket;
    WebSocketFrameParser parser;
    juce::MemoryBlock fragments;
    int fragmentOpcode = -1;
    std::atomic<bool> open { false };
    bool closeSent = false;
    juce::CriticalSection writeLock;
    juce::Random random;

    JUCE_DECLARE_NON_COPYABLE_WITH_LEAK_DETECTOR (WebSocket)
};

} // namespace aiband
