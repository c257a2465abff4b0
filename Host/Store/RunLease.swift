import Foundation
import TrellisCore

/// The process that executes runs: who holds a run's lease.
///
/// A run is executed by one host process at a time. That process holds a
/// lease on it in the store, renews it while it runs it, and the store
/// refuses events appended to the run by anyone else. A lease is free when
/// nobody holds it, when it has expired, or when its holder is a process
/// on this machine that no longer exists (so a host killed here is taken
/// over at once, and one on another machine after the lease's expiry).
public struct LeaseOwner: Sendable, Hashable {
    /// Unique per process: host, pid and a random part.
    public var id: String
    public var host: String
    public var pid: Int32
    /// When the process started, in the kernel's clock ticks since boot
    /// (`/proc/PID/stat`): a pid reused by a later process does not match.
    public var processStart: UInt64
    /// How long a lease lasts without being renewed.
    public var leaseSeconds: Double

    public init(id: String, host: String, pid: Int32, processStart: UInt64, leaseSeconds: Double) {
        self.id = id
        self.host = host
        self.pid = pid
        self.processStart = processStart
        self.leaseSeconds = leaseSeconds
    }

    /// This process.
    public static func current(leaseSeconds: Double) -> LeaseOwner {
        let pid = getpid()
        let host = Self.hostName
        let random = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        return LeaseOwner(id: "\(host)/\(pid)/\(random)", host: host, pid: pid,
                          processStart: processStartTime(pid) ?? 0, leaseSeconds: leaseSeconds)
    }

    /// This machine's name, from `gethostname` (Foundation's `hostName`
    /// resolves it through DNS, which costs milliseconds at every start).
    public static let hostName: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()

    /// The start time of a process on this machine, or nil when it does not exist.
    public static func processStartTime(_ pid: Int32) -> UInt64? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        // Fields after the command's closing parenthesis start at field 3;
        // the start time is field 22.
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? UInt64(fields[19]) : nil
    }
}

/// Who holds a run's lease, as the store records it.
public struct LeaseHolder: Sendable, Hashable, CustomStringConvertible {
    public var owner: String
    public var host: String
    public var pid: Int32
    public var processStart: UInt64
    /// Unix seconds.
    public var since: Double
    public var expires: Double

    public init(owner: String, host: String, pid: Int32, processStart: UInt64, since: Double, expires: Double) {
        self.owner = owner
        self.host = host
        self.pid = pid
        self.processStart = processStart
        self.since = since
        self.expires = expires
    }

    /// Whether the lease still binds others at `now`, seen from `host`.
    public func isLive(at now: Double, seenFrom host: String) -> Bool {
        guard expires > now else { return false }
        // On this machine the holder's process can be checked directly.
        if host == self.host { return LeaseOwner.processStartTime(pid) == processStart }
        return true
    }

    public var description: String {
        let since = Date(timeIntervalSince1970: self.since).formatted(.iso8601)
        return "host \(host), pid \(pid), since \(since)"
    }
}

/// What asking for a run's lease came to.
public enum LeaseClaim: Sendable, Equatable {
    /// The caller holds the lease now (it was free, expired, or already its own).
    case acquired
    /// Another live process holds it.
    case held(LeaseHolder)
    /// The run is finished: there is nothing to execute.
    case finished(RunStatus)
    /// No such run.
    case missing
}

/// What renewing a process's leases found.
public struct LeaseRenewal: Sendable, Equatable {
    /// The runs whose lease the owner still holds (now renewed).
    public var held: Set<String>
    /// Runs among them that someone asked to cancel, with the reason.
    public var cancelRequests: [String: String]

    public init(held: Set<String>, cancelRequests: [String: String]) {
        self.held = held
        self.cancelRequests = cancelRequests
    }
}

/// Run leases: the store's half of "one owner per run". An implementation
/// makes each operation atomic against other processes (SQLite: one
/// `BEGIN IMMEDIATE` transaction; PostgreSQL: `SELECT … FOR UPDATE`, and
/// `FOR UPDATE SKIP LOCKED` when claiming).
public protocol RunLeases: Sendable {
    /// Takes the run's lease for `owner` unless another live process holds it.
    func acquireLease(run: String, owner: LeaseOwner, now: Double) throws(StoreError) -> LeaseClaim

    /// Takes the leases of up to `limit` unfinished runs that nobody live
    /// holds; returns their ids, oldest first.
    func claimUnfinishedRuns(owner: LeaseOwner, limit: Int, now: Double) throws(StoreError) -> [String]

    /// Extends every lease `owner` holds; reports which those are.
    func renewLeases(owner: LeaseOwner, now: Double) throws(StoreError) -> LeaseRenewal

    /// Gives up the run's lease if `owner` holds it.
    func releaseLease(run: String, owner: LeaseOwner) throws(StoreError)

    /// Gives up every lease `owner` holds.
    func releaseLeases(owner: LeaseOwner) throws(StoreError)

    /// Who holds the run's lease, if anyone (expired leases included).
    func leaseHolder(run: String) throws(StoreError) -> LeaseHolder?

    /// Asks the process holding the run to cancel it (at its next renewal).
    /// Returns false when the run is not unfinished.
    func requestCancel(run: String, reason: String) throws(StoreError) -> Bool
}
