/// Runs batches of statements against one database. The seam between the store's SQL and a transport
/// (a local SQLite file now; libSQL over HTTP later).
public protocol SQLExecutor: Sendable {
    /// Runs `statements` in order and returns one ``SQLRows`` per statement.
    ///
    /// With `transaction` the batch is one write transaction: all statements take effect or none does.
    func execute(_ statements: [SQLStatement], transaction: Bool) async throws(StoreError) -> [SQLRows]
}
