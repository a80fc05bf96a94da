//! The runtime's metrics, recorded through the `metrics` facade (free
//! without an installed recorder). `cairn::telemetry` lists every metric.

use std::time::Duration;

use metrics::{counter, histogram};

use crate::FailureReason;

pub const PLUGIN_CALLS: &str = "cairn_plugin_calls_total";
pub const PLUGIN_CALL_DURATION: &str = "cairn_plugin_call_duration_seconds";

/// One call into a plugin, with how it ended.
pub(crate) fn plugin_called(plugin: &str, function: &'static str, failure: Option<&FailureReason>, elapsed: Duration) {
    let outcome = match failure {
        None => "ok",
        Some(FailureReason::Timeout(_)) => "timeout",
        Some(FailureReason::OutOfMemory(_)) => "out_of_memory",
        Some(FailureReason::Trap(_)) => "trap",
        Some(FailureReason::Malformed(_)) => "malformed",
        Some(FailureReason::OverLimit(_)) => "over_limit",
        Some(_) => "error",
    };
    counter!(PLUGIN_CALLS, "plugin" => plugin.to_owned(), "function" => function, "outcome" => outcome).increment(1);
    histogram!(PLUGIN_CALL_DURATION, "plugin" => plugin.to_owned(), "function" => function).record(elapsed.as_secs_f64());
}
