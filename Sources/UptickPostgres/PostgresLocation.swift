import Foundation
package import UptickStore

/// Where a PostgreSQL database is and how to reach it, from a libpq-style URL:
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=…&sslrootcert=…]` (`postgresql://` too).
///
/// The password comes from the URL, else from `PGPASSWORD`. `sslmode` is libpq's: `disable`, `prefer` (the default:
/// TLS when the server offers it, unverified), `require` (TLS, unverified), `verify-ca` (TLS, the chain checked
/// against `sslrootcert` or the system's roots) and `verify-full` (the chain and the host name).
package struct PostgresLocation: Sendable, Equatable {
    package enum SSLMode: String, Sendable, CaseIterable {
        case disable, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    package var host: String
    package var port: Int
    package var user: String
    package var password: String?
    package var database: String
    package var sslMode: SSLMode
    /// PEM file of the certificate authorities to trust (`sslrootcert`); `nil`: the system's.
    package var rootCertificate: String?

    /// Whether `location` names a PostgreSQL database.
    package static func handles(_ location: String) -> Bool {
        location.hasPrefix("postgres://") || location.hasPrefix("postgresql://")
    }

    /// The location `url` names; `environment` supplies `PGPASSWORD` when the URL has no password.
    package init(url: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(StoreError) {
        func refuse(_ why: String) -> StoreError {
            StoreError(.unavailable, "'\(Self.redacted(url))' is not a PostgreSQL URL: \(why) (postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE)")
        }
        guard Self.handles(url), let components = URLComponents(string: url) else { throw refuse("it does not parse") }
        guard let host = components.host, !host.isEmpty else { throw refuse("no host") }
        guard let user = components.user, !user.isEmpty else { throw refuse("no user") }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else { throw refuse("no database name after the host") }
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        port = components.port ?? 5432
        self.user = user
        password = components.password ?? environment["PGPASSWORD"]
        self.database = database
        sslMode = .prefer
        rootCertificate = nil
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(SSLMode.init(rawValue:)) else {
                    throw refuse("sslmode must be one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                sslMode = mode
            case "sslrootcert":
                rootCertificate = item.value
            case "application_name", "connect_timeout":
                break  // libpq's; uptick names itself and has its own deadlines
            default:
                throw refuse("unknown parameter '\(item.name)' (uptick knows sslmode and sslrootcert)")
            }
        }
    }

    /// The host and port, for messages (never the password).
    package var endpoint: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// `url` with its password replaced, for messages and logs.
    package static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }
}
