import ArgumentParser
import Foundation

/// The query sets `mms eval` and `mms bakeoff` share: category folders as
/// queries, and query texts beside a qrels file.
enum QuerySets {
    /// Every non-empty category with at least `minItems` members, in name
    /// order: the category, its last folder name as text ("animals/sea_life"
    /// → "sea life"), and its members.
    static func categories<ID>(_ members: [(category: String, id: ID)], minItems: Int) -> [(category: String, text: String, ids: [ID])] {
        var byCategory: [String: [ID]] = [:]
        for member in members where !member.category.isEmpty { byCategory[member.category, default: []].append(member.id) }
        return byCategory.sorted { $0.key < $1.key }.filter { $0.value.count >= minItems }.map { category, ids in
            (category, (category as NSString).lastPathComponent.replacingOccurrences(of: "_", with: " "), ids)
        }
    }

    /// Query texts from a file of `id<TAB>text` lines.
    static func texts(_ path: String) throws -> [(id: String, text: String)] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
            let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("\(path): \"\(line)\" is not id<TAB>text") }
            return (parts[0], parts[1])
        }
    }
}
