package import NIOCore
import NIOPosix
import Synchronization
package import UptickCore

/// uptick's own stub resolver, on NIO: nothing about one customer's names can hold up anyone else's lookups.
///
/// - Every lookup is asynchronous (no thread waits on DNS) and each caller waits at most until its own
///   deadline: a silent zone costs its owner's checks their time, nobody else's.
/// - A and AAAA are asked in parallel, over UDP with a fresh random source port and id per query, then TCP
///   when the answer is truncated; answers that do not match the query are dropped (``DNSTransport``).
/// - Names are asked exactly as written, fully qualified; `/etc/hosts` answers first, as glibc does.
/// - Answers are cached for their TTL, negative ones too (RFC 2308), in a cache of bounded size; lookups of
///   one name already under way are joined, not repeated.
/// - At most ``ResolverConfiguration/lookupsPerZone`` lookups per zone are on the network at once, so one
///   customer's thousands of names under a slow zone cannot flood the nameserver everyone shares.
package final class DNSResolver: NameResolver, Sendable {
    /// What the cache and the network have done so far.
    package struct Statistics: Sendable, Hashable {
        /// Name/type pairs answered from the cache (or the hosts file) without a query.
        package var cacheHits = 0
        /// Lookups that joined one already under way.
        package var joined = 0
        /// Lookups that went to the network.
        package var misses = 0
        /// Queries sent (a lookup sends one per try; A and AAAA are two lookups).
        package var queries = 0
        package var failures = 0
    }

    /// The longest a shared lookup runs, whoever waits for it: the longest check's deadline.
    static let maxLookupTime: TimeAmount = .seconds(10)
    /// Lookups of one zone that may wait for a turn; past that they fail at once.
    static let maxQueuedPerZone = 1_000
    /// Longest CNAME chain followed inside one answer.
    static let maxCNAMEs = 8
    /// Addresses kept per name and type (a hostile zone may answer thousands).
    static let maxAddresses = 32
    /// Negative answers are kept at most this long (RFC 2308 §5 suggests up to 3 hours; a monitor wants to
    /// notice a fixed name soon), and this long when the server sent no SOA.
    static let maxNegativeTTL: UInt32 = 300
    static let defaultNegativeTTL: UInt32 = 30
    /// Positive answers are kept at most a day (RFC 8767 §4).
    static let maxTTL: UInt32 = 86_400

    package let configuration: ResolverConfiguration
    let group: any EventLoopGroup
    private let state: Mutex<State>

    private struct State {
        var cache: DNSCache
        var inFlight: [DNSCache.Key: EventLoopFuture<[IPAddress]>] = [:]
        var zones: [String: Zone] = [:]
        var statistics = Statistics()
    }

    private struct Zone {
        var running = 0
        var waiting: [@Sendable () -> Void] = []
        var head = 0
    }

    package init(configuration: ResolverConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.group = group
        self.state = Mutex(State(cache: DNSCache(capacity: configuration.cacheEntries)))
    }

    package var statistics: Statistics { state.withLock { $0.statistics } }

    package func lookup(_ name: String, families: AddressFamilies, deadline: NIODeadline) async throws(CheckFailure) -> [IPAddress] {
        let canonical = DNSMessage.canonical(name)
        if let listed = configuration.hosts[canonical] {
            state.withLock { $0.statistics.cacheHits += 1 }
            return listed.filter { families.includes($0) }
        }
        switch families {
        case .ipv4: return try await lookup(canonical, .a, deadline: deadline)
        case .ipv6: return try await lookup(canonical, .aaaa, deadline: deadline)
        case .both:
            async let v4 = result(canonical, .a, deadline: deadline)
            async let v6 = result(canonical, .aaaa, deadline: deadline)
            let (four, six) = await (v4, v6)
            // One family answering is enough; both failing reports the IPv4 failure.
            switch (four, six) {
            case (.success(let a), .success(let aaaa)): return a + aaaa
            case (.success(let a), .failure(let failure)): if a.isEmpty { throw failure } else { return a }
            case (.failure(let failure), .success(let aaaa)): if aaaa.isEmpty { throw failure } else { return aaaa }
            case (.failure(let failure), .failure): throw failure
            }
        }
    }

    private func result(_ name: String, _ type: DNSMessage.RecordType, deadline: NIODeadline) async -> Result<[IPAddress], CheckFailure> {
        do { return .success(try await lookup(name, type, deadline: deadline)) } catch { return .failure(error) }
    }

    /// The zone a name's lookups are counted under: its last two labels, or three under a short second-level
    /// label of a country code (`example.co.uk`). Without the public suffix list this is an approximation
    /// that errs towards grouping more names together, which only makes the bound stricter for them.
    static func zone(of name: String) -> String {
        let labels = name.split(separator: ".")
        guard labels.count > 2 else { return name }
        let last = labels[labels.count - 1], second = labels[labels.count - 2]
        let keep = last.count == 2 && second.count <= 3 ? 3 : 2
        return labels.suffix(keep).joined(separator: ".")
    }

    private func lookup(_ name: String, _ type: DNSMessage.RecordType, deadline: NIODeadline) async throws(CheckFailure) -> [IPAddress] {
        let key = DNSCache.Key(name: name, type: type)
        let loop = group.any()
        enum Plan { case answered([IPAddress]), wait(EventLoopFuture<[IPAddress]>), start(EventLoopPromise<[IPAddress]>, zone: String, Bool) }
        let plan: Plan = state.withLock { state in
            if let cached = state.cache.answer(key, now: .now()) {
                state.statistics.cacheHits += 1
                return .answered(cached)
            }
            if let running = state.inFlight[key] {
                state.statistics.joined += 1
                return .wait(running)
            }
            state.statistics.misses += 1
            let promise = loop.makePromise(of: [IPAddress].self)
            state.inFlight[key] = promise.futureResult
            let zone = Self.zone(of: name)  // only for lookups that go to the network, not on the cache's path
            var counts = state.zones[zone] ?? Zone()
            defer { state.zones[zone] = counts }
            if counts.running < configuration.lookupsPerZone {
                counts.running += 1
                return .start(promise, zone: zone, true)
            }
            guard counts.waiting.count - counts.head < Self.maxQueuedPerZone else { return .start(promise, zone: zone, false) }
            let queuedAt = NIODeadline.now()
            counts.waiting.append { [self] in self.run(key, zone: zone, promise: promise, queuedAt: queuedAt) }
            return .wait(promise.futureResult)
        }
        switch plan {
        case .answered(let addresses):
            return addresses
        case .start(let promise, let zone, true):
            run(key, zone: zone, promise: promise, queuedAt: .now())
            return try await wait(promise.futureResult, until: deadline, name: name)
        case .start(let promise, _, false):
            finish(key, zone: nil, promise: promise, .failure(CheckFailure(.dns, "too many lookups waiting for the zone of \(name)")))
            return try await wait(promise.futureResult, until: deadline, name: name)
        case .wait(let future):
            return try await wait(future, until: deadline, name: name)
        }
    }

    /// Waits for a shared lookup until `deadline`; the lookup itself goes on for the others and the cache.
    private func wait(_ future: EventLoopFuture<[IPAddress]>, until deadline: NIODeadline, name: String) async throws(CheckFailure) -> [IPAddress] {
        let loop = future.eventLoop
        let mine = loop.makePromise(of: [IPAddress].self)
        let timer = loop.scheduleTask(deadline: deadline) {
            mine.fail(CheckFailure(.timeout, "the lookup of \(name) did not finish within the check's deadline"))
        }
        future.whenComplete { result in
            timer.cancel()
            mine.completeWith(result)  // ignored when the timer came first
        }
        do {
            return try await mine.futureResult.get()
        } catch let failure as CheckFailure {
            throw failure
        } catch {
            throw CheckFailure(.dns, "\(error)")
        }
    }

    /// Runs the queries of one lookup: every nameserver in turn, for every attempt, within resolv.conf's budget
    /// from now, and never past ``maxLookupTime`` after it was asked for (it may have waited for its zone).
    private func run(_ key: DNSCache.Key, zone: String, promise: EventLoopPromise<[IPAddress]>, queuedAt: NIODeadline) {
        let budget = configuration.timeout * Int64(configuration.attempts * configuration.nameservers.count)
        let lookupDeadline = min(.now() + TimeAmount(budget), queuedAt + Self.maxLookupTime)
        let tries = (0..<configuration.attempts).flatMap { _ in configuration.nameservers }
        attempt(key, tries: tries[...], deadline: lookupDeadline, lastFailure: CheckFailure(.dns, "no nameserver answered"), on: promise.futureResult.eventLoop)
            .whenComplete { [self] result in
                switch result {
                case .success(let (addresses, ttl)):
                    state.withLock { $0.cache.insert(key, addresses, ttl: ttl, now: .now()) }
                    finish(key, zone: zone, promise: promise, .success(addresses))
                case .failure(let error):
                    finish(key, zone: zone, promise: promise, .failure(error as? CheckFailure ?? CheckFailure(.dns, "\(error)")))
                }
            }
    }

    private func finish(_ key: DNSCache.Key, zone: String?, promise: EventLoopPromise<[IPAddress]>, _ result: Result<[IPAddress], CheckFailure>) {
        let next: (@Sendable () -> Void)? = state.withLock { state in
            state.inFlight[key] = nil
            if case .failure = result { state.statistics.failures += 1 }
            guard let zone, var counts = state.zones[zone] else { return nil }
            defer { state.zones[zone] = counts.running == 0 && counts.head == counts.waiting.count ? nil : counts }
            guard counts.head < counts.waiting.count else {
                counts.running -= 1
                return nil
            }
            let next = counts.waiting[counts.head]
            counts.head += 1
            if counts.head == counts.waiting.count {
                counts.waiting = []
                counts.head = 0
            }
            return next  // the slot passes to the next lookup
        }
        promise.completeWith(result.mapError { $0 as any Error })
        next?()
    }

    /// One try, then the next on a timeout or a server failure; the answer with the TTL to cache it for.
    private func attempt(_ key: DNSCache.Key, tries: ArraySlice<SocketAddress>, deadline: NIODeadline, lastFailure: CheckFailure,
                         on loop: any EventLoop) -> EventLoopFuture<([IPAddress], UInt32)> {
        let remaining = deadline - .now()
        guard let server = tries.first, remaining > .zero else { return loop.makeFailedFuture(lastFailure) }
        state.withLock { $0.statistics.queries += 1 }
        let timeout = min(TimeAmount(configuration.timeout), remaining)
        return DNSTransport.exchange(name: key.name, type: key.type, server: server, timeout: timeout, on: loop)
            .flatMapResult { message -> Result<([IPAddress], UInt32), CheckFailure> in
                switch Self.interpret(message, for: key) {
                case .answer(let addresses, let ttl): .success((addresses, ttl))
                case .tryNext(let failure): .failure(failure)
                }
            }
            .flatMapError { error in
                // No answer in time, or a server failure: the next server (or the next round) may do better.
                let failure = error as? CheckFailure ?? CheckFailure(.dns, "\(error)")
                let reason = failure.errorClass == .timeout
                    ? CheckFailure(.dns, "no answer from the nameserver within \(timeout.nanoseconds / 1_000_000) ms")
                    : CheckFailure(.dns, failure.message)
                return self.attempt(key, tries: tries.dropFirst(), deadline: deadline, lastFailure: reason, on: loop)
            }
    }

    enum Interpretation: Equatable {
        case answer([IPAddress], ttl: UInt32)
        case tryNext(CheckFailure)
    }

    /// What a response means for the name and type asked: its addresses (following a CNAME chain inside the
    /// answer) with the smallest TTL on the way; an empty answer for NXDOMAIN and NODATA, with the negative
    /// TTL of RFC 2308 §5 (the SOA's TTL, at most its minimum field); otherwise a failure worth another try.
    static func interpret(_ message: DNSMessage, for key: DNSCache.Key) -> Interpretation {
        switch message.responseCode {
        case DNSMessage.ResponseCode.noError.rawValue, DNSMessage.ResponseCode.nameError.rawValue:
            break
        case DNSMessage.ResponseCode.serverFailure.rawValue:
            return .tryNext(CheckFailure(.dns, "the nameserver answered SERVFAIL"))
        case DNSMessage.ResponseCode.refused.rawValue:
            return .tryNext(CheckFailure(.dns, "the nameserver refused the query"))
        default:
            return .tryNext(CheckFailure(.dns, "the nameserver answered with code \(message.responseCode)"))
        }
        var current = key.name
        var ttl = maxTTL
        var addresses: [IPAddress] = []
        for _ in 0...maxCNAMEs {
            for record in message.answers where record.name == current {
                switch record.data {
                case .a(let bytes) where key.type == .a:
                    addresses.append(.v4(bytes.reduce(0) { $0 << 8 | UInt32($1) }))
                    ttl = min(ttl, record.ttl)
                case .aaaa(let bytes) where key.type == .aaaa:
                    addresses.append(IPAddress(v6Bytes: bytes))
                    ttl = min(ttl, record.ttl)
                default:
                    break
                }
            }
            guard addresses.isEmpty,
                  let alias = message.answers.first(where: { $0.name == current && $0.type == DNSMessage.RecordType.cname.rawValue }),
                  case .cname(let target) = alias.data else { break }
            ttl = min(ttl, alias.ttl)
            current = target
        }
        if !addresses.isEmpty {
            var unique: [IPAddress] = []
            for address in addresses where !unique.contains(address) && unique.count < maxAddresses { unique.append(address) }
            return .answer(unique, ttl: ttl)
        }
        let soa = message.authority.lazy.compactMap { record -> UInt32? in
            if case .soa(let minimum) = record.data { min(record.ttl, minimum) } else { nil }
        }.first
        return .answer([], ttl: min(soa ?? defaultNegativeTTL, maxNegativeTTL, ttl))
    }
}

