// Shared by the test plugins: a one-command aggregate whose `decide` calls
// `misbehave`, and whose `apply` misbehaves on an event of type "Misbehave".
use cairn_sdk::{Aggregate, Command, Event, PluginError};
use serde::{Deserialize, Serialize};

#[derive(Default, Serialize, Deserialize)]
pub struct Nothing {}

#[derive(Serialize, Deserialize)]
#[serde(tag = "event_type", content = "payload")]
pub enum TestEvent {
    Happened {},
    Misbehave {},
}

#[derive(Deserialize)]
#[serde(tag = "command_type", content = "payload")]
pub enum TestCommand {
    Behave {},
    Misbehave {},
}

pub struct TestAggregate;

impl Aggregate for TestAggregate {
    type State = Nothing;
    type Event = TestEvent;
    type Command = TestCommand;
    const AGGREGATE_TYPE: &'static str = AGGREGATE_TYPE;

    fn initial_state(_aggregate_id: &str) -> Nothing {
        Nothing {}
    }

    fn apply(_state: &mut Nothing, event: Event<TestEvent>) -> Result<(), PluginError> {
        if let TestEvent::Misbehave {} = event.body {
            misbehave();
        }
        Ok(())
    }

    fn decide(_state: &Nothing, command: Command<TestCommand>) -> Result<Vec<TestEvent>, PluginError> {
        match command.body {
            TestCommand::Behave {} => Ok(vec![TestEvent::Happened {}]),
            TestCommand::Misbehave {} => {
                misbehave();
                Ok(vec![])
            }
        }
    }
}

cairn_sdk::export_aggregate!(TestAggregate);
