import Foundation
import Testing
import UptickCore
import UptickStore
import UptickTestSupport

/// The SQLite file itself going away under an open connection: deleted, or replaced by another file.
@Suite("The database file deleted or replaced under uptick")
struct FileFaultTests {
    @Test("deleted: every batch fails as unavailable and nothing is written into the unlinked file; a file put back is used")
    func deletedThenPutBack() async throws {
        let db = try await TemporaryDatabase.make()
        defer { db.remove() }
        let sqlite = try SQLiteDatabase(path: db.path, create: false)
        try await sqlite.run("CREATE TABLE t (v INTEGER)")
        try await sqlite.run("INSERT INTO t VALUES (1)")
        // A copy to put back later (a restore), then the file and its WAL are deleted.
        let backup = db.path + ".backup"
        _ = try await sqlite.execute([SQLStatement("VACUUM INTO '\(backup)'")], transaction: false)
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db.path + suffix) }
        await #expect(throws: StoreError.self) { try await sqlite.run("INSERT INTO t VALUES (2)") }
        do {
            _ = try await sqlite.execute([SQLStatement("SELECT count(*) FROM t")], transaction: false)
            Issue.record("a read of the deleted file succeeded")
        } catch {
            #expect(error.code == .unavailable && error.message.contains("was deleted under uptick"), "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: db.path), "nothing re-created the file behind the operator's back")
        // Put back: the same connection goes on, on the restored file.
        try FileManager.default.moveItem(atPath: backup, toPath: db.path)
        try await sqlite.run("INSERT INTO t VALUES (3)")
        let values = try await sqlite.execute([SQLStatement("SELECT v FROM t ORDER BY v")], transaction: false)[0].rows.compactMap { $0[0].integer }
        #expect(values == [1, 3], "the write made while the file was gone was refused, not lost in an unlinked inode")
    }

    @Test("replaced (a file moved over it): the connection reopens and uses the new file")
    func replaced() async throws {
        let db = try await TemporaryDatabase.make()
        defer { db.remove() }
        let sqlite = try SQLiteDatabase(path: db.path, create: false)
        try await sqlite.run("CREATE TABLE t (v INTEGER)")
        try await sqlite.run("INSERT INTO t VALUES (1)")
        let other = db.path + ".other"
        let replacement = try SQLiteDatabase(path: other, create: true)
        try await replacement.run("CREATE TABLE t (v INTEGER)")
        try await replacement.run("INSERT INTO t VALUES (7)")
        _ = try await replacement.execute([SQLStatement("PRAGMA wal_checkpoint(TRUNCATE)")], transaction: false)
        try FileManager.default.moveItem(atPath: db.path, toPath: db.path + ".old")
        try FileManager.default.moveItem(atPath: other, toPath: db.path)
        try await sqlite.run("INSERT INTO t VALUES (8)")
        let values = try await sqlite.execute([SQLStatement("SELECT v FROM t ORDER BY v")], transaction: false)[0].rows.compactMap { $0[0].integer }
        #expect(values == [7, 8])
        // The old file's log (left at `<path>-wal` by the move) was not replayed into the new file.
        let integrity = try await sqlite.execute([SQLStatement("PRAGMA integrity_check")], transaction: false)[0].rows.first?.first?.text
        #expect(integrity == "ok")
    }
}

/// SQLite keeps a write-ahead log at the largest size it ever reached unless told otherwise, and starts it over only
/// when no other connection uses it; the soak grew one past 1 GB (BENCHMARKS.md, "Soak").
@Suite("The write-ahead log's size")
struct WALSizeTests {
    static func logBytes(_ path: String) -> Int { (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0 }

    /// `rows` rows of 1 000 random bytes.
    static func insert(_ rows: Int) -> String {
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < \(rows)) INSERT INTO t SELECT randomblob(1000) FROM n"
    }

    @Test("a commit that leaves the log past 64 MB empties it")
    func emptiedAfterABigCommit() async throws {
        let db = try await TemporaryDatabase.make(migrated: false)
        defer { db.remove() }
        let sqlite = try SQLiteDatabase(path: db.path, create: true)
        try await sqlite.run("CREATE TABLE t (v BLOB)")
        try await sqlite.run(Self.insert(80_000))
        #expect(Self.logBytes(db.path) <= SQLiteDatabase.logLimit, "\(Self.logBytes(db.path)) bytes of log")
        #expect(try await sqlite.scalar("SELECT count(*) FROM t") == 80_000)
    }

    /// 200 transactions of 1 MB on `connection` (a prune's batch is about that); the largest log seen after one.
    static func write(_ connection: SQLiteDatabase, path: String) async throws -> Int {
        var largest = 0
        for _ in 0..<200 {
            try await connection.run(insert(1_000))
            largest = max(largest, logBytes(path))
        }
        return largest
    }

    @Test("two connections writing at once (a prune beside the daemon): the log is emptied as it goes, not the sum of their writes")
    func boundedUnderTwoWriters() async throws {
        let db = try await TemporaryDatabase.make(migrated: false)
        defer { db.remove() }
        let first = try SQLiteDatabase(path: db.path, create: true)
        let second = try SQLiteDatabase(path: db.path, create: false)
        try await first.run("CREATE TABLE t (v BLOB)")
        async let one = Self.write(first, path: db.path)
        async let other = Self.write(second, path: db.path)
        let peak = max(try await one, try await other)
        // Without the trimming checkpoint this run's log held nearly all 400 MB written (386–411 MB measured); with it,
        // 150–210 MB at most: it is emptied whenever a commit gets past the other writer within 50 ms.
        #expect(peak < 4 * SQLiteDatabase.logLimit, "the log reached \(peak) bytes")
    }
}
