// A keyword index: BM25 over weighted fields, phrases, partial file names,
// a filter, deletes and a restart. The README's keyword example is this program.

import Foundation
import LexicalIndex
import SearchCore

let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keyword-search-example").path
try? FileManager.default.removeItem(atPath: directory)
defer { try? FileManager.default.removeItem(atPath: directory) }

do {
    let index = try LexicalIndex(
        directory: directory,
        configuration: .init(fields: [.caption, .tags, .fileName, .pictureText]))
    try index.add(id: 7, fields: ["caption": "A walnut table with brass legs", "fileName": "IMG_2041.jpg"])
    try index.add(id: 8, fields: ["caption": "Brass lamp beside the table", "tags": "lamp brass"])
    try index.add(id: 9, fields: ["caption": "Oak chair", "pictureText": "SALE 50% off"])

    let hits = try index.search("\"brass legs\" table", k: 10)   // a phrase and a word
    for hit in hits { print(hit.id, hit.score, hit.matchedTerms) }
    let files = try index.search("img_20*", k: 10)               // a partial file name
    let allowed = try index.search("brass", k: 10, filter: AllowList([8, 9]))
    print(files.map(\.id), allowed.map(\.id))
    _ = try index.remove(id: 9)   // durable when it returns
    try index.flush()             // the head becomes a checksummed segment
}

// Reopen, as after a restart: segments are mapped, the log replayed.
let reopened = try LexicalIndex(
    directory: directory, configuration: .init(fields: [.caption, .tags, .fileName, .pictureText]))
let phrase = try reopened.search("\"brass legs\"", k: 10).map(\.id)
let partial = try reopened.search("img_20*", k: 10).map(\.id)
let filtered = try reopened.search("brass", k: 10, filter: AllowList([8, 9])).map(\.id)
let removed = try reopened.search("sale", k: 10)
precondition(reopened.count == 2 && phrase == [7] && partial == [7] && filtered == [8] && removed.isEmpty)
print("keyword search example: ok")
