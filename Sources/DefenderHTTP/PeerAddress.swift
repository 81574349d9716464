import DefenderCore
import NIOCore

extension IPAddress {
    /// The address of a socket peer, read from its bytes (no text round trip); `nil` for a Unix-domain socket.
    /// `sin_addr` sits at byte 4 of a `sockaddr_in` and `sin6_addr` at byte 8 of a `sockaddr_in6` on every
    /// platform NIO supports.
    package init?(socketAddress: SocketAddress) {
        switch socketAddress {
        case .v4:
            let raw = socketAddress.withSockAddr { pointer, _ in UnsafeRawPointer(pointer).loadUnaligned(fromByteOffset: 4, as: UInt32.self) }
            self = .v4(UInt32(bigEndian: raw))
        case .v6:
            let value = socketAddress.withSockAddr { pointer, _ in
                UnsafeRawBufferPointer(start: UnsafeRawPointer(pointer) + 8, count: 16).reduce(UInt128(0)) { $0 << 8 | UInt128($1) }
            }
            // An IPv4-mapped peer (a dual-stack socket) is its IPv4 address, as the text parser reads it.
            if value >> 32 == 0xFFFF { self = .v4(UInt32(truncatingIfNeeded: value)) } else { self = .v6(value) }
        case .unixDomainSocket:
            return nil
        }
    }
}
