import Foundation
import Testing
import UptickCore
import UptickEngine
import UptickStore
@testable import UptickWeb

/// The page, the badges, readiness and the per-monitor series as pure functions of their inputs.
@Suite("Status page, badges, readiness and series")
struct WebViewTests {
    let day: EpochMilliseconds = 86_400_000
    let hour: EpochMilliseconds = 3_600_000
    /// Noon on a UTC day.
    var now: EpochMilliseconds { 1_764_460_800_000 + 12 * hour }

    func monitor(_ id: Int64, name: String, status: MonitorStatus = .up, target: String = "https://user:pw@example.com/x?token=t") -> Monitor {
        var state = MonitorState()
        state.status = status
        return Monitor(id: id, name: name, type: "http", target: target, intervalSeconds: 30, timeoutMilliseconds: 5000, state: state)
    }

    func rollup(_ id: Int64, _ start: EpochMilliseconds, up: Int64, down: Int64 = 0, micros: Int64 = 20_000) -> Rollup {
        var latency = LatencyHistogram()
        for _ in 0..<(up + down) { latency.record(micros) }
        return Rollup(monitorID: id, periodStart: start, up: up, degraded: 0, down: down, durationSumMicroseconds: micros * (up + down), latency: latency)
    }

    @Test("a view has 90 days ending today, uptimes over 24 h, 30 and 90 days, and a median per hour")
    func view() {
        let today = Rollup.Resolution.daily.periodStart(now)
        let daily = [rollup(1, today - 89 * day, up: 1, down: 1), rollup(1, today - 10 * day, up: 3, down: 1), rollup(1, today, up: 4)]
        let hourly = [rollup(1, now - 30 * hour, up: 0, down: 5), rollup(1, Rollup.Resolution.hourly.periodStart(now) - 2 * hour, up: 4)]
        let view = MonitorView(monitor: monitor(1, name: "a"), daily: daily, hourly: hourly, now: now)
        #expect(view.days.count == 90 && view.days.first?.start == today - 89 * day && view.days.last?.start == today)
        #expect(view.days.first?.uptime == 0.5 && view.days[50].uptime == nil && view.days.last?.uptime == 1)
        #expect(view.uptime90d == 8.0 / 10.0 && view.uptime30d == 7.0 / 8.0)
        #expect(view.uptime24h == 1)  // the hour 30 h ago is outside the last 24
        #expect(view.hourlyMedian.count == 24 && view.hourlyMedian.compactMap { $0 }.count == 1 && view.hourlyMedian[21] != nil)
    }

    @Test("the page escapes every name, shows no target, address, message or script, and says what is down")
    func page() throws {
        let hostile = #"<script>alert("x")</script>&'"#
        let monitors = [monitor(1, name: hostile, status: .down), monitor(2, name: "shop")]
        let incidents = [IncidentRecord(id: 1, monitorID: 1, monitorName: hostile, openedAt: now - hour, resolvedAt: nil, causeClass: "refused",
                                        causeMessage: "connect to 10.0.0.7:443 refused"),
                         IncidentRecord(id: 2, monitorID: 2, monitorName: "shop", openedAt: now - day, resolvedAt: now - day + 600_000,
                                        causeClass: "http_status", causeMessage: "HTTP 503 from https://internal/")]
        let board = Board(monitors: monitors, total: 2, byStatus: [.down: 1, .up: 1], daily: [:], hourly: [:], incidents: incidents)
        let views = monitors.map { MonitorView(monitor: $0, daily: [rollup($0.id, Rollup.Resolution.daily.periodStart(now), up: 9, down: 1)],
                                               hourly: [], now: now) }
        let html = StatusPage.render(title: "Acme <status>", board: board, views: views, page: 1, now: now)
        #expect(!html.contains("<script") && html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"))
        #expect(html.contains("<title>Acme &lt;status&gt;</title>"))
        for secret in ["example.com", "token", "10.0.0.7", "internal", "HTTP 503"] { #expect(!html.contains(secret), "\(secret) leaked") }
        #expect(html.contains("1 of 2 monitors down") && html.contains("Connection refused") && html.contains("Unexpected HTTP status"))
        #expect(html.components(separatedBy: " title=\"").count - 1 == 180)
        #expect(html.contains("90.00%") || html.contains("90%"))
        #expect(html.contains("10 min"))
    }

    @Test("pages link to their neighbours; an empty page says how to make a monitor public")
    func pagination() {
        let board = Board(monitors: [], total: 250, byStatus: [.up: 250], daily: [:], hourly: [:], incidents: [])
        let html = StatusPage.render(title: "S", board: board, views: [], page: 2, now: now)
        #expect(html.contains("href=\"?page=1\"") && html.contains("href=\"?page=3\"") && html.contains("Page 2 of 5"))
        #expect(html.contains("public: true") && html.contains("All systems operational"))
    }

    @Test("percentages round down, so an imperfect day never reads 100 %")
    func percent() {
        #expect(Markup.percent(0.99999) == "99.99%" && Markup.percent(1) == "100%" && Markup.percent(0.5) == "50%" && Markup.percent(0.12345) == "12.34%")
    }

    @Test("badges escape their label and take their colour from the status or the 30-day uptime")
    func badges() {
        let view = MonitorView(monitor: monitor(1, name: "a", status: .down), daily: [rollup(1, Rollup.Resolution.daily.periodStart(now), up: 999, down: 1)],
                               hourly: [], now: now)
        let status = Badge.render(view, kind: .status, label: "<b>")
        #expect(status.contains("&lt;b&gt;") && !status.contains("<b>") && status.contains(">down<") && status.contains("#cf222e"))
        let uptime = Badge.render(view, kind: .uptime, label: nil)
        #expect(uptime.contains("99.90%") && uptime.contains("#1a7f37"))
    }

    @Test("readiness: the database must answer; a runner must have claimed lately, commit what waits, and stay under its backlog bound")
    func readiness() {
        var heartbeat = RunnerMetrics.Heartbeat()
        let start = now - 10_000
        #expect(Readiness.evaluate(heartbeat: heartbeat, databaseError: nil, startedAt: start, now: now).ready)  // starting up
        #expect(!Readiness.evaluate(heartbeat: heartbeat, databaseError: nil, startedAt: now - 120_000, now: now).ready)  // never claimed
        heartbeat.lastClaimAt = now - 1_000
        #expect(Readiness.evaluate(heartbeat: heartbeat, databaseError: nil, startedAt: start, now: now).ready)
        heartbeat.lastCommitAt = now - 2_000
        #expect(Readiness.evaluate(heartbeat: heartbeat, databaseError: nil, startedAt: start, now: now).checks["commit"]?.detail
                == "last commit 2 s ago")
        let down = Readiness.evaluate(heartbeat: heartbeat, databaseError: "database is locked", startedAt: start, now: now)
        #expect(!down.ready && down.checks["database"]?.detail == "database is locked")
        heartbeat.pending = 40
        heartbeat.waitingSince = now - 61_000
        let stuck = Readiness.evaluate(heartbeat: heartbeat, databaseError: nil, startedAt: start, now: now)
        #expect(!stuck.ready && stuck.checks["commit"]?.ok == false && stuck.checks["commit"]?.detail.contains("40 results") == true)
        heartbeat.waitingSince = now - 1_000
        heartbeat.pending = 50_000
        #expect(Readiness.evaluate(heartbeat: heartbeat, databaseError: nil, startedAt: start, now: now).checks["backlog"]?.ok == false)
        heartbeat.pending = 0
        heartbeat.lastClaimFailed = true
        #expect(!Readiness.evaluate(heartbeat: heartbeat, databaseError: nil, startedAt: start, now: now).ready)
        // `uptick serve`: only the database counts.
        #expect(Readiness.evaluate(heartbeat: nil, databaseError: nil, startedAt: now - 999_999, now: now).checks.keys.sorted() == ["database"])
    }

    @Test("per-monitor series: at most the limit, escaped labels, targets without secrets, forgotten after three intervals")
    func series() {
        let series = MonitorSeries(limit: 2)
        func outcome(_ id: Int64, at time: EpochMilliseconds) -> CheckOutcome {
            var result = CheckResult(status: .up, durationMicroseconds: 1_500)
            result.details = CheckDetails(tls: TLSDetails(notAfter: 1_800_000_000_000, daysLeft: 30, version: nil, verified: true))
            return CheckOutcome(monitorID: id, monitorName: "", scheduledAt: time, startedAt: time, result: result, runner: "t",
                                state: MonitorState(), transition: nil)
        }
        #expect(series.record(monitor(1, name: "a\"b\\c\nd"), outcome(1, at: now)))
        #expect(series.record(monitor(2, name: "b"), outcome(2, at: now - 200_000)))
        #expect(!series.record(monitor(3, name: "c"), outcome(3, at: now)))  // over the limit
        let text = series.exposition(now: now)
        #expect(text.contains(#"name="a\"b\\c\nd""#) && text.contains(#"target="https://example.com/x""#) && !text.contains("token"))
        #expect(text.contains("uptick_monitor_cert_expiry_timestamp_seconds{") && text.contains(" 1800000000.0"))
        #expect(!text.contains(#"monitor_id="2""#))  // 200 s without a check at a 30 s interval: forgotten
        #expect(series.record(monitor(3, name: "c"), outcome(3, at: now)))  // its place is free again
    }
}

@Suite("Status page cache")
struct PageCacheTests {
    @Test("a page is rendered once per five seconds however many ask, concurrent askers share one rendering, a failure is not kept")
    func renderOnce() async throws {
        let cache = PageCache()
        let renders = Counter()
        let render: @Sendable () async throws -> String = {
            let n = await renders.next()
            try await Task.sleep(for: .milliseconds(50))
            return "page \(n)"
        }
        let pages = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<20 { group.addTask { try await cache.page(1, now: 1_000, render: render) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let rendered = await renders.value
        #expect(Set(pages) == ["page 1"] && rendered == 1)
        #expect(try await cache.page(1, now: 5_999, render: render) == "page 1")
        #expect(try await cache.page(2, now: 5_999, render: render) == "page 2")  // another page is its own
        #expect(try await cache.page(1, now: 6_000, render: render) == "page 3")  // five seconds on: rendered again
        struct Failed: Error {}
        await #expect(throws: Failed.self) { try await cache.page(3, now: 7_000) { throw Failed() } }
        #expect(try await cache.page(3, now: 7_001, render: render) == "page 4")
    }

    actor Counter {
        var value = 0
        func next() -> Int {
            value += 1
            return value
        }
    }
}
