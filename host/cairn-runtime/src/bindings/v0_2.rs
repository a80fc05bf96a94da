//! `cairn:plugin@0.2.0`: the generated bindings of its three worlds, and
//! the conversions between their types and the host's. Events cross as one
//! JSON text per call (`events_json`). Frozen, like the WIT package it is
//! generated from.

generated_worlds!("../../wit/cairn-plugin@0.2.0");

use cairn_event::RecordedEvent;
use wasmtime::component::InstancePre;
use wasmtime::Store;

use generated::handler::cairn::plugin::{log, read_model, types as wire};
use generated::{aggregate, handler, migrator};

use super::events_json::events_json;
use crate::sandbox::{LogLevel, PluginState};
use crate::types::{AggregateInfo, CommandInput, EventShape, HandlerInfo, MigratedPayload, MigrationAnswer, MigrationStep, PluginReply, ProposedEvent};

pub(super) const AGGREGATE_EXPORT: &str = "cairn:plugin/aggregate@0.2.0";
pub(super) const MIGRATOR_EXPORT: &str = "cairn:plugin/migrator@0.2.0";
pub(super) const HANDLER_EXPORT: &str = "cairn:plugin/handler@0.2.0";

version_glue!();

fn shape(wants_envelope: bool) -> EventShape {
    if wants_envelope {
        EventShape::WithEnvelope
    } else {
        EventShape::Compact
    }
}

pub(crate) struct AggregatePre(aggregate::AggregatePluginPre<PluginState>);

pub(crate) struct AggregateInstance {
    bindings: aggregate::AggregatePlugin,
}

impl AggregatePre {
    pub fn new(pre: InstancePre<PluginState>) -> wasmtime::Result<Self> {
        aggregate::AggregatePluginPre::new(pre).map(Self)
    }

    pub fn instantiate(&self, store: &mut Store<PluginState>) -> wasmtime::Result<AggregateInstance> {
        self.0.instantiate(store).map(|bindings| AggregateInstance { bindings })
    }
}

impl AggregateInstance {
    pub fn describe(&self, store: &mut Store<PluginState>) -> wasmtime::Result<(AggregateInfo, EventShape)> {
        let info = self.bindings.cairn_plugin_aggregate().call_describe(store)?;
        let shape = shape(info.wants_envelope);
        Ok((AggregateInfo { aggregate_type: info.aggregate_type, state_version: info.state_version, snapshot_every: info.snapshot_every }, shape))
    }

    pub fn initial_state(&self, store: &mut Store<PluginState>, aggregate_id: &str) -> wasmtime::Result<String> {
        self.bindings.cairn_plugin_aggregate().call_initial_state(store, aggregate_id)
    }

    pub fn apply(&self, store: &mut Store<PluginState>, state: &str, events: &[RecordedEvent], shape: EventShape) -> wasmtime::Result<Result<String, PluginReply>> {
        let aggregate_id = events.first().map_or("", |event| event.aggregate_id.as_str());
        let events = events_json(events.iter(), shape);
        Ok(self.bindings.cairn_plugin_aggregate().call_apply(store, state, aggregate_id, &events)?.map_err(reply_from_wire))
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
        let reply = self.bindings.cairn_plugin_aggregate().call_decide(store, state, &command)?;
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

pub(crate) struct MigratorInstance {
    bindings: migrator::MigratorPlugin,
}

impl MigratorPre {
    pub fn new(pre: InstancePre<PluginState>) -> wasmtime::Result<Self> {
        migrator::MigratorPluginPre::new(pre).map(Self)
    }

    pub fn instantiate(&self, store: &mut Store<PluginState>) -> wasmtime::Result<MigratorInstance> {
        self.0.instantiate(store).map(|bindings| MigratorInstance { bindings })
    }
}

impl MigratorInstance {
    pub fn describe(&self, store: &mut Store<PluginState>) -> wasmtime::Result<(Vec<MigrationStep>, EventShape)> {
        let info = self.bindings.cairn_plugin_migrator().call_describe(store)?;
        let steps = info
            .steps
            .into_iter()
            .map(|step| MigrationStep { event_type: step.event_type, from_version: step.from_version, to_version: step.to_version })
            .collect();
        Ok((steps, shape(info.wants_envelope)))
    }

    /// The whole batch in one call, one answer per event, in order. A list
    /// of another length than the batch is the caller's to report.
    pub fn migrate_batch(&self, store: &mut Store<PluginState>, events: &[&RecordedEvent], shape: EventShape) -> wasmtime::Result<Vec<Result<MigrationAnswer, PluginReply>>> {
        let text = events_json(events.iter().copied(), shape);
        let answers = self.bindings.cairn_plugin_migrator().call_migrate(store, &text)?;
        Ok(answers
            .into_iter()
            .map(|answer| {
                answer
                    .map(|migrated| MigrationAnswer::Payload(MigratedPayload { payload: migrated.payload, metadata: migrated.metadata }))
                    .map_err(reply_from_wire)
            })
            .collect())
    }
}

pub(crate) struct HandlerPre(handler::HandlerPluginPre<PluginState>);

pub(crate) struct HandlerInstance {
    bindings: handler::HandlerPlugin,
}

impl HandlerPre {
    pub fn new(pre: InstancePre<PluginState>) -> wasmtime::Result<Self> {
        handler::HandlerPluginPre::new(pre).map(Self)
    }

    pub fn instantiate(&self, store: &mut Store<PluginState>) -> wasmtime::Result<HandlerInstance> {
        self.0.instantiate(store).map(|bindings| HandlerInstance { bindings })
    }
}

impl HandlerInstance {
    pub fn describe(&self, store: &mut Store<PluginState>) -> wasmtime::Result<(HandlerInfo, EventShape)> {
        let info = self.bindings.cairn_plugin_handler().call_describe(store)?;
        let shape = shape(info.wants_envelope);
        Ok((HandlerInfo { name: info.name, event_types: info.event_types, aggregate_types: info.aggregate_types }, shape))
    }

    /// The batch in one call; a failure names the index of its event.
    pub fn handle(&self, store: &mut Store<PluginState>, events: &[RecordedEvent], shape: EventShape) -> wasmtime::Result<Result<(), (u32, PluginReply)>> {
        let text = events_json(events.iter(), shape);
        let reply = self.bindings.cairn_plugin_handler().call_handle(store, &text)?;
        Ok(reply.map_err(|failure| (failure.index, reply_from_wire(failure.error))))
    }
}
