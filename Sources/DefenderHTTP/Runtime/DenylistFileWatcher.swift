import DefenderCore
import Dispatch
import Foundation
import Logging
import Synchronization

/// Loads `DefenderConfiguration/ipDenylistFile` at boot and reloads it when it changes (its size or
/// modification time), checking every `DefenderConfiguration/ipDenylistReloadInterval` (a `DefenderPoller`
/// service calls `reload(apply:)`). File reads run on a Dispatch queue, never on an event loop or a thread of
/// the concurrency pool. A file that turns bad while the server runs keeps
/// the previous list in force and logs an error; at boot it stops start-up.
final class DenylistFileWatcher: Sendable {
    struct Version: Equatable {
        var size: Int
        var modified: Date
    }

    let path: String
    let interval: Duration
    let logger: Logger
    private let current = Mutex<(version: Version?, set: IPNetworkSet)>((nil, IPNetworkSet()))

    init(path: String, interval: Duration, logger: Logger) {
        self.path = path
        self.interval = interval
        self.logger = logger
    }

    /// The ranges loaded last.
    var set: IPNetworkSet { current.withLock { $0.set } }

    /// Reads the file now; throws a `DefenderError` naming the setting when it cannot be read or parsed.
    func loadAtBoot() throws {
        let version = try Self.version(path)
        let set = try Self.read(path)
        current.withLock { $0 = (version, set) }
        logger.info("deny-list file loaded", metadata: ["path": .string(path), "entries": "\(set.count)"])
    }

    /// Checks the file once, applying a changed list.
    func reload(apply: @Sendable (IPNetworkSet) -> Void) async {
        let path = self.path
        let known = current.withLock { $0.version }
        do {
            let loaded = try await Self.offThePool { () throws -> (Version, IPNetworkSet)? in
                let version = try Self.version(path)
                guard version != known else { return nil }
                return (version, try Self.read(path))
            }
            guard let (version, set) = loaded else { return }
            current.withLock { $0 = (version, set) }
            apply(set)
            logger.notice("deny-list file reloaded", metadata: ["path": .string(path), "entries": "\(set.count)"])
        } catch {
            logger.error("deny-list file not reloaded; the previous list stays in force", metadata: ["path": .string(path), "error": "\(error)"])
        }
    }

    /// Runs blocking file work on a Dispatch queue and resumes with its result.
    static func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .utility).async { continuation.resume(with: Result { try work() }) }
        }
    }

    static func version(_ path: String) throws -> Version {
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            return Version(
                size: (attributes[.size] as? NSNumber)?.intValue ?? 0, modified: attributes[.modificationDate] as? Date ?? .distantPast)
        } catch {
            throw DefenderError(.invalidConfiguration, "cannot read '\(path)': \(error.localizedDescription)", setting: "DEFENDER_IP_DENYLIST_FILE")
        }
    }

    /// The ranges in the file.
    static func read(_ path: String) throws -> IPNetworkSet {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DefenderError(.invalidConfiguration, "cannot read '\(path)'", setting: "DEFENDER_IP_DENYLIST_FILE")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DefenderError(.invalidConfiguration, "'\(path)' is not UTF-8 text", setting: "DEFENDER_IP_DENYLIST_FILE")
        }
        do {
            return try IPNetworkSet.parse(text, source: "DEFENDER_IP_DENYLIST_FILE")
        } catch {
            throw DefenderError(.invalidConfiguration, "'\(path)', \(error.message)", setting: "DEFENDER_IP_DENYLIST_FILE")
        }
    }
}
