/// What the admin page template (`admin.mustache`, ``DefenderTemplates/admin``) is rendered with. Mustache reads
/// the properties by name and escapes every value, so no value here is ever written into the page unescaped (only
/// `stylesheet`, our own constant, is inserted raw).
struct AdminPageModel {
    struct BlockSection {
        let title: String
        let column: String
        let rows: [BlockRow]
        let hasRows: Bool
        /// The link to the next page of this list, if any.
        let more: String?
    }

    struct BlockRow {
        let key: String
        let keyKind: String
        let timeLeft: String
        let kind: String
        let lockouts: Int
    }

    /// A stored list of ranges: its heading, what it does, where its forms post, and its rows.
    struct RangeList {
        let title: String
        let about: String
        /// Below the admin's base: `denylist`, `shared-ranges`.
        let path: String
        /// The add button's label.
        let action: String
        let entries: [DenylistRow]
        let hasEntries: Bool
    }

    struct DenylistRow {
        let network: String
        let note: String
        let added: String
    }

    struct Option {
        let value: String
        let label: String
        let selected: Bool
    }

    struct Attempt {
        let time: String
        let username: String
        let ip: String
        let path: String
        let result: String
        let userAgent: String
    }

    /// Where the admin is mounted: every link and form starts here.
    let base: String
    let csrf: String
    let admin: String
    let notice: String?
    let stylesheet: String
    let blockSections: [BlockSection]
    /// The stored lists the app keeps (none, the deny list, the shared ranges).
    let rangeLists: [RangeList]
    let filterIP: String
    let filterUsername: String
    let validOptions: [Option]
    let attempts: [Attempt]
    let hasAttempts: Bool
    /// The link to older attempts, if any.
    let older: String?
}
