import Foundation
import Testing

/// Sources/CGlibcCompat defines `hypot`, `hypotf`, `std::condition_variable::wait` and `_dl_find_object`
/// for the objects linked into `uptick`, each forwarding to an older version of the same symbol. Those
/// definitions must stay inside the binary: exported, they answer the dynamic linker's lookup of the
/// version they forward to, and the forwarding call calls itself until the stack runs out (a test run
/// crashed that way when two threads raced through ICU's initialisation). This bundle links the same
/// objects as the binary; scripts/package-lambda.sh checks the shipped `bootstrap` the same way.
@Suite("glibc compatibility shims")
struct GlibcCompatTests {
    /// Each shim and the library whose definition a lookup by name must find.
    static let shims = [
        ("hypot", "libm.so.6"), ("hypotf", "libm.so.6"), ("_dl_find_object", "libc.so.6"),
        ("_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE", "libstdc++.so.6"),
    ]

    @Test("no shim is exported: a lookup by name finds the C library's own definition", arguments: shims)
    func notExported(name: String, library: String) throws {
        let handle = try #require(dlopen(library, RTLD_LAZY | RTLD_NOLOAD), "\(library) is loaded")
        defer { dlclose(handle) }
        let own = try #require(dlsym(handle, name))
        #expect(dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) == own)
    }

    @Test("hypot, called by name, returns")
    func hypotByName() throws {
        let symbol = try #require(dlsym(UnsafeMutableRawPointer(bitPattern: 0), "hypot"))
        let hypot = unsafeBitCast(symbol, to: (@convention(c) (Double, Double) -> Double).self)
        #expect(hypot(3, 4) == 5)
    }
}
