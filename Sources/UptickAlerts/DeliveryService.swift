import ServiceLifecycle

/// The deliverer as a lifecycle service: ``Deliverer/run(doorbell:)`` until the group shuts down.
package struct DeliveryService: Service {
    let deliverer: Deliverer
    let doorbell: Doorbell

    package init(deliverer: Deliverer, doorbell: Doorbell) {
        self.deliverer = deliverer
        self.doorbell = doorbell
    }

    package func run() async {
        _ = await deliverer.run(doorbell: doorbell)
    }
}
