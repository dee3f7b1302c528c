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
