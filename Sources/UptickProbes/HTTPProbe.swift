import Foundation
import NIOCore
import NIOHTTP1
import UptickCore
import UptickNet

/// An HTTP request: up when the final status is expected and the keyword rules hold.
///
/// Redirects are followed here, not by a client library, so every hop goes back through the guarded
/// network (a redirect to 169.254.169.254 is `blocked` like a monitor pointing there): at most
/// ``Limits/maxRedirects``, http and https only. 301, 302 and 303 continue with GET and no body, as
/// browsers do; 307 and 308 repeat the method and body.
struct HTTPProbe {
    let network: Network

    func check(_ check: HTTPCheck, deadline: NIODeadline) async -> CheckResult {
        if !network.allowsHostHeader, check.headers.contains(where: { HeaderRules.isHost($0.name) }) {
            return .down(.invalidMonitor, "this runner does not let monitors set the Host header")
        }
        var hop = check
        var followed: [String] = []
        while true {
            let response: HTTPExchange.Response
            do {
                response = try await HTTPExchange(network: network).perform(hop.request, deadline: deadline)
            } catch {
                var result = error.result
                result.details = followed.isEmpty ? nil : CheckDetails(redirects: followed)
                return result
            }
            guard let location = Self.redirectLocation(response), !check.expectedStatus.contains(response.status) else {
                var result = Self.judge(response, against: check, redirects: followed)
                if let session = response.tls { TLSVerdict.apply(session, check.tls, to: &result) }
                return result
            }
            guard followed.count < Limits.maxRedirects else {
                var result = CheckResult.down(.redirects, "more than \(Limits.maxRedirects) redirects", details: followed)
                result.httpStatus = response.status
                result.timings = response.timings
                return result
            }
            do {
                hop = try hop.following(location, status: response.status)
            } catch {
                return .down(.redirects, "redirect to \(location) refused: \(error.message)", details: followed)
            }
            followed.append(hop.url)
        }
    }

    /// The `Location` of a redirect response, or `nil` when the response is not a redirect.
    static func redirectLocation(_ response: HTTPExchange.Response) -> String? {
        guard [301, 302, 303, 307, 308].contains(response.status) else { return nil }
        return response.location
    }

    static func judge(_ response: HTTPExchange.Response, against check: HTTPCheck, redirects: [String]) -> CheckResult {
        var result = CheckResult(status: .up, message: "HTTP \(response.status)", httpStatus: response.status,
                                 timings: response.timings, durationMicroseconds: 0,
                                 details: redirects.isEmpty ? nil : CheckDetails(redirects: redirects))
        if !check.expectedStatus.contains(response.status) {
            result.status = .down
            result.errorClass = .httpStatus
            result.message = "HTTP \(response.status), expected \(check.expectedStatus)"
            return result
        }
        guard check.keyword != nil || check.keywordAbsent != nil else { return result }
        let body = String(decoding: response.body, as: UTF8.self)  // only when there is a keyword to look for
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

extension HTTPCheck {
    /// The request for this hop.
    var request: HTTPExchange.Request {
        HTTPExchange.Request(host: host, port: port, path: path, method: method,
                             headers: headers.map { ($0.name, $0.value) }, body: body, tlsVerify: scheme == "https" ? tls.verify : nil)
    }

    /// This check's URL, for the redirect chain.
    var url: String {
        let authority = host.contains(":") ? "[\(host)]" : host
        let defaultPort = (scheme == "http" && port == 80) || (scheme == "https" && port == 443)
        return "\(scheme)://\(authority)\(defaultPort ? "" : ":\(port)")\(path)"
    }

    /// The next hop after a `status` redirect to `location` (absolute or relative to this URL). Credentials
    /// (`Authorization`, `Cookie`) and a chosen `Host` go only to the monitor's own origin, as browsers and curl do.
    func following(_ location: String, status: Int) throws(CheckFailure) -> HTTPCheck {
        guard let base = URL(string: url), let next = URL(string: location, relativeTo: base)?.absoluteString else {
            throw CheckFailure(.redirects, "'\(location)' is not a URL")
        }
        var settings = MonitorSettings(method: method, headers: headers, body: body, expectedStatus: expectedStatus,
                                       keyword: keyword, keywordAbsent: keywordAbsent, tlsVerify: tls.verify,
                                       tlsExpiryDays: tls.expiryDays, tlsExpiryStatus: tls.expiryStatus.rawValue)
        if status != 307 && status != 308 {
            settings.method = "GET"
            settings.body = nil
        }
        var hop = try HTTPCheck(url: next, settings: settings)
        if (hop.scheme, hop.host.lowercased(), hop.port) != (scheme, host.lowercased(), port) {
            hop.headers.removeAll { HeaderRules.originBound.contains($0.name.lowercased()) }
        }
        return hop
    }
}

extension CheckResult {
    static func down(_ errorClass: ErrorClass, _ message: String, details redirects: [String]) -> CheckResult {
        var result = CheckResult.down(errorClass, message)
        result.details = redirects.isEmpty ? nil : CheckDetails(redirects: redirects)
        return result
    }
}
