import FluentKit

/// The stored shared ranges' table, `defender_shared_ranges`: addresses many users share, whose IP dimension counts
/// (address, username) pairs, beside `DEFENDER_SHARED_IP_RANGES` and its file.
public enum SharedRangesTable: RangeTable {
    /// `defender_shared_ranges`.
    public static let schema = "defender_shared_ranges"
    /// `Defender.CreateSharedRangeEntry`.
    public static let migrationName = "Defender.CreateSharedRangeEntry"
}

/// One stored shared range (`defender_shared_ranges`).
public typealias SharedRangeEntry = RangeRow<SharedRangesTable>

/// Creates `defender_shared_ranges` (one row per range, unique).
public typealias CreateSharedRangeEntry = CreateRangeTable<SharedRangesTable>

/// The stored shared ranges in a Fluent database (`defender_shared_ranges`): entries added from the admin API, the
/// admin page or `defender share` (`app.defender.useStoredSharedRanges(_:)` in Vapor).
public typealias FluentSharedRanges = FluentRangeList<SharedRangesTable>
