//! A counter: the smallest useful aggregate. Replace the state, events and
//! commands with your domain's.

use cairn_sdk::{Aggregate, Command, Event, PluginError};
use serde::{Deserialize, Serialize};

#[derive(Default, Serialize, Deserialize)]
pub struct Counter {
    value: i64,
}

/// Events are stored as `{"event_type": "...", "payload": {...}}`.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event_type", content = "payload")]
pub enum CounterEvent {
    Added { amount: i64 },
}

#[derive(Deserialize)]
#[serde(tag = "command_type", content = "payload")]
pub enum CounterCommand {
    Add { amount: i64 },
}

pub struct CounterAggregate;

impl Aggregate for CounterAggregate {
    type State = Counter;
    type Event = CounterEvent;
    type Command = CounterCommand;
    const AGGREGATE_TYPE: &'static str = "counter";

    fn initial_state(_aggregate_id: &str) -> Counter {
        Counter::default()
    }

    fn apply(state: &mut Counter, event: Event<CounterEvent>) -> Result<(), PluginError> {
        match event.body {
            CounterEvent::Added { amount } => state.value += amount,
        }
        Ok(())
    }

    fn decide(_state: &Counter, command: Command<CounterCommand>) -> Result<Vec<CounterEvent>, PluginError> {
        match command.body {
            CounterCommand::Add { amount } if amount <= 0 => Err(PluginError::rejected("the amount must be positive")),
            CounterCommand::Add { amount } => Ok(vec![CounterEvent::Added { amount }]),
        }
    }
}

#[cfg(target_arch = "wasm32")]
cairn_sdk::export_aggregate!(CounterAggregate);

#[cfg(test)]
mod tests {
    use super::{CounterAggregate, CounterCommand, CounterEvent};
    use cairn_sdk::testing::AggregateTest;

    #[test]
    fn adding_records_an_event_and_zero_is_rejected() {
        AggregateTest::<CounterAggregate>::new("c-1")
            .given([CounterEvent::Added { amount: 1 }])
            .when(CounterCommand::Add { amount: 2 })
            .then_events([CounterEvent::Added { amount: 2 }]);
        AggregateTest::<CounterAggregate>::new("c-1").when(CounterCommand::Add { amount: 0 }).then_rejected("the amount must be positive");
    }
}
