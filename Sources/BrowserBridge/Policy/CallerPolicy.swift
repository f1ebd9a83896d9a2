/// What the HTTP layer hands to the policy: the request line and headers, nothing parsed yet.
package struct BridgeRequestHead: Sendable {
    package var method: String
    package var path: String
    /// Header names as received; lookups ignore case.
    package var headers: [(name: String, value: String)]

    package init(method: String, path: String, headers: [(name: String, value: String)]) {
        self.method = method
        self.path = path
        self.headers = headers
    }

    /// Every value of `name`. A header sent twice is an attack or a bug: callers refuse it.
    package func values(_ name: String) -> [String] {
        headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }
}

/// Who is calling, once `CallerPolicy` accepted the request.
package struct Caller: Sendable, Hashable {
    /// The extension origin from the `Origin` header: `chrome-extension://<id>` or `moz-extension://<uuid>`.
    package var origin: String
    /// The bearer token, when one was sent (checked against the pairings by the service).
    package var bearerToken: String?
}

/// The rules every request passes before any route runs (docs/bridge-protocol.md, rules 1–3): the DNS
/// rebinding guard (`Host`), the extension-only guard (`Origin` + `X-CPS-Bridge`), and the body rules.
/// Pure: no I/O, so each refusal is a unit test.
package struct CallerPolicy: Sendable {
    package static let maximumBodyBytes = 8192

    package var port: Int
    /// Chromium extension ids accepted besides ours (`bridge-extension-id` in cpsd.conf).
    package var extraChromiumIDs: Set<String> = []
    /// Firefox gives each install its own moz-extension uuid, so any is accepted here; the pairing
    /// binds one to a token, and the user confirms that pairing.
    package var acceptsFirefox = true

    package init(port: Int, extraChromiumIDs: Set<String> = []) {
        self.port = port
        self.extraChromiumIDs = extraChromiumIDs
    }

    package var allowedHosts: Set<String> { ["127.0.0.1:\(port)", "[::1]:\(port)", "localhost:\(port)"] }

    /// Accepts the request head or says why not. `bodyLength` is the declared Content-Length, if any.
    package func admit(_ head: BridgeRequestHead) throws(BridgeError) -> Caller {
        let hosts = head.values("Host")
        guard hosts.count == 1, allowedHosts.contains(hosts[0].lowercased()) else {
            throw BridgeError(.hostNotAllowed, "Host must be one of \(allowedHosts.sorted().joined(separator: ", "))")
        }
        let origins = head.values("Origin")
        guard origins.count == 1, isExtensionOrigin(origins[0]) else {
            throw BridgeError(.callerOrigin, "only the cpsd browser extension may call the bridge")
        }
        if head.method == "OPTIONS" {
            // No preflight is ever granted: the extension's own requests need none.
            throw BridgeError(.callerOrigin, "preflight requests are not answered")
        }
        guard head.values("X-CPS-Bridge") == ["1"] else {
            throw BridgeError(.callerOrigin, "missing X-CPS-Bridge: 1")
        }
        if head.method == "POST" {
            let types = head.values("Content-Type")
            guard types.count == 1, Self.isJSON(types[0]) else {
                throw BridgeError(.unsupportedMediaType, "the body must be application/json")
            }
            if let length = head.values("Content-Length").first.flatMap(Int.init), length > Self.maximumBodyBytes {
                throw BridgeError(.payloadTooLarge, "the body may not exceed \(Self.maximumBodyBytes) bytes")
            }
        }
        let authorizations = head.values("Authorization")
        guard authorizations.count <= 1 else { throw BridgeError(.unauthorizedCaller, "several Authorization headers") }
        var bearer: String?
        if let authorization = authorizations.first {
            guard authorization.hasPrefix("Bearer "), authorization.count > 7 else {
                throw BridgeError(.unauthorizedCaller, "Authorization must be a Bearer token")
            }
            bearer = String(authorization.dropFirst(7))
        }
        return Caller(origin: origins[0], bearerToken: bearer)
    }

    /// `chrome-extension://<our id or a configured one>` or `moz-extension://<uuid>`; nothing else,
    /// not `null`, no path.
    package func isExtensionOrigin(_ origin: String) -> Bool {
        if origin.hasPrefix("chrome-extension://") {
            let id = String(origin.dropFirst("chrome-extension://".count))
            return id == BridgeExtensionIDs.chromium || extraChromiumIDs.contains(id)
        }
        if acceptsFirefox, origin.hasPrefix("moz-extension://") {
            let uuid = origin.dropFirst("moz-extension://".count)
            return uuid.count == 36 && uuid.allSatisfy { $0.isHexDigit || $0 == "-" }
        }
        return false
    }

    static func isJSON(_ contentType: String) -> Bool {
        // `first`, never `[0]`: an empty header (or a bare ";") splits into no parts at all.
        let media = (contentType.split(separator: ";", maxSplits: 1).first ?? "")
            .trimmingCharacters(in: .whitespaces).lowercased()
        return media == "application/json"
    }
}

import BridgeProtocol
import Foundation
