/// A `multipart/form-data` body split into its parts (RFC 7578): each part's
/// form name, its file name if any, and its bytes.
struct Multipart {
    struct Part {
        var name: String
        var filename: String?
        var contentType: String?
        var body: [UInt8]
    }

    /// The boundary parameter of a `multipart/form-data` content type.
    static func boundary(_ contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmed() }
            if pair.count == 2, pair[0].lowercased() == "boundary" {
                return pair[1].hasPrefix("\"") && pair[1].hasSuffix("\"") && pair[1].count >= 2
                    ? String(pair[1].dropFirst().dropLast()) : pair[1]
            }
        }
        return nil
    }

    /// The parts of `body`; throws when the framing is broken.
    static func parse(_ body: [UInt8], boundary: String) throws(ServiceError) -> [Part] {
        guard !boundary.isEmpty, boundary.utf8.count <= 200 else { throw .badRequest("the multipart boundary is empty or too long") }
        let delimiter = Array(("--" + boundary).utf8)
        var positions: [Int] = []
        var i = 0
        while let at = find(delimiter, in: body, from: i) {
            positions.append(at)
            i = at + delimiter.count
        }
        guard positions.count >= 2 else { throw .badRequest("the multipart body has no complete part") }
        var parts: [Part] = []
        for (start, end) in zip(positions, positions.dropFirst()) {
            var partStart = start + delimiter.count
            if body[partStart..<min(partStart + 2, body.count)].elementsEqual([13, 10]) { partStart += 2 }
            var partEnd = end
            if partEnd >= 2, body[partEnd - 2] == 13, body[partEnd - 1] == 10 { partEnd -= 2 }
            guard partStart <= partEnd, let split = find([13, 10, 13, 10], in: body, from: partStart), split <= partEnd else {
                throw .badRequest("a multipart part has no header block")
            }
            let header = String(decoding: body[partStart..<split], as: UTF8.self)
            var part = Part(name: "", body: Array(body[(split + 4)..<max(split + 4, partEnd)]))
            for line in header.split(separator: "\r\n") {
                let lower = line.lowercased()
                if lower.hasPrefix("content-disposition:") {
                    part.name = value(of: "name", in: String(line)) ?? ""
                    part.filename = value(of: "filename", in: String(line))
                } else if lower.hasPrefix("content-type:") {
                    part.contentType = line.dropFirst("content-type:".count).trimmed()
                }
            }
            parts.append(part)
        }
        return parts
    }

    private static func value(of key: String, in line: String) -> String? {
        for item in line.split(separator: ";").dropFirst() {
            let pair = item.split(separator: "=", maxSplits: 1).map { $0.trimmed() }
            if pair.count == 2, pair[0].lowercased() == key {
                return pair[1].hasPrefix("\"") && pair[1].hasSuffix("\"") && pair[1].count >= 2 ? String(pair[1].dropFirst().dropLast()) : pair[1]
            }
        }
        return nil
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        var i = from
        while i + needle.count <= haystack.count {
            if haystack[i] == needle[0], haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}

extension Substring {
    fileprivate func trimmed() -> String {
        let set: Character = " "
        var s = self[...]
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
