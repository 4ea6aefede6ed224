import Foundation
package import NIOCore
import Synchronization

/// The runner host's own interface addresses, which the address policy denies: a service listening on
/// 0.0.0.0 answers on every one of them, public ones included. Read with `getifaddrs` at start and again
/// when ``refreshInterval`` has passed (interfaces come and go: DHCP, containers, VPNs).
package final class LocalAddresses: Sendable {
    /// How long a reading is used before the interfaces are read again.
    package static let refreshInterval: TimeAmount = .seconds(30)

    private let read: @Sendable () -> Set<IPAddress>
    private let refresh: TimeAmount
    private let state: Mutex<(addresses: Set<IPAddress>, readAt: NIODeadline)>

    /// The system's interfaces.
    package convenience init() {
        self.init(read: LocalAddresses.interfaces)
    }

    /// A fixed set (tests).
    package convenience init(fixed: Set<IPAddress>) {
        self.init(read: { fixed })
    }

    init(read: @escaping @Sendable () -> Set<IPAddress>, refresh: TimeAmount = LocalAddresses.refreshInterval) {
        self.read = read
        self.refresh = refresh
        self.state = Mutex((read(), .now()))
    }

    /// The addresses, read again first if the last reading is too old.
    package var current: Set<IPAddress> {
        let now = NIODeadline.now()
        if let fresh = state.withLock({ now - $0.readAt < refresh ? $0.addresses : nil }) { return fresh }
        let addresses = read()
        state.withLock { $0 = (addresses, now) }
        return addresses
    }

    /// Every IPv4 and IPv6 address of every interface, up or not.
    static func interfaces() -> Set<IPAddress> {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(list) }
        var addresses: Set<IPAddress> = []
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            if let raw = entry.pointee.ifa_addr {
                switch Int32(raw.pointee.sa_family) {
                case AF_INET:
                    let address = raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { SocketAddress($0.pointee, host: "") }
                    if let ip = IPAddress(address) { addresses.insert(ip) }
                case AF_INET6:
                    let address = raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { SocketAddress($0.pointee, host: "") }
                    if let ip = IPAddress(address) { addresses.insert(ip) }
                default:
                    break
                }
            }
            cursor = entry.pointee.ifa_next
        }
        return addresses
    }
}
