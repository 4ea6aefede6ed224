import NIOCore
import UptickCore
import UptickNet

/// A TCP connect to host:port: up when a connection is established before the deadline.
struct PortProbe {
    let network: Network

    func check(_ endpoint: Endpoint, tls: TLSCheck?, deadline: NIODeadline) async -> CheckResult {
        do {
            let connection = try await network.connect(host: endpoint.host, port: endpoint.port, deadline: deadline)
            defer { connection.channel.close(promise: nil) }
            guard let tls else {
                return CheckResult(status: .up, message: "connected to \(connection.address.display)", timings: connection.timings, durationMicroseconds: 0)
            }
            let (session, timings) = try await network.secure(connection, serverName: endpoint.host, verify: tls.verify, deadline: deadline)
            var result = CheckResult(status: .up, message: "TLS (\(session.version ?? "?")) with \(connection.address.display)",
                                     timings: timings, durationMicroseconds: 0)
            TLSVerdict.apply(session, tls, to: &result)
            return result
        } catch {
            return error.result
        }
    }
}
