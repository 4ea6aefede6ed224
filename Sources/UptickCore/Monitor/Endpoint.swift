/// A host and a TCP port, parsed from `host:port` or `[ipv6]:port`.
public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
    /// A DNS name (lower-cased) or an IP address literal, without brackets.
    public var host: String
    /// The port.
    public var port: Int

    /// `host` (a name or an address literal) and `port`.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`, `1.2.3.4:port` or `[::1]:port`.
    public init(parsing text: String) throws(CheckFailure) {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw CheckFailure(.invalidTarget, "'\(text)' is not [ipv6]:port")
            }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw CheckFailure(.invalidTarget, "'\(text)' has no port (expected host:port)")
            }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            if hostPart.contains(":") {
                throw CheckFailure(.invalidTarget, "'\(text)': write IPv6 addresses in brackets, [::1]:port")
            }
        }
        guard let port = Int(portPart), (1...65535).contains(port) else {
            throw CheckFailure(.invalidTarget, "'\(text)' has no valid port (1-65535)")
        }
        self.init(host: try Self.validHost(String(hostPart)), port: port)
    }

    /// `host` lower-cased, or an error when it cannot be a host name or address.
    public static func validHost(_ host: String) throws(CheckFailure) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789.-_:%")
        let lowered = host.lowercased()
        guard !lowered.isEmpty, lowered.count <= 253, lowered.allSatisfy({ allowed.contains($0) }) else {
            throw CheckFailure(.invalidTarget, "'\(host)' is not a host name or IP address")
        }
        return lowered
    }

    /// `host:port`, with IPv6 addresses in brackets.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
