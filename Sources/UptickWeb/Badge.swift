import UptickCore

/// A flat status or uptime badge in SVG, shields.io style, for a README. Text is escaped like the page's; widths come
/// from an approximate glyph width (Verdana 11 px), enough for the badge to fit its text.
package enum Badge {
    package enum Kind: String, Sendable {
        case status, uptime
    }

    package static func render(label: String, value: String, color: String) -> String {
        let labelWidth = width(label), valueWidth = width(value), total = labelWidth + valueWidth
        let label = Markup.escape(label), value = Markup.escape(value)
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(total)" height="20" role="img" aria-label="\(label): \(value)">\
            <title>\(label): \(value)</title><linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>\
            <stop offset="1" stop-opacity=".1"/></linearGradient><clipPath id="r"><rect width="\(total)" height="20" rx="3" fill="#fff"/></clipPath>\
            <g clip-path="url(#r)"><rect width="\(labelWidth)" height="20" fill="#555"/><rect x="\(labelWidth)" width="\(valueWidth)" height="20" \
            fill="\(color)"/><rect width="\(total)" height="20" fill="url(#s)"/></g><g fill="#fff" text-anchor="middle" \
            font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11"><text x="\(labelWidth / 2)" y="14">\(label)</text>\
            <text x="\(labelWidth + valueWidth / 2)" y="14">\(value)</text></g></svg>
            """
    }

    /// The badge of a monitor: its status, or its uptime over the view's 30 days.
    package static func render(_ view: MonitorView, kind: Kind, label: String?) -> String {
        switch kind {
        case .status:
            let status = view.monitor.state.status
            let color = switch status {
            case .up: "#1a7f37"
            case .degraded: "#bf8700"
            case .down: "#cf222e"
            case .pending: "#8c959f"
            }
            return render(label: label ?? "status", value: StatusPage.statusWord(status).lowercased(), color: color)
        case .uptime:
            guard let uptime = view.uptime30d else { return render(label: label ?? "uptime 30d", value: "no data", color: "#8c959f") }
            let color = uptime >= 0.999 ? "#1a7f37" : uptime >= 0.99 ? "#bf8700" : "#cf222e"
            return render(label: label ?? "uptime 30d", value: Markup.percent(uptime), color: color)
        }
    }

    /// Text width in pixels plus padding.
    static func width(_ text: String) -> Int {
        let glyphs = text.unicodeScalars.reduce(0.0) { sum, scalar in
            sum + (scalar.properties.isUppercase || scalar == "%" || scalar == "m" || scalar == "w" ? 8.5 : 6.6)
        }
        return Int(glyphs.rounded(.up)) + 10
    }
}
