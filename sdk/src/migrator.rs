use serde_json::Value;

use crate::batch::PayloadValue;
use crate::{Event, PluginError};

#[doc(hidden)]
#[allow(missing_docs)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit/cairn-plugin@0.2.0",
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
    /// Whether `migrate` reads the events' envelopes: id, stream, metadata,
    /// correlation, causation, user and source. Leave it false unless it
    /// does; without it those fields are empty and upcasts run faster.
    const WANTS_ENVELOPE: bool = false;

    /// The payload at `step.to_version`, from the event at `step.from_version`.
    /// The SDK sets the event's schema version; the rest of the envelope
    /// stays as it was.
    fn migrate(step: &Step, event: Event<Value>) -> Result<Value, PluginError>;
}

/// Connects a [`Migrator`] to the generated bindings; used by [`crate::export_migrator!`].
pub struct MigratorAdapter<M>(std::marker::PhantomData<M>);

crate::event::wire_glue!();

impl<M: Migrator> MigratorAdapter<M> {
    fn migrate_event(event: Event<Value>) -> Result<exported::Migrated, PluginError> {
        let step = M::STEPS
            .iter()
            .find(|step| step.event_type == event.event_type && step.from_version == event.schema_version)
            .ok_or_else(|| {
                PluginError::invalid(format!(
                    "no step of this migrator reads {} at version {}",
                    event.event_type, event.schema_version
                ))
            })?;
        let migrated = M::migrate(step, event)?;
        Ok(exported::Migrated { payload: migrated.to_string(), metadata: None })
    }

    /// One answer per event of the batch, in order; a batch that is not the
    /// contract's array gets one error, which the host reports against the
    /// batch's first event, since no answer can name its own.
    pub(crate) fn migrate_batch(events: &str) -> Vec<Result<exported::Migrated, PluginError>> {
        let mut answers = Vec::new();
        let read = crate::batch::for_each_event::<PayloadValue>(events, ("", ""), |_, event| {
            answers.push(Self::migrate_event(event));
            Ok(())
        });
        match read {
            Ok(_) => answers,
            Err((_, error)) => vec![Err(error)],
        }
    }
}

impl<M: Migrator> exported::Guest for MigratorAdapter<M> {
    fn describe() -> exported::Info {
        let steps = M::STEPS
            .iter()
            .map(|step| exported::Migration {
                event_type: step.event_type.to_owned(),
                from_version: step.from_version.to_owned(),
                to_version: step.to_version.to_owned(),
            })
            .collect();
        exported::Info { steps, wants_envelope: M::WANTS_ENVELOPE }
    }

    fn migrate(events: String) -> Vec<Result<exported::Migrated, wire::Error>> {
        Self::migrate_batch(&events).into_iter().map(|answer| answer.map_err(to_wire)).collect()
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
