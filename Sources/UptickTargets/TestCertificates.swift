import Crypto
package import Foundation
package import NIOSSL
import SwiftASN1
import X509

/// A certificate and its key, ready for a TLS server.
package struct TestIdentity: Sendable {
    package let certificate: NIOSSLCertificate
    package let privateKey: NIOSSLPrivateKey
    /// The same two in PEM, for servers that are not NIO (the SMTP test server).
    package let certificatePEM: String
    package let privateKeyPEM: String
}

/// A throwaway certificate authority made for one test run: nothing is read from or written to disk.
package struct TestCertificateAuthority: Sendable {
    /// The CA certificate, to trust in the client under test.
    package let certificate: NIOSSLCertificate
    private let key: P256.Signing.PrivateKey
    private let name: DistinguishedName

    package init() throws {
        key = P256.Signing.PrivateKey()
        name = try DistinguishedName { CommonName("uptick test CA") }
        let now = Date()
        let ca = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now - 3600, notValidAfter: now + 3650 * 86_400, issuer: name, subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: Certificate.PrivateKey(key)
        )
        certificate = try Self.nioCertificate(ca)
    }

    /// A leaf for `names` (DNS) and `addresses` (IP), valid from `notBefore` to `notAfter`, signed by this CA,
    /// or by itself when `selfSigned`.
    package func issue(names: [String] = ["localhost"], addresses: [[UInt8]] = [[127, 0, 0, 1]],
                      notBefore: Date = Date() - 3600, notAfter: Date = Date() + 100 * 86_400, selfSigned: Bool = false) throws -> TestIdentity {
        let leafKey = P256.Signing.PrivateKey()
        let subject = try DistinguishedName { CommonName(names.first ?? "leaf") }
        let alternatives = names.map { GeneralName.dnsName($0) } + addresses.map { GeneralName.ipAddress(ASN1OctetString(contentBytes: $0[...])) }
        let leaf = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(leafKey.publicKey),
            notValidBefore: notBefore, notValidAfter: notAfter, issuer: selfSigned ? subject : name, subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(alternatives)
            },
            issuerPrivateKey: Certificate.PrivateKey(selfSigned ? leafKey : key)
        )
        return TestIdentity(
            certificate: try Self.nioCertificate(leaf),
            privateKey: try NIOSSLPrivateKey(bytes: Array(leafKey.pemRepresentation.utf8), format: .pem),
            certificatePEM: try leaf.serializeAsPEM().pemString, privateKeyPEM: leafKey.pemRepresentation
        )
    }

    private static func nioCertificate(_ certificate: Certificate) throws -> NIOSSLCertificate {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return try NIOSSLCertificate(bytes: serializer.serializedBytes, format: .der)
    }
}
