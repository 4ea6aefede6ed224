package import Foundation

/// What an invocation asks for. Two event shapes are accepted (docs/deploy-aws.md):
///
/// - **EventBridge Scheduler** with the input the template sets: `{"uptick": {"ticks": 2, "spacing_seconds": 30}}`
///   (both fields optional; `{}` or `{"uptick": {}}` is one tick);
/// - **EventBridge rule** "Scheduled Event" (`"source": "aws.events"`, `"detail-type": "Scheduled Event"`): one tick,
///   or `UPTICK_TICKS_PER_INVOCATION` ticks.
package struct ScheduleRequest: Sendable, Hashable {
    /// Ticks in this invocation (1 or 2): EventBridge cannot schedule below one minute, two ticks 30 s apart
    /// give the original 30 s cadence.
    package var ticks: Int
    /// Between the starts of consecutive ticks.
    package var spacingSeconds: Int

    package static let maxTicks = 4

    package init(ticks: Int = 1, spacingSeconds: Int = 30) {
        self.ticks = ticks
        self.spacingSeconds = spacingSeconds
    }

    /// The request in `event`, or why it is not one uptick understands.
    package static func parse(_ event: Data, defaultTicks: Int = 1) throws -> ScheduleRequest {
        guard let object = try? JSONSerialization.jsonObject(with: event) as? [String: Any] else {
            throw RuntimeError("the event is not a JSON object")
        }
        if object["source"] as? String == "aws.events" || object["detail-type"] as? String == "Scheduled Event" {
            guard object["detail-type"] as? String == "Scheduled Event" else {
                throw RuntimeError("an EventBridge event of type '\(object["detail-type"] as? String ?? "?")', not a Scheduled Event")
            }
            return try validated(ScheduleRequest(ticks: defaultTicks))
        }
        let known: Set<String> = ["uptick"]
        if let unknown = object.keys.first(where: { !known.contains($0) }) {
            throw RuntimeError("unrecognized event (field '\(unknown)'): expected a Scheduled Event or {\"uptick\": {…}}")
        }
        guard let settings = object["uptick"] else { return ScheduleRequest(ticks: defaultTicks) }
        guard let fields = settings as? [String: Any] else { throw RuntimeError("'uptick' must be an object") }
        var request = ScheduleRequest(ticks: defaultTicks)
        if let ticks = fields["ticks"] {
            guard let value = ticks as? Int else { throw RuntimeError("uptick.ticks must be a whole number") }
            request.ticks = value
        }
        if let spacing = fields["spacing_seconds"] {
            guard let value = spacing as? Int else { throw RuntimeError("uptick.spacing_seconds must be a whole number") }
            request.spacingSeconds = value
        }
        return try validated(request)
    }

    static func validated(_ request: ScheduleRequest) throws -> ScheduleRequest {
        guard (1...maxTicks).contains(request.ticks) else { throw RuntimeError("ticks must be between 1 and \(maxTicks), got \(request.ticks)") }
        guard (1...300).contains(request.spacingSeconds) else { throw RuntimeError("spacing_seconds must be between 1 and 300") }
        return request
    }
}
