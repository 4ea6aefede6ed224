import NIOCore

/// Answers by (name, type) until their TTL runs out, at most `capacity` of them; when full, the oldest
/// entry goes first (insertion order, refreshed by re-insertion). Not thread-safe: ``DNSResolver`` holds it
/// under its lock.
struct DNSCache {
    struct Key: Hashable, Sendable {
        var name: String
        var type: DNSMessage.RecordType
    }

    /// A positive answer, or an empty one (no such name, or no records of the type: RFC 2308).
    struct Entry {
        var addresses: [IPAddress]
        var expires: NIODeadline
        var stamp: UInt64
    }

    let capacity: Int
    private var entries: [Key: Entry] = [:]
    /// Insertion order; an item whose stamp no longer matches its entry is stale and skipped.
    private var order: [(key: Key, stamp: UInt64)] = []
    private var head = 0
    private var nextStamp: UInt64 = 0

    init(capacity: Int) {
        self.capacity = capacity
    }

    var count: Int { entries.count }

    /// The live answer for `key`, if any; an expired one is removed.
    mutating func answer(_ key: Key, now: NIODeadline) -> [IPAddress]? {
        guard let entry = entries[key] else { return nil }
        guard entry.expires > now else {
            entries[key] = nil
            return nil
        }
        return entry.addresses
    }

    /// Keeps `addresses` for `ttl` seconds; a TTL of 0 keeps nothing (RFC 1035 §3.2.1).
    mutating func insert(_ key: Key, _ addresses: [IPAddress], ttl: UInt32, now: NIODeadline) {
        guard ttl > 0 else { return }
        nextStamp += 1
        entries[key] = Entry(addresses: addresses, expires: now + .seconds(Int64(ttl)), stamp: nextStamp)
        order.append((key, nextStamp))
        while entries.count > capacity, head < order.count {
            let oldest = order[head]
            head += 1
            if entries[oldest.key]?.stamp == oldest.stamp { entries[oldest.key] = nil }
        }
        // Drop the consumed front now and then, so `order` stays proportional to `entries`.
        if head > 1024 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
        if order.count - head > capacity * 2 { compact() }
    }

    /// Rebuilds the order from live entries (after many refreshes of the same keys).
    private mutating func compact() {
        order = entries.map { ($0.key, $0.value.stamp) }.sorted { $0.stamp < $1.stamp }
        head = 0
    }
}
