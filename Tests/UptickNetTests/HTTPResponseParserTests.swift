import Testing
import UptickCore
@testable import UptickNet

@Suite("Reading HTTP responses")
struct HTTPResponseParserTests {
    /// Feeds `text` whole, and again one byte at a time; both must agree.
    func parse(_ text: String, limit: Int = 10_240, head: Bool = false, closed: Bool = false) throws -> HTTPResponseParser {
        var whole = HTTPResponseParser(bodyLimit: limit, headRequest: head)
        try whole.feed(Array(text.utf8))
        var bytewise = HTTPResponseParser(bodyLimit: limit, headRequest: head)
        for byte in text.utf8 where !bytewise.isFinished { try bytewise.feed([byte]) }
        if closed {
            _ = whole.closed()
            _ = bytewise.closed()
        }
        #expect(whole.status == bytewise.status && whole.body == bytewise.body && whole.isFinished == bytewise.isFinished)
        return whole
    }

    @Test("Content-Length frames the body; the Location header is kept whatever its case")
    func sized() throws {
        let response = try parse("HTTP/1.1 302 Found\r\nlocation: /next \r\nContent-Length: 5\r\n\r\nhello")
        #expect(response.status == 302 && response.location == "/next" && response.body == Array("hello".utf8) && response.isFinished)
        let waiting = try parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello")
        #expect(!waiting.isFinished && waiting.status == 200)
    }

    @Test("chunked bodies are decoded, with extensions and trailers, and chunked wins over Content-Length")
    func chunked() throws {
        let response = try parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: 1\r\n\r\n")
        #expect(String(decoding: response.body, as: UTF8.self) == "hello world" && response.isFinished)
        #expect(throws: HTTPResponseParser.Failure.malformed("bad chunk size")) { try parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n") }
    }

    @Test("no body after HEAD, 204 and 304; a body without framing ends at the close")
    func bodiless() throws {
        #expect(try parse("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", head: true).isFinished)
        #expect(try parse("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n").isFinished)
        #expect(try parse("HTTP/1.1 304 Not Modified\r\n\r\n").isFinished)
        let open = try parse("HTTP/1.0 200 OK\r\n\r\nuntil the end")
        #expect(!open.isFinished)
        #expect(try parse("HTTP/1.0 200 OK\r\n\r\nuntil the end", closed: true).body == Array("until the end".utf8))
    }

    @Test("informational heads are skipped; LF-only lines are accepted")
    func informational() throws {
        let response = try parse("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\nContent-Length: 2\n\nok")
        #expect(response.status == 200 && response.body == Array("ok".utf8))
    }

    @Test("the body is cut at the limit, and reading stops there")
    func limit() throws {
        let response = try parse("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + String(repeating: "a", count: 100), limit: 10)
        #expect(response.body.count == 10 && response.isFinished)
    }

    @Test("malformed and oversized heads are refused", arguments: [
        ("garbage\r\n\r\n", HTTPResponseParser.Failure.malformed("the status line is not 'HTTP/1.x NNN'")),
        ("HTTP/1.1 2000 OK\r\n\r\n", .malformed("the status line is not 'HTTP/1.x NNN'")),
        ("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", .malformed("a header line without a name and a colon")),
        ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", .malformed("conflicting Content-Length headers")),
        ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", .malformed("bad Content-Length")),
        ("HTTP/1.1 200 OK\r\n" + String(repeating: "X-A: b\r\n", count: Limits.maxResponseHeaderFields + 1), .headTooLarge),
        ("HTTP/1.1 200 OK\r\nX-Big: " + String(repeating: "b", count: Limits.maxResponseHeaderBytes), .headTooLarge),
    ])
    func refused(text: String, failure: HTTPResponseParser.Failure) {
        #expect(throws: failure) { try parse(text) }
    }
}
