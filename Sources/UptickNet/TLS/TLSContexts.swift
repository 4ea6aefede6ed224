import NIOConcurrencyHelpers
import NIOSSL
import UptickCore

/// The two client TLS contexts a network uses, one validating and one not, built once on first use:
/// creating a context costs milliseconds of CPU, a handshake on an existing one does not.
final class TLSContexts: Sendable {
    let trustRoots: NIOSSLTrustRoots
    private let built = NIOLockedValueBox<(verifying: NIOSSLContext, accepting: NIOSSLContext)?>(nil)

    init(trustRoots: NIOSSLTrustRoots) {
        self.trustRoots = trustRoots
    }

    /// The context that validates (`verify`) or accepts any certificate.
    func context(verify: Bool) throws(CheckFailure) -> NIOSSLContext {
        do {
            let contexts = try built.withLockedValue { built in
                if let built { return built }
                var verifying = TLSConfiguration.makeClientConfiguration()
                verifying.trustRoots = trustRoots
                verifying.minimumTLSVersion = .tlsv12
                var accepting = verifying
                accepting.certificateVerification = .none
                let made = (try NIOSSLContext(configuration: verifying), try NIOSSLContext(configuration: accepting))
                built = made
                return made
            }
            return verify ? contexts.verifying : contexts.accepting
        } catch {
            throw CheckFailure(.other, "cannot set up TLS: \(error)")
        }
    }
}
