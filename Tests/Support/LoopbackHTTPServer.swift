import Foundation
import Synchronization
import TrellisCore

/// A small HTTP/1.1 server on 127.0.0.1 for `trellis bench notify` and the
/// tests of HTTP plugins: keep-alive, bodies by Content-Length.
///
/// One thread serves every connection from a `poll` loop, the way an
/// event-driven receiver does, so the bench's receiver costs the machine
/// little. The handler sees each request and returns the response on that
/// thread: a handler that sleeps plays a server that hangs.
public final class LoopbackHTTPServer: @unchecked Sendable {
    public let port: Int
    public var url: String { "http://127.0.0.1:\(port)" }
    private let listener: Int32
    /// A pipe `stop` writes to, to end the loop.
    private let wake: (read: Int32, write: Int32)
    private let handler: @Sendable (Request) -> Response
    private let clients = Mutex<Set<Int32>>([])
    private let stopped = Atomic<Bool>(false)
    /// Connections accepted so far (to see connection reuse).
    public var connectionsAccepted: Int { accepted.load(ordering: .relaxed) }
    private let accepted = Atomic<Int>(0)

    public init(handler: @escaping @Sendable (Request) -> Response) throws {
        self.handler = handler
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { throw ServerError("socket() failed: errno \(errno)") }
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 128) == 0 else {
            close(listener)
            throw ServerError("cannot listen on 127.0.0.1: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        self.listener = listener
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else {
            close(listener)
            throw ServerError("cannot create a pipe: errno \(errno)")
        }
        wake = (ends[0], ends[1])
        let thread = Thread { [self] in run() }
        thread.name = "loopback-http"
        thread.start()
    }

    deinit { stop() }

    /// Refuses new connections and closes every open one.
    public func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        // Shut down here, so a connection attempt after `stop` is refused;
        // the loop closes the descriptors.
        shutdown(listener, Int32(SHUT_RDWR))
        for client in clients.withLock({ $0 }) { shutdown(client, Int32(SHUT_RDWR)) }
        var one: UInt8 = 1
        _ = Glibc.write(wake.write, &one, 1)
    }

    private func run() {
        var connections: [Int32: Connection] = [:]
        var chunk = [UInt8](repeating: 0, count: 65536)
        var watched: [pollfd] = []
        loop: while true {
            watched.removeAll(keepingCapacity: true)
            watched.append(pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0))
            watched.append(pollfd(fd: listener, events: Int16(POLLIN), revents: 0))
            for descriptor in connections.keys { watched.append(pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)) }
            let count = poll(&watched, nfds_t(watched.count), -1)
            if count < 0 {
                if errno == EINTR { continue }
                break
            }
            for entry in watched where entry.revents != 0 {
                if entry.fd == wake.read { break loop }
                if entry.fd == listener {
                    for client in acceptAll() { connections[client] = Connection(socket: client) }
                } else if let connection = connections[entry.fd] {
                    switch serve(connection, chunk: &chunk) {
                    case .keep:
                        break
                    case .close:
                        connections[entry.fd] = nil
                        clients.withLock { _ = $0.remove(entry.fd) }
                        close(entry.fd)
                    case .handedOff:
                        connections[entry.fd] = nil   // its streaming thread closes it
                    }
                }
            }
        }
        for descriptor in connections.keys { close(descriptor) }
        close(listener)
        close(wake.read)
        close(wake.write)
    }

    private func acceptAll() -> [Int32] {
        var accepted: [Int32] = []
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return accepted }
            _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK)
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            self.accepted.add(1, ordering: .relaxed)
            var yes: Int32 = 1
            setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
            clients.withLock { _ = $0.insert(client) }
            accepted.append(client)
        }
    }

    private enum Served { case keep, close, handedOff }

    /// Reads what the connection has and answers every whole request in it;
    /// `close` when the connection is done (closed, malformed, or `close`
    /// asked), `handedOff` when a streamed response's thread took it.
    private func serve(_ connection: Connection, chunk: inout [UInt8]) -> Served {
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(connection.socket, $0.baseAddress, $0.count, 0) }
            if count == 0 { return .close }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { break }
                return .close
            }
            connection.buffer.append(contentsOf: chunk[0..<count])
            if count < chunk.count { break }
        }
        while true {
            switch connection.next() {
            case .incomplete: return .keep
            case .malformed: return .close
            case .request(let request):
                let response = handler(request)
                if let parts = response.parts {
                    stream(parts, head: Self.head(of: response), on: connection.socket)
                    return .handedOff
                }
                guard write(Self.bytes(of: response), to: connection.socket) else { return .close }
                if let value = request.header("Connection"), value.equalsIgnoringASCIICase("close") { return .close }
            }
        }
    }

    /// Sends a streamed response from a thread of its own (so its pauses
    /// stall only this connection), then closes the connection.
    private func stream(_ parts: [Response.Part], head: [UInt8], on socket: Int32) {
        let thread = Thread { [self] in
            defer {
                clients.withLock { _ = $0.remove(socket) }
                close(socket)
            }
            guard write(head, to: socket) else { return }
            for part in parts {
                guard !stopped.load(ordering: .relaxed) else { return }
                switch part {
                case .text(let text):
                    guard write(Self.chunk(text), to: socket) else { return }
                case .pause(let seconds):
                    Thread.sleep(forTimeInterval: seconds)
                case .cut:
                    var linger = linger(l_onoff: 1, l_linger: 0)   // a reset, not an orderly end
                    setsockopt(socket, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
                    return
                }
            }
            _ = write(Array("0\r\n\r\n".utf8), to: socket)
        }
        thread.name = "loopback-http-stream"
        thread.start()
    }

    /// Writes all of `bytes`, waiting for room when the socket is full.
    private func write(_ bytes: [UInt8], to socket: Int32) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count > 0 {
                sent += count
            } else if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                var ready = pollfd(fd: socket, events: Int16(POLLOUT), revents: 0)
                guard poll(&ready, 1, 5000) > 0 else { return false }
            } else if !(count < 0 && errno == EINTR) {
                return false
            }
        }
        return true
    }

    struct ServerError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
