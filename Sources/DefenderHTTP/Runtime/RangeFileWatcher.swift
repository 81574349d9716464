import DefenderCore
import Dispatch
import Foundation
import Logging
import Synchronization

/// Loads a file of address ranges — `DefenderConfiguration/ipDenylistFile` or
/// `DefenderConfiguration/sharedIPRangesFile` — at boot and reloads it when it changes (its size or
/// modification time), checking every `DefenderConfiguration/ipDenylistReloadInterval` (a `DefenderPoller`
/// service calls `reload(apply:)`). File reads run on a Dispatch queue, never on an event loop or a thread of
/// the concurrency pool. A file that turns bad while the server runs keeps
/// the previous list in force and logs an error; at boot it stops start-up.
final class RangeFileWatcher: Sendable {
    struct Version: Equatable {
        var size: Int
        var modified: Date
    }

    let path: String
    /// The variable that names the file, for errors.
    let setting: String
    /// What the file is, for log lines (`deny-list file`).
    let name: String
    let interval: Duration
    let logger: Logger
    private let current = Mutex<(version: Version?, set: IPNetworkSet)>((nil, IPNetworkSet()))

    init(path: String, setting: String, name: String, interval: Duration, logger: Logger) {
        self.path = path
        self.setting = setting
        self.name = name
        self.interval = interval
        self.logger = logger
    }

    /// The ranges loaded last.
    var set: IPNetworkSet { current.withLock { $0.set } }

    /// Reads the file now; throws a `DefenderError` naming the setting when it cannot be read or parsed.
    func loadAtBoot() throws {
        let version = try Self.version(path, setting: setting)
        let set = try Self.read(path, setting: setting)
        current.withLock { $0 = (version, set) }
        logger.info("\(name) loaded", metadata: ["path": .string(path), "entries": "\(set.count)"])
    }

    /// Checks the file once, applying a changed list.
    func reload(apply: @Sendable (IPNetworkSet) -> Void) async {
        let (path, setting) = (self.path, self.setting)
        let known = current.withLock { $0.version }
        do {
            let loaded = try await Self.offThePool { () throws -> (Version, IPNetworkSet)? in
                let version = try Self.version(path, setting: setting)
                guard version != known else { return nil }
                return (version, try Self.read(path, setting: setting))
            }
            guard let (version, set) = loaded else { return }
            current.withLock { $0 = (version, set) }
            apply(set)
            logger.notice("\(name) reloaded", metadata: ["path": .string(path), "entries": "\(set.count)"])
        } catch {
            logger.error("\(name) not reloaded; the previous list stays in force", metadata: ["path": .string(path), "error": "\(error)"])
        }
    }

    /// Runs blocking file work on a Dispatch queue and resumes with its result.
    static func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .utility).async { continuation.resume(with: Result { try work() }) }
        }
    }

    static func version(_ path: String, setting: String) throws -> Version {
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            return Version(
                size: (attributes[.size] as? NSNumber)?.intValue ?? 0, modified: attributes[.modificationDate] as? Date ?? .distantPast)
        } catch {
            throw DefenderError(.invalidConfiguration, "cannot read '\(path)': \(error.localizedDescription)", setting: setting)
        }
    }

    /// The ranges in the file.
    static func read(_ path: String, setting: String) throws -> IPNetworkSet {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DefenderError(.invalidConfiguration, "cannot read '\(path)'", setting: setting)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DefenderError(.invalidConfiguration, "'\(path)' is not UTF-8 text", setting: setting)
        }
        do {
            return try IPNetworkSet.parse(text, source: setting)
        } catch {
            throw DefenderError(.invalidConfiguration, "'\(path)', \(error.message)", setting: setting)
        }
    }
}
