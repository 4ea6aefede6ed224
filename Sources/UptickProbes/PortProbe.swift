import NIOCore
import UptickCore
import UptickNet

/// A TCP connect to host:port: up when a connection is established before the deadline.
struct PortProbe {
    let network: Network

    func check(_ endpoint: Endpoint, deadline: NIODeadline) async -> CheckResult {
        do {
            let connection = try await network.connect(host: endpoint.host, port: endpoint.port, deadline: deadline)
            connection.channel.close(promise: nil)
            return CheckResult(status: .up, message: "connected to \(connection.address.display)", timings: connection.timings, durationMicroseconds: 0)
        } catch {
            return error.result
        }
    }
}
