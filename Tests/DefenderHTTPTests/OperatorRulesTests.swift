import DefenderCore
import DefenderHTTP
import Testing

/// The operator's rules hold for every way in (the admin's page and API, the commands), because each goes
/// through `DefenderOperations`.
@Suite struct OperatorRulesTests {
    /// An operator blocks an IP or a username. A shared address's pair and a device are locked by failures only:
    /// the admin page's form accepted both kinds for blocking while its API and the commands refused them.
    @Test func onlyAddressesAndUsernamesAreBlockedByHand() async throws {
        let operations = try DefenderRuntime(configuration: DefenderConfiguration()).operations()
        let pair = try #require(try operations.key(kind: "pair", value: "100.64.0.1|alice"))
        let device = try #require(try operations.key(kind: "device", value: String(repeating: "ab", count: 16)))
        for key in [pair, device] {
            let error = await #expect(throws: DefenderError.self) { try await operations.block(key, seconds: nil) }
            #expect(error?.code == .invalidKey && error?.message.contains("only unblocked") == true, "\(key.kind)")
            #expect(try await operations.engine.store.state(of: key).block == nil)
        }
        let address = try #require(try operations.key(kind: "ip", value: "192.0.2.1"))
        try await operations.block(address, seconds: 60)
        #expect(try await operations.engine.store.state(of: address).block?.isManual == true)
        #expect(try await operations.unblock(address))
        // A duration no clock can add (it stopped the process on the Redis store) is refused, for every caller.
        for seconds in [Int.max, Int(DefenderConfiguration.maximumDuration.components.seconds) + 1] {
            let error = await #expect(throws: DefenderError.self) { try await operations.block(address, seconds: seconds) }
            #expect(error?.code == .invalidKey, "\(seconds)")
        }
        await #expect(throws: DefenderError.self) { try await operations.engine.block(address, for: .seconds(Int64.max)) }
        #expect(try await operations.engine.store.state(of: address).block == nil)
    }
}
