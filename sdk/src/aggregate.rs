use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::batch::TaggedBody;
use crate::event::{parse_object, tagged_body, untagged_body};
use crate::{Command, Event, PluginError};

#[doc(hidden)]
#[allow(missing_docs)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit/cairn-plugin@0.2.0",
        world: "aggregate-plugin",
        pub_export_macro: true,
        export_macro_name: "export_aggregate_world",
        default_bindings_module: "cairn_sdk::__private::aggregate_bindings",
    });
}

use bindings::cairn::plugin::types as wire;
use bindings::exports::cairn::plugin::aggregate as exported;

/// An aggregate: the state of one stream, the events that change it, and the
/// commands that propose changes.
///
/// Events and commands are enums tagged the way Cairn stores them:
/// `#[serde(tag = "event_type", content = "payload")]` for events and
/// `#[serde(tag = "command_type", content = "payload")]` for commands.
///
/// Both functions must be deterministic: no clocks, no randomness beyond
/// what the host provides, no state outside `State`.
pub trait Aggregate {
    /// The state, stored by the host as JSON (in snapshots too).
    type State: Serialize + DeserializeOwned;
    /// The events this aggregate records.
    type Event: Serialize + DeserializeOwned;
    /// The commands this aggregate decides on.
    type Command: DeserializeOwned;

    /// The aggregate type whose streams this plugin owns.
    const AGGREGATE_TYPE: &'static str;
    /// Change it whenever the shape of `State` changes, so old snapshots are discarded.
    const STATE_VERSION: &'static str = "1";
    /// Snapshot every this many events; `None` leaves it to the host.
    const SNAPSHOT_EVERY: Option<u32> = None;
    /// Whether `apply` reads the events' envelopes: id, metadata,
    /// correlation, causation, user and source. Leave it false unless it
    /// does; without it those fields are empty and folds run faster.
    const WANTS_ENVELOPE: bool = false;

    /// The state before the first event.
    fn initial_state(aggregate_id: &str) -> Self::State;

    /// Folds one event into the state.
    fn apply(state: &mut Self::State, event: Event<Self::Event>) -> Result<(), PluginError>;

    /// Decides which events a command produces, or refuses it.
    fn decide(state: &Self::State, command: Command<Self::Command>) -> Result<Vec<Self::Event>, PluginError>;

    /// The schema version a new event is recorded with.
    fn schema_version(_event: &Self::Event) -> &'static str {
        "1.0"
    }
}

/// Connects an [`Aggregate`] to the generated bindings; used by [`crate::export_aggregate!`].
pub struct Adapter<A>(PhantomData<A>);

crate::event::wire_glue!();

fn read_state<A: Aggregate>(state: &str) -> Result<A::State, PluginError> {
    serde_json::from_str(state).map_err(|error| PluginError::invalid(format!("state is not this aggregate's state: {error}")))
}

fn write_state<A: Aggregate>(state: &A::State) -> Result<String, PluginError> {
    serde_json::to_string(state).map_err(|error| PluginError::internal(format!("cannot write the state: {error}")))
}

impl<A: Aggregate> Adapter<A> {
    pub(crate) fn apply_all(state: &str, aggregate_id: &str, events: &str) -> Result<String, PluginError> {
        // The state is read at the first event: folding nothing changes
        // nothing, so the state then goes back as it came.
        let mut folded = None;
        crate::batch::for_each_event::<TaggedBody<A::Event>>(events, (A::AGGREGATE_TYPE, aggregate_id), |_, event| {
            let state = match &mut folded {
                Some(state) => state,
                None => folded.insert(read_state::<A>(state)?),
            };
            A::apply(state, event)
        })
        .map_err(|(_, error)| error)?;
        match folded {
            Some(state) => write_state::<A>(&state),
            None => Ok(state.to_owned()),
        }
    }

    pub(crate) fn decide_command(state: String, command: wire::Command) -> Result<Vec<wire::NewEvent>, PluginError> {
        let state = read_state::<A>(&state)?;
        let body = tagged_body("command_type", &command.command_type, &command.payload)?;
        let command = Command {
            metadata: parse_object("metadata", &command.metadata)?,
            command_id: command.command_id,
            aggregate_id: command.aggregate_id,
            body,
        };
        A::decide(&state, command)?
            .iter()
            .map(|event| {
                let (event_type, payload) = untagged_body("event_type", event)?;
                Ok(wire::NewEvent { event_type, schema_version: A::schema_version(event).to_owned(), payload })
            })
            .collect()
    }
}

impl<A: Aggregate> exported::Guest for Adapter<A> {
    fn describe() -> exported::Info {
        exported::Info {
            aggregate_type: A::AGGREGATE_TYPE.to_owned(),
            state_version: A::STATE_VERSION.to_owned(),
            snapshot_every: A::SNAPSHOT_EVERY,
            wants_envelope: A::WANTS_ENVELOPE,
        }
    }

    fn initial_state(aggregate_id: String) -> String {
        // A state that cannot be written is a bug the host reports as a
        // malformed reply: it refuses anything that is not JSON.
        write_state::<A>(&A::initial_state(&aggregate_id)).unwrap_or_default()
    }

    fn apply(state: String, aggregate_id: String, events: String) -> Result<String, wire::Error> {
        Self::apply_all(&state, &aggregate_id, &events).map_err(to_wire)
    }

    fn decide(state: String, command: wire::Command) -> Result<Vec<wire::NewEvent>, wire::Error> {
        Self::decide_command(state, command).map_err(to_wire)
    }
}

/// Exports an [`Aggregate`] as this component's `aggregate-plugin` world.
#[macro_export]
macro_rules! export_aggregate {
    ($aggregate:ty) => {
        type __CairnAggregateAdapter = $crate::__private::AggregateAdapter<$aggregate>;
        $crate::__private::aggregate_bindings::export_aggregate_world!(__CairnAggregateAdapter with_types_in $crate::__private::aggregate_bindings);
    };
}
