import DefenderCore
import Foundation
import Testing

/// A demo executable's `serve` process of a test's own, on a free loopback port, stopped by its PID (also when
/// dropped); and the demo's other commands run to their end.
public final class ServerProcess: @unchecked Sendable {
    /// The process.
    public let process: Process
    /// The port it serves on.
    public let port: Int
    /// `http://127.0.0.1:PORT`.
    public var base: String { "http://127.0.0.1:\(port)" }

    /// The executable `name` built next to the test bundle; `nil` (a failure under CI) when it is missing.
    public static func executable(named name: String) -> URL? {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle.main.bundleURL.deletingLastPathComponent(), Bundle.main.bundleURL,
        ].map { $0.appendingPathComponent(name) }
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) { return found }
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            Issue.record("\(name) was not built next to the tests (looked in \(candidates.map(\.path)))")
        }
        return nil
    }

    /// Runs a command to its end. - Returns: its exit status and everything it printed.
    public static func run(_ executable: URL, _ arguments: [String], environment: [String: String]) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("defender-cmd-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        try handle.close()
        return (process.terminationStatus, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
    }

    /// Runs a command to its end.
    /// - Throws: when it exits with a status other than 0.
    public static func runToEnd(_ executable: URL, _ arguments: [String], environment: [String: String]) async throws {
        let (status, output) = try await run(executable, arguments, environment: environment)
        guard status == 0 else {
            throw DefenderError(.invalidConfiguration, "\(executable.lastPathComponent) \(arguments.joined(separator: " ")) exited \(status): \(output.prefix(500))")
        }
    }

    /// Starts `serve --hostname 127.0.0.1 --port PORT` on a free port.
    public init(_ executable: URL, environment: [String: String]) async throws {
        var lastError: (any Error)?
        for _ in 0..<5 {
            let port = LoopbackPort.fresh()
            let process = Process()
            process.executableURL = executable
            process.arguments = ["serve", "--hostname", "127.0.0.1", "--port", String(port)]
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
            process.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try process.runWithStopSignalsUnblocked()
            if await LoopbackPort.waitUntilListening(port, process: process) {
                self.process = process
                self.port = port
                return
            }
            kill(process.processIdentifier, SIGKILL)
            lastError = DefenderError(.invalidConfiguration, "\(executable.lastPathComponent) did not start on \(port)")
        }
        throw lastError!
    }

    /// Sends `signal` (SIGTERM by default; SIGINT is what Ctrl-C sends), then returns the exit status (SIGKILL
    /// after ten seconds: -1).
    /// - Parameter signal: the signal that asks the server to stop.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM) -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, signal)
        for _ in 0..<1000 where process.isRunning { usleep(10_000) }
        guard !process.isRunning else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return -1
        }
        return process.terminationStatus
    }

    deinit { stop() }
}
