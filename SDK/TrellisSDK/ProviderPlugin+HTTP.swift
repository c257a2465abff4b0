/// What model APIs' plugins share: a JSON request and its classified
/// failure, and a streamed answer read event by event.
extension CallContext {
    /// What a service's error body says: its type, code and message.
    public typealias ErrorFields = @Sendable (JSON?) -> (type: String?, code: String?, message: String?)

    /// POSTs `body` to a model API and returns its JSON answer; a non-2xx
    /// status throws ``ProviderFailure/error(_:response:type:code:message:)``
    /// with what `errorFields` reads from the body.
    public func modelRequest(_ service: String, url: String, method: String = "POST", body: JSON?,
                             headers: [(name: String, value: String)], errorFields: ErrorFields) throws -> JSON {
        var request = HTTPRequest(method: method, url: url, headers: headers, body: body?.serialized ?? [])
        if body != nil { request.headers.insert(("Content-Type", "application/json"), at: 0) }
        let response = try http(request)
        guard response.errorClass == nil, (200..<300).contains(response.status) else {
            let fields = errorFields(try? JSON(json: response.body))
            throw ProviderFailure.error(service, response: response, type: fields.type, code: fields.code, message: fields.message)
        }
        do {
            return try JSON(json: response.body)
        } catch {
            throw PluginError(.retryable, "\(service): the answer is not JSON (\(error.message) at byte \(error.offset))")
        }
    }

    /// POSTs `body` and reads the answer as a stream of events (`format`),
    /// handing each to `onEvent`, which says whether to go on: `more`,
    /// `finished` (the stream's last event came: the rest of the body is
    /// read and dropped, so the connection can be used again) or `stop`
    /// (the reader wants no more: the transfer is cut). A
    /// non-2xx status throws the classified failure. A transfer that breaks
    /// after an event arrived throws a retryable error with the reason
    /// `stream_broken`; an error `onEvent` throws is rethrown as it is.
    public func modelStream(_ service: String, url: String, body: JSON, headers: [(name: String, value: String)],
                            format: EventStreamDecoder.Format, errorFields: ErrorFields,
                            onEvent: (EventStreamDecoder.Event) throws -> StreamStep) throws {
        var decoder = EventStreamDecoder(format)
        var head: HTTPResponse?
        var errorBody: [UInt8] = []
        var failure: (any Error)?
        var stoppedByEvent = false
        var finished = false
        var events = 0
        func deliver(_ decoded: [EventStreamDecoder.Event]) -> Bool {
            for event in decoded where !finished {
                events += 1
                do {
                    switch try onEvent(event) {
                    case .more: continue
                    case .finished: finished = true
                    case .stop:
                        stoppedByEvent = true
                        return false
                    }
                } catch {
                    failure = error
                    return false
                }
            }
            return true
        }
        let request = HTTPRequest.json(url, body: body.serialized, headers: headers)
        do {
            try httpStream(request, onHead: { head = $0 }, onBody: { bytes in
                guard let head, head.errorClass == nil, (200..<300).contains(head.status) else {
                    if errorBody.count < 65536 { errorBody += bytes.prefix(65536 - errorBody.count) }
                    return true
                }
                guard !finished else { return true }
                do {
                    return deliver(try decoder.feed(bytes))
                } catch {
                    failure = error
                    return false
                }
            })
        } catch {
            if let failure { throw failure }
            if stoppedByEvent { return }
            if events > 0, let error = error as? PluginError, error.code != .cancelled {
                throw PluginError(error.code, "\(service): the stream broke after it began: \(error.message)",
                                  retryAfterMilliseconds: error.retryAfterMilliseconds, reason: "stream_broken")
            }
            throw error
        }
        if let head, head.errorClass != nil || !(200..<300).contains(head.status) {
            var failed = head
            failed.body = errorBody
            let fields = errorFields(try? JSON(json: errorBody))
            throw ProviderFailure.error(service, response: failed, type: fields.type, code: fields.code, message: fields.message)
        }
        if !stoppedByEvent, !finished { _ = deliver(decoder.finish()) }
        if let failure { throw failure }
    }
}

/// What a streamed answer's reader says after each event.
public enum StreamStep: Sendable {
    /// Go on reading.
    case more
    /// That was the stream's last event.
    case finished
    /// The reader wants no more: cut the transfer.
    case stop
}
