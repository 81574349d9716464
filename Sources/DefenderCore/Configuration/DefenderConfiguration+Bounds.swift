extension DefenderConfiguration {
    /// The largest limit or entry count accepted.
    public static let maximumCount = 1_000_000_000
    /// The largest ``longWindowFailureLimit``: each key keeps up to one more failure time than the limit.
    public static let maximumLongWindowLimit = 10_000
    /// The longest duration accepted (ten years).
    public static let maximumDuration = Duration.seconds(10 * 366 * 24 * 3600)
}
