//! Answers past the host's output limits, each on its own command: `Many`
//! decides 20,000 events (the default limit is 10,000), `Big` one event of
//! 4 MiB (past an answer limit lowered to 2 MiB; the default 16 MiB would
//! not fit the default 64 MiB of memory together with the copies the SDK
//! makes) and `Chatty` logs 2 MiB (the log limit is 1 MiB per call).
//! `Behave` decides one small event.

use cairn_sdk::{Aggregate, Command, Event, PluginError};
use serde::{Deserialize, Serialize};

#[derive(Default, Serialize, Deserialize)]
pub struct Nothing {}

#[derive(Serialize, Deserialize)]
#[serde(tag = "event_type", content = "payload")]
pub enum FloodEvent {
    Happened { text: String },
}

#[derive(Deserialize)]
#[serde(tag = "command_type", content = "payload")]
pub enum FloodCommand {
    Behave {},
    Many {},
    Big {},
    Chatty {},
}

pub struct Flood;

impl Aggregate for Flood {
    type State = Nothing;
    type Event = FloodEvent;
    type Command = FloodCommand;
    const AGGREGATE_TYPE: &'static str = "test-flood";

    fn initial_state(_aggregate_id: &str) -> Nothing {
        Nothing {}
    }

    fn apply(_state: &mut Nothing, _event: Event<FloodEvent>) -> Result<(), PluginError> {
        Ok(())
    }

    fn decide(_state: &Nothing, command: Command<FloodCommand>) -> Result<Vec<FloodEvent>, PluginError> {
        let happened = |text: String| FloodEvent::Happened { text };
        Ok(match command.body {
            FloodCommand::Behave {} => vec![happened("small".to_owned())],
            FloodCommand::Many {} => (0..20_000).map(|index| happened(index.to_string())).collect(),
            FloodCommand::Big {} => vec![happened("x".repeat(4 * 1024 * 1024))],
            FloodCommand::Chatty {} => {
                let line = "chatter ".repeat(1024);
                for _ in 0..256 {
                    cairn_sdk::log::info(&line);
                }
                vec![happened("said a lot".to_owned())]
            }
        })
    }
}

cairn_sdk::export_aggregate!(Flood);
