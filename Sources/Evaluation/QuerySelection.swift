/// Which queries an evaluation of a ``Run`` against ``Qrels`` averages over.
public enum QuerySelection: Hashable, Sendable {
    /// The judged queries the run answers: trec_eval's default. A judged
    /// query the run never mentions is left out, and so is a query the run
    /// answers but nobody judged.
    case judgedAndRetrieved
    /// Every judged query: trec_eval's `-c`. A judged query the run never
    /// mentions scores 0 on every measure and counts in the mean, so a
    /// system cannot look better by skipping hard queries.
    case allJudged
}
