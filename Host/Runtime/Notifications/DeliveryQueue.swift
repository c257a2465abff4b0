import TrellisStore

/// Deliveries waiting for a time (quiet hours, a retry, a rate limit): a
/// min-heap on `notBefore`, oldest first among equals.
struct DeliveryQueue {
    private var heap: [(due: Double, order: Int, delivery: DeliveryRecord)] = []
    private var counter = 0

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }
    var nextDue: Double? { heap.first?.due }

    mutating func push(_ delivery: DeliveryRecord) {
        counter += 1
        heap.append((delivery.notBefore, counter, delivery))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(child, parent) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the deliveries due at `time`, earliest first.
    mutating func popDue(_ time: Double) -> [DeliveryRecord] {
        var due: [DeliveryRecord] = []
        while let first = heap.first, first.due <= time {
            due.append(first.delivery)
            heap.swapAt(0, heap.count - 1)
            heap.removeLast()
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < heap.count && less(left, smallest) { smallest = left }
                if right < heap.count && less(right, smallest) { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return due
    }

    private func less(_ a: Int, _ b: Int) -> Bool {
        heap[a].due < heap[b].due || (heap[a].due == heap[b].due && heap[a].order < heap[b].order)
    }
}

/// Deliveries due now at one priority, oldest first. Taking from the front
/// moves an index, so a burst of thousands costs nothing per take.
struct ReadyLine {
    private var items: [DeliveryRecord] = []
    private var head = 0

    var count: Int { items.count - head }
    var isEmpty: Bool { head == items.count }

    mutating func append(_ delivery: DeliveryRecord) { items.append(delivery) }

    mutating func popFirst() -> DeliveryRecord? {
        guard head < items.count else { return nil }
        let first = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 4096 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        return first
    }
}
