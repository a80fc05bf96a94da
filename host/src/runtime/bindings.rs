//! The only module that names generated bindings. Everything else in the
//! host uses the types in `runtime::types`; conversions happen here.

pub mod handler {
    wasmtime::component::bindgen!({
        path: "../wit/cairn-plugin@0.1.0",
        world: "handler-plugin",
        // Read-model calls reach the store and can fail; they trap the
        // handler's call rather than answer with made-up data.
        imports: { "cairn:plugin/read-model": trappable },
    });
}

pub mod aggregate {
    wasmtime::component::bindgen!({
        path: "../wit/cairn-plugin@0.1.0",
        world: "aggregate-plugin",
        with: {
            "cairn:plugin/types": super::handler::cairn::plugin::types,
            "cairn:plugin/log": super::handler::cairn::plugin::log,
        },
    });
}

pub mod migrator {
    wasmtime::component::bindgen!({
        path: "../wit/cairn-plugin@0.1.0",
        world: "migrator-plugin",
        with: {
            "cairn:plugin/types": super::handler::cairn::plugin::types,
            "cairn:plugin/log": super::handler::cairn::plugin::log,
        },
    });
}

use handler::cairn::plugin::types as wire;

use super::types::{CommandInput, HandlerInfo, MigrationStep, PluginReply, ProposedEvent};
use crate::event::RecordedEvent;

pub fn event_to_wire(event: &RecordedEvent) -> wire::Event {
    wire::Event {
        id: event.id.to_string(),
        global_position: event.global_position,
        aggregate_type: event.aggregate_type.clone(),
        aggregate_id: event.aggregate_id.clone(),
        stream_version: event.stream_version,
        event_type: event.event_type.clone(),
        schema_version: event.schema_version.clone(),
        timestamp: crate::time::format_rfc3339(&event.timestamp),
        payload: event.payload.as_str().to_owned(),
        metadata: event.metadata.as_str().to_owned(),
        correlation_id: event.correlation_id.clone(),
        causation_id: event.causation_id.clone(),
        user_id: event.user_id.clone(),
        source: event.source.clone(),
    }
}

pub fn command_to_wire(command: &CommandInput) -> wire::Command {
    wire::Command {
        command_id: command.command_id.clone(),
        command_type: command.command_type.clone(),
        aggregate_id: command.aggregate_id.clone(),
        payload: command.payload.as_str().to_owned(),
        metadata: command.metadata.as_str().to_owned(),
    }
}

pub fn reply_from_wire(error: wire::Error) -> PluginReply {
    match error {
        wire::Error::Rejected(message) => PluginReply::Rejected(message),
        wire::Error::Invalid(message) => PluginReply::Invalid(message),
        wire::Error::Internal(message) => PluginReply::Internal(message),
    }
}

pub fn new_event_from_wire(event: wire::NewEvent) -> ProposedEvent {
    ProposedEvent { event_type: event.event_type, schema_version: event.schema_version, payload: event.payload }
}

pub fn migration_step_from_wire(step: migrator::exports::cairn::plugin::migrator::Migration) -> MigrationStep {
    MigrationStep { event_type: step.event_type, from_version: step.from_version, to_version: step.to_version }
}

pub fn handler_info_from_wire(info: handler::exports::cairn::plugin::handler::Info) -> HandlerInfo {
    HandlerInfo { name: info.name, event_types: info.event_types, aggregate_types: info.aggregate_types }
}

/// A migrated event back from the plugin, checked against the original.
/// Only the payload, the metadata and the schema version may change.
pub fn migrated_from_wire(original: &RecordedEvent, reply: wire::Event, to_version: &str) -> Result<RecordedEvent, String> {
    let mut problems = Vec::new();
    if uuid::Uuid::parse_str(&reply.id).ok() != Some(original.id) {
        problems.push(format!("it changed the event id to `{}`", reply.id));
    }
    if reply.event_type != original.event_type {
        problems.push(format!("it changed the event type to `{}`", reply.event_type));
    }
    if reply.aggregate_type != original.aggregate_type || reply.aggregate_id != original.aggregate_id {
        problems.push("it moved the event to another stream".to_owned());
    }
    if reply.schema_version != to_version {
        problems.push(format!("it returned schema version `{}`, but the step goes to `{to_version}`", reply.schema_version));
    }
    let payload = crate::json::JsonText::parse(reply.payload).map_err(|error| format!("the payload is not JSON: {error}"));
    let metadata = crate::json::JsonText::parse(reply.metadata).map_err(|error| format!("the metadata is not JSON: {error}"));
    if let Err(problem) = &payload {
        problems.push(problem.clone());
    }
    match &metadata {
        Err(problem) => problems.push(problem.clone()),
        Ok(metadata) if !metadata.is_object() => problems.push("the metadata is not a JSON object".to_owned()),
        Ok(_) => {}
    }
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    // Built field by field: cloning the original would copy its payload too.
    Ok(RecordedEvent {
        id: original.id,
        global_position: original.global_position,
        aggregate_type: reply.aggregate_type,
        aggregate_id: reply.aggregate_id,
        stream_version: original.stream_version,
        event_type: reply.event_type,
        schema_version: reply.schema_version,
        timestamp: original.timestamp,
        recorded_at: original.recorded_at,
        payload: payload.expect("checked above"),
        metadata: metadata.expect("checked above"),
        correlation_id: original.correlation_id.clone(),
        causation_id: original.causation_id.clone(),
        user_id: original.user_id.clone(),
        source: original.source.clone(),
    })
}
