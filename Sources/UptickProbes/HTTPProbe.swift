import NIOCore
import UptickCore
import UptickNet

/// An HTTP request: up when the status is expected and the keyword rules hold.
struct HTTPProbe {
    let network: Network

    func check(_ check: HTTPCheck, deadline: NIODeadline) async -> CheckResult {
        guard check.scheme == "http" else {
            return .down(.unsupported, "https checks are not available in this build of uptick yet")
        }
        let request = HTTPExchange.Request(
            host: check.host, port: check.port, path: check.path, method: check.method,
            headers: check.headers.map { ($0.name, $0.value) }, body: check.body
        )
        let response: HTTPExchange.Response
        do {
            response = try await HTTPExchange(network: network).perform(request, deadline: deadline)
        } catch {
            return error.result
        }
        var result = CheckResult(status: .up, message: "HTTP \(response.status)", httpStatus: response.status,
                                 timings: response.timings, durationMicroseconds: 0)
        if !check.expectedStatus.contains(response.status) {
            result.status = .down
            result.errorClass = .httpStatus
            result.message = "HTTP \(response.status), expected \(check.expectedStatus)"
            return result
        }
        let body = String(decoding: response.body, as: UTF8.self)
        if let keyword = check.keyword, !body.contains(keyword) {
            result.status = .down
            result.errorClass = .keyword
            result.message = "'\(keyword)' not found in the first \(response.body.count) bytes"
        } else if let forbidden = check.keywordAbsent, body.contains(forbidden) {
            result.status = .down
            result.errorClass = .keyword
            result.message = "'\(forbidden)' found in the body"
        }
        return result
    }
}
