/// Every way Swift turns a value into text: `dump`, `String(describing:)`, `String(reflecting:)` and string
/// interpolation; for tests that a secret is shown by none of them.
/// - Parameter value: the value to render.
/// - Returns: the four renderings.
public func everyRendering(of value: some Any) -> [String] {
    var dumped = ""
    dump(value, to: &dumped)
    return [dumped, String(describing: value), String(reflecting: value), "\(value)"]
}
