import Hummingbird

/// `POST /v1/tag`.
struct TagController {
    let tagger: Tagger
    let reader: TagRequestReader

    func register(on router: Router<TagTuneRequestContext>, routes: RouteTable) {
        router.post("/v1/tag") { request, context in
            try await tagger.tag(try await reader.read(request, context: context))
        }
        routes.add("/v1/tag", .post)
    }
}
