import Foundation
import TrellisCore
import TrellisPluginHost
import TrellisStore

extension NotificationService {
    var readyCount: Int { ready.reduce(0) { $0 + $1.count } }

    /// Deliveries claimed at once. Workers find their next deliveries
    /// already claimed and queued, so they never wait for the dispatcher,
    /// and the dispatcher records outcomes and claims in batches: one
    /// transaction for many deliveries. High and critical deliveries go to
    /// the front of the workers' queue, so they do not wait behind the
    /// deliveries claimed before them.
    var claimLimit: Int { settings.workers * 8 }

    /// When the dispatcher must look again: the next waiting delivery or
    /// digest (an owner), or never (only an input wakes it).
    func nextWake(stopping: Bool) -> Double {
        var wake = Double.infinity
        if let due = waiting.nextDue { wake = min(wake, due) }
        if mode == .owner, let close = digests.values.compactMap(\.releaseAt).min() { wake = min(wake, close) }
        if readyCount > 0 && inFlight.count < claimLimit && !stopping { wake = min(wake, now()) }
        return wake
    }

    /// One turn: take inputs, close due digests, pick what is due by
    /// priority within the rate limits, record it all in one transaction,
    /// then send what was claimed.
    func turn(_ inputs: [Input]) {
        loop.preconditionOnLoop()
        let time = now()
        for input in inputs {
            switch input {
            case .queue(let notifications, let deliveries):
                // What a poll of the store already adopted is not queued twice.
                for record in notifications where !known.contains(record.id) { queued(record, at: time) }
                let fresh = deliveries.filter { !known.contains($0.id) }
                for delivery in fresh { schedule(delivery, at: time) }
                announced += fresh
            case .completed(let id, let result, let verdict):
                completed(id, result, verdict, at: time)
            }
        }
        if mode == .owner {
            if time - lastPoll >= 1 { adoptFromStore() }
            closeDigests(at: time)
        }
        for delivery in waiting.popDue(time) { ready[delivery.priority.rank].append(delivery) }
        if !loop.isStopping { dispatch(at: time) }
        commit()
    }

    // MARK: - Queueing

    private func queued(_ record: NotificationRecord, at time: Double) {
        known.insert(record.id)
        guard record.state == .digesting, let key = record.digestKey else {
            if record.state == .queued { records[record.id] = record }
            return
        }
        // The earliest message of a recipient's key opens the digest (the
        // store may hold later ones this turn has not reached yet).
        func opens(_ other: NotificationRecord) -> Bool {
            other.recipient == record.recipient && other.digestKey == key && (other.releaseAt ?? 0) > time
                && (other.createdAt, other.id) < (record.createdAt, record.id)
        }
        if let open = digests.values.first(where: opens) ?? (try? store.openDigests())?.first(where: opens) {
            var member = record
            member.state = .digested
            member.digestOf = open.id
            member.updatedAt = time
            dirtyNotifications[member.id] = member
            digests[open.id] = open
        } else {
            digests[record.id] = record
        }
    }

    func schedule(_ delivery: DeliveryRecord, at time: Double) {
        known.insert(delivery.id)
        if delivery.notBefore <= time {
            ready[delivery.priority.rank].append(delivery)
        } else if mode == .owner {
            waiting.push(delivery)
        } else {
            // A transient process leaves what waits to the owner.
            records[delivery.notificationID] = nil
        }
    }

    /// Picks up what the store holds that this process does not know:
    /// deliveries queued by other processes, and open digests.
    func adoptFromStore() {
        // After the first look, only what changed lately (a minute of slack
        // for other processes' clocks and commit delays).
        let since = lastPoll == 0 ? nil : lastPoll - 60
        lastPoll = now()
        do {
            // Oldest first: the first of a recipient's key opens the digest,
            // later ones join it.
            for record in try store.openDigests() where !known.contains(record.id) { queued(record, at: lastPoll) }
            for var delivery in try store.unfinishedDeliveries(since: since, include: { !known.contains($0) }) {
                // A delivery left `sending` by a process that died is sent
                // again, with the same idempotency key.
                delivery.state = .queued
                if let record = try store.notification(delivery.notificationID) { records[record.id] = record }
                dirtyDeliveries[delivery.id] = delivery
                schedule(delivery, at: lastPoll)
            }
        } catch {
            logger.error("cannot read queued notifications: \(error)")
        }
    }

    private func closeDigests(at time: Double) {
        for record in digests.values where (record.releaseAt ?? .infinity) <= time {
            digests[record.id] = nil
            var owner = record
            do {
                let members = try store.digestMembers(of: record.id)
                owner.priority = ([record] + members).map(\.priority).max() ?? record.priority
                owner.state = .queued
                owner.updatedAt = time
                records[owner.id] = owner
                if let delivery = try delivery(for: &owner, from: 0, at: time, digest: [record] + members) {
                    schedule(delivery, at: time)
                    newDeliveries[delivery.id] = delivery
                }
            } catch {
                owner.state = .failed
                owner.reason = "the digest could not be made: \(error)"
            }
            dirtyNotifications[owner.id] = owner
        }
    }

    /// The delivery through the recipient's first loaded channel at or after
    /// `route`, rendered for it; nil (and the message failed) when none is left.
    func delivery(for record: inout NotificationRecord, from route: Int, at time: Double,
                  digest: [NotificationRecord]? = nil, checked: Bool = false) throws -> DeliveryRecord? {
        guard let recipient = settings.recipients[record.recipient], let template = settings.templates[record.template] else {
            record.state = .failed
            record.reason = "recipient or template no longer configured"
            return nil
        }
        var skipped: [String] = []
        for index in route..<recipient.channels.count {
            let target = recipient.channels[index]
            guard plugins?.instance(target.channel) != nil else {
                skipped.append("\(target.channel) is not loaded")
                continue
            }
            let rendered = try digest.map { try template.renderDigest(items: $0.map(\.variables), key: record.digestKey ?? "") }
                ?? template.render(for: target.channel, variables: record.variables, checked: checked)
            let message = ChannelMessage.compose(rendered, mapping: plugins?.manifest(of: target.channel)?.notification,
                                                 address: target.address)
            let release = record.priority == .critical ? time : recipient.quietHours?.release(at: time) ?? time
            return DeliveryRecord(id: "\(record.id)/\(index)", notificationID: record.id, channel: target.channel, route: index,
                                  state: .queued, priority: record.priority, message: message, notBefore: release,
                                  createdAt: time, updatedAt: time)
        }
        record.state = .failed
        record.reason = (record.reason.map { $0 + "; " } ?? "") + "no channel left to try"
            + (skipped.isEmpty ? "" : " (\(skipped.joined(separator: ", ")))")
        return nil
    }

    // MARK: - Sending

    private func dispatch(at time: Double) {
        for rank in ready.indices.reversed() {
            while inFlight.count + toSend.count < claimLimit, var delivery = ready[rank].popFirst() {
                switch admission(for: delivery, at: time) {
                case .proceed: break
                case .delay(let seconds):
                    // A strategy holds it back (a rate limiter, a half-open circuit).
                    delivery.notBefore = time + seconds
                    waiting.push(delivery)
                    continue
                case .reject(let error):
                    // Refused without calling the channel (an open circuit).
                    rejected(delivery, error, at: time)
                    continue
                }
                if let limit = settings.rateLimits[delivery.channel] {
                    var bucket = buckets[delivery.channel] ?? TokenBucket(rate: limit.perSecond, burst: limit.burst, now: time)
                    let next = bucket.take(at: time)
                    buckets[delivery.channel] = bucket
                    if let next {
                        // Delayed, never dropped: it waits for its token.
                        delivery.notBefore = next
                        waiting.push(delivery)
                        continue
                    }
                }
                delivery.state = .sending
                delivery.attempts += 1
                delivery.updatedAt = time
                toSend.append(delivery)
            }
        }
    }

    private func commit() {
        let claimed: Set<String>
        do {
            claimed = try store.save(NotificationChanges(
                newDeliveries: Array(newDeliveries.values), notifications: Array(dirtyNotifications.values),
                deliveries: Array(dirtyDeliveries.values), claiming: toSend))
        } catch {
            logger.error("cannot record notification deliveries: \(error)")
            // Nothing was recorded: what was to be sent goes back to the queue.
            for var delivery in toSend {
                delivery.state = .queued
                delivery.attempts -= 1
                delivery.notBefore = now() + 1
                waiting.push(delivery)
            }
            toSend.removeAll()
            return
        }
        let changed = announced + Array(newDeliveries.values) + Array(dirtyDeliveries.values)
            + toSend.filter { claimed.contains($0.id) }
        announced.removeAll(keepingCapacity: true)
        dirtyNotifications.removeAll(keepingCapacity: true)
        dirtyDeliveries.removeAll(keepingCapacity: true)
        newDeliveries.removeAll(keepingCapacity: true)
        let start = now()
        for delivery in toSend where claimed.contains(delivery.id) {
            inFlight[delivery.id] = (delivery, start)
            let instance = plugins?.instance(delivery.channel)
            let pipeline = self.pipeline, now = self.now, logger = self.logger
            pool.submit(urgent: delivery.priority >= .high) { [weak self] in
                let context = PluginCallContext(idempotencyKey: delivery.id)
                let result: Result<JSONValue, PluginCallError>
                let started = now()
                if let instance {
                    do throws(PluginCallError) {
                        result = .success(try instance.send(delivery.message, context: context))
                    } catch {
                        result = .failure(error)
                    }
                } else {
                    result = .failure(PluginCallError(.config, "channel \(delivery.channel) is not loaded", pluginID: delivery.channel))
                }
                // The pipeline hears the outcome and decides here, on the
                // worker: a slow strategy holds up this delivery only.
                let failed: PluginCallError? = if case .failure(let error) = result { error } else { nil }
                for failure in pipeline.record(key: delivery.channel, result: failed?.errorClass, duration: now() - started) {
                    logger.warning("\(failure.message)", metadata: ["notification.delivery": "\(delivery.id)"])
                }
                let verdict = failed.flatMap { Self.decide(pipeline, delivery, $0, at: now()) }
                self?.finished(delivery.id, result, verdict)
            }
        }
        toSend.removeAll(keepingCapacity: true)
        let observers = loop.withLock { self.observers }
        for delivery in changed { for observer in observers { observer(delivery) } }
    }
}
