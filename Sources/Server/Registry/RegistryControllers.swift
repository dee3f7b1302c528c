import Hummingbird

/// `GET /v1/models` and `GET /v1/models/{name}`: the encoders in the models folder.
struct ModelsController {
    let registry: ModelRegistry

    func register(on router: TableRouter) {
        router.get("/v1/models") { _, _ in ListObject(data: await registry.modelViews(), has_more: false) }
        router.get("/v1/models/{name}") { _, context in
            try await registry.modelView(name: try context.parameters.require("name"))
        }
    }
}

/// `GET /v1/prompt-sets[?model=]`, `GET /v1/prompt-sets/{id}` and `PATCH /v1/prompt-sets/{id}`
/// (thresholds, default). A prompt set answers with its `ETag`; a `PATCH` with an `If-Match` naming
/// another version changes nothing and answers 412, since two clients (or replicas) can race.
struct PromptSetsController {
    let registry: ModelRegistry

    func register(on router: TableRouter) {
        router.get("/v1/prompt-sets") { request, _ in
            for (name, _) in request.uri.queryParameters where name != "model" {
                throw APIError.unknownParameter(String(name), "unknown query parameter '\(name)'; expected model")
            }
            let model = request.uri.queryParameters.get("model")
            return ListObject(data: try await registry.promptSetViews(model: model), has_more: false)
        }
        router.get("/v1/prompt-sets/{id}") { _, context in
            let id = try context.parameters.require("id")
            let view = try await registry.promptSetView(id: id)
            return EditedResponse(headers: [.eTag: try await registry.etag(ofPromptSet: id)], response: view)
        }
        router.patch("/v1/prompt-sets/{id}") { request, context in
            let id = try context.parameters.require("id")
            if let type = request.headers[.contentType], HeaderValue(parsing: type).value != "application/json" {
                throw APIError(.unsupportedMediaType, code: "unsupported_media_type",
                               message: "send the change as application/json, not \(HeaderValue(parsing: type).value)")
            }
            let body = try await request.body.collect(upTo: context.maxUploadSize)
            let patch = try JSONRequestBody.decode(PromptSetPatch.self, from: body)
            let (view, etag) = try await registry.update(promptSet: id, with: patch, ifMatch: request.headers[.ifMatch])
            return EditedResponse(headers: [.eTag: etag], response: view)
        }
    }
}
