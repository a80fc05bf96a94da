//! `cairn:plugin@0.1.0`: the generated bindings of its three worlds, and the
//! conversions between their types and the host's. Frozen, like the WIT
//! package it is generated from.

generated_worlds!("../../wit/cairn-plugin@0.1.0");

use cairn_event::RecordedEvent;
use wasmtime::component::InstancePre;
use wasmtime::Store;

use generated::handler::cairn::plugin::{log, read_model, types as wire};
use generated::{aggregate, handler, migrator};

use crate::sandbox::{LogLevel, PluginState};
use crate::types::{AggregateInfo, CommandInput, EventShape, HandlerInfo, MigrationStep, PluginReply, ProposedEvent, ReturnedEvent};

pub(super) const AGGREGATE_EXPORT: &str = "cairn:plugin/aggregate@0.1.0";
pub(super) const MIGRATOR_EXPORT: &str = "cairn:plugin/migrator@0.1.0";
pub(super) const HANDLER_EXPORT: &str = "cairn:plugin/handler@0.1.0";

version_glue!();

fn event_to_wire(event: &RecordedEvent) -> wire::Event {
    wire::Event {
        id: event.id.to_string(),
        global_position: event.global_position,
        aggregate_type: event.aggregate_type.clone(),
        aggregate_id: event.aggregate_id.clone(),
        stream_version: event.stream_version,
        event_type: event.event_type.clone(),
        schema_version: event.schema_version.clone(),
        timestamp: cairn_event::time::format_rfc3339(&event.timestamp),
        payload: event.payload.as_str().to_owned(),
        metadata: event.metadata.as_str().to_owned(),
        correlation_id: event.correlation_id.clone(),
        causation_id: event.causation_id.clone(),
        user_id: event.user_id.clone(),
        source: event.source.clone(),
    }
}

pub(crate) struct AggregatePre(aggregate::AggregatePluginPre<PluginState>);
pub(crate) struct AggregateInstance(aggregate::AggregatePlugin);

impl AggregatePre {
    pub fn new(pre: InstancePre<PluginState>) -> wasmtime::Result<Self> {
        aggregate::AggregatePluginPre::new(pre).map(Self)
    }

    pub fn instantiate(&self, store: &mut Store<PluginState>) -> wasmtime::Result<AggregateInstance> {
        self.0.instantiate(store).map(AggregateInstance)
    }
}

impl AggregateInstance {
    /// 0.1 always hands over the whole record.
    pub fn describe(&self, store: &mut Store<PluginState>) -> wasmtime::Result<(AggregateInfo, EventShape)> {
        let info = self.0.cairn_plugin_aggregate().call_describe(store)?;
        Ok((AggregateInfo { aggregate_type: info.aggregate_type, state_version: info.state_version, snapshot_every: info.snapshot_every }, EventShape::WithEnvelope))
    }

    pub fn initial_state(&self, store: &mut Store<PluginState>, aggregate_id: &str) -> wasmtime::Result<String> {
        self.0.cairn_plugin_aggregate().call_initial_state(store, aggregate_id)
    }

    pub fn apply(&self, store: &mut Store<PluginState>, state: &str, events: &[RecordedEvent]) -> wasmtime::Result<Result<String, PluginReply>> {
        let events: Vec<wire::Event> = events.iter().map(event_to_wire).collect();
        Ok(self.0.cairn_plugin_aggregate().call_apply(store, state, &events)?.map_err(reply_from_wire))
    }

    pub fn decide(
        &self,
        store: &mut Store<PluginState>,
        state: &str,
        command: &CommandInput,
    ) -> wasmtime::Result<Result<Vec<ProposedEvent>, PluginReply>> {
        let command = wire::Command {
            command_id: command.command_id.clone(),
            command_type: command.command_type.clone(),
            aggregate_id: command.aggregate_id.clone(),
            payload: command.payload.as_str().to_owned(),
            metadata: command.metadata.as_str().to_owned(),
        };
        let reply = self.0.cairn_plugin_aggregate().call_decide(store, state, &command)?;
        Ok(reply
            .map(|events| {
                events
                    .into_iter()
                    .map(|event| ProposedEvent { event_type: event.event_type, schema_version: event.schema_version, payload: event.payload })
                    .collect()
            })
            .map_err(reply_from_wire))
    }
}

pub(crate) struct MigratorPre(migrator::MigratorPluginPre<PluginState>);
pub(crate) struct MigratorInstance(migrator::MigratorPlugin);

impl MigratorPre {
    pub fn new(pre: InstancePre<PluginState>) -> wasmtime::Result<Self> {
        migrator::MigratorPluginPre::new(pre).map(Self)
    }

    pub fn instantiate(&self, store: &mut Store<PluginState>) -> wasmtime::Result<MigratorInstance> {
        self.0.instantiate(store).map(MigratorInstance)
    }
}

impl MigratorInstance {
    pub fn describe(&self, store: &mut Store<PluginState>) -> wasmtime::Result<(Vec<MigrationStep>, EventShape)> {
        let steps = self.0.cairn_plugin_migrator().call_describe(store)?;
        let steps = steps
            .into_iter()
            .map(|step| MigrationStep { event_type: step.event_type, from_version: step.from_version, to_version: step.to_version })
            .collect();
        Ok((steps, EventShape::WithEnvelope))
    }

    /// One event through one step.
    pub fn migrate(&self, store: &mut Store<PluginState>, event: &RecordedEvent) -> wasmtime::Result<Result<ReturnedEvent, PluginReply>> {
        let reply = self.0.cairn_plugin_migrator().call_migrate(store, &event_to_wire(event))?;
        Ok(reply
            .map(|event| ReturnedEvent {
                id: event.id,
                aggregate_type: event.aggregate_type,
                aggregate_id: event.aggregate_id,
                event_type: event.event_type,
                schema_version: event.schema_version,
                payload: event.payload,
                metadata: event.metadata,
            })
            .map_err(reply_from_wire))
    }
}

pub(crate) struct HandlerPre(handler::HandlerPluginPre<PluginState>);
pub(crate) struct HandlerInstance(handler::HandlerPlugin);

impl HandlerPre {
    pub fn new(pre: InstancePre<PluginState>) -> wasmtime::Result<Self> {
        handler::HandlerPluginPre::new(pre).map(Self)
    }

    pub fn instantiate(&self, store: &mut Store<PluginState>) -> wasmtime::Result<HandlerInstance> {
        self.0.instantiate(store).map(HandlerInstance)
    }
}

impl HandlerInstance {
    pub fn describe(&self, store: &mut Store<PluginState>) -> wasmtime::Result<(HandlerInfo, EventShape)> {
        let info = self.0.cairn_plugin_handler().call_describe(store)?;
        Ok((HandlerInfo { name: info.name, event_types: info.event_types, aggregate_types: info.aggregate_types }, EventShape::WithEnvelope))
    }

    /// The batch in one call; a failure names the index of its event.
    pub fn handle(&self, store: &mut Store<PluginState>, events: &[RecordedEvent]) -> wasmtime::Result<Result<(), (u32, PluginReply)>> {
        let events: Vec<wire::Event> = events.iter().map(event_to_wire).collect();
        let reply = self.0.cairn_plugin_handler().call_handle(store, &events)?;
        Ok(reply.map_err(|failure| (failure.index, reply_from_wire(failure.error))))
    }
}
