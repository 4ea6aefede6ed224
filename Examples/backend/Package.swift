// swift-tools-version:6.1
import PackageDescription

/// A backend API's side of uptick, as a separate package: it sees only what uptick makes public (the domain in
/// UptickCore, the catalogue in UptickStore), exactly as a backend written in Swift would. See docs/library.md.
let package = Package(
    name: "backend-example",
    dependencies: [.package(name: "uptick", path: "../..")],
    targets: [
        .executableTarget(
            name: "backend-example",
            dependencies: [
                .product(name: "UptickCore", package: "uptick"),
                .product(name: "UptickStore", package: "uptick"),
            ],
            path: "Sources"
        ),
    ]
)
