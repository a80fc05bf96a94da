//! Log filters and the one place that turns them into SQL predicates.
//!
//! The base statements live in `host/cairn-store/queries/<backend>/`; only the optional
//! predicates are composed here, because their combinations are too many to
//! write out. Both backends accept `$N` placeholders, so one builder serves both.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Which events of the log to return. Empty lists and `None` mean "any".
/// Within a list any value matches; across fields all must match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogFilter {
    pub event_types: Vec<String>,
    pub aggregate_types: Vec<String>,
    pub aggregate_id: Option<String>,
    pub correlation_id: Option<String>,
    pub causation_id: Option<String>,
    pub user_id: Option<String>,
    /// Events whose `timestamp` is at or after this instant.
    #[serde(with = "cairn_event::time::optional_rfc3339_micros_de")]
    pub since: Option<DateTime<Utc>>,
    /// Events whose `timestamp` is at or before this instant.
    #[serde(with = "cairn_event::time::optional_rfc3339_micros_de")]
    pub until: Option<DateTime<Utc>>,
    /// Events at or below this global position.
    #[serde(deserialize_with = "cairn_event::whole_number::optional")]
    pub to_position: Option<u64>,
}

impl LogFilter {
    pub fn is_empty(&self) -> bool {
        self == &LogFilter::default()
    }

    /// Whether `event` passes the filter; the in-memory twin of the SQL.
    pub fn matches(&self, event: &cairn_event::RecordedEvent) -> bool {
        (self.event_types.is_empty() || self.event_types.contains(&event.event_type))
            && (self.aggregate_types.is_empty() || self.aggregate_types.contains(&event.aggregate_type))
            && self.aggregate_id.as_ref().is_none_or(|id| id == &event.aggregate_id)
            && self.correlation_id.as_ref().is_none_or(|id| Some(id) == event.correlation_id.as_ref())
            && self.causation_id.as_ref().is_none_or(|id| Some(id) == event.causation_id.as_ref())
            && self.user_id.as_ref().is_none_or(|id| Some(id) == event.user_id.as_ref())
            && self.since.is_none_or(|since| event.timestamp >= since)
            && self.until.is_none_or(|until| event.timestamp <= until)
            && self.to_position.is_none_or(|to| event.global_position <= to)
    }
}

/// A value to bind for a predicate, in placeholder order.
#[derive(Debug, Clone)]
pub(crate) enum FilterArgument {
    Text(String),
    Position(i64),
    Time(DateTime<Utc>),
}

/// `AND …` predicates for `filter`, numbering placeholders from `first_placeholder`.
pub(crate) fn filter_predicates(filter: &LogFilter, first_placeholder: usize) -> (String, Vec<FilterArgument>) {
    let mut sql = String::new();
    let mut arguments = Vec::new();
    let mut next = first_placeholder;
    let mut placeholder = |arguments: &mut Vec<FilterArgument>, argument: FilterArgument| {
        arguments.push(argument);
        next += 1;
        format!("${}", next - 1)
    };
    for (column, values) in [("event_type", &filter.event_types), ("aggregate_type", &filter.aggregate_types)] {
        if values.is_empty() {
            continue;
        }
        let list: Vec<String> =
            values.iter().map(|value| placeholder(&mut arguments, FilterArgument::Text(value.clone()))).collect();
        sql.push_str(&format!(" AND {column} IN ({})", list.join(", ")));
    }
    let exact = [
        ("aggregate_id", &filter.aggregate_id),
        ("correlation_id", &filter.correlation_id),
        ("causation_id", &filter.causation_id),
        ("user_id", &filter.user_id),
    ];
    for (column, value) in exact {
        if let Some(value) = value {
            let name = placeholder(&mut arguments, FilterArgument::Text(value.clone()));
            sql.push_str(&format!(" AND {column} = {name}"));
        }
    }
    if let Some(since) = filter.since {
        let name = placeholder(&mut arguments, FilterArgument::Time(since));
        sql.push_str(&format!(" AND timestamp >= {name}"));
    }
    if let Some(until) = filter.until {
        let name = placeholder(&mut arguments, FilterArgument::Time(until));
        sql.push_str(&format!(" AND timestamp <= {name}"));
    }
    if let Some(to_position) = filter.to_position {
        let name = placeholder(&mut arguments, FilterArgument::Position(to_position.min(i64::MAX as u64) as i64));
        sql.push_str(&format!(" AND global_position <= {name}"));
    }
    (sql, arguments)
}
