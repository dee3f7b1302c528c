import Hummingbird

/// `GET /v1/models` and `GET /v1/models/{name}`: the encoders in the models folder.
struct ModelsController {
    let registry: ModelRegistry

    func register(on router: Router<TagTuneRequestContext>, routes: RouteTable) {
        router.get("/v1/models") { _, _ in ListObject(data: await registry.modelViews(), has_more: false) }
        routes.add("/v1/models", .get)
        router.get("/v1/models/{name}") { _, context in
            try await registry.modelView(name: try context.parameters.require("name"))
        }
        routes.add("/v1/models/{name}", .get)
    }
}
