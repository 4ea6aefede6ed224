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
