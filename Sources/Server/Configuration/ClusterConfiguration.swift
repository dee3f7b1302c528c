import Foundation

/// Running as one of several replicas: the shared database, this replica's role and name, and the
/// job leases' timing (see docs/DEPLOY.md). Unset `database.url`: one machine on SQLite, as always.
public struct ClusterConfiguration: Sendable, Equatable {
    public enum Role: String, Sendable, CaseIterable {
        /// Serves the API and runs jobs (one machine, or a small cluster).
        case all
        /// Serves the API; never trains (its cores stay with tagging).
        case api
        /// Runs jobs; serves only the operations endpoints (health, readiness, metrics, info).
        case worker

        var runsJobs: Bool { self != .api }
        var servesAPI: Bool { self != .worker }
    }

    /// `postgres://…`; nil: SQLite under `data_dir`.
    public var databaseURL: String?
    public var role: Role
    /// This replica's name in job leases and events; nil: chosen at start (host, process id, random).
    public var replicaID: String?
    public var leaseSeconds: Double
    public var heartbeatSeconds: Double
    public var claimPollSeconds: Double
    public var maxAttempts: Int
    /// Validated dataset zips, by SHA-256: a folder every replica mounts (NFS, a ReadWriteMany volume).
    public var blobsDirectory: String = "blobs"
    /// This replica's own scratch: datasets unpacked from their blobs, by SHA-256.
    public var cacheDirectory: String = "cache"
    /// Batch folders (an uploaded zip, then the results): on the shared folder with several replicas.
    public var batchesDirectory: String = "batches"
    /// Image features by (encoder, image digest): may be shared, so a job taken over encodes nothing again.
    public var featuresDirectory: String = "features"
    /// How often a replica compares its prompt sets with the database's without being told (a lost NOTIFY).
    public var promptSetSweepSeconds: Double = 30
    /// How often the replica that exports the cluster's job gauges reads them (and others try to take over).
    public var clusterGaugeSeconds: Double = 5
    /// The housekeeping: how often it runs, and how long finished jobs keep their events (0: forever).
    public var housekeepingSeconds: Double = 600
    public var eventRetentionDays: Double = 30

    /// The name this process uses: the configured one, or `host-pid-random` (unique across restarts,
    /// so a restarted replica never mistakes its predecessor's leases for its own).
    public var resolvedReplicaID: String {
        if let replicaID { return replicaID }
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host"
        return "\(host)-\(ProcessInfo.processInfo.processIdentifier)-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
    }

    /// The `replica` label of this process's metrics: only with a shared database (one machine's
    /// series keep their plain names).
    var metricsReplica: String? { databaseURL == nil ? nil : replicaID }

    var clusterGaugeInterval: Duration { .milliseconds(Int64(clusterGaugeSeconds * 1000)) }

    var leaseSettings: LeaseSettings {
        LeaseSettings(leaseSeconds: leaseSeconds, heartbeatSeconds: heartbeatSeconds, claimPollSeconds: claimPollSeconds,
                      maxAttempts: maxAttempts)
    }

    /// The keys checked together: the URL parses; a lease outlives two missed heartbeats.
    func validated() throws -> ClusterConfiguration {
        if let databaseURL {
            do { _ = try PostgresURL(databaseURL) } catch {
                throw ConfigurationError("invalid database.url: \(error)")
            }
        }
        guard leaseSeconds >= 2 * heartbeatSeconds else {
            throw ConfigurationError("""
                jobs.lease_seconds (\(leaseSeconds)) must be at least twice jobs.heartbeat_seconds (\(heartbeatSeconds)): \
                a lease that expires between two heartbeats is taken over while its owner is well
                """)
        }
        if let replicaID, replicaID.count > 200 || replicaID.contains(where: { $0.isWhitespace || $0.isNewline }) {
            throw ConfigurationError("replica.id must be at most 200 characters without spaces")
        }
        return self
    }
}

/// How long a claim holds a job, and how often its owner renews it (`jobs.lease_seconds`,
/// `jobs.heartbeat_seconds`); renewing at a third of the lease leaves two late heartbeats spare.
struct LeaseSettings: Sendable {
    var leaseSeconds: Double = 30
    var heartbeatSeconds: Double = 10
    var claimPollSeconds: Double = 5
    /// Attempts a job may start after owners vanished (`jobs.max_attempts`), then it fails `worker_lost`.
    var maxAttempts: Int = 4
}
