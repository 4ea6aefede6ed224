import UptickFuzz

#if FUZZING
// Built with `-sanitize=fuzzer -DFUZZING` (docs/fuzzing.md): libFuzzer drives `fuzzOne`, and UPTICK_FUZZ_TARGET names
// the parser. A broken property is a crash, which libFuzzer saves as an input. `main` hands the command line to
// libFuzzer's driver (SwiftPM links an executable's own `main`, so libFuzzer's is not used).
import Glibc

private let target: FuzzTarget = {
    let name = getenv("UPTICK_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        fatalError("set UPTICK_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let broken = target.run(bytes)
    if !broken.isEmpty { fatalError("\(target.rawValue): \(broken.joined(separator: "; "))") }
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
private func runDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@main
struct Fuzz {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        _ = target
        exit(runDriver(&argc, &argv) { fuzzOne($0, $1) })
    }
}
#else
import Foundation

/// Without libFuzzer: `uptick-fuzz TARGET FILE...` runs files (a crash input, a corpus) through one target.
@main
struct FuzzReplay {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            print("usage: uptick-fuzz TARGET FILE...  (targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")))")
            exit(2)
        }
        var failed = false
        for path in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                print("\(path): cannot be read")
                exit(2)
            }
            let broken = target.run(Array(data))
            if !broken.isEmpty {
                failed = true
                print("\(path): \(broken.joined(separator: "; "))")
            }
        }
        exit(failed ? 1 : 0)
    }
}
#endif
