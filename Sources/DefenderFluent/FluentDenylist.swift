import FluentKit

/// The stored deny list's table, `defender_denylist`: ranges refused before any password check, kept across restarts
/// whatever the attempt store.
public enum DenylistTable: RangeTable {
    /// `defender_denylist`.
    public static let schema = "defender_denylist"
    /// `Defender.CreateDenylistEntry`.
    public static let migrationName = "Defender.CreateDenylistEntry"
}

/// One range of the stored deny list (`defender_denylist`).
public typealias DenylistEntry = RangeRow<DenylistTable>

/// Creates `defender_denylist` (one row per range, unique).
public typealias CreateDenylistEntry = CreateRangeTable<DenylistTable>

/// The stored deny list in a Fluent database (`defender_denylist`): entries added from the admin API, the admin
/// page or `defender deny` (`app.defender.useStoredDenylist(_:)` in Vapor).
public typealias FluentDenylist = FluentRangeList<DenylistTable>
