import UptickNet

extension AddressPolicy {
    /// Public-only, plus 127.0.0.1 (where the tests' allowed servers listen). The rest of loopback,
    /// 127.0.0.2 and up, stays denied: that is where the tests put the servers nothing may reach.
    public static let testLoopback = AddressPolicy(allow: [Rule(CIDR("127.0.0.1/32")!)])
}

extension Network {
    /// A network under ``AddressPolicy/testLoopback``.
    public static let testLoopback = Network(policy: .testLoopback)
}
