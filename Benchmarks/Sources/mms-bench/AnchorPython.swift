import ArgumentParser
import Foundation

/// The Python interpreters the anchors run in. `scripts/bench-env.sh` makes
/// each from pinned requirements; the commands' defaults name those venvs, so
/// a fresh clone needs the script and no flags.
enum AnchorPython {
    /// Stops with a message that names the set-up command when `python` is missing.
    static func require(_ python: String, set: String) throws {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw ValidationError(
                "no Python at \(python) for the \(set) anchors: run `scripts/bench-env.sh \(set)` from the repository root (or pass --python, or skip the anchors)")
        }
    }
}
