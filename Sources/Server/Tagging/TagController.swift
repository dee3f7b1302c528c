import Hummingbird

/// `POST /v1/tag`.
struct TagController {
    let tagger: Tagger
    let reader: TagRequestReader

    func register(on router: TableRouter) {
        router.post("/v1/tag") { request, context in
            try await tagger.tag(try await reader.read(request, context: context))
        }
    }
}
