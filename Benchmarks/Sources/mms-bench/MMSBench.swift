import ArgumentParser

/// `mms-bench`: measures the SDK against its anchors, in one run, as ratios.
@main
struct MMSBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mms-bench",
        abstract: "Measure swift-multimodal-search against its anchors on this machine.",
        discussion: """
            Each suite prints a table and, with --json, writes {"suite", "machine", "results", "summary"}.
            A ratio is always ours ÷ anchor in the unit given: below 1 is better for times, above 1 for rates.
            """,
        subcommands: [
            KernelsCommand.self, ANNCommand.self, SegmentsCommand.self, RankingCommand.self, EncodersCommand.self,
            CollectionCommand.self, CollectionOpenCommand.self, SingleAddCommand.self, ImageIngestCommand.self,
            LexicalCommand.self, HybridCommand.self, ANNEmbedCommand.self, ServeCommand.self,
            PreprocessCommand.self, WeightsCommand.self,
        ]
    )
}
