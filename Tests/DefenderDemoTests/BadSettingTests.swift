import DefenderTesting
import Foundation
import Testing

/// A bad value of each kind of setting stops either demo with exactly one line that names the variable (and
/// never echoes a password), and exit status 1: no crash, no stack trace.
@Suite struct BadSettingTests {
    /// (variable, bad value, what the line must also say)
    static let cases: [(String, String, String)] = [
        ("DEFENDER_LOGIN_FAILURE_LIMIT", "abc", "whole number"),
        ("DEFENDER_USE_CELERY", "maybe", "true/false"),
        ("DEFENDER_TRUSTED_PROXIES", "10.0.0.300/8", "CIDR"),
        ("DEFENDER_STORE_FAILURE_POLICY", "sometimes", "fallback"),
        ("DEFENDER_STORE", "mongo", "memory"),
        ("DEFENDER_LOCKOUT_STATUS", "500", "403"),
        ("DEFENDER_IP_DENYLIST_FILE", "/nonexistent/denylist.txt", "cannot read"),
        ("DEFENDER_SHARED_IP_RANGES", "100.64.0.0/99", "CIDR"),
        ("DEFENDER_IP_ALLOWLIST", "198.51.100.10/1", "128.0.0.0/1"),
        ("DEFENDER_SHARED_IP_RANGES_FILE", "/nonexistent/shared.txt", "cannot read"),
        ("DEMO_BCRYPT_COST", "3", "DEMO_BCRYPT_COST"),
        ("DATABASE_URL", "mysql://u:hunter2@h/db", "sqlite"),
    ]

    @Test(arguments: DemoFramework.allCases, 0..<cases.count)
    func badValueStopsWithOneLine(_ framework: DemoFramework, _ index: Int) async throws {
        guard let executable = framework.executable() else { return }
        let (name, value, fragment) = Self.cases[index]
        var environment = ["DATABASE_URL": "sqlite::memory:"]
        environment[name] = value
        let (status, output) = try await ServerProcess.run(executable, ["serve", "--port", "1"], environment: environment)
        let lines = output.split(separator: "\n", omittingEmptySubsequences: true)
        #expect(status == 1, "\(name)=\(value): exit \(status)\n\(output)")
        #expect(lines.count == 1, "\(name)=\(value):\n\(output)")
        #expect(output.hasPrefix(executable.lastPathComponent + ": ") && output.contains(name), "\(output)")
        #expect(output.lowercased().contains(fragment.lowercased()), "\(name): \(output)")
        #expect(!output.contains("hunter2"))
    }
}
