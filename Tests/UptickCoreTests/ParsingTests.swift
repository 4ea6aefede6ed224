import Testing
import UptickCore

@Suite("Parsing of durations and status codes")
struct ParsingTests {
    @Test("durations", arguments: [
        ("500ms", Int64(500)), ("30s", 30_000), ("5m", 300_000), ("2h", 7_200_000), ("30d", 2_592_000_000),
        ("45", 45_000), (" 10S ", 10_000),
    ])
    func durations(text: String, milliseconds: Int64) {
        #expect(DurationParser.milliseconds(text) == milliseconds)
    }

    @Test("not durations", arguments: ["", "s", "-5s", "1.5s", "ten", "5w", "99999999999999999d"])
    func notDurations(text: String) {
        #expect(DurationParser.milliseconds(text) == nil)
    }

    @Test("status code sets accept listed codes and ranges only")
    func statusCodes() throws {
        let set = try #require(StatusCodeSet(parsing: "200-299,301, 418"))
        #expect(set.contains(200) && set.contains(299) && set.contains(301) && set.contains(418))
        #expect(!set.contains(300) && !set.contains(302) && !set.contains(199))
        #expect(set.description == "200-299,301,418")
    }

    @Test("malformed status code sets are refused", arguments: ["", "abc", "299-200", "99", "600", "200-", "200,,300", "1-2-3"])
    func badStatusCodes(text: String) {
        #expect(StatusCodeSet(parsing: text) == nil)
    }
}
