import CLIP
import CoreMetrics
import Foundation
import Logging
import NIOConcurrencyHelpers
import Tuning

/// The encoders and prompt sets the server can serve, found in two folders.
///
/// Encoders are loaded lazily, once per name, and shared; two requests for an encoder that is
/// still loading wait for the same load. Prompt sets are bound to an encoder by the SHA-256 of
/// its weights (a prompt set for other weights is refused). Both folders are scanned again when
/// a lookup misses and when they are listed, so prompt sets written by the job worker appear
/// without a restart.
public actor ModelRegistry {
    public nonisolated let configuration: RegistryConfiguration
    public nonisolated let modelsURL: URL
    /// The prompt sets folder the registry scans (finished jobs write into it through `DataLayout`).
    public nonisolated let promptSetsURL: URL
    private let defaultsStore: DefaultPromptSetStore
    /// Where prompt sets and defaults are shared by replicas (PostgreSQL), connected once the
    /// store exists; empty on one machine.
    nonisolated let catalogLink = CatalogLink()
    private var catalog: (any PromptSetCatalog)? { catalogLink.catalog }
    private let logger: Logger
    private let modelsLoaded: Gauge

    private var encoderFolders: [String: EncoderFolder] = [:]
    private var loaded: [String: LoadedEncoder] = [:]
    private var loading: [String: Task<LoadedEncoder, any Error>] = [:]
    private var digests: [String: (fingerprint: [String], digest: String)] = [:]
    private var promptSetFolders: [String: PromptSetFolder] = [:]
    private var loadedPromptSets: [String: LoadedPromptSet] = [:]
    /// Binding of each prompt set to an encoder, by manifest fingerprint.
    private var bindings: [String: (fingerprint: String, encoder: String)] = [:]
    /// Model name → prompt set id, chosen through the API and persisted.
    private var chosenDefaults: [String: String]

    public init(configuration: RegistryConfiguration, dataDirectory: String,
                metricsFactory: any MetricsFactory, logger: Logger) {
        self.configuration = configuration
        modelsURL = URL(fileURLWithPath: configuration.modelsDirectory, isDirectory: true).standardizedFileURL
        promptSetsURL = URL(fileURLWithPath: configuration.promptSetsDirectory, isDirectory: true).standardizedFileURL
        defaultsStore = DefaultPromptSetStore(dataDirectory: URL(fileURLWithPath: dataDirectory, isDirectory: true))
        self.logger = logger
        BundledFolders.install(configuration.bundledModels, into: modelsURL, mode: .link, logger: logger)
        BundledFolders.install(configuration.bundledPromptSets, into: promptSetsURL, mode: .copy, logger: logger)
        modelsLoaded = Gauge(label: "tagtune_models_loaded", dimensions: [], factory: metricsFactory)
        modelsLoaded.record(0)
        do {
            // With a catalog, the catalog's defaults replace these (adopted by its sync before readiness).
            chosenDefaults = try defaultsStore.load()
        } catch {
            logger.error("ignoring the saved default prompt sets", metadata: ["error": "\(error)"])
            chosenDefaults = [:]
        }
    }

    // MARK: Encoders

    /// The encoder named `name`, loading it on first use.
    public func encoder(named name: String) async throws -> LoadedEncoder {
        if let found = loaded[name] { return found }
        if let pending = loading[name] { return try await value(of: pending, name: name) }
        if encoderFolders[name] == nil { rescanEncoders() }
        guard let folder = encoderFolders[name] else {
            throw RegistryError.unknownModel(name, known: encoderFolders.keys.sorted())
        }
        guard let details = folder.details else {
            throw RegistryError.modelUnusable(name, problem: folder.problem ?? "unreadable")
        }
        let logger = self.logger
        let precision = configuration.precision(for: name)
        let task = Task<LoadedEncoder, any Error> {
            try await OffloadedWork.run {
                let start = ContinuousClock.now
                let model = try CLIPModel(directory: folder.url, precision: precision)
                let digest = try model.weightsDigest()
                if let note = model.precisionNote {
                    logger.warning("model precision", metadata: ["model": .string(name), "reason": .string(note)])
                }
                logger.info("model loaded", metadata: [
                    "model": .string(name), "seconds": .string(String(format: "%.2f", (ContinuousClock.now - start).seconds)),
                    "weights_sha256": .string(digest), "precision": .string(model.precision.rawValue),
                    "weight_products": .string(model.weightProducts),
                ])
                return LoadedEncoder(name: name, model: model, digest: digest, dtype: details.dtype)
            }
        }
        loading[name] = task
        defer { loading[name] = nil }
        let encoder = try await value(of: task, name: name)
        loaded[name] = encoder
        digests[name] = (folder.fingerprint, encoder.digest)
        modelsLoaded.record(loaded.count)
        return encoder
    }

    private func value(of task: Task<LoadedEncoder, any Error>, name: String) async throws -> LoadedEncoder {
        do { return try await task.value } catch let error as RegistryError { throw error } catch {
            throw RegistryError.modelUnusable(name, problem: "\(error)")
        }
    }

    /// The SHA-256 of an encoder's weights, without loading it (kept until its files change).
    func digest(ofEncoder name: String) async throws -> String {
        if let encoder = loaded[name] { return encoder.digest }
        guard let folder = encoderFolders[name] else { throw RegistryError.unknownModel(name, known: encoderFolders.keys.sorted()) }
        guard let details = folder.details else { throw RegistryError.modelUnusable(name, problem: folder.problem ?? "unreadable") }
        let fingerprint = folder.fingerprint
        if let cached = digests[name], cached.fingerprint == fingerprint { return cached.digest }
        let digest = try await OffloadedWork.run { try SHA256.hex(files: details.weightFiles) }
        digests[name] = (fingerprint, digest)
        return digest
    }

    /// The weights digest of model `name` (scanning again when it is unknown), without loading it.
    public func weightsDigest(ofModel name: String) async throws -> String {
        if encoderFolders[name] == nil { rescanEncoders() }
        return try await digest(ofEncoder: name)
    }

    private func rescanEncoders() {
        var found: [String: EncoderFolder] = [:]
        for (name, url) in Self.subfolders(of: modelsURL) {
            if let folder = EncoderFolder.inspect(name: name, url: url) { found[name] = folder }
        }
        encoderFolders = found
        // An encoder whose folder went away is no longer offered; requests holding it finish.
        for name in loaded.keys where found[name] == nil { loaded[name] = nil }
        modelsLoaded.record(loaded.count)
    }

    /// The encoder whose weights have `digest`, computing digests of unloaded encoders as needed.
    private func encoderName(withDigest digest: String) async -> String? {
        for name in encoderFolders.keys.sorted() where encoderFolders[name]?.details != nil {
            if (try? await self.digest(ofEncoder: name)) == digest { return name }
        }
        return nil
    }

    // MARK: Prompt sets

    /// The prompt set `id`, loaded next to its encoder (which is loaded too).
    public func promptSet(id: String) async throws -> LoadedPromptSet {
        let folder = try promptSetFolder(id: id)
        if let cached = loadedPromptSets[id], cached.fingerprint == folder.fingerprint { return cached }
        let encoderName = try await boundEncoder(of: folder)
        let encoder = try await encoder(named: encoderName)
        let set: PromptSet
        do {
            set = try await OffloadedWork.run { try PromptSet.load(from: folder.url, for: encoder.model) }
        } catch {
            throw RegistryError.promptSetUnusable(id, problem: "\(error)")
        }
        // NaN or infinity would make every score NaN: a 500 on each tag request instead of one refusal here.
        guard set.classFeatures.allSatisfy(\.isFinite), set.context.values.allSatisfy(\.isFinite),
              set.manifest.thresholds.allSatisfy(\.isFinite), set.manifest.scoring.logitOffsets.allSatisfy(\.isFinite) else {
            throw RegistryError.promptSetUnusable(id, problem: "its tensors or thresholds hold values that are not finite numbers (NaN or infinity)")
        }
        let entry = LoadedPromptSet(id: id, folder: folder.url, encoderName: encoderName, promptSet: set,
                                    fingerprint: folder.fingerprint)
        loadedPromptSets[id] = entry
        return entry
    }

    /// The folder of prompt set `id`, scanning again when it is unknown or its manifest changed.
    private func promptSetFolder(id: String) throws -> PromptSetFolder {
        if let known = promptSetFolders[id], PromptSetFolder.fingerprint(ofFolder: known.url) == known.fingerprint {
            return known
        }
        rescanPromptSets()
        guard let folder = promptSetFolders[id] else {
            throw RegistryError.unknownPromptSet(id, known: promptSetFolders.keys.sorted())
        }
        return folder
    }

    private func rescanPromptSets() {
        var found: [String: PromptSetFolder] = [:]
        for (id, url) in Self.subfolders(of: promptSetsURL) {
            if let known = promptSetFolders[id], PromptSetFolder.fingerprint(ofFolder: known.url) == known.fingerprint {
                found[id] = known
            } else if let folder = PromptSetFolder.inspect(id: id, url: url) {
                found[id] = folder
            }
        }
        promptSetFolders = found
        for id in loadedPromptSets.keys where found[id] == nil { loadedPromptSets[id] = nil }
    }

    /// The encoder a prompt set belongs to: the one it names when the weights agree, else any
    /// encoder with its weights; otherwise it is refused, naming both digests.
    private func boundEncoder(of folder: PromptSetFolder) async throws -> String {
        if let cached = bindings[folder.id], cached.fingerprint == folder.fingerprint, encoderFolders[cached.encoder] != nil {
            return cached.encoder
        }
        // Only successes are kept: a failed binding may succeed once another encoder is added.
        let name = try await bind(folder)
        bindings[folder.id] = (folder.fingerprint, name)
        return name
    }

    private func bind(_ folder: PromptSetFolder) async throws(RegistryError) -> String {
        guard let manifest = folder.manifest else {
            throw .promptSetUnusable(folder.id, problem: folder.problem ?? "unreadable manifest")
        }
        let wanted = manifest.encoder.weightsSHA256, named = manifest.encoder.name
        if encoderFolders[named] == nil { rescanEncoders() }
        if encoderFolders[named]?.details != nil, let actual = try? await digest(ofEncoder: named) {
            if actual == wanted { return named }
            if let copy = await encoderName(withDigest: wanted) { return copy }
            throw .encoderMismatch(promptSet: folder.id, encoder: named, promptSetDigest: wanted, encoderDigest: actual)
        }
        if let copy = await encoderName(withDigest: wanted) { return copy }
        throw .noEncoder(promptSet: folder.id, encoderName: named, digest: wanted)
    }

    /// Ids of the prompt sets bound to `model`, sorted.
    private func promptSetIDs(boundTo model: String) async -> [String] {
        var ids: [String] = []
        for id in promptSetFolders.keys.sorted() {
            if let folder = promptSetFolders[id], (try? await boundEncoder(of: folder)) == model { ids.append(id) }
        }
        return ids
    }

    // MARK: Defaults

    /// The model used when a request names none.
    public func defaultModelName() async throws -> String {
        if encoderFolders.isEmpty || configuration.defaultModel.map({ encoderFolders[$0] == nil }) == true { rescanEncoders() }
        let folder = configuration.modelsDirectory
        if let name = configuration.defaultModel {
            guard encoderFolders[name] != nil else {
                throw RegistryError.noDefault(
                    "models.default is '\(name)' but the models folder (models.dir) has no such checkpoint folder" + Self.found(encoderFolders.keys))
            }
            return name
        }
        if let id = configuration.defaultPromptSet {
            let promptSet: PromptSetFolder
            do { promptSet = try promptSetFolder(id: id) } catch {
                throw RegistryError.noDefault("prompt_sets.default is '\(id)' but the prompt sets folder (prompt_sets.dir) has no such prompt set")
            }
            return try await boundEncoder(of: promptSet)
        }
        let usable = encoderFolders.keys.sorted()
        if usable.count == 1 { return usable[0] }
        if usable.isEmpty {
            let exists = FileManager.default.fileExists(atPath: modelsURL.path)
            throw RegistryError.noDefault(exists
                ? "no encoder checkpoint in the models folder (models.dir): add one folder per model"
                : "the models folder (models.dir) does not exist")
        }
        throw RegistryError.noDefault("models.default is not set and the models folder (models.dir) holds several encoders (\(usable.joined(separator: ", "))): set models.default")
    }

    /// The prompt set used for `model` when a request names none: the one chosen through the
    /// API, else `prompt_sets.default` (for the default model), else the model's only prompt set.
    public func defaultPromptSetID(forModel model: String) async throws -> String {
        if encoderFolders[model] == nil { rescanEncoders() }
        guard encoderFolders[model] != nil else { throw RegistryError.unknownModel(model, known: encoderFolders.keys.sorted()) }
        do {
            return try await currentDefaultPromptSetID(forModel: model)
        } catch {
            rescanPromptSets()   // it may have just been written
            return try await currentDefaultPromptSetID(forModel: model)
        }
    }

    private func currentDefaultPromptSetID(forModel model: String) async throws -> String {
        if let chosen = chosenDefaults[model], let folder = promptSetFolders[chosen],
           (try? await boundEncoder(of: folder)) == model {
            return chosen
        }
        if let configured = configuration.defaultPromptSet, (try? await defaultModelName()) == model {
            guard promptSetFolders[configured] != nil else {
                throw RegistryError.noDefault("prompt_sets.default is '\(configured)' but the prompt sets folder (prompt_sets.dir) has no such prompt set")
            }
            return configured
        }
        let bound = await promptSetIDs(boundTo: model)
        if bound.count == 1 { return bound[0] }
        if bound.isEmpty {
            throw RegistryError.noDefault(
                "no prompt set in the prompt sets folder (prompt_sets.dir) is bound to model '\(model)': tune one, or tag zero-shot with classes")
        }
        throw RegistryError.noDefault(
            "model '\(model)' has several prompt sets (\(bound.joined(separator: ", "))): set prompt_sets.default or PATCH one with {\"default\": true}")
    }

    /// Why default tagging cannot be served now (nil: it can): the default prompt set's folder may
    /// have been deleted or broken since it was loaded. Looks at the manifest on disk, loads nothing.
    public func defaultsProblem() async -> String? {
        do {
            let model = try await defaultModelName()
            let id = try await defaultPromptSetID(forModel: model)
            _ = try promptSetFolder(id: id)
            guard encoderFolders[model] != nil else { return "the default model '\(model)' is gone from the models folder" }
            return nil
        } catch RegistryError.unknownPromptSet(let id, _) {
            return "the default prompt set '\(id)' is gone from the prompt sets folder"
        } catch {
            return "\(error)"
        }
    }

    /// Loads the default encoder and prompt set (what readiness waits for).
    public func loadDefaults() async throws -> (encoder: LoadedEncoder, promptSet: LoadedPromptSet) {
        let model = try await defaultModelName()
        let encoder = try await encoder(named: model)
        let promptSet = try await promptSet(id: try await defaultPromptSetID(forModel: model))
        return (encoder, promptSet)
    }

    // MARK: Views

    func modelViews() async -> [ModelView] {
        rescanEncoders()
        rescanPromptSets()
        let defaultModel = try? await defaultModelName()
        var views: [ModelView] = []
        for name in encoderFolders.keys.sorted() { views.append(await view(ofModel: name, defaultModel: defaultModel)) }
        return views
    }

    func modelView(name: String) async throws -> ModelView {
        if encoderFolders[name] == nil { rescanEncoders() }
        guard encoderFolders[name] != nil else { throw RegistryError.unknownModel(name, known: encoderFolders.keys.sorted()) }
        rescanPromptSets()
        return await view(ofModel: name, defaultModel: try? await defaultModelName())
    }

    private func view(ofModel name: String, defaultModel: String?) async -> ModelView {
        let folder = encoderFolders[name]!
        let configuration = folder.details?.configuration
        var problem = folder.problem
        var digest: String?
        do { digest = try await self.digest(ofEncoder: name) } catch { problem = problem ?? "\(error)" }
        let model = loaded[name]?.model
        return ModelView(
            id: name, layout: configuration?.layout.rawValue, dtype: folder.details?.dtype,
            imageSize: configuration?.imageSize, projectionDim: configuration?.projectionDim,
            weightsSHA256: digest, loaded: loaded[name] != nil, isDefault: name == defaultModel,
            defaultPromptSet: try? await defaultPromptSetID(forModel: name),
            promptSets: await promptSetIDs(boundTo: name),
            precision: model?.precision.rawValue ?? self.configuration.precision(for: name).rawValue,
            precisionNote: model?.precisionNote, weightProducts: model?.weightProducts, error: problem)
    }

    func promptSetViews(model: String?) async throws -> [PromptSetView] {
        rescanEncoders()
        rescanPromptSets()
        if let model, encoderFolders[model] == nil { throw RegistryError.unknownModel(model, known: encoderFolders.keys.sorted()) }
        var views: [PromptSetView] = []
        for id in promptSetFolders.keys.sorted() {
            let view = await view(ofPromptSet: promptSetFolders[id]!)
            if model == nil || view.model == model { views.append(view) }
        }
        return views
    }

    func promptSetView(id: String) async throws -> PromptSetView {
        await view(ofPromptSet: try promptSetFolder(id: id))
    }

    private func view(ofPromptSet folder: PromptSetFolder) async -> PromptSetView {
        var model: String?
        var problem: String?
        do { model = try await boundEncoder(of: folder) } catch { problem = "\(error)" }
        let isDefault = if let model { (try? await defaultPromptSetID(forModel: model)) == folder.id } else { false }
        return PromptSetView(folder: folder, manifest: folder.manifest, model: model, isDefault: isDefault, error: problem)
    }

    // MARK: Changes

    /// The `ETag` of prompt set `id` as this replica holds it.
    func etag(ofPromptSet id: String) throws -> String {
        let folder = try promptSetFolder(id: id)
        guard let digest = folder.manifestSHA256 else {
            throw RegistryError.promptSetUnusable(id, problem: folder.problem ?? "unreadable manifest")
        }
        return PromptSetTag.etag(manifestSHA256: digest)
    }

    /// Applies a PATCH: checks it whole, then replaces `prompt_set.json` (atomically; with a catalog,
    /// first there, as a compare-and-swap on the manifest's SHA-256, so two replicas cannot both win)
    /// and/or records the prompt set as its model's default. `ifMatch`: the client's `If-Match`
    /// header; a version other than the current one is refused (412) and nothing changes.
    func update(promptSet id: String, with patch: PromptSetPatch, ifMatch: String? = nil) async throws -> (view: PromptSetView, etag: String) {
        let folder = try promptSetFolder(id: id)
        guard let manifest = folder.manifest, let localDigest = folder.manifestSHA256 else {
            throw RegistryError.promptSetUnusable(id, problem: folder.problem ?? "unreadable manifest")
        }
        let changes = try patch.thresholdChanges(classes: manifest.classes)
        var model: String?
        if patch.makeDefault == true { model = try await boundEncoder(of: folder) }

        var written: Data?
        if let catalog {
            written = try await replaceInCatalog(catalog, id: id, changes: changes, ifMatch: ifMatch)
        } else {
            if let ifMatch, !PromptSetTag.matches(ifMatch: ifMatch, current: localDigest) {
                throw RegistryError.staleVersion(promptSet: id, etag: PromptSetTag.etag(manifestSHA256: localDigest))
            }
            if !changes.isEmpty {
                var edited = manifest
                for (c, value) in changes { edited.thresholds[c] = value }
                written = try Self.encoded(edited)
            }
        }
        if let written {
            do { try AtomicFile.write(written, to: folder.manifestURL) } catch { throw RegistryError.persistence("\(error)") }
            logger.info("prompt set thresholds changed", metadata: ["prompt_set": .string(id), "classes": .stringConvertible(changes.count)])
            noteManifestChanged(id, folder: folder)
        }
        if let model {
            if let catalog {
                do { try await catalog.setModelDefault(model: model, promptSetID: id) } catch {
                    throw RegistryError.persistence("\(error)")
                }
                chosenDefaults[model] = id
            } else {
                var defaults = chosenDefaults
                defaults[model] = id
                try defaultsStore.save(defaults)
                chosenDefaults = defaults
            }
            logger.info("default prompt set changed", metadata: ["model": .string(model), "prompt_set": .string(id)])
        }
        let current = promptSetFolders[id] ?? folder
        return (await view(ofPromptSet: current), PromptSetTag.etag(manifestSHA256: current.manifestSHA256 ?? localDigest))
    }

    /// The catalog's side of a PATCH: applies the threshold changes to the catalog's current manifest
    /// (not this replica's copy, which may lag) and swaps it in if nobody changed it meanwhile. With
    /// `If-Match` a change in between is the client's conflict (412); without, it is applied again on
    /// the newer manifest. Returns the manifest bytes to materialise here (nil: nothing changed).
    private func replaceInCatalog(_ catalog: any PromptSetCatalog, id: String, changes: [Int: Float],
                                  ifMatch: String?) async throws -> Data? {
        for _ in 0..<8 {
            let stored: (version: PromptSetVersion, files: PromptSetFiles)?
            do { stored = try await catalog.promptSet(id: id) } catch { throw RegistryError.persistence("\(error)") }
            guard let stored else { throw RegistryError.unknownPromptSet(id, known: promptSetFolders.keys.sorted()) }
            let current = stored.version.manifestSHA256
            if let ifMatch, !PromptSetTag.matches(ifMatch: ifMatch, current: current) {
                throw RegistryError.staleVersion(promptSet: id, etag: PromptSetTag.etag(manifestSHA256: current))
            }
            if changes.isEmpty { return nil }   // only a default choice
            var manifest: PromptSetManifest
            do { manifest = try PromptSetFolder.manifestDecoder.decode(PromptSetManifest.self, from: stored.files.manifest) } catch {
                throw RegistryError.promptSetUnusable(id, problem: "its stored manifest cannot be read: \(error)")
            }
            for (c, value) in changes where manifest.thresholds.indices.contains(c) { manifest.thresholds[c] = value }
            let bytes = try Self.encoded(manifest)
            let outcome: ManifestReplacement
            do { outcome = try await catalog.replaceManifest(id: id, with: bytes, expected: current) } catch {
                throw RegistryError.persistence("\(error)")
            }
            switch outcome {
            case .replaced: return bytes
            case .notFound: throw RegistryError.unknownPromptSet(id, known: promptSetFolders.keys.sorted())
            case .stale(let newer):
                if ifMatch != nil { throw RegistryError.staleVersion(promptSet: id, etag: PromptSetTag.etag(manifestSHA256: newer)) }
            }
        }
        throw RegistryError.persistence("prompt set '\(id)' kept changing under this update; try again")
    }

    private static func encoded(_ manifest: PromptSetManifest) throws -> Data {
        do { return try PromptSetFolder.manifestEncoder.encode(manifest) } catch { throw RegistryError.persistence("\(error)") }
    }

    /// Re-reads a prompt set whose manifest was just replaced, keeping its loaded tensors.
    private func noteManifestChanged(_ id: String, folder: PromptSetFolder) {
        guard let updated = PromptSetFolder.inspect(id: id, url: folder.url), let manifest = updated.manifest else { return }
        promptSetFolders[id] = updated
        if let binding = bindings[id] { bindings[id] = (updated.fingerprint, binding.encoder) }
        if var cached = loadedPromptSets[id] {
            cached.promptSet.manifest = manifest
            loadedPromptSets[id] = LoadedPromptSet(id: id, folder: cached.folder, encoderName: cached.encoderName,
                                                   promptSet: cached.promptSet, fingerprint: updated.fingerprint)
        }
    }

    /// The catalog's default choices, adopted by this replica (`PromptSetSync`).
    func adoptDefaults(_ defaults: [String: String]) {
        if defaults != chosenDefaults {
            chosenDefaults = defaults
            logger.info("default prompt sets adopted from the catalog", metadata: ["defaults": .string("\(defaults.sorted { $0.key < $1.key })")])
        }
    }

    // MARK: Folders

    /// Sub-folders whose names are usable ids (letters, digits, `.`, `_`, `-`; not hidden:
    /// `PromptSet.write` stages into hidden folders before its rename).
    static func subfolders(of url: URL) -> [(String, URL)] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: url.path) else { return [] }
        return names.sorted().compactMap { name in
            guard isValidName(name) else { return nil }
            let child = url.appendingPathComponent(name, isDirectory: true)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: child.path, isDirectory: &isDirectory), isDirectory.boolValue else { return nil }
            return (name, child)
        }
    }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.first, first != ".", name.count <= 200 else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") }
    }

    private static func found(_ names: some Collection<String>) -> String {
        names.isEmpty ? " (it holds none)" : " (found: \(names.sorted().joined(separator: ", ")))"
    }
}

/// The registry's catalog, connected after the store is built (the store's backend is built after the registry).
final class CatalogLink: Sendable {
    private let box = NIOLockedValueBox<(any PromptSetCatalog)?>(nil)
    func connect(_ catalog: any PromptSetCatalog) { box.withLockedValue { $0 = catalog } }
    var catalog: (any PromptSetCatalog)? { box.withLockedValue { $0 } }
}
