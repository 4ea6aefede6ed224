import Foundation
package import NIOCore
import NIOSSL
import NIOTLS
package import UptickCore

/// What a finished handshake tells: the leaf certificate's expiry and the protocol.
package struct TLSSession: Sendable, Hashable {
    /// The leaf certificate's `notAfter`, seconds since 1970.
    package var notAfter: Int64
    package var version: String?
    package var verified: Bool
}

extension Network {
    /// Makes a TLS handshake on a fresh connection, before `deadline`. SNI and the host name check use
    /// `serverName` unless it is an IP literal. Leaves reading on, with the TLS handler in the pipeline.
    package func secure(_ connection: Connection, serverName: String, verify: Bool, deadline: NIODeadline) async throws(NetFailure) -> (TLSSession, PhaseTimings) {
        var timings = connection.timings
        let channel = connection.channel
        let context: NIOSSLContext
        do {
            context = try tls.context(verify: verify)
        } catch {
            throw NetFailure(error, timings: timings)
        }
        let handshake = channel.eventLoop.makePromise(of: TLSSession.self)
        let timeout = channel.eventLoop.scheduleTask(deadline: deadline) {
            handshake.fail(CheckFailure(.timeout, "TLS handshake did not finish before the deadline"))
        }
        defer { timeout.cancel() }
        let started = NIODeadline.now()
        let hostname = IPAddress(serverName) == nil ? serverName : nil
        channel.eventLoop.execute {
            do {
                try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: hostname))
                try channel.pipeline.syncOperations.addHandler(HandshakeObserver(promise: handshake, verified: verify))
                channel.setOption(.autoRead, value: true).cascadeFailure(to: handshake)
            } catch {
                handshake.fail(error)
            }
        }
        do {
            let session = try await handshake.futureResult.get()
            timings.tlsMicroseconds = (NIODeadline.now() - started).nanoseconds / 1000
            return (session, timings)
        } catch {
            channel.close(promise: nil)
            throw NetFailure(Network.classify(error, address: connection.address), timings: timings)
        }
    }
}

/// Completes `promise` when the handshake finishes or fails, then stays out of the way.
private final class HandshakeObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    let promise: EventLoopPromise<TLSSession>
    let verified: Bool

    init(promise: EventLoopPromise<TLSSession>, verified: Bool) {
        self.promise = promise
        self.verified = verified
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            let operations = context.pipeline.syncOperations
            let certificate = try? operations.nioSSL_peerCertificate()
            let version = (try? operations.nioSSL_tlsVersion()).flatMap { $0 }.map(TLSSession.describe)
            promise.succeed(TLSSession(notAfter: Int64(certificate?.notValidAfter ?? 0), version: version, verified: verified))
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(CheckFailure(.reset, "connection closed during the TLS handshake"))
        context.fireChannelInactive()
    }

}

extension TLSSession {
    /// `TLSv1.2`, `TLSv1.3`.
    static func describe(_ version: TLSVersion) -> String {
        switch version {
        case .tlsv1: "TLSv1.0"
        case .tlsv11: "TLSv1.1"
        case .tlsv12: "TLSv1.2"
        case .tlsv13: "TLSv1.3"
        }
    }
}

extension Network {
    /// Puts TLS in front of everything already on `channel`'s pipeline (an upgrade such as SMTP's
    /// STARTTLS, or TLS from the first byte). The handshake starts at once; bytes written meanwhile
    /// wait for it, and a failed handshake surfaces as an error on the next read.
    /// `installing` runs on the channel's event loop right as the TLS handler goes in, before any further
    /// byte is read: what it observes is exactly what arrived in plaintext.
    package func startTLS(on channel: any Channel, serverName: String, verify: Bool,
                         installing: @escaping @Sendable () -> Void = {}) async throws(NetFailure) {
        let context: NIOSSLContext
        do {
            context = try tls.context(verify: verify)
        } catch {
            throw NetFailure(error)
        }
        let hostname = IPAddress(serverName) == nil ? serverName : nil
        do {
            try await channel.eventLoop.submit {
                try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: hostname), position: .first)
                installing()
            }.get()
        } catch {
            throw NetFailure(Network.classify(error, address: channel.remoteAddress))
        }
    }

    /// The check failure an error of a connection made by this network stands for.
    package static func failure(_ error: any Error, on channel: any Channel) -> CheckFailure {
        classify(error, address: channel.remoteAddress)
    }
}
