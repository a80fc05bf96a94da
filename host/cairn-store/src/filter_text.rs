//! The one parser of log filters given as text: query strings of `GET
//! /events` and `/events/stream`, and anything else that has a filter as
//! strings. JSON filters (a replay job's) arrive as `LogFilter` and are
//! judged by the same `LogFilter::problems`.

use crate::filter::LogFilter;

/// Values one list of a filter may hold: each becomes a bound parameter,
/// and the engines cap those per statement (SQLite at 32,766).
pub const MAX_FILTER_VALUES: usize = 1_000;

/// A filter as text. Lists are comma-separated; blanks around names and
/// empty items are ignored, so `a, b,` is `a` and `b`.
#[derive(Debug, Clone, Copy, Default)]
pub struct FilterText<'a> {
    pub event_types: Option<&'a str>,
    pub aggregate_types: Option<&'a str>,
    pub aggregate_id: Option<&'a str>,
    pub correlation_id: Option<&'a str>,
    pub causation_id: Option<&'a str>,
    pub user_id: Option<&'a str>,
    /// RFC 3339.
    pub since: Option<&'a str>,
    /// RFC 3339.
    pub until: Option<&'a str>,
}

impl FilterText<'_> {
    /// The filter, or every problem at once, each naming its field.
    pub fn parse(&self) -> Result<LogFilter, Vec<String>> {
        let mut problems = Vec::new();
        let mut time = |name: &str, text: Option<&str>| {
            text.and_then(|text| cairn_event::time::parse_rfc3339(text).map_err(|error| problems.push(format!("{name}: {error}"))).ok())
        };
        let since = time("since", self.since);
        let until = time("until", self.until);
        let filter = LogFilter {
            event_types: comma_list(self.event_types),
            aggregate_types: comma_list(self.aggregate_types),
            aggregate_id: self.aggregate_id.map(str::to_owned),
            correlation_id: self.correlation_id.map(str::to_owned),
            causation_id: self.causation_id.map(str::to_owned),
            user_id: self.user_id.map(str::to_owned),
            since,
            until,
            to_position: None,
        };
        problems.extend(filter.problems());
        if problems.is_empty() {
            Ok(filter)
        } else {
            Err(problems)
        }
    }
}

/// Names from a comma-separated list, trimmed, without empty items.
pub fn comma_list(text: Option<&str>) -> Vec<String> {
    text.iter().flat_map(|text| text.split(',')).map(str::trim).filter(|name| !name.is_empty()).map(str::to_owned).collect()
}

impl LogFilter {
    /// What makes this filter unusable, whichever way it came: a list too
    /// long, an empty name in a list. (A range that ends before it starts is
    /// legal, and matches nothing.)
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (field, values) in [("event types", &self.event_types), ("aggregate types", &self.aggregate_types)] {
            if values.len() > MAX_FILTER_VALUES {
                problems.push(format!("{} {field} were given; give at most {MAX_FILTER_VALUES}", values.len()));
            }
            if values.iter().any(|value| value.trim().is_empty()) {
                problems.push(format!("the {field} hold an empty name; leave the list out to match any"));
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_split_trimmed_and_empty_items_dropped() {
        let filter = FilterText { event_types: Some(" A, B,,"), aggregate_types: Some(""), ..FilterText::default() }.parse().unwrap();
        assert_eq!(filter.event_types, ["A", "B"]);
        assert!(filter.aggregate_types.is_empty());
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let problems = FilterText { since: Some("yesterday"), until: Some("2026-13-01T00:00:00Z"), ..FilterText::default() }.parse().unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("since: `yesterday` is not an RFC 3339 time"));
    }

    #[test]
    fn a_range_that_ends_before_it_starts_is_legal_and_empty() {
        let text = FilterText { since: Some("2026-05-02T00:00:00Z"), until: Some("2026-05-01T00:00:00Z"), ..FilterText::default() };
        assert!(text.parse().is_ok());
    }

    #[test]
    fn too_many_values_are_refused() {
        let many = vec!["T"; MAX_FILTER_VALUES + 1].join(",");
        let problems = FilterText { event_types: Some(&many), ..FilterText::default() }.parse().unwrap_err();
        assert!(problems[0].contains("give at most 1000"), "{problems:?}");
    }
}
