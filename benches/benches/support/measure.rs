//! What the plain-binary benches (`latency`, `scale`, `throughput`) share to run and report:
//! their runtime, the `--only` argument, percentiles, and the machine's load.

use std::time::Duration;

/// The runtime both benches connect on: tokio multi-thread with 2 workers, as on the 2-core
/// machine the results were taken on.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => panic!("tokio runtime: {e}"),
    }
}

/// The `NAME` of `--only NAME` among a plain bench's arguments: run that series alone.
pub(crate) fn only(args: &[String]) -> Option<String> {
    args.iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// `p`-th percentile (nearest rank) of sorted `values`.
pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    // Nearest rank: ceil(p/100 * n), 1-based; the float is small and positive.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `d` in milliseconds.
pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The 1, 5 and 15 minute load averages from `/proc/loadavg`, or `unknown`.
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}
