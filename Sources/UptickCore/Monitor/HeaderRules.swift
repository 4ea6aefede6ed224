/// Which request headers a monitor or a webhook may set, and which survive a redirect.
public enum HeaderRules {
    /// Framing and hop-by-hop headers (RFC 9110 §7.6.1, RFC 9112 §6): uptick frames every request itself.
    /// A user-set `Content-Length` or `Transfer-Encoding` could make the server read a second request.
    public static let reserved: Set<String> = [
        "content-length", "transfer-encoding", "connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade",
    ]

    /// Sent to the first origin only: a redirect elsewhere must not carry credentials or a chosen virtual host.
    public static let originBound: Set<String> = ["authorization", "cookie", "proxy-authorization", "host"]

    /// Methods whose request framing HTTP/1.1 encoders drop (TRACE, RFC 9110 §9.3.8): a body would be sent
    /// unframed, as the start of another request.
    public static let bodiless: Set<String> = ["TRACE"]

    /// Why `name` may not be set by a user, or `nil` if it may. `Host` is judged by the runner (an operator option).
    public static func refusal(_ name: String) -> String? {
        reserved.contains(name.lowercased()) ? "header '\(name)' is set by uptick itself (framing and hop-by-hop headers cannot be set)" : nil
    }

    /// Whether `name` is a field name: an RFC 9110 §5.6.2 token (letters, digits and ``!#$%&'*+-.^_`|~``). Anything
    /// else (a separator, a control byte, a non-ASCII letter) is refused by servers or read differently by proxies.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
            default: tokenSymbols.contains(byte)
            }
        }
    }

    /// Whether `value` is a field value (RFC 9110 §5.5): no control byte but a tab, so neither CR, LF nor NUL, which
    /// could end the header or be read as its end.
    public static func isValidValue(_ value: String) -> Bool {
        value.utf8.allSatisfy { $0 >= 0x20 && $0 != 0x7F || $0 == 0x09 }
    }

    private static let tokenSymbols = Set("!#$%&'*+-.^_`|~".utf8)

    /// Whether a header name is `Host`, in any case.
    public static func isHost(_ name: String) -> Bool { name.lowercased() == "host" }
}
