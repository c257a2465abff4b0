import Foundation
import Metrics
import TrellisCore
import TrellisPluginHost
import TrellisStore

extension NotificationService {
    /// A channel call ended: record the receipt, or let the recovery
    /// pipeline decide (retry later, or give up), and on giving up fail over
    /// to the recipient's next channel.
    /// `called`: false when a strategy refused the attempt, so the channel
    /// was not called and there is no outcome to tell the strategies.
    func completed(_ id: String, _ result: Result<JSONValue, PluginCallError>, at time: Double, called: Bool = true) {
        guard let (sent, started) = inFlight.removeValue(forKey: id) else { return }
        var delivery = sent
        delivery.updatedAt = time
        let duration = UInt64(max(0, time - started) * 1000)
        switch result {
        case .success(let receipt):
            recordOutcome(delivery.channel, nil, duration)
            delivery.state = receipt["status"]?.stringValue == "delivered" ? .delivered : .sent
            countDelivery(delivery)
            delivery.providerID = receipt["id"]?.stringValue
            delivery.errorClass = nil
            delivery.error = nil
            dirtyDeliveries[id] = delivery
            // Finished: the store no longer lists it, so a poll cannot bring it back.
            known.remove(id)
            finish(delivery.notificationID, delivery.state == .delivered ? .delivered : .sent, reason: nil, at: time)
        case .failure(let error):
            if called { recordOutcome(delivery.channel, error.errorClass, duration) }
            delivery.errorClass = error.errorClass.rawValue
            delivery.error = error.message
            if let delay = retryDelay(delivery, error, at: time) {
                delivery.state = .queued
                Counter(label: "trellis_notification_deliveries_total",
                        dimensions: [("channel", delivery.channel), ("state", "retrying")]).increment()
                let recipient = records[delivery.notificationID].flatMap { settings.recipients[$0.recipient] }
                let due = time + Double(delay) / 1000
                delivery.notBefore = delivery.priority == .critical ? due : recipient?.quietHours?.release(at: due) ?? due
                dirtyDeliveries[id] = delivery
                if mode == .owner || delivery.notBefore <= time {
                    schedule(delivery, at: time)
                } else {
                    records[delivery.notificationID] = nil
                }
                return
            }
            delivery.state = .failed
            countDelivery(delivery)
            dirtyDeliveries[id] = delivery
            known.remove(id)
            failOver(delivery, error, at: time)
        }
    }

    /// `trellis_notification_deliveries_total{channel, state}`: each attempt's end.
    private func countDelivery(_ delivery: DeliveryRecord) {
        Counter(label: "trellis_notification_deliveries_total",
                dimensions: [("channel", delivery.channel), ("state", delivery.state.rawValue)]).increment()
    }

    enum Admission {
        case proceed
        case delay(seconds: Double)
        case reject(PluginCallError)
    }

    /// Whether the pipeline's strategies let a delivery's attempt start,
    /// asked in order as for a workflow step (keyed by the channel, so a
    /// circuit breaker keeps one circuit per channel). A strategy that
    /// fails to answer admits it.
    func admission(for delivery: DeliveryRecord, at time: Double) -> Admission {
        for (index, entry) in recovery.enumerated() {
            guard let strategy = plugins?.instance(entry.uses) else { continue }
            let decision = try? strategy.admit(attempt: UInt32(delivery.attempts + 1),
                                               elapsedMilliseconds: UInt64(max(0, time - delivery.createdAt) * 1000),
                                               key: delivery.channel, policyJSON: recoveryPolicies[index],
                                               context: PluginCallContext(idempotencyKey: delivery.id))
            switch decision {
            case .delay(let milliseconds)?: return .delay(seconds: Double(milliseconds) / 1000)
            case .reject(let summary)?:
                return .reject(PluginCallError(summary.errorClass, summary.message,
                                               retryAfterMilliseconds: summary.retryAfterMilliseconds, pluginID: entry.uses))
            case .proceed?, nil: continue
            }
        }
        return .proceed
    }

    /// A refused attempt counts as a failed one: the pipeline decides
    /// (retry later, or give up and fail over), as after a failed call.
    func rejected(_ delivery: DeliveryRecord, _ error: PluginCallError, at time: Double) {
        var attempt = delivery
        attempt.attempts += 1
        inFlight[attempt.id] = (attempt, time)
        completed(attempt.id, .failure(error), at: time, called: false)
    }

    /// The recovery pipeline's answer, innermost strategy first, as in a
    /// workflow step: a delay to retry after, or nil to give up.
    private func retryDelay(_ delivery: DeliveryRecord, _ error: PluginCallError, at time: Double) -> UInt64? {
        guard error.errorClass != .config else { return nil }
        for entry in recovery.reversed() {
            guard let strategy = plugins?.instance(entry.uses) else { return nil }
            let failure = RecoveryFailure(errorClass: error.errorClass, retryAfterMilliseconds: error.retryAfterMilliseconds,
                                          message: error.message, attempt: UInt32(delivery.attempts),
                                          elapsedMilliseconds: UInt64(max(0, time - delivery.createdAt) * 1000),
                                          key: delivery.channel, policy: entry.with)
            switch try? strategy.decide(failure, context: PluginCallContext(idempotencyKey: delivery.id)) {
            case .pass?: continue
            case .retry(let delay)?: return delay
            default: return nil
            }
        }
        return nil
    }

    private func recordOutcome(_ channel: String, _ result: ErrorClass?, _ duration: UInt64) {
        for entry in recovery {
            try? plugins?.instance(entry.uses)?.record(key: channel, result: result, durationMilliseconds: duration,
                                                        policy: entry.with)
        }
    }

    private func failOver(_ failed: DeliveryRecord, _ error: PluginCallError, at time: Double) {
        guard var record = records[failed.notificationID] else { return }
        record.reason = "\(failed.channel): \(error.message)"
        do {
            let members = record.digestKey == nil ? nil : [record] + (try store.digestMembers(of: record.id))
            if let next = try delivery(for: &record, from: failed.route + 1, at: time, digest: members) {
                newDeliveries[next.id] = next
                records[record.id] = record
                dirtyNotifications[record.id] = record
                schedule(next, at: time)
                return
            }
        } catch {
            record.reason = (record.reason ?? "") + "; failover could not render: \(error)"
        }
        finish(record.id, .failed, reason: record.reason, at: time)
    }

    private func finish(_ id: String, _ state: NotificationRecord.State, reason: String?, at time: Double) {
        guard var record = records.removeValue(forKey: id) else { return }
        known.remove(id)
        record.state = state
        record.reason = state == .failed ? reason ?? record.reason : record.reason
        record.updatedAt = time
        dirtyNotifications[id] = record
    }
}
