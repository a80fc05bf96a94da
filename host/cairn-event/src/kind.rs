//! The one error taxonomy. Every library error says which kind of failure
//! it is; each front end maps kinds, never individual errors, to what its
//! users see: the CLI to exit codes, HTTP to statuses, `exec --commands` to
//! the `error` field of a result line. So the same failure cannot exit 2 in
//! one front end and answer 409 in another.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The input is wrong: bad flags, bad JSON, a missing field. Fix the input.
    Invalid,
    /// What the input names does not exist: a plugin, a handler, an event.
    NotFound,
    /// Someone else changed the same thing first: a stream version, a
    /// checkpoint, an id taken with other content. Read again and retry.
    Conflict,
    /// An aggregate's business rule refused a command. The message is the
    /// plugin's own, meant for the caller as it is.
    Rejected,
    /// Understood and refused by Cairn's own rules: a plugin that is not a
    /// valid component, or that conflicts with the plugins already active.
    Refused,
    /// Cairn cannot do it now: the store is unreachable or busy. Retry later.
    Unavailable,
    /// A fault: a plugin that trapped, a corrupt row, a bug. The log says why.
    Internal,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 7] = [
        ErrorKind::Invalid,
        ErrorKind::NotFound,
        ErrorKind::Conflict,
        ErrorKind::Rejected,
        ErrorKind::Refused,
        ErrorKind::Unavailable,
        ErrorKind::Internal,
    ];

    /// The stable code clients see: in HTTP error bodies and in
    /// `exec --commands` result lines.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Invalid => "invalid",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Rejected => "rejected",
            ErrorKind::Refused => "refused",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Internal => "internal",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Implemented by every error a library crate returns.
pub trait Classified {
    fn kind(&self) -> ErrorKind;
}
