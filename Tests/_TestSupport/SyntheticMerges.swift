import Foundation

/// A BPE merges file of `count` merges made of lower-case letters: enough for
/// a CLIP tokenizer to load when the real vocabulary is not on the machine
/// (tests that give token ids explicitly, or run models with random weights).
///
/// - Returns: the path of the file, written once per process under the temporary directory.
public func syntheticMergesFile(count: Int) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("mms-synthetic-merges-\(count).txt").path
    if FileManager.default.fileExists(atPath: path) { return path }
    var lines = ["#version: 0.2"]
    let letters = (UInt8(ascii: "a")...UInt8(ascii: "z")).map { String(UnicodeScalar($0)) }
    var made = letters
    var i = 0
    while lines.count <= count {
        let left = made[i % made.count], right = letters[(i / made.count) % letters.count]
        lines.append("\(left) \(right)")
        made.append(left + right)
        i += 1
    }
    let temporary = path + ".\(ProcessInfo.processInfo.processIdentifier).tmp"
    try lines.joined(separator: "\n").write(toFile: temporary, atomically: false, encoding: .utf8)
    _ = rename(temporary, path)
    return path
}
