import CSQLite
import Dispatch
import Foundation
import UptickCore

/// A SQLite file opened for uptick: WAL journal, a busy timeout, cached prepared statements.
///
/// One connection, used from one serial queue, so blocking SQLite calls never run on the Swift
/// concurrency pool and no locking is needed around the connection or its statement cache.
public final class SQLiteDatabase: SQLExecutor, @unchecked Sendable {
    /// The file path.
    public let path: String
    private let queue: DispatchQueue
    private let busyTimeout: Duration
    // Touched only on `queue`.
    private var handle: OpaquePointer
    private var statements: [String: OpaquePointer] = [:]
    /// The file the connection has open (device, inode): a file deleted or replaced under a running daemon is noticed
    /// before the next statement instead of writing into an unlinked inode that nobody will ever read.
    private var identity: FileIdentity?
    /// Its write-ahead log, as seen after a batch (the connection keeps it open, so the file at `<path>-wal` is ours).
    private var walIdentity: FileIdentity?
    /// When a checkpoint to empty the log (``trimLog()``) last failed to get past the other connections.
    private var lastFailedTrim: ContinuousClock.Instant?

    /// The log size past which a commit is followed by a checkpoint that empties it (``trimLog()``).
    package static let logLimit = 64 * 1024 * 1024

    /// The most prepared statements kept; past this the cache is emptied (the working set is small).
    static let statementCacheLimit = 64

    /// Opens (and with `create`, creates) the database at `path`.
    /// - Parameter busyTimeout: how long a write waits for another writer before failing with `.busy`.
    public init(path: String, create: Bool, busyTimeout: Duration = .seconds(5)) throws(StoreError) {
        if !create && !FileManager.default.fileExists(atPath: path) {
            throw StoreError(.unavailable, "database \(path) does not exist (run `uptick migrate` to create it)")
        }
        let (handle, identity) = try Self.open(path, create: create, busyTimeout: busyTimeout)
        (self.handle, self.identity) = (handle, identity)
        self.path = path
        self.busyTimeout = busyTimeout
        self.queue = DispatchQueue(label: "uptick.sqlite")
    }

    /// A connection to `path` (WAL, the busy timeout, extended codes) and the identity of the file it opened.
    private static func open(_ path: String, create: Bool, busyTimeout: Duration) throws(StoreError) -> (OpaquePointer, FileIdentity) {
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let reason = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            throw StoreError(.unavailable, "cannot open database \(path): \(reason)")
        }
        sqlite3_busy_timeout(db, Int32(clamping: busyTimeout.wholeMilliseconds))
        sqlite3_extended_result_codes(db, 1)
        // WAL lets readers (the backend API, `uptick status`) run beside the runner's writes; NORMAL sync is durable
        // against process crashes, which is the failure we design for. The journal mode creates the file, so the
        // identity is read after it. The log is cut back to 64 MB whenever it starts over (SQLite otherwise keeps a log
        // file at the largest size it ever reached), and emptied after a commit that finds it larger (``trimLog()``).
        let pragmas = ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA journal_size_limit = 67108864"]
        for pragma in pragmas where sqlite3_exec(db, pragma, nil, nil, nil) != SQLITE_OK {
            let reason = String(cString: sqlite3_errmsg(db))
            sqlite3_close_v2(db)
            throw StoreError(.unavailable, "cannot open database \(path): \(reason)")
        }
        guard let identity = FileIdentity(path: path) else {
            sqlite3_close_v2(db)
            throw StoreError(.unavailable, "cannot open database \(path): it vanished while being opened")
        }
        return (db, identity)
    }

    /// Before each batch: the file at `path` must still be the one open. Deleted or replaced (a restore, a `mv` of a
    /// copy), the old connection is let go, and the file now at the path (if any) is opened; with none there, the batch
    /// fails as unavailable (the engine keeps its results, retries and says so once) instead of writing into an
    /// unlinked inode that nobody will read.
    private func checkFile() throws(StoreError) {
        let current = FileIdentity(path: path)
        if let identity, current == identity { return }
        if identity != nil {
            // Closing checkpoints into the old file, then deletes `<path>-wal` by name: right if that is still the old
            // file's log (the file was moved away or deleted without it), wrong if it is the new file's.
            if walIdentity == nil || FileIdentity(path: path + "-wal") != walIdentity {
                var persist: Int32 = 1
                sqlite3_file_control(handle, "main", SQLITE_FCNTL_PERSIST_WAL, &persist)
            }
            walIdentity = nil
            for statement in statements.values { sqlite3_finalize(statement) }
            statements.removeAll()
            sqlite3_close_v2(handle)
            handle = Self.placeholder()
            identity = nil
        }
        guard current != nil else {
            throw StoreError(.unavailable, "the database file \(path) was deleted under uptick: nothing is written until a file is back at that path")
        }
        (handle, identity) = try Self.open(path, create: false, busyTimeout: busyTimeout)
    }

    /// A connection to nothing, held while no file is open, so `handle` is always valid (no batch runs on it:
    /// ``checkFile()`` comes first).
    private static func placeholder() -> OpaquePointer {
        var db: OpaquePointer?
        sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil)
        return db!
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
    }

    /// Runs the batch on the connection's queue; with `transaction`, in one `BEGIN IMMEDIATE` transaction.
    public func execute(_ batch: [SQLStatement], transaction: Bool) async throws(StoreError) -> [SQLRows] {
        let result: Result<[SQLRows], StoreError> = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: Result { () throws(StoreError) in try self.runBatch(batch, transaction: transaction) })
            }
        }
        return try result.get()
    }

    /// Runs a batch synchronously on the calling thread. Only from `queue`.
    private func runBatch(_ batch: [SQLStatement], transaction: Bool) throws(StoreError) -> [SQLRows] {
        try checkFile()
        defer { if walIdentity == nil { walIdentity = FileIdentity(path: path + "-wal") } }
        guard transaction else { return try batch.map { statement throws(StoreError) in try run(statement) } }
        // IMMEDIATE takes the write lock up front, so the busy timeout applies here and a
        // transaction never fails half-way because another writer committed in between.
        try run("BEGIN IMMEDIATE")
        do {
            let results = try batch.map { statement throws(StoreError) in try run(statement) }
            try run("COMMIT")
            trimLog()
            return results
        } catch {
            if sqlite3_get_autocommit(handle) == 0 { _ = try? run("ROLLBACK") }
            throw error
        }
    }

    /// SQLite's own checkpoints copy the log into the file after commits but start the log over only when no other
    /// connection is using it; two processes writing by turns (a `uptick prune` from cron beside the daemon) kept it
    /// from ever starting over, and it grew past 1 GB in the soak (BENCHMARKS.md, "Soak"). So a commit that leaves it
    /// past ``logLimit`` is followed by a truncating checkpoint, which waits for the others at most 50 ms; after one
    /// that could not get past them, none is tried for a second (a reader that never lets go costs at most 5 %).
    private func trimLog() {
        var info = stat()
        guard stat(path + "-wal", &info) == 0, Int(info.st_size) > Self.logLimit else { return }
        let now = ContinuousClock.now
        if let lastFailedTrim, now - lastFailedTrim < .seconds(1) { return }
        sqlite3_busy_timeout(handle, 50)
        defer { sqlite3_busy_timeout(handle, Int32(clamping: busyTimeout.wholeMilliseconds)) }
        let rc = sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_TRUNCATE, nil, nil)
        lastFailedTrim = rc == SQLITE_OK ? nil : now
    }

    @discardableResult
    private func run(_ sql: String) throws(StoreError) -> SQLRows { try run(SQLStatement(sql)) }

    private func run(_ statement: SQLStatement) throws(StoreError) -> SQLRows {
        let prepared = try prepare(statement.sql)
        defer {
            sqlite3_reset(prepared)
            sqlite3_clear_bindings(prepared)
        }
        for (offset, argument) in statement.arguments.enumerated() {
            try check(bind(argument, to: prepared, at: Int32(offset + 1)), statement.sql)
        }
        let columnCount = sqlite3_column_count(prepared)
        var rows: [[SQLValue]] = []
        while true {
            let rc = sqlite3_step(prepared)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { try check(rc, statement.sql); break }
            rows.append((0..<columnCount).map { column(prepared, $0) })
        }
        let columns = (0..<columnCount).map { String(cString: sqlite3_column_name(prepared, $0)) }
        var result = SQLRows(columns: columns, rows: rows)
        result.changes = Int64(sqlite3_changes64(handle))
        return result
    }

    private func prepare(_ sql: String) throws(StoreError) -> OpaquePointer {
        if let cached = statements[sql] { return cached }
        if statements.count >= Self.statementCacheLimit {
            for statement in statements.values { sqlite3_finalize(statement) }
            statements.removeAll(keepingCapacity: true)
        }
        var prepared: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &prepared, nil)
        try check(rc, sql)
        guard let prepared else { throw StoreError(.failed, "empty SQL statement") }
        statements[sql] = prepared
        return prepared
    }

    private func bind(_ value: SQLValue, to statement: OpaquePointer, at index: Int32) -> Int32 {
        switch value {
        case .null: sqlite3_bind_null(statement, index)
        case .integer(let value): sqlite3_bind_int64(statement, index, value)
        case .real(let value): sqlite3_bind_double(statement, index, value)
        case .text(let value): sqlite3_bind_text(statement, index, value, -1, Self.transient)
        case .blob(let bytes): bytes.withUnsafeBytes { sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), Self.transient) }
        }
    }

    private func column(_ statement: OpaquePointer, _ index: Int32) -> SQLValue {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, index))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, index))
        case SQLITE_TEXT: return .text(String(cString: sqlite3_column_text(statement, index)))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(statement, index))
            guard count > 0, let bytes = sqlite3_column_blob(statement, index) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default: return .null
        }
    }

    private func check(_ rc: Int32, _ sql: String) throws(StoreError) {
        guard rc != SQLITE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE else { return }
        let message = String(cString: sqlite3_errmsg(handle))
        switch rc & 0xFF {
        case SQLITE_BUSY, SQLITE_LOCKED:
            throw StoreError(.busy, "database \(path) is locked by another writer and stayed locked past the busy timeout: \(message)")
        case SQLITE_CONSTRAINT:
            throw StoreError(.constraint, message)
        case SQLITE_FULL:
            // A transaction that cannot be written is rolled back whole: the results wait in memory until space is freed.
            throw StoreError(.unavailable, "the disk holding database \(path) is full: \(message)")
        case SQLITE_NOTADB, SQLITE_CANTOPEN, SQLITE_CORRUPT, SQLITE_READONLY, SQLITE_IOERR, SQLITE_PERM:
            throw StoreError(.unavailable, "database \(path) is unusable: \(message)")
        default:
            throw StoreError(.failed, "\(message) (in: \(sql.prefix(120)))")
        }
    }

    /// SQLITE_TRANSIENT: SQLite copies the bound bytes before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}

/// Which file a path names: its device and inode.
struct FileIdentity: Equatable {
    let device: UInt64
    let inode: UInt64

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}
