import Glibc

extension LoopbackServer {
    /// A port on 127.0.0.1 that nothing listens on now (bound, read back and released), for a server in another
    /// process that must be told its port (Prometheus, `uptick run --http`). Another process could take it in between;
    /// on a test machine none does.
    package static func freePort() throws(FreePortError) -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw FreePortError() }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
        }
        guard bound else { throw FreePortError() }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    package struct FreePortError: Error, CustomStringConvertible {
        package var description: String { "no free port on 127.0.0.1" }
    }
}
