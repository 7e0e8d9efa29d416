import CoreMetrics
import Prometheus

/// The service's metrics, through swift-metrics into its own Prometheus
/// registry (one per service, so several can run in one process; `GET
/// /metrics` renders it).
final class ServiceMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory

    let inflight: CoreMetrics.Meter
    let queryCacheHits: CoreMetrics.Counter
    let queryCacheMisses: CoreMetrics.Counter
    let queryCacheHitRatio: CoreMetrics.Gauge
    let pictureCacheHits: CoreMetrics.Counter
    let pictureCacheMisses: CoreMetrics.Counter
    let collectionItems: CoreMetrics.Gauge

    init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        let seconds: [Duration] = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(20),
            .milliseconds(50), .milliseconds(100), .milliseconds(150), .milliseconds(200), .milliseconds(250), .milliseconds(300),
            .milliseconds(400), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5),
        ]
        factory.defaultDurationHistogramBuckets = seconds
        factory.valueHistogramBuckets["mms_encoder_batch_size"] = [1, 2, 4, 8, 16, 32, 64, 128]
        self.factory = factory
        inflight = CoreMetrics.Meter(label: "mms_inflight_requests", factory: factory)
        queryCacheHits = CoreMetrics.Counter(label: "mms_query_cache_hits_total", factory: factory)
        queryCacheMisses = CoreMetrics.Counter(label: "mms_query_cache_misses_total", factory: factory)
        queryCacheHitRatio = CoreMetrics.Gauge(label: "mms_query_cache_hit_ratio", factory: factory)
        pictureCacheHits = CoreMetrics.Counter(label: "mms_picture_cache_hits_total", factory: factory)
        pictureCacheMisses = CoreMetrics.Counter(label: "mms_picture_cache_misses_total", factory: factory)
        collectionItems = CoreMetrics.Gauge(label: "mms_collection_items", factory: factory)
    }

    func request(route: String, status: Int, duration: Duration) {
        CoreMetrics.Counter(label: "mms_http_requests_total", dimensions: [("route", route), ("status", String(status))], factory: factory)
            .increment()
        CoreMetrics.Timer(
            label: "mms_http_request_duration_seconds", dimensions: [("route", route), ("status", String(status))], factory: factory)
            .recordNanoseconds(Self.nanoseconds(duration))
    }

    func rejected(_ reason: String) {
        CoreMetrics.Counter(label: "mms_rejected_requests_total", dimensions: [("reason", reason)], factory: factory).increment()
    }

    func batch(encoder: String, size: Int, waits: [Duration]) {
        CoreMetrics.Counter(label: "mms_encoder_batches_total", dimensions: [("encoder", encoder)], factory: factory).increment()
        CoreMetrics.Recorder(label: "mms_encoder_batch_size", dimensions: [("encoder", encoder)], factory: factory).record(size)
        let timer = CoreMetrics.Timer(label: "mms_encoder_queue_wait_seconds", dimensions: [("encoder", encoder)], factory: factory)
        for wait in waits { timer.recordNanoseconds(Self.nanoseconds(wait)) }
    }

    func queueDepth(encoder: String, _ depth: Int) {
        CoreMetrics.Gauge(label: "mms_encoder_queue_depth", dimensions: [("encoder", encoder)], factory: factory).record(depth)
    }

    /// The Prometheus text exposition of every metric.
    func render() -> [UInt8] { registry.emitToBuffer() }

    static func nanoseconds(_ d: Duration) -> Int64 {
        let (s, attoseconds) = d.components
        return s * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
