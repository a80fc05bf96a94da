//! The plugin runtime against real components from `plugins/`: the bank
//! account, and the test plugins that misbehave on purpose.

use std::sync::Arc;
use std::time::Duration;

use cairn::json::JsonText;
use cairn::runtime::types::CommandInput;
use cairn::runtime::{AggregatePlugin, CompileSource, FailureReason, LoadedPlugin, PluginLoadError, PluginRuntime, RuntimeConfig};

use crate::support::plugin_bytes;

fn runtime_with_cache(cache: Option<&std::path::Path>) -> Arc<PluginRuntime> {
    runtime_with_time_limit(cache, Duration::from_millis(300))
}

fn runtime_with_time_limit(cache: Option<&std::path::Path>, call_time_limit: Duration) -> Arc<PluginRuntime> {
    PluginRuntime::new(RuntimeConfig {
        memory_limit_bytes: 32 * 1024 * 1024,
        call_time_limit,
        cache_directory: cache.map(|path| path.to_owned()),
        idle_instances_per_plugin: 2,
        ..RuntimeConfig::default()
    })
    .expect("runtime starts")
}

fn load_aggregate(runtime: &Arc<PluginRuntime>, name: &str) -> Arc<AggregatePlugin> {
    let compiled = runtime.compile(&plugin_bytes(name)).expect("compiles");
    match runtime.load(name, &compiled).expect("loads") {
        LoadedPlugin::Aggregate(plugin) => plugin,
        _ => panic!("{name} is not an aggregate"),
    }
}

fn command(command_type: &str, payload: &str) -> CommandInput {
    CommandInput {
        command_id: "command-1".to_owned(),
        command_type: command_type.to_owned(),
        aggregate_id: "a-1".to_owned(),
        payload: JsonText::parse(payload).unwrap(),
        metadata: JsonText::parse("{}").unwrap(),
    }
}

#[test]
fn bank_account_describes_itself_and_decides() {
    let runtime = runtime_with_cache(None);
    let plugin = load_aggregate(&runtime, "bank-account");
    assert_eq!(plugin.info().aggregate_type, "bank-account");
    assert_eq!(plugin.info().snapshot_every, Some(100));
    let state = plugin.initial_state("a-1").unwrap();
    let events = plugin.decide(&state, &command("Open", r#"{"owner":"Ann"}"#)).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, "AccountOpened");
    assert_eq!(events[0].payload.as_str(), r#"{"owner":"Ann"}"#);
    let error = plugin.decide(&state, &command("Withdraw", r#"{"amount":5}"#)).unwrap_err();
    assert!(error.is_rejection(), "{error}");
    assert_eq!(error.to_string(), "plugin bank-account: decide failed: the account is not open");
}

/// `call_time_limit` is short only where the time limit is what fails the
/// call; elsewhere a busy machine must not fail it on time first.
fn assert_fails_then_recovers(name: &str, call_time_limit: Duration, expect: impl Fn(&FailureReason) -> bool) {
    let runtime = runtime_with_time_limit(None, call_time_limit);
    let plugin = load_aggregate(&runtime, name);
    let healthy = load_aggregate(&runtime, "bank-account");
    let state = plugin.initial_state("a-1").unwrap();
    let error = plugin.decide(&state, &command("Misbehave", "{}")).unwrap_err();
    assert_eq!(error.plugin, name);
    assert_eq!(error.function, "decide");
    assert!(expect(&error.reason), "unexpected failure for {name}: {error}");
    // The same plugin serves the next call on a fresh instance, and other
    // plugins in the same runtime never noticed.
    let events = plugin.decide(&state, &command("Behave", "{}")).unwrap();
    assert_eq!(events[0].event_type, "Happened");
    let bank_state = healthy.initial_state("b-1").unwrap();
    assert!(healthy.decide(&bank_state, &command("Open", r#"{"owner":"Bo"}"#)).is_ok());
}

#[test]
fn a_trapping_plugin_fails_only_its_own_call() {
    assert_fails_then_recovers("test-trap", Duration::from_secs(20), |reason| {
        matches!(reason, FailureReason::Trap(message) if message.contains("unreachable") && message.contains("this plugin traps on purpose"))
    });
}

#[test]
fn an_endless_loop_is_stopped_at_the_time_limit() {
    assert_fails_then_recovers("test-endless-loop", Duration::from_millis(300), |reason| matches!(reason, FailureReason::Timeout(_)));
}

#[test]
fn a_memory_hog_is_stopped_at_the_memory_limit() {
    assert_fails_then_recovers("test-memory-hog", Duration::from_secs(20), |reason| matches!(reason, FailureReason::OutOfMemory(32)));
}

#[test]
fn malformed_replies_are_refused_with_what_is_wrong() {
    let runtime = runtime_with_cache(None);
    let plugin = load_aggregate(&runtime, "test-bad-json");
    let state = plugin.initial_state("a-1").unwrap();
    let error = plugin.apply(&state, &[]).unwrap_err();
    assert!(matches!(&error.reason, FailureReason::Malformed(message) if message.starts_with("the state is not JSON")), "{error}");
    let error = plugin.decide(&state, &command("EmptyType", "{}")).unwrap_err();
    assert_eq!(error.to_string(), "plugin test-bad-json: decide failed: it returned malformed data: event 1: the event type is empty");
    let error = plugin.decide(&state, &command("BadPayload", "{}")).unwrap_err();
    assert!(error.to_string().contains("event 1: the payload is not JSON"), "{error}");
}

#[test]
fn a_component_without_a_cairn_world_is_refused_at_compile() {
    let runtime = runtime_with_cache(None);
    let error = runtime.compile(&plugin_bytes("test-no-world")).err().expect("refused");
    assert!(matches!(error, PluginLoadError::NoKnownWorld(_)), "{error}");
    assert!(error.to_string().contains("wasi:cli/run"), "{error}");
}

#[test]
fn a_component_importing_what_the_sandbox_does_not_grant_is_refused_naming_the_imports() {
    let runtime = runtime_with_cache(None);
    let error = runtime.compile(&plugin_bytes("test-file-reader")).err().expect("refused");
    assert!(matches!(error, PluginLoadError::ForbiddenImports(_)), "{error}");
    let message = error.to_string();
    assert!(message.contains("wasi:filesystem/types@"), "{message}");
    assert!(message.contains("wasi:filesystem/preopens@"), "{message}");
    assert!(!message.contains("wasi:clocks"), "granted imports are not named: {message}");
}

#[test]
fn bytes_that_are_not_a_component_are_refused() {
    let runtime = runtime_with_cache(None);
    for bytes in [b"hello world".to_vec(), b"\0asm\x01\0\0\0".to_vec()] {
        let error = runtime.compile(&bytes).err().expect("refused");
        assert!(matches!(error, PluginLoadError::NotAComponent(_)), "{error}");
    }
}

#[test]
fn the_compile_cache_serves_a_second_runtime() {
    let cache = tempfile::tempdir().unwrap();
    let bytes = plugin_bytes("bank-account");
    let first = runtime_with_cache(Some(cache.path())).compile(&bytes).unwrap();
    assert_eq!(first.compile_source, CompileSource::Compiled);
    let second_runtime = runtime_with_cache(Some(cache.path()));
    let second = second_runtime.compile(&bytes).unwrap();
    assert_eq!(second.compile_source, CompileSource::Cache);
    assert!(matches!(second_runtime.load("bank-account", &second).unwrap(), LoadedPlugin::Aggregate(_)));
}

#[test]
fn a_corrupt_cache_entry_is_recompiled() {
    let cache = tempfile::tempdir().unwrap();
    let bytes = plugin_bytes("bank-account");
    runtime_with_cache(Some(cache.path())).compile(&bytes).unwrap();
    for entry in std::fs::read_dir(cache.path()).unwrap() {
        std::fs::write(entry.unwrap().path(), b"garbage").unwrap();
    }
    let again = runtime_with_cache(Some(cache.path())).compile(&bytes).unwrap();
    assert_eq!(again.compile_source, CompileSource::Compiled);
}

#[test]
fn plugins_get_a_fixed_clock_and_a_fixed_random_seed() {
    let first = load_aggregate(&runtime_with_cache(None), "test-noop").initial_state("x").unwrap();
    let second = load_aggregate(&runtime_with_cache(None), "test-noop").initial_state("x").unwrap();
    assert_eq!(first.as_str(), second.as_str());
    let reported: serde_json::Value = serde_json::from_str(first.as_str()).unwrap();
    assert_eq!(reported["clock"], 946_684_800, "the clock says 2000-01-01T00:00:00Z");
}
