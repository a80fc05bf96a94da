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
