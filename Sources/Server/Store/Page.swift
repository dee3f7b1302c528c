/// One page of a cursor-paginated listing, newest first: the items and whether older ones follow.
struct Page<Item: Sendable>: Sendable {
    var items: [Item]
    var hasMore: Bool

    /// A page from up to `limit + 1` fetched rows: the extra row only says that more follow.
    init(fetched: [Item], limit: Int) {
        items = Array(fetched.prefix(limit))
        hasMore = fetched.count > limit
    }
}
