use std::fmt::Debug;

use super::{events_json, split_tagged, TestEvent};
use crate::aggregate::{bindings::cairn::plugin::types as wire, Adapter};
use crate::{Aggregate, Command, PluginError};

/// An event as the host hands it to `apply`.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    /// Such as "MoneyDeposited".
    pub event_type: String,
    /// Such as "1.0".
    pub schema_version: String,
    /// The payload, JSON text.
    pub payload: String,
    /// The metadata object, JSON text.
    pub metadata: String,
    /// The aggregate the event belongs to.
    pub aggregate_id: String,
    /// 1-based position in its stream.
    pub stream_version: u64,
}

impl StoredEvent {
    /// An event with empty metadata.
    pub fn new(aggregate_id: &str, stream_version: u64, event_type: &str, payload: &str) -> Self {
        Self {
            event_type: event_type.to_owned(),
            schema_version: "1.0".to_owned(),
            payload: payload.to_owned(),
            metadata: "{}".to_owned(),
            aggregate_id: aggregate_id.to_owned(),
            stream_version,
        }
    }
}

/// The state JSON before the first event.
pub fn initial_state<A: Aggregate>(aggregate_id: &str) -> String {
    serde_json::to_string(&A::initial_state(aggregate_id)).unwrap_or_default()
}

/// Folds events, all of one stream, into a state, as the host's `apply` call does.
pub fn apply<A: Aggregate>(state: &str, events: &[StoredEvent]) -> Result<String, PluginError> {
    let aggregate_id = events.first().map_or("", |event| event.aggregate_id.as_str());
    let test_events: Vec<TestEvent<'_>> = events
        .iter()
        .map(|event| TestEvent {
            event_type: &event.event_type,
            schema_version: &event.schema_version,
            stream_version: event.stream_version,
            global_position: event.stream_version,
            payload: &event.payload,
            envelope: A::WANTS_ENVELOPE.then_some((A::AGGREGATE_TYPE, event.aggregate_id.as_str(), event.metadata.as_str())),
        })
        .collect();
    Adapter::<A>::apply_all(state, aggregate_id, &events_json(&test_events))
}

/// Folds the contract's `events` JSON array (as the host writes it) into a
/// state: exactly what the wasm export's `apply` runs. The plugin benchmark
/// times it natively against the same text.
pub fn apply_events_json<A: Aggregate>(state: &str, aggregate_id: &str, events_json: &str) -> Result<String, PluginError> {
    Adapter::<A>::apply_all(state, aggregate_id, events_json)
}

/// Decides on a command, as the host's `decide` call does, and returns each
/// new event's type and payload JSON.
pub fn decide<A: Aggregate>(state: &str, command_type: &str, payload: &str) -> Result<Vec<(String, String)>, PluginError> {
    let command = wire::Command {
        command_id: "test-command".to_owned(),
        command_type: command_type.to_owned(),
        aggregate_id: "test-aggregate".to_owned(),
        payload: payload.to_owned(),
        metadata: "{}".to_owned(),
    };
    Ok(Adapter::<A>::decide_command(state.to_owned(), command)?
        .into_iter()
        .map(|event| (event.event_type, event.payload))
        .collect())
}

/// A given/when/then test of an aggregate, in the style of cqrs-es:
///
/// ```text
/// AggregateTest::<BankAccount>::new("acc-1")
///     .given([AccountEvent::AccountOpened { owner: "Ann".into() }])
///     .when(AccountCommand::Withdraw { amount: 5 })
///     .then_rejected("insufficient funds");
/// ```
///
/// The given events are written to JSON and folded through the same
/// `apply` the wasm export runs; the command is decided on that state.
pub struct AggregateTest<A: Aggregate> {
    aggregate_id: String,
    given: Vec<A::Event>,
}

impl<A: Aggregate> AggregateTest<A> {
    /// A test of the stream `aggregate_id`, with no events yet.
    pub fn new(aggregate_id: &str) -> Self {
        Self { aggregate_id: aggregate_id.to_owned(), given: Vec::new() }
    }

    /// The events already in the stream, oldest first.
    pub fn given(mut self, events: impl IntoIterator<Item = A::Event>) -> Self {
        self.given.extend(events);
        self
    }

    /// The state the given events fold into, as the host would hold it.
    pub fn state(&self) -> A::State {
        let stored: Vec<StoredEvent> = self
            .given
            .iter()
            .enumerate()
            .map(|(index, event)| {
                let (event_type, payload) = split_tagged("event_type", event);
                let mut stored = StoredEvent::new(&self.aggregate_id, index as u64 + 1, &event_type, &payload);
                stored.schema_version = A::schema_version(event).to_owned();
                stored
            })
            .collect();
        let state = apply::<A>(&initial_state::<A>(&self.aggregate_id), &stored)
            .unwrap_or_else(|error| panic!("the given events do not fold: {error}"));
        serde_json::from_str(&state).unwrap_or_else(|error| panic!("the folded state does not read back: {error}"))
    }

    /// Decides `command` on the state of the given events.
    pub fn when(self, command: A::Command) -> AggregateThen<A> {
        let state = self.state();
        let command = Command {
            command_id: "test-command".to_owned(),
            aggregate_id: self.aggregate_id.clone(),
            metadata: serde_json::Value::Object(Default::default()),
            body: command,
        };
        AggregateThen { outcome: A::decide(&state, command) }
    }
}

/// What a command decided, to check.
pub struct AggregateThen<A: Aggregate> {
    outcome: Result<Vec<A::Event>, PluginError>,
}

impl<A: Aggregate> AggregateThen<A>
where
    A::Event: PartialEq + Debug,
{
    /// The command decided exactly these events.
    pub fn then_events(self, expected: impl IntoIterator<Item = A::Event>) {
        let expected: Vec<A::Event> = expected.into_iter().collect();
        match self.outcome {
            Ok(events) => assert_eq!(events, expected, "the command decided other events"),
            Err(error) => panic!("expected events {expected:?}, but the command failed: {error}"),
        }
    }

    /// The command was rejected by a business rule whose message contains `text`.
    pub fn then_rejected(self, text: &str) {
        match self.outcome {
            Err(PluginError::Rejected(message)) => assert!(message.contains(text), "rejected with {message:?}, which does not contain {text:?}"),
            other => panic!("expected a rejection containing {text:?}, got {other:?}"),
        }
    }

    /// The command was refused as invalid input, with a message containing `text`.
    pub fn then_invalid(self, text: &str) {
        match self.outcome {
            Err(PluginError::Invalid(message)) => assert!(message.contains(text), "invalid with {message:?}, which does not contain {text:?}"),
            other => panic!("expected an invalid-input error containing {text:?}, got {other:?}"),
        }
    }

    /// The outcome itself, for checks of your own.
    pub fn outcome(self) -> Result<Vec<A::Event>, PluginError> {
        self.outcome
    }
}
