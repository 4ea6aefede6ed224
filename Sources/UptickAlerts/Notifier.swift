import Foundation
import NIOCore
package import UptickCore
package import UptickNet
package import UptickStore

/// Why a delivery attempt failed, and whether trying again could help.
package struct DeliveryFailure: Error, Sendable, Hashable, CustomStringConvertible {
    package var message: String
    /// A refused address, a 4xx answer, a bad configuration: retrying cannot help, the event goes dead.
    package var permanent: Bool

    package init(_ message: String, permanent: Bool) {
        self.message = message
        self.permanent = permanent
    }

    /// A network failure: permanent when the guard refused the address, temporary otherwise.
    init(net failure: CheckFailure) {
        self.init("\(failure.errorClass.rawValue): \(failure.message)", permanent: failure.errorClass == .blocked)
    }

    package var description: String { message }
}

/// Sends one event to one channel, through the guarded network: an alert URL is as user-supplied as a
/// monitor's target, so a webhook pointed at 169.254.169.254 is refused like a check would be.
package struct Notifier: Sendable {
    let network: Network
    let clock: any WallClock
    /// Each attempt's deadline.
    let timeout: Duration
    /// The largest request body sent.
    let maxBodyBytes: Int

    package init(network: Network, clock: any WallClock = SystemClock(), timeout: Duration = .seconds(10), maxBodyBytes: Int = 64 * 1024) {
        self.network = network
        self.clock = clock
        self.timeout = timeout
        self.maxBodyBytes = maxBodyBytes
    }

    /// What happened: delivered (with a note when the channel type skips this kind), or why not.
    package enum Result: Sendable, Hashable {
        case delivered(note: String?)
        case failed(DeliveryFailure)
    }

    /// Sends the stored payload `json` to `channel`.
    package func send(_ json: String, to channel: ChannelRecord) async -> Result {
        do {
            let payload = try JSONDecoder().decode(AlertPayload.self, from: Data(json.utf8))
            return try await send(payload, json: json, to: channel)
        } catch let failure as DeliveryFailure {
            return .failed(failure)
        } catch {
            return .failed(DeliveryFailure("the stored payload is not an alert: \(error)", permanent: true))
        }
    }

    private func send(_ payload: AlertPayload, json: String, to channel: ChannelRecord) async throws(DeliveryFailure) -> Result {
        let configuration: ChannelConfiguration
        do {
            configuration = try ChannelConfiguration(type: channel.type, json: channel.config)
        } catch {
            throw DeliveryFailure("channel \(channel.name): \(error.message)", permanent: true)
        }
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        switch configuration {
        case .webhook(let webhook):
            let body = Array(json.utf8)
            var headers = Messages.webhookHeaders(payload: payload, body: body, secret: webhook.secret, now: clock.now())
            headers += webhook.headers.map { ($0.name, $0.value) }
            try await post(body, to: webhook.url, headers: headers, deadline: deadline)
        case .slack(let url):
            try await post(Messages.slack(payload), to: url, headers: [], deadline: deadline)
        case .discord(let url):
            try await post(Messages.discord(payload), to: url, headers: [], deadline: deadline)
        case .pagerDuty(let pagerDuty):
            guard let body = Messages.pagerDuty(payload, routingKey: pagerDuty.routingKey) else {
                return .delivered(note: "skipped: PagerDuty pages on down and resolves on recovery only")
            }
            try await post(body, to: pagerDuty.url, headers: [], deadline: deadline)
        case .email(let email):
            let message = EmailMessage(payload: payload, from: email.from, to: email.to, date: Date(timeIntervalSince1970: Double(clock.now()) / 1000))
            try await SMTPClient(network: network).send(message.rendered, with: email, deadline: deadline)
        }
        return .delivered(note: nil)
    }

    /// One JSON POST; 2xx is delivered. A 4xx other than 408 and 429 is permanent, and so is a
    /// redirect (alert URLs are not followed elsewhere); anything else is worth another try.
    private func post(_ body: [UInt8], to url: HTTPCheck, headers: [(String, String)], deadline: NIODeadline) async throws(DeliveryFailure) {
        guard body.count <= maxBodyBytes else {
            throw DeliveryFailure("request body of \(body.count) bytes is over the \(maxBodyBytes)-byte limit", permanent: true)
        }
        let request = HTTPExchange.Request(
            host: url.host, port: url.port, path: url.path, method: "POST",
            headers: [("Content-Type", "application/json")] + headers.map { (name: $0.0, value: $0.1) },
            body: String(decoding: body, as: UTF8.self), tlsVerify: url.scheme == "https" ? true : nil
        )
        let response: HTTPExchange.Response
        do {
            response = try await HTTPExchange(network: network).perform(request, deadline: deadline, bodyLimit: 1024)
        } catch {
            throw DeliveryFailure(net: error.failure)
        }
        switch response.status {
        case 200..<300: return
        case 408, 429, 500...: throw DeliveryFailure("HTTP \(response.status)", permanent: false)
        default:
            let detail = String(decoding: response.body.prefix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw DeliveryFailure("HTTP \(response.status)\(detail.isEmpty ? "" : ": \(detail)")", permanent: true)
        }
    }
}
