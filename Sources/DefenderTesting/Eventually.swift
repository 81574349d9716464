/// Polls `condition` until it holds or `limit` has passed: for tests that wait on background work (a mail sent, a
/// replica promoted) without a fixed sleep. A condition that throws has not held yet.
/// - Parameters:
///   - limit: how long to wait at most.
///   - interval: how long to sleep between two polls.
///   - condition: what to wait for.
/// - Returns: whether it held in time.
/// - Throws: `CancellationError` when the test is cancelled while waiting.
public func eventually(
    within limit: Duration = .seconds(10), every interval: Duration = .milliseconds(20), _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + limit
    while true {
        if (try? await condition()) == true { return true }
        guard ContinuousClock.now < deadline else { return false }
        try await Task.sleep(for: interval)
    }
}
