import Foundation
import Testing
import UptickAWS

/// Requests from the aws-sig-v4-test-suite (the copy in awslabs/aws-c-auth, tests/aws-signing-test-suite/v4), kept here
/// as data: each is the signed request as the suite gives it; the signer must produce its Authorization header.
/// Suite context: the credentials below, region us-east-1, service "service", 2015-08-30T12:36:00Z.
enum SuiteVector {
    static let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"
    static let date = Date(timeIntervalSince1970: 1_440_938_160)

    static let signed: [String: String] = [
        "get-vanilla-query-order-key-case": #"""
            GET /?Param2=value2&Param1=value1 HTTP/1.1
            Host:example.amazonaws.com
            Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500
            X-Amz-Date:20150830T123600Z


            """#,
        "get-vanilla-query-unreserved": #"""
            GET /?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz HTTP/1.1
            Host:example.amazonaws.com
            Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197
            X-Amz-Date:20150830T123600Z


            """#,
        "get-header-value-trim": #"""
            GET / HTTP/1.1
            Host:example.amazonaws.com
            My-Header1: value1
            My-Header2: "a   b   c"
            Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;my-header2;x-amz-date, Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736
            X-Amz-Date:20150830T123600Z


            """#,
        "get-header-key-duplicate": #"""
            GET / HTTP/1.1
            Host:example.amazonaws.com
            My-Header1:value2
            My-Header1:value2
            My-Header1:value1
            Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;x-amz-date, Signature=c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea
            X-Amz-Date:20150830T123600Z


            """#,
        "get-utf8": #"""
            GET /ሴ HTTP/1.1
            Host:example.amazonaws.com
            Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85
            X-Amz-Date:20150830T123600Z


            """#,
        "post-header-key-sort": #"""
            POST / HTTP/1.1
            Host:example.amazonaws.com
            My-Header1:value1
            Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;x-amz-date, Signature=c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c
            X-Amz-Date:20150830T123600Z


            """#,
        "post-x-www-form-urlencoded": #"""
            POST / HTTP/1.1
            Content-Type:application/x-www-form-urlencoded
            Host:example.amazonaws.com
            Content-Length:13
            x-amz-content-sha256:9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e
            Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date, Signature=d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b
            X-Amz-Date:20150830T123600Z

            Param1=value1
            """#,
        "get-vanilla-with-session-token": #"""
            GET / HTTP/1.1
            Host:example.amazonaws.com
            Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8
            X-Amz-Date:20150830T123600Z
            X-Amz-Security-Token:6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267


            """#,
    ]

    /// The request without its Authorization header, and that header's value.
    static func parse(_ text: String) -> (request: SigV4Signer.Request, authorization: String) {
        let (head, body) = text.range(of: "\n\n").map { (String(text[..<$0.lowerBound]), String(text[$0.upperBound...])) } ?? (text, "")
        let lines = head.split(separator: "\n", omittingEmptySubsequences: false)
        let requestLine = lines[0].split(separator: " ")
        let target = String(requestLine[1])
        let (path, query) = target.firstIndex(of: "?").map { (String(target[..<$0]), String(target[target.index(after: $0)...])) } ?? (target, "")
        var headers: [(name: String, value: String)] = []
        var authorization = ""
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = String(line[..<colon]), value = String(line[line.index(after: colon)...])
            if name == "Authorization" { authorization = value } else { headers.append((name, value)) }
        }
        let payload = body.hasSuffix("\n") ? String(body.dropLast()) : body
        return (SigV4Signer.Request(method: String(requestLine[0]), path: path, query: query, headers: headers, body: Array(payload.utf8)), authorization)
    }
}

@Suite struct SigV4Tests {
    @Test(arguments: SuiteVector.signed.keys.sorted())
    func suiteVector(_ name: String) throws {
        let (request, expected) = SuiteVector.parse(try #require(SuiteVector.signed[name]))
        var credentials = SuiteVector.credentials
        if name.contains("session-token") { credentials.sessionToken = SuiteVector.token }
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "service")
        #expect(signer.authorization(for: request, at: SuiteVector.date) == expected)
    }

    /// The headers added to an unsigned request are the suite's, token included.
    @Test func addsDateTokenAndAuthorization() throws {
        let (signedRequest, expected) = SuiteVector.parse(try #require(SuiteVector.signed["get-vanilla-with-session-token"]))
        var credentials = SuiteVector.credentials
        credentials.sessionToken = SuiteVector.token
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "service")
        var bare = signedRequest
        bare.headers = bare.headers.filter { $0.name == "Host" }
        let added = signer.signingHeaders(for: bare, at: SuiteVector.date)
        #expect(added.map(\.name) == ["X-Amz-Date", "X-Amz-Security-Token", "Authorization"])
        #expect(added.first { $0.name == "X-Amz-Date" }?.value == "20150830T123600Z")
        #expect(added.first { $0.name == "Authorization" }?.value == expected)
    }

    /// One changed byte anywhere changes the signature (the vectors could pass with a signer that ignores the body).
    @Test func bodyAndSecretAreSigned() throws {
        let (request, expected) = SuiteVector.parse(try #require(SuiteVector.signed["post-x-www-form-urlencoded"]))
        let signer = SigV4Signer(credentials: SuiteVector.credentials, region: "us-east-1", service: "service")
        var changed = request
        changed.body[0] ^= 1
        #expect(signer.authorization(for: changed, at: SuiteVector.date) != expected)
        var otherSecret = signer
        otherSecret.credentials.secretAccessKey += "x"
        #expect(otherSecret.authorization(for: request, at: SuiteVector.date) != expected)
    }

    @Test func credentialsFromTheEnvironment() throws {
        let full = try AWSCredentials.environment(["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token"])
        #expect(full == AWSCredentials(accessKeyID: "AKID", secretAccessKey: "secret", sessionToken: "token"))
        #expect(try AWSCredentials.environment(["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": ""]).sessionToken == nil)
        #expect(throws: AWSConfigurationError.self) { try AWSCredentials.environment(["AWS_ACCESS_KEY_ID": "AKID"]) }
    }
}
