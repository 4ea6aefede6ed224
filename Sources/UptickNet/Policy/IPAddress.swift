// `in_addr`, `in6_addr` and the sockaddr structs: clang attributes glibc's definitions to the first module that
// includes their headers, which in a release build is NIO's C shim `CNIOLinux` (a dependency of NIOCore, not a
// product that could be declared). Importing it is what makes their members visible under MemberImportVisibility.
import CNIOLinux
import Glibc
import Foundation
package import NIOCore

/// An IPv4 or IPv6 address as numbers, parsed strictly (only the canonical forms `inet_pton` accepts).
package enum IPAddress: Sendable, Hashable, CustomStringConvertible {
    case v4(UInt32)
    /// High and low 64 bits.
    case v6(UInt64, UInt64)

    /// Parses `192.0.2.1` or `2001:db8::1` (no brackets, no zone); `nil` for anything else, including
    /// the legacy spellings `inet_aton` would accept (`127.1`, `0x7f.1`, `2130706433`).
    package init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self = .v4(UInt32(bigEndian: v4.s_addr))
            return
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        self.init(v6Bytes: withUnsafeBytes(of: &v6) { Array($0) })
    }

    /// Parses a host that is an address in any form the C library's numeric parser takes, as a URL's host
    /// may be: the legacy IPv4 spellings of `inet_aton` (`127.1`, `0x7f.1`, `2130706433`, octal parts) and
    /// IPv6 with a zone (`fe80::1%eth0`, judged without the zone). `nil` for a name.
    package init?(numericHost text: String) {
        // Bytes, not Characters: this runs for every check, and grapheme breaking costs more than the parse.
        let utf8 = text.utf8
        if utf8.contains(UInt8(ascii: ":")) {
            self.init(String(text.prefix { $0 != "%" }))
            return
        }
        let allowed = { (byte: UInt8) in
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"), UInt8(ascii: "A")...UInt8(ascii: "F"),
                 UInt8(ascii: "."), UInt8(ascii: "x"), UInt8(ascii: "X"): true
            default: false
            }
        }
        guard !utf8.isEmpty, utf8.allSatisfy(allowed) else { return nil }
        var v4 = in_addr()
        guard inet_aton(text, &v4) == 1 else { return nil }
        self = .v4(UInt32(bigEndian: v4.s_addr))
    }

    /// The address a socket address points at; `nil` for Unix sockets.
    package init?(_ address: SocketAddress) {
        switch address {
        case .v4(let v4): self = .v4(UInt32(bigEndian: v4.address.sin_addr.s_addr))
        case .v6(let v6):
            var raw = v6.address.sin6_addr
            self.init(v6Bytes: withUnsafeBytes(of: &raw) { Array($0) })
        default: return nil
        }
    }

    /// An IPv6 address from its 16 bytes in network order.
    init(v6Bytes bytes: [UInt8]) {
        let high = bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let low = bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        self = .v6(high, low)
    }

    /// The socket address of this address at `port`.
    package func socketAddress(port: Int) -> SocketAddress {
        switch self {
        case .v4(let value):
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port)).bigEndian
            address.sin_addr.s_addr = value.bigEndian
            return SocketAddress(address, host: "")
        case .v6(let high, let low):
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(UInt16(truncatingIfNeeded: port)).bigEndian
            address.sin6_addr = Self.in6(high, low)
            return SocketAddress(address, host: "")
        }
    }

    /// The IPv4 address an IPv6 address carries and that a packet to it would effectively reach:
    /// IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d` and 6to4
    /// `2002:aabb:ccdd::`. `nil` for IPv4 addresses and other IPv6 addresses.
    package var embeddedIPv4: UInt32? {
        guard case .v6(let high, let low) = self else { return nil }
        let low32 = UInt32(truncatingIfNeeded: low)
        if high == 0, low >> 32 == 0xFFFF { return low32 }                      // ::ffff:0:0/96
        if high == 0, low >> 32 == 0, low32 > 1 { return low32 }                // ::/96 (not :: or ::1)
        if high == 0x0064_FF9B_0000_0000, low >> 32 == 0 { return low32 }       // 64:ff9b::/96
        if high >> 48 == 0x2002 { return UInt32(truncatingIfNeeded: high >> 16) } // 2002::/16
        return nil
    }

    package var description: String {
        switch self {
        case .v4(let value):
            return [24, 16, 8, 0].map { String(value >> UInt32($0) & 0xFF) }.joined(separator: ".")
        case .v6(let high, let low):
            var raw = Self.in6(high, low)
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            inet_ntop(AF_INET6, &raw, &buffer, socklen_t(buffer.count))
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    private static func in6(_ high: UInt64, _ low: UInt64) -> in6_addr {
        var raw = in6_addr()
        withUnsafeMutableBytes(of: &raw) { bytes in
            for index in 0..<8 {
                bytes[index] = UInt8(truncatingIfNeeded: high >> UInt64(56 - 8 * index))
                bytes[index + 8] = UInt8(truncatingIfNeeded: low >> UInt64(56 - 8 * index))
            }
        }
        return raw
    }
}
