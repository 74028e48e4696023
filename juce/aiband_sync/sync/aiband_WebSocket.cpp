namespace aiband
{

//==============================================================================
juce::MemoryBlock sha1 (const void* data, size_t numBytes)
{
    // FIPS 180-4, section 6.1: the message padded to 64-byte blocks, 80 rounds per block.
    juce::uint32 h[5] = { 0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u };
    const auto* bytes = static_cast<const juce::uint8*> (data);
    const auto bitLength = (juce::uint64) numBytes * 8;

    std::vector<juce::uint8> msg (bytes, bytes + numBytes);
    msg.push_back (0x80);
    while (msg.size() % 64 != 56)
        msg.push_back (0);
    for (int i = 7; i >= 0; --i)
        msg.push_back ((juce::uint8) (bitLength >> (i * 8)));

    auto rotl = [] (juce::uint32 x, int n) { return (x << n) | (x >> (32 - n)); };

    for (size_t block = 0; block < msg.size(); block += 64)
    {
        juce::uint32 w[80];
        for (int i = 0; i < 16; ++i)
            w[i] = (juce::uint32) msg[block + (size_t) i * 4] << 24 | (juce::uint32) msg[block + (size_t) i * 4 + 1] << 16
                 | (juce::uint32) msg[block + (size_t) i * 4 + 2] << 8 | (juce::uint32) msg[block + (size_t) i * 4 + 3];
        for (int i = 16; i < 80; ++i)
            w[i] = rotl (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);

        auto a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
        for (int i = 0; i < 80; ++i)
        {
            juce::uint32 f, k;
            if (i < 20)      { f = (b & c) | (~b & d);          k = 0x5A827999u; }
            else if (i < 40) { f = b ^ c ^ d;                   k = 0x6ED9EBA1u; }
            else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8F1BBCDCu; }
            else             { f = b ^ c ^ d;                   k = 0xCA62C1D6u; }
            const auto t = rotl (a, 5) + f + e + k + w[i];
            e = d; d = c; c = rotl (b, 30); b = a; a = t;
        }
        h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
    }

    juce::MemoryBlock digest (20);
    auto* out = static_cast<juce::uint8*> (digest.getData());
    for (int i = 0; i < 5; ++i)
        for (int j = 0; j < 4; ++j)
            out[i * 4 + j] = (juce::uint8) (h[i] >> (24 - j * 8));
    return digest;
}

juce::String webSocketAcceptFor (const juce::String& key)
{
    const auto text = key.trim() + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    const auto digest = sha1 (text.toRawUTF8(), text.getNumBytesAsUTF8());
    return juce::Base64::toBase64 (digest.getData(), digest.getSize());
}

//==============================================================================
void writeWebSocketFrame (juce::MemoryOutputStream& out, int opcode, const void* payload,
                          size_t numBytes, bool fin, const juce::uint8* mask)
{
    out.writeByte ((char) ((fin ? 0x80 : 0x00) | (opcode & 0x0F)));
    const juce::uint8 maskBit = mask != nullptr ? 0x80 : 0x00;

    if (numBytes < 126)
    {
        out.writeByte ((char) (maskBit | (juce::uint8) numBytes));
    }
    else if (numBytes <= 0xFFFF)
    {
        out.writeByte ((char) (maskBit | 126));
        out.writeByte ((char) (numBytes >> 8));
        out.writeByte ((char) (numBytes & 0xFF));
    }
    else
    {
        out.writeByte ((char) (maskBit | 127));
        for (int i = 7; i >= 0; --i)
            out.writeByte ((char) (((juce::uint64) numBytes >> (i * 8)) & 0xFF));
    }

    const auto* src = static_cast<const juce::uint8*> (payload);
    if (mask == nullptr)
    {
        if (numBytes > 0)
            out.write (src, numBytes);
        return;
    }

    out.write (mask, 4);
    for (size_t i = 0; i < numBytes; ++i)
        out.writeByte ((char) (src[i] ^ mask[i % 4]));
}

WebSocketFrameParser::WebSocketFrameParser (size_t maxPayloadBytes) : maxPayload (maxPayloadBytes) {}

void WebSocketFrameParser::reset()
{
    buffer.clear();
    readPos = 0;
    error = {};
}

void WebSocketFrameParser::feed (const void* data, size_t numBytes)
{
    if (readPos > 0 && readPos * 2 >= buffer.size())  // compact now and then, not per frame
    {
        buffer.erase (buffer.begin(), buffer.begin() + (std::ptrdiff_t) readPos);
        readPos = 0;
    }
    const auto* bytes = static_cast<const juce::uint8*> (data);
    buffer.insert (buffer.end(), bytes, bytes + numBytes);
}

WebSocketFrameParser::Status WebSocketFrameParser::next (WebSocketFrame& frame)
{
    if (error.isNotEmpty())
        return Status::error;

    const auto available = buffer.size() - readPos;
    const auto* p = buffer.data() + readPos;
    if (available < 2)
        return Status::needMore;

    const bool fin = (p[0] & 0x80) != 0;
    const int opcode = p[0] & 0x0F;
    const bool masked = (p[1] & 0x80) != 0;
    juce::uint64 length = p[1] & 0x7F;
    size_t header = 2;

    if ((p[0] & 0x70) != 0)
    {
        error = "reserved bits set in a frame (no extension was negotiated)";
        return Status::error;
    }
    if ((opcode > 0x2 && opcode < 0x8) || opcode > 0xA)
    {
        error = "unknown opcode " + juce::String (opcode);
        return Status::error;
    }

    if (length == 126)
    {
        if (available < 4) return Status::needMore;
        length = (juce::uint64) p[2] << 8 | p[3];
        header = 4;
    }
    else if (length == 127)
    {
        if (available < 10) return Status::needMore;
        length = 0;
        for (int i = 0; i < 8; ++i)
            length = length << 8 | p[2 + i];
        header = 10;
    }

    if (opcode >= 0x8 && (length > 125 || ! fin))
    {
        error = "a control frame longer than 125 bytes or fragmented";
        return Status::error;
    }
    if (length > maxPayload)
    {
        error = "a frame of " + juce::String ((juce::int64) length) + " bytes (limit "
              + juce::String ((juce::int64) maxPayload) + ")";
        return Status::error;
    }

    const size_t maskBytes = masked ? 4 : 0;
    if (available < header + maskBytes + length)
        return Status::needMore;

    frame.fin = fin;
    frame.opcode = opcode;
    frame.payload.replaceAll (p + header + maskBytes, (size_t) length);
    if (masked)
    {
        auto* data = static_cast<juce::uint8*> (frame.payload.getData());
        for (size_t i = 0; i < (size_t) length; ++i)
            data[i] ^= p[header + i % 4];
    }
    readPos += header + maskBytes + (size_t) length;
    return Status::frame;
}

//==============================================================================
WebSocket::WebSocket() = default;
WebSocket::~WebSocket()    { dropSocket(); }

bool WebSocket::parseUrl (const juce::String& url, juce::String& host, int& port,
                          juce::String& pathAndQuery, juce::String& error)
{
    const auto trimmed = url.trim();
    if (trimmed.startsWithIgnoreCase ("wss://"))
    {
        error = "wss:// is not supported (the service is plain ws:// on loopback; put a TLS proxy in front)";
        return false;
    }
    if (! trimmed.startsWithIgnoreCase ("ws://"))
    {
        error = "not a ws:// URL: '" + url + "'";
        return false;
    }
    const auto rest = trimmed.substring (5);
    const auto slash = rest.indexOfChar ('/');
    const auto authority = slash < 0 ? rest : rest.substring (0, slash);
    pathAndQuery = slash < 0 ? juce::String ("/") : rest.substring (slash);

    port = 80;
    host = authority;
    if (authority.startsWithChar ('['))  // [::1]:8000
    {
        host = authority.fromFirstOccurrenceOf ("[", false, false).upToFirstOccurrenceOf ("]", false, false);
        const auto after = authority.fromFirstOccurrenceOf ("]", false, false);
        if (after.startsWithChar (':'))
            port = after.substring (1).getIntValue();
    }
    else if (authority.containsChar (':'))
    {
        host = authority.upToLastOccurrenceOf (":", false, false);
        port = authority.fromLastOccurrenceOf (":", false, false).getIntValue();
    }
    if (host.isEmpty() || port <= 0 || port > 65535)
    {
        error = "no host or a bad port in '" + url + "'";
        return false;
    }
    return true;
}

juce::Result WebSocket::connect (const juce::String& url, const juce::StringArray& extraHeaders, int timeoutMs)
{
    dropSocket();
    parser.reset();
    fragments.reset();
    fragmentOpcode = -1;
    closeSent = false;

    juce::String host, path, error;
    int port = 0;
    if (! parseUrl (url, host, port, path, error))
        return juce::Result::fail (error);

    auto s = std::make_unique<juce::StreamingSocket>();
    if (! s->connect (host, port, timeoutMs))  // JUCE sets TCP_NODELAY on its sockets
        return juce::Result::fail ("cannot connect to " + host + ":" + juce::String (port));

    juce::uint8 nonce[16];
    random.setSeedRandomly();
    for (auto& b : nonce)
        b = (juce::uint8) random.nextInt (256);
    const auto key = juce::Base64::toBase64 (nonce, sizeof (nonce));

    // Host is what we dialled (with its port): the service checks it against its bound address.
    const auto hostHeader = (host.containsChar (':') ? "[" + host + "]" : host) + ":" + juce::String (port);
    juce::String request;
    request << "GET " << path << " HTTP/1.1\r\n"
            << "Host: " << hostHeader << "\r\n"
            << "Upgrade: websocket\r\n"
            << "Connection: Upgrade\r\n"
            << "Sec-WebSocket-Key: " << key << "\r\n"
            << "Sec-WebSocket-Version: 13\r\n"
            << "User-Agent: aiband_sync/0.1 (JUCE " << JUCE_MAJOR_VERSION << "." << JUCE_MINOR_VERSION << ")\r\n";
    for (auto& h : extraHeaders)
        if (h.trim().isNotEmpty())
            request << h.trim() << "\r\n";
    request << "\r\n";

    const auto bytes = request.toStdString();
    if (s->write (bytes.data(), (int) bytes.size()) != (int) bytes.size())
        return juce::Result::fail ("could not send the WebSocket upgrade request");

    // Read the answer's head; whatever follows it already belongs to the frame stream.
    juce::MemoryBlock head;
    const auto deadline = juce::Time::getMillisecondCounterHiRes() + timeoutMs;
    int headerEnd = -1;
    while (headerEnd < 0)
    {
        const auto left = (int) (deadline - juce::Time::getMillisecondCounterHiRes());
        if (left <= 0)
            return juce::Result::fail ("no answer to the WebSocket upgrade within " + juce::String (timeoutMs) + " ms");
        if (s->waitUntilReady (true, left) != 1)
            continue;
        char chunk[4096];
        const auto n = s->read (chunk, sizeof (chunk), false);
        if (n <= 0)
        {
            const auto partial = head.toString();
            return juce::Result::fail ("the connection closed during the WebSocket upgrade"
                                       + (partial.isNotEmpty() ? ": " + partial.upToFirstOccurrenceOf ("\r\n", false, false) : juce::String()));
        }
        head.append (chunk, (size_t) n);
        const auto* data = static_cast<const char*> (head.getData());
        for (size_t i = 3; i < head.getSize(); ++i)
            if (data[i - 3] == '\r' && data[i - 2] == '\n' && data[i - 1] == '\r' && data[i] == '\n')
            {
                headerEnd = (int) i + 1;
                break;
            }
        if (headerEnd < 0 && head.getSize() > 64 * 1024)
            return juce::Result::fail ("the WebSocket upgrade answer is too long");
    }

    const auto headText = juce::String::fromUTF8 (static_cast<const char*> (head.getData()), headerEnd);
    auto lines = juce::StringArray::fromLines (headText);
    lines.removeEmptyStrings();
    const auto statusLine = lines[0];
    const auto status = statusLine.fromFirstOccurrenceOf (" ", false, false).getIntValue();

    if (status != 101)
    {
        auto body = juce::String::fromUTF8 (static_cast<const char*> (head.getData()) + headerEnd,
                                            (int) head.getSize() - headerEnd);
        // Error bodies are short JSON; read what else is already there.
        if (s->waitUntilReady (true, 200) == 1)
        {
            char chunk[2048];
            const auto n = s->read (chunk, sizeof (chunk), false);
            if (n > 0)
                body += juce::String::fromUTF8 (chunk, n);
        }
        return juce::Result::fail ("WebSocket upgrade refused: " + statusLine.trim()
                                   + (body.trim().isNotEmpty() ? " " + body.trim().substring (0, 300) : juce::String()));
    }

    juce::StringPairArray headers (false);
    for (int i = 1; i < lines.size(); ++i)
        headers.set (lines[i].upToFirstOccurrenceOf (":", false, false).trim().toLowerCase(),
                     lines[i].fromFirstOccurrenceOf (":", false, false).trim());

    if (! headers["upgrade"].equalsIgnoreCase ("websocket")
        || ! headers["connection"].containsIgnoreCase ("upgrade"))
        return juce::Result::fail ("the server answered 101 without upgrading to websocket");
    if (headers["sec-websocket-accept"] != webSocketAcceptFor (key))
        return juce::Result::fail ("bad Sec-WebSocket-Accept in the server's answer");
    if (headers["sec-websocket-extensions"].isNotEmpty())
        return juce::Result::fail ("the server chose an extension this client did not offer: "
                                   + headers["sec-websocket-extensions"]);

    if ((int) head.getSize() > headerEnd)
        parser.feed (static_cast<const char*> (head.getData()) + headerEnd, head.getSize() - (size_t) headerEnd);

    socket = std::move (s);
    open = true;
    return juce::Result::ok();
}

bool WebSocket::fillFromSocket (int timeoutMs)
{
    if (socket == nullptr)
        return false;
    const auto ready = socket->waitUntilReady (true, juce::jmax (0, timeoutMs));
    if (ready == 0)
        return true;  // nothing yet
    char chunk[16384];
    const auto n = ready > 0 ? socket->read (chunk, sizeof (chunk), false) : -1;
    if (n <= 0)
        return false;  // EOF or error
    parser.feed (chunk, (size_t) n);
    return true;
}

WebSocket::ReadStatus WebSocket::read (Message& message, int timeoutMs)
{
    const auto start = juce::Time::getMillisecondCounter();
    WebSocketFrame frame;

    for (;;)
    {
        if (! open)
        {
            message.type = Message::Type::close;
            if (message.closeCode == 0)
                message.closeCode = 1006;
            return ReadStatus::closed;
        }

        const auto status = parser.next (frame);
        if (status == WebSocketFrameParser::Status::error)
        {
            const auto reason = parser.getError();
            close (1002, "protocol error");
            message = {};
            message.type = Message::Type::close;
            message.closeCode = 1002;
            message.closeReason = reason;
            return ReadStatus::closed;
        }

        if (status == WebSocketFrameParser::Status::needMore)
        {
            const auto elapsed = (int) (juce::Time::getMillisecondCounter() - start);
            if (elapsed >= timeoutMs)
                return ReadStatus::timeout;
            if (! fillFromSocket (timeoutMs - elapsed))
            {
                dropSocket();
                message = {};
                message.type = Message::Type::close;
                message.closeCode = 1006;
                message.closeReason = "connection lost";
                return ReadStatus::closed;
            }
            continue;
        }

        switch (frame.opcode)
        {
            case WebSocketFrame::ping:
                sendFrame (WebSocketFrame::pong, frame.payload.getData(), frame.payload.getSize());
                continue;

            case WebSocketFrame::pong:
                continue;

            case WebSocketFrame::close:
            {
                message = {};
                message.type = Message::Type::close;
                const auto* p = static_cast<const juce::uint8*> (frame.payload.getData());
                message.closeCode = frame.payload.getSize() >= 2 ? (p[0] << 8 | p[1]) : 1005;
                if (frame.payload.getSize() > 2)
                    message.closeReason = juce::String::fromUTF8 ((const char*) p + 2, (int) frame.payload.getSize() - 2);
                if (! closeSent)  // echo the code, as the closing handshake asks
                {
                    juce::uint8 code[2] = { (juce::uint8) (message.closeCode >> 8), (juce::uint8) message.closeCode };
                    sendFrame (WebSocketFrame::close, code, message.closeCode == 1005 ? 0 : 2);
                    closeSent = true;
                }
                dropSocket();
                return ReadStatus::closed;
            }

            case WebSocketFrame::continuation:
                if (fragmentOpcode < 0)
                {
                    close (1002, "continuation without a first fragment");
                    continue;
                }
                fragments.append (frame.payload.getData(), frame.payload.getSize());
                break;

            default:  // text or binary
                if (fragmentOpcode >= 0)
                {
                    close (1002, "new message inside a fragmented one");
                    continue;
                }
                fragmentOpcode = frame.opcode;
                fragments.replaceAll (frame.payload.getData(), frame.payload.getSize());
                break;
        }

        if (! frame.fin)
            continue;

        message = {};
        if (fragmentOpcode == WebSocketFrame::text)
        {
            message.type = Message::Type::text;
            message.text = juce::String::fromUTF8 (static_cast<const char*> (fragments.getData()), (int) fragments.getSize());
        }
        else
        {
            message.type = Message::Type::binary;
            message.data = fragments;
        }
        fragmentOpcode = -1;
        fragments.reset();
        return ReadStatus::message;
    }
}

bool WebSocket::sendFrame (int opcode, const void* data, size_t numBytes)
{
    const juce::ScopedLock sl (writeLock);
    if (socket == nullptr || ! socket->isConnected())
        return false;

    juce::uint8 mask[4];
    for (auto& b : mask)
        b = (juce::uint8) random.nextInt (256);

    juce::MemoryOutputStream out (numBytes + 14);
    writeWebSocketFrame (out, opcode, data, numBytes, true, mask);
    return socket->write (out.getData(), (int) out.getDataSize()) == (int) out.getDataSize();
}

bool WebSocket::sendText (const juce::String& text)
{
    return sendFrame (WebSocketFrame::text, text.toRawUTF8(), text.getNumBytesAsUTF8());
}

bool WebSocket::sendBinary (const void* data, size_t numBytes)
{
    return sendFrame (WebSocketFrame::binary, data, numBytes);
}

bool WebSocket::sendPing (const juce::MemoryBlock& payload)
{
    return sendFrame (WebSocketFrame::ping, payload.getData(), juce::jmin ((size_t) 125, payload.getSize()));
}

void WebSocket::close (int code, const juce::String& reason)
{
    if (socket != nullptr && ! closeSent)
    {
        juce::MemoryOutputStream payload;
        payload.writeByte ((char) (code >> 8));
        payload.writeByte ((char) (code & 0xFF));
        payload << reason.substring (0, 100);
        sendFrame (WebSocketFrame::close, payload.getData(), payload.getDataSize());
        closeSent = true;

        // Give the peer a moment to answer with its close, then hang up either way.
        WebSocketFrame frame;
        const auto until = juce::Time::getMillisecondCounter() + 200;
        while (juce::Time::getMillisecondCounter() < until)
        {
            const auto status = parser.next (frame);
            if (status == WebSocketFrameParser::Status::frame)
            {
                if (frame.opcode == WebSocketFrame::close) break;
                continue;
            }
            if (status == WebSocketFrameParser::Status::error
                || ! fillFromSocket ((int) (until - juce::Time::getMillisecondCounter())))
                break;
        }
    }
    dropSocket();
}

void WebSocket::dropSocket()
{
    const juce::ScopedLock sl (writeLock);
    open = false;
    if (socket != nullptr)
        socket->close();
    socket.reset();
}

} // namespace aiband
