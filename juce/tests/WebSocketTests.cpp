/*  The RFC 6455 client: SHA-1 and the accept key, frames byte by byte, URLs, and a whole
    conversation with a small server on a loopback socket (handshake, fragments with a ping in
    between, a 70 kB binary message, the close code 4000 the service uses for slow clients). */

#include "TestHelpers.h"

namespace
{
    juce::String hex (const juce::MemoryBlock& b)  { return juce::String::toHexString (b.getData(), (int) b.getSize(), 0); }

    juce::MemoryBlock frame (int opcode, const juce::String& text, bool fin = true, const juce::uint8* mask = nullptr)
    {
        juce::MemoryOutputStream out;
        aiband::writeWebSocketFrame (out, opcode, text.toRawUTF8(), text.getNumBytesAsUTF8(), fin, mask);
        return out.getMemoryBlock();
    }

    /** A one-connection WebSocket server on a loopback port, scripted by `script`. */
    struct TinyServer : juce::Thread
    {
        std::function<void (juce::StreamingSocket&, aiband::WebSocketFrameParser&)> script;
        juce::StreamingSocket listener;
        juce::String request;     // the upgrade request as received
        juce::String status = "101 Switching Protocols";
        bool badAccept = false;
        int port = 0;

        TinyServer() : juce::Thread ("tiny ws server")
        {
            for (port = 47000 + juce::Random::getSystemRandom().nextInt (10000); ! listener.createListener (port, "127.0.0.1"); ++port) {}
        }
        ~TinyServer() override { listener.close(); stopThread (3000); }

        void run() override
        {
            std::unique_ptr<juce::StreamingSocket> s (listener.waitForNextConnection());
            if (s == nullptr)
                return;
            juce::MemoryBlock head;
            char c;
            while (! head.toString().endsWith ("\r\n\r\n") && s->read (&c, 1, true) == 1)
                head.append (&c, 1);
            request = head.toString();
            const auto key = request.fromFirstOccurrenceOf ("Sec-WebSocket-Key: ", false, true).upToFirstOccurrenceOf ("\r\n", false, false);
            juce::String answer = "HTTP/1.1 " + status + "\r\n";
            if (status.startsWith ("101"))
                answer << "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "
                       << (badAccept ? juce::String ("nonsense=") : aiband::webSocketAcceptFor (key)) << "\r\n\r\n";
            else
                answer << "Content-Type: application/json\r\nContent-Length: 26\r\n\r\n{\"error\": \"unauthorized\"}\n";
            s->write (answer.toRawUTF8(), (int) answer.getNumBytesAsUTF8());
            aiband::WebSocketFrameParser parser;
            if (script && status.startsWith ("101"))
                script (*s, parser);
            juce::Thread::sleep (200);
        }

        static void send (juce::StreamingSocket& s, const juce::MemoryBlock& b)  { s.write (b.getData(), (int) b.getSize()); }

        /** Reads the client's next frame (masked, as clients must). */
        static bool receive (juce::StreamingSocket& s, aiband::WebSocketFrameParser& parser, aiband::WebSocketFrame& f)
        {
            for (int i = 0; i < 200; ++i)
            {
                if (parser.next (f) == aiband::WebSocketFrameParser::Status::frame)
                    return true;
                if (s.waitUntilReady (true, 20) == 1)
                {
                    char buf[4096];
                    const auto n = s.read (buf, sizeof (buf), false);
                    if (n <= 0) return false;
                    parser.feed (buf, (size_t) n);
                }
            }
            return false;
        }
    };
}

class WebSocketTests : public juce::UnitTest
{
public:
    WebSocketTests() : juce::UnitTest ("WebSocket", "aiband") {}

    void runTest() override
    {
        beginTest ("SHA-1 test vectors and the RFC 6455 accept key");
        {
            expectEquals (hex (aiband::sha1 ("", 0)), juce::String ("da39a3ee5e6b4b0d3255bfef95601890afd80709"));
            expectEquals (hex (aiband::sha1 ("abc", 3)), juce::String ("a9993e364706816aba3e25717850c26c9cd0d89d"));
            const char* two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";  // 56 bytes: two blocks
            expectEquals (hex (aiband::sha1 (two, strlen (two))), juce::String ("84983e441c3bd26ebaae4aa1f95129e5e54670f1"));
            expectEquals (aiband::webSocketAcceptFor ("dGhlIHNhbXBsZSBub25jZQ=="), juce::String ("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
        }

        beginTest ("frames of every length class, masked and not, parsed byte by byte");
        for (size_t size : { (size_t) 0, (size_t) 1, (size_t) 125, (size_t) 126, (size_t) 65535, (size_t) 65536, (size_t) 70000 })
            for (bool masked : { false, true })
            {
                juce::MemoryBlock payload (size);
                for (size_t i = 0; i < size; ++i)
                    static_cast<juce::uint8*> (payload.getData())[i] = (juce::uint8) (i * 7 + 3);
                const juce::uint8 mask[4] = { 0x12, 0x34, 0x56, 0x78 };
                juce::MemoryOutputStream out;
                aiband::writeWebSocketFrame (out, aiband::WebSocketFrame::binary, payload.getData(), size, true, masked ? mask : nullptr);
                const auto header = size < 126 ? 2 : (size <= 0xFFFF ? 4 : 10);
                expectEquals ((int) out.getDataSize(), (int) size + header + (masked ? 4 : 0));

                aiband::WebSocketFrameParser parser;
                aiband::WebSocketFrame f;
                const auto* bytes = static_cast<const char*> (out.getData());
                int frames = 0;
                const size_t step = size > 1000 ? 997 : 1;
                for (size_t i = 0; i < out.getDataSize(); i += step)
                {
                    parser.feed (bytes + i, juce::jmin (step, out.getDataSize() - i));
                    while (parser.next (f) == aiband::WebSocketFrameParser::Status::frame)
                        ++frames;
                }
                expectEquals (frames, 1);
                expect (f.payload == payload, "payload of " + juce::String ((int) size) + " bytes changed");
                expect (f.fin && f.opcode == aiband::WebSocketFrame::binary);
            }

        beginTest ("the parser refuses reserved bits, unknown opcodes, long control frames and oversized frames");
        {
            const char rsv[] = { (char) 0xC1, 0x00 };
            const char opcode[] = { (char) 0x83, 0x00 };
            aiband::WebSocketFrame f;
            for (auto* bad : { rsv, opcode })
            {
                aiband::WebSocketFrameParser parser;
                parser.feed (bad, 2);
                expect (parser.next (f) == aiband::WebSocketFrameParser::Status::error);
            }
            aiband::WebSocketFrameParser control;
            const auto longPing = frame (aiband::WebSocketFrame::ping, juce::String::repeatedString ("x", 126));
            control.feed (longPing.getData(), longPing.getSize());
            expect (control.next (f) == aiband::WebSocketFrameParser::Status::error);
            aiband::WebSocketFrameParser small (100);
            const auto big = frame (aiband::WebSocketFrame::text, juce::String::repeatedString ("x", 101));
            small.feed (big.getData(), big.getSize());
            expect (small.next (f) == aiband::WebSocketFrameParser::Status::error);
        }

        beginTest ("ws:// URLs: host, port, path; wss:// and others refused with a reason");
        {
            juce::String host, path, error;
            int port = 0;
            expect (aiband::WebSocket::parseUrl ("ws://127.0.0.1:8123/ws/daw1?since=4", host, port, path, error));
            expectEquals (host, juce::String ("127.0.0.1"));
            expectEquals (port, 8123);
            expectEquals (path, juce::String ("/ws/daw1?since=4"));
            expect (aiband::WebSocket::parseUrl ("ws://localhost", host, port, path, error));
            expectEquals (port, 80);
            expectEquals (path, juce::String ("/"));
            expect (aiband::WebSocket::parseUrl ("ws://[::1]:9000/x", host, port, path, error));
            expectEquals (host, juce::String ("::1"));
            expectEquals (port, 9000);
            expect (! aiband::WebSocket::parseUrl ("wss://example.org/ws", host, port, path, error));
            expect (error.contains ("wss"));
            expect (! aiband::WebSocket::parseUrl ("http://127.0.0.1:8000", host, port, path, error));
            expect (! aiband::WebSocket::parseUrl ("ws://127.0.0.1:99999/", host, port, path, error));
        }

        beginTest ("a conversation: handshake headers, fragments around a ping, a big binary message, close 4000");
        {
            TinyServer server;
            juce::String pongPayload, clientText;
            int clientCloseCode = 0;
            server.script = [&] (juce::StreamingSocket& s, aiband::WebSocketFrameParser& parser)
            {
                TinyServer::send (s, frame (aiband::WebSocketFrame::text, "{\"type\": \"par", false));
                TinyServer::send (s, frame (aiband::WebSocketFrame::ping, "are you there"));
                TinyServer::send (s, frame (aiband::WebSocketFrame::continuation, "tial\", \"n\": ", false));
                TinyServer::send (s, frame (aiband::WebSocketFrame::continuation, "1}", true));
                juce::MemoryBlock big (70000, true);
                static_cast<char*> (big.getData())[69999] = 42;
                juce::MemoryOutputStream out;
                aiband::writeWebSocketFrame (out, aiband::WebSocketFrame::binary, big.getData(), big.getSize(), true, nullptr);
                TinyServer::send (s, out.getMemoryBlock());
                aiband::WebSocketFrame f;
                while (TinyServer::receive (s, parser, f))
                {
                    if (f.opcode == aiband::WebSocketFrame::pong)
                        pongPayload = f.payload.toString();
                    else if (f.opcode == aiband::WebSocketFrame::text)
                    {
                        clientText = f.payload.toString();
                        break;
                    }
                }
                const char close[] = { (char) 0x88, 0x07, 0x0F, (char) 0xA0, 't', 'o', 'o', ' ', 'f' };
                s.write (close, sizeof (close));
                if (TinyServer::receive (s, parser, f) && f.opcode == aiband::WebSocketFrame::close)
                {
                    const auto* p = static_cast<const juce::uint8*> (f.payload.getData());
                    clientCloseCode = p[0] << 8 | p[1];
                }
            };
            server.startThread();

            aiband::WebSocket ws;
            const auto url = "ws://127.0.0.1:" + juce::String (server.port) + "/ws/daw1?since=3";
            const auto result = ws.connect (url, { "X-Test: yes" }, 3000);
            expect (result.wasOk(), result.getErrorMessage());

            aiband::WebSocket::Message m;
            expect (ws.read (m, 3000) == aiband::WebSocket::ReadStatus::message);
            expectEquals (m.text, juce::String ("{\"type\": \"partial\", \"n\": 1}"));
            expect (ws.read (m, 3000) == aiband::WebSocket::ReadStatus::message);
            expect (m.type == aiband::WebSocket::Message::Type::binary && m.data.getSize() == 70000
                    && static_cast<const char*> (m.data.getData())[69999] == 42);
            expect (ws.sendText ("{\"type\": \"heartbeat\"}"));
            expect (ws.read (m, 3000) == aiband::WebSocket::ReadStatus::closed);
            expectEquals (m.closeCode, 4000);
            expectEquals (m.closeReason, juce::String ("too f"));
            expect (! ws.isOpen());
            server.stopThread (3000);

            expect (server.request.startsWith ("GET /ws/daw1?since=3 HTTP/1.1\r\n"));
            expect (server.request.contains ("\r\nHost: 127.0.0.1:" + juce::String (server.port) + "\r\n"));
            expect (server.request.contains ("\r\nSec-WebSocket-Version: 13\r\n"));
            expect (server.request.contains ("\r\nX-Test: yes\r\n"));
            expect (! server.request.containsIgnoreCase ("\r\nOrigin:"), "a native client sends no Origin");
            expectEquals (pongPayload, juce::String ("are you there"));
            expectEquals (clientText, juce::String ("{\"type\": \"heartbeat\"}"));
            expectEquals (clientCloseCode, 4000);
        }

        beginTest ("a refused upgrade and a wrong accept key fail with the reason");
        {
            TinyServer refusing;
            refusing.status = "401 Unauthorized";
            refusing.startThread();
            aiband::WebSocket ws;
            auto r = ws.connect ("ws://127.0.0.1:" + juce::String (refusing.port) + "/ws/x", {}, 3000);
            expect (r.failed() && r.getErrorMessage().contains ("401") && r.getErrorMessage().contains ("unauthorized"), r.getErrorMessage());

            TinyServer lying;
            lying.badAccept = true;
            lying.startThread();
            r = ws.connect ("ws://127.0.0.1:" + juce::String (lying.port) + "/ws/x", {}, 3000);
            expect (r.failed() && r.getErrorMessage().contains ("Accept"), r.getErrorMessage());

            juce::StreamingSocket closed;  // a port with nobody listening
            r = ws.connect ("ws://127.0.0.1:1/ws/x", {}, 1000);
            expect (r.failed() && r.getErrorMessage().contains ("cannot connect"), r.getErrorMessage());
        }
    }
};

static WebSocketTests webSocketTests;
