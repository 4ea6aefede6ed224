import NIOCore
import UptickCore
import UptickNet

/// A TCP connect to host:port: up when a connection is established before the deadline.
struct PortProbe {
    let network: Network

    func check(_ endpoint: Endpoint, deadline: NIODeadline) async -> CheckResult {
        var timings = PhaseTimings()
        let dnsStart = NIODeadline.now()
        let addresses: [SocketAddress]
        do {
            addresses = try await network.resolve(host: endpoint.host, port: endpoint.port)
        } catch {
            return CheckResult(status: .down, errorClass: error.errorClass, message: error.message, timings: timings, durationMicroseconds: 0)
        }
        timings.dnsMicroseconds = (NIODeadline.now() - dnsStart).nanoseconds / 1000
        var failure = NetError(.other, "no address to connect to")
        for address in addresses {
            let connectStart = NIODeadline.now()
            do {
                let channel = try await network.connect(to: address, deadline: deadline)
                timings.connectMicroseconds = (NIODeadline.now() - connectStart).nanoseconds / 1000
                channel.close(promise: nil)
                return CheckResult(status: .up, message: "connected to \(address.display)", timings: timings, durationMicroseconds: 0)
            } catch {
                failure = error
            }
        }
        return CheckResult(status: .down, errorClass: failure.errorClass, message: failure.message, timings: timings, durationMicroseconds: 0)
    }
}
