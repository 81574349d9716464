extension String {
    /// The longest prefix of at most `limit` UTF-8 bytes that ends on a Unicode scalar.
    ///
    /// A stored field is cut by bytes, not by `Character`: one grapheme cluster can be any length (a letter and
    /// thousands of combining marks), so "255 characters" bounds nothing — such a value overflowed PostgreSQL's
    /// index row limit and made the audit log's whole batch fail.
    package func truncated(toUTF8Bytes limit: Int) -> String {
        let utf8 = self.utf8
        guard utf8.count > limit else { return self }
        var end = utf8.index(utf8.startIndex, offsetBy: limit)
        // Back to the start of a scalar: continuation bytes are 0b10xxxxxx.
        while end > utf8.startIndex, UTF8.isContinuation(utf8[end]) { end = utf8.index(before: end) }
        return String(self[..<end])
    }
}
