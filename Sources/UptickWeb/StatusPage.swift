package import UptickCore
package import UptickStore

/// The status page: server-rendered HTML, no JavaScript, no external resource, no build step. Every user-controlled
/// string goes through ``Markup/escape(_:)``; nothing but names, statuses, uptimes, latencies and incident causes (as
/// words, never messages) is shown, so no target, address or channel setting can leak through it.
package enum StatusPage {
    /// Monitors per page: 90 bars each make about 5.5 KB of HTML a monitor, so a page stays near 300 KB.
    package static let pageSize = 50

    /// The Content-Security-Policy sent with the page: no script may run at all, whatever a name holds.
    package static let contentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    package static func render(title: String, board: Board, views: [MonitorView], page: Int, now: EpochMilliseconds) -> String {
        let pages = max(1, (board.total + pageSize - 1) / pageSize)
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(Markup.escape(title))</title><link rel="icon" href="data:,"><style>\(style)</style></head>
            <body><header><h1>\(Markup.escape(title))</h1>\(banner(board))</header><main>

            """
        let open = board.incidents.filter { $0.resolvedAt == nil }
        let recent = board.incidents.filter { $0.resolvedAt != nil }
        if !open.isEmpty {
            html += "<section class=\"incidents open\" aria-label=\"Open incidents\"><h2>Open incidents</h2><ul>"
            html += open.map { incidentRow($0, now: now) }.joined()
            html += "</ul></section>\n"
        }
        html += "<section aria-label=\"Monitors\"><ul class=\"monitors\">"
        // Every monitor shows the same 90 days: their names are formatted once a page, not once a bar.
        var dayNames: [EpochMilliseconds: String] = [:]
        for day in views.first?.days ?? [] { dayNames[day.start] = Markup.day(day.start) }
        for view in views { html += monitorRow(view, dayNames: dayNames) }
        if views.isEmpty { html += "<li class=\"empty\">No public monitors yet. Mark one with <code>public: true</code>.</li>" }
        html += "</ul></section>\n"
        if pages > 1 {
            html += "<nav class=\"pages\" aria-label=\"Pages\">"
            if page > 1 { html += "<a rel=\"prev\" href=\"?page=\(page - 1)\">← Previous</a>" }
            html += "<span>Page \(page) of \(pages)</span>"
            if page < pages { html += "<a rel=\"next\" href=\"?page=\(page + 1)\">Next →</a>" }
            html += "</nav>\n"
        }
        html += "<section class=\"incidents recent\" aria-label=\"Recent incidents\"><h2>Recent incidents</h2>"
        html += recent.isEmpty ? "<p class=\"none\">No incidents in the last 14 days.</p>" : "<ul>" + recent.map { incidentRow($0, now: now) }.joined() + "</ul>"
        html += "</section>\n</main><footer>Updated \(Markup.time(now)) · times in UTC · uptime counts every check that was not down</footer></body></html>\n"
        return html
    }

    static func banner(_ board: Board) -> String {
        let down = board.byStatus[.down] ?? 0, degraded = board.byStatus[.degraded] ?? 0
        let monitors = board.total == 1 ? "monitor" : "monitors"
        if down > 0 { return "<p class=\"banner down\" role=\"status\">\(down) of \(board.total) \(monitors) down</p>" }
        if degraded > 0 { return "<p class=\"banner degraded\" role=\"status\">\(degraded) of \(board.total) \(monitors) degraded</p>" }
        return "<p class=\"banner up\" role=\"status\">All systems operational</p>"
    }

    static func statusWord(_ status: MonitorStatus) -> String {
        switch status {
        case .up: "Up"
        case .degraded: "Degraded"
        case .down: "Down"
        case .pending: "Pending"
        }
    }

    static func monitorRow(_ view: MonitorView, dayNames: [EpochMilliseconds: String]) -> String {
        let monitor = view.monitor
        let name = Markup.escape(monitor.name.isEmpty ? "Monitor \(monitor.id)" : monitor.name)
        var row = "<li class=\"monitor\" id=\"m\(monitor.id)\" data-status=\"\(monitor.state.status.rawValue)\">"
        row += "<div class=\"head\"><h3 class=\"name\">\(name)</h3>"
        row += "<span class=\"status \(monitor.state.status.rawValue)\">\(statusWord(monitor.state.status))</span></div>"
        let summary = view.uptime90d.map { ": \(Markup.percent($0))" } ?? ": no data"
        row += "<ol class=\"bars\" aria-label=\"Daily uptime, last \(MonitorView.dayCount) days\(summary)\">"
        for day in view.days {
            // The day's share is in the bar's title (a tooltip, and what assistive technology reads for it).
            let name = dayNames[day.start] ?? Markup.day(day.start)
            if let uptime = day.uptime {
                let kind = uptime >= 1 ? "ok" : uptime >= 0.99 ? "minor" : "major"
                row += "<li class=\"\(kind)\" title=\"\(name): \(Markup.percent(uptime)) of \(day.checks) checks\"></li>"
            } else {
                row += "<li class=\"none\" title=\"\(name): no data\"></li>"
            }
        }
        row += "</ol><p class=\"uptime\">"
        row += [("24 h", view.uptime24h), ("30 days", view.uptime30d), ("90 days", view.uptime90d)].map { label, value in
            "<span>\(label) <b>\(value.map(Markup.percent) ?? "–")</b></span>"
        }.joined(separator: " ")
        row += "</p>" + sparkline(view.hourlyMedian) + "</li>"
        return row
    }

    /// The last 24 hours' median latency as an inline SVG polyline; hours without checks break the line.
    static func sparkline(_ medians: [Int64?]) -> String {
        let known = medians.compactMap { $0 }
        guard let top = known.max(), top > 0 else { return "<p class=\"latency none\">No latency data in the last 24 hours.</p>" }
        let width = 240.0, height = 36.0, step = width / Double(max(medians.count - 1, 1))
        var segments: [[String]] = [[]]
        for (index, median) in medians.enumerated() {
            guard let median else {
                if !(segments.last?.isEmpty ?? true) { segments.append([]) }
                continue
            }
            let x = Double(index) * step, y = height - 2 - (height - 4) * Double(median) / Double(top)
            segments[segments.count - 1].append("\(Int(x.rounded())),\(Int(y.rounded()))")
        }
        let lines = segments.filter { !$0.isEmpty }.map { points in
            points.count == 1
                ? "<circle cx=\"\(points[0].split(separator: ",")[0])\" cy=\"\(points[0].split(separator: ",")[1])\" r=\"1.5\"/>"
                : "<polyline points=\"\(points.joined(separator: " "))\"/>"
        }.joined()
        let latest = medians.last(where: { $0 != nil }).flatMap { $0 } ?? known.last ?? 0
        return """
            <figure class="latency"><svg viewBox="0 0 240 36" width="240" height="36" role="img" \
            aria-label="Median latency per hour, last 24 hours; highest \(milliseconds(top)), latest \(milliseconds(latest))">\(lines)</svg>\
            <figcaption>Latency, 24 h · median now \(milliseconds(latest)) · peak \(milliseconds(top))</figcaption></figure>
            """
    }

    static func milliseconds(_ microseconds: Int64) -> String {
        microseconds >= 10_000 ? "\(microseconds / 1000) ms" : "\(Double(microseconds / 100) / 10) ms"
    }

    static func incidentRow(_ incident: IncidentRecord, now: EpochMilliseconds) -> String {
        let name = Markup.escape(incident.monitorName ?? "Monitor \(incident.monitorID)")
        let when: String
        if let resolved = incident.resolvedAt {
            when = "\(Markup.time(incident.openedAt)) – \(Markup.time(resolved)) (\(Markup.span(resolved - incident.openedAt)))"
        } else {
            when = "since \(Markup.time(incident.openedAt)) (\(Markup.span(now - incident.openedAt)))"
        }
        return "<li class=\"incident\" data-monitor=\"\(incident.monitorID)\"><b class=\"name\">\(name)</b> "
            + "<span class=\"cause\">\(Markup.cause(incident.causeClass))</span> <span class=\"when\">\(when)</span></li>"
    }

    static let style = """
        :root{color-scheme:light dark;--up:#1a7f37;--minor:#bf8700;--major:#cf222e;--none:#8c959f55;font-family:system-ui,sans-serif}\
        body{max-width:60rem;margin:0 auto;padding:1rem;line-height:1.4}h1{margin:.2rem 0}h2{font-size:1.1rem}\
        .banner{padding:.6rem 1rem;border-radius:.4rem;color:#fff;font-weight:600}.banner.up{background:var(--up)}\
        .banner.degraded{background:var(--minor)}.banner.down{background:var(--major)}\
        ul.monitors,.incidents ul{list-style:none;padding:0}.monitor{border:1px solid #8c959f55;border-radius:.4rem;padding:.6rem;margin:.6rem 0}\
        .head{display:flex;justify-content:space-between;align-items:baseline}.name{margin:0;font-size:1rem;overflow-wrap:anywhere}\
        .status{font-weight:600}.status.up{color:var(--up)}.status.degraded{color:var(--minor)}.status.down{color:var(--major)}\
        .bars{display:flex;gap:1px;list-style:none;padding:0;margin:.5rem 0;height:1.8rem}.bars li{flex:1;border-radius:1px}\
        .bars .ok{background:var(--up)}.bars .minor{background:var(--minor)}.bars .major{background:var(--major)}.bars .none{background:var(--none)}\
        .uptime{margin:.2rem 0;font-size:.9rem}.uptime span{margin-right:1rem}.latency{margin:.2rem 0;font-size:.8rem}\
        .latency svg{display:block;fill:none;stroke:currentColor;stroke-width:1.5}.latency circle{fill:currentColor}\
        .incident{padding:.3rem 0;border-bottom:1px solid #8c959f33}.open .incident .cause{color:var(--major)}\
        .pages{display:flex;gap:1rem;justify-content:center}footer{margin-top:2rem;font-size:.8rem;color:#8c959f}
        """
}
