public import ServiceLifecycle

/// The deliverer as a lifecycle service: ``Deliverer/run(doorbell:)`` until the group shuts down.
public struct DeliveryService: Service {
    let deliverer: Deliverer
    let doorbell: Doorbell

    public init(deliverer: Deliverer, doorbell: Doorbell) {
        self.deliverer = deliverer
        self.doorbell = doorbell
    }

    public func run() async {
        _ = await deliverer.run(doorbell: doorbell)
    }
}
