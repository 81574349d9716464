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
            ("probeWrites", ProbeWritesCall.script.source, ProbeWritesCall.fields.count),
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

    /// Each script's shebang flag matches what it does, so that Redis judges it rightly when memory is full (`OOM`)
    /// or on a replica (`READONLY`): `no-writes` scripts only read; `allow-oom` scripts add nothing (they run when
    /// memory is full, to free it); a script flagged as one that writes does add data (else a full Redis refused a
    /// step that would have run — the block list and a key's state once did, and a device cookie was distrusted).
    /// The commands counted are the body's own and those of the shared functions it calls, transitively.
    @Test func scriptFlagsMatchTheirCommands() throws {
        let reads: Set<String> = ["GET", "PTTL", "TTL", "ZCOUNT", "ZCARD", "ZRANGE", "ZRANGEBYSCORE", "ZRANGEBYLEX", "ZSCORE", "EXISTS", "HGET", "HGETALL", "TIME", "TYPE"]
        let addsData: Set<String> = ["SET", "SETEX", "PSETEX", "SETNX", "ZADD", "HSET", "HSETNX", "SADD", "INCR", "INCRBY", "HINCRBY", "LPUSH", "RPUSH", "APPEND"]
        let functions = Self.functions(in: RedisScripts.prelude)
        for script in RedisScripts.all {
            let body = script.source.replacingOccurrences(of: RedisScripts.prelude, with: "")
            let used = Self.commands(in: body, functions: functions)
            let name = body.split(separator: "\n").dropFirst().first { !$0.hasPrefix("local ") }.map(String.init) ?? script.sha1
            if script.source.hasPrefix("#!lua flags=no-writes") {
                #expect(used.isSubset(of: reads), "a no-writes script runs \(used.subtracting(reads).sorted()): \(name)")
            } else if script.source.hasPrefix("#!lua flags=allow-oom") {
                #expect(used.isDisjoint(with: addsData), "an allow-oom script adds data with \(used.intersection(addsData).sorted()): \(name)")
            } else {
                #expect(!used.isDisjoint(with: addsData), "a script flagged as writing adds nothing (\(used.sorted())): \(name)")
            }
        }
    }

    /// The commands `lua` runs itself and through the shared functions it calls.
    static func commands(in lua: String, functions: [String: String], seen: Set<String> = []) -> Set<String> {
        var found = Set(lua.components(separatedBy: "redis.call('").dropFirst().map { String($0.prefix { $0 != "'" }) })
        for (name, body) in functions where !seen.contains(name) && lua.contains(name + "(") {
            found.formUnion(commands(in: body, functions: functions, seen: seen.union([name])))
        }
        return found
    }

    /// The shared functions of the prelude by name, each with its text.
    static func functions(in prelude: String) -> [String: String] {
        var result: [String: String] = [:]
        for chunk in prelude.components(separatedBy: "local function ").dropFirst() {
            result[String(chunk.prefix { $0 != "(" })] = chunk
        }
        return result
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
