import Hummingbird

/// `?after=ID&limit=N` of a cursor-paginated listing, as OpenAI's lists take them.
struct ListQuery: Sendable {
    static let defaultLimit = 20
    static let maximumLimit = 100

    let after: String?
    let limit: Int

    init(_ request: Request) throws {
        let query = request.uri.queryParameters
        after = query["after"].map(String.init)
        if let text = query["limit"] {
            guard let value = Int(String(text)), (1...Self.maximumLimit).contains(value) else {
                throw APIError(.unprocessableContent, code: "invalid_limit",
                               message: "limit must be an integer in 1…\(Self.maximumLimit), got '\(text)'", param: "limit")
            }
            limit = value
        } else {
            limit = Self.defaultLimit
        }
    }

    /// The 404 for an `after` cursor that names nothing in the list.
    func unknownCursor(_ kind: String) -> APIError {
        APIError(.notFound, code: "cursor_not_found", message: "after: no \(kind) '\(after ?? "")' in this list", param: "after")
    }
}

/// Every list the API answers: `{"object": "list", "data": [...], "has_more": bool}`, as OpenAI-shaped
/// clients expect (false for the lists served whole: models, prompt sets).
struct ListObject<Item: Encodable & Sendable>: ResponseEncodable, Sendable {
    let object = "list"
    let data: [Item]
    let has_more: Bool
}
