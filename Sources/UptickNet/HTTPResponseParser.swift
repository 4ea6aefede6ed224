import UptickCore

/// Reads one HTTP/1.x response from the bytes a check receives, keeping only what a check uses: the
/// status, the `Location` header and at most `bodyLimit` bytes of body.
///
/// Why not NIO's decoder: it builds every header as strings and its parser callbacks were the largest
/// single cost of an HTTP check (13 % of the process in `perf`, BENCHMARKS.md). This one looks at each
/// header name once, keeps three values, and stops as soon as the body limit is reached. Framing follows
/// RFC 9112: informational (1xx) heads are skipped; no body after HEAD, 204 or 304; chunked wins over
/// Content-Length; conflicting Content-Lengths are an error; otherwise the body ends at the close.
/// Bounds: the head may not exceed ``Limits/maxResponseHeaderBytes`` or ``Limits/maxResponseHeaderFields``.
package struct HTTPResponseParser {
    package enum Failure: Error, Equatable {
        /// Not an HTTP/1.x response; the text says where it went wrong.
        case malformed(String)
        /// The head is larger than the limits.
        case headTooLarge
    }

    package private(set) var status: Int?
    package private(set) var location: String?
    package private(set) var body: [UInt8] = []
    /// Set once the response is complete, or once `bodyLimit` bytes of body were read.
    package private(set) var isFinished = false

    private let bodyLimit: Int
    private let headRequest: Bool
    private var state = State.head
    /// Head bytes not yet parsed into lines.
    private var head: [UInt8] = []
    private var headBytes = 0
    private var fields = 0
    private var contentLength: Int?
    private var chunked = false

    private enum State {
        case head
        /// `remaining` bytes of a Content-Length body.
        case sized(remaining: Int)
        /// Until the connection closes.
        case untilClose
        /// Chunked: the size line, a chunk's data, the CRLF after it, the trailers.
        case chunkSize
        case chunkData(remaining: Int)
        case chunkEnd
        case trailers
        case done
    }

    package init(bodyLimit: Int, headRequest: Bool) {
        self.bodyLimit = bodyLimit
        self.headRequest = headRequest
    }

    /// Consumes received bytes.
    package mutating func feed(_ bytes: some Collection<UInt8>) throws(Failure) {
        var input = ArraySlice(bytes)
        while !input.isEmpty && !isFinished {
            switch state {
            case .head, .chunkSize, .chunkEnd, .trailers:
                guard let newline = input.firstIndex(of: UInt8(ascii: "\n")) else {
                    try buffer(input)
                    return
                }
                try buffer(input[..<newline])
                input = input[(newline + 1)...]
                var line = head
                head.removeAll(keepingCapacity: true)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                try handleLine(line)
            case .sized(let remaining):
                let take = input.prefix(remaining)
                keep(take)
                input = input.dropFirst(take.count)
                state = remaining == take.count ? .done : .sized(remaining: remaining - take.count)
                if case .done = state { isFinished = true }
            case .untilClose:
                keep(input)
                input = []
            case .chunkData(let remaining):
                let take = input.prefix(remaining)
                keep(take)
                input = input.dropFirst(take.count)
                state = remaining == take.count ? .chunkEnd : .chunkData(remaining: remaining - take.count)
            case .done:
                isFinished = true
            }
        }
    }

    /// The connection closed: complete if the body was delimited by the close, or already finished.
    package mutating func closed() -> Bool {
        if case .untilClose = state { isFinished = true }
        return isFinished
    }

    private mutating func buffer(_ bytes: ArraySlice<UInt8>) throws(Failure) {
        head += bytes
        if case .head = state {
            headBytes += bytes.count
            if headBytes > Limits.maxResponseHeaderBytes { throw .headTooLarge }
        } else if head.count > 4096 {
            throw .malformed("chunk size or trailer line longer than 4 KB")
        }
    }

    private mutating func keep(_ bytes: ArraySlice<UInt8>) {
        let room = bodyLimit - body.count
        body += bytes.prefix(room)
        if body.count >= bodyLimit { isFinished = true }
    }

    private mutating func handleLine(_ line: [UInt8]) throws(Failure) {
        switch state {
        case .head:
            if status == nil {
                try statusLine(line)
            } else if line.isEmpty {
                try endOfHead()
            } else {
                try headerLine(line)
            }
        case .chunkSize:
            let digits = line.prefix { $0 != UInt8(ascii: ";") && $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }
            guard !digits.isEmpty, digits.count <= 15, let size = Int(String(decoding: digits, as: UTF8.self), radix: 16) else {
                throw .malformed("bad chunk size")
            }
            state = size == 0 ? .trailers : .chunkData(remaining: size)
        case .chunkEnd:
            guard line.isEmpty else { throw .malformed("chunk not followed by CRLF") }
            state = .chunkSize
        case .trailers:
            if line.isEmpty {
                state = .done
                isFinished = true
            }
        default:
            break
        }
    }

    private mutating func statusLine(_ line: [UInt8]) throws(Failure) {
        // HTTP/1.x SP 3DIGIT [SP reason]
        guard line.count >= 12, line.starts(with: Array("HTTP/1.".utf8)), line[8] == UInt8(ascii: " "),
              line[9...11].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
              line.count == 12 || line[12] == UInt8(ascii: " ") else {
            throw .malformed("the status line is not 'HTTP/1.x NNN'")
        }
        status = line[9...11].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    }

    private mutating func headerLine(_ line: [UInt8]) throws(Failure) {
        fields += 1
        if fields > Limits.maxResponseHeaderFields { throw .headTooLarge }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0,
              !line[..<colon].contains(where: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) else {
            throw .malformed("a header line without a name and a colon")
        }
        let name = line[..<colon]
        let value = line[(colon + 1)...].drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        if Self.equalsIgnoringCase(name, "content-length") {
            let text = String(decoding: value.reversed().drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }.reversed(), as: UTF8.self)
            guard let length = Int(text), length >= 0 else { throw .malformed("bad Content-Length") }
            if let earlier = contentLength, earlier != length { throw .malformed("conflicting Content-Length headers") }
            contentLength = length
        } else if Self.equalsIgnoringCase(name, "transfer-encoding") {
            chunked = String(decoding: value, as: UTF8.self).lowercased().contains("chunked")
        } else if location == nil, Self.equalsIgnoringCase(name, "location") {
            location = String(decoding: value, as: UTF8.self).trimmingTrailingWhitespace()
        }
    }

    private mutating func endOfHead() throws(Failure) {
        guard let code = status else { throw .malformed("no status line") }
        if (100..<200).contains(code) && code != 101 {
            // An informational response: the real one follows.
            status = nil
            location = nil
            contentLength = nil
            chunked = false
            fields = 0
            return
        }
        if headRequest || code == 204 || code == 304 || code == 101 {
            state = .done
            isFinished = true
        } else if chunked {
            state = .chunkSize
        } else if let length = contentLength {
            state = length == 0 ? .done : .sized(remaining: length)
            if length == 0 { isFinished = true }
        } else {
            state = .untilClose
        }
    }

    static func equalsIgnoringCase(_ bytes: ArraySlice<UInt8>, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        return lowercase.withUTF8Buffer { expected in
            zip(bytes, expected).allSatisfy { byte, wanted in (byte | 0x20) == wanted || byte == wanted }
        }
    }
}

extension String {
    fileprivate func trimmingTrailingWhitespace() -> String {
        var text = Substring(self)
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return String(text)
    }
}
