import DefenderCore
import FluentKit
import FluentSQL
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The audit log in a Fluent database (`defender_access_attempts`), written off the login path.
///
/// In the background mode (`DEFENDER_USE_CELERY`, on by default) a login only appends its row to a bounded
/// queue; a task writes the queue in batches (one multi-row `INSERT` each). When the queue is full the row is
/// written inline instead — backpressure, never a dropped row. `shutdown()` writes everything still queued
/// (it runs as a `Service`, so graceful shutdown — SIGTERM/SIGINT — does it). The inline mode writes each row before the login
/// is answered. A write that fails is retried; rows still unwritten at shutdown are counted in the error log.
public final class FluentAccessLog: AccessAttemptLog, AccessAttemptHistory, Service {
    /// The most rows waiting at once.
    public let capacity: Int
    /// The most rows in one `INSERT`.
    public let batchSize: Int
    /// Whether rows are queued (`true`) or written inline.
    public let inBackground: Bool
    let database: @Sendable () -> any Database
    let logger: Logger

    private struct State {
        var queue: [AccessAttemptRecord] = []
        var finished = false
        var writing = 0
        /// `shutdown()` calls waiting for the last queued row to be written.
        var idleWaiters: [CheckedContinuation<Void, Never>] = []

        var isIdle: Bool { queue.isEmpty && writing == 0 }
    }

    private let state = Mutex(State())
    private let wakeUp: AsyncStream<Void>.Continuation
    private let wakeUps: AsyncStream<Void>

    /// - Parameters:
    ///   - database: the database to write to, e.g. `{ app.db }`.
    ///   - inBackground: queue rows (`true`) or write them inline.
    ///   - capacity: the queue's bound; beyond it rows are written inline.
    ///   - batchSize: the most rows per `INSERT`.
    ///   - logger: where a batch that could not be written is reported.
    ///   - gatherInterval: how long rows gather before a batch is written.
    public init(
        database: @escaping @Sendable () -> any Database, inBackground: Bool = true, capacity: Int = 10_000, batchSize: Int = 500,
        gatherInterval: Duration = .milliseconds(100), logger: Logger = Logger(label: "defender.access-log")
    ) {
        self.gatherInterval = gatherInterval
        self.database = database
        self.inBackground = inBackground
        self.capacity = max(1, capacity)
        self.batchSize = max(1, batchSize)
        self.logger = logger
        (wakeUps, wakeUp) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// The number of rows waiting.
    public var pending: Int { state.withLock { $0.queue.count + $0.writing } }

    /// Queues the row (or, when the queue is full or the mode is inline, writes it now).
    public func record(_ attempt: AccessAttemptRecord) async {
        let queued = inBackground && state.withLock { state in
            guard !state.finished, state.queue.count < capacity else { return false }
            state.queue.append(attempt)
            return true
        }
        if queued {
            wakeUp.yield()
        } else {
            await write([attempt], retries: 2)
        }
    }

    /// How long the writer lets rows gather after the first one arrives, so that a busy server writes a few
    /// large batches instead of one-row transactions (each one a journal sync in SQLite).
    public let gatherInterval: Duration

    /// Writes queued rows until `shutdown()` or graceful shutdown (which writes every queued row first); the
    /// app runs it for its lifetime, as a swift-service-lifecycle `Service`.
    public func run() async {
        await withGracefulShutdownHandler {
            for await _ in wakeUps {
                if !state.withLock({ $0.finished }) { try? await Task.sleep(for: gatherInterval) }
                await drain()
            }
            await drain()
        } onGracefulShutdown: {
            self.finishQueueing()
        }
    }

    /// Stops queueing (later rows are written inline) and returns once every queued row is written. For an app
    /// that does not run the log as a service; one that does lets graceful shutdown do this (a service that
    /// returns early ends a `ServiceGroup`).
    public func shutdown() async {
        finishQueueing()
        await flush()
    }

    /// Returns once every row queued before the call is written (by this task, or by the writer that holds them),
    /// and goes on queueing: for a reader that must see the rows, such as an admin page or a test.
    public func flush() async {
        await drain()
        // Rows another task is writing now: wait for the writer to say so, instead of polling.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { state in
                if state.isIdle { return true }
                state.idleWaiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    private func finishQueueing() {
        state.withLock { $0.finished = true }
        wakeUp.finish()
    }

    private func drain() async {
        while true {
            let batch: [AccessAttemptRecord] = state.withLock { state in
                let batch = Array(state.queue.prefix(batchSize))
                state.queue.removeFirst(batch.count)
                state.writing += batch.count
                return batch
            }
            guard !batch.isEmpty else { return }
            await write(batch, retries: 5)
            let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.writing -= batch.count
                guard state.isIdle else { return [] }
                defer { state.idleWaiters = [] }
                return state.idleWaiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    private func write(_ rows: [AccessAttemptRecord], retries: Int) async {
        var delay = Duration.milliseconds(50)
        for attempt in 0...retries {
            do {
                try await insert(rows, into: database())
                return
            } catch {
                if attempt == retries {
                    await writeOneByOne(rows, after: error)
                    return
                }
                try? await Task.sleep(for: delay)
                delay *= 2
            }
        }
    }

    /// A batch that keeps failing is written row by row: one row the database refuses (a value it cannot index,
    /// an encoding it rejects) must not take the others — perhaps an attacker's other attempts — with it.
    private func writeOneByOne(_ rows: [AccessAttemptRecord], after error: any Error) async {
        var lost = 0
        var lastError = error
        if rows.count > 1 {
            for row in rows {
                do { try await insert([row], into: database()) } catch {
                    lost += 1
                    lastError = error
                }
            }
        } else {
            lost = rows.count
        }
        if lost > 0 { logger.error("could not write \(lost) audit rows: \(String(reflecting: lastError))") }
    }

    /// One multi-row `INSERT`. On SQL databases it is built with SQLKit directly: Fluent's model path reflects
    /// over every row's properties, which a load-test profile found costing more than the insert itself.
    private func insert(_ rows: [AccessAttemptRecord], into database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else {
            try await rows.map(AccessAttempt.init).create(on: database)
            return
        }
        var insert = sql.insert(into: AccessAttempt.schema)
            .columns("attempt_time", "username", "ip_address", "user_agent", "http_accept", "path_info", "login_valid")
        for row in rows {
            insert = insert.values(SQLBind(row.attemptTime), SQLBind(row.username), SQLBind(row.ipAddress), SQLBind(row.userAgent),
                SQLBind(row.httpAccept), SQLBind(row.pathInfo), SQLBind(row.loginValid))
        }
        try await insert.run()
    }

    // MARK: Reading back

    /// The rows that match `filter`, newest first (by id), at most 1,000.
    public func attempts(matching filter: AccessAttemptFilter) async throws -> [StoredAccessAttempt] {
        var query = AccessAttempt.query(on: database()).sort(\.$id, .descending).limit(min(max(filter.limit, 1), 1_000))
        if let ip = filter.ip { query = query.filter(\.$ipAddress == ip) }
        if let username = filter.username { query = query.filter(\.$username == username) }
        if let valid = filter.valid { query = query.filter(\.$loginValid == valid) }
        if let before = filter.before { query = query.filter(\.$id < before) }
        return try await query.all().compactMap { row in
            row.id.map {
                StoredAccessAttempt(id: $0, record: AccessAttemptRecord(
                    attemptTime: row.attemptTime, username: row.username, ipAddress: row.ipAddress ?? "", userAgent: row.userAgent,
                    httpAccept: row.httpAccept, pathInfo: row.pathInfo, loginValid: row.loginValid))
            }
        }
    }

    /// Deletes rows recorded before `cutoff` (`defender cleanup`), in batches of 5,000: short transactions, no
    /// table-wide lock.
    public func deleteAttempts(before cutoff: Date) async throws -> Int {
        try await AccessAttempt.deleteOlder(than: cutoff, on: database())
    }
}

extension AccessAttempt {
    /// Deletes rows older than `cutoff`, `batchSize` at a time (short transactions, no table-wide lock).
    /// - Returns: how many rows were deleted.
    public static func deleteOlder(than cutoff: Date, batchSize: Int = 5_000, on database: any Database) async throws -> Int {
        var total = 0
        while true {
            let ids = try await AccessAttempt.query(on: database).filter(\.$attemptTime < cutoff).limit(batchSize).all(\.$id).compactMap { $0 }
            guard !ids.isEmpty else { return total }
            try await AccessAttempt.query(on: database).filter(\.$id ~~ ids).delete()
            total += ids.count
        }
    }
}
