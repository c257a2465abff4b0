import TrellisCore

/// Where the notification service keeps its messages and their deliveries,
/// so a queued message survives a restart and every delivery can be traced.
public protocol NotificationStore: Sendable {
    /// Records one set of changes in one transaction; returns the ids of
    /// the deliveries claimed.
    func save(_ changes: NotificationChanges) throws(StoreError) -> Set<String>

    /// Deliveries not finished (queued or sending), oldest first; with
    /// `since`, only those changed at or after it (Unix seconds). Only the
    /// rows whose id `include` accepts are read in full.
    func unfinishedDeliveries(since: Double?, include: (String) -> Bool) throws(StoreError) -> [DeliveryRecord]

    /// Messages collecting a digest.
    func openDigests() throws(StoreError) -> [NotificationRecord]

    /// The messages that joined a digest, oldest first.
    func digestMembers(of id: String) throws(StoreError) -> [NotificationRecord]

    /// The most recent messages first.
    func notifications(limit: Int, state: String?) throws(StoreError) -> [NotificationRecord]

    func notification(_ id: String) throws(StoreError) -> NotificationRecord?

    /// A message's deliveries, in the order they were made.
    func deliveries(notification id: String) throws(StoreError) -> [DeliveryRecord]
}

/// What the notification service writes in one transaction.
///
/// New records are written whole (an id already in the store is kept as it
/// is, so a request repeated with the same key adds nothing). Changed
/// records write only what changes after creation — state, reason, attempts,
/// receipts, times — never the variables or the rendered message again.
public struct NotificationChanges: Sendable {
    public var newNotifications: [NotificationRecord]
    public var newDeliveries: [DeliveryRecord]
    /// Writes state, reason, priority, digest_of, release_at, updated_at.
    public var notifications: [NotificationRecord]
    /// Writes state, attempts, provider_id, error_class, error, not_before, updated_at.
    public var deliveries: [DeliveryRecord]
    /// Deliveries to send: each is written as given (sending) only if it is
    /// still queued in the store, so two processes never send the same one.
    public var claiming: [DeliveryRecord]

    public init(newNotifications: [NotificationRecord] = [], newDeliveries: [DeliveryRecord] = [],
                notifications: [NotificationRecord] = [], deliveries: [DeliveryRecord] = [], claiming: [DeliveryRecord] = []) {
        self.newNotifications = newNotifications
        self.newDeliveries = newDeliveries
        self.notifications = notifications
        self.deliveries = deliveries
        self.claiming = claiming
    }

    public var isEmpty: Bool {
        newNotifications.isEmpty && newDeliveries.isEmpty && notifications.isEmpty && deliveries.isEmpty && claiming.isEmpty
    }
}

/// One message to one recipient.
public struct NotificationRecord: Sendable, Equatable {
    public enum State: String, Sendable, Codable {
        /// Waiting for its delivery (or its quiet hours).
        case queued
        /// Opened a digest and collects others until its window ends.
        case digesting
        /// Joined another message's digest.
        case digested
        case sent, delivered, failed
        /// Not sent: the recipient opted out of its category.
        case skipped
    }

    public var id: String
    public var recipient: String
    public var template: String
    public var category: String?
    public var priority: NotificationPriority
    public var variables: JSONValue
    public var digestKey: String?
    /// The digest this message joined.
    public var digestOf: String?
    public var state: State
    public var reason: String?
    /// Who asked: `cli`, or `<run>/<step>`.
    public var source: String
    public var createdAt: Double
    public var updatedAt: Double
    /// When a digest closes.
    public var releaseAt: Double?

    public init(id: String, recipient: String, template: String, category: String?, priority: NotificationPriority,
                variables: JSONValue, digestKey: String?, digestOf: String? = nil, state: State, reason: String? = nil,
                source: String, createdAt: Double, updatedAt: Double, releaseAt: Double? = nil) {
        self.id = id
        self.recipient = recipient
        self.template = template
        self.category = category
        self.priority = priority
        self.variables = variables
        self.digestKey = digestKey
        self.digestOf = digestOf
        self.state = state
        self.reason = reason
        self.source = source
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.releaseAt = releaseAt
    }
}

/// critical passes quiet hours; higher goes first.
public enum NotificationPriority: String, Sendable, Codable, CaseIterable, Comparable {
    case low, normal, high, critical

    public var rank: Int { Self.allCases.firstIndex(of: self) ?? 0 }
    public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
}

/// One attempt to deliver a message through one channel of its recipient.
/// A failover to another channel is a new delivery.
public struct DeliveryRecord: Sendable, Equatable {
    public enum State: String, Sendable, Codable {
        case queued, sending
        /// The service took it (its receipt said queued or sent).
        case sent
        /// The service says it reached the destination.
        case delivered
        case failed
    }

    public var id: String
    public var notificationID: String
    public var channel: String
    /// Which of the recipient's channels this is (0: the first).
    public var route: Int
    public var state: State
    public var priority: NotificationPriority
    /// The channel's message, rendered.
    public var message: JSONValue
    public var attempts: Int
    public var providerID: String?
    public var errorClass: String?
    public var error: String?
    /// Unix seconds before which it is not sent (quiet hours, a retry, a rate limit).
    public var notBefore: Double
    public var createdAt: Double
    public var updatedAt: Double

    public init(id: String, notificationID: String, channel: String, route: Int, state: State, priority: NotificationPriority,
                message: JSONValue, attempts: Int = 0, providerID: String? = nil, errorClass: String? = nil, error: String? = nil,
                notBefore: Double, createdAt: Double, updatedAt: Double) {
        self.id = id
        self.notificationID = notificationID
        self.channel = channel
        self.route = route
        self.state = state
        self.priority = priority
        self.message = message
        self.attempts = attempts
        self.providerID = providerID
        self.errorClass = errorClass
        self.error = error
        self.notBefore = notBefore
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
