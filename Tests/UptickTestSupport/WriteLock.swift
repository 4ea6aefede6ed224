import CSQLite

/// Another connection holding SQLite's write lock (BEGIN IMMEDIATE), as a second writer process would.
package final class WriteLock: @unchecked Sendable {
    private var handle: OpaquePointer?

    /// Opens `path` and takes the write lock; fails if it cannot.
    package init(path: String) throws {
        guard sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK,
              sqlite3_exec(handle, "BEGIN IMMEDIATE", nil, nil, nil) == SQLITE_OK else {
            throw LockError()
        }
    }

    /// Rolls back and closes; the lock is free afterwards.
    package func release() {
        sqlite3_exec(handle, "ROLLBACK", nil, nil, nil)
        sqlite3_close_v2(handle)
        handle = nil
    }

    deinit {
        if handle != nil { release() }
    }

    struct LockError: Error {}
}
