import Hummingbird

/// `POST /v1/embeddings`.
struct EmbeddingsController {
    let embedder: Embedder
    let reader: EmbeddingsRequestReader

    func register(on router: TableRouter) {
        router.post("/v1/embeddings") { request, context in
            try await embedder.embed(try await reader.read(request, context: context))
        }
    }
}
