package import Foundation
package import UptickCore
package import UptickStore

/// One record of an SQS event as Lambda's event source mapping delivers it (`Records[]`).
package struct SQSRecord: Sendable, Hashable {
    package var messageID: String
    package var body: String

    package init(messageID: String, body: String) {
        self.messageID = messageID
        self.body = body
    }

    /// The records of an SQS event, or `nil` when the event is not one (`eventSource` `aws:sqs`).
    package static func records(in event: Data) -> [SQSRecord]? {
        guard let object = try? JSONSerialization.jsonObject(with: event) as? [String: Any],
              let records = object["Records"] as? [[String: Any]], !records.isEmpty,
              records.allSatisfy({ $0["eventSource"] as? String == "aws:sqs" }) else { return nil }
        return records.compactMap { record in
            guard let id = record["messageId"] as? String else { return nil }
            return SQSRecord(messageID: id, body: record["body"] as? String ?? "")
        }
    }
}

/// A worker Lambda's batch: the slots of an SQS event's records, handed to the engine as its claims, and, once the
/// engine is done, which records must come back (`batchItemFailures`): those with a slot whose result was not committed.
/// A malformed record is dropped (it succeeds, so Lambda deletes it); a stale slot is released and succeeds too.
package actor EventSource: SlotSource {
    package nonisolated let database: any Store
    private var unclaimed: [ClaimedMonitor]
    private var slotsOf: [String: Set<SlotKey>] = [:]
    private var committed: Set<SlotKey> = []
    /// Records that were not slot messages: their ids, and why.
    package nonisolated let malformed: [String: String]
    /// Slots too old to run.
    package nonisolated let stale: [ClaimedMonitor]

    struct SlotKey: Hashable {
        var monitor: Int64
        var slot: EpochMilliseconds
    }

    package init(records: [SQSRecord], database: any Store, now: EpochMilliseconds) {
        self.database = database
        var unclaimed: [ClaimedMonitor] = [], seen: Set<SlotKey> = [], malformed: [String: String] = [:], stale: [ClaimedMonitor] = []
        var slotsOf: [String: Set<SlotKey>] = [:]
        for record in records {
            do throws(MalformedMessage) {
                let message = try SlotMessage.decode(record.body)
                var keys: Set<SlotKey> = []
                for claimed in message.slots {
                    if SlotMessage.isStale(claimed, now: now) {
                        stale.append(claimed)
                        continue
                    }
                    let key = SlotKey(monitor: claimed.monitor.id, slot: claimed.slot)
                    keys.insert(key)
                    if seen.insert(key).inserted { unclaimed.append(claimed) }
                }
                slotsOf[record.messageID] = keys
            } catch {
                malformed[record.messageID] = error.description
            }
        }
        self.unclaimed = unclaimed
        self.slotsOf = slotsOf
        self.malformed = malformed
        self.stale = stale
    }

    /// The records whose slots are not all committed, in no particular order.
    package var failedMessages: [String] {
        slotsOf.filter { !$0.value.isSubset(of: committed) }.map(\.key).sorted()
    }

    package func claimDue(now: EpochMilliseconds, limit: Int, leaseGrace: Duration, leaseIntervals: Int) async throws(StoreError) -> Claim {
        let handed = Array(unclaimed.prefix(limit))
        unclaimed.removeFirst(handed.count)
        return Claim(monitors: handed, nextDue: nil)
    }

    package func persist(_ outcomes: [CheckOutcome]) async throws(StoreError) {
        try await database.persist(outcomes)
        for outcome in outcomes { committed.insert(SlotKey(monitor: outcome.monitorID, slot: outcome.scheduledAt)) }
    }
}
