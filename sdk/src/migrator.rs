use serde_json::Value;

use crate::{Event, PluginError};

#[doc(hidden)]
#[allow(missing_docs)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit/cairn-plugin@0.1.0",
        world: "migrator-plugin",
        pub_export_macro: true,
        export_macro_name: "export_migrator_world",
        default_bindings_module: "cairn_sdk::__private::migrator_bindings",
    });
}

use bindings::cairn::plugin::types as wire;
use bindings::exports::cairn::plugin::migrator as exported;

/// One upcasting step: events of `event_type` at `from_version` become
/// `to_version`. Versions compare as semantic versions ("1.0" < "1.1" < "2.0").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// The event type the step applies to.
    pub event_type: &'static str,
    /// The schema version the step reads.
    pub from_version: &'static str,
    /// The schema version the step writes; greater than `from_version`.
    pub to_version: &'static str,
}

/// An event migrator: turns old payloads into new ones, one step at a time.
/// The host chains steps from every active migrator and never changes stored
/// events; it upcasts them as it reads.
///
/// `migrate` must be a pure function of its input.
pub trait Migrator {
    /// Every step this migrator offers.
    const STEPS: &'static [Step];

    /// The payload at `step.to_version`, from the event at `step.from_version`.
    /// The SDK sets the event's schema version; the rest of the envelope
    /// stays as it was.
    fn migrate(step: &Step, event: Event<Value>) -> Result<Value, PluginError>;
}

/// Connects a [`Migrator`] to the generated bindings; used by [`crate::export_migrator!`].
pub struct MigratorAdapter<M>(std::marker::PhantomData<M>);

crate::event::wire_glue!();

impl<M: Migrator> MigratorAdapter<M> {
    fn migrate_event(mut event: wire::Event) -> Result<wire::Event, PluginError> {
        let step = M::STEPS
            .iter()
            .find(|step| step.event_type == event.event_type && step.from_version == event.schema_version)
            .ok_or_else(|| {
                PluginError::invalid(format!(
                    "no step of this migrator reads {} at version {}",
                    event.event_type, event.schema_version
                ))
            })?;
        let payload: Value = serde_json::from_str(&event.payload)
            .map_err(|error| PluginError::invalid(format!("the payload is not JSON: {error}")))?;
        let migrated = M::migrate(step, envelope(event.clone(), payload))?;
        event.payload = migrated.to_string();
        event.schema_version = step.to_version.to_owned();
        Ok(event)
    }
}

impl<M: Migrator> exported::Guest for MigratorAdapter<M> {
    fn describe() -> Vec<exported::Migration> {
        M::STEPS
            .iter()
            .map(|step| exported::Migration {
                event_type: step.event_type.to_owned(),
                from_version: step.from_version.to_owned(),
                to_version: step.to_version.to_owned(),
            })
            .collect()
    }

    fn migrate(event: wire::Event) -> Result<wire::Event, wire::Error> {
        Self::migrate_event(event).map_err(to_wire)
    }
}

/// Exports a [`Migrator`] as this component's `migrator-plugin` world.
#[macro_export]
macro_rules! export_migrator {
    ($migrator:ty) => {
        type __CairnMigratorAdapter = $crate::__private::MigratorAdapter<$migrator>;
        $crate::__private::migrator_bindings::export_migrator_world!(__CairnMigratorAdapter with_types_in $crate::__private::migrator_bindings);
    };
}
