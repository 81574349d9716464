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

extension ClientIPResolver {
    /// The client of a request from its socket peer and header fields, as every integration resolves it: a
    /// forwarding header from a trusted proxy whose client entry is not an address is answered `400`
    /// (`DefenderError/Code/malformedForwardingHeader`), never guessed at.
    /// - Parameters:
    ///   - peer: the socket peer (`nil`: an in-process request, or a Unix-domain socket, which is local).
    ///   - headerValues: every value of a header, in order, for a case-insensitive name.
    package func client(peer: SocketAddress?, headerValues: (String) -> [String]) throws(DefenderError) -> ClientAddress {
        do {
            return try resolve(peer: peer.flatMap(IPAddress.init(socketAddress:)), headerValues: headerValues)
        } catch {
            throw DefenderError(.malformedForwardingHeader, "The forwarding header does not hold a client address.")
        }
    }

    /// Whether a trusted proxy says the client reached it over TLS (see `forwardedHTTPS(peer:headerValues:)`), for
    /// a socket peer.
    package func forwardedHTTPS(peer: SocketAddress?, headerValues: (String) -> [String]) -> Bool {
        forwardedHTTPS(peer: peer.flatMap(IPAddress.init(socketAddress:)), headerValues: headerValues)
    }
}
