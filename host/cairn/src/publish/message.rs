//! One event as a JetStream message: its subject, headers and body.

use async_nats::HeaderMap;
use bytes::Bytes;

use crate::event::RecordedEvent;

/// What a message of the event carries, ready to send.
pub struct EventMessage {
    pub subject: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl EventMessage {
    /// `<prefix>.<aggregate_type>.<event_type>`, the event's JSON as the
    /// body, and headers: `Nats-Msg-Id` (the event id, which JetStream
    /// deduplicates within its window, so a re-send after a crash is stored
    /// once), the correlation and causation ids, and the log position.
    pub fn of(event: &RecordedEvent, subject_prefix: &str) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", event.id.to_string().as_str());
        headers.insert("Cairn-Global-Position", event.global_position.to_string().as_str());
        if let Some(correlation) = &event.correlation_id {
            headers.insert("Cairn-Correlation-Id", correlation.as_str());
        }
        if let Some(causation) = &event.causation_id {
            headers.insert("Cairn-Causation-Id", causation.as_str());
        }
        let body = serde_json::to_vec(event).expect("events serialise");
        Self { subject: format!("{subject_prefix}.{}.{}", subject_token(&event.aggregate_type), subject_token(&event.event_type)), headers, body: Bytes::from(body) }
    }

    /// The bytes NATS counts against its `max_payload`: body and headers.
    pub fn size(&self) -> usize {
        let headers: usize = self.headers.iter().map(|(name, values)| AsRef::<str>::as_ref(name).len() + values.iter().map(|value| value.as_str().len() + 4).sum::<usize>()).sum();
        self.body.len() + headers + 12
    }
}

/// A name as one subject token: NATS separates tokens with `.` and gives
/// `*`, `>` and whitespace meanings, so each of those becomes `_`.
pub fn subject_token(name: &str) -> String {
    name.chars().map(|character| if character == '.' || character == '*' || character == '>' || character.is_whitespace() { '_' } else { character }).collect()
}

#[cfg(test)]
mod tests {
    use super::subject_token;

    #[test]
    fn names_become_single_subject_tokens() {
        assert_eq!(subject_token("bank-account"), "bank-account");
        assert_eq!(subject_token("v1.Opened *all* > x"), "v1_Opened__all____x");
    }
}
