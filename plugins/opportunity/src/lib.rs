//! An AI opportunity, after 000_f9af0f096825d203.txt: created with a title,
//! a solution type and a market size, then updated, validated or archived.
//! New events are recorded at schema version 1.0, whose payloads carry
//! `market_size`; the fold also reads 2.0 payloads (`market_size_estimate`),
//! so the aggregate keeps working once the 1.0 → 2.0 migrator is active.

use cairn_sdk::{Aggregate, Command, Event, PluginError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Unknown,
    Open,
    Validated,
    Archived,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Opportunity {
    pub status: Status,
    pub opportunity_id: Option<String>,
    pub title: Option<String>,
    pub ai_solution_type: Option<String>,
    pub market_size: Option<u64>,
    pub validations: u32,
    pub archive_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event_type", content = "payload")]
pub enum OpportunityEvent {
    OpportunityCreated {
        opportunity_id: String,
        title: String,
        ai_solution_type: String,
        #[serde(alias = "market_size_estimate")]
        market_size: u64,
    },
    OpportunityUpdated {
        opportunity_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ai_solution_type: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none", alias = "market_size_estimate")]
        market_size: Option<u64>,
    },
    OpportunityValidated { opportunity_id: String, validator: String },
    OpportunityArchived { opportunity_id: String, reason: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "command_type", content = "payload")]
pub enum OpportunityCommand {
    Create { title: String, ai_solution_type: String, market_size: u64 },
    Update {
        #[serde(default)]
        title: Option<String>,
        #[serde(default)]
        ai_solution_type: Option<String>,
        #[serde(default)]
        market_size: Option<u64>,
    },
    Validate { validator: String },
    Archive { reason: String },
}

pub struct OpportunityAggregate;

fn require_live(state: &Opportunity) -> Result<(), PluginError> {
    match state.status {
        Status::Open | Status::Validated => Ok(()),
        Status::Unknown => Err(PluginError::rejected("the opportunity does not exist; create it first")),
        Status::Archived => Err(PluginError::rejected("the opportunity is archived")),
    }
}

fn require_text(field: &str, value: &str) -> Result<(), PluginError> {
    if value.trim().is_empty() {
        Err(PluginError::rejected(format!("{field} must not be empty")))
    } else {
        Ok(())
    }
}

impl Aggregate for OpportunityAggregate {
    type State = Opportunity;
    type Event = OpportunityEvent;
    type Command = OpportunityCommand;

    const AGGREGATE_TYPE: &'static str = "opportunity";
    const SNAPSHOT_EVERY: Option<u32> = Some(50);

    fn initial_state(_aggregate_id: &str) -> Opportunity {
        Opportunity::default()
    }

    fn apply(state: &mut Opportunity, event: Event<OpportunityEvent>) -> Result<(), PluginError> {
        match event.body {
            OpportunityEvent::OpportunityCreated { opportunity_id, title, ai_solution_type, market_size } => {
                state.status = Status::Open;
                state.opportunity_id = Some(opportunity_id);
                state.title = Some(title);
                state.ai_solution_type = Some(ai_solution_type);
                state.market_size = Some(market_size);
            }
            OpportunityEvent::OpportunityUpdated { title, ai_solution_type, market_size, .. } => {
                state.title = title.or(state.title.take());
                state.ai_solution_type = ai_solution_type.or(state.ai_solution_type.take());
                state.market_size = market_size.or(state.market_size);
            }
            OpportunityEvent::OpportunityValidated { .. } => {
                state.status = Status::Validated;
                state.validations += 1;
            }
            OpportunityEvent::OpportunityArchived { reason, .. } => {
                state.status = Status::Archived;
                state.archive_reason = Some(reason);
            }
        }
        Ok(())
    }

    fn decide(state: &Opportunity, command: Command<OpportunityCommand>) -> Result<Vec<OpportunityEvent>, PluginError> {
        let opportunity_id = command.aggregate_id.clone();
        match command.body {
            OpportunityCommand::Create { title, ai_solution_type, market_size } => {
                if state.status != Status::Unknown {
                    return Err(PluginError::rejected("the opportunity already exists"));
                }
                require_text("title", &title)?;
                require_text("ai_solution_type", &ai_solution_type)?;
                Ok(vec![OpportunityEvent::OpportunityCreated { opportunity_id, title, ai_solution_type, market_size }])
            }
            OpportunityCommand::Update { title, ai_solution_type, market_size } => {
                require_live(state)?;
                if let Some(title) = &title {
                    require_text("title", title)?;
                }
                let changed = title.as_ref().is_some_and(|title| Some(title) != state.title.as_ref())
                    || ai_solution_type.as_ref().is_some_and(|kind| Some(kind) != state.ai_solution_type.as_ref())
                    || market_size.is_some_and(|size| Some(size) != state.market_size);
                if !changed {
                    return Err(PluginError::rejected("the update changes nothing"));
                }
                Ok(vec![OpportunityEvent::OpportunityUpdated { opportunity_id, title, ai_solution_type, market_size }])
            }
            OpportunityCommand::Validate { validator } => {
                require_live(state)?;
                require_text("validator", &validator)?;
                Ok(vec![OpportunityEvent::OpportunityValidated { opportunity_id, validator }])
            }
            OpportunityCommand::Archive { reason } => {
                require_live(state)?;
                require_text("reason", &reason)?;
                Ok(vec![OpportunityEvent::OpportunityArchived { opportunity_id, reason }])
            }
        }
    }
}

#[cfg(target_arch = "wasm32")]
cairn_sdk::export_aggregate!(OpportunityAggregate);

#[cfg(test)]
mod tests {
    use cairn_sdk::testing::{apply, decide, initial_state, StoredEvent};

    use super::OpportunityAggregate as Agg;

    #[test]
    fn a_created_opportunity_reads_version_1_and_2_payloads_alike() {
        let v1 = StoredEvent::new("o-1", 1, "OpportunityCreated", r#"{"opportunity_id":"o-1","title":"AI Chatbot","ai_solution_type":"nlp","market_size":1000000}"#);
        let mut v2 = StoredEvent::new("o-1", 1, "OpportunityCreated", r#"{"opportunity_id":"o-1","title":"AI Chatbot","ai_solution_type":"nlp","market_size_estimate":1000000,"ai_solution_category":"natural_language_processing","confidence_score":0.7}"#);
        v2.schema_version = "2.0".to_owned();
        let initial = initial_state::<Agg>("o-1");
        assert_eq!(apply::<Agg>(&initial, &[v1]).unwrap(), apply::<Agg>(&initial, &[v2]).unwrap());
    }

    #[test]
    fn rules_refuse_what_they_should() {
        let initial = initial_state::<Agg>("o-1");
        assert!(decide::<Agg>(&initial, "Archive", r#"{"reason":"x"}"#).is_err());
        let created = decide::<Agg>(&initial, "Create", r#"{"title":"AI Chatbot","ai_solution_type":"nlp","market_size":5}"#).unwrap();
        assert_eq!(created[0].0, "OpportunityCreated");
        assert!(created[0].1.contains(r#""market_size":5"#));
    }
}
