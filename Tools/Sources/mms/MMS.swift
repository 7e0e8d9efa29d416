import ArgumentParser

/// `mms`: index a folder of pictures, search it, measure it.
@main
struct MMS: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mms",
        abstract: "Multimodal search from the command line: index a folder, search it, evaluate it.",
        discussion: """
            Captions come from a text file beside each picture (frog.png → frog.txt, first line) or the
            file name. Text is embedded with a BERT-family sentence encoder (all-MiniLM-L6-v2 by default);
            with --clip DIR, pictures are embedded by CLIP's image tower too and text queries also search
            the pictures.
            """,
        subcommands: [
            IndexCommand.self, SearchCommand.self, EvalCommand.self, CompareCommand.self, BakeoffCommand.self,
            CalibrateCommand.self, InfoCommand.self, ServeCommand.self,
        ]
    )
}
