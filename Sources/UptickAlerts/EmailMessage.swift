import Foundation
import UptickCore

/// An alert as an RFC 5322 message: plain text and HTML alternatives, UTF-8, base64 bodies (so no
/// line is too long and none starts with a dot), an encoded subject, and the event id as Message-ID.
struct EmailMessage {
    let payload: AlertPayload
    let from: String
    let to: [String]
    let date: Date

    var subject: String {
        let text = AlertText(payload: payload)
        return "[uptick] \(text.headline)"
    }

    var html: String {
        let text = AlertText(payload: payload)
        let rows = text.facts.map { "<tr><th align=\"left\">\(Self.escape($0.0))</th><td>\(Self.escape($0.1))</td></tr>" }.joined()
        return """
            <!DOCTYPE html><html><body style="font-family:sans-serif">\
            <h2 style="color:#\(String(format: "%06X", text.color))">\(text.emoji) \(Self.escape(text.headline))</h2>\
            <table cellpadding="4">\(rows)</table><p style="color:#666">\(Self.escape(AlertText.iso(payload.timestamp))) · uptick</p>\
            </body></html>
            """
    }

    var rendered: String {
        let boundary = "uptick-\(payload.id)"
        var lines = [
            "From: \(from)",
            "To: \(to.joined(separator: ", "))",
            "Subject: \(Self.encodedWord(subject))",
            "Date: \(Self.rfc5322(date))",
            "Message-ID: <\(payload.id)@uptick>",
            "MIME-Version: 1.0",
            "Content-Type: multipart/alternative; boundary=\"\(boundary)\"",
            "",
        ]
        for (type, body) in [("text/plain", AlertText(payload: payload).plain), ("text/html", html)] {
            lines += ["--\(boundary)", "Content-Type: \(type); charset=utf-8", "Content-Transfer-Encoding: base64", ""]
            lines += Self.base64Lines(body)
        }
        lines.append("--\(boundary)--")
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    static func base64Lines(_ text: String) -> [String] {
        let encoded = Data(text.utf8).base64EncodedString()
        return stride(from: 0, to: encoded.count, by: 76).map { offset in
            let start = encoded.index(encoded.startIndex, offsetBy: offset)
            return String(encoded[start..<(encoded.index(start, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex)])
        }
    }

    /// RFC 2047 for anything that is not plain ASCII.
    static func encodedWord(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { !$0.isASCII || $0.value < 0x20 }) else { return text }
        return "=?UTF-8?B?\(Data(text.utf8).base64EncodedString())?="
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func rfc5322(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }
}
