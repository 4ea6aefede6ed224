import Foundation
package import UptickCore
package import UptickStore
import UptickAWS

/// One queue message: claimed slots, each with the whole monitor row as claimed (definition, status logic state)
/// and its lease, so a worker needs nothing else from the database to run the checks and apply the status logic.
///
/// `{"v":1,"dispatchedAt":<ms>,"slots":[{"monitor":{…},"slot":<ms>,"leaseUntil":<ms>},…]}`. At most
/// ``maxSlots`` slots and ``SlotMessage/maxBytes`` bytes.
package struct SlotMessage: Codable, Sendable, Hashable {
    /// The format's version; a worker refuses others (as malformed) rather than guess.
    package static let version = 1
    /// Slots per message. 25 typical monitors (≈ 600 bytes of JSON each) make ≈ 15 KB, so ten messages (one
    /// `SendMessageBatch`) fit the 256 KiB a batch call may carry, and a worker's receive of ten brings 250 checks.
    package static let maxSlots = 25
    /// SQS's limit for one message (and for one batch call's messages together).
    package static let maxBytes = SQSClient.maxMessageBytes

    package var v: Int
    package var dispatchedAt: EpochMilliseconds
    package var slots: [ClaimedMonitor]

    package init(dispatchedAt: EpochMilliseconds, slots: [ClaimedMonitor]) {
        self.v = Self.version
        self.dispatchedAt = dispatchedAt
        self.slots = slots
    }

    /// A message body as received, or why it is not one of ours.
    package static func decode(_ body: String) throws(MalformedMessage) -> SlotMessage {
        let message: SlotMessage
        do {
            message = try JSONDecoder().decode(SlotMessage.self, from: Data(body.utf8))
        } catch {
            throw MalformedMessage("not an uptick slot message (\(body.utf8.count) bytes): \(error)")
        }
        guard message.v == version else { throw MalformedMessage("slot message version \(message.v); this uptick reads version \(version)") }
        guard !message.slots.isEmpty else { throw MalformedMessage("a slot message without slots") }
        return message
    }

    /// Whether a slot is too old to be worth running when it is taken from the queue at `now`: more than
    /// ``staleIntervals`` of its monitor's intervals late. A later slot of the same monitor is due by then.
    package static func isStale(_ claimed: ClaimedMonitor, now: EpochMilliseconds) -> Bool {
        now - claimed.slot > staleIntervals * max(claimed.monitor.intervalSeconds, 1) * 1000
    }

    /// How many intervals a slot may wait in the queue. The dispatcher's lease covers them (plus the check's timeout
    /// and the lease grace), so a monitor is not claimed again while its slot can still run.
    package static let staleIntervals: Int64 = 2
}

/// A message body that is not a slot message this uptick can read.
package struct MalformedMessage: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

/// Claimed slots packed into message bodies, and bodies into batch calls, within SQS's bounds.
package struct SlotPacking: Sendable {
    /// One message, ready to send.
    package struct Packed: Sendable {
        package var body: String
        package var slots: [ClaimedMonitor]
    }

    /// The messages, in claim order.
    package var messages: [Packed] = []
    /// Slots whose monitor alone is larger than a message: they cannot be queued.
    package var oversized: [(claimed: ClaimedMonitor, bytes: Int)] = []

    /// Packs `claims` greedily: a message is closed at ``SlotMessage/maxSlots`` slots or before it would pass
    /// ``SlotMessage/maxBytes``.
    package init(_ claims: [ClaimedMonitor], dispatchedAt: EpochMilliseconds, maxBytes: Int = SlotMessage.maxBytes) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let head = #"{"dispatchedAt":\#(dispatchedAt),"slots":["#, tail = #"],"v":\#(SlotMessage.version)}"#
        let overhead = head.utf8.count + tail.utf8.count
        var parts: [String] = [], slots: [ClaimedMonitor] = [], bytes = overhead
        func close() {
            guard !slots.isEmpty else { return }
            messages.append(Packed(body: head + parts.joined(separator: ",") + tail, slots: slots))
            parts = []
            slots = []
            bytes = overhead
        }
        for claimed in claims {
            let data = (try? encoder.encode(claimed)) ?? Data()
            guard !data.isEmpty, overhead + data.count <= maxBytes else {
                oversized.append((claimed, data.count))
                continue
            }
            if slots.count == SlotMessage.maxSlots || bytes + data.count + 1 > maxBytes { close() }
            parts.append(String(decoding: data, as: UTF8.self))
            slots.append(claimed)
            bytes += data.count + (slots.count > 1 ? 1 : 0)
        }
        close()
    }

    /// The messages grouped into batch calls: at most `entries` each, their bodies together at most `maxBytes`.
    package func calls(entries: Int = SQSClient.maxBatchEntries, maxBytes: Int = SlotMessage.maxBytes) -> [[Packed]] {
        var calls: [[Packed]] = [], current: [Packed] = [], bytes = 0
        for message in messages {
            let size = message.body.utf8.count
            if !current.isEmpty && (current.count == entries || bytes + size > maxBytes) {
                calls.append(current)
                current = []
                bytes = 0
            }
            current.append(message)
            bytes += size
        }
        if !current.isEmpty { calls.append(current) }
        return calls
    }
}
