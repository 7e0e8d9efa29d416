import Foundation
import SearchCore

/// The pictures under a folder, as catalogue entries: what `mms index` reads.
///
/// Every file whose name ends `.jpg`, `.jpeg` or `.png` (any case) is an entry,
/// in a stable order (sorted relative paths). Its caption is the first line of
/// a sibling text file of the same name (`frog.png` → `frog.txt`, the layout
/// of Tux Paint's stamp collection), or else its file name with separators
/// turned into spaces. Its `category` is its folder relative to the root, so
/// category folders can serve as relevance labels.
public struct FolderCatalog: Sendable {
    /// One picture found.
    public struct Entry: Sendable, Hashable {
        /// The path relative to the root, `/`-separated.
        public var relativePath: String
        /// The absolute path.
        public var path: String
        /// The caption (see the type's description).
        public var caption: String
        /// The folder relative to the root (`""` at the top).
        public var category: String
    }

    /// The folder searched.
    public let root: URL
    /// The pictures found, sorted by relative path.
    public let entries: [Entry]

    /// Lists the pictures under `root`.
    ///
    /// - Throws: ``SearchError/Code/notFound`` when `root` is not a readable folder.
    public init(root: URL) throws {
        self.root = root.standardizedFileURL
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: self.root.path, isDirectory: &isDirectory), isDirectory.boolValue,
            let walker = FileManager.default.enumerator(at: self.root, includingPropertiesForKeys: [.isRegularFileKey])
        else {
            throw SearchError(.notFound, "\(root.path) is not a folder that can be read")
        }
        let rootPath = self.root.path.hasSuffix("/") ? self.root.path : self.root.path + "/"
        var found: [Entry] = []
        for case let url as URL in walker {
            let ext = url.pathExtension.lowercased()
            guard ["jpg", "jpeg", "png"].contains(ext) else { continue }
            let path = url.standardizedFileURL.path
            guard path.hasPrefix(rootPath) else { continue }
            let relative = String(path.dropFirst(rootPath.count))
            let folder = (relative as NSString).deletingLastPathComponent
            found.append(
                Entry(relativePath: relative, path: path, caption: Self.caption(for: url), category: folder))
        }
        entries = found.sorted { $0.relativePath < $1.relativePath }
    }

    static func caption(for picture: URL) -> String {
        let text = picture.deletingPathExtension().appendingPathExtension("txt")
        if let contents = try? String(contentsOf: text, encoding: .utf8),
            let first = contents.split(whereSeparator: \.isNewline).first
        {
            let line = first.trimmingCharacters(in: .whitespaces)
            if !line.isEmpty && !line.contains("=") { return line }
        }
        let stem = picture.deletingPathExtension().lastPathComponent
        return String(stem.map { "-_.".contains($0) ? " " : $0 }).trimmingCharacters(in: .whitespaces)
    }
}
