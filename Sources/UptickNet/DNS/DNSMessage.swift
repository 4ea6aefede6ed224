/// The parts of the DNS wire format (RFC 1035 §4, EDNS(0) RFC 6891, negative caching RFC 2308) that a stub
/// resolver needs: a query for one name and type, and the answer, authority and header of a response.
///
/// Parsing is total: any malformed, truncated or looping message is `nil`, never a crash, and every count
/// and pointer is bounded by the message's own size.
package struct DNSMessage: Sendable {
    /// The record types a stub resolver asks for or follows.
    enum RecordType: UInt16, Sendable, Hashable {
        case a = 1
        case cname = 5
        case soa = 6
        case aaaa = 28
        case opt = 41
    }

    /// Response codes (RFC 1035 §4.1.1).
    enum ResponseCode: UInt8, Sendable, Hashable {
        case noError = 0, formatError = 1, serverFailure = 2, nameError = 3, notImplemented = 4, refused = 5
    }

    /// One resource record, with the data uptick uses decoded.
    struct Record: Sendable, Hashable {
        enum Data: Sendable, Hashable {
            case a([UInt8])
            case aaaa([UInt8])
            case cname(String)
            /// The SOA's own TTL is the record's; `minimum` bounds the negative TTL (RFC 2308 §5).
            case soa(minimum: UInt32)
            case other
        }

        var name: String
        var type: UInt16
        var ttl: UInt32
        var data: Data
    }

    var id: UInt16
    var isResponse: Bool
    var opcode: UInt8
    var truncated: Bool
    var responseCode: UInt8
    /// The question as sent back: name (lower case, no final dot) and type.
    struct Question: Sendable, Hashable {
        var name: String
        var type: UInt16
    }

    var question: Question?
    var answers: [Record]
    var authority: [Record]

    /// The UDP payload size uptick advertises (EDNS(0)); the value DNS Flag Day 2020 recommends.
    static let udpPayloadSize: UInt16 = 1232

    /// A recursive query for `name` (no final dot; it is sent fully qualified) of `type`, with an EDNS(0)
    /// OPT record. `nil` when the name cannot be encoded (an empty label, a label over 63 bytes, over 255 in all).
    static func query(id: UInt16, name: String, type: RecordType) -> [UInt8]? {
        guard let encodedName = encode(name: name) else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(12 + encodedName.count + 4 + 11)
        append16(id, to: &bytes)
        append16(0x0100, to: &bytes)  // RD
        append16(1, to: &bytes)       // QDCOUNT
        append16(0, to: &bytes)
        append16(0, to: &bytes)
        append16(1, to: &bytes)       // ARCOUNT: the OPT record
        bytes += encodedName
        append16(type.rawValue, to: &bytes)
        append16(1, to: &bytes)       // IN
        bytes.append(0)               // OPT: root name
        append16(RecordType.opt.rawValue, to: &bytes)
        append16(udpPayloadSize, to: &bytes)
        bytes += [0, 0, 0, 0, 0, 0]   // extended RCODE, version, flags; RDLENGTH 0
        return bytes
    }

    private static func append16(_ value: UInt16, to bytes: inout [UInt8]) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(value & 0xFF))
    }

    /// The wire form of `name`: labels, then the root. Lower-cased; a final dot is allowed.
    static func encode(name: String) -> [UInt8]? {
        let text = canonical(name)
        guard !text.isEmpty else { return nil }
        var bytes: [UInt8] = []
        for label in text.split(separator: ".", omittingEmptySubsequences: false) {
            let utf8 = Array(label.utf8)
            guard (1...63).contains(utf8.count) else { return nil }
            bytes.append(UInt8(utf8.count))
            bytes += utf8
        }
        bytes.append(0)
        return bytes.count <= 255 ? bytes : nil
    }

    /// A name as compared and cached: lower case, without a final dot.
    static func canonical(_ name: String) -> String {
        var text = name.lowercased()
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}

extension DNSMessage {
    /// Parses a whole message; `nil` if it is malformed anywhere uptick reads.
    package init?(parsing bytes: [UInt8]) {
        var reader = Reader(bytes: bytes)
        guard let id = reader.read16(), let flags = reader.read16(), let questions = reader.read16(),
              let answerCount = reader.read16(), let authorityCount = reader.read16(), reader.read16() != nil else { return nil }
        self.id = id
        isResponse = flags & 0x8000 != 0
        opcode = UInt8(flags >> 11 & 0x0F)
        truncated = flags & 0x0200 != 0
        responseCode = UInt8(flags & 0x000F)
        question = nil
        guard questions <= 1 else { return nil }
        if questions == 1 {
            guard let name = reader.readName(), let type = reader.read16(), reader.read16() != nil else { return nil }
            question = Question(name: name, type: type)
        }
        // Each record takes at least 11 bytes: counts beyond what the message can hold are lies.
        guard (Int(answerCount) + Int(authorityCount)) * 11 <= bytes.count else { return nil }
        var answers: [Record] = []
        for _ in 0..<answerCount {
            guard let record = reader.readRecord() else { return nil }
            answers.append(record)
        }
        var authority: [Record] = []
        for _ in 0..<authorityCount {
            guard let record = reader.readRecord() else {
                // A truncated message may end inside its authority section; its answers still count.
                if truncated { break }
                return nil
            }
            authority.append(record)
        }
        self.answers = answers
        self.authority = authority
    }


    /// Reads a message front to back; every read checks its bounds.
    private struct Reader {
        let bytes: [UInt8]
        var index = 0

        mutating func read8() -> UInt8? {
            guard index < bytes.count else { return nil }
            defer { index += 1 }
            return bytes[index]
        }

        mutating func read16() -> UInt16? {
            guard index + 2 <= bytes.count else { return nil }
            defer { index += 2 }
            return UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1])
        }

        mutating func read32() -> UInt32? {
            guard let high = read16(), let low = read16() else { return nil }
            return UInt32(high) << 16 | UInt32(low)
        }

        /// A possibly compressed name at the cursor (RFC 1035 §4.1.4), lower-cased, without the final dot
        /// ("" for the root). Pointers must point backwards, so a loop cannot be built; 255 bytes at most.
        mutating func readName() -> String? {
            guard let (name, end) = Self.name(in: bytes, at: index) else { return nil }
            index = end
            return name
        }

        static func name(in bytes: [UInt8], at start: Int) -> (String, Int)? {
            var labels: [String] = []
            var position = start
            var end: Int?
            var length = 0
            var lowestJump = start
            while true {
                guard position < bytes.count else { return nil }
                let count = Int(bytes[position])
                switch count & 0xC0 {
                case 0x00:
                    if count == 0 {
                        return (labels.joined(separator: "."), end ?? position + 1)
                    }
                    guard position + 1 + count <= bytes.count else { return nil }
                    length += count + 1
                    guard length <= 255 else { return nil }
                    labels.append(String(decoding: bytes[(position + 1)...(position + count)], as: UTF8.self).lowercased())
                    position += 1 + count
                case 0xC0:
                    guard position + 1 < bytes.count else { return nil }
                    let target = (count & 0x3F) << 8 | Int(bytes[position + 1])
                    guard target < lowestJump else { return nil }  // strictly backwards: no loops
                    if end == nil { end = position + 2 }
                    lowestJump = target
                    position = target
                default:
                    return nil  // 0x40 and 0x80: extended label types, not in use
                }
            }
        }

        mutating func readRecord() -> Record? {
            guard let name = readName(), let type = read16(), read16() != nil, let ttl = read32(), let length = read16() else { return nil }
            let dataStart = index
            let dataEnd = dataStart + Int(length)
            guard dataEnd <= bytes.count else { return nil }
            defer { index = dataEnd }
            let data: Record.Data
            switch RecordType(rawValue: type) {
            case .a?:
                guard length == 4 else { return nil }
                data = .a(Array(bytes[dataStart..<dataEnd]))
            case .aaaa?:
                guard length == 16 else { return nil }
                data = .aaaa(Array(bytes[dataStart..<dataEnd]))
            case .cname?:
                guard let (target, targetEnd) = Self.name(in: bytes, at: dataStart), targetEnd <= dataEnd else { return nil }
                data = .cname(target)
            case .soa?:
                var inner = Reader(bytes: bytes, index: dataStart)
                guard inner.readName() != nil, inner.readName() != nil, inner.index + 20 <= dataEnd else { return nil }
                inner.index += 16  // serial, refresh, retry, expire
                guard let minimum = inner.read32() else { return nil }
                data = .soa(minimum: minimum)
            default:
                data = .other
            }
            // RFC 2181 §8: a TTL with the top bit set is treated as zero.
            return Record(name: name, type: type, ttl: ttl & 0x8000_0000 != 0 ? 0 : ttl, data: data)
        }
    }
}
