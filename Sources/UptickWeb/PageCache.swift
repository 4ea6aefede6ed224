import UptickCore

/// The rendered status pages, each kept for ``ttl``: however many clients ask, a page is rendered (five queries and a
/// few thousand bars) at most once per page number and period, and concurrent requests for a page being rendered
/// wait for that one rendering. So a crowd on the status page costs the runner a bounded amount of work (measured in
/// BENCHMARKS.md: 100 requests a second against 100 000 monitors), at the price of a page up to ``ttl`` old.
actor PageCache {
    /// How long a rendered page is served.
    static let ttl: Int64 = 5_000
    /// Pages kept at most (a crawler walking every page number cannot grow it without bound).
    static let capacity = 64

    private struct Entry {
        var renderedAt: EpochMilliseconds
        var rendering: Task<String, any Error>
    }

    private var entries: [Int: Entry] = [:]

    /// Page `number` as rendered within the last ``ttl`` before `now`, or rendered now by `render`.
    func page(_ number: Int, now: EpochMilliseconds, render: @escaping @Sendable () async throws -> String) async throws -> String {
        if let entry = entries[number], now - entry.renderedAt < Self.ttl {
            return try await entry.rendering.value
        }
        if entries.count >= Self.capacity, let oldest = entries.min(by: { $0.value.renderedAt < $1.value.renderedAt })?.key {
            entries[oldest] = nil
        }
        let rendering = Task { try await render() }
        entries[number] = Entry(renderedAt: now, rendering: rendering)
        do {
            return try await rendering.value
        } catch {
            // A failed rendering is not served to the next request: that one tries again.
            if entries[number]?.renderedAt == now { entries[number] = nil }
            throw error
        }
    }
}
