// What the store operations answer: a failure's result, pages of blocks, a key's state.

/// What a recorded failure did.
public struct FailureResult: Sendable, Hashable {
    /// Set when this failure locked the request: it gets the lockout response instead of the failure.
    public var lockout: Lockout?
    /// Keys that became blocked (for ``DefenderEvent``s): the IP side first (the IP, or a shared address's pair, or
    /// the shared address itself when it sprayed), then the username, whatever order a store found them in, so
    /// that every store reports (and emits events) alike.
    public var newlyBlocked: [DefenderKey]
    /// The counters after this failure.
    public var ipFailures: Int
    /// The username's counter after this failure (0 without a username).
    public var usernameFailures: Int
    /// The keys of ``newlyBlocked`` that the long window blocked (their counter was within its limit), so that
    /// metrics and logs tell a slow attack from a fast one.
    public var longWindowBlocked: [DefenderKey]
    /// The IP's failures within the long window after this failure (0 when the window is off), so that the
    /// `RateLimit` header counts down to whichever limit comes first.
    public var ipLongWindowFailures: Int
    /// The username's failures within the long window after this failure (0 when off or without a username).
    public var usernameLongWindowFailures: Int

    /// A result; `newlyBlocked` is put in the canonical order (IP first).
    public init(
        lockout: Lockout?, newlyBlocked: [DefenderKey], ipFailures: Int, usernameFailures: Int, longWindowBlocked: [DefenderKey] = [],
        ipLongWindowFailures: Int = 0, usernameLongWindowFailures: Int = 0
    ) {
        self.lockout = lockout
        self.newlyBlocked = newlyBlocked.filter { $0.kind != .username } + newlyBlocked.filter { $0.kind == .username }
        self.ipFailures = ipFailures
        self.usernameFailures = usernameFailures
        self.longWindowBlocked = longWindowBlocked.filter { $0.kind != .username } + longWindowBlocked.filter { $0.kind == .username }
        self.ipLongWindowFailures = ipLongWindowFailures
        self.usernameLongWindowFailures = usernameLongWindowFailures
    }
}

/// One page of active blocks.
public struct BlockPage: Sendable, Hashable {
    /// The blocks, ordered by key value.
    public var blocks: [BlockInfo]
    /// Pass to the next call; `nil` on the last page.
    public var nextCursor: String?

    /// A page of blocks and the cursor of the next one.
    public init(blocks: [BlockInfo], nextCursor: String?) {
        self.blocks = blocks
        self.nextCursor = nextCursor
    }
}

/// An active block.
public struct BlockInfo: Sendable, Hashable {
    /// The blocked key.
    public var key: DefenderKey
    /// Time left; `nil` when permanent.
    public var remaining: Duration?
    /// Whether an operator set it.
    public var isManual: Bool
    /// Automatic lockouts of this key within the history window.
    public var lockoutCount: Int

    /// An active block.
    public init(key: DefenderKey, remaining: Duration?, isManual: Bool, lockoutCount: Int) {
        self.key = key
        self.remaining = remaining
        self.isManual = isManual
        self.lockoutCount = lockoutCount
    }
}

/// Everything a store knows about one key.
public struct KeyState: Sendable, Hashable {
    /// Failures still counted.
    public var failures: Int
    /// The active block, if any.
    public var block: BlockInfo?
    /// Automatic lockouts within the history window.
    public var lockoutCount: Int

    /// A key's state.
    public init(failures: Int, block: BlockInfo?, lockoutCount: Int) {
        self.failures = failures
        self.block = block
        self.lockoutCount = lockoutCount
    }
}
