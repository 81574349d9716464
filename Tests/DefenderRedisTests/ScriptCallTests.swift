@testable @_spi(Internals) import DefenderRedis
import DefenderCore
import Foundation
import Testing

/// The typed Swift–Lua protocol: every slot a script reads is named by its prologue, and absence is sent as absence.
struct ScriptCallTests {
    /// No script reads a slot by position outside its generated prologue: the prologue has exactly one `KEYS[i]`
    /// or `ARGV[i]` per field, and the whole source has no others.
    @Test func scriptsReadSlotsOnlyByName() throws {
        let scripts: [(String, String, Int)] = [
            ("check", CheckCall.script.source, CheckCall.fields.count), ("admit", AdmitCall.script.source, AdmitCall.fields.count),
            ("inFlight", InFlightCall.script.source, InFlightCall.fields.count),
            ("release", ReleaseCall.script.source, ReleaseCall.fields.count),
            ("recordFailure", RecordFailureCall.script.source, RecordFailureCall.fields.count),
            ("recordSuccess", RecordSuccessCall.script.source, RecordSuccessCall.fields.count),
            ("block", BlockCall.script.source, BlockCall.fields.count), ("unblock", UnblockCall.script.source, UnblockCall.fields.count),
            ("blocks", BlocksCall.script.source, BlocksCall.fields.count), ("state", StateCall.script.source, StateCall.fields.count),
            ("recordUnlockMail", RecordUnlockMailCall.script.source, RecordUnlockMailCall.fields.count),
            ("redeemUnlockLink", RedeemUnlockLinkCall.script.source, RedeemUnlockLinkCall.fields.count),
        ]
        #expect(scripts.count == RedisScripts.all.count)
        for (name, source, fields) in scripts {
            let positional = source.components(separatedBy: "KEYS[").count - 1 + source.components(separatedBy: "ARGV[").count - 1
            // An optional argument's prologue line reads its slot twice (presence, then value); a list, once.
            let optional = source.components(separatedBy: "string.sub(ARGV[").count - 1
            #expect(positional - optional == fields, "\(name): \(positional - optional) positional reads for \(fields) fields")
            #expect(source.hasPrefix("#!lua"), "\(name) has no shebang")
        }
    }

    /// Without a username, no username key is sent (not even an empty name), and an absent reservation is an
    /// empty slot that the prologue turns into `nil`, never a value.
    @Test func absenceIsSentAsAbsence() throws {
        let policy = EncodedPolicy(LockoutPolicy(DefenderConfiguration()))
        let keys = OutcomeKeys(failed: "f", blocked: "b", history: "h", index: "i", expiry: "e", inflight: "n", long: "l", member: "10.0.0.1")
        let anonymous = RecordFailureCall(
            ip: keys, address: keys, spray: "s", sprayLimit: "0", isPair: false, user: nil, pair: nil, reservation: nil, jitterMS: 0, nonce: "1",
            policy: policy).encoded
        // The IP's keys, spraying's, the long window's, then the address's (the IP's own here: not a shared address).
        #expect(anonymous.keys == ["f", "b", "h", "i", "e", "n", "s", "l", "b", "h", "i", "e", "n"])
        #expect(!anonymous.keys.contains(""))
        let withUser = RecordFailureCall(
            ip: keys, address: keys, spray: "s", sprayLimit: "0", isPair: false, user: keys, pair: "p", reservation: "00ff", jitterMS: 0, nonce: "1",
            policy: policy).encoded
        #expect(withUser.keys.count == 21)
        #expect(withUser.arguments.count == anonymous.arguments.count)
        #expect(anonymous.arguments.contains("") && withUser.arguments.contains("=00ff"))
        #expect(RecordFailureCall.prologue.contains("local has_user = failed_user ~= nil"))
        #expect(BlockCall(blocked: "b", index: "i", expiry: "e", member: "m", lastsMS: nil, channel: "c", note: "ip:m").encoded.arguments == ["m", "", "c", "ip:m"])
        #expect(BlockCall(blocked: "b", index: "i", expiry: "e", member: "m", lastsMS: 5, channel: "c", note: "ip:m").encoded.arguments == ["m", "=5", "c", "ip:m"])
    }
}
