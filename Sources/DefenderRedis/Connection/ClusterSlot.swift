/// Which of a Redis Cluster's 16,384 slots a key belongs to: CRC16 (XMODEM) of the key, or of its hash tag (the
/// text between the first `{` and the next `}`, when not empty), modulo 16,384 — as Redis computes it.
@_spi(Internals) public enum ClusterSlot {
    /// The number of slots.
    public static let count = 16_384

    /// The slot of `key` (read in place: no copy of its bytes).
    public static func of(_ key: String) -> Int {
        var key = key
        return key.withUTF8 { slot(of: $0) }
    }

    static func slot(of bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var range = 0..<bytes.count
        if let open = bytes.firstIndex(of: UInt8(ascii: "{")),
            let close = bytes[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1
        {
            range = (open + 1)..<close
        }
        var crc: UInt16 = 0
        for index in range { crc = (crc << 8) ^ table[Int((crc >> 8) ^ UInt16(bytes[index])) & 0xFF] }
        return Int(crc & 0x3FFF)
    }

    /// The one slot of every key of a command, or `nil` when they span several (the server would answer
    /// `CROSSSLOT`); a command without keys has slot 0.
    public static func common(_ keys: [String]) -> Int? {
        guard let first = keys.first else { return 0 }
        let slot = of(first)
        for key in keys.dropFirst() where of(key) != slot { return nil }
        return slot
    }

    /// CRC16/XMODEM (polynomial 0x1021), as the Cluster specification defines it.
    public static func crc16(_ bytes: ArraySlice<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes { crc = (crc << 8) ^ table[Int((crc >> 8) ^ UInt16(byte)) & 0xFF] }
        return crc
    }

    /// Checks `of(_:)`'s in-place reading against the plain definition (tests).
    public static func slotByDefinition(_ key: String) -> Int {
        var bytes = Array(key.utf8)[...]
        if let open = bytes.firstIndex(of: UInt8(ascii: "{")),
            let close = bytes[bytes.index(after: open)...].firstIndex(of: UInt8(ascii: "}")), close > bytes.index(after: open)
        {
            bytes = bytes[bytes.index(after: open)..<close]
        }
        return Int(crc16(bytes) & 0x3FFF)
    }

    private static let table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index) << 8
        for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        return crc
    }
}
