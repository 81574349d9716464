/// An error with which a shared store refuses what adds data while it still answers reads: a Redis whose memory is
/// full (`OOM`), a replica (`READONLY`), one that stopped writes after a failed save (`MISCONF`) or misses its
/// replicas (`NOREPLICAS`). During such an outage ``FallbackAttemptStore`` still asks the shared store whether a
/// login is locked before it admits the login in this instance's memory, so that a block another instance wrote
/// there before the outage still refuses its attacker here.
package protocol ReadableOutage: Error {
    /// Whether the store that failed with this error still answers reads.
    var storeStillReads: Bool { get }
}
