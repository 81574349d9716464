/// An error with which a shared store refuses what adds data while it still answers reads: a Redis whose memory is
/// full (`OOM`), a replica (`READONLY`), one that stopped writes after a failed save (`MISCONF`) or misses its
/// replicas (`NOREPLICAS`). During such an outage ``FallbackAttemptStore`` still asks the shared store whether a
/// login is locked before it admits the login in this instance's memory, so that a block another instance wrote
/// there before the outage still refuses its attacker here.
package protocol ReadableOutage: Error {
    /// Whether the store that failed with this error still answers reads.
    var storeStillReads: Bool { get }
}

/// A shared store that can be asked whether it takes writes again, in one cheap step that adds data.
/// ``FallbackAttemptStore`` asks during an outage when a login's step succeeded without proving it (a lockout
/// answered from what the store knows locally, a read, a deletion): otherwise an outage in which only locked
/// clients knock would never be seen to end.
package protocol WriteProbe: Sendable {
    /// Returns when the store took a write; throws as its steps throw when it does not.
    func probeWrites() async throws
}
