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
    func completed(_ id: String, _ result: Result<JSONValue, PluginCallError>, _ verdict: RecoveryPipeline.Verdict?,
                   at time: Double) {
        guard let (sent, _) = inFlight.removeValue(forKey: id) else { return }
        var delivery = sent
        delivery.updatedAt = time
        switch result {
        case .success(let receipt):
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
            delivery.errorClass = error.errorClass.rawValue
            let (delay, reason) = Self.retry(after: verdict)
            delivery.error = Redactor.shared.redact(reason.map { "\(error.message) (\($0))" } ?? error.message)
            if let delay {
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
            failOver(delivery, reason.map { PluginCallError(error.errorClass, "\(error.message) (\($0))", pluginID: delivery.channel) } ?? error,
                     at: time)
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
    /// fails to answer admits it, and is logged.
    func admission(for delivery: DeliveryRecord, at time: Double) -> Admission {
        guard !pipeline.isEmpty else { return .proceed }
        let (admission, failures) = pipeline.admit(attempt: delivery.attempts + 1, elapsed: time - delivery.createdAt,
                                                   key: delivery.channel, context: PluginCallContext(idempotencyKey: delivery.id))
        for failure in failures { logger.warning("\(failure.message)", metadata: ["notification.delivery": "\(delivery.id)"]) }
        switch admission {
        case .proceed: return .proceed
        case .delay(let milliseconds, _): return .delay(seconds: Double(milliseconds) / 1000)
        case .reject(let summary, let strategy):
            return .reject(PluginCallError(summary.errorClass, summary.message, retryAfterMilliseconds: summary.retryAfterMilliseconds,
                                           pluginID: strategy))
        }
    }

    /// A refused attempt counts as a failed one: the pipeline decides (on a
    /// worker, as after a failed call) whether to retry later or give up and
    /// fail over. The channel was not called, so there is no outcome to tell.
    func rejected(_ delivery: DeliveryRecord, _ error: PluginCallError, at time: Double) {
        var attempt = delivery
        attempt.attempts += 1
        inFlight[attempt.id] = (attempt, time)
        let pipeline = self.pipeline, now = self.now, refused = attempt
        pool.submit(urgent: true) { [weak self] in
            self?.finished(refused.id, .failure(error), Self.decide(pipeline, refused, error, at: now()))
        }
    }

    /// The pipeline's verdict on a failed attempt, innermost strategy first
    /// (on a worker thread); nil when there is nothing to decide (a config
    /// error is not retried).
    static func decide(_ pipeline: RecoveryPipeline, _ delivery: DeliveryRecord, _ error: PluginCallError,
                       at time: Double) -> RecoveryPipeline.Verdict? {
        guard error.errorClass != .config, !pipeline.isEmpty else { return nil }
        let failure = RecoveryFailure(errorClass: error.errorClass, retryAfterMilliseconds: error.retryAfterMilliseconds,
                                      message: error.message, attempt: UInt32(delivery.attempts),
                                      elapsedMilliseconds: UInt64(max(0, time - delivery.createdAt) * 1000), key: delivery.channel)
        return pipeline.decide(failure, context: PluginCallContext(idempotencyKey: delivery.id)).verdict
    }

    /// What a verdict means for a delivery: a delay to retry after, or give
    /// up on this channel (the message fails over to the recipient's next
    /// one), with why when a strategy asked for what a delivery cannot do.
    /// A fallback is the failover itself; degrading or serving a cached
    /// output has no meaning for a message, so the channel is given up.
    static func retry(after verdict: RecoveryPipeline.Verdict?) -> (delay: UInt64?, reason: String?) {
        switch verdict {
        case .decided(.retry(let delay), _)?: return (delay, nil)
        case .decided(.fallback, let strategy)?: return (nil, "\(strategy) decided to fall back: the next channel is tried")
        case .decided(.degrade, let strategy)?: return (nil, "\(strategy) decided to degrade, which a delivery cannot do")
        case .decided(.useCached, let strategy)?: return (nil, "\(strategy) decided to serve a cached output, which a delivery cannot do")
        case .broken(let failure)?: return (nil, failure.message)
        case .decided(.fail, _)?, .decided(.pass, _)?, .exhausted?, nil: return (nil, nil)
        }
    }

    private func failOver(_ failed: DeliveryRecord, _ error: PluginCallError, at time: Double) {
        guard var record = records[failed.notificationID] else { return }
        record.reason = Redactor.shared.redact("\(failed.channel): \(error.message)")
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
