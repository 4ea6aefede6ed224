import Foundation
import NIOCore
import NIOPosix
import UptickCore

/// Turns a host name into addresses. The seam for tests, which answer from a table on loopback.
public protocol Resolver: Sendable {
    /// All addresses of `host` for TCP at `port`, in the order to try them.
    func resolve(host: String, port: Int) async throws(CheckFailure) -> [SocketAddress]
}

/// The system resolver: `getaddrinfo` (so /etc/hosts, search domains and the host's DNS configuration apply)
/// on a dedicated pool of ``lookupThreads`` threads, so a slow DNS server never blocks an event loop, and
/// many lookups can wait on DNS at once without holding up NIO's small blocking pool (one thread per core).
public struct SystemResolver: Resolver {
    /// The most name lookups in progress at once; more wait for a thread (inside their check's deadline).
    public static let lookupThreads = 32

    /// The process-wide lookup pool, started on first use and never shut down.
    public static let lookupPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: lookupThreads)
        pool.start()
        return pool
    }()

    let threadPool: NIOThreadPool
    let numericHostsOnly: Bool

    /// - Parameter numericHostsOnly: parse numeric addresses only (every form `inet_aton` accepts) and
    ///   never query DNS (`AI_NUMERICHOST`): what the tests use, so they never send a packet off loopback.
    public init(threadPool: NIOThreadPool = SystemResolver.lookupPool, numericHostsOnly: Bool = false) {
        self.threadPool = threadPool
        self.numericHostsOnly = numericHostsOnly
    }

    public func resolve(host: String, port: Int) async throws(CheckFailure) -> [SocketAddress] {
        let result: Result<[SocketAddress], CheckFailure>
        do {
            result = try await threadPool.runIfActive { [numericHostsOnly] in Self.getaddrinfo(host: host, port: port, numericOnly: numericHostsOnly) }
        } catch {
            throw CheckFailure(.other, "resolver unavailable: \(error)")
        }
        return try result.get()
    }

    private static func getaddrinfo(host: String, port: Int, numericOnly: Bool) -> Result<[SocketAddress], CheckFailure> {
        var hints = addrinfo()
        if numericOnly { hints.ai_flags = AI_NUMERICHOST }
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_protocol = Int32(IPPROTO_TCP)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = Glibc.getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let list else {
            let reason = String(cString: gai_strerror(rc))
            return .failure(CheckFailure(.dns, "cannot resolve \(host): \(reason)"))
        }
        defer { freeaddrinfo(list) }
        var addresses: [SocketAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = list
        while let entry = cursor {
            if let raw = entry.pointee.ai_addr {
                switch entry.pointee.ai_family {
                case AF_INET:
                    addresses.append(raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { SocketAddress($0.pointee, host: host) })
                case AF_INET6:
                    addresses.append(raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { SocketAddress($0.pointee, host: host) })
                default: break
                }
            }
            cursor = entry.pointee.ai_next
        }
        return addresses.isEmpty ? .failure(CheckFailure(.dns, "\(host) has no addresses")) : .success(addresses)
    }
}
