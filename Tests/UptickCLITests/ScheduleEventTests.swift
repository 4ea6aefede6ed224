import Foundation
import Testing
import UptickLambda

@Suite("Lambda schedule events")
struct ScheduleEventTests {
    static let rule = #"{"version":"0","id":"x","detail-type":"Scheduled Event","source":"aws.events","account":"1","time":"2026-11-30T00:00:00Z","region":"eu-west-1","resources":["arn:aws:events:eu-west-1:1:rule/uptick"],"detail":{}}"#

    @Test("EventBridge Scheduler input and rule events become tick requests", arguments: [
        (#"{"uptick":{"ticks":2,"spacing_seconds":30}}"#, 1, ScheduleRequest(ticks: 2, spacingSeconds: 30)),
        (#"{"uptick":{}}"#, 1, ScheduleRequest(ticks: 1)),
        ("{}", 2, ScheduleRequest(ticks: 2)),
        (rule, 1, ScheduleRequest(ticks: 1)),
        (rule, 2, ScheduleRequest(ticks: 2)),
    ])
    func accepted(event: String, defaultTicks: Int, expected: ScheduleRequest) throws {
        #expect(try ScheduleRequest.parse(Data(event.utf8), defaultTicks: defaultTicks) == expected)
    }

    @Test("anything else is refused with the reason", arguments: [
        ("[]", "not a JSON object"),
        (#"{"Records":[]}"#, "unrecognized event (field 'Records')"),
        (#"{"source":"aws.events","detail-type":"EC2 Instance State-change Notification"}"#, "not a Scheduled Event"),
        (#"{"uptick":{"ticks":9}}"#, "ticks must be between 1 and 4"),
        (#"{"uptick":{"ticks":"two"}}"#, "uptick.ticks must be a whole number"),
        (#"{"uptick":{"spacing_seconds":0}}"#, "spacing_seconds must be between 1 and 300"),
    ])
    func refused(event: String, message: String) {
        #expect {
            _ = try ScheduleRequest.parse(Data(event.utf8))
        } throws: { error in
            "\(error)".contains(message)
        }
    }
}
