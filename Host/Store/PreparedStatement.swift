import GRDB
import GRDBSQLite

/// A statement GRDB prepared and caches, bound and stepped through the C API.
/// The append path writes every state change of every run; binding values
/// one by one spares it the boxing of `StatementArguments`.
struct PreparedStatement {
    let handle: OpaquePointer
    let database: Database

    init(_ database: Database, _ sql: String) throws {
        handle = try database.cachedStatement(sql: sql).sqliteStatement
        self.database = database
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    func bind(_ index: Int32, _ text: String) {
        sqlite3_bind_text(handle, index, text, -1, Self.transient)
    }

    func bind(_ index: Int32, _ text: String?) {
        if let text { bind(index, text) } else { sqlite3_bind_null(handle, index) }
    }

    /// JSON text held as bytes.
    func bind(_ index: Int32, json bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { buffer in
            _ = sqlite3_bind_text(handle, index, UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self),
                                  Int32(buffer.count), Self.transient)
        }
    }

    func bind(_ index: Int32, _ value: Int64) { sqlite3_bind_int64(handle, index, value) }

    func bind(_ index: Int32, _ value: Double) { sqlite3_bind_double(handle, index, value) }

    func bind(_ index: Int32, _ value: Double?) {
        if let value { bind(index, value) } else { sqlite3_bind_null(handle, index) }
    }

    /// Runs a statement that returns no rows.
    func run() throws {
        defer { sqlite3_reset(handle) }
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE || code == SQLITE_ROW else { throw error(code) }
    }

    /// Runs a statement and reads the first column of its first row, if any.
    func firstInteger() throws -> Int64? {
        defer { sqlite3_reset(handle) }
        let code = sqlite3_step(handle)
        if code == SQLITE_ROW { return sqlite3_column_int64(handle, 0) }
        guard code == SQLITE_DONE else { throw error(code) }
        return nil
    }

    private func error(_ code: Int32) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(database.sqliteConnection)),
                      sql: String(cString: sqlite3_sql(handle)))
    }
}
