import BridgeProtocol
import Foundation

extension BridgeMessages {
    /// Decodes `body` as `T`, or says which argument is wrong.
    static func decode<T: Decodable>(_ type: T.Type, _ body: [UInt8], requestID: String? = nil) throws(BridgeError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch DecodingError.keyNotFound(let key, _) {
            throw BridgeError(.invalidArgument, "missing field \(key.stringValue)", requestID: requestID)
        } catch DecodingError.typeMismatch(_, let context) {
            throw BridgeError(.invalidArgument, "wrong type for \(context.codingPath.map(\.stringValue).joined(separator: "."))", requestID: requestID)
        } catch {
            throw BridgeError(.invalidArgument, "the body is not the expected JSON object", requestID: requestID)
        }
    }
}
