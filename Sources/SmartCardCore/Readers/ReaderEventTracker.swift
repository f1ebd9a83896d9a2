/// Turns successive snapshots of the readers into events. Pure: no I/O, so the PC/SC monitor and the
/// virtual backend share it and it is tested on its own.
///
/// `quickChange` covers a card pulled and reinserted between two looks: PC/SC reports it through an
/// event counter rather than a presence change, so the caller passes the readers whose counter moved.
package struct ReaderEventTracker: Sendable {
    private var known: [String: ReaderStatus] = [:]
    private var order: [String] = []

    package init() {}

    package var readers: [ReaderStatus] { order.compactMap { known[$0] } }

    package mutating func update(_ snapshot: [ReaderStatus], quickChange: Set<String> = []) -> [ReaderEvent] {
        var events: [ReaderEvent] = []
        let names = Set(snapshot.map(\.name))
        for name in order where !names.contains(name) {
            if known[name]?.cardPresent == true { events.append(.cardRemoved(reader: name)) }
            events.append(.readerRemoved(name))
            known[name] = nil
        }
        order.removeAll { !names.contains($0) }
        for status in snapshot {
            guard let previous = known[status.name] else {
                order.append(status.name)
                events.append(.readerAdded(status.name))
                if status.cardPresent { events.append(.cardInserted(reader: status.name, atr: status.atr)) }
                known[status.name] = status
                continue
            }
            switch (previous.cardPresent, status.cardPresent) {
            case (false, true):
                events.append(.cardInserted(reader: status.name, atr: status.atr))
            case (true, false):
                events.append(.cardRemoved(reader: status.name))
            case (true, true) where previous.atr != status.atr || quickChange.contains(status.name):
                events.append(.cardRemoved(reader: status.name))
                events.append(.cardInserted(reader: status.name, atr: status.atr))
            default:
                break
            }
            known[status.name] = status
        }
        return events
    }

    /// Forgets everything, as when the PC/SC service restarts; the next update reports all readers anew.
    package mutating func reset() -> [ReaderEvent] {
        var events: [ReaderEvent] = []
        for name in order {
            if known[name]?.cardPresent == true { events.append(.cardRemoved(reader: name)) }
            events.append(.readerRemoved(name))
        }
        known = [:]
        order = []
        return events
    }
}
